/* SPDX-License-Identifier: MIT */
/*
 * ports.c - port forwards: host TCP ports relayed to ports inside a sandbox
 *
 * DOC: Theory of Operation
 * A forward (struct forward) is one listening socket on the host, bound by ports_add() to
 * the address and port of its struct port_spec (127.0.0.1 unless the user wrote another).
 * The supervisor never enters the sandbox's network namespace to reach the inner port: the
 * sandbox's init is the socket factory. So a connection (struct pconn) goes through two
 * states:
 *
 *   PCONN_PENDING  accepted; ops->connect(inner port, req_id) asked the supervisor for a
 *                  connection into the sandbox. The client's bytes wait in its socket. The
 *                  answer, ports_connected(req_id, fd, error), may come from inside that
 *                  call or later; after PORTS_CONNECT_MS without one the client is reset.
 *   PCONN_RELAY    two bufferevents, client <-> sandbox. Each direction holds at most
 *                  PORTS_RELAY_BUF_MAX (plus one read) in user space: reading from a side
 *                  stops while the other side's output holds that much and resumes when it
 *                  has drained. A FIN from one side is passed on with shutdown(SHUT_WR) once
 *                  everything before it is written; the other direction keeps flowing; both
 *                  FINs passed on end the connection. An error either way closes both.
 *
 * Refusals (too many connections, the sandbox's connect failed or did not answer) close the
 * client with a reset, so that it sees a failed connection rather than an empty answer.
 *
 * Every connection ends in pconn_close(), which writes its one `port` event: "refused" for a
 * connection that never reached the sandbox, or "close" (after the "open" of PCONN_RELAY)
 * with the bytes each way and the duration. Adding and removing a forward write "listen"
 * and "remove". ports_remove() closes the listening socket only: connections already
 * accepted keep going, and a pending one still gets its answer.
 *
 * The relay is its own here rather than src/proxy/relay.c's, which is built around the
 * proxy's struct conn (its close path, audit and idle timer); docs/design/ports.md says why.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/xmalloc.h"
#include "supervisor/ports.h"

#define ACCEPT_RETRY_MS 100u
#define CLIENT_STRLEN   (ADDR_STRLEN + 8) /* "[addr]:65535" */

enum pconn_state {
	PCONN_PENDING,
	PCONN_RELAY,
	_PCONN_STATE_MAX,
	_PCONN_STATE_INVALID = -EINVAL,
};

/*
 * struct forward - one listening socket
 * @ports: the owner
 * @spec: as bound (the real host port)
 * @fd: the listening socket (owned)
 * @ev: its persistent read event; @retry re-adds it after accept() ran out of fds
 * @conns: connections accepted through it and still open
 * @total: connections accepted through it
 */
struct forward {
	struct ports *ports;
	struct port_spec spec;
	int fd;
	struct event *ev, *retry;
	unsigned conns;
	uint64_t total;
};

/*
 * struct pconn - one forwarded connection
 * @ports: the owner
 * @fwd: the forward it came through; NULL once that forward is removed
 * @spec: a copy of the forward's spec, for the audit event
 * @client_addr: the client's address as text, "127.0.0.1:50312"
 * @req_id: the ops->connect request (unique per ports, never 0)
 * @state: see the Theory of Operation
 * @fd: the client socket (owned)
 * @inner_fd: the sandbox's socket, once connected (owned)
 * @timer: the connect deadline while pending
 * @client, @inner: the relay's bufferevents on @fd and @inner_fd (they borrow the fds: a
 *                  bufferevent closes its fd only when the loop runs its finalizer, and
 *                  ports_free() must leave nothing open)
 * @client_eof, @inner_eof: that side sent FIN
 * @up_shut, @down_shut: the FIN was passed on to the sandbox, to the client
 * @bytes_up, @bytes_down: client to sandbox, sandbox to client
 * @t_start: accepted at (CLOCK_MONOTONIC, microseconds)
 */
struct pconn {
	struct ports *ports;
	struct forward *fwd;
	struct port_spec spec;
	char client_addr[CLIENT_STRLEN];
	uint64_t req_id;
	enum pconn_state state;
	int fd, inner_fd;
	struct event *timer;
	struct bufferevent *client, *inner;
	bool client_eof, inner_eof, up_shut, down_shut;
	uint64_t bytes_up, bytes_down, t_start;
	struct pconn *prev, *next;
};

