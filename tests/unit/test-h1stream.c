/* SPDX-License-Identifier: MIT */
/*
 * test-h1stream.c - the streaming HTTP/1.1 engine: keep-alive, chunked bodies split
 * anywhere, streamed responses, upgrades, bodiless responses, every refusal, head rewriting
 */
#include "common/cleanup.h"
#include "common/xmalloc.h"
#include "proxy/h1stream.c"
#include "tap.h"

#define HOST_A "Host: a.example\r\n"

/*
 * A transcript of events: "H:GET /x" for a request head, "H:200" for a response head,
 * "B:<bytes>" for body bytes (consecutive BODY events merged, so that how the input was split
 * does not show), "E" / "E!" for an end (last), "U" for an upgrade, "R:<bytes>" for raw bytes
 * (merged too), "W" for wait; separated by '|'.
 */
struct tr {
	char s[256 * 1024];
	size_t len;
	enum h1_event_type prev;
	size_t events;
};

static void tr_put(struct tr *t, const char *s, size_t n)
{
	PADDOCK_ASSERT(t->len + n < sizeof(t->s));
	memcpy(t->s + t->len, s, n);
	t->len += n;
	t->s[t->len] = '\0';
}

static void tr_str(struct tr *t, const char *s)
{
	tr_put(t, s, strlen(s));
}

static void tr_add(struct tr *t, const struct h1_event *ev)
{
	char b[64];

	t->events++;
	if ((ev->type == H1_EV_BODY || ev->type == H1_EV_RAW) && t->prev == ev->type) {
		tr_put(t, (const char *)ev->data, ev->len);
		return;
	}
	if (t->len > 0)
		tr_str(t, "|");
	t->prev = ev->type;
	switch (ev->type) {
	case H1_EV_HEAD:
		if (ev->head->response)
			(void)snprintf(b, sizeof(b), "H:%u", ev->head->status);
		else
			(void)snprintf(b, sizeof(b), "H:%.*s %.*s", (int)ev->head->method_str.len,
				       ev->head->method_str.p, (int)ev->head->target.path.len,
				       ev->head->target.path.p);
		tr_str(t, b);
		break;
	case H1_EV_BODY:
		tr_str(t, "B:");
		tr_put(t, (const char *)ev->data, ev->len);
		break;
	case H1_EV_RAW:
		tr_str(t, "R:");
		tr_put(t, (const char *)ev->data, ev->len);
		break;
	case H1_EV_END:
		tr_str(t, ev->last ? "E!" : "E");
		break;
	case H1_EV_UPGRADE:
		tr_str(t, "U");
		break;
	case H1_EV_WAIT:
		tr_str(t, "W");
		break;
	case H1_EV_NONE:
	case _H1_EV_MAX:
	case _H1_EV_INVALID:
	default:
		tr_str(t, "?");
		break;
	}
}

/*
 * Feed @in to one direction in pieces of @step bytes (0: all at once), recording events.
 * Returns bytes consumed (< len after a WAIT, recorded as "W") or the error.
 */
static int feed(struct h1_conn *c, enum h1_dir dir, const char *in, size_t len, size_t step,
		struct tr *t, const char **why)
{
	size_t off = 0;

	if (step == 0)
		step = len ? len : 1;
	while (off < len || len == 0) {
		size_t n = MIN(step, len - off), done = 0;

		for (;;) {
			struct h1_event ev;
			int r = h1_conn_feed(c, dir, in + off + done, n - done, &ev, why);

			if (r < 0)
				return r;
			ASSERT_TRUE((size_t)r <= n - done);
			done += (size_t)r;
			if (ev.type == H1_EV_NONE) {
				ASSERT_EQ(done, n);
				break;
			}
			if (ev.type == H1_EV_BODY || ev.type == H1_EV_RAW)
				ASSERT_TRUE(ev.data >= (const uint8_t *)in + off &&
					    ev.data + ev.len <= (const uint8_t *)in + off + n);
			tr_add(t, &ev);
			if (ev.type == H1_EV_WAIT)
				return (int)(off + done);
		}
		off += n;
		if (len == 0)
			break;
	}
	return (int)off;
}

static int eof(struct h1_conn *c, enum h1_dir dir, struct tr *t, const char **why)
{
	struct h1_event ev;
	int r = h1_conn_eof(c, dir, &ev, why);

	if (r >= 0 && ev.type != H1_EV_NONE)
		tr_add(t, &ev);
	return r;
}

/* Feed @req, then @resp, at @step; the two transcripts must be @want_req and @want_resp */
static void check_exchange(const char *req, const char *resp, size_t step, const char *want_req,
			   const char *want_resp)
{
	struct h1_conn *c = h1_conn_new();
	static struct tr tq, ts;
	const char *why = NULL;
	int r;

	memset(&tq, 0, sizeof(tq));
	memset(&ts, 0, sizeof(ts));
	r = feed(c, H1_REQUEST, req, strlen(req), step, &tq, &why);
	if (r < 0)
		TAP_FAIL("request, step %zu: %d (%s)", step, r, strempty(why));
	r = feed(c, H1_RESPONSE, resp, strlen(resp), step, &ts, &why);
	if (r < 0)
		TAP_FAIL("response, step %zu: %d (%s)", step, r, strempty(why));
	if (!streq(tq.s, want_req))
		TAP_FAIL("step %zu: request transcript '%s', want '%s'", step, tq.s, want_req);
	if (!streq(ts.s, want_resp))
		TAP_FAIL("step %zu: response transcript '%s', want '%s'", step, ts.s, want_resp);
	h1_conn_free(c);
}

