/* SPDX-License-Identifier: MIT */
/*
 * unpack.c - extract a root filesystem archive safely, as an unprivileged user
 *
 * DOC: Theory of Operation
 * An archive is hostile input: its entry names, link targets and types decide where paddock
 * writes. Every entry goes through one funnel:
 *
 *  1. its name is cleaned lexically (unpack_path_clean()): absolute names and ".." are refused
 *     with the entry named, never silently rewritten;
 *  2. its parent directory is opened from the tree's root fd with openat2(RESOLVE_BENEATH |
 *     RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV): a symlink anywhere on
 *     the way (an earlier entry "lib -> /etc" followed by "lib/passwd") is refused, so nothing
 *     is ever written outside the tree. Missing parents are made one component at a time with
 *     mkdirat() and O_NOFOLLOW opens (also the fallback where openat2 is missing);
 *  3. the entry itself is made with *at() calls relative to that parent, O_NOFOLLOW | O_EXCL
 *     for files (an existing entry is removed first, as tar does);
 *  4. a hard link's target goes through steps 1 and 2 as well, and must already exist in the
 *     tree: linkat() between two beneath-resolved fds cannot reach out;
 *  5. symlinks are created as they are, whatever their target: they are never followed here,
 *     and inside a sandbox they resolve within the image's root;
 *  6. device nodes cannot be created rootless and the sandbox has its own /dev: those under
 *     dev/ are skipped (rootfs tarballs carry /dev/null and friends), any other is refused;
 *     FIFOs are made, sockets skipped; setuid/setgid bits dropped; owners, ACLs and xattrs
 *     (file capabilities) are not restored.
 *
 * Directories are created owner-writable and get their own mode back at the very end
 * (children first), so a read-only directory early in an archive does not stop its later
 * entries.
 *
 * Image archives: the outer archive is first extracted as if it were a root filesystem into
 * "stage". When stage holds an OCI layout (oci-layout + index.json) or a docker archive
 * (manifest.json), its manifest names the layers, each a tarball in stage (gzip/zstd
 * compressed or not), applied in order to "rootfs" with whiteouts: DIR/.wh.NAME deletes NAME,
 * DIR/.wh..wh..opq empties DIR of what earlier layers put there (entries of the same layer
 * stay, whatever their order in the tarball). OCI blobs are hashed while they are read and
 * refused when the digest differs. Otherwise stage itself becomes rootfs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <linux/openat2.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fd.h"
#include "common/macro.h"
#include "common/strv.h"
#include "common/xmalloc.h"
#include "store/sandbox.h"
#include "archive-dl.h"
#include "unpack.h"

#define WH_PREFIX      ".wh."
#define WH_OPAQUE      ".wh..wh..opq"
#define JSON_MAX       (4u << 20) /* index.json, manifests */
#define LAYERS_MAX     512
#define ENTRY_DATA_BUF (256u << 10)

DEFINE_TRIVIAL_CLEANUP_FUNC(struct json_object *, json_object_put);

const char *unpack_format_to_string(enum unpack_format f)
{
	switch (f) {
	case UNPACK_FORMAT_ROOTFS:
		return "rootfs";
	case UNPACK_FORMAT_OCI:
		return "oci";
	case UNPACK_FORMAT_DOCKER:
		return "docker";
	}
	return "?";
}

int unpack_path_clean(const char *name, char **ret, const char **reterr_why)
{
	_cleanup_free_ char *out = NULL;
	size_t n = 0, len;
	const char *p = name;

	if (!name || !*name) {
		*reterr_why = "empty entry name";
		return -EINVAL;
	}
	len = strlen(name);
	if (len >= PATH_MAX) {
		*reterr_why = "entry name longer than PATH_MAX";
		return -EINVAL;
	}
	if (name[0] == '/') {
		*reterr_why = "absolute path (entries must be relative to the image's root)";
		return -EPERM;
	}
	out = xmalloc(len + 1);
	while (*p) {
		const char *e = strchrnul(p, '/');
		size_t k = (size_t)(e - p);

		if (k == 0 || (k == 1 && p[0] == '.')) {
			/* "//" or "." */
		} else if (k == 2 && p[0] == '.' && p[1] == '.') {
			*reterr_why = "'..' component (the entry would leave the image's root)";
			return -EPERM;
		} else {
			if (n > 0)
				out[n++] = '/';
			memcpy(out + n, p, k);
			n += k;
		}
		p = *e ? e + 1 : e;
	}
	out[n] = '\0';
	*ret = n == 0 ? NULL : TAKE_PTR(out);
	return 0;
}

