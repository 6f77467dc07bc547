/* SPDX-License-Identifier: MIT */
/*
 * fuzz-http1.c - libFuzzer target for the HTTP/1.x request-head parser
 *
 * Besides not crashing, a parsed head must be self-consistent: it ends with an empty line
 * within the input and the limit, holds no NUL, CR or LF outside line ends, every span lies
 * inside it, and it parses to the same length when given exactly its own bytes, while every
 * shorter prefix of it is merely incomplete.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/macro.h"
#include "proxy/http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool span_inside(struct http_span s, const char *buf, size_t len)
{
	if (!s.p)
		return s.len == 0;
	return s.p >= buf && s.len <= len && (size_t)(s.p - buf) <= len - s.len;
}

static bool span_clean(struct http_span s)
{
	return !s.p || (!memchr(s.p, '\0', s.len) && !memchr(s.p, '\r', s.len) &&
			!memchr(s.p, '\n', s.len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_head h, h2;
	const char *buf = (const char *)data, *why = NULL;
	int r, r2;
	size_t n;

	r = http1_parse_head(buf, size, &h, &why);
	if (r < 0) {
		PADDOCK_ASSERT(r == -EAGAIN || r == -EBADMSG || r == -E2BIG ||
			       r == -EPROTONOSUPPORT);
		PADDOCK_ASSERT(r == -EAGAIN || (why && *why));
		return 0;
	}
	n = (size_t)r;
	PADDOCK_ASSERT(n == h.head_len && n >= 4 && n <= size && n <= HTTP1_HEAD_MAX);
	PADDOCK_ASSERT(memcmp(buf + n - 4, "\r\n\r\n", 4) == 0);
	PADDOCK_ASSERT(!memchr(buf, '\0', n));
	PADDOCK_ASSERT(h.n_fields <= HTTP1_FIELDS_MAX);
	PADDOCK_ASSERT(h.method >= 0 && h.method < _HTTP_METHOD_MAX);
	PADDOCK_ASSERT(h.version_minor <= 1);
	PADDOCK_ASSERT(h.version_minor == 0 || h.has_host);
	PADDOCK_ASSERT(h.body != HTTP_BODY_CHUNKED || h.version_minor == 1);
	PADDOCK_ASSERT(h.body == HTTP_BODY_LENGTH || h.content_length == 0);
	PADDOCK_ASSERT(h.content_length <= INT64_MAX);
	PADDOCK_ASSERT(span_inside(h.method_str, buf, n) && span_clean(h.method_str));
	PADDOCK_ASSERT(span_inside(h.target.path, buf, n) && span_clean(h.target.path));
	PADDOCK_ASSERT(span_inside(h.target.authority.host, buf, n));
	PADDOCK_ASSERT(span_inside(h.host.host, buf, n));
	PADDOCK_ASSERT(!h.has_host ||
		       (h.host.host.len > 0 && h.host.host.len <= HTTP1_HOST_MAX &&
			!memchr(h.host.host.p, '@', h.host.host.len) && span_clean(h.host.host)));
	PADDOCK_ASSERT(span_inside(h.upgrade, buf, n));
	for (size_t i = 0; i < h.n_fields; i++) {
		PADDOCK_ASSERT(span_inside(h.fields[i].name, buf, n) && h.fields[i].name.len > 0);
		PADDOCK_ASSERT(span_inside(h.fields[i].value, buf, n));
		PADDOCK_ASSERT(span_clean(h.fields[i].name) && span_clean(h.fields[i].value));
	}
	/* the Host, if any, names the target's host: the proxy relies on it */
	if (h.has_host &&
	    (h.target.form == HTTP_TARGET_ABSOLUTE || h.target.form == HTTP_TARGET_AUTHORITY))
		PADDOCK_ASSERT(http1_name_equal(h.host.host.p, h.host.host.len,
						h.target.authority.host.p,
						h.target.authority.host.len));

	r2 = http1_parse_head(buf, n, &h2, &why);
	PADDOCK_ASSERT(r2 == r);
	for (size_t k = n > 64 ? n - 64 : 0; k < n; k++)
		PADDOCK_ASSERT(http1_parse_head(buf, k, &h2, &why) == -EAGAIN);
	return 0;
}
