/* SPDX-License-Identifier: MIT */
/*
 * fuzz-h1stream.c - libFuzzer target for the streaming HTTP/1.1 engine
 *
 * Input: one byte for the piece size, two for the length of the request stream, then the
 * request stream and the response stream. Both are fed in pieces, alternating, the way the
 * proxy does (a response head lets a waiting request side go on), then both end.
 *
 * Besides not crashing and not looping: every call consumes what it says, reports H1_EV_NONE
 * only with everything consumed, body bytes lie inside the piece, a Content-Length body is
 * exactly that long, an error sticks, and every head rewrites into a head that parses again
 * without hop-by-hop fields. What the engine would send on for the requests (rewritten heads,
 * re-chunked bodies) is fed to a second engine, which must see the same requests.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/macro.h"
#include "common/xmalloc.h"
#include "proxy/h1stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_put(struct buf *b, const void *s, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = MAX(b->cap * 2, b->len + n + 256);
		b->p = xrealloc(b->p, b->cap);
	}
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
}

struct side {
	const uint8_t *in;
	size_t len, off;
	bool waiting, failed, ended;
	uint64_t body, want_body;
	bool counting;
	bool no_resend; /* a head could not be rewritten: the proxy would have refused it */
	bool in_body; /* the transcript ends in body bytes (merged: how the input is split varies) */
	struct buf transcript; /* requests: "H<method> <target>\n", "B<bytes>\n", "E\n" */
	struct buf out;        /* requests: what would be sent upstream */
};

static bool is_hop_by_hop(struct http_span n)
{
	static const char *const hop[] = { "keep-alive",     "te",
					   "trailer",        "transfer-encoding",
					   "content-length", "proxy-authorization" };

	for (size_t i = 0; i < ELEMENTSOF(hop); i++)
		if (n.len == strlen(hop[i]) && strncasecmp(n.p, hop[i], n.len) == 0)
			return true;
	return n.len >= 6 && strncasecmp(n.p, "proxy-", 6) == 0;
}

static void check_rewrite(const struct http_head *h, struct side *s)
{
	static struct http_head h2;
	struct h1_rewrite rw = { "a.example", 443, NULL, 0 };
	struct h1_buf out = {};
	const char *why = NULL;
	int r;

	r = h1_head_rewrite(h, &rw, &out, &why);
	if (r < 0) {
		PADDOCK_ASSERT(r == -EPERM || r == -E2BIG);
		PADDOCK_ASSERT(why);
		PADDOCK_ASSERT(r != -EPERM || !h->response);
		s->no_resend = true;
		return;
	}
	r = h->response ? http1_parse_response_head(out.p, out.len, &h2, &why)
			: http1_parse_head(out.p, out.len, &h2, &why);
	PADDOCK_ASSERT(r == (int)out.len);
	PADDOCK_ASSERT(h2.body == h->body && h2.content_length == h->content_length);
	PADDOCK_ASSERT(h2.persistent == h->persistent || h1_head_is_websocket(h));
	if (h->response)
		PADDOCK_ASSERT(h2.status == h->status);
	else
		PADDOCK_ASSERT(h2.method == h->method && h2.has_host &&
			       http1_host_matches(&h2, "a.example", 443));
	for (size_t i = 0; i < h2.n_fields; i++) {
		PADDOCK_ASSERT(!is_hop_by_hop(h2.fields[i].name) ||
			       (h2.fields[i].name.len == 14 &&
				strncasecmp(h2.fields[i].name.p, "content-length", 14) == 0) ||
			       (h2.fields[i].name.len == 17 &&
				strncasecmp(h2.fields[i].name.p, "transfer-encoding", 17) == 0));
	}
	if (!h->response)
		buf_put(&s->out, out.p, out.len);
	h1_buf_done(&out);
}

static void transcript_head(struct buf *t, const struct http_head *h)
{
	buf_put(t, "H", 1);
	buf_put(t, h->method_str.p, h->method_str.len);
	buf_put(t, " ", 1);
	if (h->target.form == HTTP_TARGET_ABSOLUTE && h->target.path.len == 0)
		buf_put(t, "/", 1); /* sent on in origin-form */
	else
		buf_put(t, h->target.path.p, h->target.path.len);
	buf_put(t, "\n", 1);
}

/* Feed one piece of @s (or collect pending events); returns false on error */
static bool side_feed(struct h1_conn *c, enum h1_dir dir, struct side *s, size_t step,
		      struct side *other)
{
	size_t n = MIN(step, s->len - s->off), done = 0;
	const uint8_t *p = s->in + s->off;

