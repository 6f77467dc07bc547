/* SPDX-License-Identifier: MIT */
/*
 * h1stream.h - streaming HTTP/1.1 framing of one intercepted connection (no I/O)
 *
 * See h1stream.c and docs/design/http-engine.md for the state machine and what is refused.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/http1.h"

/* Requests sent and not yet answered; a client that pipelines more is made to wait */
#define H1_PIPELINE_MAX 16u
/* Bytes after the chunk size on one chunk-size line (the chunk extensions) */
#define H1_CHUNK_EXT_MAX 256u
/* Hexadecimal digits of one chunk size, leading zeros included */
#define H1_CHUNK_DIGITS_MAX 16u
/* Bytes of all trailer fields of one message (they are checked, then dropped) */
#define H1_TRAILER_MAX (8u * 1024u)
/* An outgoing head built by h1_head_rewrite() */
#define H1_OUT_HEAD_MAX (2u * HTTP1_HEAD_MAX)
/* Bytes of a chunk header from h1_chunk_header(), NUL included: 16 hex digits, CRLF */
#define H1_CHUNK_HEADER_MAX 19u
/* What ends a chunk's data, and what ends a chunked body (no trailers) */
#define H1_CHUNK_TAIL "\r\n"
#define H1_CHUNK_LAST "0\r\n\r\n"

enum h1_dir {
	H1_REQUEST,  /* client to upstream */
	H1_RESPONSE, /* upstream to client */
	_H1_DIR_MAX,
	_H1_DIR_INVALID = -EINVAL,
};

enum h1_event_type {
	H1_EV_NONE,    /* every byte given was consumed; feed more when it arrives */
	H1_EV_WAIT,    /* request side only: nothing consumed, it waits for the response side
			* (too many requests pipelined, or a websocket or CONNECT request awaiting
			* its answer). Stop reading the client; feed again after the next
			* H1_EV_HEAD or H1_EV_UPGRADE on the response side. */
	H1_EV_HEAD,    /* a head: @head; rewrite it with h1_head_rewrite() and send it */
	H1_EV_BODY,    /* body bytes, transfer coding removed: @data, @len; when @chunked, send
			* them as one chunk (h1_chunk_header(), data, H1_CHUNK_TAIL) */
	H1_EV_END,     /* the message is complete; when @chunked, send H1_CHUNK_LAST. When @last,
			* no message follows in this direction: flush and close */
	H1_EV_UPGRADE, /* a websocket upgrade (101) or a CONNECT tunnel (2xx) took effect: from
			* here on this direction carries raw bytes (H1_EV_RAW). Reported once on
			* each side. */
	H1_EV_RAW,     /* bytes after an upgrade: @data, @len, to pass on as they are */
	_H1_EV_MAX,
	_H1_EV_INVALID = -EINVAL,
};

/*
 * struct h1_event - what h1_conn_feed() found
 * @type: see enum h1_event_type
 * @head: H1_EV_HEAD: the parsed head; it and its spans stay valid until the next call on the
 *        same direction. The engine sets @head->persistent false when the connection cannot
 *        go on after this message (a body until close, or a request that said close).
 * @has_body: H1_EV_HEAD: H1_EV_BODY events follow (else H1_EV_END does directly)
 * @data: H1_EV_BODY, H1_EV_RAW: bytes inside the buffer given to h1_conn_feed()
 * @len: how many
 * @chunked: H1_EV_HEAD, H1_EV_BODY, H1_EV_END: the message's body is sent chunked
 * @last: H1_EV_END: the last message in this direction
 */
struct h1_event {
	enum h1_event_type type;
	const struct http_head *head;
	bool has_body;
	const uint8_t *data;
	size_t len;
	bool chunked;
	bool last;
};

struct h1_conn;

/* h1_conn_new() - the engine for one connection, both directions. Never NULL. */
struct h1_conn *h1_conn_new(void);

/* h1_conn_free() - accepts NULL; returns NULL */
struct h1_conn *h1_conn_free(struct h1_conn *c);

/**
 * h1_conn_feed() - give one direction's bytes to the engine and take the next event
 * @c: the connection
 * @dir: which direction @buf was read from
 * @buf: bytes; not copied except while a head is incomplete (at most HTTP1_HEAD_MAX)
 * @len: how many (0 to collect pending events)
 * @ev: set to the next event, or H1_EV_NONE / H1_EV_WAIT
 * @reterr_why: if not NULL, set on failure to a static, printable reason
 *
 * Returns after at most one event: call again with the bytes not consumed until it reports
 * H1_EV_NONE (all consumed) or H1_EV_WAIT. Bytes the engine consumed without an event were
 * framing (chunk sizes, trailers) or part of a head it keeps.
 *
 * Return: bytes of @buf consumed (0 to @len); -EBADMSG for a malformed or ambiguous message
 * (see docs/design/http-engine.md), -E2BIG when a limit is exceeded, -EPROTONOSUPPORT for
 * another HTTP version. After a failure the connection must be closed: every later call on
 * either direction fails the same way. A request side failure should be answered 400.
 */
