/* SPDX-License-Identifier: MIT */
/*
 * intercept.c - a terminated TLS connection: HTTP/1.1 both ways, secrets swapped or refused
 *
 * DOC: Theory of Operation
 * conn.c decided to terminate (SNI names the target H, the policy allowed it, a secret is
 * bound to H or an `inspect` rule names it, no `splice` rule does) and dialled exactly the
 * address the policy checked. Here the connection becomes two TLS sessions, each a
 * tlsio side (tlsio.h: a socket the connection keeps, its SSL, an input and an output
 * evbuffer):
 *
 *   sandbox client <-TLS: leaf for H (mint.h)-> icpt->cl    icpt->up <-TLS: verified-> H
 *
 * The client's ClientHello was already read by the peek (conn->buf); a small BIO filter in
 * front of the client socket hands those bytes to OpenSSL first. Both handshakes run at once.
 * The upstream one verifies the server (tls.h: the host's roots plus tls.upstream_ca, never
 * skipped); a failure is a `deny` event (rule "upstream-tls", reason "upstream certificate:
 * ...") and, once the client's handshake is done, a 502 to the client.
 *
 * Then h1stream.h frames the HTTP/1.1 messages each way (docs/design/http-engine.md). Each
 * request head goes through inject_head() (a placeholder swapped for a bound host, else 403
 * and a `secret_leak` per placeholder) and h1_head_rewrite() (Host must equal H, else 403;
 * hop-by-hop and Proxy-* fields dropped); request bodies are scanned with inject_scan() and
 * a placeholder there closes the connection (the head has already gone upstream, so there is
 * no clean answer to give). Bodies are streamed both ways (chunked bodies re-chunked), so
 * server-sent events flow as they come. After a websocket upgrade (101) both directions are
 * raw; what the client sends is still scanned. Redirects are passed to the client as they
 * are, never followed.
 *
 * A refusal in the middle of a kept-alive connection waits until every earlier request has
 * been answered, so that the 403 is the answer to the refused request; then the connection
 * closes. Every request that got an answer is one `net` event with an "http" object
 * (method, path without the query, status, body bytes each way, duration); the connection's
 * own `net` event, at close, says "intercepted" and counts the requests.
 *
 * Backpressure: a direction stops reading while the other side's output holds
 * PROXY_RELAY_BUF_MAX bytes, and resumes when it drained to half of that. Timeouts: both
 * handshakes within PROXY_HANDSHAKE_MS, then proxy->idle_usec without a byte either way.
 *
 * Callbacks never close the connection in the middle of their work: they set @fail (or
 * @closing) and icpt_settle(), the last thing each callback calls, closes it.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"
#include "common/macro.h"
#include "common/xmalloc.h"
#include "proxy/h1stream.h"
#include "proxy/inject.h"
#include "proxy/proxy-internal.h"
#include "proxy/redact.h"
#include "proxy/tlsio.h"
#include "tls/mint.h"
#include "tls/tls.h"

#define ICPT_PATH_MAX   256u /* path bytes kept for a request's audit event */
#define ICPT_METHOD_MAX 32u
#define ICPT_REASON_MAX 192u
#define ICPT_QUEUE_MAX  (H1_PIPELINE_MAX + 1u)
#define ICPT_PIECE      (64u * 1024u) /* bytes handed to the engine at once */
#define ICPT_HOLD_MS    100u /* a paused stream gets the bytes held back for redaction after */

/* A request sent upstream, waiting for its answer */
struct icpt_req {
	char method[ICPT_METHOD_MAX];
	char path[ICPT_PATH_MAX + 1];
	int status; /* 0 until the final response head */
	uint64_t up, down, t0;
};

/*
 * struct icpt - the state of one terminated connection
 * @h1: the HTTP/1.1 engine, both directions
 * @cl, @up: the client's and the upstream's TLS (tlsio.h)
 * @client_ready, @upstream_ready: the handshakes are done
 * @req_wait: the request side said H1_EV_WAIT: feed it again after a response head
 * @kick_req: feed the request side once the response side is done with its bytes
 * @refusing: no more requests are read; @refuse_status goes out once the earlier requests
 *            are answered
 * @closing: flush the client's output (and the upstream's, with @flush_upstream), then close
 * @fail: close at once with this error (or cleanly with @fail_clean)
 * @resp_started: a response head for the first queued request went to the client
 * @upgraded: raw both ways after a 101 (or a 2xx to CONNECT)
 * @lingering: the last answer is out and our side shut down: what the client still sends is
 *             read and dropped (at most 64 KiB, PROXY_LINGER_MS) so closing does not reset
 *             the answer away; @drained counts it
 * @up_error: the upstream handshake failed with this reason: 502 once the client is ready
 * @body: the scan of the current request body; @raw: of the client's raw bytes
 * @red: the answers, checked for the real values of the secrets bound to the host (redact.h);
 *       @resp_sized: the current response has a Content-Length (what is held back waits for
 *       its end), @resp_chunked: it is re-chunked; @hold_timer gives what is held back to a
 *       stream that paused for ICPT_HOLD_MS
 * @q: requests sent and not answered yet, @q_len from @q_first (a ring)
 */