/*
 * struct ports - see ports.h
 * @fwds: the forwards, in the order added
 * @conns: every open connection (doubly linked); @n_conns of them, at most @max_conns
 * @next_req: the next request id
 */
struct ports {
	struct event_base *base;
	struct ports_ops ops;
	void *userdata;
	struct forward *fwds[PORTS_FORWARDS_MAX];
	size_t n_fwds;
	struct pconn *conns;
	unsigned n_conns, max_conns, connect_ms;
	uint64_t next_req;
};

static uint64_t now_usec(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The port of a sockaddr_in or sockaddr_in6, host byte order; 0 for another family */
static uint16_t sockaddr_port(const struct sockaddr_storage *ss)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	switch (ss->ss_family) {
	case AF_INET:
		memcpy(&sin, ss, sizeof(sin));
		return ntohs(sin.sin_port);
	case AF_INET6:
		memcpy(&sin6, ss, sizeof(sin6));
		return ntohs(sin6.sin6_port);
	default:
		return 0;
	}
}

/* --- specs ------------------------------------------------------------------------------- */

/* A decimal port of @n bytes at @s: 0-65535, digits only. Returns 0 or -EINVAL. */
static int port_parse(const char *s, size_t n, uint16_t *ret)
{
	unsigned v = 0;

	if (n == 0 || n > 5)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10u + (unsigned)(s[i] - '0');
	}
	if (v > 65535u)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int spec_host_port(const char *s, size_t n, uint16_t *ret, char **reterr)
{
	if (port_parse(s, n, ret) < 0) {
		*reterr = xasprintf("invalid host port '%.*s': give a number 1-65535, or 0 for any "
				    "free port",
				    (int)n, s);
		return -EINVAL;
	}
	return 0;
}

static int spec_inner_port(const char *s, size_t n, uint16_t *ret, char **reterr)
{
	if (port_parse(s, n, ret) < 0 || *ret == 0) {
		*reterr = xasprintf("invalid port '%.*s': give a number 1-65535", (int)n, s);
		return -EINVAL;
	}
	return 0;
}

/* HOSTPORT or HOSTPORT:PORT or :PORT (after "IP:"); HOSTPORT alone forwards to itself */
static int spec_ports(const char *s, bool empty_host_ok, struct port_spec *spec, char **reterr)
{
	const char *colon = strchr(s, ':');
	int r;

	if (!colon) {
		r = spec_inner_port(s, strlen(s), &spec->port, reterr);
		if (r >= 0)
			spec->host_port = spec->port;
		return r;
	}
	if (strchr(colon + 1, ':')) {
		*reterr = xasprintf("too many ':' in '%s': give [IP:]HOSTPORT[:PORT], an IPv6 "
				    "address in brackets ([::1]:8080:3000)",
				    s);
		return -EINVAL;
	}
	if (colon == s && empty_host_ok)
		spec->host_port = 0;
	else {
		r = spec_host_port(s, (size_t)(colon - s), &spec->host_port, reterr);
		if (r < 0)
			return r;
	}
	return spec_inner_port(colon + 1, strlen(colon + 1), &spec->port, reterr);
}

static int spec_addr(const char *s, size_t n, int family, struct addr *ret, char **reterr)
{
	char buf[ADDR_STRLEN];
	union {
		struct in_addr in;
		struct in6_addr in6;
	} raw;

	if (n == 0 || n >= sizeof(buf)) {
		*reterr = xasprintf("'%.*s' is not an IP address: give a literal such as 127.0.0.1 "
				    "or [::1] (names are not resolved)",
				    (int)MIN(n, 64u), s);
		return -EINVAL;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(family, buf, &raw) != 1 || addr_from_string(buf, ret) < 0) {
		*reterr = xasprintf(
			family == AF_INET6
				? "'%s' is not an IPv6 address: give a literal such as [::1]"
				: "'%s' is not an IP address: give a literal such as 127.0.0.1 or "
				  "[::1] (names are not resolved)",
			buf);
		return -EINVAL;
	}
	return 0;
}

