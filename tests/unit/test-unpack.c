/* SPDX-License-Identifier: MIT */
/*
 * test-unpack.c - store/unpack.c: entry name cleaning, whiteouts, and extraction of small
 * archives written here with libarchive (symlink escapes, hard links, device nodes, modes)
 */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fd.h"
#include "common/macro.h"
#include "common/xmalloc.h"
#include "store/sandbox.h"
#include "store/unpack.h"
#include "tap.h"

static void clean_ok(const char *in, const char *want)
{
	char *out = (char *)1;
	const char *why = NULL;

	ASSERT_OK(unpack_path_clean(in, &out, &why));
	if (!want)
		ASSERT_NULL(out);
	else
		ASSERT_STREQ(out, want);
	free(out);
}

static void clean_bad(const char *in, int err)
{
	char *out = NULL;
	const char *why = NULL;

	ASSERT_ERR(unpack_path_clean(in, &out, &why), err);
	ASSERT_NOT_NULL(why);
	ASSERT_NULL(out);
}

TEST(path_clean)
{
	clean_ok("usr/bin/sh", "usr/bin/sh");
	clean_ok("./usr//bin/./sh/", "usr/bin/sh");
	clean_ok(".", NULL);
	clean_ok("./", NULL);
	clean_ok("...", "...");
	clean_ok("a/..b/c..", "a/..b/c..");
	clean_bad("/etc/passwd", EPERM);
	clean_bad("../x", EPERM);
	clean_bad("a/../../x", EPERM);
	clean_bad("a/b/..", EPERM);
	clean_bad("", EINVAL);
}

static void wh(const char *in, enum unpack_whiteout want, const char *target)
{
	enum unpack_whiteout kind;
	char *t = NULL;

	ASSERT_OK(unpack_whiteout_classify(in, &kind, &t));
	ASSERT_EQ(kind, want);
	if (target)
		ASSERT_STREQ(t, target);
	else
		ASSERT_NULL(t);
	free(t);
}

TEST(whiteouts)
{
	enum unpack_whiteout kind;
	char *t = NULL;

	wh("etc/passwd", UNPACK_WH_NONE, NULL);
	wh("etc/.wh.gone", UNPACK_WH_FILE, "etc/gone");
	wh(".wh.top", UNPACK_WH_FILE, "top");
	wh("a/b/.wh..wh..opq", UNPACK_WH_OPAQUE, "a/b");
	wh(".wh..wh..opq", UNPACK_WH_OPAQUE, "");
	wh("etc/x.wh.y", UNPACK_WH_NONE, NULL);
	ASSERT_ERR(unpack_whiteout_classify("etc/.wh.", &kind, &t), EINVAL);
	ASSERT_ERR(unpack_whiteout_classify("etc/.wh...", &kind, &t), EINVAL);
	ASSERT_ERR(unpack_whiteout_classify("etc/.wh..wh.x", &kind, &t), EINVAL);
}

/* --- archives written here ----------------------------------------------------------------- */

struct ent {
	const char *name;
	mode_t type; /* AE_IF* */
	mode_t perm;
	const char *data; /* file content, symlink or hard link target */
};

