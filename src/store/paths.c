/* SPDX-License-Identifier: MIT */
/*
 * paths.c - where paddock keeps its configuration, data and runtime state
 *
 * DOC: Theory of Operation
 * SPEC.md section 6 puts configuration under the XDG config directory, persistent data under
 * the XDG data directory and control sockets under the XDG runtime directory; root uses
 * /etc/paddock, /var/lib/paddock and /run/paddock instead. Each function computes one of these
 * from the environment of the calling process. XDG variables that are unset, empty or not
 * absolute are ignored, as the XDG base directory specification requires, and $HOME falls back
 * to the password database.
 *
 * The runtime directory holds the sockets through which a sandbox is controlled, so it must be
 * ours alone. $XDG_RUNTIME_DIR is used only if it is a real directory owned by us. Otherwise
 * we fall back to /tmp/paddock-UID, which another local user could have created first (or
 * made a symlink): the directory is created 0700, then opened with O_NOFOLLOW|O_DIRECTORY and
 * checked with fstat() on that fd: owned by us, mode exactly 0700. Anything else is an error,
 * never something we repair or follow. /tmp is sticky, so once the directory is ours nobody
 * else can rename or replace it. The fallback deliberately ignores $TMPDIR: a client and the
 * supervisor it talks to must agree on the path whatever their environments.
 *
 * Nothing here logs: every function returns 0 or -errno and leaves its ret_ untouched on
 * failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/macro.h"
#include "common/path.h"
#include "common/xmalloc.h"
#include "paths.h"

/* An XDG variable counts only when set to an absolute path (XDG base directory spec). */
static const char *getenv_abs(const char *name)
{
	const char *v = getenv(name);

	if (!v || v[0] != '/')
		return NULL;
	return v;
}

static int home_dir(char **ret)
{
	const char *h = getenv_abs("HOME");
	struct passwd pw, *res = NULL;
	_cleanup_free_ char *buf = NULL;
	long sz;
	int r;

	if (h) {
		*ret = xstrdup(h);
		return 0;
	}
	sz = sysconf(_SC_GETPW_R_SIZE_MAX);
	if (sz <= 0)
		sz = 16384;
	buf = xmalloc((size_t)sz);
	r = getpwuid_r(geteuid(), &pw, buf, (size_t)sz, &res);
	if (r != 0)
		return -r;
	if (!res || !pw.pw_dir || pw.pw_dir[0] != '/')
		return -ENOENT;
	*ret = xstrdup(pw.pw_dir);
	return 0;
}

/* $VAR/paddock, or ~/FALLBACK/paddock */
static int xdg_dir(const char *var, const char *fallback, char **ret)
{
	_cleanup_free_ char *home = NULL;
	const char *v = getenv_abs(var);
	int r;

	if (v) {
		*ret = path_join(v, "paddock");
		return 0;
	}
	r = home_dir(&home);
	if (r < 0)
		return r;
	/* NOLINTNEXTLINE(clang-analyzer-unix.cstring.NullArg): set when home_dir() returns >= 0 */
	*ret = xasprintf("%s/%s/paddock", streq(home, "/") ? "" : home, fallback);
	return 0;
}

/* @system: the caller is root, which uses the system-wide locations */
static int config_dir_for(bool system, char **ret)
{
	if (system) {
		*ret = xstrdup(PATHS_SYSTEM_CONFIG_DIR);
		return 0;
	}
	return xdg_dir("XDG_CONFIG_HOME", ".config", ret);
}

static int data_dir_for(bool system, char **ret)
{
	if (system) {
		*ret = xstrdup("/var/lib/paddock");
		return 0;
	}
	return xdg_dir("XDG_DATA_HOME", ".local/share", ret);
}

int paths_config_dir(char **ret)
{
	return config_dir_for(geteuid() == 0, ret);
}

int paths_data_dir(char **ret)
{
	return data_dir_for(geteuid() == 0, ret);
}

int paths_ensure_private_dir(const char *path, uid_t uid)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st;

	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		/* O_NOFOLLOW|O_DIRECTORY on a symlink fails with ENOTDIR on some kernels */
		return errno == ENOTDIR && lstat(path, &st) == 0 && S_ISLNK(st.st_mode) ? -ELOOP
											: -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_uid != uid || (st.st_mode & 07777) != 0700)
		return -EPERM;
	return 0;
}

/* Is $XDG_RUNTIME_DIR a real directory (not a symlink) owned by @uid? */
static bool runtime_base_usable(const char *base, uid_t uid)
{
	struct stat st;

	if (!base || lstat(base, &st) < 0)
		return false;
	return S_ISDIR(st.st_mode) && st.st_uid == uid;
}

/* The logic of paths_runtime_dir(), with the uid, root-ness and /tmp as parameters. */
static int runtime_dir_for(uid_t uid, bool system, const char *xdg, const char *tmp, char **ret)
{
	_cleanup_free_ char *p = NULL;
	int r;

	if (system)
		p = xstrdup("/run/paddock");
	else if (xdg && xdg[0] == '/' && runtime_base_usable(xdg, uid))
		p = path_join(xdg, "paddock");
	else
		p = xasprintf("%s/paddock-%u", tmp, (unsigned)uid);
	r = paths_ensure_private_dir(p, uid);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(p);
	return 0;
}

int paths_runtime_dir(char **ret)
{
	return runtime_dir_for(geteuid(), geteuid() == 0, getenv("XDG_RUNTIME_DIR"), "/tmp", ret);
}
