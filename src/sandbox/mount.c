/* SPDX-License-Identifier: MIT */
/*
 * mount.c - build the sandbox's root filesystem (runs in init)
 *
 * DOC: Theory of Operation
 * init runs in a new user and mount namespace where it holds every capability. It:
 *
 *  1. makes every mount a slave of the host's (nothing propagates back out);
 *  2. mounts a tmpfs "base" on /tmp and pivots into it, so the host's root is reachable as
 *     /oldroot (and the host's /tmp as /oldroot/tmp, no longer shadowed); the base also holds
 *     an empty directory and an empty file used to mask paths;
 *  3. mounts the sandbox's own root tmpfs at /newroot and builds a minimal /dev (device nodes
 *     bound from the host: an unprivileged user cannot mknod), a new devpts instance, a new
 *     /proc with the podman set of masked entries and a read-only /sys;
 *  4. performs the spec's mount list in order: host paths are bound from /oldroot/PATH to
 *     /newroot/PATH, read-only binds are made read-only recursively with mount_setattr(),
 *     which also keeps locked flags as they are. Before the protected workspace paths it waits
 *     until the supervisor says their placeholders exist (it creates them meanwhile);
 *  5. makes the root tmpfs read-only, sets nosuid on every mount, detaches the old root and
 *     pivots into /newroot.
 *
 * Nothing here logs: a failure returns -errno with the step and the path, which init sends to
 * the supervisor. All mounts live and die with the mount namespace: when the sandbox's last
 * process exits nothing is left on the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/fd.h"
#include "common/macro.h"
#include "mount.h"
#include "steps.h"

#define BASE      "/tmp"
#define NEWROOT   "/newroot"
#define OLDROOT   "/oldroot"
#define MASK_DIR  "/mask-dir"
#define MASK_FILE "/mask-file"

/* a static buffer: init is single-threaded and reports one failure */
static char err_path[4096];

/*
 * Images (docs/design/images.md): the root is an overlay whose content the image and the
 * clone itself wrote, so a mount point must never be reached through a symlink in it (it
 * could point at /oldroot, the host): with strict_paths, every component on the way to a
 * mount point is checked with lstat() and a symlink fails the build with -ELOOP.
 */
static bool strict_paths;

static int check_not_symlink(const char *path)
{
	struct stat st;

	if (strict_paths && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		return -ELOOP;
	return 0;
}

/* lexical_inside_newroot() - normalize @p in place ("." and ".."); true when below NEWROOT */
static bool lexical_inside_newroot(char *p)
{
	char *out = p, *in = p;

	while (*in) {
		char *e;
		size_t k;

		while (*in == '/')
			in++;
		if (!*in)
			break;
		e = strchrnul(in, '/');
		k = (size_t)(e - in);
		if (k == 1 && in[0] == '.') {
			/* skip */
		} else if (k == 2 && in[0] == '.' && in[1] == '.') {
			while (out > p && *--out != '/')
				;
		} else {
			*out++ = '/';
			memmove(out, in, k);
			out += k;
		}
		in = e;
	}
	if (out == p)
		*out++ = '/';
	*out = '\0';
	return strncmp(p, NEWROOT "/", STRLEN(NEWROOT "/")) == 0;
}

static int fail(int r, int step, const char *path, int *reterr_step, const char **reterr_path)
{
	*reterr_step = step;
	(void)snprintf(err_path, sizeof(err_path), "%s", path ? path : "");
	*reterr_path = err_path;
	return r;
}

/* mkdir_p() - create @path and its parents with @mode; existing directories are fine */
static int mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		if (check_not_symlink(buf) < 0)
			return -ELOOP;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0) {
		if (errno != EEXIST)
			return -errno;
		return check_not_symlink(buf);
	}
	/* mkdir() applies the umask: set exactly what was asked (sticky /tmp-like dirs) */
	return RET_NERRNO(chmod(buf, mode));
}

static int parent_p(const char *path)
{
	char buf[4096];
	char *slash;

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	slash = strrchr(buf, '/');
	if (!slash || slash == buf)
		return 0;
	*slash = '\0';
	return mkdir_p(buf, 0755);
}

/* make_mountpoint() - a directory or an empty file at @dst, matching what will be mounted */
static int make_mountpoint(const char *dst, bool dir)
{
	struct stat st;
	int fd, r;

	if (dir)
		return mkdir_p(dst, 0755);
	r = parent_p(dst);
	if (r < 0)
		return r;
	if (lstat(dst, &st) == 0)
		return check_not_symlink(dst);
	fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return errno == EEXIST ? 0 : -errno;
	(void)close(fd);
	return 0;
}