int port_spec_parse(const char *s, struct port_spec *ret, char **reterr)
{
	struct port_spec spec = {};
	_cleanup_free_ char *copy = NULL;
	char *slash, *colon;
	size_t len;
	int r;

	if (!s || !ret || !reterr)
		return -EINVAL;
	len = strlen(s);
	if (len == 0) {
		*reterr = xstrdup("empty port forward: give [IP:]HOSTPORT[:PORT]");
		return -EINVAL;
	}
	if (len > PORT_SPEC_INPUT_MAX) {
		*reterr = xasprintf("port forward too long (%zu bytes, at most %u)", len,
				    PORT_SPEC_INPUT_MAX);
		return -EINVAL;
	}
	copy = xstrdup(s);

	slash = strchr(copy, '/');
	if (slash) {
		*slash++ = '\0';
		if (streq(slash, "udp") || streq(slash, "sctp")) {
			*reterr = xasprintf("'%s': only TCP ports are forwarded", s);
			return -EINVAL;
		}
		if (!streq(slash, "tcp")) {
			*reterr = xasprintf(
				"unknown protocol '/%s' in '%s': only /tcp is forwarded", slash, s);
			return -EINVAL;
		}
	}

	if (copy[0] == '[') {
		char *close = strchr(copy, ']');

		if (!close) {
			*reterr = xasprintf("missing ']' after the IPv6 address in '%s'", s);
			return -EINVAL;
		}
		r = spec_addr(copy + 1, (size_t)(close - copy - 1), AF_INET6, &spec.host, reterr);
		if (r < 0)
			return r;
		if (close[1] != ':' || close[2] == '\0') {
			*reterr = xasprintf("missing ':HOSTPORT' after '%.*s' in '%s'",
					    (int)(close - copy + 1), copy, s);
			return -EINVAL;
		}
		r = spec_ports(close + 2, true, &spec, reterr);
		if (r < 0)
			return r;
		*ret = spec;
		return 0;
	}

	(void)addr_from_string("127.0.0.1", &spec.host);
	colon = strchr(copy, ':');
	if (colon && strchr(colon + 1, ':') && strchr(strchr(colon + 1, ':') + 1, ':')) {
		*reterr = xasprintf("too many ':' in '%s': write an IPv6 address in brackets, as "
				    "[::1]:8080:3000",
				    s);
		return -EINVAL;
	}
	if (!colon || all_digits(copy, (size_t)(colon - copy))) {
		/* PORT, HOSTPORT:PORT; a third part here is an IP that is all digits */
		if (colon && strchr(colon + 1, ':')) {
			*reterr = xasprintf("'%.*s' is not an IP address: give a literal such as "
					    "127.0.0.1 or [::1] (names are not resolved)",
					    (int)(colon - copy), copy);
			return -EINVAL;
		}
		r = spec_ports(copy, false, &spec, reterr);
		if (r < 0)
			return r;
		*ret = spec;
		return 0;
	}

	/* IP:HOSTPORT, IP:HOSTPORT:PORT, IP::PORT */
	if (colon == copy) {
		*reterr = xasprintf("missing IP address before ':' in '%s'", s);
		return -EINVAL;
	}
	if (colon[1] == '\0') {
		*reterr = xasprintf("missing HOSTPORT after '%.*s:' in '%s'", (int)(colon - copy),
				    copy, s);
		return -EINVAL;
	}
	r = spec_addr(copy, (size_t)(colon - copy), AF_INET, &spec.host, reterr);
	if (r < 0)
		return r;
	r = spec_ports(colon + 1, true, &spec, reterr);
	if (r < 0)
		return r;
	*ret = spec;
	return 0;
}

const char *port_spec_format(const struct port_spec *spec, char *buf)
{
	char ip[ADDR_STRLEN];

	(void)addr_to_string(&spec->host, ip);
	(void)snprintf(buf, PORT_SPEC_STRLEN,
		       spec->host.family == AF_INET6 ? "[%s]:%u:%u" : "%s:%u:%u", ip,
		       spec->host_port, spec->port);
	return buf;
}