struct icpt {
	struct h1_conn *h1;
	struct tlsio *cl, *up;
	bool client_ready, upstream_ready;
	bool req_wait, kick_req;
	bool refusing;
	int refuse_status;
	char refuse_reason[ICPT_REASON_MAX];
	bool closing, flush_upstream;
	const char *fail;
	bool fail_clean;
	bool resp_started, upgraded, req_last;
	bool lingering;
	size_t drained;
	char up_error[ICPT_REASON_MAX];
	struct inject_scan body, raw;
	struct redact red;
	struct event *hold_timer;
	bool resp_sized, resp_chunked;
	struct icpt_req q[ICPT_QUEUE_MAX];
	size_t q_first, q_len;
};

/* --- a BIO that hands the peeked ClientHello to OpenSSL before the socket's bytes -------- */

struct prefix {
	uint8_t *p;
	size_t len, off;
};

static int prefix_read(BIO *b, char *out, int outl)
{
	struct prefix *pr = BIO_get_data(b);
	BIO *next = BIO_next(b);
	int r;

	BIO_clear_retry_flags(b);
	if (outl <= 0)
		return 0;
	if (pr && pr->off < pr->len) {
		size_t n = MIN(pr->len - pr->off, (size_t)outl);

		memcpy(out, pr->p + pr->off, n);
		pr->off += n;
		return (int)n;
	}
	if (!next)
		return 0;
	r = BIO_read(next, out, outl);
	BIO_copy_next_retry(b);
	return r;
}

static int prefix_write(BIO *b, const char *in, int inl)
{
	BIO *next = BIO_next(b);
	int r;

	BIO_clear_retry_flags(b);
	if (!next)
		return 0;
	r = BIO_write(next, in, inl);
	BIO_copy_next_retry(b);
	return r;
}

static long prefix_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct prefix *pr = BIO_get_data(b);
	BIO *next = BIO_next(b);
	long r;

	if (!next)
		return 0;
	r = BIO_ctrl(next, cmd, num, ptr);
	if (cmd == BIO_CTRL_PENDING && pr)
		r += (long)(pr->len - pr->off);
	return r;
}

static int prefix_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static int prefix_destroy(BIO *b)
{
	struct prefix *pr = BIO_get_data(b);

	if (pr) {
		free(pr->p);
		free(pr);
		BIO_set_data(b, NULL);
	}
	return 1;
}

static BIO_METHOD *prefix_method(void)
{
	static BIO_METHOD *m;

	if (!m) {
		m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_FILTER, "paddock prefix");
		if (!m || !BIO_meth_set_read(m, prefix_read) ||
		    !BIO_meth_set_write(m, prefix_write) || !BIO_meth_set_ctrl(m, prefix_ctrl) ||
		    !BIO_meth_set_create(m, prefix_create) ||
		    !BIO_meth_set_destroy(m, prefix_destroy))
			PADDOCK_ASSERT(!"cannot make the prefix BIO method");
	}
	return m;
}

/*
 * Give @ssl the client socket @fd, with @len bytes of @buf (taken) read before it. The write
 * side is the plain socket BIO.
 */
static int icpt_set_client_bio(SSL *ssl, int fd, uint8_t *buf, size_t len)
{
	BIO *sock = BIO_new_socket(fd, BIO_NOCLOSE);
	BIO *pre = BIO_new(prefix_method());
	struct prefix *pr;

	if (!sock || !pre) {
		BIO_free(sock);
		BIO_free(pre);
		free(buf);
		return -ENOMEM;
	}
	pr = xcalloc(1, sizeof(*pr));
	pr->p = buf;
	pr->len = len;
	BIO_set_data(pre, pr);
	(void)BIO_up_ref(sock); /* one reference in the read chain, one as the write BIO */
	(void)BIO_push(pre, sock);
	SSL_set_bio(ssl, pre, sock);
	return 0;
}

/* --- audit ------------------------------------------------------------------------------ */

static void json_add(struct json_object *o, const char *k, struct json_object *v)
{
	json_object_object_add(o, k, v);
}

static void icpt_audit_request(struct conn *c, const struct icpt_req *r, const char *error)
{
	struct json_object *o = conn_audit_fields(c), *h = json_object_new_object();

	json_add(o, "sni", c->sni ? json_object_new_string(c->sni) : NULL);
	json_add(o, "decision", json_object_new_string("allow"));
	json_add(o, "rule", c->rule ? json_object_new_string(c->rule) : NULL);
	json_add(h, "method", json_object_new_string(r->method));
	json_add(h, "path", json_object_new_string(r->path));
	json_add(h, "status", r->status ? json_object_new_int(r->status) : NULL);
	json_add(h, "bytes_up", json_object_new_int64((int64_t)r->up));
	json_add(h, "bytes_down", json_object_new_int64((int64_t)r->down));
	json_add(h, "duration_ms",
		 json_object_new_int64((int64_t)((proxy_now_usec() - r->t0) / 1000u)));
	if (error)
		json_add(h, "error", json_object_new_string(error));
	json_add(o, "http", h);
	proxy_audit(c->proxy, "net", o);
}

