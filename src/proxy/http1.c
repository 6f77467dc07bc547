/* SPDX-License-Identifier: MIT */
/*
 * http1.c - strict HTTP/1.x request- and response-head parser
 *
 * DOC: Theory of Operation
 * The proxy sits between a client it does not trust and servers that each parse HTTP their
 * own way. Every request head it lets through must mean one thing to every parser on the
 * path, so this parser accepts the RFC 9112 grammar and refuses, rather than repairs,
 * anything that some implementation might read differently (request smuggling, Host
 * confusion). It works on a byte buffer, allocates nothing and never logs; the spans it
 * returns point into the caller's buffer.
 *
 * The head is read line by line. Each line must end in CRLF: a bare LF, a CR not followed by
 * LF and a NUL anywhere are refused as soon as they are in the buffer, so garbage fails early
 * instead of waiting for a head that never completes. An incomplete but so far valid head
 * gives -EAGAIN; the whole head is limited to HTTP1_HEAD_MAX bytes and HTTP1_FIELDS_MAX fields.
 *
 * Request line: an upper-case method token, one SP, a request-target of visible ASCII, one SP,
 * and exactly "HTTP/1.1" or "HTTP/1.0" ("HTTP/2.0", the h2 preface, is -EPROTONOSUPPORT). An
 * empty line before the request line is refused although RFC 9112 lets servers skip it: the
 * peek classifier must see the method in the first bytes. Target forms are tied to methods:
 * authority-form ("host:port") is CONNECT's and CONNECT has only it, asterisk-form is only
 * for OPTIONS, absolute-form is "http://" only (https goes through CONNECT), and no target may
 * carry userinfo ("http://github.com@evil.com/") or a fragment.
 *
 * Fields: a token name, a colon with no whitespace before it, a value of visible ASCII,
 * obs-text, SP and HTAB. A line starting with whitespace (obs-fold) is refused. Then:
 * - Host: at most one; required in HTTP/1.1; never empty; no userinfo; host and port parsed.
 *   An absolute- or authority-form target must name the same host (and port) as Host.
 * - Content-Length: one field of digits only. Duplicates are refused even when identical,
 *   and so are lists ("5, 5"): no client needs them and collapsing them is where parsers
 *   have disagreed.
 * - Transfer-Encoding: one field whose value is exactly "chunked" (any case). Any other coding
 *   or list, even one ending in chunked, is refused, as is Transfer-Encoding in HTTP/1.0 and
 *   together with Content-Length.
 * - CONNECT carries no body (Content-Length 0 at most).
 * - Connection: a list of tokens; close, keep-alive and upgrade are reported. Upgrade: at most
 *   one field, reported when Connection names it. Stripping hop-by-hop fields and refusing
 *   unwanted upgrades (h2c) is the engine's job, not the parser's.
 *
 * Response heads (http1_parse_response_head(), for the HTTP/1.1 engine in h1stream.c) share
 * the line reader and the field rules. The status line is "HTTP/1.x", SP, three digits and an
 * optional SP and reason phrase; Host means nothing in a response and is not parsed; repeated
 * Content-Length fields with one value are accepted (servers send them, and a single value is
 * unambiguous), different values are refused; no framing field means a body that runs until
 * the connection closes (HTTP_BODY_CLOSE).
 */
#include <arpa/inet.h>
#include <string.h>

#include "common/macro.h"
#include "http1.h"

#define METHOD_MAX 32u

static const char *const method_names[_HTTP_METHOD_MAX] = {
	[HTTP_METHOD_GET] = "GET",         [HTTP_METHOD_HEAD] = "HEAD",
	[HTTP_METHOD_POST] = "POST",       [HTTP_METHOD_PUT] = "PUT",
	[HTTP_METHOD_DELETE] = "DELETE",   [HTTP_METHOD_CONNECT] = "CONNECT",
	[HTTP_METHOD_OPTIONS] = "OPTIONS", [HTTP_METHOD_TRACE] = "TRACE",
	[HTTP_METHOD_PATCH] = "PATCH",
};

const char *http1_method_to_string(enum http_method m)
{
	if (m < 0 || m >= _HTTP_METHOD_MAX)
		return NULL;
	return method_names[m];
}

static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c);
}