bool port_spec_is_exposed(const struct port_spec *spec)
{
	return addr_classify_host(&spec->host, NULL) != ADDR_LOOPBACK;
}

/* --- audit ------------------------------------------------------------------------------- */

static struct json_object *ports_audit_fields(const char *action, const struct port_spec *spec)
{
	struct json_object *o = json_object_new_object();
	char ip[ADDR_STRLEN];

	json_object_object_add(o, "action", json_object_new_string(action));
	json_object_object_add(o, "host_ip",
			       json_object_new_string(addr_to_string(&spec->host, ip)));
	json_object_object_add(o, "host_port", json_object_new_int(spec->host_port));
	json_object_object_add(o, "port", json_object_new_int(spec->port));
	return o;
}

static void ports_audit(struct ports *p, struct json_object *o)
{
	if (p->ops.audit)
		p->ops.audit(p->userdata, "port", o);
	else
		json_object_put(o);
}

/* The one event of a connection that ends: "refused" before the relay, "close" in it */
static void pconn_audit_end(struct pconn *c, const char *error)
{
	struct json_object *o =
		ports_audit_fields(c->state == PCONN_RELAY ? "close" : "refused", &c->spec);

	json_object_object_add(o, "client", json_object_new_string(c->client_addr));
	if (c->state == PCONN_RELAY) {
		json_object_object_add(o, "bytes_up", json_object_new_int64((int64_t)c->bytes_up));
		json_object_object_add(o, "bytes_down",
				       json_object_new_int64((int64_t)c->bytes_down));
	}
	json_object_object_add(o, "duration_ms",
			       json_object_new_int64((int64_t)((now_usec() - c->t_start) / 1000u)));
	if (error)
		json_object_object_add(o, "error", json_object_new_string(error));
	ports_audit(c->ports, o);
}

/* --- connections ------------------------------------------------------------------------- */

/* Close with a reset: the client sees a failed connection, not an empty answer. */
static void close_reset(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	safe_close(fd);
}

/*
 * pconn_close() - the one way a connection ends: its `port` event, then everything freed
 * @error: why it ended early, or NULL for a normal end
 */
static void pconn_close(struct pconn *c, const char *error)
{
	struct ports *p = c->ports;

	pconn_audit_end(c, error);
	if (c->timer)
		event_free(c->timer);
	if (c->client)
		bufferevent_free(c->client);
	if (c->inner)
		bufferevent_free(c->inner);
	if (c->state == PCONN_PENDING)
		close_reset(c->fd);
	else
		safe_close(c->fd);
	safe_close(c->inner_fd);
	if (c->fwd)
		c->fwd->conns--;
	if (c->prev)
		c->prev->next = c->next;
	else
		p->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	p->n_conns--;
	free(c);
}

static struct pconn *pconn_find(struct ports *p, uint64_t req_id)
{
	for (struct pconn *c = p->conns; c; c = c->next)
		if (c->req_id == req_id)
			return c;
	return NULL;
}

static void pconn_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pconn *c = arg;
	char error[64];

	(void)snprintf(error, sizeof(error), "the sandbox did not answer within %u ms",
		       c->ports->connect_ms);
	pconn_close(c, error);
}

/* Both ways have seen FIN and passed it on, with everything before it: done. */
static bool relay_maybe_done(struct pconn *c)
{
	if (!c->up_shut || !c->down_shut)
		return false;
	pconn_close(c, NULL);
	return true;
}

/* Pass on a FIN to @dst once @dst's output is flushed. */
static void relay_pass_fin(struct pconn *c, struct bufferevent *dst)
{
	bool *shut = dst == c->inner ? &c->up_shut : &c->down_shut;

	if (*shut || evbuffer_get_length(bufferevent_get_output(dst)) > 0)
		return;
	(void)shutdown(bufferevent_getfd(dst), SHUT_WR);
	*shut = true;
}