/* --- helpers ------------------------------------------------------------------------------ */

static struct icpt_req *icpt_front(struct icpt *t)
{
	return t->q_len ? &t->q[t->q_first] : NULL;
}

static void icpt_push(struct icpt *t, const struct http_head *h)
{
	struct icpt_req *r;
	const char *path = h->target.path.p;
	size_t n = h->target.path.len;
	const char *q = n ? memchr(path, '?', n) : NULL;

	PADDOCK_ASSERT(t->q_len < ICPT_QUEUE_MAX);
	r = &t->q[(t->q_first + t->q_len++) % ICPT_QUEUE_MAX];
	*r = (struct icpt_req){ .t0 = proxy_now_usec() };
	(void)snprintf(r->method, sizeof(r->method), "%.*s", (int)h->method_str.len,
		       h->method_str.p);
	if (q)
		n = (size_t)(q - path); /* the query may carry a secret: never logged */
	(void)snprintf(r->path, sizeof(r->path), "%.*s", (int)MIN(n, ICPT_PATH_MAX), n ? path : "");
}

static void icpt_pop(struct conn *c, const char *error)
{
	struct icpt *t = c->icpt;

	if (!t->q_len)
		return;
	icpt_audit_request(c, &t->q[t->q_first], error);
	t->q_first = (t->q_first + 1) % ICPT_QUEUE_MAX;
	t->q_len--;
	t->resp_started = false;
}

static void icpt_idle_arm(struct conn *c)
{
	struct icpt *t = c->icpt;
	uint64_t usec = t->client_ready && t->upstream_ready ? c->proxy->idle_usec
							     : PROXY_HANDSHAKE_MS * 1000ull;
	struct timeval tv = { .tv_sec = (time_t)(usec / 1000000u),
			      .tv_usec = (suseconds_t)(usec % 1000000u) };

	(void)evtimer_add(c->timer, &tv);
}

/* Stop reading both sides: the connection is on its way out */
static void icpt_stop_reading(struct conn *c)
{
	if (c->icpt->cl)
		tlsio_read(c->icpt->cl, false);
	if (c->icpt->up)
		tlsio_read(c->icpt->up, false);
}

static void icpt_fail(struct conn *c, const char *error)
{
	struct icpt *t = c->icpt;

	if (!t->fail) {
		t->fail = error ? error : "closed"; /* non-NULL: icpt_settle() closes */
		t->fail_clean = !error;
	}
	icpt_stop_reading(c);
}

/* Answer the client with @status and close once it is written. */
static void icpt_respond(struct conn *c, int status, const char *reason)
{
	struct icpt *t = c->icpt;
	const char *text = status == 400   ? "Bad Request"
			   : status == 403 ? "Forbidden"
			   : status == 504 ? "Gateway Timeout"
					   : "Bad Gateway";

	(void)evbuffer_add_printf(tlsio_output(c->icpt->cl),
				  "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
				  "Content-Length: %zu\r\nConnection: close\r\n\r\npaddock: %s\n",
				  status, text, strlen(reason) + 10, reason);
	t->closing = true;
	t->flush_upstream = false;
	icpt_stop_reading(c);
}

/*
 * Refuse the request just read: no more requests are read, and @status goes out as soon as
 * the requests before it are answered.
 */
static void icpt_refuse(struct conn *c, int status, const char *reason)
{
	struct icpt *t = c->icpt;

	if (t->refusing)
		return;
	t->refusing = true;
	t->refuse_status = status;
	(void)snprintf(t->refuse_reason, sizeof(t->refuse_reason), "%s", reason);
	tlsio_read(t->cl, false);
	if (t->q_len == 0)
		icpt_respond(c, status, reason);
}

/* Send @n pieces as one body piece (one chunk when @chunked) */
static void icpt_put_iov(struct evbuffer *out, const struct iovec *v, size_t n, bool chunked)
{
	size_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += v[i].iov_len;
	if (total == 0)
		return;
	if (chunked) {
		char hdr[H1_CHUNK_HEADER_MAX];

		(void)evbuffer_add(out, hdr, h1_chunk_header(hdr, total));
	}
	for (size_t i = 0; i < n; i++)
		(void)evbuffer_add(out, v[i].iov_base, v[i].iov_len);
	if (chunked)
		(void)evbuffer_add(out, H1_CHUNK_TAIL, STRLEN(H1_CHUNK_TAIL));
}

static void icpt_put_body(struct evbuffer *out, const struct h1_event *ev)
{
	struct iovec v = { .iov_base = (void *)ev->data, .iov_len = ev->len };

	icpt_put_iov(out, &v, 1, ev->chunked);
}

/* A secret's value came back and was redacted: one event per message part */
static void icpt_audit_reflect(struct conn *c, const char *where)
{
	const char *name = redact_take_hit(&c->icpt->red);

	if (name)
		conn_audit_secret(c, "secret_reflect", name, where, NULL, 0);
}

/* Give out what the redaction held back (the message ended, or the stream paused) */
static void icpt_flush_held(struct conn *c, bool chunked)
{
	struct icpt *t = c->icpt;
	struct iovec v[1];
	size_t n;

	if (!redact_active(&t->red))
		return;
	n = redact_flush(&t->red, v);
	icpt_put_iov(tlsio_output(c->icpt->cl), v, n, chunked);
	icpt_audit_reflect(c, "response");
}

