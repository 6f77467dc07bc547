/* SPDX-License-Identifier: MIT */
/*
 * test-inject.c - placeholders: generation, swapping in headers, Basic credentials and the
 * query for bound hosts only, refusal everywhere else, the streaming scanner
 */
#include "common/cleanup.h"
#include "common/xmalloc.h"
#include "proxy/inject.c"
#include "tap.h"

#define PH_OPENAI "pdk_openai_key_0123456789abcdef0123456789abcdef"
#define PH_GH     "pdk_gh_token_fedcba9876543210fedcba9876543210"
#define PH_HDR    "pdk_hdr_only_00000000000000000000000000000001"
#define REAL_OAI  "sk-real+value/with=odd chars"
#define REAL_GH   "ghp_realtoken"
#define REAL_HDR  "hdr-real"

static struct inject_table *table(void)
{
	struct inject_table *t = inject_table_new();
	char *oai_hosts[] = { "api.openai.com", NULL };
	char *gh_hosts[] = { "*.github.com", "github.com:443", NULL };
	char *hdr_hosts[] = { "h.example", NULL };
	char *hdr_headers[] = { "Authorization", "X-Api-Key", NULL };
	const char *why = NULL;

	PADDOCK_ASSERT(inject_table_add(t, "OPENAI_KEY", PH_OPENAI, REAL_OAI, strlen(REAL_OAI),
					oai_hosts, NULL, &why) == 0);
	PADDOCK_ASSERT(inject_table_add(t, "gh-token", PH_GH, REAL_GH, strlen(REAL_GH), gh_hosts,
					NULL, &why) == 0);
	PADDOCK_ASSERT(inject_table_add(t, "hdr_only", PH_HDR, REAL_HDR, strlen(REAL_HDR),
					hdr_hosts, hdr_headers, &why) == 0);
	return t;
}

/*
 * Inject into @head for @host:443 and rewrite it; returns inject_head()'s result and the
 * rewritten head in @ret_out (NULL unless > 0).
 */
static int run(const struct inject_table *t, const char *head, const char *host, bool terminated,
	       struct inject_result *res, char **ret_out)
{
	struct http_head h;
	const char *why = NULL;
	int r;

	*ret_out = NULL;
	PADDOCK_ASSERT(http1_parse_head(head, strlen(head), &h, &why) > 0);
	r = inject_head(t, &h, host, 443, terminated, res);
	if (r > 0) {
		struct h1_rewrite rw = { host, 443, res->edits, res->n_edits };
		struct h1_buf b = {};

		PADDOCK_ASSERT(h1_head_rewrite(&h, &rw, &b, &why) == 0);
		*ret_out = xstrndup(b.p, b.len);
		h1_buf_done(&b);
	}
	return r;
}

static bool hit_is(const struct inject_hit *hit, const char *secret, enum inject_where where,
		   const char *field)
{
	if (!streq(hit->secret, secret) || hit->where != where)
		return false;
	if (!field)
		return hit->field.len == 0;
	return hit->field.len == strlen(field) &&
	       strncasecmp(hit->field.p, field, hit->field.len) == 0;
}

TEST(placeholder_new)
{
	_cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;
	struct inject_table *t = inject_table_new();
	char *hosts[] = { "a.example", NULL };

	ASSERT_OK(inject_placeholder_new("OPENAI_API-Key", &a));
	ASSERT_OK(inject_placeholder_new("OPENAI_API-Key", &b));
	ASSERT_NOT_NULL(a);
	ASSERT_NOT_NULL(b);
	ASSERT_EQ(strlen(a), STRLEN("pdk_openai_api_key_") + 32);
	ASSERT_TRUE(strncmp(a, "pdk_openai_api_key_", 19) == 0);
	ASSERT_TRUE(strspn(a + 19, "0123456789abcdef") == 32);
	ASSERT_FALSE(streq(a, b));
	ASSERT_TRUE(placeholder_is_valid(a));
	ASSERT_OK(inject_table_add(t, "OPENAI_API-Key", a, "v", 1, hosts, NULL, NULL));
	/* the same name or placeholder twice */
	ASSERT_ERR(inject_table_add(t, "OPENAI_API-Key", b, "v", 1, hosts, NULL, NULL), EINVAL);
	ASSERT_ERR(inject_table_add(t, "other", a, "v", 1, hosts, NULL, NULL), EINVAL);

	ASSERT_ERR(inject_placeholder_new("", &c), EINVAL);
	ASSERT_ERR(inject_placeholder_new("a b", &c), EINVAL);
	ASSERT_ERR(inject_placeholder_new("a.b", &c), EINVAL);
	ASSERT_NULL(c);
	inject_table_free(t);
}