int h1_conn_feed(struct h1_conn *c, enum h1_dir dir, const void *buf, size_t len,
		 struct h1_event *ev, const char **reterr_why);

/**
 * h1_conn_eof() - one direction reached its end (the peer closed or shut down writing)
 * @c: the connection
 * @dir: the direction that ended
 * @ev: set to H1_EV_END (with @last) when this ended a response body that runs until the
 *      connection closes, else H1_EV_NONE
 * @reterr_why: as for h1_conn_feed()
 *
 * Call after h1_conn_feed() returned H1_EV_NONE or H1_EV_WAIT for everything read.
 *
 * Return: 0 when the direction ended cleanly (between messages, after an upgrade, or ending
 * a body until close); -EPIPE when it ended inside a message (a truncated body or head: do not
 * complete that message for the other side, close it) or, for the response side, before
 * every request was answered.
 */
int h1_conn_eof(struct h1_conn *c, enum h1_dir dir, struct h1_event *ev, const char **reterr_why);

/**
 * h1_chunk_header() - the line that opens a chunk of @len bytes: "%zx\r\n"
 * @buf: room for H1_CHUNK_HEADER_MAX bytes
 * @len: the chunk's length, > 0 (a zero-length chunk would end the body)
 *
 * Return: the length written (NUL not counted).
 */
size_t h1_chunk_header(char buf[static H1_CHUNK_HEADER_MAX], size_t len);

/* h1_head_is_websocket() - a request asking for, or a 101 response granting, a websocket */
bool h1_head_is_websocket(const struct http_head *h);

/* Target of a struct h1_edit that replaces the request-target instead of a field */
#define H1_EDIT_TARGET SIZE_MAX

/*
 * struct h1_edit - a replacement for one field value or the request-target
 * @field: index into the head's @fields, or H1_EDIT_TARGET
 * @value: the new value (no CR, LF or NUL; for the target, visible ASCII only), @len bytes
 */
struct h1_edit {
	size_t field;
	const char *value;
	size_t len;
};

/*
 * struct h1_rewrite - how to build an outgoing head
 * @host: requests: the name the request must name (the SNI the client sent, which the
 *        connection's policy and certificate were for); ignored for responses
 * @port: requests: the connection's port; a port written in Host must equal it; also written
 *        in a Host field added to an HTTP/1.0 request without one, unless 443
 * @edits: replacements (injection), @n_edits of them; at most one per field
 */
struct h1_rewrite {
	const char *host;
	uint16_t port;
	const struct h1_edit *edits;
	size_t n_edits;
};

/* struct h1_buf - an outgoing head; may hold secrets: release it with h1_buf_done() */
struct h1_buf {
	char *p;
	size_t len;
};

/**
 * h1_head_rewrite() - the head to send on for a head the engine reported
 * @h: the head from an H1_EV_HEAD event
 * @rw: the expected host and the edits
 * @ret: the new head, set on success only; release with h1_buf_done()
 * @reterr_why: if not NULL, set on failure to a static, printable reason
 *
 * The request line (origin-form, or the CONNECT authority) or status line is kept, then every
 * field but the hop-by-hop ones (Connection and the fields it names, Keep-Alive, Proxy-*
 * including Proxy-Authorization, TE, Trailer, Upgrade unless this is a websocket upgrade) and
 * the framing fields, which the engine regenerates from what it parsed (Content-Length, or
 * "Transfer-Encoding: chunked" since it re-chunks bodies), then "Connection: close",
 * "Connection: keep-alive" (HTTP/1.0) or "Connection: Upgrade" as the message needs.
 * Connection cannot remove Host, Content-Length or Transfer-Encoding.
 *
 * Return: 0; -EPERM when a request names another host or port than @rw (answer 403);
 * -EINVAL for an invalid edit or a request without @rw->host; -E2BIG when the result would
 * exceed H1_OUT_HEAD_MAX.
 */
int h1_head_rewrite(const struct http_head *h, const struct h1_rewrite *rw, struct h1_buf *ret,
		    const char **reterr_why);

/* h1_buf_done() - zero and free what @b holds; accepts an empty one */
void h1_buf_done(struct h1_buf *b);

/*
 * h1_connection_tokens() - the comma-separated tokens of every Connection field of @h, at
 * most @max, in @ret (spans into @h's buffer). Return: how many.
 */
size_t h1_connection_tokens(const struct http_head *h, struct http_span *ret, size_t max);