static int set_attr(const char *path, unsigned long long set, bool recursive)
{
	struct mount_attr attr = { .attr_set = set };

	return RET_NERRNO(
		mount_setattr(AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &attr, sizeof(attr)));
}

static int bind(const char *src, const char *dst, bool ro, bool nodev)
{
	unsigned long long attr = MOUNT_ATTR_NOSUID;

	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		return -errno;
	if (ro)
		attr |= MOUNT_ATTR_RDONLY;
	if (nodev)
		attr |= MOUNT_ATTR_NODEV;
	return set_attr(dst, attr, true);
}

static int tmpfs(const char *dst, mode_t mode)
{
	char opts[64];

	(void)snprintf(opts, sizeof(opts), "mode=%04o", (unsigned)mode);
	return RET_NERRNO(mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV, opts));
}

static void join(char *buf, size_t n, const char *a, const char *b)
{
	(void)snprintf(buf, n, "%s%s", a, streq(b, "/") ? "" : b);
}

/*
 * mount_file() - a read-only file with @m->src as content at @m->dst. When the path inside is
 * a symlink (/etc/resolv.conf -> ../run/systemd/resolve/stub-resolv.conf) the mount goes on
 * its target inside the new root, created if it lies in one of our tmpfs mounts.
 */
static int mount_file(const struct sandbox_mount *m, char *dst, size_t dst_size)
{
	static unsigned counter;
	char src[64], link[4096], next[4096 + 16];
	struct stat st;
	int fd, r;

	(void)snprintf(src, sizeof(src), "/file-%u", counter++);
	fd = open(src, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0)
		return -errno;
	r = loop_write(fd, m->src, strlen(m->src));
	(void)close(fd);
	if (r < 0)
		return r;
	for (int hop = 0; hop < 8; hop++) {
		ssize_t k;

		if (lstat(dst, &st) < 0 || !S_ISLNK(st.st_mode))
			break;
		k = readlink(dst, link, sizeof(link) - 1);
		if (k < 0)
			return -errno;
		link[k] = '\0';
		if (link[0] == '/') {
			/* absolute: inside the new root */
			if (STRLEN(NEWROOT) + (size_t)k + 1 > dst_size)
				return -ENAMETOOLONG;
			memcpy(next, NEWROOT, STRLEN(NEWROOT));
			memcpy(next + STRLEN(NEWROOT), link, (size_t)k + 1);
		} else {
			/* relative: next to the link */
			size_t dir = (size_t)(strrchr(dst, '/') - dst);

			if (dir + 1 + (size_t)k + 1 > dst_size)
				return -ENAMETOOLONG;
			memcpy(next, dst, dir);
			next[dir] = '/';
			memcpy(next + dir + 1, link, (size_t)k + 1);
		}
		if (strict_paths && !lexical_inside_newroot(next))
			return -ELOOP;
		memcpy(dst, next, strlen(next) + 1);
	}
	r = make_mountpoint(dst, false);
	if (r < 0)
		return r;
	return bind(src, dst, true, true);
}

/*
 * overlay() - an overlay at @dst of host directories reached through /oldroot. "userxattr"
 * (Linux >= 5.11) keeps overlayfs' own xattrs in user.* as a user namespace needs; without
 * it as a second try (older kernels as real root). @extra: more options, "" for none. The
 * paths were checked for ',' and ':' by the CLI.
 */
static int overlay(const char *dst, const char *lower, const char *upper, const char *work,
		   const char *extra)
{
	static char opts[3 * 4096 + 256];
	int n, r;

	n = snprintf(opts, sizeof(opts),
		     "lowerdir=" OLDROOT "%s,upperdir=" OLDROOT "%s,workdir=" OLDROOT
		     "%s%s,userxattr",
		     lower, upper, work, extra);
	if (n < 0 || (size_t)n >= sizeof(opts))
		return -ENAMETOOLONG;
	if (mount("overlay", dst, "overlay", MS_NOSUID | MS_NODEV, opts) == 0)
		return 0;
	r = -errno;
	opts[n - STRLEN(",userxattr")] = '\0';
	if (mount("overlay", dst, "overlay", MS_NOSUID | MS_NODEV, opts) == 0)
		return 0;
	return r;
}