static const size_t steps[] = { 0, 1, 2, 3, 5, 7, 13, 64 };

TEST(keep_alive_three_requests)
{
	const char *req = "GET /one HTTP/1.1\r\n" HOST_A "\r\n"
			  "POST /two HTTP/1.1\r\n" HOST_A "Content-Length: 5\r\n\r\nhello"
			  "PUT /three HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\n\r\n"
			  "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n";
	const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
			   "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
			   "1\r\nt\r\n2\r\nwo\r\n0\r\n\r\n"
			   "HTTP/1.1 204 No Content\r\n\r\n";

	for (size_t i = 0; i < ELEMENTSOF(steps); i++)
		check_exchange(req, resp, steps[i],
			       "H:GET /one|E|H:POST /two|B:hello|E|H:PUT /three|B:abcde|E",
			       "H:200|B:one|E|H:201|B:two|E|H:204|E");
}

TEST(chunked_split_at_every_byte)
{
	const char *req = "POST /c HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\n\r\n"
			  "5\r\nhello\r\n000a;name=\"v a\"\r\n0123456789\r\n"
			  "1\r\n!\r\n0\r\nX-Trailer: t\r\nY: 2\r\n\r\n"
			  "GET /next HTTP/1.1\r\n" HOST_A "\r\n";
	const char *want = "H:POST /c|B:hello0123456789!|E|H:GET /next|E";
	size_t len = strlen(req);

	for (size_t k = 1; k < len; k++) {
		struct h1_conn *c = h1_conn_new();
		static struct tr t;
		const char *why = NULL;

		memset(&t, 0, sizeof(t));
		ASSERT_OK(feed(c, H1_REQUEST, req, k, 0, &t, &why));
		ASSERT_OK(feed(c, H1_REQUEST, req + k, len - k, 0, &t, &why));
		if (!streq(t.s, want))
			TAP_FAIL("split at %zu: '%s'", k, t.s);
		h1_conn_free(c);
	}
	/* and byte by byte: the same, with one BODY event per data byte */
	check_exchange(req, "", 1, want, "");
}

TEST(chunks_are_reported_decoded_and_marked)
{
	const char *req = "POST /c HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\n\r\n"
			  "3\r\nabc\r\n0\r\n\r\n";
	struct h1_conn *c = h1_conn_new();
	struct h1_event ev;
	size_t off = 0;
	int r;

	r = h1_conn_feed(c, H1_REQUEST, req, strlen(req), &ev, NULL);
	ASSERT_EQ(ev.type, H1_EV_HEAD);
	ASSERT_TRUE(ev.has_body && ev.chunked);
	off += (size_t)r;
	r = h1_conn_feed(c, H1_REQUEST, req + off, strlen(req) - off, &ev, NULL);
	ASSERT_EQ(ev.type, H1_EV_BODY);
	ASSERT_TRUE(ev.chunked);
	ASSERT_EQ(ev.len, 3);
	ASSERT_TRUE(memcmp(ev.data, "abc", 3) == 0);
	off += (size_t)r;
	r = h1_conn_feed(c, H1_REQUEST, req + off, strlen(req) - off, &ev, NULL);
	ASSERT_EQ(ev.type, H1_EV_END);
	ASSERT_TRUE(ev.chunked && !ev.last);
	off += (size_t)r;
	ASSERT_EQ(off, strlen(req));
	h1_conn_free(c);

	{
		char b[H1_CHUNK_HEADER_MAX];

		ASSERT_EQ(h1_chunk_header(b, 26), 4);
		ASSERT_STREQ(b, "1a\r\n");
		ASSERT_EQ(h1_chunk_header(b, SIZE_MAX), 18);
	}
}

/* Server-sent events: each event is reported as soon as its bytes are in */
TEST(sse_streams_before_the_end)
{
	const char *req = "GET /events HTTP/1.1\r\n" HOST_A "Accept: text/event-stream\r\n\r\n";
	const char *head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n";
	struct h1_conn *c = h1_conn_new();
	static struct tr tq, ts;
	const char *why = NULL;

	memset(&tq, 0, sizeof(tq));
	memset(&ts, 0, sizeof(ts));
	ASSERT_OK(feed(c, H1_REQUEST, req, strlen(req), 0, &tq, &why));
	ASSERT_OK(feed(c, H1_RESPONSE, head, strlen(head), 0, &ts, &why));
	ASSERT_STREQ(ts.s, "H:200");
	for (int i = 0; i < 5; i++) {
		char ev[64], chunk[96];
		size_t before = ts.events;

		(void)snprintf(ev, sizeof(ev), "data: %d\n\n", i);
		(void)snprintf(chunk, sizeof(chunk), "%zx\r\n%s\r\n", strlen(ev), ev);
		/* in small pieces, and the event is out by the time its last data byte is in */
		ASSERT_OK(feed(c, H1_RESPONSE, chunk, strlen(chunk) - 2, 3, &ts, &why));
		ASSERT_TRUE(ts.events > before);
		ASSERT_TRUE(strstr(ts.s, ev) != NULL);
		ASSERT_TRUE(strstr(ts.s, "|E") == NULL);
		ASSERT_OK(feed(c, H1_RESPONSE, "\r\n", 2, 0, &ts, &why));
	}
	ASSERT_OK(feed(c, H1_RESPONSE, "0\r\n\r\n", 5, 0, &ts, &why));
	ASSERT_TRUE(strstr(ts.s, "|E") != NULL);
	h1_conn_free(c);
}

