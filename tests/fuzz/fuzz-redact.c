/* SPDX-License-Identifier: MIT */
/*
 * fuzz-redact.c - libFuzzer target for the redaction of real values in answers
 *
 * Input: a byte that sets the piece size (1-64) and whether the stream pauses (a flush)
 * after each piece, then the answer's bytes. Besides not crashing: what comes out has the
 * length that went in, and, when the stream never pauses, holds no whole real value.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/xmalloc.h"
#include "proxy/inject.h"
#include "proxy/redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const values[] = { "sk-fuzz-value-0123456789", "tok+/=~ value" };

static struct inject_table *table(void)
{
	static struct inject_table *t;
	char *hosts[] = { "a.example", NULL };

	if (t)
		return t;
	t = inject_table_new();
	PADDOCK_ASSERT(inject_table_add(t, "ONE", "pdk_one_0123456789abcdef0123456789abcdef",
					values[0], strlen(values[0]), hosts, NULL, NULL) == 0);
	PADDOCK_ASSERT(inject_table_add(t, "TWO", "pdk_two_0123456789abcdef0123456789abcdef",
					values[1], strlen(values[1]), hosts, NULL, NULL) == 0);
	return t;
}

static void put(char *out, size_t *olen, const struct iovec *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		memcpy(out + *olen, v[i].iov_base, v[i].iov_len);
		*olen += v[i].iov_len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct redact r;
	struct iovec v[2];
	size_t piece, len, olen = 0;
	bool pauses;
	char *work, *out;

	if (size < 1)
		return 0;
	piece = (size_t)(data[0] & 63u) + 1;
	pauses = data[0] & 64u;
	len = size - 1;
	work = xmalloc(len + 1);
	out = xmalloc(len + 1);
	memcpy(work, data + 1, len);
	redact_init(&r, table(), "a.example", 443);
	for (size_t off = 0; off < len; off += piece) {
		put(out, &olen, v, redact_stream(&r, work + off, MIN(piece, len - off), v));
		if (pauses)
			put(out, &olen, v, redact_flush(&r, v));
	}
	put(out, &olen, v, redact_flush(&r, v));
	PADDOCK_ASSERT(olen == len);
	if (!pauses)
		for (size_t i = 0; i < ELEMENTSOF(values); i++)
			PADDOCK_ASSERT(!memmem(out, olen, values[i], strlen(values[i])));
	redact_done(&r);
	free(work);
	free(out);
	return 0;
}
