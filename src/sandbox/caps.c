/* SPDX-License-Identifier: MIT */
/* caps.c - placeholder until the capability module lands: refuses (fail closed) */
#include <errno.h>
#include "caps.h"

int caps_drop_for_exec(bool root)
{
	(void)root;
	return -ENOSYS;
}