TEST(table_add_refuses)
{
	struct inject_table *t = inject_table_new();
	char *hosts[] = { "a.example", NULL };
	char *bad_hosts[] = { "a b", NULL };
	char *no_hosts[] = { NULL };
	char *no_headers[] = { NULL };
	char *bad_headers[] = { "X Y", NULL };
	const char *why = NULL;

	ASSERT_ERR(inject_table_add(t, "s", PH_OPENAI, "a\r\nX: y", 7, hosts, NULL, &why), EINVAL);
	ASSERT_TRUE(strstr(why, "control"));
	ASSERT_ERR(inject_table_add(t, "s", PH_OPENAI, "a\0b", 3, hosts, NULL, &why), EINVAL);
	ASSERT_ERR(inject_table_add(t, "s", PH_OPENAI, "", 0, hosts, NULL, &why), EINVAL);
	ASSERT_ERR(inject_table_add(t, "s", "pdk_s_0123", "v", 1, hosts, NULL, &why), EINVAL);
	ASSERT_ERR(inject_table_add(t, "s", "pdk_s_0123456789ABCDEF0123456789abcdef", "v", 1, hosts,
				    NULL, &why),
		   EINVAL);
	ASSERT_ERR(inject_table_add(t, "s", "xyz_s_0123456789abcdef0123456789abcdef", "v", 1, hosts,
				    NULL, &why),
		   EINVAL);
	ASSERT_ERR(inject_table_add(t, "s", PH_OPENAI, "v", 1, bad_hosts, NULL, &why), EINVAL);
	ASSERT_ERR(inject_table_add(t, "s", PH_OPENAI, "v", 1, no_hosts, NULL, &why), EINVAL);
	ASSERT_ERR(inject_table_add(t, "s", PH_OPENAI, "v", 1, NULL, NULL, &why), EINVAL);
	ASSERT_ERR(inject_table_add(t, "s", PH_OPENAI, "v", 1, hosts, no_headers, &why), EINVAL);
	ASSERT_ERR(inject_table_add(t, "s", PH_OPENAI, "v", 1, hosts, bad_headers, &why), EINVAL);
	ASSERT_ERR(inject_table_add(t, "s/x", PH_OPENAI, "v", 1, hosts, NULL, &why), EINVAL);
	ASSERT_EQ(t->n, 0);
	ASSERT_OK(inject_table_add(t, "s", PH_OPENAI, "v", 1, hosts, NULL, &why));
	inject_table_free(t);
}

TEST(header)
{
	struct inject_table *t = table();
	struct inject_result res = {};
	_cleanup_free_ char *out = NULL;
	int r;

	r = run(t,
		"POST /v1/chat HTTP/1.1\r\nHost: api.openai.com\r\n"
		"Authorization: Bearer " PH_OPENAI "\r\nX-Other: keep\r\n\r\n",
		"api.openai.com", true, &res, &out);
	ASSERT_EQ(r, 1);
	ASSERT_EQ(res.n_hits, 1);
	ASSERT_TRUE(hit_is(&res.hits[0], "OPENAI_KEY", INJECT_WHERE_HEADER, "Authorization"));
	ASSERT_STREQ(out, "POST /v1/chat HTTP/1.1\r\nHost: api.openai.com\r\n"
			  "Authorization: Bearer " REAL_OAI "\r\nX-Other: keep\r\n\r\n");
	inject_result_done(&res);
	ASSERT_NULL(res.edits);

	/* twice in one value, and the host's case and trailing dot do not matter */
	free(out);
	r = run(t,
		"GET / HTTP/1.1\r\nHost: API.openai.com\r\nX: " PH_OPENAI "," PH_OPENAI "\r\n\r\n",
		"API.OpenAI.com.", true, &res, &out);
	ASSERT_EQ(r, 2);
	ASSERT_TRUE(strstr(out, "X: " REAL_OAI "," REAL_OAI "\r\n"));
	inject_result_done(&res);

	/* a wildcard binding */
	free(out);
	r = run(t,
		"GET / HTTP/1.1\r\nHost: api.github.com\r\nAuthorization: token " PH_GH "\r\n\r\n",
		"api.github.com", true, &res, &out);
	ASSERT_EQ(r, 1);
	ASSERT_TRUE(strstr(out, "Authorization: token " REAL_GH "\r\n"));
	inject_result_done(&res);
	inject_table_free(t);
}