static int make_tar(const struct ent *e, size_t n)
{
	int fd = memfd_create("tar", MFD_CLOEXEC);
	struct archive *a = archive_write_new();

	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	ASSERT_EQ(archive_write_open_fd(a, fd), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();

		archive_entry_set_pathname(ae, e[i].name);
		if (e[i].type == 0) { /* hard link */
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_hardlink(ae, e[i].data);
		} else
			archive_entry_set_filetype(ae, e[i].type);
		archive_entry_set_perm(ae, e[i].perm ? e[i].perm : 0644);
		if (e[i].type == AE_IFLNK)
			archive_entry_set_symlink(ae, e[i].data);
		if (e[i].type == AE_IFCHR)
			archive_entry_set_rdev(ae, makedev(1, 3));
		if (e[i].type == AE_IFREG)
			archive_entry_set_size(ae, (la_int64_t)strlen(e[i].data));
		ASSERT_EQ(archive_write_header(a, ae), ARCHIVE_OK);
		if (e[i].type == AE_IFREG)
			ASSERT_EQ(archive_write_data(a, e[i].data, strlen(e[i].data)),
				  (la_ssize_t)strlen(e[i].data));
		archive_entry_free(ae);
	}
	ASSERT_EQ(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static char tmpdir[] = "/tmp/test-unpack-XXXXXX";
static int tmpfd = -1;

/* unpack @e into a fresh directory "t" below tmpdir; the result, and *@res */
static int unpack(const struct ent *e, size_t n, struct unpack_result *res)
{
	_cleanup_close_ int fd = make_tar(e, n), dfd = -EBADF;

	if (tmpfd < 0) {
		ASSERT_NOT_NULL(mkdtemp(tmpdir));
		tmpfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	(void)rm_rf_at(tmpfd, "t");
	ASSERT_OK(mkdirat(tmpfd, "t", 0700));
	dfd = openat(tmpfd, "t", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return unpack_image(dfd, fd, NULL, res);
}

static bool exists(const char *rel)
{
	struct stat st;

	return fstatat(tmpfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

TEST(extract_rootfs)
{
	static const struct ent e[] = {
		{ "./", AE_IFDIR, 0755, NULL },
		{ "./ro", AE_IFDIR, 0555, NULL },
		{ "./ro/file", AE_IFREG, 04755, "setuid" },
		{ "./ro/link", 0, 0, "ro/file" },
		{ "./bin", AE_IFLNK, 0777, "usr/bin" },
		{ "./abs", AE_IFLNK, 0777, "/etc/passwd" },
		{ "./dev/null", AE_IFCHR, 0666, NULL },
		{ "./ro/file", AE_IFREG, 0644, "replaced" },
	};
	struct unpack_result res = {};
	struct stat st;
	_cleanup_free_ char *text = NULL;
	size_t len = 0;

	ASSERT_OK(unpack(e, ELEMENTSOF(e), &res));
	ASSERT_EQ(res.format, UNPACK_FORMAT_ROOTFS);
	ASSERT_EQ(res.skipped_devices, 1u);
	ASSERT_EQ(res.dropped_setid, 1u);
	ASSERT_FALSE(exists("t/stage"));
	ASSERT_OK(read_file_at(tmpfd, "t/rootfs/ro/file", 64, &text, &len));
	ASSERT_STREQ(text, "replaced");
	/* the hard link was made to the first file, replaced since: it keeps the old content */
	ASSERT_OK(fstatat(tmpfd, "t/rootfs/ro/link", &st, 0));
	ASSERT_EQ(st.st_mode & 07777, 04755 & 0777);
	ASSERT_OK(fstatat(tmpfd, "t/rootfs/ro", &st, 0));
	ASSERT_EQ(st.st_mode & 07777, 0555); /* its own mode back, at the end */
	ASSERT_OK(fstatat(tmpfd, "t/rootfs/abs", &st, AT_SYMLINK_NOFOLLOW));
	ASSERT_TRUE(S_ISLNK(st.st_mode));
	ASSERT_FALSE(exists("t/rootfs/dev/null"));
	unpack_result_done(&res);
}

static void refused(const struct ent *e, size_t n, const char *entry, const char *why_part)
{
	struct unpack_result res = {};

	ASSERT_TRUE(unpack(e, n, &res) < 0);
	ASSERT_STREQ(res.err_entry, entry);
	ASSERT_NOT_NULL(strstr(res.err_why, why_part));
	unpack_result_done(&res);
}

TEST(extract_refuses)
{
	static const struct ent through[] = {
		{ "lib", AE_IFLNK, 0777, "../../.." },
		{ "lib/escaped", AE_IFREG, 0644, "x" },
	};
	static const struct ent dotdot[] = { { "a/../../escaped", AE_IFREG, 0644, "x" } };
	static const struct ent abs[] = { { "/tmp/escaped", AE_IFREG, 0644, "x" } };
	static const struct ent dev[] = { { "etc/tty", AE_IFCHR, 0644, NULL } };
	static const struct ent hl[] = { { "passwd", 0, 0, "../etc/passwd" } };
	static const struct ent hl_missing[] = { { "x", 0, 0, "not/there" } };
	static const struct ent hl_through[] = {
		{ "l", AE_IFLNK, 0777, "/etc" },
		{ "x", 0, 0, "l/passwd" },
	};

	refused(through, ELEMENTSOF(through), "lib/escaped", "symlink");
	ASSERT_FALSE(exists("escaped"));
	refused(dotdot, ELEMENTSOF(dotdot), "a/../../escaped", "'..'");
	refused(abs, ELEMENTSOF(abs), "/tmp/escaped", "absolute");
	refused(dev, ELEMENTSOF(dev), "etc/tty", "device node");
	refused(hl, ELEMENTSOF(hl), "passwd", "hard link target");
	refused(hl_missing, ELEMENTSOF(hl_missing), "x", "hard link target");
	refused(hl_through, ELEMENTSOF(hl_through), "x", "hard link target");
}

TEST(cleanup)
{
	if (tmpfd >= 0) {
		ASSERT_OK(rm_rf_at(AT_FDCWD, tmpdir));
		tmpfd = safe_close(tmpfd);
	}
}

int main(void)
{
	return tap_run();
}