TEST(until_close_response)
{
	const char *req = "GET / HTTP/1.1\r\n" HOST_A "\r\n";
	const char *resp = "HTTP/1.0 200 OK\r\n\r\nstreamed until close";
	struct h1_conn *c = h1_conn_new();
	static struct tr tq, ts;
	const char *why = NULL;
	struct h1_event ev;
	int r;

	memset(&tq, 0, sizeof(tq));
	memset(&ts, 0, sizeof(ts));
	ASSERT_OK(feed(c, H1_REQUEST, req, strlen(req), 0, &tq, &why));
	r = h1_conn_feed(c, H1_RESPONSE, resp, strlen(resp), &ev, NULL);
	ASSERT_EQ(ev.type, H1_EV_HEAD);
	ASSERT_FALSE(ev.head->persistent); /* the rewrite says Connection: close */
	ASSERT_OK(feed(c, H1_RESPONSE, resp + r, strlen(resp) - (size_t)r, 4, &ts, &why));
	ASSERT_OK(eof(c, H1_RESPONSE, &ts, &why));
	ASSERT_STREQ(ts.s, "B:streamed until close|E!");
	/* ... and then nothing more is accepted from the server */
	ASSERT_ERR(feed(c, H1_RESPONSE, "x", 1, 0, &ts, &why), EBADMSG);
	h1_conn_free(c);
}