int unpack_whiteout_classify(const char *path, enum unpack_whiteout *ret_kind, char **ret_target)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t dirlen = slash ? (size_t)(slash - path) : 0;

	*ret_target = NULL;
	*ret_kind = UNPACK_WH_NONE;
	if (strncmp(base, WH_PREFIX, STRLEN(WH_PREFIX)) != 0)
		return 0;
	if (streq(base, WH_OPAQUE)) {
		*ret_kind = UNPACK_WH_OPAQUE;
		*ret_target = xstrndup(path, dirlen);
		return 0;
	}
	base += STRLEN(WH_PREFIX);
	if (!*base || streq(base, ".") || streq(base, "..") ||
	    strncmp(base, WH_PREFIX, STRLEN(WH_PREFIX)) == 0)
		return -EINVAL;
	*ret_kind = UNPACK_WH_FILE;
	*ret_target = slash ? xasprintf("%.*s/%s", (int)dirlen, path, base) : xstrdup(base);
	return 0;
}

void unpack_result_done(struct unpack_result *res)
{
	free(res->ref);
	free(res->err_entry);
	res->ref = res->err_entry = NULL;
}

/* --- a string set: the paths one layer created, for opaque whiteouts -------------------- */

struct strset {
	char **slots;
	size_t cap, n;
};

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void strset_add(struct strset *set, const char *s);

static void strset_grow(struct strset *set)
{
	struct strset bigger = { .cap = set->cap ? set->cap * 2 : 1024 };

	bigger.slots = xcalloc(bigger.cap, sizeof(char *));
	for (size_t i = 0; i < set->cap; i++)
		if (set->slots[i]) {
			size_t j = str_hash(set->slots[i]) & (bigger.cap - 1);

			while (bigger.slots[j])
				j = (j + 1) & (bigger.cap - 1);
			bigger.slots[j] = set->slots[i];
			bigger.n++;
		}
	free(set->slots);
	*set = bigger;
}

static bool strset_contains(const struct strset *set, const char *s)
{
	if (set->cap == 0)
		return false;
	for (size_t j = str_hash(s) & (set->cap - 1); set->slots[j]; j = (j + 1) & (set->cap - 1))
		if (streq(set->slots[j], s))
			return true;
	return false;
}

static void strset_add(struct strset *set, const char *s)
{
	size_t j;

	if (strset_contains(set, s))
		return;
	if ((set->n + 1) * 2 > set->cap)
		strset_grow(set);
	j = str_hash(s) & (set->cap - 1);
	while (set->slots[j])
		j = (j + 1) & (set->cap - 1);
	set->slots[j] = xstrdup(s);
	set->n++;
}

static void strset_clear(struct strset *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->slots[i]);
	free(set->slots);
	*set = (struct strset){};
}

/* --- fd-relative extraction ------------------------------------------------------------- */

struct dirmode {
	char *path;
	mode_t mode;
};

struct ctx {
	int rootfd;
	bool whiteouts; /* an image layer: interpret .wh. entries */
	struct strset layer_paths;
	struct dirmode *dirs;
	size_t n_dirs;
	const struct unpack_opts *opts;
	struct unpack_result *res;
	const char *stage;
};

static int ctx_fail(struct ctx *c, int r, const char *entry, const char *why)
{
	free(c->res->err_entry);
	c->res->err_entry = xstrdup(entry ? entry : "");
	c->res->err_why = why;
	return r;
}

static int sys_openat2(int dirfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
			   RESOLVE_NO_XDEV,
	};
	long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

/*
 * open_dir_beneath() - open the directory @path (clean, relative; "" = the root) below @rootfd,
 * never through a symlink; with @create, missing components are made (0755). @flags: O_PATH
 * or O_RDONLY. -ELOOP: a component is a symlink; -ENOTDIR: it is not a directory.
 */
