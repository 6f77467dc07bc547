/* SPDX-License-Identifier: MIT */
/*
 * review.c - review mode: the workspace's copy-on-write layer read back, applied, discarded
 *
 * DOC: Theory of Operation
 * A sandbox created with --review sees its workspace through an overlay (mount.c,
 * MOUNT_OVERLAY): the real workspace is the lower layer, every write goes to the sandbox's
 * own upper layer. The mount is made without metacopy and redirects, so the upper layer holds
 * only what this file can read back: whole copies of files and symlinks, directories,
 * whiteouts (a character device 0:0: the lower entry is deleted) and opaque directories (the
 * "overlay.opaque" xattr: nothing of the lower directory shows through).
 *
 * Applying never leaves the workspace half-changed: the list of operations is written to a
 * journal and fsync'ed first; each operation is atomic on its own (a copy next to its
 * destination, fsync, rename; rm for deletions) and can be done again; a syncfs() makes them
 * durable; the journal is then renamed to the commit mark, and only then the layer is
 * emptied. An apply interrupted anywhere is completed by the next one (review_resume()):
 * before the commit mark it replays the journal (the layer is still whole), after it it
 * only empties the layer.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fd.h"
#include "common/macro.h"
#include "common/path.h"
#include "common/strv.h"
#include "common/xmalloc.h"
#include "review.h"
#include "sandbox.h"

#define JOURNAL       "apply.journal"
#define COMMITTED     "apply.committed"
#define JOURNAL_MAGIC "paddock review journal 1\n"
#define MAX_DEPTH     256

void review_list_free(struct review_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i].path);
	free(l->items);
	*l = (struct review_list){};
}

static void list_add(struct review_list *l, const char *path, char change, char type, mode_t mode)
{
	l->items = xreallocarray(l->items, l->n + 1, sizeof(*l->items));
	l->items[l->n++] = (struct review_entry){ xstrdup(path), change, type, mode & 07777 };
}

static char type_of(mode_t m)
{
	return S_ISREG(m) ? 'f' : S_ISLNK(m) ? 'l' : S_ISDIR(m) ? 'd' : 'o';
}

static int open_beneath(int dirfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned)flags | O_CLOEXEC | O_NOFOLLOW,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};

	return RET_NERRNO((int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how)));
}

static int64_t now_ns(void)
{
	struct timespec ts;

	/* the coarse clock, as file times use: a later change never gets an earlier ctime */
	(void)clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int review_prepare(const char *sandbox_dir, char **ret_upper, char **ret_work)
{
	_cleanup_free_ char *dir = path_join(sandbox_dir, REVIEW_DIR), *start = NULL;
	_cleanup_free_ char *upper = NULL, *work = NULL;
	struct stat st;
	int r;

	upper = path_join(dir, "upper");
	work = path_join(dir, "work");
	start = path_join(dir, "start");
	if ((mkdir(dir, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(upper, 0755) < 0 && errno != EEXIST) ||
	    (mkdir(work, 0700) < 0 && errno != EEXIST))
		return -errno;
	if (stat(start, &st) < 0) {
		char buf[32];
		int n;

		if (errno != ENOENT)
			return -errno;
		n = snprintf(buf, sizeof(buf), "%" PRId64 "\n", now_ns());
		r = write_file_atomic(start, buf, (size_t)n, 0600, true);
		if (r < 0)
			return r;
	}
	*ret_upper = TAKE_PTR(upper);
	*ret_work = TAKE_PTR(work);
	return 0;
}

int review_start(int review_fd, int64_t *ret_ns)
{
	_cleanup_free_ char *buf = NULL;
	char *end;
	long long v;
	int r;

	r = read_file_at(review_fd, "start", 64, &buf, NULL);
	if (r < 0)
		return r;
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno || end == buf || v < 0)
		return -EBADMSG;
	*ret_ns = v;
	return 0;
}