static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool http_span_eq_ci(struct http_span s, const char *lit)
{
	size_t n = strlen(lit);

	if (s.len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(s.p[i]) != lit[i])
			return false;
	return true;
}

bool http1_name_equal(const char *a, size_t a_len, const char *b, size_t b_len)
{
	if (a_len > 0 && a[a_len - 1] == '.')
		a_len--;
	if (b_len > 0 && b[b_len - 1] == '.')
		b_len--;
	if (a_len != b_len || a_len == 0)
		return false;
	for (size_t i = 0; i < a_len; i++)
		if (ascii_lower(a[i]) != ascii_lower(b[i]))
			return false;
	return true;
}

static int fail(const char **why, const char *msg, int r)
{
	*why = msg;
	return r;
}

static int parse_port(const char *s, size_t len, uint16_t *ret, const char **why)
{
	unsigned v = 0;

	if (len == 0 || len > 5)
		return fail(why, "invalid port", -EBADMSG);
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return fail(why, "invalid port", -EBADMSG);
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return fail(why, "port out of range 1-65535", -EBADMSG);
	*ret = (uint16_t)v;
	return 0;
}

static bool is_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

/*
 * parse_authority() - "host[:port]" or "[v6][:port]", as in Host and in targets
 *
 * Only what a host name or address can be is accepted: no userinfo, no percent-encoding, no
 * sub-delims, no IPv6 zone.
 */
static int parse_authority(const char *s, size_t len, bool need_port, struct http_authority *ret,
			   const char **why)
{
	struct http_authority a = {};
	const char *rest;
	size_t rest_len;
	int r;

	if (len == 0)
		return fail(why, "empty host", -EBADMSG);
	if (memchr(s, '@', len))
		return fail(why, "userinfo in host", -EBADMSG);
	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);
		char buf[INET6_ADDRSTRLEN];
		unsigned char addr[16];

		if (!close)
			return fail(why, "'[' without ']' in host", -EBADMSG);
		a.host = (struct http_span){ s + 1, (size_t)(close - s - 1) };
		if (a.host.len == 0 || a.host.len >= sizeof(buf))
			return fail(why, "invalid IPv6 address in host", -EBADMSG);
		memcpy(buf, a.host.p, a.host.len);
		buf[a.host.len] = '\0';
		if (inet_pton(AF_INET6, buf, addr) != 1)
			return fail(why, "invalid IPv6 address in host", -EBADMSG);
		a.ipv6 = true;
		rest = close + 1;
	} else {
		const char *colon = memchr(s, ':', len);

		a.host = (struct http_span){ s, colon ? (size_t)(colon - s) : len };
		if (a.host.len == 0)
			return fail(why, "empty host", -EBADMSG);
		for (size_t i = 0; i < a.host.len; i++)
			if (!is_host_char(s[i]))
				return fail(why, "invalid character in host", -EBADMSG);
		rest = s + a.host.len;
	}
	if (a.host.len > HTTP1_HOST_MAX)
		return fail(why, "host name too long", -EBADMSG);
	rest_len = len - (size_t)(rest - s);
	if (rest_len > 0) {
		if (rest[0] != ':')
			return fail(why, "invalid host", -EBADMSG);
		r = parse_port(rest + 1, rest_len - 1, &a.port, why);
		if (r < 0)
			return r;
	} else if (need_port)
		return fail(why, "CONNECT target without a port", -EBADMSG);
	*ret = a;
	return 0;
}

static enum http_method method_from_span(struct http_span m)
{
	for (size_t i = 0; i < _HTTP_METHOD_MAX; i++)
		if (method_names[i] && strlen(method_names[i]) == m.len &&
		    memcmp(method_names[i], m.p, m.len) == 0)
			return (enum http_method)i;
	return HTTP_METHOD_OTHER;
}

/* The path and query of origin- and absolute-form: visible ASCII, no fragment. */
static int check_path(struct http_span p, const char **why)
{
	for (size_t i = 0; i < p.len; i++) {
		unsigned char c = (unsigned char)p.p[i];

		if (c <= 0x20 || c >= 0x7f)
			return fail(why, "invalid character in request-target", -EBADMSG);
		if (c == '#')
			return fail(why, "fragment in request-target", -EBADMSG);
	}
	return 0;
}

