/* SPDX-License-Identifier: MIT */
/*
 * test-http1.c - the strict HTTP/1.x request-head parser: accepted forms, refused smuggling
 * and Host confusion, limits, incremental input
 */
#include "common/cleanup.h"
#include "common/xmalloc.h"
#include "proxy/http1.c"
#include "tap.h"

#define HOST_A "Host: a.example\r\n"

static bool span_is(struct http_span s, const char *lit)
{
	if (!lit)
		return s.len == 0;
	return s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

/*
 * Accepted heads and what they parse to. Ports are 0 when none is written; @path NULL means an
 * empty span.
 */
static const struct accept_case {
	const char *in;
	enum http_method method;
	enum http_target_form form;
	const char *thost;
	uint16_t tport;
	const char *path;
	const char *host;
	uint16_t port;
	uint8_t minor;
	enum http_body body;
	uint64_t cl;
	bool persistent;
} accepted[] = {
	{ "GET / HTTP/1.1\r\n" HOST_A "\r\n", HTTP_METHOD_GET, HTTP_TARGET_ORIGIN, NULL, 0, "/",
	  "a.example", 0, 1, HTTP_BODY_NONE, 0, true },
	{ "GET /p/a/t/h?q=1&r=%20x HTTP/1.1\r\nHost: a.example:8080\r\nAccept: */*\r\n\r\n",
	  HTTP_METHOD_GET, HTTP_TARGET_ORIGIN, NULL, 0, "/p/a/t/h?q=1&r=%20x", "a.example", 8080, 1,
	  HTTP_BODY_NONE, 0, true },
	{ "HEAD /x HTTP/1.0\r\n\r\n", HTTP_METHOD_HEAD, HTTP_TARGET_ORIGIN, NULL, 0, "/x", NULL, 0,
	  0, HTTP_BODY_NONE, 0, false },
	{ "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", HTTP_METHOD_GET, HTTP_TARGET_ORIGIN,
	  NULL, 0, "/", NULL, 0, 0, HTTP_BODY_NONE, 0, true },
	{ "GET / HTTP/1.1\r\nConnection: close\r\n" HOST_A "\r\n", HTTP_METHOD_GET,
	  HTTP_TARGET_ORIGIN, NULL, 0, "/", "a.example", 0, 1, HTTP_BODY_NONE, 0, false },
	{ "POST /u HTTP/1.1\r\n" HOST_A "Content-Length: 42\r\n\r\n", HTTP_METHOD_POST,
	  HTTP_TARGET_ORIGIN, NULL, 0, "/u", "a.example", 0, 1, HTTP_BODY_LENGTH, 42, true },
	{ "POST /u HTTP/1.1\r\n" HOST_A "Content-Length: 0\r\n\r\n", HTTP_METHOD_POST,
	  HTTP_TARGET_ORIGIN, NULL, 0, "/u", "a.example", 0, 1, HTTP_BODY_LENGTH, 0, true },
	{ "PUT /u HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\n\r\n", HTTP_METHOD_PUT,
	  HTTP_TARGET_ORIGIN, NULL, 0, "/u", "a.example", 0, 1, HTTP_BODY_CHUNKED, 0, true },
	{ "PUT /u HTTP/1.1\r\n" HOST_A "transfer-encoding:   CHUNKED  \r\n\r\n", HTTP_METHOD_PUT,
	  HTTP_TARGET_ORIGIN, NULL, 0, "/u", "a.example", 0, 1, HTTP_BODY_CHUNKED, 0, true },
	{ "POST /u HTTP/1.1\r\n" HOST_A "Content-Length: 9223372036854775807\r\n\r\n",
	  HTTP_METHOD_POST, HTTP_TARGET_ORIGIN, NULL, 0, "/u", "a.example", 0, 1, HTTP_BODY_LENGTH,
	  INT64_MAX, true },
	/* explicit proxy: absolute-form, with Host equal to its authority */
	{ "GET http://a.example/x?y HTTP/1.1\r\n" HOST_A "\r\n", HTTP_METHOD_GET,
	  HTTP_TARGET_ABSOLUTE, "a.example", 0, "/x?y", "a.example", 0, 1, HTTP_BODY_NONE, 0,
	  true },
	{ "GET HTTP://A.Example:80 HTTP/1.1\r\nHost: a.example\r\n\r\n", HTTP_METHOD_GET,
	  HTTP_TARGET_ABSOLUTE, "A.Example", 80, NULL, "a.example", 0, 1, HTTP_BODY_NONE, 0, true },
	{ "GET http://a.example:8080/ HTTP/1.1\r\nHost: A.EXAMPLE.:8080\r\n\r\n", HTTP_METHOD_GET,
	  HTTP_TARGET_ABSOLUTE, "a.example", 8080, "/", "A.EXAMPLE.", 8080, 1, HTTP_BODY_NONE, 0,
	  true },
	{ "GET http://[::1]:8080/ HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", HTTP_METHOD_GET,
	  HTTP_TARGET_ABSOLUTE, "::1", 8080, "/", "::1", 8080, 1, HTTP_BODY_NONE, 0, true },
	{ "GET http://a.example/ HTTP/1.0\r\n\r\n", HTTP_METHOD_GET, HTTP_TARGET_ABSOLUTE,
	  "a.example", 0, "/", NULL, 0, 0, HTTP_BODY_NONE, 0, false },
	/* CONNECT: authority-form */
	{ "CONNECT github.com:443 HTTP/1.1\r\nHost: github.com:443\r\n\r\n", HTTP_METHOD_CONNECT,
	  HTTP_TARGET_AUTHORITY, "github.com", 443, NULL, "github.com", 443, 1, HTTP_BODY_NONE, 0,
	  true },
	{ "CONNECT github.com:22 HTTP/1.1\r\nHost: github.com\r\n\r\n", HTTP_METHOD_CONNECT,
	  HTTP_TARGET_AUTHORITY, "github.com", 22, NULL, "github.com", 0, 1, HTTP_BODY_NONE, 0,
	  true },
	{ "CONNECT 10.0.0.1:5432 HTTP/1.0\r\n\r\n", HTTP_METHOD_CONNECT, HTTP_TARGET_AUTHORITY,
	  "10.0.0.1", 5432, NULL, NULL, 0, 0, HTTP_BODY_NONE, 0, false },
	{ "CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n"
	  "Content-Length: 0\r\n\r\n",
	  HTTP_METHOD_CONNECT, HTTP_TARGET_AUTHORITY, "2001:db8::1", 443, NULL, "2001:db8::1", 443,
	  1, HTTP_BODY_LENGTH, 0, true },
	/* asterisk-form */
	{ "OPTIONS * HTTP/1.1\r\n" HOST_A "\r\n", HTTP_METHOD_OPTIONS, HTTP_TARGET_ASTERISK, NULL,
	  0, NULL, "a.example", 0, 1, HTTP_BODY_NONE, 0, true },
	{ "OPTIONS /x HTTP/1.1\r\n" HOST_A "\r\n", HTTP_METHOD_OPTIONS, HTTP_TARGET_ORIGIN, NULL, 0,
	  "/x", "a.example", 0, 1, HTTP_BODY_NONE, 0, true },
	/* other methods, OWS, obs-text, empty values, odd but legal names */
	{ "PROPFIND /d HTTP/1.1\r\n" HOST_A "Depth: 1\r\n\r\n", HTTP_METHOD_OTHER,
	  HTTP_TARGET_ORIGIN, NULL, 0, "/d", "a.example", 0, 1, HTTP_BODY_NONE, 0, true },
	{ "DELETE /d HTTP/1.1\r\nhost:a.example\r\nX-Empty:\r\nX-Sp:  \t \r\n"
	  "X-Obs: caf\xc3\xa9\r\n!#$%&'*+-.^_`|~: v\r\n\r\n",
	  HTTP_METHOD_DELETE, HTTP_TARGET_ORIGIN, NULL, 0, "/d", "a.example", 0, 1, HTTP_BODY_NONE,
	  0, true },
	{ "PATCH /d HTTP/1.1\r\nHost: a_b.example\r\n\r\n", HTTP_METHOD_PATCH, HTTP_TARGET_ORIGIN,
	  NULL, 0, "/d", "a_b.example", 0, 1, HTTP_BODY_NONE, 0, true },
	{ "TRACE / HTTP/1.1\r\nHost: 127.0.0.1:65535\r\n\r\n", HTTP_METHOD_TRACE,
	  HTTP_TARGET_ORIGIN, NULL, 0, "/", "127.0.0.1", 65535, 1, HTTP_BODY_NONE, 0, true },
};

TEST(accepted_heads)
{
	for (size_t i = 0; i < ELEMENTSOF(accepted); i++) {
		const struct accept_case *c = &accepted[i];
		struct http_head h;
		const char *why = NULL;
		size_t n = strlen(c->in);
		int r = http1_parse_head(c->in, n, &h, &why);

		if (r != (int)n)
			TAP_FAIL("case %zu: %d (%s)", i, r, strempty(why));
		ASSERT_EQ(h.head_len, n);
		ASSERT_EQ(h.method, c->method);
		ASSERT_EQ(h.target.form, c->form);
		if (!span_is(h.target.authority.host, c->thost))
			TAP_FAIL("case %zu: target host '%.*s'", i,
				 (int)h.target.authority.host.len, h.target.authority.host.p);
		ASSERT_EQ(h.target.authority.port, c->tport);
		if (!span_is(h.target.path, c->path))
			TAP_FAIL("case %zu: path '%.*s'", i, (int)h.target.path.len,
				 h.target.path.p);
		ASSERT_EQ(h.has_host, c->host != NULL);
		if (!span_is(h.host.host, c->host))
			TAP_FAIL("case %zu: host '%.*s'", i, (int)h.host.host.len, h.host.host.p);
		ASSERT_EQ(h.host.port, c->port);
		ASSERT_EQ(h.version_minor, c->minor);
		ASSERT_EQ(h.body, c->body);
		ASSERT_EQ(h.content_length, c->cl);
		if (h.persistent != c->persistent)
			TAP_FAIL("case %zu: persistent %d", i, h.persistent);

		/* every proper prefix is incomplete, never an error */
		for (size_t k = 0; k < n; k++) {
			struct http_head p;

			r = http1_parse_head(c->in, k, &p, &why);
			if (r != -EAGAIN)
				TAP_FAIL("case %zu, prefix %zu: %d (%s)", i, k, r, strempty(why));
		}
	}
}

/* Refused heads, the error, and a word the reason must contain */
static const struct refuse_case {
	const char *in;
	size_t len; /* 0: strlen(in) */
	int err;
	const char *why;
} refused[] = {
	/* smuggling: framing */
	{ "POST / HTTP/1.1\r\n" HOST_A "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 0,
	  EBADMSG, "both" },
	{ "POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 0,
	  EBADMSG, "both" },
	{ "POST / HTTP/1.1\r\n" HOST_A "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", 0, EBADMSG,
	  "more than one Content-Length" },
	{ "POST / HTTP/1.1\r\n" HOST_A "Content-Length: 5\r\nContent-Length: 5\r\n\r\n", 0, EBADMSG,
	  "more than one Content-Length" },
	{ "POST / HTTP/1.1\r\n" HOST_A "Content-Length: 5, 5\r\n\r\n", 0, EBADMSG, "decimal" },
	{ "POST / HTTP/1.1\r\n" HOST_A "Content-Length: +5\r\n\r\n", 0, EBADMSG, "decimal" },
	{ "POST / HTTP/1.1\r\n" HOST_A "Content-Length: -1\r\n\r\n", 0, EBADMSG, "decimal" },
	{ "POST / HTTP/1.1\r\n" HOST_A "Content-Length: 0x10\r\n\r\n", 0, EBADMSG, "decimal" },
	{ "POST / HTTP/1.1\r\n" HOST_A "Content-Length: 1 0\r\n\r\n", 0, EBADMSG, "decimal" },
	{ "POST / HTTP/1.1\r\n" HOST_A "Content-Length:\r\n\r\n", 0, EBADMSG, "empty" },
	{ "POST / HTTP/1.1\r\n" HOST_A "Content-Length: 9223372036854775808\r\n\r\n", 0, EBADMSG,
	  "too large" },
	{ "POST / HTTP/1.1\r\n" HOST_A "Content-Length: 99999999999999999999999\r\n\r\n", 0,
	  EBADMSG, "too large" },
	{ "POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: identity\r\n\r\n", 0, EBADMSG,
	  "chunked" },
	{ "POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: gzip, chunked\r\n\r\n", 0, EBADMSG,
	  "chunked" },
	{ "POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked, identity\r\n\r\n", 0, EBADMSG,
	  "chunked" },
	{ "POST / HTTP/1.1\r\n" HOST_A
	  "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"
	  "\r\n",
	  0, EBADMSG, "more than one Transfer-Encoding" },
	{ "POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: xchunked\r\n\r\n", 0, EBADMSG,
	  "chunked" },
	{ "POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: \"chunked\"\r\n\r\n", 0, EBADMSG,
	  "chunked" },
	{ "POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding:\r\n chunked\r\n\r\n", 0, EBADMSG,
	  "chunked" },
	{ "POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\n\tidentity\r\n\r\n", 0,
	  EBADMSG, "obs-fold" },
	{ "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 0, EBADMSG, "HTTP/1.0" },
	{ "POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding : chunked\r\n\r\n", 0, EBADMSG,
	  "whitespace between field name and colon" },
	{ "POST / HTTP/1.1\r\n" HOST_A "Content-Length\t: 5\r\n\r\n", 0, EBADMSG,
	  "whitespace between field name and colon" },
	{ "POST / HTTP/1.1\r\n" HOST_A " Content-Length: 5\r\n\r\n", 0, EBADMSG, "obs-fold" },
	{ "POST / HTTP/1.1\r\n" HOST_A "X: a\r\n b\r\n\r\n", 0, EBADMSG, "obs-fold" },
	{ "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\nContent-Length: 1\r\n\r\n", 0,
	  EBADMSG, "CONNECT with a body" },
	{ "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\nTransfer-Encoding: chunked\r\n"
	  "\r\n",
	  0, EBADMSG, "CONNECT with a body" },
	/* bytes */
	{ "GET / HTTP/1.1\r\n" HOST_A "X: a\0b\r\n\r\n", 43, EBADMSG, "NUL" },
	{ "GET /\0 HTTP/1.1\r\n" HOST_A "\r\n", 36, EBADMSG, "NUL" },
	{ "GET / HTTP/1.1\r\nHost: a.example\0.evil.com\r\n\r\n", 45, EBADMSG, "NUL" },
	{ "GET / HTTP/1.1\r\n" HOST_A "X: a\rb\r\n\r\n", 0, EBADMSG, "bare CR" },
	{ "GET / HTTP/1.1\r" HOST_A "\r\n", 0, EBADMSG, "bare CR" },
	{ "GET / HTTP/1.1\r\n" HOST_A "\r\r\n", 0, EBADMSG, "bare CR" },
	{ "GET / HTTP/1.1\n" HOST_A "\r\n", 0, EBADMSG, "bare LF" },
	{ "GET / HTTP/1.1\r\n" HOST_A "X: a\n\r\n", 0, EBADMSG, "bare LF" },
	{ "GET / HTTP/1.1\r\n" HOST_A "\n", 0, EBADMSG, "bare LF" },
	{ "GET / HTTP/1.1\r\n" HOST_A "X: a\x01\r\n\r\n", 0, EBADMSG, "control" },
	{ "GET / HTTP/1.1\r\n" HOST_A "X: a\x7f\r\n\r\n", 0, EBADMSG, "control" },
	{ "GET / HTTP/1.1\r\n" HOST_A "X\"Y: a\r\n\r\n", 0, EBADMSG, "field name" },
	{ "GET / HTTP/1.1\r\n" HOST_A ": a\r\n\r\n", 0, EBADMSG, "empty field name" },
	{ "GET / HTTP/1.1\r\n" HOST_A "NoColon\r\n\r\n", 0, EBADMSG, "colon" },
	{ "GET / HTTP/1.1\r\n" HOST_A "X\xc3\xa9: a\r\n\r\n", 0, EBADMSG, "field name" },
	/* Host confusion */
	{ "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 0, EBADMSG, "more than one Host" },
	{ "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 0, EBADMSG, "more than one Host" },
	{ "GET / HTTP/1.1\r\n\r\n", 0, EBADMSG, "without Host" },
	{ "GET / HTTP/1.1\r\nHost:\r\n\r\n", 0, EBADMSG, "empty host" },
	{ "GET / HTTP/1.1\r\nHost: user@a.example\r\n\r\n", 0, EBADMSG, "userinfo" },
	{ "GET / HTTP/1.1\r\nHost: a.example:\r\n\r\n", 0, EBADMSG, "port" },
	{ "GET / HTTP/1.1\r\nHost: a.example:0\r\n\r\n", 0, EBADMSG, "port" },
	{ "GET / HTTP/1.1\r\nHost: a.example:65536\r\n\r\n", 0, EBADMSG, "port" },
	{ "GET / HTTP/1.1\r\nHost: a.example:443x\r\n\r\n", 0, EBADMSG, "port" },
	{ "GET / HTTP/1.1\r\nHost: a.example, b.example\r\n\r\n", 0, EBADMSG, "host" },
	{ "GET / HTTP/1.1\r\nHost: a.example b\r\n\r\n", 0, EBADMSG, "host" },
	{ "GET / HTTP/1.1\r\nHost: a%2eexample\r\n\r\n", 0, EBADMSG, "host" },
	{ "GET / HTTP/1.1\r\nHost: a.example/x\r\n\r\n", 0, EBADMSG, "host" },
	{ "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 0, EBADMSG, "']'" },
	{ "GET / HTTP/1.1\r\nHost: [fe80::1%eth0]\r\n\r\n", 0, EBADMSG, "IPv6" },
	{ "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", 0, EBADMSG, "host" },
	{ "GET / HTTP/1.1\r\nHost: ::1\r\n\r\n", 0, EBADMSG, "host" },
	{ "GET http://evil.com/ HTTP/1.1\r\nHost: github.com\r\n\r\n", 0, EBADMSG, "different" },
	{ "GET http://github.com:8080/ HTTP/1.1\r\nHost: github.com\r\n\r\n", 0, EBADMSG,
	  "different" },
	{ "GET http://github.com/ HTTP/1.1\r\nHost: github.com:81\r\n\r\n", 0, EBADMSG,
	  "different" },
	{ "CONNECT evil.com:443 HTTP/1.1\r\nHost: github.com:443\r\n\r\n", 0, EBADMSG,
	  "different" },
	{ "CONNECT github.com:443 HTTP/1.1\r\nHost: github.com:22\r\n\r\n", 0, EBADMSG,
	  "different" },
	{ "GET http://github.com@evil.com/ HTTP/1.1\r\nHost: evil.com\r\n\r\n", 0, EBADMSG,
	  "userinfo" },
	{ "GET http://user:pw@github.com/ HTTP/1.1\r\nHost: github.com\r\n\r\n", 0, EBADMSG,
	  "userinfo" },
	{ "CONNECT user@github.com:443 HTTP/1.1\r\nHost: github.com:443\r\n\r\n", 0, EBADMSG,
	  "userinfo" },
	{ "GET http://github.com\\@evil.com/ HTTP/1.1\r\nHost: github.com\r\n\r\n", 0, EBADMSG,
	  "userinfo" },
	{ "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", 0, EBADMSG, "empty host" },
	{ "GET http://a.example#@evil.com/ HTTP/1.1\r\n" HOST_A "\r\n", 0, EBADMSG, "fragment" },
	{ "GET https://a.example/ HTTP/1.1\r\n" HOST_A "\r\n", 0, EBADMSG, "http://" },
	{ "GET ftp://a.example/ HTTP/1.1\r\n" HOST_A "\r\n", 0, EBADMSG, "http://" },
	{ "GET a.example:80 HTTP/1.1\r\n" HOST_A "\r\n", 0, EBADMSG, "request-target" },
	{ "CONNECT github.com HTTP/1.1\r\nHost: github.com\r\n\r\n", 0, EBADMSG, "port" },
	{ "CONNECT / HTTP/1.1\r\nHost: github.com\r\n\r\n", 0, EBADMSG, "host" },
	{ "CONNECT http://github.com:443 HTTP/1.1\r\nHost: github.com\r\n\r\n", 0, EBADMSG,
	  "port" },
	/* request line */
	{ "GET /a b HTTP/1.1\r\n" HOST_A "\r\n", 0, EBADMSG, "space in request-target" },
	{ "GET  / HTTP/1.1\r\n" HOST_A "\r\n", 0, EBADMSG, "space in request-target" },
	{ "GET / HTTP/1.1 \r\n" HOST_A "\r\n", 0, EBADMSG, "version" },
	{ "GET /\tHTTP/1.1\r\n" HOST_A "\r\n", 0, EBADMSG, "malformed request line" },
	{ "GET /\x01 HTTP/1.1\r\n" HOST_A "\r\n", 0, EBADMSG, "request-target" },
	{ "GET /caf\xc3\xa9 HTTP/1.1\r\n" HOST_A "\r\n", 0, EBADMSG, "request-target" },
	{ "GET /#frag HTTP/1.1\r\n" HOST_A "\r\n", 0, EBADMSG, "fragment" },
	{ "get / HTTP/1.1\r\n" HOST_A "\r\n", 0, EBADMSG, "upper case" },
	{ "Get / HTTP/1.1\r\n" HOST_A "\r\n", 0, EBADMSG, "upper case" },
	{ "G(T / HTTP/1.1\r\n" HOST_A "\r\n", 0, EBADMSG, "method" },
	{ " GET / HTTP/1.1\r\n" HOST_A "\r\n", 0, EBADMSG, "starts with a space" },
	{ "\r\nGET / HTTP/1.1\r\n" HOST_A "\r\n", 0, EBADMSG, "empty line" },
	{ "GET / http/1.1\r\n" HOST_A "\r\n", 0, EBADMSG, "version" },
	{ "GET / HTTP/1.1x\r\n" HOST_A "\r\n", 0, EBADMSG, "version" },
	{ "GET / HTTP/1\r\n" HOST_A "\r\n", 0, EBADMSG, "version" },
	{ "GET / HTTP/1.2\r\n" HOST_A "\r\n", 0, EPROTONOSUPPORT, "version" },
	{ "GET / HTTP/2\r\n" HOST_A "\r\n", 0, EPROTONOSUPPORT, "version" },
	{ "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0, EPROTONOSUPPORT, "version" },
	{ "GET /\r\n\r\n", 0, EBADMSG, "malformed request line" },
	{ "GET\r\n\r\n", 0, EBADMSG, "malformed request line" },
	{ "GET * HTTP/1.1\r\n" HOST_A "\r\n", 0, EBADMSG, "OPTIONS" },
	{ "GET  HTTP/1.1\r\n" HOST_A "\r\n", 0, EBADMSG, "empty request-target" },
	{ "AVERYLONGMETHODNAMEOFMORETHANTHIRTYTWO / HTTP/1.1\r\n" HOST_A "\r\n", 0, EBADMSG,
	  "method too long" },
	/* Connection and Upgrade */
	{ "GET / HTTP/1.1\r\n" HOST_A "Connection: close;x\r\n\r\n", 0, EBADMSG, "Connection" },
	{ "GET / HTTP/1.1\r\n" HOST_A "Upgrade: websocket\r\nUpgrade: h2c\r\n\r\n", 0, EBADMSG,
	  "Upgrade" },
};

TEST(refused_heads)
{
	for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
		const struct refuse_case *c = &refused[i];
		size_t n = c->len ? c->len : strlen(c->in);
		struct http_head h = { .head_len = 12345 };
		const char *why = NULL;
		int r = http1_parse_head(c->in, n, &h, &why);

		if (r != -c->err)
			TAP_FAIL("case %zu '%.*s': %d (%s), expected -%d", i, (int)MIN(n, 40),
				 c->in, r, strempty(why), c->err);
		if (!why || !strcasestr(why, c->why))
			TAP_FAIL("case %zu: reason '%s' lacks '%s'", i, strempty(why), c->why);
		ASSERT_EQ(h.head_len, 12345); /* untouched */
	}
}

TEST(errors_before_the_head_ends)
{
	/* garbage fails as soon as it arrives, not when the head completes */
	static const char *const early[] = {
		"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n",
		"GET / HTTP/1.1\r\nX: a\r\n b",
		"GET / HTTP/1.1\r\nX\0",
		"GET / HTTP/1.1\r\nX: a\rb",
		"GET / HTTP/1.1\n",
		"get / HTTP/1.1\r\n",
		"GET http://a@b/ HTTP/1.1\r\n",
		"POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n",
	};
	for (size_t i = 0; i < ELEMENTSOF(early); i++) {
		struct http_head h;
		const char *why = NULL;
		size_t n = strlen(early[i]);

		if (i == 2)
			n += 1;
		ASSERT_EQ(http1_parse_head(early[i], n, &h, &why), -EBADMSG);
	}
}

static int parse_str(const char *s, struct http_head *h)
{
	return http1_parse_head(s, strlen(s), h, NULL);
}

TEST(fields_and_flags)
{
	static const char in[] = "GET /chat HTTP/1.1\r\n"
				 "Host: a.example\r\n"
				 "Connection: keep-alive, Upgrade\r\n"
				 "Upgrade:  websocket \r\n"
				 "Sec-WebSocket-Version: 13\r\n"
				 "\r\n"
				 "trailing bytes";
	struct http_head h;
	const char *why = NULL;
	int r = http1_parse_head(in, sizeof(in) - 1, &h, &why);

	ASSERT_EQ(r, (int)(sizeof(in) - 1 - strlen("trailing bytes")));
	ASSERT_EQ(h.n_fields, 4);
	ASSERT_TRUE(span_is(h.fields[1].name, "Connection"));
	ASSERT_TRUE(span_is(h.fields[1].value, "keep-alive, Upgrade"));
	ASSERT_TRUE(span_is(h.fields[2].value, "websocket"));
	ASSERT_EQ(h.conn, HTTP_CONN_KEEP_ALIVE | HTTP_CONN_UPGRADE);
	ASSERT_TRUE(span_is(h.upgrade, "websocket"));
	ASSERT_TRUE(span_is(h.method_str, "GET"));
	ASSERT_STREQ(http1_method_to_string(h.method), "GET");
	ASSERT_NULL(http1_method_to_string(HTTP_METHOD_OTHER));

	/* Upgrade without Connection: upgrade is not an upgrade */
	r = parse_str("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n", &h);
	ASSERT_EQ(r, 47);
	ASSERT_NULL(h.upgrade.p);
	ASSERT_EQ(h.conn, 0);

	/* empty list elements and case */
	r = parse_str("GET / HTTP/1.1\r\nHost: a\r\nConnection: ,CLOSE ,\r\n\r\n", &h);
	ASSERT_EQ(r, 49);
	ASSERT_EQ(h.conn, HTTP_CONN_CLOSE);
	ASSERT_FALSE(h.persistent);
}

/* A head with @n fields "X-N: v" and a Host */
static char *head_with_fields(size_t n, size_t value_len)
{
	size_t cap = 64 + n * (20 + value_len);
	char *s = xmalloc(cap), *p = s;

	p += sprintf(p, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (size_t i = 0; i < n; i++) {
		p += sprintf(p, "X-%zu: ", i);
		memset(p, 'v', value_len);
		p += value_len;
		p += sprintf(p, "\r\n");
	}
	p += sprintf(p, "\r\n");
	return s;
}

TEST(limits)
{
	struct http_head h;
	const char *why = NULL;
	_cleanup_free_ char *ok = head_with_fields(HTTP1_FIELDS_MAX - 1, 1);
	_cleanup_free_ char *many = head_with_fields(HTTP1_FIELDS_MAX, 1);
	_cleanup_free_ char *big = NULL;
	size_t n;

	ASSERT_EQ(http1_parse_head(ok, strlen(ok), &h, &why), (int)strlen(ok));
	ASSERT_EQ(h.n_fields, HTTP1_FIELDS_MAX);
	ASSERT_EQ(http1_parse_head(many, strlen(many), &h, &why), -E2BIG);
	ASSERT_TRUE(strstr(why, "too many"));

	/* exactly HTTP1_HEAD_MAX bytes pass, one more fails, even before it is all there */
	big = xmalloc(HTTP1_HEAD_MAX + 16);
	n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	memset(big + n, 'v', HTTP1_HEAD_MAX - n - 4);
	/* the head ends with CRLFCRLF; no NUL: the parser gets a length */
	memcpy(big + HTTP1_HEAD_MAX - 4, "\r\n\r\n", 4);
	ASSERT_EQ(http1_parse_head(big, HTTP1_HEAD_MAX, &h, &why), (int)HTTP1_HEAD_MAX);
	ASSERT_EQ(http1_parse_head(big, HTTP1_HEAD_MAX - 1, &h, &why), -EAGAIN);
	memmove(big + n + 1, big + n, HTTP1_HEAD_MAX - n);
	ASSERT_EQ(http1_parse_head(big, HTTP1_HEAD_MAX + 1, &h, &why), -E2BIG);
	ASSERT_EQ(http1_parse_head(big, HTTP1_HEAD_MAX - 1, &h, &why), -E2BIG);
	ASSERT_EQ(http1_parse_head(big, HTTP1_HEAD_MAX - 2, &h, &why), -EAGAIN);

	/* a host of 256 bytes */
	{
		char line[400];
		int k = sprintf(line, "GET / HTTP/1.1\r\nHost: ");

		memset(line + k, 'a', 256);
		strcpy(line + k + 256, "\r\n\r\n");
		ASSERT_EQ(http1_parse_head(line, strlen(line), &h, &why), -EBADMSG);
		strcpy(line + k + 255, "\r\n\r\n");
		ASSERT_EQ(http1_parse_head(line, strlen(line), &h, &why), (int)strlen(line));
	}
}

TEST(host_matches)
{
	struct http_head h;
	const char *why = NULL;
	static const char a[] = "GET / HTTP/1.1\r\nHost: GitHub.com.\r\n\r\n";
	static const char b[] = "GET / HTTP/1.1\r\nHost: github.com:8443\r\n\r\n";
	static const char c[] = "GET http://github.com/ HTTP/1.0\r\n\r\n";
	static const char d[] = "GET / HTTP/1.0\r\n\r\n";
	static const char e[] = "CONNECT [::1]:443 HTTP/1.0\r\n\r\n";

	ASSERT_OK(http1_parse_head(a, sizeof(a) - 1, &h, &why));
	ASSERT_TRUE(http1_host_matches(&h, "github.com", 443));
	ASSERT_TRUE(http1_host_matches(&h, "github.com.", 80));
	ASSERT_TRUE(http1_host_matches(&h, "GITHUB.COM", 0));
	ASSERT_FALSE(http1_host_matches(&h, "github.co", 443));
	ASSERT_FALSE(http1_host_matches(&h, "ithub.com", 443));
	ASSERT_FALSE(http1_host_matches(&h, "github.com.evil.com", 443));
	ASSERT_FALSE(http1_host_matches(&h, "", 443));
	ASSERT_FALSE(http1_host_matches(&h, ".", 443));
	ASSERT_FALSE(http1_host_matches(NULL, "github.com", 443));

	ASSERT_OK(http1_parse_head(b, sizeof(b) - 1, &h, &why));
	ASSERT_TRUE(http1_host_matches(&h, "github.com", 8443));
	ASSERT_TRUE(http1_host_matches(&h, "github.com", 0));
	ASSERT_FALSE(http1_host_matches(&h, "github.com", 443));

	ASSERT_OK(http1_parse_head(c, sizeof(c) - 1, &h, &why));
	ASSERT_TRUE(http1_host_matches(&h, "github.com", 80));

	ASSERT_OK(http1_parse_head(d, sizeof(d) - 1, &h, &why));
	ASSERT_FALSE(http1_host_matches(&h, "github.com", 80));

	ASSERT_OK(http1_parse_head(e, sizeof(e) - 1, &h, &why));
	ASSERT_TRUE(http1_host_matches(&h, "::1", 443));
	ASSERT_FALSE(http1_host_matches(&h, "[::1]", 443));

	ASSERT_TRUE(http1_name_equal("a.", 2, "A", 1));
	ASSERT_FALSE(http1_name_equal("a..", 3, "a", 1));
	ASSERT_FALSE(http1_name_equal("", 0, "", 0));
}

int main(void)
{
	return tap_run();
}
