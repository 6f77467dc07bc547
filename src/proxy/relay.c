/* SPDX-License-Identifier: MIT */
/*
 * relay.c - move the bytes of an allowed connection both ways: splice(2), or bufferevents
 *
 * DOC: Theory of Operation
 * Once conn.c has sent the client's first bytes on their way (rewritten, for an HTTP head)
 * the connection is a plain byte stream each way, and nothing needs to see the bytes again.
 * They are moved with splice(2) through one pipe per direction, so they never enter user
 * space:
 *
 *   client --splice--> pipe[0] --splice--> upstream
 *   client <--splice-- pipe[1] <--splice-- upstream
 *
 * Each direction (struct relay_pipe) has an EV_READ event on its source socket, enabled
 * while the pipe has room and the source has not sent FIN, and an EV_WRITE event on its
 * destination, enabled while the pipe (or the bytes written before it, @head) holds data.
 * The pipe is the bound: F_SETPIPE_SZ 64 KiB, and the byte count in the pipe is never let
 * past that. A pipe counts pages, not bytes, so it can fill before 64 KiB with the small
 * fragments of a socket; splice then says EAGAIN, and reading waits until writing has moved
 * something (@full) instead of spinning on a readable socket.
 *
 * The first bytes (conn->buf, and in principle anything still queued in the dial's
 * bufferevent) are the head of the client-to-upstream direction: written with send() before
 * anything from the pipe. A FIN from a source is passed on with shutdown(SHUT_WR) once its
 * pipe is drained; the other direction keeps flowing; both FINs passed on end the
 * connection. An error either way closes both (conn_close(), with the `net` event). Every
 * byte moved re-arms the idle timer.
 *
 * When splice cannot be used (EINVAL or ENOSYS from the kernel for a socket type, no fds
 * left for the pipes, or proxy->no_splice in tests) the connection falls back to the
 * bufferevent relay: whatever the pipes and heads hold is moved into the bufferevents'
 * output buffers in order, the FIN state is kept, and the relay goes on from there. Falling
 * back costs two bufferevents and a copy of at most what was in flight.
 *
 * The bufferevent relay reads at most 64 KiB ahead (the read high watermark) and stops
 * reading while the other side's output holds 64 KiB; it resumes when that output drains.
 *
 * When the sandbox has secrets, what the client sends is scanned for placeholders
 * (inject_scan(), the first bytes included), so those connections always take the
 * bufferevent relay: splice would move the bytes without anyone seeing them. A placeholder
 * closes the connection with a `secret_leak` event (where "stream"). The cost is one copy
 * through user space per byte each way (docs/design/interception.md has the numbers).
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/xmalloc.h"
#include "proxy/inject.h"
#include "proxy/proxy-internal.h"

#define SPLICE_FLAGS (SPLICE_F_NONBLOCK | SPLICE_F_MOVE)

/*
 * struct relay_pipe - one direction of the splice relay: @src -> @pipe -> @dst
 * @c: the connection
 * @up: client to upstream (else upstream to client)
 * @src, @dst: the sockets (borrowed from @c)
 * @pipe: read end, write end
 * @cap: bytes the pipe may hold, at most PROXY_RELAY_BUF_MAX
 * @in_pipe: bytes in the pipe now
 * @head: bytes to write to @dst before the pipe's (owned), @head_off of @head_len written
 * @rd, @wr: EV_READ on @src, EV_WRITE on @dst; @rd_on, @wr_on: whether they are added
 * @full: splice into the pipe said EAGAIN with bytes in it; read again after a write
 */
struct relay_pipe {
	struct conn *c;
	bool up;
	int src, dst;
	int pipe[2];
	size_t cap, in_pipe;
	uint8_t *head;
	size_t head_len, head_off;
	struct event *rd, *wr;
	bool rd_on, wr_on, full;
};

static void relay_bev_start(struct conn *c);

/* --- common ------------------------------------------------------------------------------ */

static void relay_idle_arm(struct conn *c)
{
	struct timeval tv = { .tv_sec = (time_t)(c->proxy->idle_usec / 1000000u),
			      .tv_usec = (suseconds_t)(c->proxy->idle_usec % 1000000u) };

	(void)evtimer_add(c->timer, &tv);
}

static void relay_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	conn_close(arg, "idle timeout");
}

/* The `net` event's error for a failure on @fd */
static const char *relay_error(const struct conn *c, int fd, int error)
{
	if (fd == c->fd)
		return "client connection failed";
	return error == -ECONNRESET ? "upstream reset the connection"
				    : "upstream connection failed";
}

/* --- splice ------------------------------------------------------------------------------ */