static int parse_target(const char *s, size_t len, struct http_head *h, const char **why)
{
	struct http_target *t = &h->target;
	int r;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ' ')
			return fail(why, "space in request-target", -EBADMSG);
		if (c < 0x20 || c >= 0x7f)
			return fail(why, "invalid character in request-target", -EBADMSG);
	}
	if (h->method == HTTP_METHOD_CONNECT) {
		t->form = HTTP_TARGET_AUTHORITY;
		return parse_authority(s, len, true, &t->authority, why);
	}
	if (len == 1 && s[0] == '*') {
		if (h->method != HTTP_METHOD_OPTIONS)
			return fail(why, "asterisk-form target is only for OPTIONS", -EBADMSG);
		t->form = HTTP_TARGET_ASTERISK;
		return 0;
	}
	if (s[0] == '/') {
		t->form = HTTP_TARGET_ORIGIN;
		t->path = (struct http_span){ s, len };
		return check_path(t->path, why);
	}
	if (len >= STRLEN("http://") && http_span_eq_ci((struct http_span){ s, 7 }, "http://")) {
		const char *a = s + 7, *end = s + len, *p = a;

		while (p < end && *p != '/' && *p != '?' && *p != '#')
			p++;
		t->form = HTTP_TARGET_ABSOLUTE;
		r = parse_authority(a, (size_t)(p - a), false, &t->authority, why);
		if (r < 0)
			return r;
		t->path = (struct http_span){ p, (size_t)(end - p) };
		return check_path(t->path, why);
	}
	if (memmem(s, len, "://", 3))
		return fail(why, "absolute-form target other than http://", -EBADMSG);
	return fail(why, "invalid request-target", -EBADMSG);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* "HTTP/x.y" or "HTTP/x" (as HTTP/2 and HTTP/3 are named), other than HTTP/1.0 and 1.1 */
static bool is_other_version(struct http_span v)
{
	if (v.len < 6 || memcmp(v.p, "HTTP/", 5) != 0 || !is_digit(v.p[5]))
		return false;
	if (v.len == 6)
		return v.p[5] != '1';
	return v.len == 8 && v.p[6] == '.' && is_digit(v.p[7]);
}

static int parse_request_line(const char *s, size_t len, struct http_head *h, const char **why)
{
	const char *sp1, *sp2;
	struct http_span v;

	if (len == 0)
		return fail(why, "empty line before the request line", -EBADMSG);
	sp1 = memchr(s, ' ', len);
	sp2 = memrchr(s, ' ', len);
	if (!sp1 || sp1 == sp2)
		return fail(why, "malformed request line", -EBADMSG);

	h->method_str = (struct http_span){ s, (size_t)(sp1 - s) };
	if (h->method_str.len == 0)
		return fail(why, "request line starts with a space", -EBADMSG);
	if (h->method_str.len > METHOD_MAX)
		return fail(why, "method too long", -EBADMSG);
	for (size_t i = 0; i < h->method_str.len; i++) {
		char c = s[i];

		if (c >= 'a' && c <= 'z')
			return fail(why, "method must be upper case", -EBADMSG);
		if (!(c >= 'A' && c <= 'Z') && c != '-' && c != '_')
			return fail(why, "invalid character in method", -EBADMSG);
	}
	h->method = method_from_span(h->method_str);

	v = (struct http_span){ sp2 + 1, len - (size_t)(sp2 + 1 - s) };
	if (v.len == 8 && memcmp(v.p, "HTTP/1.1", 8) == 0)
		h->version_minor = 1;
	else if (v.len == 8 && memcmp(v.p, "HTTP/1.0", 8) == 0)
		h->version_minor = 0;
	else if (is_other_version(v))
		return fail(why, "unsupported HTTP version", -EPROTONOSUPPORT);
	else
		return fail(why, "invalid HTTP version", -EBADMSG);

	if (sp2 == sp1 + 1)
		return fail(why, "empty request-target", -EBADMSG);
	return parse_target(sp1 + 1, (size_t)(sp2 - sp1 - 1), h, why);
}

