/* SPDX-License-Identifier: MIT */
/*
 * h1stream.c - streaming HTTP/1.1 framing of one intercepted connection
 *
 * DOC: Theory of Operation
 * Once the proxy has terminated a client's TLS connection and opened its own to the server,
 * it must read the requests it relays one by one: to check each Host, swap placeholders in
 * each head, and know where each body ends, so that a second request on a kept-alive
 * connection cannot slip through unread. This engine does the framing and nothing else: the
 * caller feeds it the bytes read from either side and gets events back (a head, body bytes,
 * the end of a message, an upgrade), and writes what it wants to the other side. It does no
 * I/O, never logs, and keeps only an incomplete head (at most HTTP1_HEAD_MAX bytes per
 * direction); body bytes are reported in place, inside the caller's buffer, so that a
 * streamed response (server-sent events) flows as it arrives.
 *
 * Heads are parsed by http1.c (requests and responses): its refusals (both Content-Length and
 * Transfer-Encoding, obs-fold, NUL, bare CR or LF, Transfer-Encoding other than "chunked",
 * Content-Length twice, ...) are this engine's. Each direction then reads the body:
 *
 *   HEAD -> LENGTH | CHUNK_SIZE ... | CLOSE_BODY | (none) -> END -> HEAD | CLOSED | RAW
 *
 * A chunked body is decoded: the caller gets the chunk data and re-chunks it (one chunk per
 * event). Chunk sizes are 1-16 hex digits below 2^63, extensions at most H1_CHUNK_EXT_MAX
 * bytes of visible ASCII and are dropped, every line must end in CRLF, and trailers are
 * checked like header fields (at most H1_TRAILER_MAX bytes) and dropped. Re-encoding rather
 * than passing the chunked bytes on means the server sees only framing this engine wrote.
 *
 * The response side needs the request each response answers: a request head pushes what
 * matters (HEAD method, CONNECT, websocket upgrade, close) on a queue of H1_PIPELINE_MAX
 * entries, and a final response head pops it. A response to HEAD, and 1xx, 204 and 304
 * responses, have no body whatever their fields say; a 1xx other than 101 is interim and the
 * request waits for another response. A response without Content-Length or chunked runs until
 * the server closes. A 101 is accepted only for a websocket upgrade request, and a 2xx to
 * CONNECT opens a tunnel: both switch the connection to raw bytes both ways. Pipelined
 * requests are supported; past H1_PIPELINE_MAX unanswered ones, and after a websocket or
 * CONNECT request until its answer, the request side says H1_EV_WAIT and consumes nothing.
 *
 * Any error is final for the whole connection: the proxy closes it (after a 400 for a bad
 * request) rather than trying to find the next message in a stream it no longer understands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/macro.h"
#include "common/xmalloc.h"
#include "proxy/h1stream.h"

#define HBUF_INITIAL 4096u

enum h1_state {
	ST_HEAD,
	ST_LENGTH,
	ST_CHUNK_SIZE,
	ST_CHUNK_EXT,
	ST_CHUNK_SIZE_LF,
	ST_CHUNK_DATA,
	ST_CHUNK_DATA_CR,
	ST_CHUNK_DATA_LF,
	ST_TRAILER_START, /* at the start of a trailer line (or of the final empty line) */
	ST_TRAILER_NAME,
	ST_TRAILER_VALUE,
	ST_TRAILER_LF, /* after a trailer field's CR */
	ST_FINAL_LF,   /* after the CR of the empty line that ends a chunked body */
	ST_CLOSE_BODY,
	ST_END,     /* the message is complete: H1_EV_END is due */
	ST_UPGRADE, /* H1_EV_UPGRADE is due */
	ST_RAW,
	ST_CLOSED,
	ST_ERROR,
};

/* What the response side must know about a request it has yet to see answered */
struct h1_expect {
	bool head_method;
	bool connect;
	bool websocket;
	bool close;
};