/* A response whose body is encoded (compressed): it could not be checked for a secret */
static bool icpt_encoded(const struct http_head *h)
{
	for (size_t i = 0; i < h->n_fields; i++)
		if (http_span_eq_ci(h->fields[i].name, "content-encoding") &&
		    !http_span_eq_ci(h->fields[i].value, "identity") && h->fields[i].value.len > 0)
			return true;
	return false;
}

/*
 * To a host with a secret bound, ask for answers without content coding, so that they can be
 * checked for the value (redact.h): @edits (@n of them) plus "identity" for every
 * Accept-Encoding field the edits leave alone. Returns the edits to use (@n updated); free()
 * it when it is not @edits.
 */
static struct h1_edit *icpt_identity(const struct http_head *h, struct h1_edit *edits, size_t *n)
{
	struct h1_edit *all = edits;
	size_t k = *n;

	for (size_t i = 0; i < h->n_fields; i++) {
		bool edited = false;

		if (!http_span_eq_ci(h->fields[i].name, "accept-encoding"))
			continue;
		for (size_t e = 0; e < *n; e++)
			edited |= edits[e].field == i;
		if (edited)
			continue;
		if (all == edits) {
			all = xcalloc(*n + h->n_fields, sizeof(*all));
			if (*n > 0)
				memcpy(all, edits, *n * sizeof(*all));
		}
		all[k++] = (struct h1_edit){ .field = i, .value = "identity", .len = 8 };
	}
	*n = k;
	return all;
}

/* --- the request side ---------------------------------------------------------------- */

static void icpt_request_head(struct conn *c, const struct http_head *h)
{
	const struct inject_table *table = c->proxy->o.tls->inject;
	struct inject_result ir = {};
	struct h1_buf out = {};
	const char *why = NULL;
	struct h1_edit *edits;
	size_t n_edits;
	int n_swapped = 0, r;

	c->n_requests++;
	if (inject_table_size(table) > 0) {
		n_swapped = inject_head(table, h, c->name, c->port, true, &ir);
		if (n_swapped == -EACCES) {
			for (size_t i = 0; i < ir.n_hits; i++)
				conn_audit_secret(c, "secret_leak", ir.hits[i].secret,
						  inject_where_to_string(ir.hits[i].where),
						  ir.hits[i].field.p, ir.hits[i].field.len);
			inject_result_done(&ir);
			icpt_refuse(c, 403, "secret placeholder refused for this host");
			return;
		}
		if (n_swapped < 0) {
			inject_result_done(&ir);
			conn_audit_deny(c, "request", "request head too large");
			icpt_refuse(c, 400, "request head too large");
			return;
		}
	}
	n_edits = ir.n_edits;
	edits = redact_active(&c->icpt->red) ? icpt_identity(h, ir.edits, &n_edits) : ir.edits;
	r = h1_head_rewrite(
		h,
		&(struct h1_rewrite){
			.host = c->name, .port = c->port, .edits = edits, .n_edits = n_edits },
		&out, &why);
	if (edits != ir.edits)
		free(edits);
	if (r < 0) {
		inject_result_done(&ir);
		if (r == -EPERM) {
			conn_audit_deny(c, "host", "Host differs from the TLS server name");
			icpt_refuse(c, 403, "Host differs from the TLS server name");
		} else {
			conn_audit_deny(c, "request", why ? why : "malformed request head");
			icpt_refuse(c, 400, why ? why : "malformed request head");
		}
		return;
	}
	(void)evbuffer_add(tlsio_output(c->icpt->up), out.p, out.len);
	conn_count(c, true, out.len);
	h1_buf_done(&out);
	for (int i = 0; i < n_swapped && (size_t)i < ir.n_hits; i++)
		conn_audit_secret(c, "secret_inject", ir.hits[i].secret,
				  inject_where_to_string(ir.hits[i].where), ir.hits[i].field.p,
				  ir.hits[i].field.len);
	inject_result_done(&ir);
	icpt_push(c->icpt, h);
	inject_scan_init(&c->icpt->body, table);
}