static int parse_content_length(struct http_span v, uint64_t *ret, const char **why)
{
	uint64_t n = 0;

	if (v.len == 0)
		return fail(why, "empty Content-Length", -EBADMSG);
	for (size_t i = 0; i < v.len; i++) {
		unsigned d;

		if (v.p[i] < '0' || v.p[i] > '9')
			return fail(why, "Content-Length is not a decimal number", -EBADMSG);
		d = (unsigned)(v.p[i] - '0');
		if (n > ((uint64_t)INT64_MAX - d) / 10)
			return fail(why, "Content-Length too large", -EBADMSG);
		n = n * 10 + d;
	}
	*ret = n;
	return 0;
}

/* A comma-separated list of tokens (empty elements allowed, RFC 9110 5.6.1) */
static int parse_connection(struct http_span v, unsigned *conn, const char **why)
{
	size_t i = 0;

	while (i <= v.len) {
		size_t start, end;
		struct http_span tok;

		while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t'))
			i++;
		start = i;
		while (i < v.len && is_tchar((unsigned char)v.p[i]))
			i++;
		end = i;
		while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t'))
			i++;
		if (i < v.len && v.p[i] != ',')
			return fail(why, "invalid Connection option", -EBADMSG);
		tok = (struct http_span){ v.p + start, end - start };
		if (http_span_eq_ci(tok, "close"))
			*conn |= HTTP_CONN_CLOSE;
		else if (http_span_eq_ci(tok, "keep-alive"))
			*conn |= HTTP_CONN_KEEP_ALIVE;
		else if (http_span_eq_ci(tok, "upgrade"))
			*conn |= HTTP_CONN_UPGRADE;
		i++; /* the comma, or past the end */
	}
	return 0;
}

struct seen {
	bool content_length;
	bool transfer_encoding;
	bool upgrade;
	struct http_span upgrade_value;
};

static int parse_field(const char *s, size_t len, struct http_head *h, struct seen *seen,
		       const char **why)
{
	struct http_field f;
	const char *colon = NULL;
	size_t b, e;
	int r;

	if (s[0] == ' ' || s[0] == '\t')
		return fail(why, "obs-fold (line starting with whitespace)", -EBADMSG);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == ':') {
			colon = s + i;
			break;
		}
		if (s[i] == ' ' || s[i] == '\t')
			return fail(why, "whitespace between field name and colon", -EBADMSG);
		if (!is_tchar((unsigned char)s[i]))
			return fail(why, "invalid character in field name", -EBADMSG);
	}
	if (!colon)
		return fail(why, "field without a colon", -EBADMSG);
	if (colon == s)
		return fail(why, "empty field name", -EBADMSG);
	f.name = (struct http_span){ s, (size_t)(colon - s) };

	b = (size_t)(colon + 1 - s);
	e = len;
	while (b < e && (s[b] == ' ' || s[b] == '\t'))
		b++;
	while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t'))
		e--;
	for (size_t i = b; i < e; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(why, "control character in field value", -EBADMSG);
	}
	f.value = (struct http_span){ s + b, e - b };

	if (h->n_fields >= HTTP1_FIELDS_MAX)
		return fail(why, "too many header fields", -E2BIG);
	h->fields[h->n_fields++] = f;

	if (h->response && http_span_eq_ci(f.name, "host")) {
		/* a field like any other in a response */
	} else if (http_span_eq_ci(f.name, "host")) {
		if (h->has_host)
			return fail(why, "more than one Host field", -EBADMSG);
		h->has_host = true;
		r = parse_authority(f.value.p, f.value.len, false, &h->host, why);
		if (r < 0)
			return r;
	} else if (http_span_eq_ci(f.name, "content-length")) {
		uint64_t cl;

		if (seen->content_length && !h->response)
			return fail(why, "more than one Content-Length field", -EBADMSG);
		r = parse_content_length(f.value, &cl, why);
		if (r < 0)
			return r;
		if (seen->content_length && cl != h->content_length)
			return fail(why, "Content-Length fields with different values", -EBADMSG);
		seen->content_length = true;
		h->content_length = cl;
	} else if (http_span_eq_ci(f.name, "transfer-encoding")) {
		if (seen->transfer_encoding)
			return fail(why, "more than one Transfer-Encoding field", -EBADMSG);
		seen->transfer_encoding = true;
		if (!http_span_eq_ci(f.value, "chunked"))
			return fail(why, "Transfer-Encoding other than exactly \"chunked\"",
				    -EBADMSG);
	} else if (http_span_eq_ci(f.name, "connection")) {
		r = parse_connection(f.value, &h->conn, why);
		if (r < 0)
			return r;
	} else if (http_span_eq_ci(f.name, "upgrade")) {
		if (seen->upgrade)
			return fail(why, "more than one Upgrade field", -EBADMSG);
		seen->upgrade = true;
		seen->upgrade_value = f.value;
	}
	return 0;
}