static bool *relay_pipe_eof(struct relay_pipe *rp)
{
	return rp->up ? &rp->c->client_eof : &rp->c->upstream_eof;
}

static bool *relay_pipe_shut(struct relay_pipe *rp)
{
	return rp->up ? &rp->c->up_shut : &rp->c->down_shut;
}

static size_t relay_pipe_pending(const struct relay_pipe *rp)
{
	return rp->head_len - rp->head_off + rp->in_pipe;
}

static void relay_event_set(struct event *ev, bool *on, bool want)
{
	if (*on == want)
		return;
	if (want) {
		*on = event_add(ev, NULL) >= 0;
	} else {
		(void)event_del(ev);
		*on = false;
	}
}

/* Wait for what this direction can do next. */
static void relay_pipe_update(struct relay_pipe *rp)
{
	relay_event_set(rp->rd, &rp->rd_on,
			!*relay_pipe_eof(rp) && !rp->full && rp->in_pipe < rp->cap);
	relay_event_set(rp->wr, &rp->wr_on, relay_pipe_pending(rp) > 0);
}

static int relay_pipe_open(struct relay_pipe *rp);

/* @src is readable: splice into the pipe. Returns 0, or -errno with the failing fd. */
static int relay_pipe_fill(struct relay_pipe *rp, int *reterr_fd)
{
	struct conn *c = rp->c;
	ssize_t n;

	if (rp->pipe[1] < 0) {
		int r = relay_pipe_open(rp);

		if (r < 0)
			return r; /* out of descriptors: bufferevents take over (settle) */
	}
	/* #syscalls: splice */
	n = splice(rp->src, NULL, rp->pipe[1], NULL, rp->cap - rp->in_pipe, SPLICE_FLAGS);
	if (n > 0) {
		rp->in_pipe += (size_t)n;
		if (rp->up)
			conn_count(c, true, (uint64_t)n);
		else
			conn_count(c, false, (uint64_t)n);
		relay_idle_arm(c);
		return 0;
	}
	if (n == 0) {
		*relay_pipe_eof(rp) = true;
		return 0;
	}
	if (errno == EAGAIN || errno == EINTR) {
		/* with bytes in the pipe, EAGAIN is most likely a full pipe (it counts pages) */
		rp->full = rp->in_pipe > 0;
		return 0;
	}
	*reterr_fd = rp->src;
	return -errno;
}

/* @dst is writable: the head, then the pipe, then the FIN. Returns as relay_pipe_fill(). */
static int relay_pipe_flush(struct relay_pipe *rp, int *reterr_fd)
{
	struct conn *c = rp->c;
	ssize_t n;

	while (rp->head_off < rp->head_len) {
		n = send(rp->dst, rp->head + rp->head_off, rp->head_len - rp->head_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0) {
			*reterr_fd = rp->dst;
			return -errno;
		}
		rp->head_off += (size_t)n;
		relay_idle_arm(c);
	}
	if (rp->head) {
		free(rp->head);
		rp->head = NULL;
		rp->head_len = rp->head_off = 0;
	}
	if (rp->in_pipe > 0) {
		n = splice(rp->pipe[0], NULL, rp->dst, NULL, rp->in_pipe, SPLICE_FLAGS);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			*reterr_fd = rp->dst;
			return -errno;
		}
		if (n > 0) {
			rp->in_pipe -= (size_t)n;
			rp->full = false;
			relay_idle_arm(c);
		}
	}
	if (*relay_pipe_eof(rp) && relay_pipe_pending(rp) == 0 && !*relay_pipe_shut(rp)) {
		(void)shutdown(rp->dst, SHUT_WR);
		*relay_pipe_shut(rp) = true;
	}
	return 0;
}

/* After a step of @rp that returned @r: fall back, close, or wait for the next one. */
static void relay_pipe_settle(struct relay_pipe *rp, int r, int err_fd)
{
	struct conn *c = rp->c;

	if (r == -EINVAL || r == -ENOSYS || r == -EMFILE || r == -ENFILE) {
		log_debug("Proxy: no splice() for '%s' port %u (%s), using bufferevents",
			  strempty(c->name), c->port, strerror(-r));
		relay_bev_start(c);
		return;
	}
	if (r < 0) {
		conn_close(c, relay_error(c, err_fd, r));
		return;
	}
	if (c->up_shut && c->down_shut) {
		conn_close(c, NULL);
		return;
	}
	relay_pipe_update(rp);
}

