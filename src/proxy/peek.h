/* SPDX-License-Identifier: MIT */
/*
 * peek.h - classify the first bytes of a captured TCP connection (TLS, HTTP or other)
 *
 * See peek.c and docs/design/peek-and-http1.md.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/http1.h"

/* Limits on what a ClientHello may hold */
#define PEEK_HELLO_MAX (64u * 1024u) /* the handshake message, header included */
#define PEEK_SNI_MAX   255u
#define PEEK_ALPN_MAX  32u /* protocols in the ALPN extension */

enum peek_kind {
	PEEK_NEED_MORE, /* incomplete: read more (see @guess) */
	PEEK_TLS,       /* a TLS ClientHello */
	PEEK_HTTP,      /* an HTTP/1.x request head */
	PEEK_OTHER,     /* neither: relay as raw TCP (ssh, postgres, ...) */
	_PEEK_KIND_MAX,
	_PEEK_KIND_INVALID = -EINVAL,
};

/*
 * struct peek_result - what the first bytes are
 * @kind: see enum peek_kind
 * @guess: with PEEK_NEED_MORE, what the bytes so far would become: PEEK_TLS or PEEK_HTTP (a
 *         connection that stops here must be refused: it may be stalling to slip a request
 *         past the classifier), or PEEK_OTHER (nothing yet, or not TLS/HTTP whatever follows:
 *         a server-speaks-first protocol such as SMTP or MySQL sends nothing, so relay it as
 *         raw TCP when the wait runs out). Equal to @kind otherwise.
 * @consumed: bytes of @buf that were parsed: the records holding the ClientHello, or the HTTP
 *            head; 0 otherwise
 * @sni: PEEK_TLS: the server_name host_name (printable ASCII, 1-255 bytes, case as sent), or
 *       NULL when the ClientHello has no server_name extension
 * @alpn: PEEK_TLS: the ALPN protocol names in order (NULL-terminated), or NULL when the
 *        ClientHello has no ALPN extension
 * @tls_legacy_version: PEEK_TLS: the ClientHello's legacy_version (0x0301-0x0303)
 * @tls13: PEEK_TLS: supported_versions offers TLS 1.3
 * @http: PEEK_HTTP: the parsed head; its spans point into the caller's buffer
 */
struct peek_result {
	enum peek_kind kind;
	enum peek_kind guess;
	size_t consumed;
	char *sni;
	char **alpn;
	uint16_t tls_legacy_version;
	bool tls13;
	struct http_head http;
};

/**
 * peek_classify() - classify the first bytes a client sent
 * @buf: the bytes peeked so far (MSG_PEEK); the caller keeps them while it uses @ret->http
 * @len: how many
 * @ret: filled on success (free with peek_result_done()); untouched on failure
 * @reterr_why: if not NULL, set on failure to a static, printable reason for the refusal
 *
 * Decides from the first bytes whether the client speaks TLS (a ClientHello, possibly spread
 * over several records), HTTP/1.x (a request line with a known method, or anything whose first
 * line looks like a request line) or something else. TLS and HTTP are parsed completely and
 * strictly, so the proxy can hold SNI and Host to the name the connection was made to.
 *
 * The caller peeks, calls this, and while the result is PEEK_NEED_MORE waits for more bytes up
 * to its own size limit and time limit; then it refuses when @ret->guess is TLS or HTTP and
 * relays as raw TCP when it is OTHER.
 *
 * Return: the kind (>= 0) on success; on a malformed or refused hello or head: -EBADMSG
 * (malformed, ambiguous, duplicate or invalid server_name, NUL bytes, smuggling), -E2BIG (a
 * limit exceeded), -EPROTONOSUPPORT (SSLv2 or SSLv3 hello, encrypted ClientHello, HTTP/2
 * preface or another HTTP version).
 */
int peek_classify(const uint8_t *buf, size_t len, struct peek_result *ret, const char **reterr_why);

/* peek_result_done() - free what @r holds (not @r itself); @r may be zeroed or already done */
void peek_result_done(struct peek_result *r);

/**
 * peek_sni_matches() - does the ClientHello name the host the connection was made to?
 * @r: a PEEK_TLS result
 * @name: the connection's target name
 *
 * Return: true when @r has an SNI equal to @name (ASCII case and one trailing dot ignored);
 * false without an SNI.
 */
bool peek_sni_matches(const struct peek_result *r, const char *name);
