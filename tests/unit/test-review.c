/* SPDX-License-Identifier: MIT */
/*
 * test-review.c - store/review.c: an upper layer read back as added, changed and deleted
 * entries (whiteouts, opaque directories, type changes, identical copies), conflicts by
 * ctime, the journal's parser, apply and its resumption after an interruption
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fd.h"
#include "common/macro.h"
#include "common/path.h"
#include "common/strv.h"
#include "common/xmalloc.h"
#include "store/review.h"
#include "store/sandbox.h"
#include "tap.h"

static char tmpdir[] = "/tmp/test-review.XXXXXX";
static int base_fd = -1;

static void put_file(int dfd, const char *path, const char *content, mode_t mode)
{
	_cleanup_close_ int fd = openat(dfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	ASSERT_TRUE(fd >= 0);
	ASSERT_OK(loop_write(fd, content, strlen(content)));
	ASSERT_OK(fchmod(fd, mode));
}

static char *get_file(int dfd, const char *path)
{
	char *buf = NULL;

	if (read_file_at(dfd, path, 4096, &buf, NULL) < 0)
		return NULL;
	return buf;
}

/* layers() - fresh lower/ and upper/ (and review/) below the test directory */
static void layers(int *lower, int *upper, int *review)
{
	(void)rm_rf_at(base_fd, "lower");
	(void)rm_rf_at(base_fd, "review");
	ASSERT_OK(mkdirat(base_fd, "lower", 0755));
	ASSERT_OK(mkdirat(base_fd, "review", 0700));
	ASSERT_OK(mkdirat(base_fd, "review/upper", 0755));
	*lower = openat(base_fd, "lower", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*upper = openat(base_fd, "review/upper", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*review = openat(base_fd, "review", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_TRUE(*lower >= 0 && *upper >= 0 && *review >= 0);
}

/* listing() - "A:f:path M:d:path ..." */
static char *listing(const struct review_list *l)
{
	char *s = xstrdup("");

	for (size_t i = 0; i < l->n; i++) {
		char *n = xasprintf("%s%s%c:%c:%s", s, i ? " " : "", l->items[i].change,
				    l->items[i].type, l->items[i].path);

		free(s);
		s = n;
	}
	return s;
}

static bool whiteout(int dfd, const char *name)
{
	return mknodat(dfd, name, S_IFCHR | 0000, makedev(0, 0)) == 0;
}

TEST(scan_files)
{
	_cleanup_close_ int lower = -EBADF, upper = -EBADF, review = -EBADF;
	struct review_list l = {};
	_cleanup_free_ char *s = NULL;

	layers(&lower, &upper, &review);
	put_file(lower, "same", "x\n", 0644);
	put_file(lower, "changed", "old\n", 0644);
	put_file(lower, "chmod", "x\n", 0644);
	put_file(lower, "file-to-dir", "x\n", 0644);
	ASSERT_OK(mkdirat(lower, "sub", 0755));
	put_file(lower, "sub/keep", "k\n", 0644);
	ASSERT_OK(symlinkat("same", lower, "link"));

	put_file(upper, "same", "x\n", 0644); /* copied up, not changed */
	put_file(upper, "changed", "new\n", 0644);
	put_file(upper, "chmod", "x\n", 0755);
	put_file(upper, "added", "a\n", 0600);
	ASSERT_OK(mkdirat(upper, "file-to-dir", 0755));
	put_file(upper, "file-to-dir/inner", "i\n", 0644);
	ASSERT_OK(mkdirat(upper, "sub", 0755));
	put_file(upper, "sub/new", "n\n", 0644);
	ASSERT_OK(mkdirat(upper, "newdir", 0750));
	ASSERT_OK(symlinkat("changed", upper, "link"));

	ASSERT_OK(review_scan(upper, lower, &l));
	s = listing(&l);
	ASSERT_STREQ(s, "A:f:added M:f:changed M:f:chmod M:d:file-to-dir A:f:file-to-dir/inner "
			"M:l:link A:d:newdir A:f:sub/new");
	ASSERT_EQ(l.items[0].mode, (mode_t)0600);
	review_list_free(&l);
}

TEST(scan_whiteouts_and_opaque)
{
	_cleanup_close_ int lower = -EBADF, upper = -EBADF, review = -EBADF;
	struct review_list l = {};
	_cleanup_free_ char *s = NULL, *op = NULL;

	layers(&lower, &upper, &review);
	if (!whiteout(upper, "probe"))
		TEST_SKIP("no unprivileged whiteouts (mknod 0:0) here");
	ASSERT_OK(unlinkat(upper, "probe", 0));
	put_file(lower, "gone", "g\n", 0644);
	ASSERT_OK(mkdirat(lower, "gonedir", 0755));
	put_file(lower, "gonedir/x", "x\n", 0644);
	ASSERT_OK(mkdirat(lower, "op", 0755));
	put_file(lower, "op/old1", "1\n", 0644);
	put_file(lower, "op/kept", "k\n", 0644);
	ASSERT_OK(mkdirat(lower, "op/deep", 0755));
	put_file(lower, "op/deep/old2", "2\n", 0644);

	ASSERT_TRUE(whiteout(upper, "gone"));
	ASSERT_TRUE(whiteout(upper, "gonedir"));
	ASSERT_TRUE(whiteout(upper, "never-was")); /* nothing to delete: not listed */
	ASSERT_OK(mkdirat(upper, "op", 0755));
	op = path_join(tmpdir, "review/upper/op");
	if (setxattr(op, "user.overlay.opaque", "y", 1, 0) < 0)
		TEST_SKIP("no user xattrs on this file system");
	put_file(upper, "op/kept", "k\n", 0644);
	ASSERT_OK(mkdirat(upper, "op/deep", 0755)); /* below an opaque dir: opaque too */

	ASSERT_OK(review_scan(upper, lower, &l));
	s = listing(&l);
	ASSERT_STREQ(s, "D:f:gone D:d:gonedir D:f:op/deep/old2 D:f:op/old1");
	review_list_free(&l);
}

TEST(conflicts)
{
	_cleanup_close_ int lower = -EBADF, upper = -EBADF, review = -EBADF;
	_cleanup_strv_free_ char **paths = NULL;
	struct review_list l = {};
	struct stat st;
	int64_t before;

	layers(&lower, &upper, &review);
	put_file(lower, "a", "1\n", 0644);
	put_file(lower, "b", "1\n", 0644);
	put_file(upper, "a", "2\n", 0644);
	put_file(upper, "b", "2\n", 0644);
	put_file(upper, "c", "2\n", 0644);
	ASSERT_OK(review_scan(upper, lower, &l));
	ASSERT_OK(fstatat(lower, "a", &st, 0));
	before = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
	/* a start long after every change: none; long before: both changed ones */
	ASSERT_EQ(review_conflicts(lower, &l, before + 1000000000000LL, NULL), 0);
	ASSERT_EQ(review_conflicts(lower, &l, before - 1000000000000LL, &paths), 2);
	ASSERT_STREQ(paths[0], "a");
	ASSERT_STREQ(paths[1], "b");
	review_list_free(&l);
}

TEST(journal_parse)
{
	static const char ok[] = "paddock review journal 1\nAf644\ta/b\0Dd0\tc\0";
	static const char *const bad[] = {
		"paddock review journal 1\nAf644\t../x",
		"paddock review journal 1\nXf644\tx",
		"paddock review journal 1\nAf644\t/etc/passwd",
		"paddock review journal 1\nAf99\tx",
		"paddock review journal 1\nAf644\ta/./b",
		"paddock review journal 1\nAf644\ta/",
		"paddock review journal 1\nAf644x",
		"nope\n",
	};
	struct review_list l = {};

	ASSERT_OK(review_journal_parse(ok, sizeof(ok) - 1, &l));
	ASSERT_EQ(l.n, (size_t)2);
	ASSERT_STREQ(l.items[0].path, "a/b");
	ASSERT_EQ(l.items[0].mode, (mode_t)0644);
	ASSERT_EQ(l.items[1].change, 'D');
	review_list_free(&l);
	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		ASSERT_ERR(review_journal_parse(bad[i], strlen(bad[i]) + 1, &l), EBADMSG);
}

TEST(apply_and_resume)
{
	_cleanup_close_ int lower = -EBADF, upper = -EBADF, review = -EBADF;
	_cleanup_free_ char *start = NULL;
	struct review_list l = {};
	const char *bad = NULL;
	struct stat st;
	char *c;

	layers(&lower, &upper, &review);
	put_file(lower, "changed", "old\n", 0644);
	put_file(lower, "deleted", "d\n", 0644);
	ASSERT_OK(mkdirat(lower, "was-dir", 0755));
	put_file(lower, "was-dir/x", "x\n", 0644);
	put_file(upper, "changed", "new\n", 0755);
	ASSERT_OK(mkdirat(upper, "nd", 0755));
	put_file(upper, "nd/f", "f\n", 04644);
	ASSERT_OK(symlinkat("changed", upper, "nd/l"));
	put_file(upper, "was-dir", "now a file\n", 0644);
	ASSERT_OK(review_scan(upper, lower, &l));
	/* a deletion by hand (no whiteouts needed for this part) */
	l.items = xreallocarray(l.items, l.n + 1, sizeof(*l.items));
	l.items[l.n++] = (struct review_entry){ xstrdup("deleted"), 'D', 'f', 0 };
	start = path_join(tmpdir, "review/start");
	ASSERT_OK(write_file_atomic(start, "1\n", 2, 0600, true));

	/* an interrupted apply: the journal is there, nothing done yet */
	{
		_cleanup_close_ int fd = openat(review, "apply.journal",
						O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

		ASSERT_TRUE(fd >= 0);
		ASSERT_OK(loop_write(fd, "paddock review journal 1\n", 25));
		for (size_t i = 0; i < l.n; i++) {
			char rec[256];
			int n = snprintf(rec, sizeof(rec), "%c%c%o\t%s", l.items[i].change,
					 l.items[i].type, (unsigned)l.items[i].mode,
					 l.items[i].path);

			ASSERT_OK(loop_write(fd, rec, (size_t)n + 1)); /* with its NUL */
		}
	}
	ASSERT_EQ(review_pending(review), 1);
	ASSERT_ERR(review_discard(tmpdir), EBUSY);
	ASSERT_OK(review_resume(review, upper, lower, &bad));
	ASSERT_EQ(review_pending(review), 0);

	c = get_file(lower, "changed");
	ASSERT_STREQ(c, "new\n");
	free(c);
	ASSERT_OK(fstatat(lower, "changed", &st, 0));
	ASSERT_EQ(st.st_mode & 07777, (mode_t)0755);
	ASSERT_OK(fstatat(lower, "nd/f", &st, 0));
	ASSERT_EQ(st.st_mode & 07777, (mode_t)0644); /* no set-uid from the sandbox */
	ASSERT_OK(fstatat(lower, "nd/l", &st, AT_SYMLINK_NOFOLLOW));
	ASSERT_TRUE(S_ISLNK(st.st_mode));
	ASSERT_OK(fstatat(lower, "was-dir", &st, AT_SYMLINK_NOFOLLOW));
	ASSERT_TRUE(S_ISREG(st.st_mode));
	ASSERT_ERR(fstatat(lower, "deleted", &st, 0) < 0 ? -errno : 0, ENOENT);
	/* the layer is empty afterwards, the start time gone */
	ASSERT_ERR(fstatat(upper, "changed", &st, 0) < 0 ? -errno : 0, ENOENT);
	ASSERT_ERR(fstatat(review, "start", &st, 0) < 0 ? -errno : 0, ENOENT);
	review_list_free(&l);
}

TEST(apply_refuses_symlinked_parent)
{
	_cleanup_close_ int lower = -EBADF, upper = -EBADF, review = -EBADF;
	struct review_list l = {};
	const char *bad = NULL;

	layers(&lower, &upper, &review);
	ASSERT_OK(mkdirat(lower, "d", 0755));
	ASSERT_OK(mkdirat(upper, "d", 0755));
	put_file(upper, "d/f", "f\n", 0644);
	ASSERT_OK(review_scan(upper, lower, &l));
	/* the host swaps the directory for a symlink out of the workspace meanwhile */
	ASSERT_OK(unlinkat(lower, "d", AT_REMOVEDIR));
	ASSERT_OK(symlinkat("/tmp", lower, "d"));
	ASSERT_TRUE(review_apply(review, upper, lower, &l, &bad) < 0); /* ENOTDIR or ELOOP */
	ASSERT_STREQ(bad, "d/f");
	ASSERT_EQ(review_pending(review), 0); /* refused before the journal */
	review_list_free(&l);
}

int main(void)
{
	int r;

	if (!mkdtemp(tmpdir))
		return 1;
	base_fd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = tap_run();
	{
		_cleanup_free_ char *parent = xstrdup(tmpdir);
		_cleanup_close_ int pfd = -EBADF;

		*strrchr(parent, '/') = '\0';
		pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		(void)rm_rf_at(pfd, strrchr(tmpdir, '/') + 1);
	}
	return r;
}
