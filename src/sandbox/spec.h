/* SPDX-License-Identifier: MIT */
/*
 * spec.h - everything a sandbox's init needs to build the sandbox, computed before clone()
 *
 * The CLI turns options and config into a struct sandbox_spec in the supervisor; init reads it
 * from its copy of the supervisor's memory (clone() without CLONE_VM), so no parsing happens
 * inside the sandbox. All paths are absolute and normalized; host paths are resolved
 * (realpath) so they contain no symlinks when the spec is built.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "limits.h"

enum mount_kind {
	MOUNT_BIND_RO,   /* host path -> same or other path, read-only, recursive */
	MOUNT_BIND_RW,   /* host path -> path, read-write, recursive */
	MOUNT_BIND_DEV,  /* a host device node */
	MOUNT_TMPFS,     /* empty tmpfs, @mode */
	MOUNT_MASK_DIR,  /* an empty read-only directory over a path that exists */
	MOUNT_MASK_FILE, /* an empty read-only file over a path that exists */
	MOUNT_REBIND_RO, /* a path already in the sandbox, made read-only (protected paths) */
	MOUNT_REBIND,    /* a directory bound onto itself, read-write: it cannot be renamed */
	MOUNT_SYMLINK,   /* a symlink @dst -> @src */
	MOUNT_DIR,       /* an empty directory in the sandbox's own tmpfs */
	MOUNT_FILE,      /* a read-only file holding @src as its content (resolv.conf) */
	MOUNT_OVERLAY,   /* review mode: overlay of host dir @src (lower) with @upper/@work */
	_MOUNT_KIND_MAX,
};

struct sandbox_mount {
	enum mount_kind kind;
	char *src;     /* host path (BIND_*), link target (SYMLINK); NULL otherwise */
	char *dst;     /* path inside the sandbox */
	mode_t mode;   /* TMPFS, DIR */
	bool optional; /* skip silently when @src does not exist */
	char *upper;   /* OVERLAY: the writable layer (host path) */
	char *work;    /* OVERLAY: overlayfs' work directory (host path), next to @upper */
};

/* where --ssh-agent's socket is inside (SSH_AUTH_SOCK) */
#define SANDBOX_SSH_AGENT_DIR  "/run/paddock"
#define SANDBOX_SSH_AGENT_PATH SANDBOX_SSH_AGENT_DIR "/ssh-agent.sock"

enum net_mode {
	NET_PUBLIC,
	NET_ALLOWLIST,
	NET_NONE,
	_NET_MODE_MAX,
	_NET_MODE_INVALID = -22,
};

struct sandbox_spec {
	/* identity */
	uid_t host_uid, host_gid;   /* the user who runs paddock */
	uid_t inner_uid, inner_gid; /* what the command runs as inside */
	bool root;                  /* --root: uid 0 inside, with a few capabilities */
	char *hostname;

	/* filesystem, in mount order */
	struct sandbox_mount *mounts;
	size_t n_mounts;
	size_t protect_from; /* mounts from here on cover placeholders: wait for MSG_READY */
	char *workspace;     /* resolved host path, mounted rw at the same path */
	char *home;          /* $HOME inside */
	char **rw_paths; /* where the command may write (Landlock RW), e.g. workspace, home, /tmp */
	/*
	 * images (docs/design/images.md): the root is an overlay of these host directories
	 * instead of an empty tmpfs; NULL on the host image
	 */
	char *image_lower; /* the image's rootfs (read-only lower layer) */
	char *image_upper; /* the clone's writable layer */
	char *image_work;  /* overlayfs' work directory, next to upper */

	/* the command */
	char **argv;
	char **envp;
	bool tty;         /* run on a pseudo-terminal */
	bool interactive; /* keep stdin open (pipe mode); a tty is always interactive */

	enum net_mode net;
	bool ssh_agent; /* --ssh-agent: init listens at SANDBOX_SSH_AGENT_PATH for the supervisor */
	bool exec_audit; /* every execve/execveat is reported to the supervisor (exec-audit.md) */
	struct limits_plan limits; /* what enforces --memory, --pids, --cpus (limits.c) */
	int cgroup_fd;             /* host side: the sandbox's cgroup, init is cloned into it; or
				    * -1 (only read by sandbox_spawn()) */
	unsigned long nofile_soft; /* the user's RLIMIT_NOFILE soft limit, given back to the
				    * command (the supervisor raises its own); 0 = leave */
};

void sandbox_spec_add_mount(struct sandbox_spec *s, enum mount_kind kind, const char *src,
			    const char *dst, mode_t mode, bool optional);
void sandbox_spec_free(struct sandbox_spec *s);
/* sandbox_spec_add_overlay() - @dst: an overlay of host directory @lower with @upper, @work */
void sandbox_spec_add_overlay(struct sandbox_spec *s, const char *lower, const char *upper,
			      const char *work, const char *dst);
const char *mount_kind_to_string(enum mount_kind k);
