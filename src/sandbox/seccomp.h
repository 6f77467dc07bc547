/* SPDX-License-Identifier: MIT */
/*
 * seccomp.h - the sandbox's syscall filter (libseccomp)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

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

/*
 * seccomp_export_sandbox() - build the same filter and write its BPF program into a sealed
 * memfd (@ret_fd), so the supervisor can compile it while init builds the sandbox, and the
 * command child only loads it (seccomp_load_bpf()). Return: 0 or -errno.
 */
int seccomp_export_sandbox(const struct seccomp_opts *opts, int *ret_fd);

/*
 * seccomp_load_bpf() - load a BPF program (@len bytes of struct sock_filter) as the calling
 * process's filter; requires PR_SET_NO_NEW_PRIVS. No allocation. Return: 0 or -errno.
 */
int seccomp_load_bpf(const void *bpf, size_t len);

/*
 * seccomp_install_exec_notify() - load the exec audit's filter (execve and execveat notify a
 * listener; foreign ABIs kill) into the calling process, which must have CAP_SYS_ADMIN in its
 * user namespace or no_new_privs, and must never exec itself: init, whose children all inherit
 * it. No allocation, no logging.
 * Return: the listener (a CLOEXEC fd) or -errno (-EINVAL or -ENOSYS: the kernel has no seccomp
 * user notification).
 */
int seccomp_install_exec_notify(void);
