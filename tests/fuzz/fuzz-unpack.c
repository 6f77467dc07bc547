/* SPDX-License-Identifier: MIT */
/*
 * fuzz-unpack.c - libFuzzer target for store/unpack.c: archive entry names and whole archives
 *
 * The input is used twice:
 * - as an entry name (cut at the first NUL): unpack_path_clean() either refuses it or returns
 *   a relative path with no empty, "." or ".." component that is not longer than the input,
 *   and cleaning it again gives the same path; unpack_whiteout_classify() of that path names
 *   a target that is a prefix-derived path of the same length or shorter;
 * - as an archive (tar, possibly compressed, possibly an OCI layout), extracted into a fresh
 *   scratch directory: whatever happens, nothing appears next to that directory (the
 *   extraction never leaves its tree), and the result is 0 or a negative errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fd.h"
#include "common/macro.h"
#include "common/xmalloc.h"
#include "store/sandbox.h"
#include "store/unpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const uint8_t *data, size_t size)
{
	char *name = xstrndup((const char *)data, size);
	char *clean = NULL, *again = NULL, *target = NULL;
	const char *why = NULL;
	enum unpack_whiteout kind;

	if (unpack_path_clean(name, &clean, &why) < 0) {
		PADDOCK_ASSERT(why);
		goto out;
	}
	if (!clean)
		goto out;
	PADDOCK_ASSERT(clean[0] != '/' && strlen(clean) <= strlen(name));
	PADDOCK_ASSERT(!strstr(clean, "//") && clean[strlen(clean) - 1] != '/');
	for (const char *p = clean; *p;) {
		const char *e = strchrnul(p, '/');
		size_t k = (size_t)(e - p);

		PADDOCK_ASSERT(k > 0 && !(k == 1 && p[0] == '.') &&
			       !(k == 2 && p[0] == '.' && p[1] == '.'));
		p = *e ? e + 1 : e;
	}
	PADDOCK_ASSERT(unpack_path_clean(clean, &again, &why) == 0 && again && streq(again, clean));
	if (unpack_whiteout_classify(clean, &kind, &target) == 0 && kind != UNPACK_WH_NONE)
		PADDOCK_ASSERT(target && strlen(target) < strlen(clean));
out:
	free(name);
	free(clean);
	free(again);
	free(target);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char base[] = "/tmp/fuzz-unpack-XXXXXX";
	static int basefd = -1;
	struct unpack_result res = {};
	_cleanup_close_ int fd = -EBADF, dfd = -EBADF;
	struct stat st;
	int r;

	check_name(data, size);

	if (basefd < 0) {
		PADDOCK_ASSERT(mkdtemp(base));
		basefd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		PADDOCK_ASSERT(basefd >= 0);
	}
	PADDOCK_ASSERT(mkdirat(basefd, "t", 0700) == 0);
	dfd = openat(basefd, "t", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fd = memfd_create("archive", MFD_CLOEXEC);
	PADDOCK_ASSERT(dfd >= 0 && fd >= 0);
	PADDOCK_ASSERT(loop_write(fd, data, size) >= 0 && lseek(fd, 0, SEEK_SET) == 0);
	r = unpack_image(dfd, fd, NULL, &res);
	PADDOCK_ASSERT(r <= 0);
	unpack_result_done(&res);
	/* nothing escaped: the base holds only "t" */
	PADDOCK_ASSERT(fstatat(basefd, "t", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode));
	{
		_cleanup_close_ int d2 = openat(basefd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d = fdopendir(d2);
		int n = 0;

		PADDOCK_ASSERT(d);
		d2 = -EBADF;
		for (struct dirent *de; (de = readdir(d));)
			if (!dot_or_dot_dot(de->d_name))
				n++;
		(void)closedir(d);
		PADDOCK_ASSERT(n == 1);
	}
	PADDOCK_ASSERT(rm_rf_at(basefd, "t") == 0);
	return 0;
}