struct h1_side {
	enum h1_state state;
	int err;
	const char *why;
	char *hbuf;
	size_t hlen, hcap;
	struct http_head head;
	uint64_t remaining; /* of a Content-Length body or of a chunk */
	unsigned digits;    /* of the chunk size read so far */
	size_t ext_len;     /* of the chunk extensions read so far */
	size_t trailer_len; /* of the trailers read so far */
	bool chunked;       /* the current message's body */
	bool last;          /* the current message ends this direction */
	bool then_wait;     /* request: after it, wait for its response (websocket, CONNECT) */
};

struct h1_conn {
	struct h1_side side[_H1_DIR_MAX];
	struct h1_expect queue[H1_PIPELINE_MAX];
	size_t queue_first, queue_len;
	bool request_waits; /* the request side waits for a websocket or CONNECT answer */
	bool raw;           /* upgraded: raw bytes both ways */
};

struct h1_conn *h1_conn_new(void)
{
	return xcalloc(1, sizeof(struct h1_conn));
}

struct h1_conn *h1_conn_free(struct h1_conn *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < _H1_DIR_MAX; i++)
		free(c->side[i].hbuf);
	free(c);
	return NULL;
}

static int side_fail(struct h1_side *s, int r, const char *why)
{
	s->state = ST_ERROR;
	s->err = r;
	s->why = why;
	return r;
}

static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c);
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool h1_head_is_websocket(const struct http_head *h)
{
	if (!(h->conn & HTTP_CONN_UPGRADE) || !http_span_eq_ci(h->upgrade, "websocket"))
		return false;
	if (h->response)
		return h->status == 101;
	return h->method == HTTP_METHOD_GET && h->version_minor == 1 &&
	       !(h->conn & HTTP_CONN_CLOSE);
}

size_t h1_chunk_header(char buf[static H1_CHUNK_HEADER_MAX], size_t len)
{
	int n = snprintf(buf, H1_CHUNK_HEADER_MAX, "%zx\r\n", len);

	PADDOCK_ASSERT(n > 0 && (size_t)n < H1_CHUNK_HEADER_MAX);
	return (size_t)n;
}

/* The state after a message's end, once H1_EV_END is reported. */
static void request_next(struct h1_conn *c, struct h1_side *s)
{
	s->hlen = 0;
	if (c->raw)
		s->state = ST_UPGRADE;
	else if (s->then_wait) {
		c->request_waits = true;
		s->state = ST_HEAD;
	} else
		s->state = s->last ? ST_CLOSED : ST_HEAD;
}

/* Set up reading the body of the head just parsed into @s->head. */
static void side_start_body(struct h1_side *s, bool has_body)
{
	struct http_head *h = &s->head;

	s->chunked = false;
	if (!has_body) {
		s->state = ST_END;
		return;
	}
	switch (h->body) {
	case HTTP_BODY_LENGTH:
		s->remaining = h->content_length;
		s->state = h->content_length > 0 ? ST_LENGTH : ST_END;
		break;
	case HTTP_BODY_CHUNKED:
		s->chunked = true;
		s->digits = 0;
		s->remaining = 0;
		s->ext_len = 0;
		s->trailer_len = 0;
		s->state = ST_CHUNK_SIZE;
		break;
	case HTTP_BODY_CLOSE:
		s->state = ST_CLOSE_BODY;
		break;
	case HTTP_BODY_NONE:
	case _HTTP_BODY_MAX:
	case _HTTP_BODY_INVALID:
	default:
		s->state = ST_END;
		break;
	}
}

static int request_head_done(struct h1_conn *c, struct h1_side *s, struct h1_event *ev)
{
	struct http_head *h = &s->head;
	struct h1_expect *e;

	PADDOCK_ASSERT(c->queue_len < H1_PIPELINE_MAX);
	e = &c->queue[(c->queue_first + c->queue_len++) % H1_PIPELINE_MAX];
	*e = (struct h1_expect){
		.head_method = h->method == HTTP_METHOD_HEAD,
		.connect = h->method == HTTP_METHOD_CONNECT,
		.websocket = h1_head_is_websocket(h),
		.close = !h->persistent,
	};
	s->then_wait = e->connect || e->websocket;
	s->last = !h->persistent;
	side_start_body(s, true);
	ev->type = H1_EV_HEAD;
	ev->head = h;
	ev->has_body = s->state != ST_END;
	ev->chunked = s->chunked;
	return 0;
}

