/* SPDX-License-Identifier: MIT */
/*
 * test-redact.c - a bound host's answers never carry a real value back: whole values, their
 * encodings, values split across pieces at every point, cut-short values at message ends
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/xmalloc.h"
#include "proxy/inject.h"
#include "proxy/redact.h"
#include "tap.h"

/* An assertion that says what it checks when it fails */
#define CHECK(x, ...)                                                                              \
	do {                                                                                       \
		bool check_ = (x);                                                                 \
                                                                                                   \
		if (!check_) {                                                                     \
			fprintf(stderr, "# failed: " __VA_ARGS__);                                 \
			fputc('\n', stderr);                                                       \
		}                                                                                  \
		ASSERT_TRUE(check_);                                                               \
	} while (0)

#define REAL  "sk-live-0123456789abcdefghijKLMNOP"
#define REAL2 "tok+with/odd=chars~and spaces"
#define PH1   "pdk_api_key_0123456789abcdef0123456789abcdef"
#define PH2   "pdk_other_fedcba9876543210fedcba9876543210"

static struct inject_table *table(void)
{
	struct inject_table *t = inject_table_new();
	char *hosts[] = { "api.example", NULL };
	char *hosts2[] = { "other.example", "api.example", NULL };

	PADDOCK_ASSERT(inject_table_add(t, "API_KEY", PH1, REAL, strlen(REAL), hosts, NULL, NULL) ==
		       0);
	PADDOCK_ASSERT(
		inject_table_add(t, "OTHER", PH2, REAL2, strlen(REAL2), hosts2, NULL, NULL) == 0);
	return t;
}

/* Feed @in in pieces of @piece bytes (0: whole), then flush; the output, NUL-terminated */
static char *feed(struct redact *r, const char *in, size_t piece)
{
	size_t len = strlen(in), olen = 0;
	char *work = xstrdup(in), *out = xmalloc(len + 1);
	struct iovec v[2];

	if (piece == 0)
		piece = len ? len : 1;
	for (size_t off = 0; off < len; off += piece) {
		size_t n = redact_stream(r, work + off, MIN(piece, len - off), v);

		for (size_t i = 0; i < n; i++) {
			memcpy(out + olen, v[i].iov_base, v[i].iov_len);
			olen += v[i].iov_len;
		}
	}
	if (redact_flush(r, v) == 1) {
		memcpy(out + olen, v[0].iov_base, v[0].iov_len);
		olen += v[0].iov_len;
	}
	PADDOCK_ASSERT(olen == len);
	out[olen] = '\0';
	free(work);
	return out;
}

static bool redacted_at(const char *out, size_t at, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (out[at + i] != REDACT_CHAR)
			return false;
	return true;
}

static void b64(const char *in, size_t len, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)(unsigned char)in[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)(unsigned char)in[i + 1] << 8;
		if (i + 2 < len)
			v |= (unsigned char)in[i + 2];
		out[o++] = a[(v >> 18) & 63];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = i + 1 < len ? a[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? a[v & 63] : '=';
	}
	out[o] = '\0';
}