static void relay_read_cb(struct bufferevent *bev, void *arg)
{
	struct pconn *c = arg;
	struct bufferevent *dst = bev == c->client ? c->inner : c->client;
	struct evbuffer *in = bufferevent_get_input(bev), *out = bufferevent_get_output(dst);
	size_t n = evbuffer_get_length(in);

	if (bev == c->client)
		c->bytes_up += n;
	else
		c->bytes_down += n;
	(void)evbuffer_add_buffer(out, in);
	/* backpressure: stop reading until the other side drains (relay_write_cb) */
	if (evbuffer_get_length(out) >= PORTS_RELAY_BUF_MAX)
		(void)bufferevent_disable(bev, EV_READ);
}

/* @bev's output is empty (the write low watermark is 0) */
static void relay_write_cb(struct bufferevent *bev, void *arg)
{
	struct pconn *c = arg;
	struct bufferevent *src = bev == c->client ? c->inner : c->client;
	bool src_eof = src == c->client ? c->client_eof : c->inner_eof;

	if (!src_eof) {
		(void)bufferevent_enable(src, EV_READ);
		return;
	}
	relay_pass_fin(c, bev);
	(void)relay_maybe_done(c);
}

static void relay_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct pconn *c = arg;
	struct bufferevent *dst = bev == c->client ? c->inner : c->client;

	if (what & BEV_EVENT_EOF) {
		if (evbuffer_get_length(bufferevent_get_input(bev)) > 0)
			relay_read_cb(bev, c);
		if (bev == c->client)
			c->client_eof = true;
		else
			c->inner_eof = true;
		relay_pass_fin(c, dst);
		(void)relay_maybe_done(c);
		return;
	}
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		int e = EVUTIL_SOCKET_ERROR();
		char error[128];

		(void)snprintf(error, sizeof(error), "%s connection failed: %s",
			       bev == c->client ? "client" : "sandbox",
			       e ? strerror(e) : "unknown error");
		pconn_close(c, error);
	}
}

static void sock_tune(int fd, bool keepalive)
{
	int one = 1;

	/* interactive traffic (websockets, a REPL): no Nagle delay on top of the relay's */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (keepalive) {
		/* a client that vanished (laptop lid, LAN cable) frees its slot within minutes */
		int idle = 60, intvl = 10, cnt = 6;

		(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
		(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
		(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	}
}

/*
 * The answer comes from inside the sandbox (its init, which the sandbox's processes share a
 * namespace with): check that it is what was asked for, a TCP socket, before relaying the
 * client's bytes into it.
 */
static bool is_tcp_socket(int fd)
{
	int type = 0, domain = 0, proto = 0;
	socklen_t len = sizeof(int);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM)
		return false;
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
	    (domain != AF_INET && domain != AF_INET6))
		return false;
	len = sizeof(int);
	return getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) >= 0 && proto == IPPROTO_TCP;
}

/* PCONN_PENDING -> PCONN_RELAY with the sandbox's socket @fd (owned) */
static void pconn_relay_start(struct pconn *c, int fd)
{
	struct ports *p = c->ports;
	struct json_object *o;
	int flags;

	if (c->timer)
		c->timer = (event_free(c->timer), NULL);
	if (!is_tcp_socket(fd)) {
		safe_close(fd);
		pconn_close(c, "the sandbox answered with something that is not a TCP socket");
		return;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		int e = errno;

		safe_close(fd);
		pconn_close(c, strerror(e));
		return;
	}
	sock_tune(fd, false);
	c->inner_fd = fd;

	c->inner = bufferevent_socket_new(p->base, c->inner_fd, 0);
	c->client = bufferevent_socket_new(p->base, c->fd, 0);
	if (!c->inner || !c->client) {
		pconn_close(c, "out of memory");
		return;
	}
	c->state = PCONN_RELAY;

	o = ports_audit_fields("open", &c->spec);
	json_object_object_add(o, "client", json_object_new_string(c->client_addr));
	ports_audit(p, o);

	bufferevent_setcb(c->client, relay_read_cb, relay_write_cb, relay_event_cb, c);
	bufferevent_setcb(c->inner, relay_read_cb, relay_write_cb, relay_event_cb, c);
	bufferevent_setwatermark(c->client, EV_READ, 0, PORTS_RELAY_BUF_MAX);
	bufferevent_setwatermark(c->inner, EV_READ, 0, PORTS_RELAY_BUF_MAX);
	(void)bufferevent_enable(c->client, EV_READ | EV_WRITE);
	(void)bufferevent_enable(c->inner, EV_READ | EV_WRITE);
}