static int response_head_done(struct h1_conn *c, struct h1_side *s, struct h1_event *ev)
{
	struct http_head *h = &s->head;
	struct h1_side *req = &c->side[H1_REQUEST];
	struct h1_expect e = c->queue[c->queue_first];
	bool has_body;

	if (h->status == 101) {
		if (!e.websocket || !h1_head_is_websocket(h))
			return side_fail(s, -EBADMSG,
					 "101 Switching Protocols without a websocket upgrade");
		if (!(req->state == ST_END || (req->state == ST_HEAD && c->request_waits)))
			return side_fail(s, -EBADMSG,
					 "101 Switching Protocols before the request ended");
	} else if (h->status < 200) {
		/* interim (100 Continue, 103 Early Hints): the request awaits another answer */
		ev->type = H1_EV_HEAD;
		ev->head = h;
		s->state = ST_HEAD;
		s->hlen = 0;
		return 0;
	}

	c->queue_first = (c->queue_first + 1) % H1_PIPELINE_MAX;
	c->queue_len--;
	if (h->status == 101 || (e.connect && h->status / 100 == 2)) {
		if (e.connect &&
		    !(req->state == ST_END || (req->state == ST_HEAD && c->request_waits)))
			return side_fail(s, -EBADMSG, "CONNECT answered before the request ended");
		c->raw = true;
		c->request_waits = false;
		h->persistent = false;
		s->chunked = false;
		s->state = ST_UPGRADE;
		ev->type = H1_EV_HEAD;
		ev->head = h;
		return 0;
	}
	if (e.connect || e.websocket)
		c->request_waits = false;

	has_body = !e.head_method && h->status != 204 && h->status != 304;
	if (has_body && h->body == HTTP_BODY_CLOSE)
		h->persistent = false;
	if (e.close)
		h->persistent = false;
	s->last = !h->persistent;
	side_start_body(s, has_body);
	ev->type = H1_EV_HEAD;
	ev->head = h;
	ev->has_body = s->state != ST_END;
	ev->chunked = s->chunked;
	return 0;
}

/* Do the bytes just added to the head buffer, from @old on, call for parsing it again? */
static bool head_worth_parsing(const struct h1_side *s, size_t old)
{
	const char *p = s->hbuf + old;
	size_t n = s->hlen - old;

	if (s->hlen >= HTTP1_HEAD_MAX)
		return true;
	if (old > 0 && s->hbuf[old - 1] == '\r')
		return true; /* a CR, now followed by something */
	return memchr(p, '\n', n) || memchr(p, '\r', n) || memchr(p, '\0', n);
}

/* Collect and parse a head; returns bytes consumed, with ev->type H1_EV_HEAD when done. */
static int side_read_head(struct h1_conn *c, enum h1_dir dir, struct h1_side *s, const uint8_t *buf,
			  size_t len, struct h1_event *ev)
{
	size_t old = s->hlen, n = MIN(len, HTTP1_HEAD_MAX - s->hlen);
	const char *why = NULL;
	int r;

	if (s->hlen + n > s->hcap) {
		size_t cap = s->hcap ? s->hcap : HBUF_INITIAL;

		while (cap < s->hlen + n)
			cap *= 2;
		s->hcap = MIN(cap, (size_t)HTTP1_HEAD_MAX);
		s->hbuf = xrealloc(s->hbuf, s->hcap);
	}
	memcpy(s->hbuf + s->hlen, buf, n);
	s->hlen += n;
	if (!head_worth_parsing(s, old))
		return (int)n;

	if (dir == H1_REQUEST)
		r = http1_parse_head(s->hbuf, s->hlen, &s->head, &why);
	else
		r = http1_parse_response_head(s->hbuf, s->hlen, &s->head, &why);
	if (r == -EAGAIN) {
		if (s->hlen >= HTTP1_HEAD_MAX) /* cannot happen: the parser says E2BIG first */
			return side_fail(s, -E2BIG, "head too large");
		return (int)n;
	}
	if (r < 0)
		return side_fail(s, r, why);
	/* the head was incomplete before these bytes: it ends inside them */
	PADDOCK_ASSERT((size_t)r > old && (size_t)r <= s->hlen);
	n = (size_t)r - old;

	r = dir == H1_REQUEST ? request_head_done(c, s, ev) : response_head_done(c, s, ev);
	if (r < 0)
		return r;
	return (int)n;
}