static void set_framing(struct http_head *h, const struct seen *seen)
{
	h->body = seen->transfer_encoding ? HTTP_BODY_CHUNKED
		  : seen->content_length  ? HTTP_BODY_LENGTH
		  : h->response           ? HTTP_BODY_CLOSE
					  : HTTP_BODY_NONE;
	if (h->body != HTTP_BODY_LENGTH)
		h->content_length = 0;
	if (h->conn & HTTP_CONN_CLOSE)
		h->persistent = false;
	else
		h->persistent = h->version_minor == 1 || (h->conn & HTTP_CONN_KEEP_ALIVE);
	if ((h->conn & HTTP_CONN_UPGRADE) && seen->upgrade)
		h->upgrade = seen->upgrade_value;
}

static int check_response_head(struct http_head *h, const struct seen *seen, const char **why)
{
	if (seen->content_length && seen->transfer_encoding)
		return fail(why, "both Content-Length and Transfer-Encoding", -EBADMSG);
	if (seen->transfer_encoding && h->version_minor == 0)
		return fail(why, "Transfer-Encoding in an HTTP/1.0 response", -EBADMSG);
	set_framing(h, seen);
	return 0;
}

static int check_head(struct http_head *h, const struct seen *seen, const char **why)
{
	const struct http_authority *t = &h->target.authority;

	if (h->response)
		return check_response_head(h, seen, why);
	if (h->version_minor == 1 && !h->has_host)
		return fail(why, "HTTP/1.1 request without Host", -EBADMSG);
	if (seen->content_length && seen->transfer_encoding)
		return fail(why, "both Content-Length and Transfer-Encoding", -EBADMSG);
	if (seen->transfer_encoding && h->version_minor == 0)
		return fail(why, "Transfer-Encoding in an HTTP/1.0 request", -EBADMSG);
	if (h->method == HTTP_METHOD_CONNECT &&
	    (seen->transfer_encoding || (seen->content_length && h->content_length > 0)))
		return fail(why, "CONNECT with a body", -EBADMSG);

	if (h->has_host && h->target.form == HTTP_TARGET_ABSOLUTE) {
		if (!http1_name_equal(t->host.p, t->host.len, h->host.host.p, h->host.host.len) ||
		    t->ipv6 != h->host.ipv6 ||
		    (t->port ? t->port : 80) != (h->host.port ? h->host.port : 80))
			return fail(why, "request-target and Host name different hosts", -EBADMSG);
	}
	if (h->has_host && h->target.form == HTTP_TARGET_AUTHORITY) {
		if (!http1_name_equal(t->host.p, t->host.len, h->host.host.p, h->host.host.len) ||
		    t->ipv6 != h->host.ipv6 || (h->host.port && h->host.port != t->port))
			return fail(why, "CONNECT target and Host name different hosts", -EBADMSG);
	}

	set_framing(h, seen);
	return 0;
}