TEST(redact)
{
	struct inject_table *t = table();
	struct redact r;
	char *out, buf[1024];
	bool all;

	redact_init(&r, t, "unbound.example", 443);
	CHECK(!redact_active(&r), "a host with no secret bound: nothing is checked");
	redact_done(&r);

	redact_init(&r, t, "api.example", 443);
	CHECK(redact_active(&r), "a bound host's answers are checked");

	/* whole value, one piece */
	snprintf(buf, sizeof(buf), "{\"echo\":\"Bearer %s\"}", REAL);
	out = feed(&r, buf, 0);
	CHECK(!strstr(out, REAL) && redacted_at(out, 16, strlen(REAL)),
	      "a whole value is overwritten with as many '*'");
	CHECK(strncmp(out, "{\"echo\":\"Bearer ", 16) == 0 &&
		      strcmp(out + 16 + strlen(REAL), "\"}") == 0,
	      "the bytes around it are untouched");
	CHECK(streq(redact_take_hit(&r), "API_KEY"), "the hit names the secret");
	CHECK(redact_take_hit(&r) == NULL, "and is taken once");
	free(out);

	/* every split point, and byte by byte */
	snprintf(buf, sizeof(buf), "abc %s def %s ghi", REAL, REAL2);
	all = true;
	for (size_t piece = 1; piece <= strlen(buf); piece++) {
		out = feed(&r, buf, piece);
		all &= !strstr(out, REAL) && !strstr(out, REAL2) && strncmp(out, "abc ", 4) == 0 &&
		       redacted_at(out, 4, strlen(REAL));
		free(out);
	}
	CHECK(all, "a value split across pieces is found at every piece size (1 byte and up)");
	(void)redact_take_hit(&r);

	/* two pieces, at every split */
	snprintf(buf, sizeof(buf), "xx%syy", REAL);
	all = true;
	for (size_t split = 1; split < strlen(buf); split++) {
		char *work = xstrdup(buf), got[512];
		size_t olen = 0, n;
		struct iovec v[2];

		n = redact_stream(&r, work, split, v);
		for (size_t i = 0; i < n; i++)
			memcpy(got + olen, v[i].iov_base, v[i].iov_len), olen += v[i].iov_len;
		n = redact_stream(&r, work + split, strlen(buf) - split, v);
		for (size_t i = 0; i < n; i++)
			memcpy(got + olen, v[i].iov_base, v[i].iov_len), olen += v[i].iov_len;
		if (redact_flush(&r, v))
			memcpy(got + olen, v[0].iov_base, v[0].iov_len), olen += v[0].iov_len;
		got[olen] = '\0';
		all &= olen == strlen(buf) && redacted_at(got, 2, strlen(REAL)) && got[0] == 'x' &&
		       got[olen - 1] == 'y';
		free(work);
	}
	CHECK(all, "two pieces split anywhere: redacted, length kept");

	(void)redact_take_hit(&r);

	/* nothing to find: unchanged, nothing held after a flush */
	out = feed(&r, "plain text with sk- and tok+ prefixes, nothing more", 5);
	CHECK(streq(out, "plain text with sk- and tok+ prefixes, nothing more"),
	      "text without a value passes unchanged");
	CHECK(redact_take_hit(&r) == NULL, "and is no hit");
	free(out);

	/* a held prefix is given at a pause, unchanged when short */
	{
		char work[] = "data: sk-";
		struct iovec v[2];
		size_t n = redact_stream(&r, work, strlen(work), v), sent = 0;

		for (size_t i = 0; i < n; i++)
			sent += v[i].iov_len;
		CHECK(sent == 6, "a tail that could start a value is held back (\"sk-\")");
		n = redact_flush(&r, v);
		CHECK(n == 1 && v[0].iov_len == 3 && memcmp(v[0].iov_base, "sk-", 3) == 0,
		      "and given at the flush, unchanged: too short to be a secret");
	}

	/* encodings */
	{
		char cred[256], enc[512];

		snprintf(cred, sizeof(cred), "user:%s", REAL);
		b64(cred, strlen(cred), enc);
		snprintf(buf, sizeof(buf), "{\"auth\":\"Basic %s\"}", enc);
		out = feed(&r, buf, 7);
		CHECK(!strstr(out, enc) && strchr(out, REDACT_CHAR),
		      "the value inside base64 is redacted");
		free(out);
		for (size_t pre = 0; pre < 3; pre++) {
			char in[256];

			snprintf(in, sizeof(in), "%.*s%s", (int)pre, "ab", REAL2);
			b64(in, strlen(in), enc);
			out = feed(&r, enc, 0);
			CHECK(strchr(out, REDACT_CHAR) != NULL,
			      "base64 of a value after %zu other bytes is redacted", pre);
			free(out);
		}
		out = feed(&r, "q=tok%2Bwith%2Fodd%3Dchars~and%20spaces&x=1", 4);
		CHECK(!strstr(out, "tok%2Bwith") && strncmp(out, "q=", 2) == 0 &&
			      strstr(out, "&x=1"),
		      "the percent-encoded value (as the query carried it) is redacted");
		free(out);
	}
	(void)redact_take_hit(&r);

	/* values cut short at the ends of a message */
	snprintf(buf, sizeof(buf), "head %.*s", 20, REAL);
	out = feed(&r, buf, 3);
	CHECK(redacted_at(out, 5, 20),
	      "the first 20 bytes of a value at a message's end are redacted");
	free(out);
	snprintf(buf, sizeof(buf), "%s tail", REAL + 10);
	out = feed(&r, buf, 0);
	CHECK(redacted_at(out, 0, strlen(REAL) - 10) &&
		      strcmp(out + strlen(REAL) - 10, " tail") == 0,
	      "the last bytes of a value at a message's start are redacted");
	free(out);
	CHECK(redact_take_hit(&r) != NULL, "cut-short values are hits");

	/* a head */
	snprintf(buf, sizeof(buf), "HTTP/1.1 401 No\r\nX-Echo: %s\r\n\r\n", REAL);
	CHECK(redact_buf(&r, buf, strlen(buf)) == 1 && !strstr(buf, REAL),
	      "a value in a response head is redacted");
	CHECK(strncmp(buf, "HTTP/1.1 401 No\r\nX-Echo: ", 25) == 0, "the head keeps its shape");
	redact_done(&r);

	/* a host bound to only the second secret does not redact the first */
	redact_init(&r, t, "other.example", 443);
	snprintf(buf, sizeof(buf), "%s %s", REAL, REAL2);
	out = feed(&r, buf, 0);
	CHECK(strncmp(out, REAL, strlen(REAL)) == 0 && !strstr(out, REAL2),
	      "only the values of the secrets bound to the host are looked for");
	free(out);
	redact_done(&r);

	/* random text with values at random places and random pieces */
	{
		unsigned seed = 12345;

		all = true;
		redact_init(&r, t, "api.example", 443);
		for (int round = 0; round < 2000; round++) {
			char in[400];
			size_t len = 0, piece;

			while (len < 300) {
				seed = seed * 1103515245u + 12345u;
				if ((seed >> 16) % 10 == 0) {
					memcpy(in + len, REAL, strlen(REAL));
					len += strlen(REAL);
				} else {
					in[len++] = "sk-tok+ab 0\n"[(seed >> 20) % 12];
				}
			}
			in[len] = '\0';
			seed = seed * 1103515245u + 12345u;
			piece = 1 + (seed >> 16) % 40;
			out = feed(&r, in, piece);
			all &= strlen(out) == len && !strstr(out, REAL);
			free(out);
		}
		CHECK(all,
		      "2000 random texts in random pieces: never the value, length always kept");
		redact_done(&r);
	}

	inject_table_free(t);
}

int main(void)
{
	return tap_run();
}