/* One byte of a trailer section (after the last chunk). */
static int trailer_byte(struct h1_side *s, unsigned char ch)
{
	if (++s->trailer_len > H1_TRAILER_MAX)
		return side_fail(s, -E2BIG, "trailer fields too large");
	if (ch == '\0')
		return side_fail(s, -EBADMSG, "NUL byte in trailer");
	if (ch == '\n' && s->state != ST_TRAILER_LF && s->state != ST_FINAL_LF)
		return side_fail(s, -EBADMSG, "bare LF in trailer");

	if (s->state == ST_TRAILER_START) {
		if (ch == '\r')
			s->state = ST_FINAL_LF;
		else if (ch == ' ' || ch == '\t')
			return side_fail(s, -EBADMSG, "obs-fold in trailer");
		else if (!is_tchar(ch))
			return side_fail(s, -EBADMSG, "invalid trailer field name");
		else
			s->state = ST_TRAILER_NAME;
	} else if (s->state == ST_TRAILER_NAME) {
		if (ch == ':')
			s->state = ST_TRAILER_VALUE;
		else if (!is_tchar(ch))
			return side_fail(s, -EBADMSG, "invalid trailer field name");
	} else if (s->state == ST_TRAILER_VALUE) {
		if (ch == '\r')
			s->state = ST_TRAILER_LF;
		else if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return side_fail(s, -EBADMSG, "control character in trailer");
	} else if (s->state == ST_TRAILER_LF) {
		if (ch != '\n')
			return side_fail(s, -EBADMSG, "bare CR in trailer");
		s->state = ST_TRAILER_START;
	} else {
		PADDOCK_ASSERT(s->state == ST_FINAL_LF);
		if (ch != '\n')
			return side_fail(s, -EBADMSG, "bare CR after the last chunk");
		s->state = ST_END;
	}
	return 0;
}

/* One byte of the chunk size line */
static int chunk_size_byte(struct h1_side *s, unsigned char ch)
{
	int v = hex_value(ch);

	if (v >= 0) {
		if (++s->digits > H1_CHUNK_DIGITS_MAX || s->remaining > (INT64_MAX >> 4))
			return side_fail(s, -EBADMSG, "chunk size too large");
		s->remaining = (s->remaining << 4) | (uint64_t)v;
		return 0;
	}
	if (s->digits == 0)
		return side_fail(s, -EBADMSG, "invalid chunk size");
	if (ch == ';') {
		s->ext_len = 1;
		s->state = ST_CHUNK_EXT;
	} else if (ch == '\r')
		s->state = ST_CHUNK_SIZE_LF;
	else
		return side_fail(s, -EBADMSG, "invalid character after chunk size");
	return 0;
}

