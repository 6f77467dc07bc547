/* SPDX-License-Identifier: MIT */
/*
 * spawn.c - create a sandbox's init
 *
 * DOC: Theory of Operation
 * clone() with every namespace flag at once (and no CLONE_VM: the child is a fork-like copy
 * that reads the spec from its own memory). The parent, still in the host's user namespace,
 * writes the child's id maps: "setgroups deny" (required for an unprivileged writer), then one
 * line mapping the inner id to the user's own id. No other id exists inside; files of other
 * owners show as nobody. Then MSG_GO lets init continue, now holding every capability of its
 * new user namespace and none outside it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fd.h"
#include "init.h"
#include "ipc/msg.h"
#include "spawn.h"

#define SANDBOX_CLONE_FLAGS                                                                        \
	(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | \
	 CLONE_NEWCGROUP)

static int write_proc(pid_t pid, const char *file, const char *s)
{
	char path[64];

	(void)snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	return write_file_at(AT_FDCWD, path, s);
}

int sandbox_spawn(const struct sandbox_spec *spec, const struct msg_go *go, pid_t *ret_pid,
		  int *ret_sock, const char **reterr_what)
{
	_cleanup_close_ int sup = -EBADF, child = -EBADF;
	char map[64];
	int sv[2], r;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		*reterr_what = "socketpair";
		return -errno;
	}
	sup = sv[0];
	child = sv[1];

	(void)fflush(NULL);
	if (spec->cgroup_fd >= 0) {
		/*
		 * Born in the sandbox's cgroup: no moment outside it, and its cgroup namespace
		 * is rooted there (attaching after the clone would root it at ours).
		 */
		struct clone_args ca = {
			.flags = SANDBOX_CLONE_FLAGS | CLONE_INTO_CGROUP,
			.exit_signal = SIGCHLD,
			.cgroup = (uint64_t)spec->cgroup_fd,
		};

		pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	} else
		pid = (pid_t)syscall(SYS_clone, SANDBOX_CLONE_FLAGS | SIGCHLD, NULL, NULL, NULL,
				     NULL);
	if (pid < 0) {
		*reterr_what = "clone";
		return -errno;
	}
	if (pid == 0) {
		sup = safe_close(sup);
		init_main(spec, child);
	}
	child = safe_close(child);

	r = write_proc(pid, "setgroups", "deny");
	if (r < 0) {
		*reterr_what = "setgroups";
		goto fail;
	}
	(void)snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)spec->inner_uid,
		       (unsigned)spec->host_uid);
	r = write_proc(pid, "uid_map", map);
	if (r < 0) {
		*reterr_what = "uid_map";
		goto fail;
	}
	(void)snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)spec->inner_gid,
		       (unsigned)spec->host_gid);
	r = write_proc(pid, "gid_map", map);
	if (r < 0) {
		*reterr_what = "gid_map";
		goto fail;
	}
	r = msg_send(sup, MSG_GO, go, sizeof(*go), -1);
	if (r < 0) {
		*reterr_what = "go";
		goto fail;
	}
	*ret_pid = pid;
	*ret_sock = TAKE_FD(sup);
	return 0;
fail:
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, NULL, 0);
	return r;
}