/* base64 of @s into a new string */
static char *b64_of(const char *s)
{
	struct sbuf b = {};
	char *r;

	b64_encode((const unsigned char *)s, strlen(s), &b);
	r = xstrndup(b.p ? b.p : "", b.len);
	sbuf_done(&b);
	return r;
}

TEST(basic)
{
	struct inject_table *t = table();
	struct inject_result res = {};
	_cleanup_free_ char *out = NULL, *cred = b64_of("user:" PH_GH), *head = NULL;
	struct sbuf dec = {};
	const char *v, *e;
	int r;

	head = xasprintf("GET /repo.git/info/refs HTTP/1.1\r\nHost: github.com\r\n"
			 "Authorization: Basic %s\r\n\r\n",
			 cred);
	r = run(t, head, "github.com", true, &res, &out);
	ASSERT_EQ(r, 1);
	ASSERT_TRUE(hit_is(&res.hits[0], "gh-token", INJECT_WHERE_BASIC, "authorization"));
	v = strstr(out, "Authorization: Basic ");
	ASSERT_NOT_NULL(v);
	v += STRLEN("Authorization: Basic ");
	e = strstr(v, "\r\n");
	ASSERT_TRUE(b64_decode(v, (size_t)(e - v), &dec));
	ASSERT_EQ(dec.len, strlen("user:" REAL_GH));
	ASSERT_TRUE(memcmp(dec.p, "user:" REAL_GH, dec.len) == 0);
	sbuf_done(&dec);
	inject_result_done(&res);

	/* the same credentials to a host the secret is not bound to */
	free(out);
	free(head);
	head = xasprintf("GET / HTTP/1.1\r\nHost: evil.example\r\nAuthorization: basic %s\r\n\r\n",
			 cred);
	r = run(t, head, "evil.example", true, &res, &out);
	ASSERT_ERR(r, EACCES);
	ASSERT_EQ(res.n_hits, 1);
	ASSERT_TRUE(hit_is(&res.hits[0], "gh-token", INJECT_WHERE_BASIC, "Authorization"));
	ASSERT_EQ(res.n_edits, 0);
	inject_result_done(&res);

	/* base64 round trips, and strictness */
	for (size_t n = 0; n < 8; n++) {
		char in[9] = "abcdefgh";
		_cleanup_free_ char *enc = NULL;

		in[n] = '\0';
		enc = b64_of(in);
		if (n > 0) {
			ASSERT_TRUE(b64_decode(enc, strlen(enc), &dec));
			ASSERT_EQ(dec.len, n);
			ASSERT_TRUE(memcmp(dec.p, in, n) == 0);
			sbuf_done(&dec);
		}
	}
	ASSERT_FALSE(b64_decode("YQ", 2, &dec));
	ASSERT_FALSE(b64_decode("YR==", 4, &dec)); /* stray bits */
	ASSERT_FALSE(b64_decode("Y===", 4, &dec));
	ASSERT_FALSE(b64_decode("YQ==YQ==", 8, &dec));
	ASSERT_FALSE(b64_decode("Y_Q=", 4, &dec));
	sbuf_done(&dec);
	inject_table_free(t);
}