int ports_connected(struct ports *p, uint64_t req_id, int fd, int error)
{
	_cleanup_close_ int owned = fd;
	struct pconn *c;

	if (!p)
		return -EINVAL;
	c = pconn_find(p, req_id);
	if (!c || c->state != PCONN_PENDING) {
		log_debug("Port forward: answer to unknown or finished request %" PRIu64
			  ", closing it",
			  req_id);
		return -ENOENT;
	}
	if (error != 0 || fd < 0) {
		int e = error < 0 ? -error : error;
		char msg[160];

		(void)snprintf(msg, sizeof(msg), "cannot connect to port %u in the sandbox: %s",
			       c->spec.port, strerror(e ? e : EBADF));
		pconn_close(c, msg);
		return 0;
	}
	pconn_relay_start(c, TAKE_FD(owned));
	return 0;
}

/* A connection accepted on @f: ask for the sandbox's side */
static void pconn_start(struct forward *f, int fd, const struct sockaddr_storage *peer)
{
	struct ports *p = f->ports;
	struct timeval tv = { .tv_sec = (time_t)(p->connect_ms / 1000u),
			      .tv_usec = (suseconds_t)(p->connect_ms % 1000u) * 1000 };
	struct pconn *c = xcalloc(1, sizeof(*c));
	struct addr a;

	c->ports = p;
	c->fwd = f;
	c->spec = f->spec;
	c->fd = fd;
	c->inner_fd = -EBADF;
	c->req_id = ++p->next_req;
	c->state = PCONN_PENDING;
	c->t_start = now_usec();
	if (addr_from_sockaddr((const struct sockaddr *)peer, &a) >= 0) {
		char ip[ADDR_STRLEN];

		(void)snprintf(c->client_addr, sizeof(c->client_addr),
			       a.family == AF_INET6 ? "[%s]:%u" : "%s:%u", addr_to_string(&a, ip),
			       sockaddr_port(peer));
	}
	c->next = p->conns;
	if (p->conns)
		p->conns->prev = c;
	p->conns = c;
	p->n_conns++;
	f->conns++;
	f->total++;

	if (p->n_conns > p->max_conns) {
		char error[80];

		(void)snprintf(error, sizeof(error), "too many forwarded connections (%u at once)",
			       p->max_conns);
		log_debug("Port forward %u: %s, refusing %s", f->spec.host_port, error,
			  c->client_addr);
		pconn_close(c, error);
		return;
	}
	sock_tune(fd, true);
	c->timer = evtimer_new(p->base, pconn_timeout_cb, c);
	if (!c->timer || evtimer_add(c->timer, &tv) < 0) {
		pconn_close(c, "out of memory");
		return;
	}
	/* may answer (ports_connected()) and even close @c before it returns: @c is gone now */
	p->ops.connect(p->userdata, f->spec.port, c->req_id);
}

/* --- forwards ---------------------------------------------------------------------------- */

static void forward_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct forward *f = arg;

	(void)event_add(f->ev, NULL);
}

static void forward_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct forward *f = arg;

	for (unsigned i = 0; i < PORTS_ACCEPTS_PER_WAKEUP; i++) {
		struct sockaddr_storage peer = {};
		socklen_t len = sizeof(peer);
		int cfd = accept4(fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				struct timeval tv = { 0, ACCEPT_RETRY_MS * 1000 };

				log_warning_errno(errno,
						  "Port forward %u: accept() failed, pausing: %m",
						  f->spec.host_port);
				(void)event_del(f->ev);
				(void)event_add(f->retry, &tv);
			}
			return;
		}
		pconn_start(f, cfd, &peer);
	}
}

static struct forward *forward_free(struct forward *f)
{
	if (!f)
		return NULL;
	if (f->ev)
		event_free(f->ev);
	if (f->retry)
		event_free(f->retry);
	safe_close(f->fd);
	free(f);
	return NULL;
}