static void relay_pipe_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay_pipe *rp = arg;
	int err_fd = -EBADF, r;

	r = relay_pipe_fill(rp, &err_fd);
	/* most of the time the destination takes it at once: no need to wait for EV_WRITE */
	if (r >= 0)
		r = relay_pipe_flush(rp, &err_fd);
	relay_pipe_settle(rp, r, err_fd);
}

static void relay_pipe_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay_pipe *rp = arg;
	int err_fd = -EBADF, r;

	r = relay_pipe_flush(rp, &err_fd);
	relay_pipe_settle(rp, r, err_fd);
}

static void relay_pipes_free(struct conn *c)
{
	if (!c->pipes)
		return;
	for (size_t i = 0; i < 2; i++) {
		struct relay_pipe *rp = &c->pipes[i];

		if (rp->rd)
			event_free(rp->rd);
		if (rp->wr)
			event_free(rp->wr);
		safe_close(rp->pipe[0]);
		safe_close(rp->pipe[1]);
		free(rp->head);
	}
	free(c->pipes);
	c->pipes = NULL;
}

/*
 * relay_pipe_open() - the pipe of one direction, made when its first bytes arrive: an idle
 * connection holds two descriptors, not six.
 */
static int relay_pipe_open(struct relay_pipe *rp)
{
	int sz;

	/* #syscalls: pipe2 fcntl */
	if (pipe2(rp->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		rp->pipe[0] = rp->pipe[1] = -EBADF;
		return -errno;
	}
	/* a user past pipe-user-pages-soft gets one page: slower, still correct */
	(void)fcntl(rp->pipe[1], F_SETPIPE_SZ, (int)PROXY_RELAY_BUF_MAX);
	sz = fcntl(rp->pipe[1], F_GETPIPE_SZ);
	rp->cap = sz > 0 ? MIN((size_t)sz, (size_t)PROXY_RELAY_BUF_MAX) : 4096u;
	return 0;
}

static int relay_pipe_init(struct conn *c, struct relay_pipe *rp, bool up)
{
	struct event_base *base = c->proxy->o.base;

	rp->c = c;
	rp->up = up;
	rp->src = up ? c->fd : c->up_fd;
	rp->dst = up ? c->up_fd : c->fd;
	rp->pipe[0] = rp->pipe[1] = -EBADF;
	rp->cap = PROXY_RELAY_BUF_MAX; /* until the pipe exists: what it asks for */
	rp->rd = event_new(base, rp->src, EV_READ | EV_PERSIST, relay_pipe_read_cb, rp);
	rp->wr = event_new(base, rp->dst, EV_WRITE | EV_PERSIST, relay_pipe_write_cb, rp);
	return rp->rd && rp->wr ? 0 : -ENOMEM;
}

/* Set up the splice relay; on failure nothing has changed and bufferevents take over. */
static int relay_splice_start(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->upstream);
	struct evbuffer *in = bufferevent_get_input(c->upstream);
	size_t queued_out = evbuffer_get_length(out), queued_in = evbuffer_get_length(in);
	int r;

	c->pipes = xcalloc(2, sizeof(*c->pipes));
	c->pipes[0].pipe[0] = c->pipes[0].pipe[1] = -EBADF;
	c->pipes[1].pipe[0] = c->pipes[1].pipe[1] = -EBADF;
	r = relay_pipe_init(c, &c->pipes[0], true);
	if (r >= 0)
		r = relay_pipe_init(c, &c->pipes[1], false);
	if (r < 0) {
		relay_pipes_free(c);
		return r;
	}

	/* what the dial's bufferevent still holds goes first: its output, then the first bytes */
	if (queued_out + c->len > 0) {
		struct relay_pipe *up = &c->pipes[0];

		up->head = xmalloc(queued_out + c->len);
		(void)evbuffer_remove(out, up->head, queued_out);
		if (c->len > 0)
			memcpy(up->head + queued_out, c->buf, c->len);
		up->head_len = queued_out + c->len;
	}
	if (queued_in > 0) {
		struct relay_pipe *down = &c->pipes[1];

		down->head = xmalloc(queued_in);
		(void)evbuffer_remove(in, down->head, queued_in);
		down->head_len = queued_in;
		conn_count(c, false, queued_in);
	}
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
	c->upstream = (bufferevent_free(c->upstream), NULL); /* the fd is c->up_fd's */

	relay_pipe_update(&c->pipes[0]);
	relay_pipe_update(&c->pipes[1]);
	return 0;
}

/* --- bufferevents ------------------------------------------------------------------------ */

/* Both ways have seen FIN and passed it on, with everything before it: done. */
static bool relay_bev_maybe_done(struct conn *c)
{
	if (!c->up_shut || !c->down_shut)
		return false;
	conn_close(c, NULL);
	return true;
}