static int do_mount(const struct sandbox_mount *m, int *reterr_step, const char **reterr_path)
{
	char src[4096], dst[4096];
	struct stat st;
	int r;

	join(dst, sizeof(dst), NEWROOT, m->dst);
	switch (m->kind) {
	case MOUNT_BIND_RO:
	case MOUNT_BIND_RW:
	case MOUNT_BIND_DEV:
		join(src, sizeof(src), OLDROOT, m->src);
		if (stat(src, &st) < 0) {
			if (errno == ENOENT && m->optional)
				return 0;
			return fail(-errno, STEP_BIND, m->src, reterr_step, reterr_path);
		}
		r = make_mountpoint(dst, S_ISDIR(st.st_mode));
		if (r < 0)
			return fail(r, STEP_MKDIR, m->dst, reterr_step, reterr_path);
		r = bind(src, dst, m->kind == MOUNT_BIND_RO, m->kind != MOUNT_BIND_DEV);
		if (r < 0)
			return fail(r, STEP_BIND, m->src, reterr_step, reterr_path);
		return 0;
	case MOUNT_TMPFS:
		r = mkdir_p(dst, 0755);
		if (r < 0)
			return fail(r, STEP_MKDIR, m->dst, reterr_step, reterr_path);
		r = tmpfs(dst, m->mode);
		if (r < 0)
			return fail(r, STEP_TMPFS, m->dst, reterr_step, reterr_path);
		return 0;
	case MOUNT_MASK_DIR:
	case MOUNT_MASK_FILE:
		if (lstat(dst, &st) < 0) {
			if (errno == ENOENT && m->optional)
				return 0;
			return fail(-errno, STEP_MASK, m->dst, reterr_step, reterr_path);
		}
		r = bind(m->kind == MOUNT_MASK_DIR ? MASK_DIR : MASK_FILE, dst, true, true);
		if (r < 0)
			return fail(r, STEP_MASK, m->dst, reterr_step, reterr_path);
		return 0;
	case MOUNT_REBIND_RO:
	case MOUNT_REBIND:
		if (lstat(dst, &st) < 0) {
			if (errno == ENOENT && m->optional)
				return 0;
			return fail(-errno, STEP_READONLY, m->dst, reterr_step, reterr_path);
		}
		r = bind(dst, dst, m->kind == MOUNT_REBIND_RO, true);
		if (r < 0)
			return fail(r, STEP_READONLY, m->dst, reterr_step, reterr_path);
		return 0;
	case MOUNT_SYMLINK:
		r = parent_p(dst);
		if (r < 0)
			return fail(r, STEP_MKDIR, m->dst, reterr_step, reterr_path);
		if (symlink(m->src, dst) < 0 && errno != EEXIST)
			return fail(-errno, STEP_SYMLINK, m->dst, reterr_step, reterr_path);
		return 0;
	case MOUNT_DIR:
		r = mkdir_p(dst, m->mode);
		if (r < 0)
			return fail(r, STEP_MKDIR, m->dst, reterr_step, reterr_path);
		return 0;
	case MOUNT_FILE:
		r = mount_file(m, dst, sizeof(dst));
		if (r < 0)
			return fail(r, STEP_BIND, m->dst, reterr_step, reterr_path);
		return 0;
	case MOUNT_OVERLAY:
		/*
		 * review mode (docs/design/review.md): the upper layer must hold only what
		 * `paddock diff` can read back, plain copies and whiteouts, so no metacopy
		 * (data left in the lower) and no redirects (renamed directories)
		 */
		r = make_mountpoint(dst, true);
		if (r < 0)
			return fail(r, STEP_MKDIR, m->dst, reterr_step, reterr_path);
		r = overlay(dst, m->src, m->upper, m->work,
			    ",redirect_dir=nofollow,metacopy=off,index=off");
		if (r < 0)
			return fail(r, STEP_REVIEW, m->dst, reterr_step, reterr_path);
		return 0;
	case _MOUNT_KIND_MAX:
		break;
	}
	return fail(-EINVAL, STEP_BIND, m->dst, reterr_step, reterr_path);
}

static const char *const dev_nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };

