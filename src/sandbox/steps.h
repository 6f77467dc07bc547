/* SPDX-License-Identifier: MIT */
/*
 * steps.h - the named steps between clone() and execve(), for precise error reports
 */
#pragma once

enum init_step {
	STEP_NONE,
	STEP_GO,
	STEP_HOSTNAME,
	STEP_LOOPBACK,
	STEP_NETWORK,
	STEP_MOUNT_PRIVATE,
	STEP_MOUNT_BASE,
	STEP_PIVOT_BASE,
	STEP_MOUNT_ROOT,
	STEP_MKDIR,
	STEP_BIND,
	STEP_READONLY,
	STEP_TMPFS,
	STEP_MASK,
	STEP_SYMLINK,
	STEP_DEV,
	STEP_DEVPTS,
	STEP_PROC,
	STEP_SYS,
	STEP_PIVOT,
	STEP_PTY,
	STEP_FORK,
	STEP_SETSID,
	STEP_TTY,
	STEP_STDIO,
	STEP_CHDIR,
	STEP_RLIMIT,
	STEP_NO_NEW_PRIVS,
	STEP_LANDLOCK,
	STEP_CAPS,
	STEP_SECCOMP,
	STEP_EXEC,
	STEP_SSH_AGENT,
	STEP_EXEC_AUDIT, /* exec audit: the listener, or making the command readable to it */
	STEP_OVERLAY,    /* images: the clone's overlay root (mount.c) */
	STEP_REVIEW,     /* review mode: the workspace's overlay (mount.c) */
	_STEP_MAX,
};

/* init_step_to_string() - "mount a read-only bind" style text for "Failed to %s" */
const char *init_step_to_string(int step);