TEST(query)
{
	struct inject_table *t = table();
	struct inject_result res = {};
	_cleanup_free_ char *out = NULL;
	int r;

	r = run(t, "GET /v1/models?key=" PH_OPENAI "&x=1 HTTP/1.1\r\nHost: api.openai.com\r\n\r\n",
		"api.openai.com", true, &res, &out);
	ASSERT_EQ(r, 1);
	ASSERT_TRUE(hit_is(&res.hits[0], "OPENAI_KEY", INJECT_WHERE_QUERY, NULL));
	/* percent-encoded: '+', '/', '=' and ' ' would change the query's meaning */
	ASSERT_STREQ(out, "GET /v1/models?key=sk-real%2Bvalue%2Fwith%3Dodd%20chars&x=1 HTTP/1.1\r\n"
			  "Host: api.openai.com\r\n\r\n");
	inject_result_done(&res);

	/* in the path: refused even for the bound host */
	free(out);
	r = run(t, "GET /bot" PH_OPENAI "/send HTTP/1.1\r\nHost: api.openai.com\r\n\r\n",
		"api.openai.com", true, &res, &out);
	ASSERT_ERR(r, EACCES);
	ASSERT_TRUE(hit_is(&res.hits[0], "OPENAI_KEY", INJECT_WHERE_PATH, NULL));
	inject_result_done(&res);

	/* a secret with a header list is never put in the query */
	r = run(t, "GET /?k=" PH_HDR " HTTP/1.1\r\nHost: h.example\r\n\r\n", "h.example", true,
		&res, &out);
	ASSERT_ERR(r, EACCES);
	ASSERT_TRUE(hit_is(&res.hits[0], "hdr_only", INJECT_WHERE_QUERY, NULL));
	inject_result_done(&res);
	inject_table_free(t);
}

TEST(refused_unbound_host)
{
	struct inject_table *t = table();
	struct inject_result res = {};
	_cleanup_free_ char *out = NULL;
	int r;

	r = run(t, "GET / HTTP/1.1\r\nHost: evil.example\r\nX-Key: " PH_OPENAI "\r\n\r\n",
		"evil.example", true, &res, &out);
	ASSERT_ERR(r, EACCES);
	ASSERT_EQ(res.n_hits, 1);
	ASSERT_TRUE(hit_is(&res.hits[0], "OPENAI_KEY", INJECT_WHERE_HEADER, "X-Key"));
	ASSERT_EQ(res.n_edits, 0);
	ASSERT_NULL(out);
	inject_result_done(&res);

	/* a look-alike of a bound host */
	r = run(t, "GET / HTTP/1.1\r\nHost: api.openai.com.evil\r\nX-Key: " PH_OPENAI "\r\n\r\n",
		"api.openai.com.evil", true, &res, &out);
	ASSERT_ERR(r, EACCES);
	inject_result_done(&res);
	/* "*.github.com" does not cover github.com (bound on 443 only) on another port */
	{
		struct http_head h;
		const char *in = "GET / HTTP/1.1\r\nHost: github.com:8443\r\nX: " PH_GH "\r\n\r\n";

		ASSERT_TRUE(http1_parse_head(in, strlen(in), &h, NULL) > 0);
		ASSERT_ERR(inject_head(t, &h, "github.com", 8443, true, &res), EACCES);
		inject_result_done(&res);
	}

	/* another secret's host: the gh token sent to OpenAI, next to OpenAI's own key */
	r = run(t,
		"GET / HTTP/1.1\r\nHost: api.openai.com\r\nAuthorization: Bearer " PH_OPENAI
		"\r\nX-Gh: " PH_GH "\r\n\r\n",
		"api.openai.com", true, &res, &out);
	ASSERT_ERR(r, EACCES);
	ASSERT_EQ(res.n_hits, 1); /* only the leak is reported; nothing was injected */
	ASSERT_TRUE(hit_is(&res.hits[0], "gh-token", INJECT_WHERE_HEADER, "X-Gh"));
	ASSERT_EQ(res.n_edits, 0);
	inject_result_done(&res);

	/* a header the secret's list does not name */
	r = run(t, "GET / HTTP/1.1\r\nHost: h.example\r\nX-Echo: " PH_HDR "\r\n\r\n", "h.example",
		true, &res, &out);
	ASSERT_ERR(r, EACCES);
	ASSERT_TRUE(hit_is(&res.hits[0], "hdr_only", INJECT_WHERE_HEADER, "X-Echo"));
	inject_result_done(&res);
	r = run(t, "GET / HTTP/1.1\r\nHost: h.example\r\nx-api-key: " PH_HDR "\r\n\r\n",
		"h.example", true, &res, &out);
	ASSERT_EQ(r, 1);
	ASSERT_TRUE(strstr(out, "x-api-key: " REAL_HDR "\r\n"));
	inject_result_done(&res);

	/* in a field name */
	free(out);
	r = run(t, "GET / HTTP/1.1\r\nHost: api.openai.com\r\n" PH_OPENAI ": 1\r\n\r\n",
		"api.openai.com", true, &res, &out);
	ASSERT_ERR(r, EACCES);
	inject_result_done(&res);
	inject_table_free(t);
}

