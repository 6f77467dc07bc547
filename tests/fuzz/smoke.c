/* SPDX-License-Identifier: MIT */
/*
 * smoke.c - run a fuzz target over its corpus without libFuzzer
 *
 * Built in every configuration, so the seeds and every crash reproducer checked in under
 * tests/fuzz/corpus/NAME/ are a regression test of every build. Usage: smoke DIR...
 * Prints TAP, one test point per file.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fd.h"
#include "common/strv.h"
#include "common/xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	_cleanup_strv_free_ char **files = NULL;
	size_t n = 0;

	for (int i = 1; i < argc; i++) {
		_cleanup_closedir_ DIR *d = opendir(argv[i]);
		struct dirent *de;

		if (!d) {
			printf("Bail out! cannot open %s\n", argv[i]);
			return 1;
		}
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				strv_push(&files, xasprintf("%s/%s", argv[i], de->d_name));
	}
	if (!files) { /* no corpus file; qsort() must not see NULL */
		printf("1..0\n");
		return 0;
	}
	n = strv_length(files);
	qsort(files, n, sizeof(char *), cmp);
	printf("1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *buf = NULL;
		size_t len = 0;
		int r = read_file_at(AT_FDCWD, files[i], 4 * 1024 * 1024, &buf, &len);

		if (r < 0) {
			printf("not ok %zu - %s: cannot read\n", i + 1, files[i]);
			continue;
		}
		fflush(stdout);
		(void)LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
		printf("ok %zu - %s\n", i + 1, files[i]);
	}
	return 0;
}