static bool is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool is_opaque(int dirfd, const char *name)
{
	_cleanup_close_ int fd =
		openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	char v[4];
	ssize_t k;

	if (fd < 0)
		return false;
	/* user.* with userxattr (a user namespace), trusted.* for a mount by real root */
	k = fgetxattr(fd, "user.overlay.opaque", v, sizeof(v));
	if (k < 0)
		k = fgetxattr(fd, "trusted.overlay.opaque", v, sizeof(v));
	return k == 1 && v[0] == 'y';
}

/* same_content() - 1 when the two entries (same type) have the same data or target */
static int same_content(int ufd, int lfd, const char *name, const struct stat *us,
			const struct stat *ls)
{
	if (S_ISLNK(us->st_mode)) {
		char a[4096], b[4096];
		ssize_t ka = readlinkat(ufd, name, a, sizeof(a)),
			kb = readlinkat(lfd, name, b, sizeof(b));

		return ka >= 0 && ka == kb && memcmp(a, b, (size_t)ka) == 0;
	}
	if (us->st_size != ls->st_size)
		return 0;
	{
		_cleanup_close_ int a = openat(ufd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		_cleanup_close_ int b = openat(lfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		char ba[65536], bb[65536];

		if (a < 0 || b < 0)
			return 0;
		for (;;) {
			ssize_t ka = loop_read(a, ba, sizeof(ba)),
				kb = loop_read(b, bb, sizeof(bb));

			if (ka < 0 || kb < 0 || ka != kb || memcmp(ba, bb, (size_t)ka) != 0)
				return 0;
			if (ka == 0)
				return 1;
		}
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* sorted_names() - the entries of directory @fd (not consumed), sorted */
static int sorted_names(int fd, char ***ret)
{
	_cleanup_strv_free_ char **names = NULL;
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;

	if (dfd < 0)
		return -errno;
	d = fdopendir(dfd);
	if (!d) {
		(void)close(dfd);
		return -errno;
	}
	for (struct dirent *de; (de = readdir(d));)
		if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
			strv_extend(&names, de->d_name);
	(void)closedir(d);
	if (names)
		qsort(names, strv_length(names), sizeof(*names), cmp_str);
	*ret = TAKE_PTR(names);
	return 0;
}

static char *child(const char *rel, const char *name)
{
	return rel[0] ? xasprintf("%s/%s", rel, name) : xstrdup(name);
}

/*
 * scan_dir() - upper directory @ufd against lower @lfd (-EBADF: none); @opaque: the lower's
 * entries missing from the upper are deleted
 */
/* NOLINTNEXTLINE(misc-no-recursion): bounded by MAX_DEPTH */
static int scan_dir(int ufd, int lfd, const char *rel, bool opaque, int depth,
		    struct review_list *l)
{
	_cleanup_strv_free_ char **names = NULL;
	int r;

	if (depth > MAX_DEPTH)
		return -ELOOP;
	r = sorted_names(ufd, &names);
	if (r < 0)
		return r;
	STRV_FOREACH (n, names) {
		_cleanup_free_ char *p = child(rel, *n);
		struct stat us, ls;
		bool in_lower;

		if (fstatat(ufd, *n, &us, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		in_lower = lfd >= 0 && fstatat(lfd, *n, &ls, AT_SYMLINK_NOFOLLOW) == 0;
		if (is_whiteout(&us)) {
			if (in_lower)
				list_add(l, p, 'D', type_of(ls.st_mode), 0);
			continue;
		}
		if (S_ISDIR(us.st_mode)) {
			_cleanup_close_ int cu = -EBADF, cl = -EBADF;
			bool op = opaque || is_opaque(ufd, *n);

			if (!in_lower || !S_ISDIR(ls.st_mode) ||
			    (us.st_mode & 07777) != (ls.st_mode & 07777))
				list_add(l, p, in_lower ? 'M' : 'A', 'd', us.st_mode);
			cu = openat(ufd, *n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			/* a directory the sandbox made unreadable: ours to open (its mode is
			 * listed as it was) */
			if (cu < 0 && errno == EACCES &&
			    fchmodat(ufd, *n, (us.st_mode & 07777) | 0700, 0) == 0)
				cu = openat(ufd, *n,
					    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cu < 0)
				return -errno;
			if (in_lower && S_ISDIR(ls.st_mode)) {
				cl = openat(lfd, *n,
					    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (cl < 0)
					return -errno;
			}
			r = scan_dir(cu, cl, p, op, depth + 1, l);
			if (r < 0)
				return r;
			continue;
		}
		if (!in_lower)
			list_add(l, p, 'A', type_of(us.st_mode), us.st_mode);
		else if ((us.st_mode & S_IFMT) != (ls.st_mode & S_IFMT) ||
			 (!S_ISLNK(us.st_mode) && (us.st_mode & 07777) != (ls.st_mode & 07777)) ||
			 !same_content(ufd, lfd, *n, &us, &ls))
			list_add(l, p, 'M', type_of(us.st_mode), us.st_mode);
	}
	if (opaque && lfd >= 0) {
		_cleanup_strv_free_ char **lnames = NULL;

		r = sorted_names(lfd, &lnames);
		if (r < 0)
			return r;
		STRV_FOREACH (n, lnames) {
			_cleanup_free_ char *p = NULL;
			struct stat ls;

			if (strv_contains(names, *n) ||
			    fstatat(lfd, *n, &ls, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			p = child(rel, *n);
			list_add(l, p, 'D', type_of(ls.st_mode), 0);
		}
	}
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct review_entry *)a)->path,
		      ((const struct review_entry *)b)->path);
}

int review_scan(int upper_fd, int lower_fd, struct review_list *ret)
{
	struct review_list l = {};
	int r;

	r = scan_dir(upper_fd, lower_fd, "", false, 0, &l);
	if (r < 0) {
		review_list_free(&l);
		return r;
	}
	/*
	 * one order for every listing; a stable sort of paths keeps parents before children
	 * except where a name sorts before '/' ("a-b" < "a/x"): ops only need each parent first,
	 * which holds as "a" < "a-b" < "a/x"
	 */
	if (l.n)
		qsort(l.items, l.n, sizeof(*l.items), cmp_entry);
	*ret = l;
	return 0;
}

static bool changed_since(const struct stat *st, int64_t start_ns)
{
	return (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec >= start_ns;
}

/* tree_changed() - a non-directory below @fd changed since @start_ns */
/* NOLINTNEXTLINE(misc-no-recursion): bounded by MAX_DEPTH */
static bool tree_changed(int fd, int64_t start_ns, int depth)
{
	_cleanup_strv_free_ char **names = NULL;

	if (depth > MAX_DEPTH || sorted_names(fd, &names) < 0)
		return true;
	STRV_FOREACH (n, names) {
		struct stat st;
		_cleanup_close_ int c = -EBADF;

		if (fstatat(fd, *n, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!S_ISDIR(st.st_mode)) {
			if (changed_since(&st, start_ns))
				return true;
			continue;
		}
		c = openat(fd, *n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (c < 0 || tree_changed(c, start_ns, depth + 1))
			return true;
	}
	return false;
}

int review_conflicts(int lower_fd, const struct review_list *l, int64_t start_ns, char ***ret_paths)
{
	_cleanup_strv_free_ char **paths = NULL;
	int n = 0;

	for (size_t i = 0; i < l->n; i++) {
		const struct review_entry *e = &l->items[i];
		struct stat st;
		bool conflict;

		if (e->change == 'A' || fstatat(lower_fd, e->path, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			_cleanup_close_ int fd = -EBADF;

			/* a directory kept (its mode changed) is not replaced: its content is
			 * looked at entry by entry */
			if (e->change == 'M' && e->type == 'd')
				continue;
			fd = open_beneath(lower_fd, e->path, O_RDONLY | O_DIRECTORY);
			conflict = fd < 0 || tree_changed(fd, start_ns, 0);
		} else
			conflict = changed_since(&st, start_ns);
		if (conflict) {
			n++;
			strv_extend(&paths, e->path);
		}
	}
	if (ret_paths)
		*ret_paths = TAKE_PTR(paths);
	return n;
}

/* --- journal --- */

int review_journal_parse(const char *buf, size_t n, struct review_list *ret)
{
	struct review_list l = {};
	const char *p = buf, *end = buf + n;

	if (n < STRLEN(JOURNAL_MAGIC) || memcmp(buf, JOURNAL_MAGIC, STRLEN(JOURNAL_MAGIC)) != 0)
		return -EBADMSG;
	p += STRLEN(JOURNAL_MAGIC);
	while (p < end) {
		const char *z = memchr(p, '\0', (size_t)(end - p)), *tab, *path;
		unsigned long mode;
		char *e;

		if (!z || z - p < 4 || !strchr("AMD", p[0]) || !strchr("fldo", p[1]))
			goto bad;
		tab = memchr(p + 2, '\t', (size_t)(z - p - 2));
		if (!tab)
			goto bad;
		errno = 0;
		mode = strtoul(p + 2, &e, 8);
		path = tab + 1;
		if (errno || e != tab || mode > 07777 || !path[0] || path[0] == '/')
			goto bad;
		for (const char *c = path;;) {
			size_t k = strcspn(c, "/");

			/* no empty (also no trailing '/'), "." or ".." component */
			if (k == 0 || (k == 1 && c[0] == '.') ||
			    (k == 2 && c[0] == '.' && c[1] == '.'))
				goto bad;
			c += k;
			if (!*c)
				break;
			c++;
		}
		list_add(&l, path, p[0], p[1], (mode_t)mode);
		p = z + 1;
	}
	*ret = l;
	return 0;
bad:
	review_list_free(&l);
	return -EBADMSG;
}

static int journal_write(int review_fd, const struct review_list *l)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	_cleanup_close_ int fd = -EBADF;
	FILE *f;
	int r;

	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	fputs(JOURNAL_MAGIC, f);
	for (size_t i = 0; i < l->n; i++) {
		fprintf(f, "%c%c%o\t%s", l->items[i].change, l->items[i].type,
			(unsigned)l->items[i].mode, l->items[i].path);
		fputc('\0', f);
	}
	if (fclose(f) != 0)
		return -ENOMEM;
	(void)unlinkat(review_fd, JOURNAL ".tmp", 0);
	fd = openat(review_fd, JOURNAL ".tmp", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	r = loop_write(fd, buf, len);
	if (r < 0)
		return r;
	if (fsync(fd) < 0 || renameat(review_fd, JOURNAL ".tmp", review_fd, JOURNAL) < 0 ||
	    fsync(review_fd) < 0)
		return -errno;
	return 0;
}

/* --- operations --- */

/* split() - @path's parent (or ".") and last component, in @buf */
static const char *split(const char *path, char *buf, size_t size, const char **ret_name)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		*ret_name = path;
		return ".";
	}
	(void)snprintf(buf, size, "%.*s", (int)(slash - path), path);
	*ret_name = slash + 1;
	return buf;
}

static int copy_data(int from, int to)
{
	char b[65536];

	for (;;) {
		ssize_t k = loop_read(from, b, sizeof(b));
		int r;

		if (k <= 0)
			return (int)k;
		r = loop_write(to, b, (size_t)k);
		if (r < 0)
			return r;
	}
}

/* put() - entry @e of the upper layer into @pfd/@name through temporary @tmp, atomically */
static int put(int upper_fd, int pfd, const char *name, const char *tmp,
	       const struct review_entry *e)
{
	struct stat st;

	(void)unlinkat(pfd, tmp, 0);
	if (e->type == 'l') {
		char target[4096];
		ssize_t k = readlinkat(upper_fd, e->path, target, sizeof(target) - 1);

		if (k < 0)
			return -errno;
		target[k] = '\0';
		if (symlinkat(target, pfd, tmp) < 0)
			return -errno;
	} else {
		_cleanup_close_ int in = open_beneath(upper_fd, e->path, O_RDONLY);
		_cleanup_close_ int out = -EBADF;
		int r;

		if (in < 0)
			return in;
		out = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (out < 0)
			return -errno;
		r = copy_data(in, out);
		/* no set-id bits: the sandbox chose them, the host would honour them */
		if (r >= 0 && fchmod(out, e->mode & 01777) < 0)
			r = -errno;
		if (r >= 0 && fsync(out) < 0)
			r = -errno;
		if (r < 0) {
			(void)unlinkat(pfd, tmp, 0);
			return r;
		}
	}
	/* a directory in the way (the sandbox replaced it by a file) goes first */
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
		int r = rm_rf_at(pfd, name);

		if (r < 0)
			return r;
	}
	return RET_NERRNO(renameat(pfd, tmp, pfd, name));
}

static int apply_one(int upper_fd, int lower_fd, const struct review_entry *e, size_t idx)
{
	_cleanup_close_ int pfd = -EBADF;
	char pbuf[4096], tmp[64];
	const char *parent, *name;
	struct stat st;

	parent = split(e->path, pbuf, sizeof(pbuf), &name);
	pfd = open_beneath(lower_fd, parent, O_RDONLY | O_DIRECTORY);
	if (pfd < 0) {
		/* deleting below a directory that is gone already: done */
		if (e->change == 'D' && pfd == -ENOENT)
			return 0;
		return pfd;
	}
	if (e->change == 'D')
		return rm_rf_at(pfd, name);
	switch (e->type) {
	case 'd':
		if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode) &&
		    unlinkat(pfd, name, 0) < 0)
			return -errno;
		if (mkdirat(pfd, name, 0700) < 0 && errno != EEXIST)
			return -errno;
		/* writable by us until its entries are in (a read-only directory of new
		 * files); set_dir_modes() gives it its mode */
		return RET_NERRNO(fchmodat(pfd, name, (e->mode & 01777) | 0700, 0));
	case 'f':
	case 'l':
		(void)snprintf(tmp, sizeof(tmp), ".paddock-apply.%zu", idx);
		return put(upper_fd, pfd, name, tmp, e);
	default:
		return 0; /* fifos, sockets: nothing to land */
	}
}

/* set_dir_modes() - the directories' own modes, children first */
static int set_dir_modes(int lower_fd, const struct review_list *l, const char **reterr_path)
{
	for (size_t i = l->n; i-- > 0;) {
		const struct review_entry *e = &l->items[i];
		_cleanup_close_ int fd = -EBADF;

		if (e->type != 'd' || e->change == 'D')
			continue;
		fd = open_beneath(lower_fd, e->path, O_RDONLY | O_DIRECTORY);
		if (fd < 0 || fchmod(fd, e->mode & 01777) < 0) {
			*reterr_path = e->path;
			return fd < 0 ? fd : -errno;
		}
	}
	return 0;
}

static int run_journal(int review_fd, int upper_fd, int lower_fd, const struct review_list *l,
		       const char **reterr_path)
{
	int r;

	for (size_t i = 0; i < l->n; i++) {
		r = apply_one(upper_fd, lower_fd, &l->items[i], i);
		if (r < 0) {
			*reterr_path = l->items[i].path;
			return r;
		}
	}
	r = set_dir_modes(lower_fd, l, reterr_path);
	if (r < 0)
		return r;
	if (syncfs(lower_fd) < 0)
		return -errno;
	if (renameat(review_fd, JOURNAL, review_fd, COMMITTED) < 0 || fsync(review_fd) < 0)
		return -errno;
	return 0;
}

/* finish() - after the commit mark: empty the layer, then drop the mark */
static int finish(int review_fd)
{
	int r, q;

	r = rm_rf_at(review_fd, "upper");
	q = rm_rf_at(review_fd, "work");
	if (r < 0 || q < 0)
		return r < 0 ? r : q;
	if (mkdirat(review_fd, "upper", 0755) < 0 && errno != EEXIST)
		return -errno;
	if (unlinkat(review_fd, "start", 0) < 0 && errno != ENOENT)
		return -errno;
	if (unlinkat(review_fd, COMMITTED, 0) < 0 && errno != ENOENT)
		return -errno;
	return RET_NERRNO(fsync(review_fd));
}

/*
 * preflight() - every entry's parent is a directory reachable without symlinks in the
 * workspace, or made by an earlier entry, and every file of the layer can be read: what
 * could stop an apply half-way is found before the journal exists (what is left: I/O
 * errors, a full disk; the next apply resumes)
 */
static int preflight(int upper_fd, int lower_fd, const struct review_list *l,
		     const char **reterr_path)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct review_entry *e = &l->items[i];
		char pbuf[4096];
		const char *parent, *name;
		bool made = false;
		int fd;

		if (e->change == 'D')
			continue;
		if (e->type == 'f') {
			/* a file the sandbox made unreadable: ours to read (its mode is kept) */
			fd = open_beneath(upper_fd, e->path, O_RDONLY);
			if (fd == -EACCES && fchmodat(upper_fd, e->path, e->mode | 0400, 0) == 0)
				fd = open_beneath(upper_fd, e->path, O_RDONLY);
			if (fd < 0) {
				*reterr_path = e->path;
				return fd;
			}
			(void)close(fd);
		}
		parent = split(e->path, pbuf, sizeof(pbuf), &name);
		for (size_t j = 0; j < i && !made; j++)
			made = l->items[j].type == 'd' && l->items[j].change != 'D' &&
			       streq(l->items[j].path, parent);
		if (made)
			continue;
		fd = open_beneath(lower_fd, parent, O_RDONLY | O_DIRECTORY);
		if (fd < 0) {
			*reterr_path = e->path;
			return fd;
		}
		(void)close(fd);
	}
	return 0;
}

int review_apply(int review_fd, int upper_fd, int lower_fd, const struct review_list *l,
		 const char **reterr_path)
{
	int r;

	r = preflight(upper_fd, lower_fd, l, reterr_path);
	if (r < 0)
		return r;
	r = journal_write(review_fd, l);
	if (r < 0)
		return r;
	r = run_journal(review_fd, upper_fd, lower_fd, l, reterr_path);
	if (r < 0)
		return r;
	return finish(review_fd);
}

int review_pending(int review_fd)
{
	struct stat st;

	if (fstatat(review_fd, COMMITTED, &st, 0) == 0 || fstatat(review_fd, JOURNAL, &st, 0) == 0)
		return 1;
	return 0;
}

int review_resume(int review_fd, int upper_fd, int lower_fd, const char **reterr_path)
{
	_cleanup_free_ char *buf = NULL;
	struct review_list l = {};
	size_t n = 0;
	struct stat st;
	int r;

	if (fstatat(review_fd, JOURNAL, &st, 0) == 0) {
		r = read_file_at(review_fd, JOURNAL, 64 << 20, &buf, &n);
		if (r < 0)
			return r;
		r = review_journal_parse(buf, n, &l);
		if (r < 0)
			return r;
		r = run_journal(review_fd, upper_fd, lower_fd, &l, reterr_path);
		if (r < 0) {
			/* @reterr_path must outlive @l */
			static char failed[4096];

			(void)snprintf(failed, sizeof(failed), "%s", strempty(*reterr_path));
			*reterr_path = failed;
			review_list_free(&l);
			return r;
		}
		review_list_free(&l);
	}
	return finish(review_fd);
}

int review_discard(const char *sandbox_dir)
{
	_cleanup_free_ char *dir = path_join(sandbox_dir, REVIEW_DIR);
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int r, q;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (review_pending(fd) > 0)
		return -EBUSY;
	r = rm_rf_at(fd, "upper");
	q = rm_rf_at(fd, "work");
	if (r < 0 || q < 0)
		return r < 0 ? r : q;
	if (unlinkat(fd, "start", 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}