/* Does @a (ours) already take the address and port @b asks for? */
static bool spec_overlaps(const struct port_spec *a, const struct port_spec *b)
{
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;
	bool a_any, b_any;

	if (a->host_port != b->host_port || a->host.family != b->host.family)
		return false;
	if (addr_equal(&a->host, &b->host))
		return true;
	if (a->host.family == AF_INET) {
		a_any = a->host.in.s_addr == htonl(INADDR_ANY);
		b_any = b->host.in.s_addr == htonl(INADDR_ANY);
	} else {
		a_any = memcmp(&a->host.in6, &any6, sizeof(any6)) == 0;
		b_any = memcmp(&b->host.in6, &any6, sizeof(any6)) == 0;
	}
	return a_any || b_any;
}

static char *bind_error(const struct port_spec *spec, int r)
{
	char ip[ADDR_STRLEN], on[ADDR_STRLEN + 8] = "";
	struct addr lo;

	(void)addr_to_string(&spec->host, ip);
	(void)addr_from_string("127.0.0.1", &lo);
	if (!addr_equal(&spec->host, &lo))
		(void)snprintf(on, sizeof(on), " on %s", ip);

	switch (r) {
	case -EADDRINUSE:
		return xasprintf("host port %u%s is already in use; choose another with "
				 "-p HOSTPORT:PORT",
				 spec->host_port, on);
	case -EACCES:
	case -EPERM:
		return xasprintf("host port %u%s needs privileges (it is below "
				 "net.ipv4.ip_unprivileged_port_start); choose one above 1023 "
				 "with -p HOSTPORT:PORT",
				 spec->host_port, on);
	case -EADDRNOTAVAIL:
		return xasprintf("%s is not an address of this host; give one of its addresses, "
				 "or 127.0.0.1",
				 ip);
	case -EAFNOSUPPORT:
		return xasprintf("cannot listen on %s: IPv6 is not available on this host", ip);
	default:
		return xasprintf("cannot listen on %s port %u: %s", ip, spec->host_port,
				 strerror(-r));
	}
}

