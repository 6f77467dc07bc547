/* SPDX-License-Identifier: MIT */
/*
 * http1.h - strict HTTP/1.x request- and response-head parser (no I/O, no allocation)
 *
 * See http1.c and docs/design/peek-and-http1.md for what is accepted and refused.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whole head (request line, fields, final empty line) and field count limits */
#define HTTP1_HEAD_MAX   (64u * 1024u)
#define HTTP1_FIELDS_MAX 100u
/* A host in a target or Host field: at most this many bytes (brackets of IPv6 excluded) */
#define HTTP1_HOST_MAX 255u

enum http_method {
	HTTP_METHOD_GET,
	HTTP_METHOD_HEAD,
	HTTP_METHOD_POST,
	HTTP_METHOD_PUT,
	HTTP_METHOD_DELETE,
	HTTP_METHOD_CONNECT,
	HTTP_METHOD_OPTIONS,
	HTTP_METHOD_TRACE,
	HTTP_METHOD_PATCH,
	HTTP_METHOD_OTHER, /* another upper-case token (WebDAV's PROPFIND, ...); see method_str */
	_HTTP_METHOD_MAX,
	_HTTP_METHOD_INVALID = -EINVAL,
};

enum http_target_form {
	HTTP_TARGET_ORIGIN,    /* "/path?query" */
	HTTP_TARGET_ABSOLUTE,  /* "http://host[:port]/path?query" (explicit proxy) */
	HTTP_TARGET_AUTHORITY, /* "host:port" (CONNECT only) */
	HTTP_TARGET_ASTERISK,  /* "*" (OPTIONS only) */
	_HTTP_TARGET_FORM_MAX,
	_HTTP_TARGET_FORM_INVALID = -EINVAL,
};

enum http_body {
	HTTP_BODY_NONE,    /* no Content-Length, no Transfer-Encoding: no body */
	HTTP_BODY_LENGTH,  /* Content-Length: content_length bytes follow the head */
	HTTP_BODY_CHUNKED, /* Transfer-Encoding: chunked */
	HTTP_BODY_CLOSE,   /* responses only: neither field, the body runs until the connection
			    * closes (unless the request method or status says there is none) */
	_HTTP_BODY_MAX,
	_HTTP_BODY_INVALID = -EINVAL,
};

/* Connection options seen in Connection fields (case-insensitive tokens) */
#define HTTP_CONN_CLOSE      (1u << 0)
#define HTTP_CONN_KEEP_ALIVE (1u << 1)
#define HTTP_CONN_UPGRADE    (1u << 2)

/*
 * struct http_span - bytes inside the parsed buffer; not NUL-terminated
 */
struct http_span {
	const char *p;
	size_t len;
};

/* http_span_eq_ci() - @s equals @lit, ASCII case ignored; @lit is written in lower case */
bool http_span_eq_ci(struct http_span s, const char *lit);

/*
 * struct http_authority - a host and optional port
 * @host: the host as written, without the brackets of an IPv6 literal; checked to be letters,
 *        digits, '-', '.', '_' (or an IPv6 literal inet_pton() accepts); case is kept
 * @port: 1-65535, or 0 when no port was written
 * @ipv6: @host was an IPv6 literal in brackets
 */
struct http_authority {
	struct http_span host;
	uint16_t port;
	bool ipv6;
};

/*
 * struct http_target - the request-target
 * @form: see enum http_target_form
 * @authority: for the absolute and authority forms (the port of absolute-form defaults to 0,
 *             meaning "none written", as in the Host field)
 * @path: path and query: the whole target in origin-form, the part after the authority in
 *        absolute-form ("/" when empty there is reported as an empty span), empty otherwise
 */
struct http_target {
	enum http_target_form form;
	struct http_authority authority;
	struct http_span path;
};

/* struct http_field - one header field: name and value with surrounding whitespace trimmed */
struct http_field {
	struct http_span name;
	struct http_span value;
};

/*
 * struct http_head - a parsed request or response head; every span points into the parsed
 * buffer
 * @head_len: bytes of the head, final CRLF CRLF included: the body or next request starts here
 * @response: a response head (http1_parse_response_head()); @method, @method_str, @target,
 *            @has_host and @host are then unset, and @status and @reason set
 * @status: the response's status code, 100-999
 * @reason: the response's reason phrase (may be empty)
 * @method: the method; @method_str its text
 * @target: the request-target
 * @version_minor: 0 for HTTP/1.0, 1 for HTTP/1.1
 * @has_host: a Host field was present (always for HTTP/1.1)
 * @host: the Host field parsed
 * @body: how the body is framed; @content_length with HTTP_BODY_LENGTH
 * @conn: HTTP_CONN_* options named by Connection fields
 * @persistent: the connection stays open after this exchange (1.1 without close, or 1.0 with
 *              keep-alive)
 * @upgrade: the Upgrade field's value when Connection names "upgrade" and one is present, else
 *           an empty span (p == NULL)
 * @fields: every field in order, @n_fields of them
 */