TEST(refused_plaintext)
{
	struct inject_table *t = table();
	struct inject_result res = {};
	_cleanup_free_ char *out = NULL;
	int r;

	r = run(t,
		"GET / HTTP/1.1\r\nHost: api.openai.com\r\nAuthorization: Bearer " PH_OPENAI
		"\r\n\r\n",
		"api.openai.com", false, &res, &out);
	ASSERT_ERR(r, EACCES);
	ASSERT_TRUE(hit_is(&res.hits[0], "OPENAI_KEY", INJECT_WHERE_HEADER, "Authorization"));
	inject_result_done(&res);
	/* no host at all: nothing is bound */
	r = run(t, "GET / HTTP/1.1\r\nHost: api.openai.com\r\nX: " PH_OPENAI "\r\n\r\n", "", true,
		&res, &out);
	ASSERT_ERR(r, EACCES);
	inject_result_done(&res);
	inject_table_free(t);
}

TEST(no_false_positives)
{
	struct inject_table *t = table();
	struct inject_result res = {};
	_cleanup_free_ char *out = NULL;
	struct inject_scan st;
	static const char *const near[] = {
		"pdk_",
		"pdk_openai_key_",
		"pdk_openai_key_0123456789abcdef0123456789abcde",  /* one short */
		"pdk_openai_key_0123456789abcdef0123456789abcdeF", /* case */
		"pdk_openai_key_1123456789abcdef0123456789abcdef", /* another value */
		"pdk_other_0123456789abcdef0123456789abcdef",      /* another name */
		"PDK_OPENAI_KEY_0123456789ABCDEF0123456789ABCDEF", /* upper case */
		"pdk_openai-key_0123456789abcdef0123456789abcdef",
	};

	for (size_t i = 0; i < ELEMENTSOF(near); i++) {
		_cleanup_free_ char *head = xasprintf(
			"GET /%s?q=%s HTTP/1.1\r\nHost: evil.example\r\nX: %s\r\nAuthorization: "
			"Bearer %s\r\n\r\n",
			near[i], near[i], near[i], near[i]);

		if (run(t, head, "evil.example", false, &res, &out) != 0)
			TAP_FAIL("'%s' taken for a placeholder", near[i]);
		inject_result_done(&res);
		inject_scan_init(&st, t);
		ASSERT_NULL(inject_scan(&st, near[i], strlen(near[i])));
		ASSERT_NULL(inject_scan(&st, head, strlen(head)));
	}
	inject_table_free(t);
}

