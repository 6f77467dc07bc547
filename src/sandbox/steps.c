/* SPDX-License-Identifier: MIT */
/*
 * steps.c - text for the steps between clone() and execve()
 */
#include "common/macro.h"
#include "steps.h"

static const char *const step_text[_STEP_MAX] = {
	[STEP_NONE] = "set up the sandbox",
	[STEP_GO] = "synchronise with the sandbox",
	[STEP_HOSTNAME] = "set the hostname",
	[STEP_LOOPBACK] = "bring up the loopback interface",
	[STEP_NETWORK] = "set up the network capture",
	[STEP_SSH_AGENT] = "create the ssh-agent socket",
	[STEP_EXEC_AUDIT] = "set up the exec audit (seccomp user notification)",
	[STEP_MOUNT_PRIVATE] = "make the mount namespace private",
	[STEP_MOUNT_BASE] = "mount the setup tmpfs on",
	[STEP_PIVOT_BASE] = "pivot into the setup tmpfs",
	[STEP_MOUNT_ROOT] = "mount the root tmpfs",
	[STEP_MKDIR] = "create the mount point",
	[STEP_BIND] = "bind-mount",
	[STEP_READONLY] = "make read-only",
	[STEP_TMPFS] = "mount a tmpfs on",
	[STEP_MASK] = "mask",
	[STEP_SYMLINK] = "create the symlink",
	[STEP_DEV] = "set up",
	[STEP_DEVPTS] = "mount a new devpts instance on",
	[STEP_PROC] = "set up",
	[STEP_SYS] = "mount",
	[STEP_PIVOT] = "pivot into the new root",
	[STEP_PTY] = "allocate a pseudo-terminal from",
	[STEP_FORK] = "fork the command",
	[STEP_SETSID] = "start a new session for the command",
	[STEP_TTY] = "make the pty the controlling terminal",
	[STEP_STDIO] = "set up the command's standard input and output",
	[STEP_CHDIR] = "change to the workspace",
	[STEP_RLIMIT] = "set the process limit (RLIMIT_NPROC)",
	[STEP_NO_NEW_PRIVS] = "set no_new_privs",
	[STEP_LANDLOCK] = "apply the Landlock rules",
	[STEP_CAPS] = "drop capabilities",
	[STEP_SECCOMP] = "load the seccomp filter",
	[STEP_EXEC] = "execute",
	[STEP_OVERLAY] = ("mount the image's overlay (kernel overlayfs in a user namespace, "
			  "Linux >= 5.11; paddock has no fuse-overlayfs fallback yet) on"),
	[STEP_REVIEW] = ("mount the review layer (kernel overlayfs in a user namespace, "
			 "Linux >= 5.11) on the workspace"),
};

const char *init_step_to_string(int step)
{
	if (step < 0 || step >= _STEP_MAX || !step_text[step])
		return "set up the sandbox";
	return step_text[step];
}
