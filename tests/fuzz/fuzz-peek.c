/* SPDX-License-Identifier: MIT */
/*
 * fuzz-peek.c - libFuzzer target for the first-bytes classifier (TLS ClientHello, HTTP)
 *
 * Besides not crashing or leaking: an SNI is 1-255 printable ASCII bytes; a TLS or HTTP
 * result is reproduced from exactly the bytes it consumed, and one byte less is NEED_MORE of
 * the same guess (so a truncated hello never yields a different SNI); a NEED_MORE guessing
 * OTHER never turns into TLS or HTTP with more bytes of the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/macro.h"
#include "proxy/peek.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct peek_result r, r2;
	const char *why = NULL;
	int k, k2;

	k = peek_classify(data, size, &r, &why);
	if (k < 0) {
		PADDOCK_ASSERT(k == -EBADMSG || k == -E2BIG || k == -EPROTONOSUPPORT);
		PADDOCK_ASSERT(why && *why);
		return 0;
	}
	PADDOCK_ASSERT(k == (int)r.kind && k < _PEEK_KIND_MAX);
	PADDOCK_ASSERT(k == PEEK_NEED_MORE || r.guess == r.kind);
	if (r.sni) {
		size_t n = strlen(r.sni);

		PADDOCK_ASSERT(k == PEEK_TLS && n >= 1 && n <= PEEK_SNI_MAX);
		for (size_t i = 0; i < n; i++)
			PADDOCK_ASSERT(r.sni[i] > 0x20 && r.sni[i] < 0x7f);
		PADDOCK_ASSERT(peek_sni_matches(&r, r.sni));
	}
	if (k == PEEK_TLS || k == PEEK_HTTP) {
		PADDOCK_ASSERT(r.consumed > 0 && r.consumed <= size);
		k2 = peek_classify(data, r.consumed, &r2, &why);
		PADDOCK_ASSERT(k2 == k && r2.consumed == r.consumed);
		PADDOCK_ASSERT(streq_ptr(r.sni, r2.sni));
		peek_result_done(&r2);
		k2 = peek_classify(data, r.consumed - 1, &r2, &why);
		PADDOCK_ASSERT(k2 == PEEK_NEED_MORE && (r.consumed == 1 || r2.guess == r.kind));
		peek_result_done(&r2);
	}
	if (k == PEEK_NEED_MORE && r.guess == PEEK_OTHER && size > 0) {
		/* an SSLv2-like prefix: whatever follows, never TLS or HTTP */
		PADDOCK_ASSERT(data[0] & 0x80);
	}
	peek_result_done(&r);
	return 0;
}