static int open_dir_beneath(int rootfd, const char *path, int flags, bool create)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = -EBADF;
	char *save = NULL;
	int r;

	if (!*path)
		return RET_NERRNO(openat(rootfd, ".", flags | O_DIRECTORY | O_CLOEXEC));
	r = sys_openat2(rootfd, path, flags | O_DIRECTORY);
	if (r >= 0 || (r != -ENOENT && r != -ENOSYS))
		return r;
	if (r == -ENOENT && !create)
		return r;
	/* component by component: creating what is missing, or where openat2 is missing */
	buf = xstrdup(path);
	fd = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (char *comp = strtok_r(buf, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		bool last = save == NULL || *save == '\0';
		int next = openat(fd, comp,
				  (last ? flags : O_PATH) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (next < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST)
				return -errno;
			next = openat(fd, comp,
				      (last ? flags : O_PATH) | O_DIRECTORY | O_NOFOLLOW |
					      O_CLOEXEC);
		}
		if (next < 0) {
			struct stat st;

			if (fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
				return -ELOOP;
			return -errno;
		}
		(void)close(fd);
		fd = next;
	}
	return TAKE_FD(fd);
}

/* split @path into its parent ("" for the root) and base name; @path is modified */
static const char *split_parent(char *path, const char **ret_base)
{
	char *slash = strrchr(path, '/');

	if (!slash) {
		*ret_base = path;
		return "";
	}
	*slash = '\0';
	*ret_base = slash + 1;
	return path;
}

static const char *parent_error_why(int r)
{
	switch (r) {
	case -ELOOP:
		return "a directory on its path is a symlink (extraction never follows symlinks)";
	case -ENOTDIR:
		return "a component of its path is not a directory";
	case -EXDEV:
		return "its path crosses a mount point";
	default:
		return "its parent directory cannot be opened or created";
	}
}

/* remove whatever @base is below @pfd, unless it is a directory and @keep_dir */
static int remove_existing(int pfd, const char *base, bool keep_dir, bool *ret_is_dir)
{
	struct stat st;

	*ret_is_dir = false;
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISDIR(st.st_mode) && keep_dir) {
		*ret_is_dir = true;
		return 0;
	}
	return rm_rf_at(pfd, base);
}

static int copy_data(struct ctx *c, struct archive *a, int fd, int64_t size)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	for (;;) {
		r = sym_archive_read_data_block(a, &buf, &len, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			return -EIO;
		for (size_t done = 0; done < len;) {
			ssize_t k = pwrite(fd, (const char *)buf + done, len - done,
					   (off_t)off + (off_t)done);

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				return -errno;
			done += (size_t)k;
		}
		c->res->bytes += len;
	}
	/* sparse files: holes at the end */
	return RET_NERRNO(ftruncate(fd, (off_t)size));
}

static void progress(struct ctx *c, struct archive *a, uint64_t total)
{
	if (c->opts && c->opts->progress)
		c->opts->progress(c->stage, (uint64_t)sym_archive_filter_bytes(a, -1), total,
				  c->opts->userdata);
}

static int apply_whiteout(struct ctx *c, const char *entry, enum unpack_whiteout kind,
			  const char *target)
{
	_cleanup_free_ char *copy = xstrdup(target);
	_cleanup_close_ int pfd = -EBADF;
	const char *base, *parent;
	DIR *d;
	int r = 0;

	if (kind == UNPACK_WH_FILE) {
		parent = split_parent(copy, &base);
		pfd = open_dir_beneath(c->rootfd, parent, O_PATH, false);
		if (pfd == -ENOENT)
			return 0; /* nothing to hide */
		if (pfd < 0)
			return ctx_fail(c, pfd, entry, parent_error_why(pfd));
		r = rm_rf_at(pfd, base);
		return r < 0 ? ctx_fail(c, r, entry, "the whited-out path cannot be removed") : 0;
	}
	/* opaque: empty the directory of what earlier layers made */
	pfd = open_dir_beneath(c->rootfd, target, O_RDONLY, true);
	if (pfd < 0)
		return ctx_fail(c, pfd, entry, parent_error_why(pfd));
	d = fdopendir(pfd);
	if (!d)
		return -errno;
	pfd = -EBADF;
	for (struct dirent *de; (de = readdir(d));) {
		_cleanup_free_ char *full = NULL;

		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		full = *target ? xasprintf("%s/%s", target, de->d_name) : xstrdup(de->d_name);
		if (strset_contains(&c->layer_paths, full))
			continue;
		r = rm_rf_at(dirfd(d), de->d_name);
		if (r < 0)
			break;
	}
	(void)closedir(d);
	return r < 0 ? ctx_fail(c, r, entry, "the opaque directory cannot be emptied") : 0;
}