/* One byte of chunk framing (size line, CRLF after the data) or of the trailers. */
static int chunk_byte(struct h1_side *s, unsigned char ch)
{
	if (s->state == ST_CHUNK_SIZE)
		return chunk_size_byte(s, ch);
	if (s->state == ST_CHUNK_EXT) {
		if (ch == '\r') {
			s->state = ST_CHUNK_SIZE_LF;
			return 0;
		}
		if (++s->ext_len > H1_CHUNK_EXT_MAX)
			return side_fail(s, -E2BIG, "chunk extension too long");
		if ((ch < 0x20 && ch != '\t') || ch >= 0x7f)
			return side_fail(s, -EBADMSG, "invalid character in chunk extension");
		return 0;
	}
	if (s->state == ST_CHUNK_SIZE_LF) {
		if (ch != '\n')
			return side_fail(s, -EBADMSG, "bare CR in chunk size line");
		s->digits = 0;
		s->ext_len = 0;
		s->state = s->remaining > 0 ? ST_CHUNK_DATA : ST_TRAILER_START;
		return 0;
	}
	if (s->state == ST_CHUNK_DATA_CR) {
		if (ch != '\r')
			return side_fail(s, -EBADMSG, "chunk data longer than its size");
		s->state = ST_CHUNK_DATA_LF;
		return 0;
	}
	if (s->state == ST_CHUNK_DATA_LF) {
		if (ch != '\n')
			return side_fail(s, -EBADMSG, "bare CR after chunk data");
		s->state = ST_CHUNK_SIZE;
		return 0;
	}
	return trailer_byte(s, ch);
}

/* The END event, and where the direction goes after it. */
static void side_end(struct h1_conn *c, enum h1_dir dir, struct h1_side *s, struct h1_event *ev)
{
	ev->type = H1_EV_END;
	ev->chunked = s->chunked;
	ev->last = s->last;
	if (dir == H1_REQUEST)
		request_next(c, s);
	else {
		s->hlen = 0;
		s->state = s->last ? ST_CLOSED : ST_HEAD;
	}
}

static int side_step(struct h1_conn *c, enum h1_dir dir, const uint8_t *buf, size_t len,
		     struct h1_event *ev)
{
	struct h1_side *s = &c->side[dir];
	size_t pos = 0;
	int r;

	for (;;) {
		switch (s->state) {
		case ST_HEAD:
			if (c->raw && dir == H1_REQUEST && s->hlen == 0) {
				s->state = ST_UPGRADE;
				continue;
			}
			if (pos == len)
				return (int)pos;
			if (dir == H1_REQUEST && s->hlen == 0 &&
			    (c->request_waits || c->queue_len >= H1_PIPELINE_MAX)) {
				ev->type = H1_EV_WAIT;
				return (int)pos;
			}
			if (dir == H1_RESPONSE && c->queue_len == 0)
				return side_fail(s, -EBADMSG, "response without a request");
			r = side_read_head(c, dir, s, buf + pos, len - pos, ev);
			if (r < 0)
				return r;
			pos += (size_t)r;
			if (ev->type != H1_EV_NONE)
				return (int)pos;
			break;
		case ST_LENGTH:
		case ST_CHUNK_DATA: {
			size_t n = (size_t)MIN((uint64_t)(len - pos), s->remaining);

			if (n == 0)
				return (int)pos;
			ev->type = H1_EV_BODY;
			ev->data = buf + pos;
			ev->len = n;
			ev->chunked = s->chunked;
			s->remaining -= n;
			if (s->remaining == 0)
				s->state = s->state == ST_LENGTH ? ST_END : ST_CHUNK_DATA_CR;
			return (int)(pos + n);
		}
		case ST_CLOSE_BODY:
		case ST_RAW:
			if (pos == len)
				return (int)pos;
			ev->type = s->state == ST_RAW ? H1_EV_RAW : H1_EV_BODY;
			ev->data = buf + pos;
			ev->len = len - pos;
			return (int)len;
		case ST_END:
			side_end(c, dir, s, ev);
			return (int)pos;
		case ST_UPGRADE:
			ev->type = H1_EV_UPGRADE;
			s->state = ST_RAW;
			return (int)pos;
		case ST_CLOSED:
			if (pos < len)
				return side_fail(s, -EBADMSG, "data after the last message");
			return (int)pos;
		case ST_ERROR:
			return s->err;
		case ST_CHUNK_SIZE:
		case ST_CHUNK_EXT:
		case ST_CHUNK_SIZE_LF:
		case ST_CHUNK_DATA_CR:
		case ST_CHUNK_DATA_LF:
		case ST_TRAILER_START:
		case ST_TRAILER_NAME:
		case ST_TRAILER_VALUE:
		case ST_TRAILER_LF:
		case ST_FINAL_LF:
		default:
			if (pos == len)
				return (int)pos;
			r = chunk_byte(s, buf[pos++]);
			if (r < 0)
				return r;
			break;
		}
	}
}

