/* SPDX-License-Identifier: MIT */
/*
 * image.c - golden images and the writable layers of their clones
 *
 * DOC: Theory of Operation
 * An image is a directory $DATA/images/NAME holding rootfs/ (the tree, owned by the user) and
 * image.json (created, base, size, packages, format). It appears in one rename(): builds and
 * imports work in $DATA/images/.tmp-NAME-XXXXXX, which they hold locked, and a crash leaves a
 * directory that the next image command sweeps away (its lock is free).
 *
 * An image is never written after it is made: it is only ever mounted as the lower layer of
 * an overlay (read-only by construction, whatever the file modes say); its tree keeps the
 * archive's modes so that clones see them. A clone is an overlay whose upper and work
 * directories live with the sandbox ($DATA/sandboxes/NAME/{upper,work}, or a scratch
 * directory $DATA/tmp/clone-XXXXXX for an ephemeral run): making one creates two empty
 * directories and two small files, whatever the image's size.
 *
 * A running sandbox holds a shared flock() on its image's directory; `image rm` takes it
 * exclusively without waiting, so it never deletes an image under a running clone. Stopped
 * persistent sandboxes are found through their config.json.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fd.h"
#include "common/macro.h"
#include "common/path.h"
#include "common/strv.h"
#include "common/xmalloc.h"
#include "image.h"
#include "paths.h"
#include "sandbox.h"

int image_name_check(const char *name, const char **ret_why)
{
	size_t n = strlen(name);

	if (n < 1 || n > 64) {
		*ret_why = "an image name has 1 to 64 characters";
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      (i > 0 && (c == '.' || c == '_' || c == '-')))) {
			*ret_why = "an image name has lowercase letters, digits, '.', '_' and '-', "
				   "and starts with a letter or digit";
			return -EINVAL;
		}
	}
	if (streq(name, "host")) {
		*ret_why = "'host' is the host's own root filesystem, not an image";
		return -EINVAL;
	}
	return 0;
}

int image_store_dir(bool create, char **ret)
{
	_cleanup_free_ char *data = NULL, *dir = NULL;
	int r = paths_data_dir(&data);

	if (r < 0)
		return r;
	dir = path_join(data, "images");
	if (create) {
		_cleanup_free_ char *p = xstrdup(dir);

		for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
			*s = '\0';
			if (mkdir(p, 0700) < 0 && errno != EEXIST)
				return -errno;
			*s = '/';
		}
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return -errno;
	}
	*ret = TAKE_PTR(dir);
	return 0;
}

int image_dir(const char *name, char **ret)
{
	_cleanup_free_ char *store = NULL;
	int r = image_store_dir(false, &store);

	if (r < 0)
		return r;
	*ret = path_join(store, name);
	return 0;
}

int image_open(const char *name, char **ret_rootfs, int *ret_lock_fd)
{
	_cleanup_free_ char *dir = NULL, *rootfs = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	int r;

	r = image_dir(name, &dir);
	if (r < 0)
		return r;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOTDIR || errno == ELOOP ? -ENOENT : -errno;
	if (fstatat(fd, "rootfs", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
		return -ENOENT;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0)
		return -errno;
	rootfs = path_join(dir, "rootfs");
	*ret_rootfs = TAKE_PTR(rootfs);
	*ret_lock_fd = TAKE_FD(fd);
	return 0;
}

int image_lock_exclusive(const char *name)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int fd = -EBADF;
	int r;

	r = image_dir(name, &dir);
	if (r < 0)
		return r;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOTDIR || errno == ELOOP ? -ENOENT : -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? -EBUSY : -errno;
	return TAKE_FD(fd);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int image_list(char ***ret)
{
	_cleanup_free_ char *store = NULL;
	char **names = NULL;
	const char *why;
	DIR *d;
	int r;

	r = image_store_dir(false, &store);
	if (r < 0)
		return r;
	d = opendir(store);
	if (!d) {
		*ret = xcalloc(1, sizeof(char *));
		return errno == ENOENT ? 0 : -errno;
	}
	for (struct dirent *de; (de = readdir(d));)
		if (de->d_type == DT_DIR && image_name_check(de->d_name, &why) == 0)
			strv_extend(&names, de->d_name);
	(void)closedir(d);
	if (!names)
		names = xcalloc(1, sizeof(char *));
	qsort(names, strv_length(names), sizeof(char *), cmp_str);
	*ret = names;
	return 0;
}

int image_info(const char *name, struct json_object **ret)
{
	_cleanup_free_ char *dir = NULL;
	int r = image_dir(name, &dir);

	if (r < 0)
		return r;
	return sandbox_json_read(dir, "image.json", ret);
}

int image_users(const char *name, char ***ret)
{
	_cleanup_strv_free_ char **sandboxes = NULL;
	char **users = NULL;
	int r;

	r = sandbox_list(&sandboxes);
	if (r < 0)
		return r;
	STRV_FOREACH (s, sandboxes) {
		_cleanup_free_ char *dir = NULL;
		struct json_object *cfg = NULL, *opts;

		if (sandbox_dir(*s, &dir) < 0 || sandbox_json_read(dir, "config.json", &cfg) < 0)
			continue;
		if (json_object_object_get_ex(cfg, "options", &opts) &&
		    json_object_is_type(opts, json_type_array)) {
			size_t n = json_object_array_length(opts);

			for (size_t i = 0; i + 1 < n; i++) {
				const char *o =
					json_object_get_string(json_object_array_get_idx(opts, i));
				const char *v = json_object_get_string(
					json_object_array_get_idx(opts, i + 1));

				if (o && v && streq(o, "--image") && streq(v, name)) {
					strv_extend(&users, *s);
					break;
				}
			}
		}
		json_object_put(cfg);
	}
	*ret = users ? users : xcalloc(1, sizeof(char *));
	return 0;
}

/* disk usage below @fd (a directory): blocks of every inode, hard-linked files once */
/* NOLINTNEXTLINE(misc-no-recursion): stops at depth 256 */
static int du_dir(int fd, dev_t dev, uint64_t *sum, unsigned depth)
{
	DIR *d;
	int r = 0;

	if (depth > 256)
		return -ELOOP;
	d = fdopendir(fd);
	if (!d) {
		(void)close(fd);
		return -errno;
	}
	for (struct dirent *de; (de = readdir(d));) {
		struct stat st;

		if (dot_or_dot_dot(de->d_name))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int cfd;

			*sum += (uint64_t)st.st_blocks * 512;
			if (st.st_dev != dev)
				continue;
			cfd = openat(dirfd(d), de->d_name,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd >= 0)
				r = du_dir(cfd, dev, sum, depth + 1);
			if (r < 0)
				break;
			continue;
		}
		/* a hard-linked file counts at its first name only (approximation: nlink) */
		*sum += (uint64_t)st.st_blocks * 512 / (st.st_nlink ? st.st_nlink : 1);
	}
	(void)closedir(d);
	return r;
}