/* A request event. Returns false to stop feeding the request side. */
static bool icpt_request_event(struct conn *c, const struct h1_event *ev)
{
	struct icpt *t = c->icpt;
	struct evbuffer *out = tlsio_output(c->icpt->up);
	bool secrets = proxy_has_secrets(c->proxy);
	const char *name;
	struct icpt_req *last;

	switch (ev->type) {
	case H1_EV_HEAD:
		icpt_request_head(c, ev->head);
		return !t->refusing;
	case H1_EV_BODY:
		if (secrets && (name = inject_scan(&t->body, ev->data, ev->len))) {
			conn_audit_secret(c, "secret_leak", name,
					  inject_where_to_string(INJECT_WHERE_BODY), NULL, 0);
			icpt_fail(c, "secret placeholder in a request body");
			return false;
		}
		icpt_put_body(out, ev);
		conn_count(c, true, ev->len);
		last = t->q_len ? &t->q[(t->q_first + t->q_len - 1) % ICPT_QUEUE_MAX] : NULL;
		if (last)
			last->up += ev->len;
		return true;
	case H1_EV_END:
		if (ev->chunked)
			(void)evbuffer_add(out, H1_CHUNK_LAST, STRLEN(H1_CHUNK_LAST));
		if (ev->last)
			t->req_last = true;
		return true;
	case H1_EV_RAW:
		if (secrets && (name = inject_scan(&t->raw, ev->data, ev->len))) {
			conn_audit_secret(c, "secret_leak", name,
					  inject_where_to_string(INJECT_WHERE_STREAM), NULL, 0);
			icpt_fail(c, "secret placeholder in the stream");
			return false;
		}
		(void)evbuffer_add(out, ev->data, ev->len);
		conn_count(c, true, ev->len);
		return true;
	case H1_EV_UPGRADE:
		t->upgraded = true;
		return true;
	case H1_EV_NONE:
	case H1_EV_WAIT:
	case _H1_EV_MAX:
	case _H1_EV_INVALID:
	default:
		return true;
	}
}

/* --- the response side -------------------------------------------------------------- */

static bool icpt_response_event(struct conn *c, const struct h1_event *ev)
{
	struct icpt *t = c->icpt;
	struct evbuffer *out = tlsio_output(c->icpt->cl);
	struct icpt_req *front = icpt_front(t);
	struct h1_buf head = {};
	const char *why = NULL;

	struct iovec v[2];
	size_t n;

	switch (ev->type) {
	case H1_EV_HEAD:
		if (redact_active(&t->red) && ev->has_body && icpt_encoded(ev->head)) {
			conn_audit_deny(c, "secret-reflect",
					"compressed answer from a host with a secret bound");
			if (!t->resp_started && t->q_len > 0) {
				icpt_pop(c, "compressed response");
				icpt_respond(c, 502,
					     "compressed answer from a host with a secret bound: "
					     "it cannot be checked for the secret");
			} else {
				icpt_fail(c, "compressed answer from a host with a secret bound");
			}
			return false;
		}
		if (h1_head_rewrite(ev->head,
				    &(struct h1_rewrite){ .host = c->name, .port = c->port }, &head,
				    &why) < 0) {
			icpt_fail(c, "cannot pass on the response head");
			return false;
		}
		if (redact_active(&t->red) && redact_buf(&t->red, head.p, head.len) > 0)
			icpt_audit_reflect(c, "response-head");
		t->resp_sized = ev->head->body == HTTP_BODY_LENGTH;
		t->resp_chunked = false;
		(void)evbuffer_add(out, head.p, head.len);
		conn_count(c, false, head.len);
		h1_buf_done(&head);
		t->resp_started = true;
		if (front && (ev->head->status >= 200 || ev->head->status == 101))
			front->status = ev->head->status;
		if (t->req_wait)
			t->kick_req = true;
		return true;
	case H1_EV_BODY:
	case H1_EV_RAW:
		if (redact_active(&t->red)) {
			/* the engine's bytes are ours (the input buffer), changed in place */
			n = redact_stream(&t->red, (char *)ev->data, ev->len, v);
			t->resp_chunked = ev->type == H1_EV_BODY && ev->chunked;
			icpt_put_iov(out, v, n, t->resp_chunked);
			icpt_audit_reflect(c, "response");
		} else if (ev->type == H1_EV_BODY) {
			icpt_put_body(out, ev);
		} else {
			(void)evbuffer_add(out, ev->data, ev->len);
		}
		conn_count(c, false, ev->len);
		if (front && ev->type == H1_EV_BODY)
			front->down += ev->len;
		return true;
	case H1_EV_END:
		icpt_flush_held(c, ev->chunked);
		if (ev->chunked)
			(void)evbuffer_add(out, H1_CHUNK_LAST, STRLEN(H1_CHUNK_LAST));
		icpt_pop(c, NULL);
		if (t->refusing && t->q_len == 0 && !t->closing) {
			icpt_respond(c, t->refuse_status, t->refuse_reason);
			return false;
		}
		if (ev->last || (t->req_last && t->q_len == 0) ||
		    (c->client_eof && t->q_len == 0)) {
			t->closing = true;
			icpt_stop_reading(c);
			return false;
		}
		return true;
	case H1_EV_UPGRADE:
		t->upgraded = true;
		if (front && front->status)
			icpt_pop(c, NULL); /* the request is answered; what follows is raw */
		t->kick_req = true;
		return true;
	case H1_EV_NONE:
	case H1_EV_WAIT:
	case _H1_EV_MAX:
	case _H1_EV_INVALID:
	default:
		return true;
	}
}

/* --- driving the engine ------------------------------------------------------------- */

static void icpt_update_client_read(struct conn *c)
{
	struct icpt *t = c->icpt;
	bool want;

	if (!t->client_ready)
		return; /* the handshake reads as it needs */
	want = !t->req_wait && !t->refusing && !t->closing && !t->fail && !c->client_eof &&
	       evbuffer_get_length(tlsio_output(c->icpt->up)) < PROXY_RELAY_BUF_MAX;

	tlsio_read(t->cl, want);
}