/* An error on one side is the connection's: both sides report it from then on. */
static int conn_failed(struct h1_conn *c, const char **why)
{
	for (size_t i = 0; i < _H1_DIR_MAX; i++)
		if (c->side[i].state == ST_ERROR) {
			if (why)
				*why = c->side[i].why;
			return c->side[i].err;
		}
	return 0;
}

int h1_conn_feed(struct h1_conn *c, enum h1_dir dir, const void *buf, size_t len,
		 struct h1_event *ev, const char **reterr_why)
{
	int r;

	PADDOCK_ASSERT(c && ev && (dir == H1_REQUEST || dir == H1_RESPONSE));
	PADDOCK_ASSERT(buf || len == 0);
	*ev = (struct h1_event){ .type = H1_EV_NONE };
	r = conn_failed(c, reterr_why);
	if (r < 0)
		return r;
	/* consumed counts are returned as int */
	len = MIN(len, (size_t)INT32_MAX);
	r = side_step(c, dir, buf, len, ev);
	if (r < 0) {
		*ev = (struct h1_event){ .type = H1_EV_NONE };
		if (reterr_why)
			*reterr_why = c->side[dir].why;
	}
	return r;
}

int h1_conn_eof(struct h1_conn *c, enum h1_dir dir, struct h1_event *ev, const char **reterr_why)
{
	struct h1_side *s;
	int r;

	PADDOCK_ASSERT(c && ev && (dir == H1_REQUEST || dir == H1_RESPONSE));
	*ev = (struct h1_event){ .type = H1_EV_NONE };
	r = conn_failed(c, reterr_why);
	if (r < 0)
		return r;
	s = &c->side[dir];
	switch (s->state) {
	case ST_CLOSE_BODY:
		s->last = true;
		side_end(c, dir, s, ev);
		return 0;
	case ST_HEAD:
		if (s->hlen > 0)
			break;
		if (dir == H1_RESPONSE && c->queue_len > 0) {
			if (reterr_why)
				*reterr_why = "server closed before answering every request";
			return -EPIPE;
		}
		return 0;
	case ST_RAW:
	case ST_CLOSED:
	case ST_UPGRADE:
		return 0;
	case ST_END: /* complete, the event not collected yet: h1_conn_feed() was not drained */
	case ST_LENGTH:
	case ST_CHUNK_SIZE:
	case ST_CHUNK_EXT:
	case ST_CHUNK_SIZE_LF:
	case ST_CHUNK_DATA:
	case ST_CHUNK_DATA_CR:
	case ST_CHUNK_DATA_LF:
	case ST_TRAILER_START:
	case ST_TRAILER_NAME:
	case ST_TRAILER_VALUE:
	case ST_TRAILER_LF:
	case ST_FINAL_LF:
	case ST_ERROR:
	default:
		break;
	}
	if (reterr_why)
		*reterr_why = dir == H1_REQUEST ? "client closed inside a request"
						: "server closed inside a response";
	return -EPIPE;
}

/*
 * Head rewriting
 */

/* Fields never sent on (besides those Connection names), and framing fields regenerated */
static const char *const hop_by_hop[] = {
	"connection",        "keep-alive",     "te", "trailer", "upgrade",
	"transfer-encoding", "content-length",
};

/* Fields a Connection option cannot remove: the proxy decides about them */
static const char *const protected_fields[] = { "host", "content-length", "transfer-encoding" };

#define CONN_TOKENS_MAX 32u

size_t h1_connection_tokens(const struct http_head *h, struct http_span *ret, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < h->n_fields; i++) {
		const struct http_field *f = &h->fields[i];
		const char *p = f->value.p, *end = f->value.p + f->value.len;

		if (!http_span_eq_ci(f->name, "connection"))
			continue;
		while (p < end && n < max) {
			const char *t = p, *e;

			while (t < end && (*t == ' ' || *t == '\t' || *t == ','))
				t++;
			e = t;
			while (e < end && *e != ',' && *e != ' ' && *e != '\t')
				e++;
			if (e > t)
				ret[n++] = (struct http_span){ t, (size_t)(e - t) };
			p = e;
		}
	}
	return n;
}