int image_disk_usage(int dirfd, const char *name, uint64_t *ret)
{
	struct stat st;
	uint64_t sum = 0;
	int fd, r;

	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		(void)close(fd);
		return r;
	}
	sum = (uint64_t)st.st_blocks * 512;
	r = du_dir(fd, st.st_dev, &sum, 0);
	if (r < 0)
		return r;
	*ret = sum;
	return 0;
}

static int mkdir_at(int dfd, const char *name, mode_t mode)
{
	struct stat st;

	if (mkdirat(dfd, name, mode) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* open @name below @dfd as a directory, creating it (mode of the image's own, else 0755) */
static int open_upper_dir(int dfd, const char *name, int lower_dfd)
{
	struct stat st;
	mode_t mode = 0755;
	int r;

	if (lower_dfd >= 0 && fstatat(lower_dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode))
		mode = st.st_mode & 07777;
	r = mkdir_at(dfd, name, mode);
	if (r < 0)
		return r;
	return RET_NERRNO(openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

int image_clone_prepare(const char *dir, const char *rootfs, const char **reterr_path)
{
	_cleanup_close_ int dfd = -EBADF, up = -EBADF, etc = -EBADF, letc = -EBADF, lssh = -EBADF,
			    ssh = -EBADF, lroot = -EBADF;
	struct stat st;
	uint8_t id[16];
	char hex[34];
	DIR *d;
	int r;

	*reterr_path = dir;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	*reterr_path = "upper";
	r = mkdir_at(dfd, "upper", 0755);
	if (r >= 0)
		r = mkdir_at(dfd, "work", 0700);
	if (r < 0)
		return r;
	up = openat(dfd, "upper", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (up < 0)
		return -errno;
	lroot = open(rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (lroot < 0) {
		*reterr_path = rootfs;
		return -errno;
	}
	letc = openat(lroot, "etc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (letc < 0)
		return 0; /* no /etc in the image (or a symlink): nothing of its identity to hide */

	*reterr_path = "upper/etc";
	/* upper/etc: the upper's own copy of the directory (the overlay merges the two) */
	if (fstatat(up, "etc", &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
		return 0; /* the clone replaced /etc by something else: its business */
	etc = open_upper_dir(up, "etc", lroot);
	if (etc < 0)
		return etc;

	/* a machine-id of its own, unless the clone has one already */
	*reterr_path = "upper/etc/machine-id";
	if (fstatat(etc, "machine-id", &st, AT_SYMLINK_NOFOLLOW) < 0) {
		_cleanup_close_ int fd = -EBADF;

		if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id))
			return -EIO;
		id[6] = (id[6] & 0x0f) | 0x40; /* v4 UUID, as systemd-machine-id-setup */
		id[8] = (id[8] & 0x3f) | 0x80;
		for (size_t i = 0; i < sizeof(id); i++)
			(void)snprintf(hex + 2 * i, 3, "%02x", id[i]);
		hex[32] = '\n';
		hex[33] = '\0';
		fd = openat(etc, "machine-id", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0444);
		if (fd < 0)
			return -errno;
		r = loop_write(fd, hex, 33);
		if (r < 0)
			return r;
	}

	/* no ssh host keys shared between clones: a whiteout over each of the image's */
	lssh = openat(letc, "ssh", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (lssh < 0)
		return 0;
	*reterr_path = "upper/etc/ssh";
	ssh = open_upper_dir(etc, "ssh", letc);
	if (ssh < 0)
		return ssh;
	d = fdopendir(lssh);
	if (!d)
		return -errno;
	lssh = -EBADF;
	r = 0;
	for (struct dirent *de; (de = readdir(d));) {
		if (strncmp(de->d_name, "ssh_host_", 9) != 0)
			continue;
		if (fstatat(ssh, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			continue; /* the clone made its own, or it is hidden already */
		/* a whiteout (char 0:0) needs no privilege since Linux 5.8; else an empty file */
		if (mknodat(ssh, de->d_name, S_IFCHR | 0600, makedev(0, 0)) < 0) {
			int fd = openat(ssh, de->d_name,
					O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

			if (fd < 0) {
				r = -errno;
				*reterr_path = "upper/etc/ssh/ssh_host_*";
				break;
			}
			(void)close(fd);
		}
	}
	(void)closedir(d);
	return r;
}

int image_clone_reset(const char *dir)
{
	_cleanup_close_ int dfd = -EBADF;
	int r, q;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	r = rm_rf_at(dfd, "upper");
	q = rm_rf_at(dfd, "work");
	return r < 0 ? r : q;
}

/* sweep_locked_dirs() - remove entries of @dir starting with @prefix whose lock is free */
static void sweep_locked_dirs(const char *dir, const char *prefix)
{
	_cleanup_close_ int dfd = -EBADF;
	DIR *d;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return;
	d = fdopendir(dfd);
	if (!d)
		return;
	dfd = -EBADF;
	for (struct dirent *de; (de = readdir(d));) {
		int fd;

		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			(void)rm_rf_at(dirfd(d), de->d_name);
		(void)close(fd);
	}
	(void)closedir(d);
}

void image_sweep_tmp(void)
{
	_cleanup_free_ char *store = NULL;

	if (image_store_dir(false, &store) >= 0)
		sweep_locked_dirs(store, ".tmp-");
}

int image_scratch_clone(char **ret_dir, int *ret_lock_fd)
{
	_cleanup_free_ char *data = NULL, *tmp = NULL, *dir = NULL;
	_cleanup_close_ int fd = -EBADF;
	int r;

	r = paths_data_dir(&data);
	if (r < 0)
		return r;
	tmp = path_join(data, "tmp");
	{
		_cleanup_free_ char *p = xstrdup(tmp);

		for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
			*s = '\0';
			if (mkdir(p, 0700) < 0 && errno != EEXIST)
				return -errno;
			*s = '/';
		}
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return -errno;
	sweep_locked_dirs(tmp, "clone-");
	dir = path_join(tmp, "clone-XXXXXX");
	if (!mkdtemp(dir))
		return -errno;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = -errno;
		(void)rmdir(dir);
		return r;
	}
	*ret_dir = TAKE_PTR(dir);
	*ret_lock_fd = TAKE_FD(fd);
	return 0;
}

void image_scratch_remove(const char *dir)
{
	_cleanup_free_ char *parent = NULL;
	_cleanup_close_ int pfd = -EBADF;
	const char *base;

	if (!dir)
		return;
	parent = path_dirname(dir);
	base = strrchr(dir, '/') + 1;
	pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd >= 0)
		(void)rm_rf_at(pfd, base);
}