/* apply_entry() - one archive entry below c->rootfd */
static int apply_entry(struct ctx *c, struct archive *a, struct archive_entry *e)
{
	const char *name = sym_archive_entry_pathname(e), *why = NULL, *base, *parent;
	_cleanup_free_ char *clean = NULL, *copy = NULL;
	_cleanup_close_ int pfd = -EBADF;
	mode_t type = sym_archive_entry_filetype(e);
	mode_t perm = sym_archive_entry_perm(e);
	const char *hardlink = sym_archive_entry_hardlink(e);
	bool is_dir = false;
	int r;

	if (!name)
		return ctx_fail(c, -EINVAL, "?", "entry without a name");
	r = unpack_path_clean(name, &clean, &why);
	if (r < 0)
		return ctx_fail(c, r, name, why);
	if (!clean) { /* the root itself: only its mode */
		if (type == AE_IFDIR && !hardlink) {
			c->dirs = xreallocarray(c->dirs, c->n_dirs + 1, sizeof(*c->dirs));
			c->dirs[c->n_dirs++] = (struct dirmode){ xstrdup(""), perm & 01777 };
		}
		return 0;
	}

	if (c->whiteouts) {
		enum unpack_whiteout kind;
		_cleanup_free_ char *target = NULL;

		r = unpack_whiteout_classify(clean, &kind, &target);
		if (r < 0)
			return ctx_fail(c, r, name, "malformed whiteout name");
		if (kind != UNPACK_WH_NONE)
			return apply_whiteout(c, name, kind, target);
		strset_add(&c->layer_paths, clean);
	}

	if (!hardlink && (type == AE_IFCHR || type == AE_IFBLK)) {
		if (strncmp(clean, "dev/", 4) == 0) {
			c->res->skipped_devices++;
			return 0;
		}
		return ctx_fail(c, -EPERM, name,
				"device node (images cannot hold device nodes: an unprivileged "
				"user cannot create them, and a sandbox has its own /dev)");
	}
	if (!hardlink && type == AE_IFSOCK)
		return 0;
	if (perm & (S_ISUID | S_ISGID)) {
		c->res->dropped_setid++;
		perm &= ~(mode_t)(S_ISUID | S_ISGID);
	}

	copy = xstrdup(clean);
	parent = split_parent(copy, &base);
	pfd = open_dir_beneath(c->rootfd, parent, O_PATH, true);
	if (pfd < 0)
		return ctx_fail(c, pfd, name, parent_error_why(pfd));
	r = remove_existing(pfd, base, !hardlink && type == AE_IFDIR, &is_dir);
	if (r < 0)
		return ctx_fail(c, r, name, "the entry it replaces cannot be removed");

	if (hardlink) {
		_cleanup_free_ char *tclean = NULL, *tcopy = NULL;
		_cleanup_close_ int tpfd = -EBADF;
		const char *tbase, *tparent;

		r = unpack_path_clean(hardlink, &tclean, &why);
		if (r < 0)
			return ctx_fail(c, r, name, "hard link target: absolute or '..' path");
		if (!tclean)
			return ctx_fail(c, -EPERM, name, "hard link to the root directory");
		tcopy = xstrdup(tclean);
		tparent = split_parent(tcopy, &tbase);
		tpfd = open_dir_beneath(c->rootfd, tparent, O_PATH, false);
		if (tpfd < 0)
			return ctx_fail(c, tpfd, name,
					"hard link target is not in the tree extracted so far");
		if (linkat(tpfd, tbase, pfd, base, 0) < 0)
			return ctx_fail(c, -errno, name,
					"hard link target is not a file extracted so far");
		return 0;
	}

	switch (type) {
	case AE_IFDIR:
		if (!is_dir && mkdirat(pfd, base, 0700) < 0)
			return ctx_fail(c, -errno, name, "cannot create the directory");
		/* the real mode at the end: later entries may need to write here */
		c->dirs = xreallocarray(c->dirs, c->n_dirs + 1, sizeof(*c->dirs));
		c->dirs[c->n_dirs++] = (struct dirmode){ xstrdup(clean), perm };
		return 0;
	case AE_IFLNK: {
		const char *target = sym_archive_entry_symlink(e);

		if (!target || !*target)
			return ctx_fail(c, -EINVAL, name, "symlink without a target");
		if (symlinkat(target, pfd, base) < 0)
			return ctx_fail(c, -errno, name, "cannot create the symlink");
		return 0;
	}
	case AE_IFIFO:
		if (mkfifoat(pfd, base, perm & 0777) < 0)
			return ctx_fail(c, -errno, name, "cannot create the FIFO");
		return 0;
	case AE_IFREG: {
		_cleanup_close_ int fd = -EBADF;
		struct timespec ts[2] = {
			{ .tv_sec = sym_archive_entry_mtime(e),
			  .tv_nsec = sym_archive_entry_mtime_nsec(e) },
			{ .tv_sec = sym_archive_entry_mtime(e),
			  .tv_nsec = sym_archive_entry_mtime_nsec(e) },
		};

		fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return ctx_fail(c, -errno, name, "cannot create the file");
		r = copy_data(c, a, fd, sym_archive_entry_size(e));
		if (r < 0)
			return ctx_fail(c, r, name, "cannot write the file's data");
		if (fchmod(fd, perm) < 0)
			return ctx_fail(c, -errno, name, "cannot set the file's mode");
		if (sym_archive_entry_mtime_is_set(e))
			(void)futimens(fd, ts);
		return 0;
	}
	default:
		return ctx_fail(c, -EINVAL, name, "unknown entry type");
	}
}