static void icpt_update_upstream_read(struct conn *c)
{
	struct icpt *t = c->icpt;
	bool want;

	if (!t->upstream_ready || t->up_error[0])
		return;
	want = !t->closing && !t->fail && !c->upstream_eof &&
	       evbuffer_get_length(tlsio_output(c->icpt->cl)) < PROXY_RELAY_BUF_MAX;

	tlsio_read(t->up, want);
}

static void icpt_pump(struct conn *c, enum h1_dir dir);

/* Feed the engine what @dir's source holds, as far as the other side's output has room. */
static void icpt_pump_once(struct conn *c, enum h1_dir dir)
{
	struct icpt *t = c->icpt;
	bool req = dir == H1_REQUEST;
	struct tlsio *src = req ? t->cl : t->up, *dst = req ? t->up : t->cl;
	struct evbuffer *in = tlsio_input(src), *out = tlsio_output(dst);

	if (req && !t->client_ready)
		return;
	if (req)
		t->req_wait = false;
	for (;;) {
		struct evbuffer_iovec v = { .iov_base = (void *)"", .iov_len = 0 };
		struct h1_event ev = {};
		const char *why = NULL;
		bool go_on;
		int r;

		if (t->fail || t->closing || (req && t->refusing))
			return;
		/* with nothing left to feed, the engine can still owe the message's end */
		if (evbuffer_get_length(out) >= PROXY_RELAY_BUF_MAX && evbuffer_get_length(in) > 0)
			return; /* resumed by dst's write callback */
		/*
		 * A contiguous piece at a time: tlsio reads 64 KiB of space at once, so this
		 * rarely copies.
		 */
		(void)evbuffer_pullup(in,
				      (ssize_t)MIN(evbuffer_get_length(in), (size_t)ICPT_PIECE));
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			v = (struct evbuffer_iovec){ .iov_base = (void *)"", .iov_len = 0 };
		r = h1_conn_feed(t->h1, dir, v.iov_base, v.iov_len, &ev, &why);
		if (r < 0) {
			if (req) {
				conn_audit_deny(c, "request", why ? why : "malformed request");
				icpt_refuse(c, 400, why ? why : "malformed request");
			} else if (!t->resp_started && t->q_len > 0) {
				icpt_pop(c, "malformed response");
				icpt_respond(c, 502, "malformed response from upstream");
			} else {
				icpt_fail(c, "malformed response from upstream");
			}
			return;
		}
		if (r > 0)
			icpt_idle_arm(c);
		go_on = req ? icpt_request_event(c, &ev) : icpt_response_event(c, &ev);
		(void)evbuffer_drain(in, (size_t)r);
		if (!go_on)
			return;
		if (ev.type == H1_EV_WAIT) {
			t->req_wait = true;
			return;
		}
		if (ev.type == H1_EV_NONE && (evbuffer_get_length(in) == 0 || r == 0)) {
			/* a stream that pauses gets what was held back soon: an event or
			 * message must not wait for the next one */
			if (!req && !t->resp_sized && t->red.hold_len > 0) {
				struct timeval tv = { .tv_usec = ICPT_HOLD_MS * 1000 };

				(void)evtimer_add(t->hold_timer, &tv);
			}
			return;
		}
	}
}

static void icpt_pump(struct conn *c, enum h1_dir dir)
{
	struct icpt *t = c->icpt;

	icpt_pump_once(c, dir);
	/* a response head or upgrade released a waiting request side */
	while (t->kick_req && !t->fail && !t->closing) {
		t->kick_req = false;
		icpt_pump_once(c, H1_REQUEST);
		if (dir == H1_REQUEST)
			break;
	}
	icpt_update_client_read(c);
	icpt_update_upstream_read(c);
}

/*
 * The answer is flushed: close_notify and FIN to the client, then read and drop what it still
 * sends until it closes too. Closing at once with unread bytes in the socket would send a
 * reset, which can destroy the answer in the client's receive queue before it reads it.
 */
static void icpt_linger(struct conn *c)
{
	struct icpt *t = c->icpt;
	struct timeval tv = { .tv_sec = PROXY_LINGER_MS / 1000,
			      .tv_usec = (PROXY_LINGER_MS % 1000) * 1000 };

	t->lingering = true;
	tlsio_shutdown(t->cl); /* close_notify: the client sees a clean end */
	(void)shutdown(c->fd, SHUT_WR);
	if (t->up) {
		tlsio_read(t->up, false);
		tlsio_write_off(t->up);
	}
	tlsio_write_off(t->cl);
	tlsio_read(t->cl, true);
	(void)evtimer_add(c->timer, &tv);
}

/* After each callback: close when failed, or when closing and the outputs are flushed. */
static void icpt_settle(struct conn *c)
{
	struct icpt *t = c->icpt;

	if (t->fail) {
		conn_close(c, t->fail_clean ? NULL : t->fail);
		return;
	}
	if (!t->closing)
		return;
	if (tlsio_unsent(c->icpt->cl) > 0)
		return;
	if (t->flush_upstream && t->upstream_ready && tlsio_unsent(c->icpt->up) > 0)
		return;
	if (!t->client_ready || t->lingering) {
		conn_close(c, NULL);
		return;
	}
	icpt_linger(c);
}