	for (int guard = 0;; guard++) {
		struct h1_event ev;
		const char *why = NULL;
		int r = h1_conn_feed(c, dir, p + done, n - done, &ev, &why);

		PADDOCK_ASSERT(guard < 100000);
		if (r < 0) {
			const char *why2 = NULL;
			struct h1_event ev2;

			PADDOCK_ASSERT(r == -EBADMSG || r == -E2BIG || r == -EPROTONOSUPPORT);
			PADDOCK_ASSERT(why && *why);
			PADDOCK_ASSERT(h1_conn_feed(c, dir, "x", 1, &ev2, &why2) == r);
			s->failed = other->failed = true;
			return false;
		}
		PADDOCK_ASSERT((size_t)r <= n - done);
		done += (size_t)r;
		switch (ev.type) {
		case H1_EV_NONE:
			PADDOCK_ASSERT(done == n);
			s->off += n;
			return true;
		case H1_EV_WAIT:
			PADDOCK_ASSERT(dir == H1_REQUEST && r == 0);
			s->off += done;
			s->waiting = true;
			return true;
		case H1_EV_HEAD:
			PADDOCK_ASSERT(ev.head && ev.head->response == (dir == H1_RESPONSE));
			check_rewrite(ev.head, s);
			s->counting = ev.has_body && ev.head->body == HTTP_BODY_LENGTH;
			s->want_body = ev.head->content_length;
			s->body = 0;
			if (dir == H1_REQUEST)
				transcript_head(&s->transcript, ev.head);
			else
				other->waiting = false;
			break;
		case H1_EV_BODY:
			PADDOCK_ASSERT(ev.len > 0 && ev.data >= p && ev.data + ev.len <= p + n);
			s->body += ev.len;
			if (dir == H1_REQUEST) {
				char ch[H1_CHUNK_HEADER_MAX];

				if (!s->in_body)
					buf_put(&s->transcript, "B", 1);
				s->in_body = true;
				buf_put(&s->transcript, ev.data, ev.len);
				if (ev.chunked) {
					size_t k = h1_chunk_header(ch, ev.len);

					buf_put(&s->out, ch, k);
				}
				buf_put(&s->out, ev.data, ev.len);
				if (ev.chunked)
					buf_put(&s->out, H1_CHUNK_TAIL, 2);
			}
			break;
		case H1_EV_END:
			PADDOCK_ASSERT(!s->counting || s->body == s->want_body);
			s->counting = false;
			if (dir == H1_REQUEST) {
				buf_put(&s->transcript, s->in_body ? "\nE\n" : "E\n",
					s->in_body ? 3 : 2);
				s->in_body = false;
				if (ev.chunked)
					buf_put(&s->out, H1_CHUNK_LAST, 5);
			}
			break;
		case H1_EV_UPGRADE:
			if (dir == H1_RESPONSE)
				other->waiting = false;
			break;
		case H1_EV_RAW:
			PADDOCK_ASSERT(ev.len > 0 && ev.data >= p && ev.data + ev.len <= p + n);
			break;
		case _H1_EV_MAX:
		case _H1_EV_INVALID:
		default:
			PADDOCK_ASSERT(!"unknown event");
		}
	}
}

/* The requests the engine sends on parse, in a fresh engine, to the same transcript */
static void check_resend(struct side *q)
{
	struct h1_conn *c = h1_conn_new();
	struct side again = { .in = (const uint8_t *)q->out.p, .len = q->out.len };
	struct side none = {};

	while (again.off < again.len && !again.waiting && !again.failed)
		if (!side_feed(c, H1_REQUEST, &again, again.len, &none))
			break;
	PADDOCK_ASSERT(!again.failed);
	PADDOCK_ASSERT(again.transcript.len <= q->transcript.len);
	PADDOCK_ASSERT(again.transcript.len == 0 ||
		       memcmp(again.transcript.p, q->transcript.p, again.transcript.len) == 0);
	free(again.transcript.p);
	free(again.out.p);
	h1_conn_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct side q = {}, s = {};
	struct h1_conn *c;
	size_t step, qlen;

	if (size < 3)
		return 0;
	step = data[0] == 0 ? SIZE_MAX : data[0];
	qlen = MIN((size_t)(data[1] | data[2] << 8), size - 3);
	q.in = data + 3;
	q.len = qlen;
	s.in = data + 3 + qlen;
	s.len = size - 3 - qlen;

	c = h1_conn_new();
	for (int round = 0; round < 100000; round++) {
		bool moved = false;

		if (!q.failed && !q.waiting && q.off < q.len) {
			size_t before = q.off;

			if (!side_feed(c, H1_REQUEST, &q, step, &s))
				break;
			moved |= q.off != before;
		}
		if (!s.failed && s.off < s.len) {
			size_t before = s.off;

			if (!side_feed(c, H1_RESPONSE, &s, step, &q))
				break;
			moved |= s.off != before;
		}
		if (!moved)
			break;
	}
	if (!q.failed) {
		struct h1_event ev;
		const char *why = NULL;
		int r = h1_conn_eof(c, H1_REQUEST, &ev, &why);

		PADDOCK_ASSERT(r == 0 || (r == -EPIPE && why));
		r = h1_conn_eof(c, H1_RESPONSE, &ev, &why);
		PADDOCK_ASSERT(r == 0 || (r == -EPIPE && why));
		PADDOCK_ASSERT(ev.type == H1_EV_NONE || (ev.type == H1_EV_END && ev.last));
		if (!q.no_resend)
			check_resend(&q);
	}
	free(q.transcript.p);
	free(q.out.p);
	free(s.transcript.p);
	free(s.out.p);
	h1_conn_free(c);
	return 0;
}
