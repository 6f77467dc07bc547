/* SPDX-License-Identifier: MIT */
/* seccomp.c - placeholder until the filter lands: refuses (fail closed) */
#include <errno.h>
#include "seccomp.h"

int seccomp_install_sandbox(const struct seccomp_opts *opts)
{
	(void)opts;
	return -ENOSYS;
}