/* --- callbacks ------------------------------------------------------------------------ */

static void icpt_client_read_cb(struct tlsio *bev, void *arg)
{
	struct conn *c = arg;
	struct icpt *t = c->icpt;

	if (t->lingering) {
		struct evbuffer *in = tlsio_input(bev);

		t->drained += evbuffer_get_length(in);
		(void)evbuffer_drain(in, evbuffer_get_length(in));
		if (t->drained > PROXY_RELAY_BUF_MAX)
			conn_close(c, NULL);
		return;
	}
	icpt_pump(c, H1_REQUEST);
	icpt_settle(c);
}

static void icpt_upstream_read_cb(struct tlsio *bev, void *arg)
{
	struct conn *c = arg;

	if (c->icpt->lingering)
		return;
	icpt_pump(c, H1_RESPONSE);
	icpt_settle(c);
}

/* The client's output drained (to the low watermark): the response side may go on. */
static void icpt_client_write_cb(struct tlsio *bev, void *arg)
{
	struct conn *c = arg;

	if (c->icpt->lingering)
		return;
	if (!c->icpt->closing)
		icpt_pump(c, H1_RESPONSE);
	icpt_settle(c);
}

static void icpt_upstream_write_cb(struct tlsio *bev, void *arg)
{
	struct conn *c = arg;

	if (c->icpt->lingering)
		return;
	if (!c->icpt->closing)
		icpt_pump(c, H1_REQUEST);
	icpt_settle(c);
}

static void icpt_both_ready(struct conn *c)
{
	icpt_idle_arm(c);
	icpt_pump(c, H1_REQUEST);
}

static void icpt_client_event_cb(struct tlsio *bev, short what, void *arg)
{
	struct conn *c = arg;
	struct icpt *t = c->icpt;

	if (t->lingering) {
		if (what & (TLSIO_EOF | TLSIO_ERROR))
			conn_close(c, NULL);
		return;
	}
	if (what & TLSIO_CONNECTED) {
		t->client_ready = true;
		if (t->up_error[0])
			icpt_respond(c, 502, t->up_error);
		else if (t->upstream_ready)
			icpt_both_ready(c);
		else
			icpt_update_client_read(c);
	} else if (what & TLSIO_EOF) {
		struct h1_event ev = {};

		c->client_eof = true;
		if (!t->closing && !t->refusing && !t->fail)
			icpt_pump_once(c, H1_REQUEST);
		if (t->fail || t->closing || t->refusing) {
			/* nothing more to read */
		} else if (h1_conn_eof(t->h1, H1_REQUEST, &ev, NULL) < 0) {
			icpt_fail(c, "client closed in the middle of a request");
		} else if (t->upgraded) {
			t->closing = true;
			t->flush_upstream = true;
		} else if (t->q_len == 0) {
			icpt_fail(c, NULL);
		}
		tlsio_read(t->cl, false);
	} else if (what & TLSIO_ERROR) {
		icpt_fail(c, t->client_ready ? "client connection failed"
					     : "client TLS handshake failed");
	}
	icpt_settle(c);
}

/* Why the upstream handshake failed, for the deny event and the 502 */
static void icpt_upstream_error(struct conn *c, char *buf, size_t size)
{
	SSL *ssl = tlsio_ssl(c->icpt->up);
	long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	unsigned long e = tlsio_error(c->icpt->up);

	if (vr != X509_V_OK)
		(void)snprintf(buf, size, "upstream certificate: %s",
			       X509_verify_cert_error_string(vr));
	else if (e && ERR_reason_error_string(e))
		(void)snprintf(buf, size, "upstream TLS handshake failed: %s",
			       ERR_reason_error_string(e));
	else
		(void)snprintf(buf, size, "upstream TLS handshake failed");
}

static void icpt_upstream_event_cb(struct tlsio *bev, short what, void *arg)
{
	struct conn *c = arg;
	struct icpt *t = c->icpt;

	if (t->lingering)
		return;
	if (what & TLSIO_CONNECTED) {
		t->upstream_ready = true;
		if (t->client_ready)
			icpt_both_ready(c);
	} else if (!t->upstream_ready && (what & (TLSIO_ERROR | TLSIO_EOF))) {
		char why[ICPT_REASON_MAX];

		icpt_upstream_error(c, why, sizeof(why));
		conn_audit_deny(c, "upstream-tls", why);
		c->allowed = false;
		t->refusing = true;
		tlsio_read(t->up, false);
		tlsio_write_off(t->up);
		(void)evbuffer_drain(tlsio_output(t->up), SIZE_MAX);
		if (t->client_ready)
			icpt_respond(c, 502, why);
		else
			(void)snprintf(t->up_error, sizeof(t->up_error), "%s", why);
	} else if (what & TLSIO_EOF) {
		struct h1_event ev = {};

		c->upstream_eof = true;
		if (!t->closing && !t->fail)
			icpt_pump_once(c, H1_RESPONSE);
		if (t->fail || t->closing) {
			/* done already */
		} else if (h1_conn_eof(t->h1, H1_RESPONSE, &ev, NULL) < 0) {
			if (!t->resp_started && t->q_len > 0) {
				icpt_pop(c, "upstream closed the connection");
				icpt_respond(c, 502, "upstream closed the connection");
			} else {
				icpt_fail(c, "upstream closed in the middle of a response");
			}
		} else {
			if (ev.type == H1_EV_END)
				(void)icpt_response_event(c, &ev);
			t->closing = true;
		}
		tlsio_read(t->up, false);
		if (t->closing)
			icpt_stop_reading(c);
	} else if (what & TLSIO_ERROR) {
		if (!t->resp_started && t->q_len > 0 && !t->closing) {
			icpt_pop(c, "upstream connection failed");
			icpt_respond(c, 502, "upstream connection failed");
		} else {
			icpt_fail(c, "upstream connection failed");
		}
	}
	icpt_settle(c);
}