/* the directories' own modes, deepest (latest) first */
static void fix_dir_modes(struct ctx *c)
{
	for (size_t i = c->n_dirs; i > 0; i--) {
		struct dirmode *d = &c->dirs[i - 1];
		_cleanup_close_ int fd = open_dir_beneath(c->rootfd, d->path, O_RDONLY, false);

		if (fd >= 0)
			(void)fchmod(fd, d->mode);
		free(d->path);
	}
	free(c->dirs);
	c->dirs = NULL;
	c->n_dirs = 0;
}

/* apply_archive() - every entry of @a (opened) below c->rootfd */
static int apply_archive(struct ctx *c, struct archive *a, uint64_t total)
{
	struct archive_entry *e;
	int r;

	for (;;) {
		r = sym_archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			const char *msg = sym_archive_error_string(a);

			return ctx_fail(c, -EBADMSG, msg ? msg : "?",
					"the archive is malformed or truncated");
		}
		if (c->opts && c->opts->cancel && *c->opts->cancel)
			return ctx_fail(c, -EINTR, NULL, "interrupted");
		r = apply_entry(c, a, e);
		if (r < 0)
			return r;
		c->res->entries++;
		if ((c->res->entries & 63) == 0)
			progress(c, a, total);
	}
	progress(c, a, total);
	return 0;
}

static struct archive *archive_reader(void)
{
	struct archive *a = sym_archive_read_new();

	if (!a)
		abort();
	(void)sym_archive_read_support_filter_all(a);
	(void)sym_archive_read_support_format_tar(a);
	(void)sym_archive_read_support_format_gnutar(a);
	return a;
}

/* --- layers -------------------------------------------------------------------------------- */

/* a layer read through a callback that hashes what libarchive reads */
struct layer_src {
	int fd;
	EVP_MD_CTX *md;
	char buf[ENTRY_DATA_BUF];
};

static la_ssize_t layer_read(struct archive *a, void *userdata, const void **ret_buf)
{
	struct layer_src *s = userdata;
	ssize_t k = loop_read(s->fd, s->buf, sizeof(s->buf));

	if (k < 0) {
		sym_archive_set_error(a, (int)-k, "read error");
		return -1;
	}
	if (s->md && k > 0 && EVP_DigestUpdate(s->md, s->buf, (size_t)k) != 1)
		return -1;
	*ret_buf = s->buf;
	return k;
}

