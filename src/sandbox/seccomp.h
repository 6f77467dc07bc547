/* SPDX-License-Identifier: MIT */
/*
 * seccomp.h - the sandbox's syscall filter (libseccomp)
 */
#pragma once

#include <stdbool.h>

struct seccomp_opts {
	bool root; /* --root: the command keeps a few capabilities in its user namespace */
};

/*
 * seccomp_install_sandbox() - load the sandbox filter into the calling process. Must be the
 * last step before execve(); requires PR_SET_NO_NEW_PRIVS. Does not log (it runs between
 * clone and exec); allocates only through libseccomp.
 * Return: 0 or -errno.
 */
int seccomp_install_sandbox(const struct seccomp_opts *opts);