/* socket, bind, listen: the listening fd and the port it got, or -errno */
static int forward_listen(const struct port_spec *spec, uint16_t *ret_port)
{
	_cleanup_close_ int fd = -EBADF;
	struct sockaddr_storage ss;
	socklen_t len = addr_to_sockaddr(&spec->host, spec->host_port, &ss);
	int one = 1;

	fd = socket(spec->host.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return -errno;
	/* [::] means IPv6 only: 0.0.0.0 is a forward of its own */
	if (spec->host.family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		return -errno;
	if (listen(fd, PORTS_BACKLOG) < 0)
		return -errno;
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	*ret_port = sockaddr_port(&ss);
	return TAKE_FD(fd);
}

int ports_add(struct ports *p, const struct port_spec *spec, struct port_spec *ret_bound,
	      char **reterr)
{
	struct port_spec bound;
	struct forward *f;
	struct json_object *o;
	char buf[PORT_SPEC_STRLEN];
	int fd;

	if (!p || !spec || !reterr || spec->port == 0 ||
	    (spec->host.family != AF_INET && spec->host.family != AF_INET6))
		return -EINVAL;
	if (p->n_fwds >= PORTS_FORWARDS_MAX) {
		*reterr = xasprintf("too many port forwards (at most %u)", PORTS_FORWARDS_MAX);
		return -EMFILE;
	}
	if (spec->host_port != 0)
		for (size_t i = 0; i < p->n_fwds; i++)
			if (spec_overlaps(&p->fwds[i]->spec, spec)) {
				*reterr = xasprintf("host port %u is already forwarded to port %u "
						    "of this sandbox (%s)",
						    spec->host_port, p->fwds[i]->spec.port,
						    port_spec_format(&p->fwds[i]->spec, buf));
				return -EEXIST;
			}

	bound = *spec;
	fd = forward_listen(spec, &bound.host_port);
	if (fd < 0) {
		*reterr = bind_error(spec, fd);
		return fd;
	}

	f = xcalloc(1, sizeof(*f));
	f->ports = p;
	f->spec = bound;
	f->fd = fd;
	f->ev = event_new(p->base, fd, EV_READ | EV_PERSIST, forward_accept_cb, f);
	f->retry = evtimer_new(p->base, forward_retry_cb, f);
	if (!f->ev || !f->retry || event_add(f->ev, NULL) < 0) {
		forward_free(f);
		*reterr = xstrdup("out of memory");
		return -ENOMEM;
	}
	p->fwds[p->n_fwds++] = f;

	o = ports_audit_fields("listen", &bound);
	json_object_object_add(o, "exposed", json_object_new_boolean(port_spec_is_exposed(&bound)));
	ports_audit(p, o);
	log_debug("Port forward %s listening", port_spec_format(&bound, buf));
	if (ret_bound)
		*ret_bound = bound;
	return 0;
}

int ports_remove(struct ports *p, uint16_t host_port, uint16_t port, char **reterr)
{
	int removed = 0;

	if (!p || !reterr)
		return -EINVAL;
	for (size_t i = 0; i < p->n_fwds;) {
		struct forward *f = p->fwds[i];

		if (f->spec.host_port != host_port || (port != 0 && f->spec.port != port)) {
			i++;
			continue;
		}
		for (struct pconn *c = p->conns; c; c = c->next)
			if (c->fwd == f)
				c->fwd = NULL;
		ports_audit(p, ports_audit_fields("remove", &f->spec));
		forward_free(f);
		for (size_t j = i + 1; j < p->n_fwds; j++)
			p->fwds[j - 1] = p->fwds[j];
		p->fwds[--p->n_fwds] = NULL;
		removed++;
	}
	if (removed == 0) {
		if (port != 0)
			*reterr = xasprintf("no forward from host port %u to port %u", host_port,
					    port);
		else
			*reterr = xasprintf("no forward from host port %u", host_port);
		return -ENOENT;
	}
	return removed;
}

size_t ports_list(const struct ports *p, struct port_info **ret)
{
	struct port_info *l;

	*ret = NULL;
	if (!p || p->n_fwds == 0)
		return 0;
	l = xcalloc(p->n_fwds, sizeof(*l));
	for (size_t i = 0; i < p->n_fwds; i++)
		l[i] = (struct port_info){ .spec = p->fwds[i]->spec,
					   .conns = p->fwds[i]->conns,
					   .total = p->fwds[i]->total };
	*ret = l;
	return p->n_fwds;
}

struct json_object *ports_to_json(const struct ports *p)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; p && i < p->n_fwds; i++) {
		const struct forward *f = p->fwds[i];
		struct json_object *o = json_object_new_object();
		char ip[ADDR_STRLEN];

		json_object_object_add(o, "host_ip",
				       json_object_new_string(addr_to_string(&f->spec.host, ip)));
		json_object_object_add(o, "host_port", json_object_new_int(f->spec.host_port));
		json_object_object_add(o, "port", json_object_new_int(f->spec.port));
		json_object_object_add(o, "exposed",
				       json_object_new_boolean(port_spec_is_exposed(&f->spec)));
		json_object_object_add(o, "conns", json_object_new_int64(f->conns));
		json_object_object_add(o, "total", json_object_new_int64((int64_t)f->total));
		json_object_array_add(a, o);
	}
	return a;
}

/* --- life and death ---------------------------------------------------------------------- */

struct ports *ports_new(struct event_base *base, const struct ports_ops *ops, void *userdata)
{
	struct ports *p;

	if (!base || !ops || !ops->connect)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->base = base;
	p->ops = *ops;
	p->userdata = userdata;
	p->max_conns = PORTS_CONNS_DEFAULT;
	p->connect_ms = PORTS_CONNECT_MS;
	return p;
}

void ports_set_max_conns(struct ports *p, unsigned max_conns)
{
	p->max_conns = max_conns ? max_conns : PORTS_CONNS_DEFAULT;
}

void ports_set_connect_timeout(struct ports *p, unsigned ms)
{
	p->connect_ms = ms ? ms : PORTS_CONNECT_MS;
}

unsigned ports_conn_count(const struct ports *p)
{
	return p ? p->n_conns : 0;
}

struct ports *ports_free(struct ports *p)
{
	if (!p)
		return NULL;
	while (p->conns)
		pconn_close(p->conns, "sandbox stopped");
	for (size_t i = 0; i < p->n_fwds; i++)
		forward_free(p->fwds[i]);
	free(p);
	return NULL;
}