TEST(scan_across_pieces)
{
	struct inject_table *t = table();
	_cleanup_free_ char *body = xasprintf("{\"prompt\":\"x\",\"key\":\"%s\",\"n\":1}", PH_GH);
	size_t len = strlen(body);
	struct inject_scan st;

	/* split in two anywhere */
	for (size_t k = 0; k <= len; k++) {
		const char *a, *b;

		inject_scan_init(&st, t);
		a = inject_scan(&st, body, k);
		b = inject_scan(&st, body + k, len - k);
		if (!(a && streq(a, "gh-token")) && !(b && streq(b, "gh-token")))
			TAP_FAIL("split at %zu not found", k);
	}
	/* byte by byte */
	{
		const char *found = NULL;

		inject_scan_init(&st, t);
		for (size_t i = 0; i < len && !found; i++)
			found = inject_scan(&st, body + i, 1);
		ASSERT_STREQ(found, "gh-token");
	}
	/* in three pieces with the middle one inside the placeholder */
	{
		const char *p = strstr(body, PH_GH);
		size_t at = (size_t)(p - body);

		inject_scan_init(&st, t);
		ASSERT_NULL(inject_scan(&st, body, at + 3));
		ASSERT_NULL(inject_scan(&st, body + at + 3, 10));
		ASSERT_STREQ(inject_scan(&st, body + at + 13, len - at - 13), "gh-token");
	}
	/* the carry does not glue unrelated streams: a fresh scan forgets */
	inject_scan_init(&st, t);
	ASSERT_NULL(inject_scan(&st, PH_GH, 20));
	inject_scan_init(&st, t);
	ASSERT_NULL(inject_scan(&st, PH_GH + 20, strlen(PH_GH) - 20));
	/* an empty table finds nothing */
	{
		struct inject_table *e = inject_table_new();

		inject_scan_init(&st, e);
		ASSERT_NULL(inject_scan(&st, body, len));
		inject_table_free(e);
	}
	inject_table_free(t);
}

/* The request body carries a placeholder split over two chunks: the engine plus the scanner */
TEST(body_placeholder_refused)
{
	struct inject_table *t = table();
	struct h1_conn *c = h1_conn_new();
	_cleanup_free_ char *req = xasprintf("POST /v1 HTTP/1.1\r\nHost: api.openai.com\r\n"
					     "Transfer-Encoding: chunked\r\n\r\n"
					     "10\r\n{\"k\":\"pdk_openai\r\n"
					     "%zx\r\n%s\",\"x\":1}\r\n0\r\n\r\n",
					     strlen(PH_OPENAI) - 10 + 8, PH_OPENAI + 10);
	struct inject_scan st;
	const char *found = NULL;
	size_t off = 0, len = strlen(req);
	int bodies = 0;

	inject_scan_init(&st, t);
	while (off < len) {
		struct h1_event ev;
		int r = h1_conn_feed(c, H1_REQUEST, req + off, len - off, &ev, NULL);

		ASSERT_OK(r);
		off += (size_t)r;
		if (ev.type == H1_EV_BODY) {
			bodies++;
			if (!found)
				found = inject_scan(&st, ev.data, ev.len);
		}
		if (ev.type == H1_EV_NONE)
			break;
	}
	ASSERT_EQ(bodies, 2);
	ASSERT_STREQ(found, "OPENAI_KEY");
	ASSERT_STREQ(inject_where_to_string(INJECT_WHERE_BODY), "body");
	h1_conn_free(c);
	inject_table_free(t);
}

TEST(too_big)
{
	struct inject_table *t = inject_table_new();
	char *hosts[] = { "a.example", NULL };
	_cleanup_free_ char *value = xmalloc(INJECT_VALUE_MAX);
	_cleanup_free_ char *head = NULL;
	struct inject_result res = {};
	struct http_head h;
	size_t n = 0, cap = HTTP1_HEAD_MAX;

	memset(value, 'v', INJECT_VALUE_MAX);
	ASSERT_OK(inject_table_add(t, "big", "pdk_big_0123456789abcdef0123456789abcdef", value,
				   INJECT_VALUE_MAX, hosts, NULL, NULL));
	head = xmalloc(cap);
	n += (size_t)sprintf(head, "GET / HTTP/1.1\r\nHost: a.example\r\n");
	for (int i = 0; i < 20; i++)
		n += (size_t)sprintf(head + n, "X%d: pdk_big_0123456789abcdef0123456789abcdef\r\n",
				     i);
	n += (size_t)sprintf(head + n, "\r\n");
	ASSERT_TRUE(http1_parse_head(head, n, &h, NULL) > 0);
	ASSERT_ERR(inject_head(t, &h, "a.example", 443, true, &res), E2BIG);
	ASSERT_NULL(res.edits);
	inject_table_free(t);
}

int main(void)
{
	return tap_run();
}
