/* SPDX-License-Identifier: MIT */
/*
 * fuzz-limits.c - libFuzzer target for the cgroup file parsers of sandbox/limits.c
 *
 * The input is the text of /proc/self/mountinfo, cgroup.events, memory.events or a controller
 * list (any bytes; cut at the first NUL, as read_file_at() gives a C string). Invariants:
 * - a cgroup2 mount found is an absolute path without an escape left in it or a NUL cut
 *   short, and its root is absolute;
 * - limits_parse_keyed() agrees with itself: a value found for "frozen" is the same whether
 *   asked once or twice, and a missing key is -ENOENT;
 * - limits_parse_controllers() sets only the bits of the controllers we know.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/xmalloc.h"
#include "sandbox/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	char *mnt = NULL, *root = NULL;
	uint64_t a = 0, b = 0;
	int r, q;

	r = limits_parse_mountinfo(text, &mnt, &root);
	PADDOCK_ASSERT(r == 0 || r == -ENOENT || r == -EBADMSG);
	if (r == 0) {
		PADDOCK_ASSERT(mnt && mnt[0] == '/' && root && root[0] == '/');
		PADDOCK_ASSERT(strlen(mnt) <= size && strlen(root) <= size);
	}
	free(mnt);
	free(root);
	(void)limits_mountinfo_v1_has(text, "memory");

	r = limits_parse_keyed(text, "frozen", &a);
	q = limits_parse_keyed(text, "frozen", &b);
	PADDOCK_ASSERT(r == q && (r < 0 || a == b));
	PADDOCK_ASSERT(r == 0 || r == -ENOENT || r == -EBADMSG);
	if (!strstr(text, "frozen "))
		PADDOCK_ASSERT(r == -ENOENT);
	(void)limits_parse_keyed(text, "oom_kill", &a);

	PADDOCK_ASSERT((limits_parse_controllers(text) & ~((1U << _LIMITS_CTRL_MAX) - 1)) == 0);
	free(text);
	return 0;
}