/* Pass on @src's FIN to @dst once @dst's output is flushed. */
static void relay_bev_pass_fin(struct conn *c, struct bufferevent *dst)
{
	bool *shut = dst == c->upstream ? &c->up_shut : &c->down_shut;

	if (*shut || evbuffer_get_length(bufferevent_get_output(dst)) > 0)
		return;
	(void)shutdown(bufferevent_getfd(dst), SHUT_WR);
	*shut = true;
}

/**
 * relay_scan() - look for placeholders in the next bytes the client sends upstream
 * @c: a relayed connection
 * @buf: the bytes
 * @len: how many
 *
 * Without secrets (@c->scan NULL) nothing is looked at. On a placeholder, logs `secret_leak`
 * (where "stream") and returns true: the caller closes the connection.
 */
bool relay_scan(struct conn *c, const void *buf, size_t len)
{
	const char *name;

	if (!c->scan || len == 0)
		return false;
	name = inject_scan(c->scan, buf, len);
	if (!name)
		return false;
	conn_audit_secret(c, "secret_leak", name, inject_where_to_string(INJECT_WHERE_STREAM), NULL,
			  0);
	return true;
}

/* Scan what @in holds (client to upstream); true when a placeholder was found */
static bool relay_scan_evbuffer(struct conn *c, struct evbuffer *in)
{
	struct evbuffer_iovec v[8];
	struct evbuffer_ptr pos;
	int n;

	if (!c->scan)
		return false;
	if (evbuffer_ptr_set(in, &pos, 0, EVBUFFER_PTR_SET) < 0)
		return false;
	for (;;) {
		n = evbuffer_peek(in, -1, &pos, v, (int)ELEMENTSOF(v));
		if (n <= 0)
			return false;
		for (int i = 0; i < MIN(n, (int)ELEMENTSOF(v)); i++) {
			if (relay_scan(c, v[i].iov_base, v[i].iov_len))
				return true;
			if (evbuffer_ptr_set(in, &pos, v[i].iov_len, EVBUFFER_PTR_ADD) < 0)
				return false;
		}
		if (n <= (int)ELEMENTSOF(v))
			return false;
	}
}

/* Move what @bev read to the other side. Returns false when @c was closed. */
static bool relay_bev_move(struct conn *c, struct bufferevent *bev)
{
	struct bufferevent *dst = bev == c->client ? c->upstream : c->client;
	struct evbuffer *in = bufferevent_get_input(bev), *out = bufferevent_get_output(dst);
	size_t n = evbuffer_get_length(in);

	if (bev == c->client && relay_scan_evbuffer(c, in)) {
		conn_close(c, "secret placeholder in the stream");
		return false;
	}
	if (bev == c->client)
		conn_count(c, true, n);
	else
		conn_count(c, false, n);
	(void)evbuffer_add_buffer(out, in);
	/* backpressure: stop reading until the other side drains (relay_bev_write_cb) */
	if (evbuffer_get_length(out) >= PROXY_RELAY_BUF_MAX)
		(void)bufferevent_disable(bev, EV_READ);
	relay_idle_arm(c);
	return true;
}

static void relay_bev_read_cb(struct bufferevent *bev, void *arg)
{
	(void)relay_bev_move(arg, bev);
}

/* @bev's output is empty (the write low watermark is 0) */
static void relay_bev_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct bufferevent *src = bev == c->client ? c->upstream : c->client;
	bool src_eof = src == c->client ? c->client_eof : c->upstream_eof;

	if (!src_eof) {
		(void)bufferevent_enable(src, EV_READ);
		return;
	}
	relay_bev_pass_fin(c, bev);
	(void)relay_bev_maybe_done(c);
}

static void relay_bev_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	struct bufferevent *dst = bev == c->client ? c->upstream : c->client;

	if (what & BEV_EVENT_EOF) {
		if (evbuffer_get_length(bufferevent_get_input(bev)) > 0 && !relay_bev_move(c, bev))
			return;
		if (bev == c->client)
			c->client_eof = true;
		else
			c->upstream_eof = true;
		relay_bev_pass_fin(c, dst);
		(void)relay_bev_maybe_done(c);
		return;
	}
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		conn_close(c, relay_error(c, bufferevent_getfd(bev), -EVUTIL_SOCKET_ERROR()));
}

