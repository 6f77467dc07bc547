/* SPDX-License-Identifier: MIT */
/*
 * fuzz-inject.c - libFuzzer target for placeholder swapping and the stream scanner
 *
 * Input: a flags byte (bit 0: the connection was terminated; bits 1-2: which host the
 * request goes to), a split position, then a request head (and whatever follows it).
 *
 * Besides not crashing: a head with no placeholder anywhere comes back untouched (0); a
 * refused one reports at least one leak and no edits; a swapped one rewrites into a head that
 * parses and holds no placeholder. The scanner, fed the input in
 * two pieces or byte by byte, finds a placeholder exactly when the whole input holds one.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/xmalloc.h"
#include "proxy/inject.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const placeholders[] = {
	"pdk_openai_key_0123456789abcdef0123456789abcdef",
	"pdk_gh_token_fedcba9876543210fedcba9876543210",
	"pdk_hdr_only_00000000000000000000000000000001",
};
static const char *const hosts[] = { "api.openai.com", "github.com", "h.example", "evil.example" };

static struct inject_table *table(void)
{
	static struct inject_table *t;
	char *oai_hosts[] = { "api.openai.com", NULL };
	char *gh_hosts[] = { "*.github.com", "github.com:443", NULL };
	char *hdr_hosts[] = { "h.example", NULL };
	char *hdr_headers[] = { "Authorization", "X-Api-Key", NULL };

	if (t)
		return t;
	t = inject_table_new();
	PADDOCK_ASSERT(inject_table_add(t, "OPENAI_KEY", placeholders[0], "sk-real+/= x", 12,
					oai_hosts, NULL, NULL) == 0);
	PADDOCK_ASSERT(inject_table_add(t, "gh-token", placeholders[1], "ghp_real", 8, gh_hosts,
					NULL, NULL) == 0);
	PADDOCK_ASSERT(inject_table_add(t, "hdr_only", placeholders[2], "hdr-real", 8, hdr_hosts,
					hdr_headers, NULL) == 0);
	return t;
}

static bool holds_placeholder(const char *p, size_t len)
{
	for (size_t i = 0; i < ELEMENTSOF(placeholders); i++)
		if (memmem(p, len, placeholders[i], strlen(placeholders[i])))
			return true;
	return false;
}

static void check_scan(const struct inject_table *t, const char *p, size_t len, size_t split)
{
	bool want = holds_placeholder(p, len), got = false;
	struct inject_scan st;

	split = MIN(split, len);
	inject_scan_init(&st, t);
	got |= inject_scan(&st, p, split) != NULL;
	got |= inject_scan(&st, p + split, len - split) != NULL;
	PADDOCK_ASSERT(got == want);
	if (len <= 512) {
		got = false;
		inject_scan_init(&st, t);
		for (size_t i = 0; i < len; i++)
			got |= inject_scan(&st, p + i, 1) != NULL;
		PADDOCK_ASSERT(got == want);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct inject_table *t = table();
	static struct http_head h, h2;
	struct inject_result res = {};
	const char *buf, *host, *why = NULL;
	bool terminated;
	size_t len;
	int r, n;

	if (size < 2)
		return 0;
	terminated = data[0] & 1;
	host = hosts[(data[0] >> 1) & 3];
	buf = (const char *)data + 2;
	len = size - 2;
	check_scan(t, buf, len, data[1]);

	n = http1_parse_head(buf, len, &h, &why);
	if (n <= 0)
		return 0;
	r = inject_head(t, &h, host, 443, terminated, &res);
	if (r == 0) {
		PADDOCK_ASSERT(!holds_placeholder(buf, (size_t)n));
		PADDOCK_ASSERT(res.n_edits == 0 && res.n_hits == 0);
	} else if (r == -EACCES) {
		PADDOCK_ASSERT(res.n_hits > 0 && res.n_edits == 0);
		for (size_t i = 0; i < res.n_hits; i++)
			PADDOCK_ASSERT(res.hits[i].secret &&
				       inject_where_to_string(res.hits[i].where));
	} else if (r > 0) {
		struct h1_rewrite rw = { host, 443, res.edits, res.n_edits };
		struct h1_buf out = {};

		PADDOCK_ASSERT(terminated && res.n_edits > 0 && res.n_hits > 0);
		r = h1_head_rewrite(&h, &rw, &out, &why);
		PADDOCK_ASSERT(r == 0 || r == -EPERM || r == -E2BIG);
		if (r == 0) {
			PADDOCK_ASSERT(http1_parse_head(out.p, out.len, &h2, &why) == (int)out.len);
			PADDOCK_ASSERT(!holds_placeholder(out.p, out.len));
		}
		h1_buf_done(&out);
	} else
		PADDOCK_ASSERT(r == -E2BIG);
	inject_result_done(&res);
	return 0;
}