static int setup_dev(int *reterr_step, const char **reterr_path)
{
	static const char *const links[][2] = {
		{ "/proc/self/fd", NEWROOT "/dev/fd" },
		{ "/proc/self/fd/0", NEWROOT "/dev/stdin" },
		{ "/proc/self/fd/1", NEWROOT "/dev/stdout" },
		{ "/proc/self/fd/2", NEWROOT "/dev/stderr" },
		{ "pts/ptmx", NEWROOT "/dev/ptmx" },
	};
	char src[256], dst[256];
	int r;

	r = mkdir_p(NEWROOT "/dev", 0755);
	if (r >= 0)
		r = RET_NERRNO(mount("tmpfs", NEWROOT "/dev", "tmpfs", MS_NOSUID, "mode=0755"));
	if (r < 0)
		return fail(r, STEP_DEV, "/dev", reterr_step, reterr_path);
	for (size_t i = 0; i < ELEMENTSOF(dev_nodes); i++) {
		(void)snprintf(src, sizeof(src), OLDROOT "/dev/%s", dev_nodes[i]);
		(void)snprintf(dst, sizeof(dst), NEWROOT "/dev/%s", dev_nodes[i]);
		r = make_mountpoint(dst, false);
		if (r >= 0)
			r = bind(src, dst, false, false);
		if (r < 0)
			return fail(r, STEP_DEV, dst + STRLEN(NEWROOT), reterr_step, reterr_path);
	}
	r = mkdir_p(NEWROOT "/dev/pts", 0755);
	if (r >= 0)
		r = RET_NERRNO(mount("devpts", NEWROOT "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
				     "newinstance,ptmxmode=0666,mode=620"));
	if (r < 0)
		return fail(r, STEP_DEVPTS, "/dev/pts", reterr_step, reterr_path);
	r = mkdir_p(NEWROOT "/dev/shm", 01777);
	if (r >= 0)
		r = tmpfs(NEWROOT "/dev/shm", 01777);
	if (r < 0)
		return fail(r, STEP_DEV, "/dev/shm", reterr_step, reterr_path);
	for (size_t i = 0; i < ELEMENTSOF(links); i++)
		if (symlink(links[i][0], links[i][1]) < 0 && errno != EEXIST)
			return fail(-errno, STEP_DEV, links[i][1] + STRLEN(NEWROOT), reterr_step,
				    reterr_path);
	return 0;
}

/* podman's masked and read-only /proc entries */
static const char *const proc_mask_files[] = {
	"kcore", "keys", "timer_list", "sched_debug", "latency_stats", "sysrq-trigger", "kallsyms",
};
static const char *const proc_mask_dirs[] = { "acpi", "scsi" };
static const char *const proc_ro[] = { "sys", "bus", "fs", "irq", "asound" };