static bool field_dropped(struct http_span name, bool keep_upgrade, const struct http_span *tokens,
			  size_t n_tokens)
{
	if (name.len >= 6 && strncasecmp(name.p, "proxy-", 6) == 0)
		return true;
	if (keep_upgrade && http_span_eq_ci(name, "upgrade"))
		return false;
	for (size_t i = 0; i < ELEMENTSOF(hop_by_hop); i++)
		if (http_span_eq_ci(name, hop_by_hop[i]))
			return true;
	for (size_t i = 0; i < ELEMENTSOF(protected_fields); i++)
		if (http_span_eq_ci(name, protected_fields[i]))
			return false;
	for (size_t i = 0; i < n_tokens; i++)
		if (name.len == tokens[i].len && strncasecmp(name.p, tokens[i].p, name.len) == 0)
			return true;
	return false;
}

/* A writer that only counts when @p is NULL: one pass to size, one to fill */
struct out {
	char *p;
	size_t len;
};

static void out_put(struct out *o, const void *s, size_t n)
{
	if (o->p && n > 0)
		memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void out_str(struct out *o, const char *s)
{
	out_put(o, s, strlen(s));
}

static void out_span(struct out *o, struct http_span s)
{
	out_put(o, s.p, s.len);
}

static void out_fmt_u64(struct out *o, uint64_t v)
{
	char b[24];
	int n = snprintf(b, sizeof(b), "%llu", (unsigned long long)v);

	out_put(o, b, (size_t)n);
}

static const struct h1_edit *edit_for(const struct h1_rewrite *rw, size_t field)
{
	for (size_t i = 0; i < rw->n_edits; i++)
		if (rw->edits[i].field == field)
			return &rw->edits[i];
	return NULL;
}

static int edit_fail(const char **why, const char *msg)
{
	*why = msg;
	return -EINVAL;
}

static int check_edits(const struct http_head *h, const struct h1_rewrite *rw, const char **why)
{
	for (size_t i = 0; i < rw->n_edits; i++) {
		const struct h1_edit *e = &rw->edits[i];
		bool target = e->field == H1_EDIT_TARGET;

		if (!e->value && e->len > 0)
			return edit_fail(why, "edit without a value");
		if (target ? h->response : e->field >= h->n_fields)
			return edit_fail(why, "edit of a field the head does not have");
		if (target &&
		    (e->len == 0 || e->value[0] != '/' || h->target.form == HTTP_TARGET_AUTHORITY ||
		     h->target.form == HTTP_TARGET_ASTERISK))
			return edit_fail(why, "invalid request-target edit");
		for (size_t j = 0; j < i; j++)
			if (rw->edits[j].field == e->field)
				return edit_fail(why, "two edits of one field");
		for (size_t k = 0; k < e->len; k++) {
			unsigned char ch = (unsigned char)e->value[k];

			if (target ? (ch <= 0x20 || ch >= 0x7f || ch == '#')
				   : ((ch < 0x20 && ch != '\t') || ch == 0x7f))
				return edit_fail(why, "invalid character in an edited value");
		}
	}
	return 0;
}

static void write_start_line(struct out *o, const struct http_head *h, const struct h1_edit *te)
{
	char b[24];

	if (h->response) {
		(void)snprintf(b, sizeof(b), "HTTP/1.%u %03u ", h->version_minor, h->status);
		out_str(o, b);
		out_span(o, h->reason);
		out_str(o, "\r\n");
		return;
	}
	out_span(o, h->method_str);
	out_str(o, " ");
	if (te)
		out_put(o, te->value, te->len);
	else if (h->target.form == HTTP_TARGET_ASTERISK)
		out_str(o, "*");
	else if (h->target.form == HTTP_TARGET_AUTHORITY) {
		const struct http_authority *a = &h->target.authority;

		out_str(o, a->ipv6 ? "[" : "");
		out_span(o, a->host);
		(void)snprintf(b, sizeof(b), "%s:%u", a->ipv6 ? "]" : "", a->port);
		out_str(o, b);
	} else if (h->target.path.len == 0)
		out_str(o, "/");
	else
		out_span(o, h->target.path);
	(void)snprintf(b, sizeof(b), " HTTP/1.%u\r\n", h->version_minor);
	out_str(o, b);
}

static void write_head(struct out *o, const struct http_head *h, const struct h1_rewrite *rw)
{
	struct http_span tokens[CONN_TOKENS_MAX];
	size_t n_tokens = h1_connection_tokens(h, tokens, ELEMENTSOF(tokens));
	bool websocket = h1_head_is_websocket(h);

	write_start_line(o, h, h->response ? NULL : edit_for(rw, H1_EDIT_TARGET));
	if (!h->response && !h->has_host) {
		out_str(o, "Host: ");
		out_str(o, rw->host);
		if (rw->port && rw->port != 443) {
			out_str(o, ":");
			out_fmt_u64(o, rw->port);
		}
		out_str(o, "\r\n");
	}
	for (size_t i = 0; i < h->n_fields; i++) {
		const struct http_field *f = &h->fields[i];
		const struct h1_edit *e;

		if (field_dropped(f->name, websocket, tokens, n_tokens))
			continue;
		e = edit_for(rw, i);
		out_span(o, f->name);
		out_str(o, ": ");
		if (e)
			out_put(o, e->value, e->len);
		else
			out_span(o, f->value);
		out_str(o, "\r\n");
	}
	if (h->body == HTTP_BODY_LENGTH) {
		out_str(o, "Content-Length: ");
		out_fmt_u64(o, h->content_length);
		out_str(o, "\r\n");
	} else if (h->body == HTTP_BODY_CHUNKED)
		out_str(o, "Transfer-Encoding: chunked\r\n");
	if (websocket)
		out_str(o, "Connection: Upgrade\r\n");
	else if (!h->persistent)
		out_str(o, "Connection: close\r\n");
	else if (h->version_minor == 0)
		out_str(o, "Connection: keep-alive\r\n");
	out_str(o, "\r\n");
}

int h1_head_rewrite(const struct http_head *h, const struct h1_rewrite *rw, struct h1_buf *ret,
		    const char **reterr_why)
{
	struct out o = {};
	const char *why = NULL;
	int r;

	PADDOCK_ASSERT(h && rw && ret);
	if (!h->response) {
		if (!rw->host || !*rw->host) {
			why = "no expected host to check the request against";
			r = -EINVAL;
			goto fail;
		}
		if (strlen(rw->host) > HTTP1_HOST_MAX || strpbrk(rw->host, "\r\n ")) {
			why = "invalid expected host";
			r = -EINVAL;
			goto fail;
		}
		/* an HTTP/1.0 request naming no host at all goes to @rw->host (Host added) */
		if ((h->has_host || h->target.form == HTTP_TARGET_ABSOLUTE ||
		     h->target.form == HTTP_TARGET_AUTHORITY) &&
		    !http1_host_matches(h, rw->host, rw->port)) {
			why = "Host does not name the server the connection was made to";
			r = -EPERM;
			goto fail;
		}
	}
	r = check_edits(h, rw, &why);
	if (r < 0)
		goto fail;

	write_head(&o, h, rw);
	if (o.len > H1_OUT_HEAD_MAX) {
		why = "rewritten head too large";
		r = -E2BIG;
		goto fail;
	}
	o.p = xmalloc(o.len);
	o.len = 0;
	write_head(&o, h, rw);
	*ret = (struct h1_buf){ o.p, o.len };
	return 0;

fail:
	if (reterr_why)
		*reterr_why = why;
	return r;
}

void h1_buf_done(struct h1_buf *b)
{
	if (!b)
		return;
	if (b->p)
		explicit_bzero(b->p, b->len);
	free(b->p);
	*b = (struct h1_buf){};
}