static int read_json_beneath(int rootfd, const char *path, struct json_object **ret)
{
	_cleanup_free_ char *copy = xstrdup(path), *buf = NULL;
	_cleanup_close_ int pfd = -EBADF, fd = -EBADF;
	const char *base, *parent = split_parent(copy, &base);
	struct json_tokener *tok;
	struct json_object *o;
	size_t len = 0;
	int r;

	pfd = open_dir_beneath(rootfd, parent, O_PATH, false);
	if (pfd < 0)
		return pfd;
	fd = openat(pfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	r = read_fd(fd, JSON_MAX, &buf, &len);
	if (r < 0)
		return r;
	tok = json_tokener_new();
	o = json_tokener_parse_ex(tok, buf, (int)len);
	r = json_tokener_get_error(tok) == json_tokener_success ? 0 : -EBADMSG;
	json_tokener_free(tok);
	if (r < 0 || !o) {
		json_object_put(o);
		return -EBADMSG;
	}
	*ret = o;
	return 0;
}

static const char *json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* "sha256:HEX" -> "blobs/sha256/HEX", checked */
static char *digest_path(const char *digest, const EVP_MD **ret_md)
{
	const char *colon = digest ? strchr(digest, ':') : NULL;
	size_t want;

	if (!colon)
		return NULL;
	if (strncmp(digest, "sha256:", 7) == 0) {
		*ret_md = EVP_sha256();
		want = 64;
	} else if (strncmp(digest, "sha512:", 7) == 0) {
		*ret_md = EVP_sha512();
		want = 128;
	} else
		return NULL;
	if (strlen(colon + 1) != want || strspn(colon + 1, "0123456789abcdef") != want)
		return NULL;
	return xasprintf("blobs/%.*s/%s", (int)(colon - digest), digest, colon + 1);
}

/* apply_layer() - the layer tarball at @path in @stagefd onto c->rootfd; @digest may be NULL */
static int apply_layer(struct ctx *c, int stagefd, const char *path, const char *digest,
		       const EVP_MD *md)
{
	_cleanup_free_ char *copy = xstrdup(path), *label = NULL;
	_cleanup_close_ int pfd = -EBADF;
	struct layer_src *src = xcalloc(1, sizeof(*src));
	const char *base, *parent = split_parent(copy, &base);
	struct archive *a = NULL;
	struct stat st;
	int r = 0;

	src->fd = -EBADF;
	pfd = open_dir_beneath(stagefd, parent, O_PATH, false);
	if (pfd >= 0)
		src->fd = openat(pfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (pfd < 0 || src->fd < 0 || fstat(src->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = ctx_fail(c, -ENOENT, path, "layer named by the manifest is missing");
		goto out;
	}
	if (md) {
		src->md = EVP_MD_CTX_new();
		if (!src->md || EVP_DigestInit_ex(src->md, md, NULL) != 1)
			abort();
	}
	label = xasprintf("layer %u", c->res->layers + 1);
	c->stage = label;
	a = archive_reader();
	if (sym_archive_read_open(a, src, NULL, layer_read, NULL) != ARCHIVE_OK) {
		r = ctx_fail(c, -EBADMSG, path, "layer is not a tarball");
		goto out;
	}
	c->whiteouts = true;
	r = apply_archive(c, a, (uint64_t)st.st_size);
	strset_clear(&c->layer_paths);
	if (r < 0)
		goto out;
	if (src->md && digest) {
		unsigned char out[EVP_MAX_MD_SIZE];
		char hex[2 * EVP_MAX_MD_SIZE + 1];
		unsigned int n = 0;
		ssize_t k;

		/* what libarchive left unread (end-of-archive padding) counts too */
		while ((k = layer_read(a, src, &(const void *){ NULL })) > 0)
			;
		if (k < 0 || EVP_DigestFinal_ex(src->md, out, &n) != 1) {
			r = ctx_fail(c, -EIO, path, "layer cannot be read");
			goto out;
		}
		for (unsigned int i = 0; i < n; i++)
			(void)snprintf(hex + 2 * i, 3, "%02x", out[i]);
		if (!streq(hex, strchr(digest, ':') + 1)) {
			r = ctx_fail(c, -EBADMSG, path,
				     "layer does not match its digest (corrupt or tampered)");
			goto out;
		}
	}
	c->res->layers++;
out:
	if (a)
		sym_archive_read_free(a);
	if (src->md)
		EVP_MD_CTX_free(src->md);
	safe_close(src->fd);
	free(src);
	return r;
}

static const char *host_oci_arch(void)
{
	struct utsname u;

	if (uname(&u) < 0)
		return "amd64";
	if (streq(u.machine, "x86_64"))
		return "amd64";
	if (streq(u.machine, "aarch64"))
		return "arm64";
	if (streq(u.machine, "i686") || streq(u.machine, "i386"))
		return "386";
	return "amd64";
}

/* choose the manifest of @index for this machine: its platform, else the first */
static struct json_object *pick_manifest(struct json_object *index)
{
	struct json_object *list, *first = NULL;

	if (!json_object_object_get_ex(index, "manifests", &list) ||
	    !json_object_is_type(list, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *m = json_object_array_get_idx(list, i), *p;
		const char *os, *arch;

		if (!json_object_is_type(m, json_type_object))
			continue;
		if (!first)
			first = m;
		if (!json_object_object_get_ex(m, "platform", &p))
			continue;
		os = json_str(p, "os");
		arch = json_str(p, "architecture");
		if (os && arch && streq(os, "linux") && streq(arch, host_oci_arch()))
			return m;
	}
	return first;
}

static int apply_oci(struct ctx *c, int stagefd)
{
	_cleanup_(json_object_putp) struct json_object *index = NULL, *manifest = NULL;
	struct json_object *desc, *layers;
	const EVP_MD *md = NULL;
	int r;

	r = read_json_beneath(stagefd, "index.json", &index);
	if (r < 0)
		return ctx_fail(c, r, "index.json", "the OCI index cannot be read or parsed");
	for (int depth = 0;; depth++) {
		_cleanup_free_ char *path = NULL;
		const char *mt;

		desc = pick_manifest(manifest ? manifest : index);
		if (!desc)
			return ctx_fail(c, -EBADMSG, "index.json",
					"the OCI index lists no manifest");
		{
			const char *ref = NULL;
			struct json_object *ann;

			if (json_object_object_get_ex(desc, "annotations", &ann))
				ref = json_str(ann, "org.opencontainers.image.ref.name");
			if (ref && !c->res->ref)
				c->res->ref = xstrdup(ref);
		}
		path = digest_path(json_str(desc, "digest"), &md);
		if (!path)
			return ctx_fail(c, -EBADMSG, "index.json",
					"a manifest digest is missing or malformed");
		if (manifest) {
			json_object_put(manifest);
			manifest = NULL;
		}
		r = read_json_beneath(stagefd, path, &manifest);
		if (r < 0)
			return ctx_fail(c, r, path, "the OCI manifest cannot be read or parsed");
		mt = json_str(desc, "mediaType");
		if (!mt)
			mt = json_str(manifest, "mediaType");
		if (mt && (strstr(mt, "image.index") || strstr(mt, "manifest.list"))) {
			if (depth >= 2)
				return ctx_fail(c, -ELOOP, path, "OCI indexes nested too deeply");
			continue; /* an index of indexes: once more */
		}
		break;
	}
	if (!json_object_object_get_ex(manifest, "layers", &layers) ||
	    !json_object_is_type(layers, json_type_array))
		return ctx_fail(c, -EBADMSG, "manifest", "the OCI manifest has no layers");
	if (json_object_array_length(layers) > LAYERS_MAX)
		return ctx_fail(c, -E2BIG, "manifest", "too many layers");
	for (size_t i = 0; i < json_object_array_length(layers); i++) {
		struct json_object *l = json_object_array_get_idx(layers, i);
		const char *digest = json_str(l, "digest");
		_cleanup_free_ char *path = digest_path(digest, &md);

		if (!path)
			return ctx_fail(c, -EBADMSG, digest ? digest : "manifest",
					"a layer digest is missing or malformed");
		r = apply_layer(c, stagefd, path, digest, md);
		if (r < 0)
			return r;
	}
	return 0;
}

static int apply_docker(struct ctx *c, int stagefd)
{
	_cleanup_(json_object_putp) struct json_object *m = NULL;
	struct json_object *first, *layers, *tags;
	int r;

	r = read_json_beneath(stagefd, "manifest.json", &m);
	if (r < 0)
		return ctx_fail(c, r, "manifest.json", "the docker manifest cannot be parsed");
	if (!json_object_is_type(m, json_type_array) || json_object_array_length(m) < 1)
		return ctx_fail(c, -EBADMSG, "manifest.json", "the docker manifest lists no image");
	first = json_object_array_get_idx(m, 0);
	if (json_object_object_get_ex(first, "RepoTags", &tags) &&
	    json_object_is_type(tags, json_type_array) && json_object_array_length(tags) > 0 &&
	    json_object_is_type(json_object_array_get_idx(tags, 0), json_type_string))
		c->res->ref = xstrdup(json_object_get_string(json_object_array_get_idx(tags, 0)));
	if (!json_object_object_get_ex(first, "Layers", &layers) ||
	    !json_object_is_type(layers, json_type_array))
		return ctx_fail(c, -EBADMSG, "manifest.json", "the docker manifest has no Layers");
	if (json_object_array_length(layers) > LAYERS_MAX)
		return ctx_fail(c, -E2BIG, "manifest.json", "too many layers");
	for (size_t i = 0; i < json_object_array_length(layers); i++) {
		struct json_object *l = json_object_array_get_idx(layers, i);
		_cleanup_free_ char *clean = NULL;
		const char *why = NULL;

		if (!json_object_is_type(l, json_type_string))
			return ctx_fail(c, -EBADMSG, "manifest.json", "a layer is not a path");
		r = unpack_path_clean(json_object_get_string(l), &clean, &why);
		if (r < 0 || !clean)
			return ctx_fail(c, r < 0 ? r : -EINVAL, json_object_get_string(l),
					why ? why : "empty layer path");
		r = apply_layer(c, stagefd, clean, NULL, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool is_regular_at(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

/* dirs_free() - the directory modes still to set, dropped (on failure, or once set) */
static void dirs_free(struct ctx *c)
{
	for (size_t i = 0; i < c->n_dirs; i++)
		free(c->dirs[i].path);
	free(c->dirs);
	c->dirs = NULL;
	c->n_dirs = 0;
}

int unpack_image(int dirfd, int archive_fd, const struct unpack_opts *opts,
		 struct unpack_result *res)
{
	_cleanup_close_ int stagefd = -EBADF, rootfd = -EBADF;
	struct ctx c = { .opts = opts, .res = res, .stage = opts ? opts->stage : "archive" };
	struct archive *a;
	struct stat st;
	uint64_t total = 0;
	int r;

	*res = (struct unpack_result){};
	r = archive_dl_open(NULL);
	if (r < 0)
		return r;
	if (fstat(archive_fd, &st) == 0 && S_ISREG(st.st_mode))
		total = (uint64_t)st.st_size;
	if (mkdirat(dirfd, "stage", 0700) < 0)
		return -errno;
	stagefd = openat(dirfd, "stage", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (stagefd < 0 || fchmod(stagefd, 0755) < 0)
		return -errno;

	a = archive_reader();
	if (sym_archive_read_open_fd(a, archive_fd, ENTRY_DATA_BUF) != ARCHIVE_OK) {
		const char *msg = sym_archive_error_string(a);

		r = ctx_fail(&c, -EBADMSG, msg ? msg : "?", "not a tar archive");
		sym_archive_read_free(a);
		return r;
	}
	c.rootfd = stagefd;
	r = apply_archive(&c, a, total);
	sym_archive_read_free(a);
	if (r < 0) {
		dirs_free(&c);
		return r;
	}

	if (is_regular_at(stagefd, "index.json") && is_regular_at(stagefd, "oci-layout"))
		res->format = UNPACK_FORMAT_OCI;
	else if (is_regular_at(stagefd, "manifest.json"))
		res->format = UNPACK_FORMAT_DOCKER;
	else {
		fix_dir_modes(&c);
		res->format = UNPACK_FORMAT_ROOTFS;
		return RET_NERRNO(renameat(dirfd, "stage", dirfd, "rootfs"));
	}
	/* the archive's own directories do not matter: only its blobs */
	dirs_free(&c);

	if (mkdirat(dirfd, "rootfs", 0755) < 0)
		return -errno;
	rootfd = openat(dirfd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rootfd < 0)
		return -errno;
	c.rootfd = rootfd;
	res->entries = 0;
	res->bytes = 0;
	r = res->format == UNPACK_FORMAT_OCI ? apply_oci(&c, stagefd) : apply_docker(&c, stagefd);
	fix_dir_modes(&c);
	dirs_free(&c);
	strset_clear(&c.layer_paths);
	if (r < 0)
		return r;
	stagefd = safe_close(stagefd);
	r = rm_rf_at(dirfd, "stage");
	return r;
}