TEST(bodiless_responses)
{
	/* HEAD: Content-Length says what GET would send; no body follows */
	for (size_t i = 0; i < ELEMENTSOF(steps); i++)
		check_exchange("HEAD /h HTTP/1.1\r\n" HOST_A "\r\nGET /g HTTP/1.1\r\n" HOST_A
			       "\r\n",
			       "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
			       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
			       steps[i], "H:HEAD /h|E|H:GET /g|E", "H:200|E|H:200|B:ok|E");
	/* HEAD answered with chunked framing: still no body */
	check_exchange("HEAD /h HTTP/1.1\r\n" HOST_A "\r\nGET /g HTTP/1.1\r\n" HOST_A "\r\n",
		       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		       1, "H:HEAD /h|E|H:GET /g|E", "H:200|E|H:200|B:ok|E");
	/* 204 and 304, even with framing fields, and 304 without any */
	check_exchange("GET /a HTTP/1.1\r\n" HOST_A "\r\nGET /b HTTP/1.1\r\n" HOST_A
		       "\r\nGET /c HTTP/1.1\r\n" HOST_A "\r\n",
		       "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"
		       "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n"
		       "HTTP/1.1 304 Not Modified\r\n\r\n",
		       0, "H:GET /a|E|H:GET /b|E|H:GET /c|E", "H:204|E|H:304|E|H:304|E");
	/* interim responses: 100 Continue and 103 then the real one */
	check_exchange("POST /p HTTP/1.1\r\n" HOST_A "Expect: 100-continue\r\nContent-Length: 1\r\n"
		       "\r\nx",
		       "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n"
		       "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		       1, "H:POST /p|B:x|E", "H:100|H:103|H:200|E");
}

TEST(websocket_upgrade_then_raw)
{
	const char *req =
		"GET /ws HTTP/1.1\r\n" HOST_A "Connection: Upgrade\r\nUpgrade: websocket\r\n"
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		"Sec-WebSocket-Version: 13\r\n\r\n";
	const char *frames = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
	const char *resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			   "Connection: Upgrade\r\n"
			   "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
			   "\x81\x05hello";
	struct h1_conn *c = h1_conn_new();
	static struct tr tq, ts;
	const char *why = NULL;
	int r;

	memset(&tq, 0, sizeof(tq));
	memset(&ts, 0, sizeof(ts));
	ASSERT_OK(feed(c, H1_REQUEST, req, strlen(req), 0, &tq, &why));
	ASSERT_STREQ(tq.s, "H:GET /ws|E");
	/* a frame sent before the 101: the request side waits */
	r = feed(c, H1_REQUEST, frames, strlen(frames), 0, &tq, &why);
	ASSERT_EQ(r, 0);
	ASSERT_STREQ(tq.s, "H:GET /ws|E|W");
	ASSERT_OK(feed(c, H1_RESPONSE, resp, strlen(resp), 3, &ts, &why));
	ASSERT_STREQ(ts.s, "H:101|U|R:\x81\x05hello");
	ASSERT_OK(feed(c, H1_REQUEST, frames, strlen(frames), 1, &tq, &why));
	if (!streq(tq.s, "H:GET /ws|E|W|U|R:\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"))
		TAP_FAIL("request transcript '%s'", tq.s);
	ASSERT_OK(eof(c, H1_REQUEST, &tq, &why));
	ASSERT_OK(eof(c, H1_RESPONSE, &ts, &why));
	h1_conn_free(c);
}

TEST(websocket_refused_goes_on_as_http)
{
	check_exchange("GET /ws HTTP/1.1\r\n" HOST_A
		       "Connection: upgrade\r\nUpgrade: websocket\r\n\r\n",
		       "HTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\n\r\nno", 0, "H:GET /ws|E",
		       "H:401|B:no|E");
	/* and the request side may send its next request after the answer */
	{
		struct h1_conn *c = h1_conn_new();
		static struct tr tq, ts;
		const char *why = NULL;
		const char *req = "GET /ws HTTP/1.1\r\n" HOST_A
				  "Connection: upgrade\r\nUpgrade: websocket\r\n\r\n"
				  "GET /b HTTP/1.1\r\n" HOST_A "\r\n";
		int r;

		memset(&tq, 0, sizeof(tq));
		memset(&ts, 0, sizeof(ts));
		r = feed(c, H1_REQUEST, req, strlen(req), 0, &tq, &why);
		ASSERT_TRUE(r > 0 && (size_t)r < strlen(req));
		ASSERT_STREQ(tq.s, "H:GET /ws|E|W");
		ASSERT_OK(feed(c, H1_RESPONSE,
			       "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 45, 0, &ts,
			       &why));
		ASSERT_OK(feed(c, H1_REQUEST, req + r, strlen(req) - (size_t)r, 0, &tq, &why));
		ASSERT_STREQ(tq.s, "H:GET /ws|E|W|H:GET /b|E");
		h1_conn_free(c);
	}
	/* an Upgrade other than websocket is not an upgrade: h2c is stripped, 101 refused */
	{
		struct h1_conn *c = h1_conn_new();
		static struct tr tq, ts;
		const char *why = NULL;
		const char *req = "GET / HTTP/1.1\r\n" HOST_A
				  "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n\r\n";
		const char *resp = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
				   "Upgrade: h2c\r\n\r\n";

		memset(&tq, 0, sizeof(tq));
		memset(&ts, 0, sizeof(ts));
		ASSERT_OK(feed(c, H1_REQUEST, req, strlen(req), 0, &tq, &why));
		ASSERT_STREQ(tq.s, "H:GET /|E");
		ASSERT_ERR(feed(c, H1_RESPONSE, resp, strlen(resp), 0, &ts, &why), EBADMSG);
		ASSERT_TRUE(strstr(why, "101"));
		h1_conn_free(c);
	}
}

TEST(connect_tunnel)
{
	check_exchange("CONNECT a.example:443 HTTP/1.1\r\n" HOST_A "\r\n",
		       "HTTP/1.1 200 Connection Established\r\nContent-Length: 99\r\n\r\nraw", 0,
		       "H:CONNECT |E", "H:200|U|R:raw");
	check_exchange("CONNECT a.example:443 HTTP/1.1\r\n" HOST_A "\r\n",
		       "HTTP/1.1 403 Forbidden\r\nContent-Length: 1\r\n\r\nx", 0, "H:CONNECT |E",
		       "H:403|B:x|E");
}

TEST(pipelining)
{
	static char req[32 * 64];
	size_t len = 0;
	struct h1_conn *c = h1_conn_new();
	static struct tr tq, ts;
	const char *why = NULL;
	int r;

	memset(&tq, 0, sizeof(tq));
	memset(&ts, 0, sizeof(ts));
	for (unsigned i = 0; i < H1_PIPELINE_MAX + 2; i++)
		len += (size_t)snprintf(req + len, sizeof(req) - len,
					"GET /%u HTTP/1.1\r\nHost: a.example\r\n\r\n", i);
	r = feed(c, H1_REQUEST, req, len, 0, &tq, &why);
	ASSERT_TRUE(r > 0 && (size_t)r < len);
	ASSERT_EQ(tq.events, 2 * H1_PIPELINE_MAX + 1); /* 16 x (HEAD, END), WAIT */
	ASSERT_TRUE(strstr(tq.s, "|W") != NULL);
	/* one answer frees one slot */
	ASSERT_OK(feed(c, H1_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 38, 0, &ts,
		       &why));
	r += feed(c, H1_REQUEST, req + r, len - (size_t)r, 0, &tq, &why);
	ASSERT_TRUE((size_t)r < len);
	ASSERT_EQ(tq.events, 2 * H1_PIPELINE_MAX + 4);
	ASSERT_OK(feed(c, H1_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 38, 0, &ts,
		       &why));
	ASSERT_OK(feed(c, H1_REQUEST, req + r, len - (size_t)r, 0, &tq, &why));
	ASSERT_EQ(tq.events, 2 * H1_PIPELINE_MAX + 6);
	h1_conn_free(c);
}

TEST(connection_close)
{
	struct h1_conn *c = h1_conn_new();
	static struct tr tq, ts;
	const char *why = NULL;
	const char *req = "GET / HTTP/1.1\r\n" HOST_A "Connection: close\r\n\r\n";

	memset(&tq, 0, sizeof(tq));
	memset(&ts, 0, sizeof(ts));
	ASSERT_OK(feed(c, H1_REQUEST, req, strlen(req), 0, &tq, &why));
	ASSERT_STREQ(tq.s, "H:GET /|E!");
	/* the response ends the connection even if the server would keep it */
	ASSERT_OK(feed(c, H1_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 38, 0, &ts,
		       &why));
	ASSERT_STREQ(ts.s, "H:200|E!");
	ASSERT_ERR(feed(c, H1_REQUEST, "GET / HTTP/1.1\r\n", 16, 0, &tq, &why), EBADMSG);
	ASSERT_TRUE(strstr(why, "after the last"));
	h1_conn_free(c);

	/* HTTP/1.0 without keep-alive is the last request too */
	check_exchange("GET / HTTP/1.0\r\n\r\n", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", 0,
		       "H:GET /|E!", "H:200|B:x|E!");
}

TEST(eof)
{
	struct h1_conn *c = h1_conn_new();
	static struct tr t;
	const char *why = NULL;
	const char *req = "POST / HTTP/1.1\r\n" HOST_A "Content-Length: 10\r\n\r\nabc";

	memset(&t, 0, sizeof(t));
	/* between messages: clean */
	ASSERT_OK(eof(c, H1_REQUEST, &t, &why));
	ASSERT_OK(feed(c, H1_REQUEST, req, strlen(req), 0, &t, &why));
	ASSERT_ERR(eof(c, H1_REQUEST, &t, &why), EPIPE);
	ASSERT_TRUE(strstr(why, "inside a request"));
	/* and the server closing with a request unanswered */
	ASSERT_ERR(eof(c, H1_RESPONSE, &t, &why), EPIPE);
	h1_conn_free(c);

	c = h1_conn_new();
	ASSERT_OK(feed(c, H1_REQUEST, "GET / HTTP/1.1\r\n" HOST_A "\r\n", 35, 0, &t, &why));
	ASSERT_ERR(eof(c, H1_RESPONSE, &t, &why), EPIPE);
	ASSERT_TRUE(strstr(why, "before answering"));
	h1_conn_free(c);

	c = h1_conn_new();
	ASSERT_OK(feed(c, H1_REQUEST, "GET / HTTP/1.1\r\n" HOST_A "\r\n", 35, 0, &t, &why));
	ASSERT_OK(feed(c, H1_RESPONSE,
		       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", 52, 0, &t,
		       &why));
	ASSERT_ERR(eof(c, H1_RESPONSE, &t, &why), EPIPE);
	ASSERT_TRUE(strstr(why, "inside a response"));
	h1_conn_free(c);
}

/* Refused requests: what, the error, and a word of the reason */
#define R(in, err, why)                                                                            \
	{                                                                                          \
		in, sizeof(in) - 1, err, why                                                       \
	}
static const struct refuse_case {
	const char *in;
	size_t len;
	int err;
	const char *why;
} refused_requests[] = {
	R("POST / HTTP/1.1\r\n" HOST_A "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
	  EBADMSG, "both"),
	R("POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
	  EBADMSG, "both"),
	R("POST / HTTP/1.1\r\n" HOST_A "Content-Length: 3\r\nContent-Length: 4\r\n\r\n", EBADMSG,
	  "Content-Length"),
	R("POST / HTTP/1.1\r\n" HOST_A "Content-Length: 3\r\nContent-Length: 3\r\n\r\n", EBADMSG,
	  "Content-Length"),
	R("POST / HTTP/1.1\r\n" HOST_A "Content-Length: 3, 3\r\n\r\n", EBADMSG, "Content-Length"),
	R("POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: gzip\r\n\r\n", EBADMSG,
	  "Transfer-Encoding"),
	R("POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: gzip, chunked\r\n\r\n", EBADMSG,
	  "Transfer-Encoding"),
	R("POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked, identity\r\n\r\n", EBADMSG,
	  "Transfer-Encoding"),
	R("POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: xchunked\r\n\r\n", EBADMSG,
	  "Transfer-Encoding"),
	R("POST / HTTP/1.1\r\n" HOST_A "X: a\r\n Transfer-Encoding: chunked\r\n\r\n", EBADMSG,
	  "obs-fold"),
	R("GET / HTTP/1.1\r\n" HOST_A "X: a\r\n\tb\r\n\r\n", EBADMSG, "obs-fold"),
	R("GET / HTTP/1.1\r\n" HOST_A "X: a\0b\r\n\r\n", EBADMSG, "NUL"),
	R("GET / HTTP/1.1\r\n" HOST_A "X: a\rb\r\n\r\n", EBADMSG, "bare CR"),
	R("GET / HTTP/1.1\n" HOST_A "\r\n", EBADMSG, "bare LF"),
	R("GET / HTTP/2.0\r\n" HOST_A "\r\n", EPROTONOSUPPORT, "version"),
	/* chunk sizes */
	R("POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\n\r\nzz\r\n", EBADMSG,
	  "chunk size"),
	R("POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\n\r\n-1\r\n", EBADMSG,
	  "chunk size"),
	R("POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\n\r\n 5\r\n", EBADMSG,
	  "chunk size"),
	R("POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\n\r\n5 \r\n", EBADMSG,
	  "after chunk size"),
	R("POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\n\r\n0x5\r\n", EBADMSG,
	  "after chunk size"),
	R("POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\n\r\n\r\n", EBADMSG,
	  "chunk size"),
	R("POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\n\r\n5\nhello", EBADMSG,
	  "after chunk size"),
	R("POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\n\r\n5\rhello", EBADMSG,
	  "bare CR"),
	R("POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\n\r\n00000000000000005\r\n",
	  EBADMSG, "too large"),
	R("POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\n\r\n8000000000000000\r\n",
	  EBADMSG, "too large"),
	R("POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n", EBADMSG,
	  "longer than its size"),
	R("POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r0\r\n",
	  EBADMSG, "bare CR"),
	R("POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\n\r\n5;a\0b\r\n", EBADMSG,
	  "chunk extension"),
	R("POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\n\r\n5;a\nb\r\n", EBADMSG,
	  "chunk extension"),
	/* trailers */
	R("POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n y\r\n\r\n",
	  EBADMSG, "obs-fold"),
	R("POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\n\r\n0\r\nX: 1\n\r\n", EBADMSG,
	  "bare LF"),
	R("POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\n\r\n0\r\nX: \0\r\n\r\n",
	  EBADMSG, "NUL"),
	R("POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\n\r\n0\r\nX : 1\r\n\r\n",
	  EBADMSG, "trailer field name"),
	R("POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\n\r\n0\r\n: 1\r\n\r\n",
	  EBADMSG, "trailer field name"),
	R("POST / HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\n\r\n0\r\n\rX", EBADMSG,
	  "bare CR"),
	/* a response before any request is not a request */
	R("HTTP/1.1 200 OK\r\n\r\n", EBADMSG, "method"),
};

static int feed_sized(const char *in, size_t len, size_t step, const char **why)
{
	struct h1_conn *c = h1_conn_new();
	static struct tr t;
	int r;

	memset(&t, 0, sizeof(t));
	r = feed(c, H1_REQUEST, in, len, step, &t, why);
	h1_conn_free(c);
	return r;
}

TEST(refused_requests)
{
	for (size_t i = 0; i < ELEMENTSOF(refused_requests); i++) {
		const struct refuse_case *rc = &refused_requests[i];
		size_t len = rc->len;

		for (size_t s = 0; s < ELEMENTSOF(steps); s++) {
			const char *why = NULL;
			int r = feed_sized(rc->in, len, steps[s], &why);

			if (r != -rc->err)
				TAP_FAIL("case %zu step %zu: got %d (%s), want -%d", i, steps[s], r,
					 strempty(why), rc->err);
			if (!why || !strcasestr(why, rc->why))
				TAP_FAIL("case %zu: reason '%s' lacks '%s'", i, strempty(why),
					 rc->why);
		}
	}
}

TEST(limits)
{
	_cleanup_free_ char *big = xmalloc(HTTP1_HEAD_MAX + 100);
	_cleanup_free_ char *ext = NULL, *trail = NULL;
	const char *why = NULL;
	size_t n;

	/* a head over 64 KiB, also fed in small pieces */
	n = (size_t)snprintf(big, 64, "GET / HTTP/1.1\r\n" HOST_A "X: ");
	memset(big + n, 'a', HTTP1_HEAD_MAX + 100 - n);
	ASSERT_ERR(feed_sized(big, HTTP1_HEAD_MAX + 100, 0, &why), E2BIG);
	ASSERT_ERR(feed_sized(big, HTTP1_HEAD_MAX + 100, 1000, &why), E2BIG);

	/* chunk extensions: up to the limit, then refused */
	for (size_t e = H1_CHUNK_EXT_MAX - 1; e <= H1_CHUNK_EXT_MAX + 1; e++) {
		static struct tr t;
		struct h1_conn *c = h1_conn_new();
		int r;

		free(ext);
		ext = xmalloc(e + 200);
		n = (size_t)sprintf(ext, "POST / HTTP/1.1\r\n" HOST_A
					 "Transfer-Encoding: chunked\r\n\r\n1;");
		memset(ext + n, 'x', e - 1);
		n += e - 1;
		n += (size_t)sprintf(ext + n, "\r\nA\r\n0\r\n\r\n");
		memset(&t, 0, sizeof(t));
		r = feed(c, H1_REQUEST, ext, n, 0, &t, &why);
		if (e <= H1_CHUNK_EXT_MAX)
			ASSERT_OK(r);
		else
			ASSERT_ERR(r, E2BIG);
		h1_conn_free(c);
	}

	/* trailers: accepted and dropped up to the limit, then refused */
	trail = xmalloc(H1_TRAILER_MAX + 200);
	n = (size_t)sprintf(trail, "POST / HTTP/1.1\r\n" HOST_A
				   "Transfer-Encoding: chunked\r\n\r\n0\r\nX-T: ");
	memset(trail + n, 'v', H1_TRAILER_MAX - 20);
	n += H1_TRAILER_MAX - 20;
	n += (size_t)sprintf(trail + n, "\r\n\r\n");
	{
		static struct tr t;
		struct h1_conn *c = h1_conn_new();

		memset(&t, 0, sizeof(t));
		ASSERT_OK(feed(c, H1_REQUEST, trail, n, 0, &t, &why));
		ASSERT_STREQ(t.s, "H:POST /|E");
		h1_conn_free(c);
	}
	n = (size_t)sprintf(trail, "POST / HTTP/1.1\r\n" HOST_A
				   "Transfer-Encoding: chunked\r\n\r\n0\r\nX-T: ");
	memset(trail + n, 'v', H1_TRAILER_MAX + 10);
	n += H1_TRAILER_MAX + 10;
	ASSERT_ERR(feed_sized(trail, n, 0, &why), E2BIG);
	ASSERT_TRUE(strstr(why, "trailer"));
}

static void check_response_refused(const char *req, const char *resp, int err, const char *word)
{
	struct h1_conn *c = h1_conn_new();
	static struct tr t;
	const char *why = NULL;

	memset(&t, 0, sizeof(t));
	ASSERT_OK(feed(c, H1_REQUEST, req, strlen(req), 0, &t, &why));
	ASSERT_ERR(feed(c, H1_RESPONSE, resp, strlen(resp), 0, &t, &why), err);
	if (!why || !strcasestr(why, word))
		TAP_FAIL("reason '%s' lacks '%s'", strempty(why), word);
	/* the error sticks, on both sides */
	ASSERT_ERR(feed(c, H1_REQUEST, "GET", 3, 0, &t, &why), err);
	h1_conn_free(c);
}

TEST(refused_responses)
{
	const char *get = "GET / HTTP/1.1\r\n" HOST_A "\r\n";

	check_response_refused(get,
			       "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
			       EBADMSG, "different values");
	check_response_refused(get,
			       "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
			       "Transfer-Encoding: chunked\r\n\r\n",
			       EBADMSG, "both");
	check_response_refused(get, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
			       EBADMSG, "Transfer-Encoding");
	check_response_refused(get, "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
			       EBADMSG, "HTTP/1.0");
	check_response_refused(get, "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", EBADMSG, "obs-fold");
	check_response_refused(get, "HTTP/1.1 20 OK\r\n\r\n", EBADMSG, "status");
	check_response_refused(get, "HTTP/1.1 099 OK\r\n\r\n", EBADMSG, "status");
	check_response_refused(get, "HTTP/1.1 2000 OK\r\n\r\n", EBADMSG, "status");
	check_response_refused(get, "HTTP/1.1 200 O\rK\r\n\r\n", EBADMSG, "bare CR");
	check_response_refused(get, "HTTP/2 200\r\n\r\n", EPROTONOSUPPORT, "version");
	check_response_refused(get, "HTTP/1.1 101 Switching Protocols\r\n\r\n", EBADMSG, "101");
	check_response_refused(get,
			       "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
			       "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
			       EBADMSG, "without a request");
	check_response_refused(get,
			       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			       "3\r\nabc\r\nq\r\n",
			       EBADMSG, "chunk size");

	/* repeated Content-Length with one value, and a status line without a reason: fine */
	check_exchange(get, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
		       1, "H:GET /|E", "H:200|B:ok|E");
	check_exchange(get, "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", 0, "H:GET /|E", "H:200|E");
}

/*
 * h1_head_rewrite()
 */

static char *rewrite(const char *in, const char *host, uint16_t port, const struct h1_edit *edits,
		     size_t n_edits, int *ret_r, const char **why)
{
	struct http_head h;
	struct h1_rewrite rw = { host, port, edits, n_edits };
	struct h1_buf out = {};
	char *s;
	int r;

	r = strncmp(in, "HTTP/", 5) == 0 ? http1_parse_response_head(in, strlen(in), &h, why)
					 : http1_parse_head(in, strlen(in), &h, why);
	PADDOCK_ASSERT(r > 0);
	*ret_r = h1_head_rewrite(&h, &rw, &out, why);
	if (*ret_r < 0)
		return NULL;
	s = xstrndup(out.p, out.len);
	h1_buf_done(&out);
	ASSERT_NULL(out.p);
	return s;
}

TEST(rewrite_strips_hop_by_hop)
{
	_cleanup_free_ char *s = NULL;
	const char *why = NULL;
	int r;

	s = rewrite("GET /p?q HTTP/1.1\r\nHost: A.Example\r\nConnection: keep-alive, X-Hop\r\n"
		    "Keep-Alive: 5\r\nX-Hop: 1\r\nProxy-Authorization: Basic eDp5\r\n"
		    "Proxy-Connection: keep-alive\r\nTE: trailers\r\nTrailer: X\r\n"
		    "Upgrade: h2c\r\nAccept: */*\r\n\r\n",
		    "a.example", 443, NULL, 0, &r, &why);
	ASSERT_OK(r);
	ASSERT_STREQ(s, "GET /p?q HTTP/1.1\r\nHost: A.Example\r\nAccept: */*\r\n\r\n");
	free(s);

	/* Connection cannot remove Host or the framing */
	s = rewrite("POST / HTTP/1.1\r\nHost: a.example\r\nConnection: host, content-length\r\n"
		    "Content-Length: 2\r\n\r\n",
		    "a.example", 443, NULL, 0, &r, &why);
	ASSERT_OK(r);
	ASSERT_STREQ(s, "POST / HTTP/1.1\r\nHost: a.example\r\nContent-Length: 2\r\n\r\n");
	free(s);

	/* chunked stays chunked (the engine re-chunks); close is said */
	s = rewrite("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nHost: a.example\r\n"
		    "Connection: close\r\n\r\n",
		    "a.example", 443, NULL, 0, &r, &why);
	ASSERT_OK(r);
	ASSERT_STREQ(s, "POST / HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n"
			"Connection: close\r\n\r\n");
	free(s);

	/* HTTP/1.0: keep-alive said explicitly; a missing Host is added */
	s = rewrite("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "a.example", 8443, NULL, 0,
		    &r, &why);
	ASSERT_OK(r);
	ASSERT_STREQ(s, "GET / HTTP/1.0\r\nHost: a.example:8443\r\nConnection: keep-alive\r\n\r\n");
	free(s);

	/* absolute-form becomes origin-form */
	s = rewrite("GET http://a.example/x HTTP/1.1\r\nHost: a.example\r\n\r\n", "a.example", 443,
		    NULL, 0, &r, &why);
	ASSERT_OK(r);
	ASSERT_STREQ(s, "GET /x HTTP/1.1\r\nHost: a.example\r\n\r\n");
	free(s);

	/* websocket: Upgrade kept, Connection: Upgrade */
	s = rewrite("GET /ws HTTP/1.1\r\nHost: a.example\r\nConnection: keep-alive, Upgrade\r\n"
		    "Upgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n",
		    "a.example", 443, NULL, 0, &r, &why);
	ASSERT_OK(r);
	ASSERT_STREQ(s, "GET /ws HTTP/1.1\r\nHost: a.example\r\nUpgrade: websocket\r\n"
			"Sec-WebSocket-Key: k\r\nConnection: Upgrade\r\n\r\n");
	free(s);

	/* responses */
	s = rewrite(
		"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n"
		"Sec-WebSocket-Accept: a\r\n\r\n",
		NULL, 0, NULL, 0, &r, &why);
	ASSERT_OK(r);
	ASSERT_STREQ(s, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			"Sec-WebSocket-Accept: a\r\nConnection: Upgrade\r\n\r\n");
	free(s);
	s = rewrite("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nProxy-Authenticate: x\r\n"
		    "Content-Length: 0\r\nContent-Length: 0\r\nServer: s\r\n\r\n",
		    NULL, 0, NULL, 0, &r, &why);
	ASSERT_OK(r);
	ASSERT_STREQ(s, "HTTP/1.1 200 OK\r\nServer: s\r\nContent-Length: 0\r\n\r\n");
}

TEST(rewrite_checks_host)
{
	_cleanup_free_ char *s = NULL;
	const char *why = NULL;
	int r;

	s = rewrite("GET / HTTP/1.1\r\nHost: b.example\r\n\r\n", "a.example", 443, NULL, 0, &r,
		    &why);
	ASSERT_ERR(r, EPERM);
	ASSERT_TRUE(strstr(why, "Host"));
	s = rewrite("GET / HTTP/1.1\r\nHost: a.example.evil\r\n\r\n", "a.example", 443, NULL, 0, &r,
		    &why);
	ASSERT_ERR(r, EPERM);
	s = rewrite("GET / HTTP/1.1\r\nHost: a.example:8443\r\n\r\n", "a.example", 443, NULL, 0, &r,
		    &why);
	ASSERT_ERR(r, EPERM);
	s = rewrite("GET / HTTP/1.1\r\nHost: A.EXAMPLE:443\r\n\r\n", "a.example", 443, NULL, 0, &r,
		    &why);
	ASSERT_OK(r);
	free(s);
	s = rewrite("GET / HTTP/1.1\r\nHost: a.example.\r\n\r\n", "a.example", 443, NULL, 0, &r,
		    &why);
	ASSERT_OK(r);
	free(s);
	s = rewrite("GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", NULL, 443, NULL, 0, &r, &why);
	ASSERT_ERR(r, EINVAL);
}

TEST(rewrite_edits)
{
	_cleanup_free_ char *s = NULL;
	const char *why = NULL;
	struct h1_edit e[] = {
		{ 1, "Bearer real", 11 },
		{ H1_EDIT_TARGET, "/v1?key=real", 12 },
	};
	struct h1_edit bad_crlf[] = { { 1, "x\r\nEvil: 1", 10 } };
	struct h1_edit bad_field[] = { { 9, "x", 1 } };
	struct h1_edit bad_target[] = { { H1_EDIT_TARGET, "/a b", 4 } };
	struct h1_edit twice[] = { { 1, "a", 1 }, { 1, "b", 1 } };
	const char *in =
		"GET /v1?key=ph HTTP/1.1\r\nHost: a.example\r\nAuthorization: Bearer ph\r\n"
		"\r\n";
	int r;

	s = rewrite(in, "a.example", 443, e, ELEMENTSOF(e), &r, &why);
	ASSERT_OK(r);
	ASSERT_STREQ(s, "GET /v1?key=real HTTP/1.1\r\nHost: a.example\r\n"
			"Authorization: Bearer real\r\n\r\n");
	ASSERT_NULL(rewrite(in, "a.example", 443, bad_crlf, 1, &r, &why));
	ASSERT_ERR(r, EINVAL);
	ASSERT_NULL(rewrite(in, "a.example", 443, bad_field, 1, &r, &why));
	ASSERT_ERR(r, EINVAL);
	ASSERT_NULL(rewrite(in, "a.example", 443, bad_target, 1, &r, &why));
	ASSERT_ERR(r, EINVAL);
	ASSERT_NULL(rewrite(in, "a.example", 443, twice, 2, &r, &why));
	ASSERT_ERR(r, EINVAL);
}

/* What the engine sends on re-parses to the same thing (head rewritten, body re-chunked) */
TEST(rechunked_output_reparses)
{
	const char *req = "POST /c HTTP/1.1\r\n" HOST_A "Transfer-Encoding: chunked\r\n"
			  "Connection: keep-alive, X-A\r\nX-A: 1\r\n\r\n"
			  "5;e=1\r\nhello\r\n3\r\n, w\r\n0\r\nT: 1\r\n\r\n";
	struct h1_conn *c = h1_conn_new(), *c2 = h1_conn_new();
	static char out[4096];
	static struct tr t1, t2;
	size_t olen = 0, off = 0;
	const char *why = NULL;

	memset(&t1, 0, sizeof(t1));
	memset(&t2, 0, sizeof(t2));
	for (;;) {
		struct h1_event ev;
		int r = h1_conn_feed(c, H1_REQUEST, req + off, strlen(req) - off, &ev, &why);

		ASSERT_OK(r);
		off += (size_t)r;
		if (ev.type == H1_EV_NONE)
			break;
		tr_add(&t1, &ev);
		if (ev.type == H1_EV_HEAD) {
			struct h1_rewrite rw = { "a.example", 443, NULL, 0 };
			struct h1_buf b = {};

			ASSERT_OK(h1_head_rewrite(ev.head, &rw, &b, &why));
			ASSERT_NOT_NULL(b.p);
			memcpy(out + olen, b.p, b.len);
			olen += b.len;
			h1_buf_done(&b);
		} else if (ev.type == H1_EV_BODY) {
			olen += h1_chunk_header(out + olen, ev.len);
			memcpy(out + olen, ev.data, ev.len);
			olen += ev.len;
			memcpy(out + olen, H1_CHUNK_TAIL, 2);
			olen += 2;
		} else if (ev.type == H1_EV_END && ev.chunked) {
			memcpy(out + olen, H1_CHUNK_LAST, 5);
			olen += 5;
		}
	}
	out[olen] = '\0';
	ASSERT_TRUE(strstr(out, "X-A") == NULL);
	ASSERT_TRUE(strstr(out, "T: 1") == NULL);
	ASSERT_TRUE(strstr(out, ";e=1") == NULL);
	ASSERT_OK(feed(c2, H1_REQUEST, out, olen, 0, &t2, &why));
	ASSERT_STREQ(t1.s, t2.s);
	ASSERT_STREQ(t2.s, "H:POST /c|B:hello, w|E");
	h1_conn_free(c);
	h1_conn_free(c2);
}

int main(void)
{
	return tap_run();
}
