/* SPDX-License-Identifier: MIT */
/*
 * landlock.c - Landlock as the second filesystem layer
 *
 * DOC: Theory of Operation
 *
 * The mount namespace is the first filesystem layer: it decides what exists in the sandbox and
 * what is read-only. Landlock is the second: a ruleset that the command cannot drop, that
 * survives execve() and that is checked on every open, create, rename and truncate, so a
 * mistake in the mount layout (a writable bind that should not be, a path reachable through
 * /proc/self/fd or a file handle) does not become write access to the host.
 *
 * The ruleset handles every filesystem right the running kernel knows (best available ABI),
 * masked the way the kernel's samples/landlock/sandboxer.c does:
 *
 *   ABI 1 (5.13)  EXECUTE, WRITE_FILE, READ_FILE, READ_DIR, REMOVE_*, MAKE_*
 *   ABI 2 (5.19)  REFER: rename and link across directories (on ABI 1 they are always denied)
 *   ABI 3 (6.2)   TRUNCATE
 *   ABI 4 (6.7)   TCP bind/connect rights: not handled here (the network namespace and the
 *                 proxy own the network policy)
 *   ABI 5 (6.10)  IOCTL_DEV: ioctl on character and block devices
 *   ABI 6 (6.12)  scoping: abstract unix sockets and signals cannot cross the domain boundary
 *   ABI 7 (6.15)  audit logging flags: nothing to enforce
 *
 * A rule grants, beneath its path, the rights of its level (landlock.h) masked by what the
 * ABI handles. A rule on a non-directory gets only the rights that apply to files, as the
 * kernel refuses directory rights there with EINVAL. Paths are opened with O_PATH and follow
 * symlinks, so a rule applies to the symlink's target as it is when the rule is added. A path
 * that does not exist is skipped: it cannot be reached through that name either, and the
 * mount layer decides what exists.
 *
 * Everything here is raw syscalls: Debian 12's linux-libc-dev predates ABI 3, so the newer
 * constants and the full struct landlock_ruleset_attr are defined locally. Nothing allocates,
 * so this is safe between clone() and execve().
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/macro.h"
#include "sandbox/landlock.h"

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#ifndef __NR_landlock_add_rule
#define __NR_landlock_add_rule 445
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446
#endif

#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/* The newest ABI whose rights this file knows */
#define LANDLOCK_ABI_KNOWN 7

/*
 * The ABI 6 layout of struct landlock_ruleset_attr, under another tag: the installed header
 * may declare the ABI 1 layout. The kernel accepts a larger struct whose unknown tail is zero.
 */
struct paddock_landlock_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

#define ACCESS_FS_ABI1                                                                             \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                              \
	 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |                              \
	 LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |                          \
	 LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |                              \
	 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |                              \
	 LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |                            \
	 LANDLOCK_ACCESS_FS_MAKE_SYM)

#define ACCESS_FS_ALL                                                                              \
	(ACCESS_FS_ABI1 | LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE |                 \
	 LANDLOCK_ACCESS_FS_IOCTL_DEV)

/* Rights that make sense on a non-directory; others make landlock_add_rule() fail (EINVAL) */
#define ACCESS_FILE                                                                                \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                              \
	 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |                              \
	 LANDLOCK_ACCESS_FS_IOCTL_DEV)

#define ACCESS_RO                                                                                  \
	(LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_EXECUTE)

static inline int sys_landlock_create_ruleset(const struct paddock_landlock_ruleset_attr *attr,
					      size_t size, uint32_t flags)
{
	return (int)syscall(__NR_landlock_create_ruleset, attr, size, flags);
}

static inline int sys_landlock_add_rule(int ruleset_fd, enum landlock_rule_type type,
					const void *attr, uint32_t flags)
{
	return (int)syscall(__NR_landlock_add_rule, ruleset_fd, type, attr, flags);
}

static inline int sys_landlock_restrict_self(int ruleset_fd, uint32_t flags)
{
	return (int)syscall(__NR_landlock_restrict_self, ruleset_fd, flags);
}