struct http_head {
	size_t head_len;
	bool response;
	uint16_t status;
	struct http_span reason;
	enum http_method method;
	struct http_span method_str;
	struct http_target target;
	uint8_t version_minor;
	bool has_host;
	struct http_authority host;
	enum http_body body;
	uint64_t content_length;
	unsigned conn;
	bool persistent;
	struct http_span upgrade;
	size_t n_fields;
	struct http_field fields[HTTP1_FIELDS_MAX];
};

/**
 * http1_parse_head() - parse and validate an HTTP/1.x request head
 * @buf: the bytes received so far; need not be NUL-terminated
 * @len: how many
 * @ret: filled on success only; its spans point into @buf
 * @reterr_why: if not NULL, set on failure (not on -EAGAIN) to a static, printable reason
 *              suitable for a 400 response body or a log line
 *
 * Lines are validated as they arrive, so a malformed head fails as soon as the bad byte is in
 * @buf, even before the head is complete.
 *
 * Return: the head's length (> 0) on success; -EAGAIN when @buf holds a valid but incomplete
 * head (read more, up to HTTP1_HEAD_MAX); -EBADMSG for a malformed or ambiguous head (syntax,
 * smuggling, Host confusion); -E2BIG when a limit is exceeded; -EPROTONOSUPPORT for a version
 * other than HTTP/1.0 and HTTP/1.1 (the HTTP/2 preface among them).
 */
int http1_parse_head(const char *buf, size_t len, struct http_head *ret, const char **reterr_why);

/**
 * http1_parse_response_head() - parse and validate an HTTP/1.x response head
 * @buf: the bytes received so far; need not be NUL-terminated
 * @len: how many
 * @ret: filled on success only; its spans point into @buf
 * @reterr_why: as for http1_parse_head()
 *
 * The status line is "HTTP/1.1" or "HTTP/1.0", SP, three digits (100-999), and SP and a
 * reason phrase (both may be missing). Fields follow the request rules (no obs-fold, NUL, bare
 * CR or LF; one Transfer-Encoding of exactly "chunked", never with Content-Length), except
 * that Host is not looked at and repeated Content-Length fields with the same value are
 * accepted (servers do send them); different values are refused. Without either field the
 * body is HTTP_BODY_CLOSE; only the caller knows whether the request method (HEAD) or the
 * status (1xx, 204, 304) means there is no body at all, and if there is one, that the
 * connection cannot persist whatever @persistent says (it reflects the Connection field).
 *
 * Return: as for http1_parse_head().
 */
int http1_parse_response_head(const char *buf, size_t len, struct http_head *ret,
			      const char **reterr_why);

/**
 * http1_name_equal() - compare two host names as DNS does
 * @a: one name, @a_len bytes
 * @b: the other, @b_len bytes
 *
 * ASCII case is ignored and so is one trailing dot on either side; nothing else is normalised
 * (an IPv6 literal must be spelled the same way).
 *
 * Return: true if equal.
 */
bool http1_name_equal(const char *a, size_t a_len, const char *b, size_t b_len);

/**
 * http1_host_matches() - does a request name the host its connection was made to?
 * @h: a head parsed by http1_parse_head()
 * @name: the name the connection was made to (the fake address's name, the CONNECT target,
 *        the SNI), without brackets for an IPv6 literal
 * @port: the port the connection was made to, or 0 not to compare ports
 *
 * The request's host is its Host field or, for HTTP/1.0 without one, the authority of an
 * absolute- or authority-form target (http1_parse_head() already required the two to agree
 * when both are present). A port written there must equal @port; a request that writes no port
 * names the scheme's default, which the proxy knows better than the request, so it matches.
 *
 * Return: true when the request names @name (and @port); false otherwise, including a request
 * that names no host at all.
 */
bool http1_host_matches(const struct http_head *h, const char *name, uint16_t port);

/* http1_method_to_string() - "GET", ...; NULL for HTTP_METHOD_OTHER and invalid values */
const char *http1_method_to_string(enum http_method m);