/* "HTTP/1.1 200 OK", "HTTP/1.0 404", "HTTP/1.1 204 " */
static int parse_status_line(const char *s, size_t len, struct http_head *h, const char **why)
{
	unsigned status = 0;

	if (len >= 8 && memcmp(s, "HTTP/1.1", 8) == 0)
		h->version_minor = 1;
	else if (len >= 8 && memcmp(s, "HTTP/1.0", 8) == 0)
		h->version_minor = 0;
	else {
		const char *sp = memchr(s, ' ', len);

		if (is_other_version((struct http_span){ s, sp ? (size_t)(sp - s) : len }))
			return fail(why, "unsupported HTTP version", -EPROTONOSUPPORT);
		return fail(why, "invalid HTTP version in status line", -EBADMSG);
	}
	if (len < 12 || s[8] != ' ')
		return fail(why, "malformed status line", -EBADMSG);
	for (size_t i = 9; i < 12; i++) {
		if (!is_digit(s[i]))
			return fail(why, "status code is not three digits", -EBADMSG);
		status = status * 10 + (unsigned)(s[i] - '0');
	}
	if (status < 100)
		return fail(why, "status code below 100", -EBADMSG);
	if (len > 12 && s[12] != ' ')
		return fail(why, "status code is not three digits", -EBADMSG);
	h->status = (uint16_t)status;
	h->reason = (struct http_span){ s + MIN(len, 13), len - MIN(len, 13) };
	for (size_t i = 0; i < h->reason.len; i++) {
		unsigned char c = (unsigned char)h->reason.p[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(why, "control character in reason phrase", -EBADMSG);
	}
	return 0;
}

static int parse_head(const char *buf, size_t len, bool response, struct http_head *ret,
		      const char **reterr_why)
{
	struct http_head tmp, *h = &tmp; /* @ret stays untouched on failure */
	struct seen seen = {};
	const char *why = NULL;
	size_t pos = 0, line = 0;
	int r;

	memset(h, 0, offsetof(struct http_head, fields));
	h->response = response;

	for (;;) {
		size_t i = pos, eol;

		/* find this line's CRLF, refusing NUL, bare CR and bare LF on the way */
		for (;;) {
			if (i + 2 > HTTP1_HEAD_MAX) { /* no room left for this line's CRLF */
				r = fail(&why,
					 response ? "response head too large"
						  : "request head too large",
					 -E2BIG);
				goto fail;
			}
			if (i >= len)
				return -EAGAIN;
			if (i == pos && line > 0 && (buf[i] == ' ' || buf[i] == '\t')) {
				r = fail(&why, "obs-fold (line starting with whitespace)",
					 -EBADMSG);
				goto fail;
			}
			if (buf[i] == '\0') {
				r = fail(&why,
					 response ? "NUL byte in response head"
						  : "NUL byte in request head",
					 -EBADMSG);
				goto fail;
			}
			if (buf[i] == '\n') {
				r = fail(&why, "bare LF line ending", -EBADMSG);
				goto fail;
			}
			if (buf[i] == '\r') {
				if (i + 1 >= len)
					return -EAGAIN;
				if (buf[i + 1] != '\n') {
					r = fail(&why, "bare CR", -EBADMSG);
					goto fail;
				}
				break;
			}
			i++;
		}
		eol = i;

		if (line == 0 && response)
			r = parse_status_line(buf + pos, eol - pos, h, &why);
		else if (line == 0)
			r = parse_request_line(buf + pos, eol - pos, h, &why);
		else if (eol == pos)
			break; /* the empty line: end of the head */
		else
			r = parse_field(buf + pos, eol - pos, h, &seen, &why);
		if (r < 0)
			goto fail;
		pos = eol + 2;
		line++;
	}

	r = check_head(h, &seen, &why);
	if (r < 0)
		goto fail;
	h->head_len = pos + 2;
	memcpy(ret, h, offsetof(struct http_head, fields));
	memcpy(ret->fields, h->fields, h->n_fields * sizeof(h->fields[0]));
	return (int)h->head_len;

fail:
	if (reterr_why)
		*reterr_why = why        ? why
			      : response ? "malformed response head"
					 : "malformed request head";
	return r;
}

int http1_parse_head(const char *buf, size_t len, struct http_head *ret, const char **reterr_why)
{
	return parse_head(buf, len, false, ret, reterr_why);
}

int http1_parse_response_head(const char *buf, size_t len, struct http_head *ret,
			      const char **reterr_why)
{
	return parse_head(buf, len, true, ret, reterr_why);
}

bool http1_host_matches(const struct http_head *h, const char *name, uint16_t port)
{
	const struct http_authority *a = NULL;

	if (!h || !name)
		return false;
	if (h->has_host)
		a = &h->host;
	else if (h->target.form == HTTP_TARGET_ABSOLUTE || h->target.form == HTTP_TARGET_AUTHORITY)
		a = &h->target.authority;
	if (!a || a->host.len == 0)
		return false;
	if (!http1_name_equal(a->host.p, a->host.len, name, strlen(name)))
		return false;
	return port == 0 || a->port == 0 || a->port == port;
}