/**
 * landlock_abi_version() - the running kernel's Landlock ABI version
 *
 * Return: the ABI version (>= 1), -EOPNOTSUPP when Landlock is built in but not enabled at
 * boot, -ENOSYS when the kernel lacks it
 */
int landlock_abi_version(void)
{
	return RET_NERRNO(sys_landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION));
}

/* The filesystem rights an ABI version handles (sandboxer.c's masking, as a function) */
static uint64_t landlock_fs_rights_for_abi(int abi)
{
	uint64_t rights = ACCESS_FS_ALL;

	if (abi < 2)
		rights &= ~LANDLOCK_ACCESS_FS_REFER;
	if (abi < 3)
		rights &= ~LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi < 5)
		rights &= ~LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return rights;
}

/* The rights a level grants, before masking by the ABI and the kind of file */
static uint64_t landlock_level_rights(enum landlock_level level)
{
	switch (level) {
	case LANDLOCK_LEVEL_RO:
		return ACCESS_RO;
	case LANDLOCK_LEVEL_RW:
		return ACCESS_FS_ALL;
	case LANDLOCK_LEVEL_DEV:
		return ACCESS_RO | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_IOCTL_DEV |
		       LANDLOCK_ACCESS_FS_TRUNCATE;
	case LANDLOCK_LEVEL_WRITE_FILE:
		return ACCESS_RO | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE;
	}
	return 0;
}

/* Add one path-beneath rule; 0 (also when @rule's path does not exist) or -errno */
static int landlock_add_path_rule(int ruleset_fd, const struct landlock_rule *rule,
				  uint64_t handled)
{
	_cleanup_close_ int fd = -EBADF;
	struct landlock_path_beneath_attr attr = {};
	struct stat st;
	uint64_t rights;

	rights = landlock_level_rights(rule->level);
	if (rights == 0)
		return -EINVAL;

	fd = open(rule->path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0)
		return -errno;

	rights &= handled;
	if (!S_ISDIR(st.st_mode))
		rights &= ACCESS_FILE;
	if (rights == 0)
		return 0;

	attr.allowed_access = rights;
	attr.parent_fd = fd;
	return RET_NERRNO(sys_landlock_add_rule(ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, &attr, 0));
}

/**
 * landlock_restrict_self() - restrict the calling process to a set of path rules
 * @rules:		the paths and what may be done beneath them
 * @n_rules:		number of entries in @rules
 * @reterr_path:	on failure, the path of the rule that failed, or NULL; may be NULL
 *
 * Creates a ruleset that handles every filesystem right of the running ABI (and, from ABI 6,
 * scopes abstract unix sockets and signals to the domain), adds @rules and enforces it on the
 * calling thread. The caller must have set PR_SET_NO_NEW_PRIVS. Does not log or allocate.
 *
 * Return: the ABI version in force (at most the newest this file knows), or -errno
 */
int landlock_restrict_self(const struct landlock_rule *rules, size_t n_rules,
			   const char **reterr_path)
{
	struct paddock_landlock_ruleset_attr attr = {};
	_cleanup_close_ int ruleset_fd = -EBADF;
	int abi, r;

	if (!rules && n_rules > 0)
		return -EINVAL;

	abi = landlock_abi_version();
	if (abi < 0)
		goto fail;
	abi = MIN(abi, LANDLOCK_ABI_KNOWN);

	attr.handled_access_fs = landlock_fs_rights_for_abi(abi);
	if (abi >= 6)
		attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;

	ruleset_fd = sys_landlock_create_ruleset(&attr, sizeof(attr), 0);
	if (ruleset_fd < 0) {
		abi = -errno;
		goto fail;
	}

	for (size_t i = 0; i < n_rules; i++) {
		r = landlock_add_path_rule(ruleset_fd, &rules[i], attr.handled_access_fs);
		if (r < 0) {
			if (reterr_path)
				*reterr_path = rules[i].path;
			return r;
		}
	}

	if (sys_landlock_restrict_self(ruleset_fd, 0) < 0) {
		abi = -errno;
		goto fail;
	}
	return abi;

fail:
	if (reterr_path)
		*reterr_path = NULL;
	return abi;
}