static void icpt_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct icpt *t = c->icpt;

	if (t->lingering) {
		conn_close(c, NULL);
		return;
	}
	icpt_fail(c, t->client_ready && t->upstream_ready ? "idle timeout"
							  : "TLS handshake timed out");
	icpt_settle(c);
}

static void icpt_hold_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct icpt *t = c->icpt;

	if (t->lingering || t->closing || t->fail)
		return;
	icpt_flush_held(c, t->resp_chunked);
	icpt_settle(c);
}

/* --- entry points ------------------------------------------------------------------- */

/**
 * intercept_start() - terminate the TLS of a dialled connection and serve it as HTTP/1.1
 * @c: the connection: @c->buf holds the ClientHello, @c->upstream the dial's bufferevent on
 *     @c->up_fd, @c->name the host the SNI named
 *
 * The connection ends in conn_close().
 */
void intercept_start(struct conn *c)
{
	struct proxy *p = c->proxy;
	const struct proxy_tls *tls = p->o.tls;
	SSL *ssl = NULL, *ussl = NULL;
	struct icpt *t;

	if (c->ev)
		c->ev = (event_free(c->ev), NULL);
	if (c->upstream)
		c->upstream = (bufferevent_free(c->upstream), NULL); /* the fd stays c->up_fd */
	c->state = CONN_ICPT;
	/* requests and answers are small writes that must go at once (keep-alive, SSE) */
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	(void)setsockopt(c->up_fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	t = c->icpt = xcalloc(1, sizeof(*c->icpt));
	t->h1 = h1_conn_new();
	inject_scan_init(&t->raw, tls->inject);
	redact_init(&t->red, tls->inject, c->name, c->port);
	c->timer = evtimer_new(p->o.base, icpt_timer_cb, c);
	if (redact_active(&t->red)) /* only answers being redacted hold bytes back */
		t->hold_timer = evtimer_new(p->o.base, icpt_hold_cb, c);
	if (!c->timer || (redact_active(&t->red) && !t->hold_timer)) {
		conn_close(c, "out of memory");
		return;
	}
	icpt_idle_arm(c);

	if (mint_server_ssl_new(tls->mint, c->name, &ssl) < 0) {
		conn_close(c, "cannot make a certificate for the host");
		return;
	}
	if (icpt_set_client_bio(ssl, c->fd, c->buf, c->len) < 0) {
		SSL_free(ssl);
		c->buf = NULL;
		conn_close(c, "out of memory");
		return;
	}
	c->buf = NULL; /* the BIO has it */
	c->len = c->cap = 0;
	if (tlsio_new(p->o.base, c->fd, ssl, true,
		      &(struct tlsio_cbs){ icpt_client_read_cb, icpt_client_write_cb,
					   icpt_client_event_cb, c },
		      PROXY_RELAY_BUF_MAX, PROXY_RELAY_BUF_MAX / 2, &t->cl) < 0) {
		SSL_free(ssl);
		conn_close(c, "out of memory");
		return;
	}
	if (tls_upstream_ssl_new(tls->upstream_ctx, c->name, &ussl) < 0) {
		conn_close(c, "cannot set up TLS to the upstream");
		return;
	}
	if (!SSL_set_fd(ussl, c->up_fd) ||
	    tlsio_new(p->o.base, c->up_fd, ussl, false,
		      &(struct tlsio_cbs){ icpt_upstream_read_cb, icpt_upstream_write_cb,
					   icpt_upstream_event_cb, c },
		      PROXY_RELAY_BUF_MAX, PROXY_RELAY_BUF_MAX / 2, &t->up) < 0) {
		SSL_free(ussl);
		conn_close(c, "out of memory");
		return;
	}
}

/* intercept_free() - what conn_close() frees for a terminated connection (not the bevs) */
void intercept_free(struct conn *c)
{
	if (!c->icpt)
		return;
	while (c->icpt->q_len > 0 && c->allowed)
		icpt_pop(c, "no response");
	h1_conn_free(c->icpt->h1);
	tlsio_free(c->icpt->cl);
	tlsio_free(c->icpt->up);
	redact_done(&c->icpt->red);
	if (c->icpt->hold_timer)
		event_free(c->icpt->hold_timer);
	free(c->icpt);
	c->icpt = NULL;
}