static int setup_proc(int *reterr_step, const char **reterr_path)
{
	char p[256];
	struct stat st;
	int r;

	r = mkdir_p(NEWROOT "/proc", 0755);
	if (r >= 0)
		r = RET_NERRNO(mount("proc", NEWROOT "/proc", "proc",
				     MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
	if (r < 0)
		return fail(r, STEP_PROC, "/proc", reterr_step, reterr_path);

	/*
	 * No user namespace below this one: seccomp refuses CLONE_NEWUSER too, this is the
	 * second layer (ignored where the kernel does not let us lower it).
	 */
	{
		int fd = open(NEWROOT "/proc/sys/user/max_user_namespaces", O_WRONLY | O_CLOEXEC);

		if (fd >= 0) {
			(void)!write(fd, "0", 1);
			(void)close(fd);
		}
	}

	for (size_t i = 0; i < ELEMENTSOF(proc_mask_files); i++) {
		(void)snprintf(p, sizeof(p), NEWROOT "/proc/%s", proc_mask_files[i]);
		if (lstat(p, &st) < 0)
			continue;
		r = bind(MASK_FILE, p, true, true);
		if (r < 0)
			return fail(r, STEP_PROC, p + STRLEN(NEWROOT), reterr_step, reterr_path);
	}
	for (size_t i = 0; i < ELEMENTSOF(proc_mask_dirs); i++) {
		(void)snprintf(p, sizeof(p), NEWROOT "/proc/%s", proc_mask_dirs[i]);
		if (lstat(p, &st) < 0)
			continue;
		r = bind(MASK_DIR, p, true, true);
		if (r < 0)
			return fail(r, STEP_PROC, p + STRLEN(NEWROOT), reterr_step, reterr_path);
	}
	for (size_t i = 0; i < ELEMENTSOF(proc_ro); i++) {
		(void)snprintf(p, sizeof(p), NEWROOT "/proc/%s", proc_ro[i]);
		if (lstat(p, &st) < 0)
			continue;
		r = bind(p, p, true, true);
		if (r < 0)
			return fail(r, STEP_PROC, p + STRLEN(NEWROOT), reterr_step, reterr_path);
	}
	return 0;
}

static int setup_sys(int *reterr_step, const char **reterr_path)
{
	int r;

	r = mkdir_p(NEWROOT "/sys", 0755);
	if (r < 0)
		return fail(r, STEP_SYS, "/sys", reterr_step, reterr_path);
	/* a sysfs of our own network namespace, read-only; else the host's, read-only */
	if (mount("sysfs", NEWROOT "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0) {
		r = bind(OLDROOT "/sys", NEWROOT "/sys", true, true);
		if (r < 0)
			return fail(r, STEP_SYS, "/sys", reterr_step, reterr_path);
	}
	if (access(NEWROOT "/sys/firmware", F_OK) == 0) {
		r = bind(MASK_DIR, NEWROOT "/sys/firmware", true, true);
		if (r < 0)
			return fail(r, STEP_SYS, "/sys/firmware", reterr_step, reterr_path);
	}
	return 0;
}

/*
 * mount_overlay_root() - images: the clone's overlay at NEWROOT, its layers reached through
 * /oldroot. No fuse-overlayfs fallback (docs/design/images.md).
 */
static int mount_overlay_root(const struct sandbox_spec *spec)
{
	return overlay(NEWROOT, spec->image_lower, spec->image_upper, spec->image_work, "");
}

int mount_build_root(const struct sandbox_spec *spec, int (*wait_ready)(void *userdata),
		     void *userdata, int *reterr_step, const char **reterr_path)
{
	bool ready = false;
	int fd, r;

	if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return fail(-errno, STEP_MOUNT_PRIVATE, "/", reterr_step, reterr_path);

	if (mount("tmpfs", BASE, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
		return fail(-errno, STEP_MOUNT_BASE, BASE, reterr_step, reterr_path);
	if (chdir(BASE) < 0 || mkdir("newroot", 0755) < 0 || mkdir("oldroot", 0755) < 0 ||
	    mkdir("mask-dir", 0555) < 0)
		return fail(-errno, STEP_MOUNT_BASE, BASE, reterr_step, reterr_path);
	fd = open("mask-file", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0)
		return fail(-errno, STEP_MOUNT_BASE, BASE, reterr_step, reterr_path);
	(void)close(fd);
	if (syscall(SYS_pivot_root, BASE, BASE "/oldroot") < 0 || chdir("/") < 0)
		return fail(-errno, STEP_PIVOT_BASE, BASE, reterr_step, reterr_path);

	strict_paths = spec->image_lower != NULL;
	if (spec->image_lower) {
		r = mount_overlay_root(spec);
		if (r < 0)
			return fail(r, STEP_OVERLAY, "/", reterr_step, reterr_path);
	} else if (mount("tmpfs", NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
		return fail(-errno, STEP_MOUNT_ROOT, "/", reterr_step, reterr_path);

	/* the fixed part first: it overlaps with the supervisor creating the placeholders */
	r = setup_dev(reterr_step, reterr_path);
	if (r < 0)
		return r;
	r = setup_proc(reterr_step, reterr_path);
	if (r < 0)
		return r;
	r = setup_sys(reterr_step, reterr_path);
	if (r < 0)
		return r;

	for (size_t i = 0; i <= spec->n_mounts; i++) {
		if ((i >= spec->protect_from || i == spec->n_mounts) && !ready) {
			r = wait_ready(userdata);
			if (r < 0)
				return fail(r, STEP_GO, NULL, reterr_step, reterr_path);
			ready = true;
		}
		if (i == spec->n_mounts)
			break;
		r = do_mount(&spec->mounts[i], reterr_step, reterr_path);
		if (r < 0)
			return r;
	}

	/*
	 * nosuid everywhere; the root tmpfs itself read-only (nothing new at the top level); a
	 * clone's root stays writable: its upper layer is the clone's own
	 */
	r = set_attr(NEWROOT, MOUNT_ATTR_NOSUID, true);
	if (r >= 0 && !spec->image_lower)
		r = set_attr(NEWROOT, MOUNT_ATTR_RDONLY, false);
	if (r < 0)
		return fail(r, STEP_READONLY, "/", reterr_step, reterr_path);

	if (umount2(OLDROOT, MNT_DETACH) < 0)
		return fail(-errno, STEP_PIVOT, OLDROOT, reterr_step, reterr_path);
	if (chdir(NEWROOT) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return fail(-errno, STEP_PIVOT, "/", reterr_step, reterr_path);
	return 0;
}
