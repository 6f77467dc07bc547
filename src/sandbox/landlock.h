/* SPDX-License-Identifier: MIT */
/*
 * landlock.h - Landlock as the second filesystem layer
 */
#pragma once

#include <stddef.h>

enum landlock_level {
	LANDLOCK_LEVEL_RO,         /* read files and directories, execute */
	LANDLOCK_LEVEL_RW,         /* everything, including create, remove, rename, truncate */
	LANDLOCK_LEVEL_DEV,        /* read, write and ioctl on device files (/dev) */
	LANDLOCK_LEVEL_WRITE_FILE, /* read plus write to existing files (/proc) */
};

struct landlock_rule {
	const char *path;
	enum landlock_level level;
};

/*
 * landlock_abi_version() - the kernel's Landlock ABI version, or -errno (-EOPNOTSUPP when
 * Landlock is disabled at boot, -ENOSYS when the kernel lacks it).
 */
int landlock_abi_version(void);

/*
 * landlock_restrict_self() - restrict the calling process to @rules with every access right the
 * running ABI knows (best available ABI), plus abstract-unix-socket and signal scoping from ABI
 * 6. A path that does not exist is skipped. Requires PR_SET_NO_NEW_PRIVS. Does not log.
 * On failure, @reterr_path (if non-NULL) names the rule's path that failed, or NULL.
 * Return: the ABI version in force (> 0), or -errno.
 */
int landlock_restrict_self(const struct landlock_rule *rules, size_t n_rules,
			   const char **reterr_path);