/* Move what @rp holds, in order, to the end of @out. Returns 0 or -errno. */
static int relay_pipe_move(struct relay_pipe *rp, struct evbuffer *out)
{
	if (rp->head_off < rp->head_len &&
	    evbuffer_add(out, rp->head + rp->head_off, rp->head_len - rp->head_off) < 0)
		return -ENOMEM;
	rp->head_off = rp->head_len;
	while (rp->in_pipe > 0) {
		int n = evbuffer_read(out, rp->pipe[0], (int)rp->in_pipe);

		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		rp->in_pipe -= (size_t)n;
	}
	return 0;
}

/* Relay with bufferevents, from the start or taking over from the splice relay. */
static void relay_bev_start(struct conn *c)
{
	struct event_base *base = c->proxy->o.base;
	struct evbuffer *up_out, *down_out;

	/* the connection owns the fds; the bufferevents only borrow them */
	if (!c->client)
		c->client = bufferevent_socket_new(base, c->fd, 0);
	if (!c->upstream)
		c->upstream = bufferevent_socket_new(base, c->up_fd, 0);
	if (!c->client || !c->upstream) {
		conn_close(c, "out of memory");
		return;
	}
	bufferevent_setcb(c->client, relay_bev_read_cb, relay_bev_write_cb, relay_bev_event_cb, c);
	bufferevent_setcb(c->upstream, relay_bev_read_cb, relay_bev_write_cb, relay_bev_event_cb,
			  c);
	bufferevent_setwatermark(c->client, EV_READ, 0, PROXY_RELAY_BUF_MAX);
	bufferevent_setwatermark(c->upstream, EV_READ, 0, PROXY_RELAY_BUF_MAX);
	(void)bufferevent_set_timeouts(c->upstream, NULL, NULL);

	up_out = bufferevent_get_output(c->upstream);
	down_out = bufferevent_get_output(c->client);
	if (c->len > 0)
		(void)evbuffer_add(up_out, c->buf, c->len);
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
	if (c->pipes) {
		if (relay_pipe_move(&c->pipes[0], up_out) < 0 ||
		    relay_pipe_move(&c->pipes[1], down_out) < 0) {
			conn_close(c, "relay failed");
			return;
		}
		relay_pipes_free(c);
	}

	if (!c->client_eof && evbuffer_get_length(up_out) < PROXY_RELAY_BUF_MAX)
		(void)bufferevent_enable(c->client, EV_READ);
	if (!c->upstream_eof && evbuffer_get_length(down_out) < PROXY_RELAY_BUF_MAX)
		(void)bufferevent_enable(c->upstream, EV_READ);
	(void)bufferevent_enable(c->client, EV_WRITE);
	(void)bufferevent_enable(c->upstream, EV_WRITE);
	relay_idle_arm(c);

	/* a FIN that came in through the pipes and was not passed on yet */
	if (c->client_eof)
		relay_bev_pass_fin(c, c->upstream);
	if (c->upstream_eof)
		relay_bev_pass_fin(c, c->client);
	(void)relay_bev_maybe_done(c);
}

/* --- entry points ------------------------------------------------------------------------ */

/**
 * relay_start() - relay an allowed, dialled connection until it ends
 * @c: the connection: @c->buf holds the bytes for upstream first, @c->upstream is the dial's
 *     bufferevent on @c->up_fd
 *
 * Uses splice(2) unless it cannot, then bufferevents. The connection ends in conn_close().
 */
void relay_start(struct conn *c)
{
	struct proxy *p = c->proxy;
	int r;

	if (c->ev)
		c->ev = (event_free(c->ev), NULL);
	c->state = CONN_RELAY;
	c->timer = evtimer_new(p->o.base, relay_idle_cb, c);
	if (!c->timer) {
		conn_close(c, "out of memory");
		return;
	}
	if (proxy_has_secrets(p)) {
		c->scan = xmalloc(sizeof(*c->scan));
		inject_scan_init(c->scan, p->o.tls->inject);
		if (relay_scan(c, c->buf, c->len)) {
			conn_close(c, "secret placeholder in the stream");
			return;
		}
	}
	conn_count(c, true, c->len);
	relay_idle_arm(c);
	if (!p->no_splice && !c->scan) {
		r = relay_splice_start(c);
		if (r >= 0)
			return;
		log_debug_errno(r,
				"Proxy: no splice relay for '%s' port %u, using bufferevents: %m",
				strempty(c->name), c->port);
	}
	relay_bev_start(c);
}

/**
 * relay_free() - free what the relay holds (the pipes, their events, the idle timer)
 * @c: the connection; the bufferevents and the sockets stay for conn_close()
 */
void relay_free(struct conn *c)
{
	relay_pipes_free(c);
	if (c->timer)
		c->timer = (event_free(c->timer), NULL);
}
