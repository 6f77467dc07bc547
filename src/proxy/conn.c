/* SPDX-License-Identifier: MIT */
/*
 * conn.c - one proxied connection: first bytes, policy, resolution, dial, relay
 *
 * DOC: Theory of Operation
 * A connection goes through these states (docs/design/proxy.md has the picture):
 *
 *   CONN_HEAD     explicit proxy only: read the request head (at most 64 KiB, 10 s) and parse
 *                 it with http1_parse_head(). CONNECT host:port names the target; an
 *                 absolute-form request names it in its target and is rewritten to
 *                 origin-form; anything else is answered 400.
 *   CONN_PEEK     read the client's first bytes (at most 16 KiB, 64 KiB for an HTTP head)
 *                 and classify them with peek_classify(): TLS (SNI), HTTP (Host) or other.
 *                 Nothing after 300 ms means a server-speaks-first protocol (raw TCP); a
 *                 hello or head still incomplete after 5 s is refused. SNI and Host must name
 *                 the connection's target. A CONNECT tunnel goes through this state too,
 *                 after the 200, so that it cannot carry a TLS or HTTP request for another
 *                 host than the one it was opened to.
 *   CONN_RESOLVE  policy_check_name(), then the --add-host addresses or the resolver.
 *   CONN_DIAL     policy_check_addr() on each address; exactly the first allowed one is
 *                 dialled (never resolved again), with a 10 s deadline.
 *   CONN_RELAY    relay.c: splice(2) through a pipe per direction, or bufferevents where
 *                 splice does not work; at most 64 KiB in flight per direction; a FIN one
 *                 way is passed on with shutdown(SHUT_WR) while the other way keeps flowing;
 *                 10 minutes without a byte either way closes the connection.
 *   CONN_LINGER   a refused client that expects HTTP got its 4xx/5xx; what it still sends
 *                 is drained (at most 64 KiB, 2 s) so that closing does not reset the
 *                 response away.
 *
 * The proxy reads the first bytes instead of peeking at them with MSG_PEEK: a level-triggered
 * event on a socket whose bytes stay queued would fire without end while waiting for the
 * rest of a hello. What was read is sent upstream first, byte for byte, except an HTTP head,
 * which is rewritten: hop-by-hop fields (and those named by Connection) and every Proxy-*
 * field removed, and "Connection: close" forced, so that the server answers one request and
 * a second request on the same connection cannot go to another Host.
 *
 * A refusal is a 403 (policy), 400 (malformed request) or 502 (resolution or dial failed)
 * with a one-line reason for a client that speaks HTTP, and a reset (SO_LINGER 0) for the
 * others. Every refusal is one `deny` event; every connection the policy allowed is one `net`
 * event when it closes, with the bytes each way, its duration and the error if it failed.
 * Each connection frees everything it holds in conn_close(), the one way out.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/hostname.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/xmalloc.h"
#include "proxy/fakeip.h"
#include "proxy/http1.h"
#include "proxy/inject.h"
#include "proxy/peek.h"
#include "proxy/policy.h"
#include "proxy/proxy-internal.h"
#include "proxy/resolver.h"
#include "store/hostrule.h"

#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80 /* linux/netfilter_ipv4.h */
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80 /* linux/netfilter_ipv6/ip6_tables.h */
#endif

#define BUF_INITIAL       4096u
#define LINGER_DRAIN_MAX  (64u * 1024u)
#define CONNECT_OK        "HTTP/1.1 200 Connection established\r\n\r\n"
#define REASON_MISMATCH   "SNI/Host differs from the connection's target"
#define CONN_TOKENS_MAX   32u
#define REWRITE_EXTRA_MAX 512u /* "/", Host for HTTP/1.0, "Connection: close", slack */

static void conn_decide(struct conn *c);

const char *conn_proto_to_string(enum conn_proto proto)
{
	switch (proto) {
	case PROTO_TLS:
		return "tls";
	case PROTO_HTTP:
		return "http";
	case PROTO_TCP:
	case _CONN_PROTO_MAX:
	case _CONN_PROTO_INVALID:
	default:
		return "tcp";
	}
}

static const char *conn_via_to_string(enum conn_via via)
{
	switch (via) {
	case VIA_CONNECT:
		return "connect";
	case VIA_FORWARD:
		return "proxy";
	case VIA_TRANSPARENT:
	case _CONN_VIA_MAX:
	case _CONN_VIA_INVALID:
	default:
		return "transparent";
	}
}

static struct timeval timeval_from_usec(uint64_t usec)
{
	return (struct timeval){ .tv_sec = (time_t)(usec / 1000000u),
				 .tv_usec = (suseconds_t)(usec % 1000000u) };
}

/* --- audit ------------------------------------------------------------------------------ */

static void json_add_string(struct json_object *o, const char *key, const char *value)
{
	json_object_object_add(o, key, value ? json_object_new_string(value) : NULL);
}

/* the fields that `net`, `deny`, `secret_inject` and `secret_leak` share */
struct json_object *conn_audit_fields(const struct conn *c)
{
	struct json_object *o = json_object_new_object();
	char ip[ADDR_STRLEN];

	if (c->has_addr)
		(void)addr_to_string(&c->addr, ip);
	json_add_string(o, "host", c->name ? c->name : c->has_addr ? ip : NULL);
	json_add_string(o, "ip", c->has_addr ? ip : NULL);
	json_object_object_add(o, "port", json_object_new_int(c->port));
	json_add_string(o, "proto", conn_proto_to_string(c->proto));
	json_add_string(o, "via", conn_via_to_string(c->via));
	return o;
}

static void conn_audit_net(struct conn *c, const char *error)
{
	struct json_object *o = conn_audit_fields(c);

	json_add_string(o, "sni", c->sni);
	json_add_string(o, "decision", "allow");
	json_add_string(o, "rule", c->rule);
	json_object_object_add(o, "bytes_up", json_object_new_int64((int64_t)c->bytes_up));
	json_object_object_add(o, "bytes_down", json_object_new_int64((int64_t)c->bytes_down));
	json_object_object_add(
		o, "duration_ms",
		json_object_new_int64((int64_t)((proxy_now_usec() - c->t_start) / 1000u)));
	if (c->icpt) {
		json_object_object_add(o, "intercepted", json_object_new_boolean(true));
		json_object_object_add(o, "requests", json_object_new_int64(c->n_requests));
	}
	if (error)
		json_add_string(o, "error", error);
	proxy_audit(c->proxy, "net", o);
}

void conn_audit_deny(struct conn *c, const char *rule, const char *reason)
{
	struct json_object *o = conn_audit_fields(c);

	json_add_string(o, "sni", c->sni);
	json_add_string(o, "decision", "deny");
	json_add_string(o, "rule", rule);
	json_add_string(o, "reason", reason);
	proxy_audit(c->proxy, "deny", o);
}

/**
 * conn_audit_secret() - a `secret_inject`, `secret_leak` or `secret_reflect` event (the name,
 * never a value)
 * @c: the connection
 * @type: "secret_inject" (decision allow), "secret_leak" or "secret_reflect" (deny)
 * @secret: the secret's name
 * @where: inject_where_to_string()
 * @field: the header field it was in (a token: the parser allows nothing else), or NULL
 * @field_len: its length
 */
void conn_audit_secret(struct conn *c, const char *type, const char *secret, const char *where,
		       const char *field, size_t field_len)
{
	struct json_object *o = conn_audit_fields(c);

	json_add_string(o, "sni", c->sni);
	json_add_string(o, "secret", secret);
	json_add_string(o, "where", where);
	if (field && field_len > 0)
		json_object_object_add(
			o, "field", json_object_new_string_len(field, (int)MIN(field_len, 256u)));
	json_add_string(o, "decision", streq(type, "secret_inject") ? "allow" : "deny");
	proxy_audit(c->proxy, type, o);
}

/* proxy_has_secrets() - the sandbox has secrets: placeholders are looked for */
bool proxy_has_secrets(const struct proxy *p)
{
	return p->o.tls && inject_table_size(p->o.tls->inject) > 0;
}

/* --- life and death ----------------------------------------------------------------------- */

static void conn_buf_free(struct conn *c)
{
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

/**
 * conn_close() - close a connection and free everything it holds
 * @c: the connection
 * @error: why it ended early, or NULL for a normal end
 *
 * Emits the `net` event of an allowed connection. The one way a connection ends.
 */
void conn_close(struct conn *c, const char *error)
{
	struct proxy *p = c->proxy;

	if (c->allowed)
		conn_audit_net(c, error);
	else if (error)
		log_debug("Proxy: connection to '%s' port %u closed: %s", strempty(c->name),
			  c->port, error);

	if (c->query)
		resolver_cancel(c->query);
	if (c->ev)
		event_free(c->ev);
	relay_free(c);
	intercept_free(c);
	free(c->scan);
	if (c->client)
		bufferevent_free(c->client);
	if (c->upstream)
		bufferevent_free(c->upstream);
	safe_close(c->fd);
	safe_close(c->up_fd);
	conn_buf_free(c);
	free(c->name);
	free(c->sni);

	if (c->prev)
		c->prev->next = c->next;
	else
		p->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	p->n_conns--;
	free(c);
}

/* Reset the client: SO_LINGER 0 makes close() send RST instead of FIN. */
static void conn_reset(struct conn *c)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	if (c->fd >= 0)
		(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	conn_close(c, NULL);
}

static void conn_wait_read(struct conn *c, uint64_t timeout_usec)
{
	struct timeval tv = timeval_from_usec(timeout_usec);

	if (event_add(c->ev, &tv) < 0)
		conn_close(c, "cannot wait for the client");
}

/* Refuse: an HTTP response and a lingering close for HTTP clients, a reset for the others. */
static void conn_refuse(struct conn *c, int status, const char *reason)
{
	const char *text = status == 400   ? "Bad Request"
			   : status == 403 ? "Forbidden"
			   : status == 504 ? "Gateway Timeout"
					   : "Bad Gateway";
	char resp[512];
	int n;

	if (c->proto == PROTO_TLS && !c->http_reply && c->fd >= 0) {
		/*
		 * A TLS client gets a fatal access_denied alert (TLS 1.2 record framing, which
		 * every version accepts before the handshake), so it reports "access denied"
		 * instead of "connection reset"; then a plain close.
		 */
		static const uint8_t alert[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x31 };

		(void)send(c->fd, alert, sizeof(alert), MSG_NOSIGNAL | MSG_DONTWAIT);
		conn_close(c, NULL);
		return;
	}
	if (!c->http_reply || c->fd < 0) {
		conn_reset(c);
		return;
	}
	n = snprintf(resp, sizeof(resp),
		     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
		     "Connection: close\r\n\r\npaddock: %s\n",
		     status, text, strlen(reason) + 10, reason);
	if (n < 0 || (size_t)n >= sizeof(resp)) {
		conn_reset(c);
		return;
	}
	/* A fresh socket's send buffer always holds this much; a short write only cuts it. */
	(void)send(c->fd, resp, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)shutdown(c->fd, SHUT_WR);
	if (c->upstream)
		c->upstream = (bufferevent_free(c->upstream), NULL);
	c->up_fd = safe_close(c->up_fd);
	conn_buf_free(c);
	c->state = CONN_LINGER;
	c->t_deadline = proxy_now_usec() + PROXY_LINGER_MS * 1000u;
	conn_wait_read(c, PROXY_LINGER_MS * 1000u);
}

static void conn_deny(struct conn *c, const char *rule, const char *reason)
{
	conn_audit_deny(c, rule, reason);
	c->allowed = false;
	conn_refuse(c, 403, reason);
}

/* A request the proxy cannot serve: malformed, too big, too slow. */
static void conn_bad_request(struct conn *c, const char *reason)
{
	conn_audit_deny(c, "request", reason);
	c->allowed = false;
	conn_refuse(c, 400, reason);
}

/* The policy allowed it, but resolving or dialling failed. */
static void conn_fail(struct conn *c, int status, const char *error)
{
	if (c->allowed)
		conn_audit_net(c, error);
	c->allowed = false;
	conn_refuse(c, status, error);
}

/* --- the client's bytes ------------------------------------------------------------------ */

/* Read once into @c->buf, growing it up to @c->limit. Returns bytes read, 0 at EOF, -errno. */
static ssize_t conn_read_client(struct conn *c)
{
	ssize_t n;

	if (c->len == c->cap) {
		if (c->cap >= c->limit)
			return -ENOBUFS;
		c->cap = MIN(MAX(c->cap * 2, BUF_INITIAL), c->limit);
		c->buf = xrealloc(c->buf, c->cap);
	}
	n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	c->len += (size_t)n;
	return n;
}

static bool field_is(const struct http_span *name, const char *s)
{
	return name->len == strlen(s) && strncasecmp(name->p, s, name->len) == 0;
}

/* Is the field @name one the proxy must not pass on? */
static bool field_is_hop_by_hop(const struct http_span *name, const struct http_span *tokens,
				size_t n_tokens)
{
	static const char *const hop[] = { "connection", "keep-alive", "proxy-connection",
					   "te",         "trailer",    "upgrade" };

	if (name->len >= 6 && strncasecmp(name->p, "proxy-", 6) == 0)
		return true;
	for (size_t i = 0; i < ELEMENTSOF(hop); i++)
		if (field_is(name, hop[i]))
			return true;
	for (size_t i = 0; i < n_tokens; i++)
		if (name->len == tokens[i].len && strncasecmp(name->p, tokens[i].p, name->len) == 0)
			return true;
	return false;
}

struct outbuf {
	uint8_t *p;
	size_t len, cap;
};

static void out_put(struct outbuf *o, const void *s, size_t n)
{
	if (n == 0)
		return;
	PADDOCK_ASSERT(o->len + n <= o->cap);
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void out_puts(struct outbuf *o, const char *s)
{
	out_put(o, s, strlen(s));
}

/*
 * Replace the head at the start of @c->buf with the head to send upstream: origin-form,
 * hop-by-hop and Proxy-* fields removed, "Connection: close". The bytes after the head stay.
 */
static void conn_rewrite_head(struct conn *c, const struct http_head *h)
{
	struct http_span tokens[CONN_TOKENS_MAX];
	size_t n_tokens = h1_connection_tokens(h, tokens, ELEMENTSOF(tokens));
	size_t rest = c->len - h->head_len;
	struct outbuf o = { .cap = h->head_len + REWRITE_EXTRA_MAX + rest };
	char line[32];

	o.p = xmalloc(o.cap);
	out_put(&o, h->method_str.p, h->method_str.len);
	out_puts(&o, " ");
	if (h->target.form == HTTP_TARGET_ASTERISK)
		out_puts(&o, "*");
	else if (h->target.path.len == 0)
		out_puts(&o, "/");
	else
		out_put(&o, h->target.path.p, h->target.path.len);
	(void)snprintf(line, sizeof(line), " HTTP/1.%u\r\n", h->version_minor);
	out_puts(&o, line);
	if (!h->has_host && h->target.form == HTTP_TARGET_ABSOLUTE) {
		const struct http_authority *a = &h->target.authority;

		out_puts(&o, "Host: ");
		out_puts(&o, a->ipv6 ? "[" : "");
		out_put(&o, a->host.p, a->host.len);
		out_puts(&o, a->ipv6 ? "]" : "");
		if (a->port) {
			(void)snprintf(line, sizeof(line), ":%u", a->port);
			out_puts(&o, line);
		}
		out_puts(&o, "\r\n");
	}
	for (size_t i = 0; i < h->n_fields; i++) {
		const struct http_field *f = &h->fields[i];

		if (field_is_hop_by_hop(&f->name, tokens, n_tokens))
			continue;
		out_put(&o, f->name.p, f->name.len);
		out_puts(&o, ": ");
		out_put(&o, f->value.p, f->value.len);
		out_puts(&o, "\r\n");
	}
	out_puts(&o, "Connection: close\r\n\r\n");
	out_put(&o, c->buf + h->head_len, rest);

	free(c->buf);
	c->buf = o.p;
	c->len = o.len;
	c->cap = o.cap;
}

/* The connection's target as text: its name, or its address. */
static const char *conn_target(const struct conn *c, char buf[static ADDR_STRLEN])
{
	return c->name ? c->name : addr_to_string(&c->addr, buf);
}

/* Set the target from a host as a client wrote it (CONNECT, absolute-form). */
static int conn_set_target_host(struct conn *c, const struct http_authority *a)
{
	_cleanup_free_ char *canon = NULL;
	char host[HTTP1_HOST_MAX + 3];
	int kind;

	if (a->host.len > HTTP1_HOST_MAX)
		return -EINVAL;
	(void)snprintf(host, sizeof(host), "%s%.*s%s", a->ipv6 ? "[" : "", (int)a->host.len,
		       a->host.p, a->ipv6 ? "]" : "");
	kind = host_canonicalize(host, strlen(host), &canon);
	if (kind == HOST_NAME) {
		c->name = TAKE_PTR(canon);
		return 0;
	}
	if ((kind == HOST_IPV4 || kind == HOST_IPV6) && addr_from_string(canon, &c->addr) >= 0) {
		c->has_addr = true;
		return 0;
	}
	return -EINVAL;
}

/*
 * A plaintext request (transparent HTTP or the explicit proxy's absolute-form): a placeholder
 * anywhere in its head is a leak, whatever the host. Returns true when @c was refused.
 */
static bool conn_refuse_placeholders(struct conn *c, const struct http_head *h)
{
	struct inject_result ir = {};
	char ip[ADDR_STRLEN];

	if (!proxy_has_secrets(c->proxy))
		return false;
	if (inject_head(c->proxy->o.tls->inject, h, conn_target(c, ip), c->port, false, &ir) !=
	    -EACCES) {
		inject_result_done(&ir);
		return false;
	}
	for (size_t i = 0; i < ir.n_hits; i++)
		conn_audit_secret(c, "secret_leak", ir.hits[i].secret,
				  inject_where_to_string(ir.hits[i].where), ir.hits[i].field.p,
				  ir.hits[i].field.len);
	inject_result_done(&ir);
	c->allowed = false;
	conn_refuse(c, 403, "secret placeholder refused (plaintext HTTP)");
	return true;
}

static bool host_rules_match(const struct host_rule *rules, size_t n, const char *name,
			     uint16_t port)
{
	for (size_t i = 0; i < n; i++)
		if ((!rules[i].port || rules[i].port == port) &&
		    host_rule_match_name(&rules[i], name))
			return true;
	return false;
}

/*
 * Terminate this TLS connection? Only for a name the ClientHello's SNI matched, never for a
 * `splice` host, and then for a host a secret is bound to, a host an `inspect` rule names,
 * and, once the sandbox holds any placeholder, every host: a placeholder inside TLS that
 * is relayed untouched could not be seen, let alone refused (THREATS.md category 4).
 */
static bool conn_should_terminate(const struct conn *c)
{
	const struct proxy_tls *tls = c->proxy->o.tls;

	if (!tls || !tls->mint || !tls->upstream_ctx || c->proto != PROTO_TLS || !c->name ||
	    !c->sni)
		return false;
	if (host_rules_match(tls->splice, tls->n_splice, c->name, c->port))
		return false;
	return host_rules_match(tls->inspect, tls->n_inspect, c->name, c->port) ||
	       (tls->inject && inject_table_size(tls->inject) > 0);
}

/* The connection is dialled and its first bytes checked: relay it, or terminate its TLS. */
static void conn_relay_or_intercept(struct conn *c)
{
	if (c->terminate)
		intercept_start(c);
	else
		relay_start(c);
}

static void conn_head_step(struct conn *c, bool eof, bool timed_out)
{
	struct http_head h;
	const char *why = NULL;
	int r;

	r = http1_parse_head(c->buf ? (const char *)c->buf : "", c->len, &h, &why);
	if (r == -EAGAIN) {
		if (timed_out)
			conn_bad_request(c, "request head timed out");
		else if (eof)
			conn_close(c, "client closed before its request head");
		else if (c->len >= c->limit)
			conn_bad_request(c, "request head too large");
		else
			conn_wait_read(c, c->t_deadline - MIN(proxy_now_usec(), c->t_deadline));
		return;
	}
	if (r < 0) {
		conn_bad_request(c, why ? why : "malformed request head");
		return;
	}

	c->proto = PROTO_HTTP;
	if (h.method == HTTP_METHOD_CONNECT && h.target.form == HTTP_TARGET_AUTHORITY) {
		c->via = VIA_CONNECT;
		c->port = h.target.authority.port;
		if (conn_set_target_host(c, &h.target.authority) < 0) {
			conn_bad_request(c, "invalid CONNECT host");
			return;
		}
		/* bytes after the head are the tunnel's first bytes: peeked after the 200 */
		if (c->buf)
			memmove(c->buf, c->buf + h.head_len, c->len - h.head_len);
		c->len -= h.head_len;
		c->proto = PROTO_TCP;
	} else if (h.target.form == HTTP_TARGET_ABSOLUTE) {
		c->via = VIA_FORWARD;
		c->port = h.target.authority.port ? h.target.authority.port : 80;
		if (conn_set_target_host(c, &h.target.authority) < 0) {
			conn_bad_request(c, "invalid host in request target");
			return;
		}
		if (conn_refuse_placeholders(c, &h))
			return;
		conn_rewrite_head(c, &h);
	} else {
		conn_bad_request(c, "not a proxy request (CONNECT or absolute-form only)");
		return;
	}
	conn_decide(c);
}

/* Decide on the classified first bytes. @res->http points into @c->buf. */
static void conn_peek_done(struct conn *c, struct peek_result *res)
{
	char ip[ADDR_STRLEN];
	const char *target = conn_target(c, ip);

	switch (res->kind) {
	case PEEK_TLS:
		c->proto = PROTO_TLS;
		if (res->sni) {
			c->sni = xstrdup(res->sni);
			/* an IP-literal connection has no name an SNI could equal */
			if (!c->name || !peek_sni_matches(res, c->name)) {
				conn_deny(c, "sni", REASON_MISMATCH);
				return;
			}
		}
		c->terminate = conn_should_terminate(c);
		break;
	case PEEK_HTTP:
		c->proto = PROTO_HTTP;
		c->http_reply = true;
		if (!http1_host_matches(&res->http, target, c->port)) {
			conn_deny(c, "host", REASON_MISMATCH);
			return;
		}
		if (conn_refuse_placeholders(c, &res->http))
			return;
		conn_rewrite_head(c, &res->http);
		break;
	case PEEK_OTHER:
	case PEEK_NEED_MORE:
	case _PEEK_KIND_MAX:
	case _PEEK_KIND_INVALID:
	default:
		c->proto = PROTO_TCP;
		break;
	}

	if (c->via == VIA_CONNECT)
		conn_relay_or_intercept(c); /* the tunnel was decided and dialled before the 200 */
	else
		conn_decide(c);
}

static void conn_peek_step(struct conn *c, bool eof, bool timed_out)
{
	_cleanup_(peek_result_done) struct peek_result res = {};
	const uint8_t *b = c->buf ? c->buf : (const uint8_t *)"";
	const char *why = NULL;
	int r;

	r = peek_classify(b, c->len, &res, &why);
	if (r < 0) {
		/* a client that began like HTTP gets a 400; TLS and the rest a reset */
		c->proto = c->len > 0 && b[0] == 0x16 ? PROTO_TLS : PROTO_HTTP;
		c->http_reply =
			c->http_reply || (c->proto == PROTO_HTTP && c->len > 0 && b[0] < 0x80);
		conn_bad_request(c, why ? why : "malformed first bytes");
		return;
	}
	if (r == PEEK_NEED_MORE) {
		uint64_t now = proxy_now_usec();
		bool out_of_room = c->len >= c->limit;

		if (out_of_room && res.guess == PEEK_HTTP && c->limit < PROXY_HEAD_MAX) {
			c->limit = PROXY_HEAD_MAX;
			out_of_room = false;
		}
		if (c->len == 0 && eof) {
			conn_close(c, "client closed before sending anything");
			return;
		}
		if (!eof && !timed_out && !out_of_room) {
			uint64_t left = c->t_deadline - MIN(now, c->t_deadline);

			if (c->len == 0)
				left = MIN(left, PROXY_FIRST_BYTES_MS * 1000u);
			conn_wait_read(c, left);
			return;
		}
		if (res.guess == PEEK_TLS || res.guess == PEEK_HTTP) {
			c->proto = res.guess == PEEK_TLS ? PROTO_TLS : PROTO_HTTP;
			c->http_reply = c->http_reply || c->proto == PROTO_HTTP;
			conn_bad_request(c, c->proto == PROTO_TLS ? "incomplete TLS ClientHello"
								  : "incomplete HTTP request head");
			return;
		}
		res.kind = PEEK_OTHER;
	}
	conn_peek_done(c, &res);
}

static void conn_linger_step(struct conn *c, bool eof, bool timed_out)
{
	uint8_t sink[4096];
	ssize_t n;

	if (eof || timed_out) {
		conn_close(c, NULL);
		return;
	}
	n = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		conn_close(c, NULL);
		return;
	}
	if (n > 0)
		c->drained += (size_t)n;
	if (c->drained > LINGER_DRAIN_MAX)
		conn_close(c, NULL);
	else
		conn_wait_read(c, c->t_deadline - MIN(proxy_now_usec(), c->t_deadline));
}

static void conn_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	bool timed_out = what & EV_TIMEOUT, eof = false;

	if (c->state == CONN_LINGER) {
		conn_linger_step(c, false, timed_out);
		return;
	}
	if (what & EV_READ) {
		ssize_t n = conn_read_client(c);

		if (n == -EAGAIN || n == -EINTR || n == -ENOBUFS)
			n = 1; /* nothing new, or out of room: the step decides */
		if (n < 0) {
			conn_close(c, "client read failed");
			return;
		}
		eof = n == 0;
	}
	if (!timed_out && proxy_now_usec() >= c->t_deadline)
		timed_out = true;
	if (c->state == CONN_HEAD)
		conn_head_step(c, eof, timed_out);
	else
		conn_peek_step(c, eof, timed_out);
}

static void conn_peek_start(struct conn *c)
{
	c->state = CONN_PEEK;
	c->limit = MAX((size_t)PROXY_PEEK_MAX, c->len);
	c->t_deadline = proxy_now_usec() + PROXY_PEEK_MS * 1000u;
	if (c->len > 0)
		conn_peek_step(c, false, false);
	else
		conn_wait_read(c, PROXY_FIRST_BYTES_MS * 1000u);
}

/* --- dial ------------------------------------------------------------------------------- */

static void dial_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		(void)bufferevent_set_timeouts(c->upstream, NULL, NULL);
		(void)bufferevent_disable(c->upstream, EV_READ | EV_WRITE);
		if (c->via != VIA_CONNECT) {
			conn_relay_or_intercept(c);
			return;
		}
		/* the tunnel is open; what it carries is checked like a transparent connection */
		if (send(c->fd, CONNECT_OK, STRLEN(CONNECT_OK), MSG_NOSIGNAL | MSG_DONTWAIT) !=
		    (ssize_t)STRLEN(CONNECT_OK)) {
			conn_close(c, "cannot answer the CONNECT");
			return;
		}
		c->http_reply = false;
		conn_peek_start(c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		conn_fail(c, 504, "connecting upstream timed out");
	else
		conn_fail(c, 502,
			  EVUTIL_SOCKET_ERROR() == ECONNREFUSED ? "upstream refused the connection"
								: "cannot connect upstream");
}

static void conn_dial(struct conn *c)
{
	struct timeval tv = timeval_from_usec(PROXY_CONNECT_MS * 1000ull);
	struct sockaddr_storage ss;
	socklen_t sl = addr_to_sockaddr(&c->addr, c->port, &ss);

	c->state = CONN_DIAL;
	c->allowed = true;
	c->up_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->up_fd < 0) {
		conn_fail(c, 502, "cannot create a socket");
		return;
	}
	/* the connection keeps owning the fd: the relay may drop this bufferevent for splice */
	c->upstream = bufferevent_socket_new(c->proxy->o.base, c->up_fd, 0);
	if (!c->upstream) {
		conn_fail(c, 502, "out of memory");
		return;
	}
	bufferevent_setcb(c->upstream, NULL, NULL, dial_event_cb, c);
	(void)bufferevent_set_timeouts(c->upstream, NULL, &tv);
	if (bufferevent_socket_connect(c->upstream, (struct sockaddr *)&ss, (int)sl) < 0)
		conn_fail(c, 502, "cannot connect upstream");
}

/* Dial the first of @addrs that the policy allows; deny if none is. */
static void conn_dial_first(struct conn *c, const struct addr *addrs, size_t n)
{
	const char *first_rule = NULL;

	for (size_t i = 0; i < n; i++) {
		const char *rule = NULL;

		if (policy_check_addr(c->proxy->o.policy, c->name, c->port, &addrs[i], &rule) ==
		    POLICY_ALLOW) {
			c->addr = addrs[i];
			c->has_addr = true;
			c->rule = rule;
			conn_dial(c);
			return;
		}
		if (!first_rule) {
			first_rule = rule;
			c->addr = addrs[i];
			c->has_addr = true;
		}
	}
	conn_deny(c, first_rule, "address not allowed");
}

static void conn_resolved(int error, const struct resolver_addr *addrs, size_t n, void *userdata)
{
	struct conn *c = userdata;
	struct addr a[RESOLVER_ADDRS_MAX];
	size_t k = 0;

	c->query = NULL;
	if (error < 0) {
		conn_fail(c, error == -ETIMEDOUT ? 504 : 502,
			  error == -ENOENT      ? "name does not resolve"
			  : error == -ETIMEDOUT ? "resolving timed out"
						: "resolving failed");
		return;
	}
	for (size_t i = 0; i < n && k < ELEMENTSOF(a); i++) {
		struct sockaddr_storage ss = { .ss_family = (sa_family_t)addrs[i].family };

		if (addrs[i].family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_addr = addrs[i].in;
		else if (addrs[i].family == AF_INET6)
			((struct sockaddr_in6 *)&ss)->sin6_addr = addrs[i].in6;
		/* folds IPv4-mapped addresses to IPv4, as the policy expects */
		if (addr_from_sockaddr((struct sockaddr *)&ss, &a[k]) >= 0)
			k++;
	}
	conn_dial_first(c, a, k);
}

/* The policy on the target, then resolution (names) and the dial. */
static void conn_decide(struct conn *c)
{
	const struct policy *pol = c->proxy->o.policy;
	struct addr addrs[RESOLVER_ADDRS_MAX];
	size_t n;
	int r;

	if (!c->name) {
		c->state = CONN_DIAL;
		conn_dial_first(c, &c->addr, 1);
		return;
	}
	if (policy_check_name(pol, c->name, c->port, &c->rule) != POLICY_ALLOW) {
		conn_deny(c, c->rule, "host not allowed");
		return;
	}
	n = policy_add_host_lookup(pol, c->name, addrs, ELEMENTSOF(addrs));
	if (n > 0) {
		conn_dial_first(c, addrs, MIN(n, ELEMENTSOF(addrs)));
		return;
	}
	c->allowed = true; /* the name passed; a failure from here on is a `net` event */
	if (!c->proxy->o.resolver) {
		conn_fail(c, 502, "no resolver");
		return;
	}
	c->state = CONN_RESOLVE;
	r = resolver_lookup(c->proxy->o.resolver, c->name, conn_resolved, c, &c->query);
	if (r < 0)
		conn_fail(c, 502, r == -EBUSY ? "too many lookups in flight" : "resolving failed");
}

/* --- start -------------------------------------------------------------------------------- */

static int original_dst_default(int fd, struct sockaddr_storage *ret, void *userdata)
{
	struct sockaddr_storage local = {};
	socklen_t len = sizeof(local);

	if (getsockname(fd, (struct sockaddr *)&local, &len) < 0)
		return -errno;
	len = sizeof(*ret);
	if (local.ss_family == AF_INET6)
		return RET_NERRNO(getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, ret, &len));
	return RET_NERRNO(getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, ret, &len));
}

static void conn_start_transparent(struct conn *c)
{
	struct proxy *p = c->proxy;
	proxy_original_dst_fn fn = p->o.original_dst ? p->o.original_dst : original_dst_default;
	struct sockaddr_storage dst = {};
	struct sockaddr_in6 sin6 = {};

	if (fn(c->fd, &dst, p->o.original_dst_userdata) < 0 ||
	    addr_from_sockaddr((struct sockaddr *)&dst, &c->addr) < 0) {
		conn_deny(c, "capture", "no original destination");
		return;
	}
	/* sin_port and sin6_port sit at the same offset */
	memcpy(&sin6, &dst, sizeof(sin6));
	c->port = ntohs(sin6.sin6_port);
	c->has_addr = true;
	if (c->addr.family == AF_INET && fakeip_in_range(c->addr.in)) {
		const char *name = p->o.fakeip ? fakeip_reverse(p->o.fakeip, c->addr.in) : NULL;

		if (!name) {
			conn_deny(c, "fakeip", "unknown fake address");
			return;
		}
		c->name = xstrdup(name);
		c->has_addr = false; /* the fake address is not where it goes */
	}
	conn_peek_start(c);
}

/**
 * conn_start() - take over an accepted connection
 * @p: the proxy
 * @kind: the listener it came from (LISTENER_TRANSPARENT or LISTENER_HTTP)
 * @fd: the accepted socket, non-blocking (takes ownership)
 *
 * Beyond max_conns the connection is reset at once with a `deny` event.
 */
void conn_start(struct proxy *p, enum listener_kind kind, int fd)
{
	struct conn *c = xcalloc(1, sizeof(*c));

	c->proxy = p;
	c->fd = fd;
	c->up_fd = -EBADF;
	c->t_start = proxy_now_usec();
	c->via = kind == LISTENER_HTTP ? VIA_FORWARD : VIA_TRANSPARENT;
	c->next = p->conns;
	if (p->conns)
		p->conns->prev = c;
	p->conns = c;
	p->n_conns++;

	c->ev = event_new(p->o.base, fd, EV_READ, conn_io_cb, c);
	if (!c->ev) {
		conn_reset(c);
		return;
	}
	if (p->n_conns > p->o.max_conns) {
		conn_deny(c, "limit", "too many connections");
		return;
	}
	if (kind == LISTENER_HTTP) {
		c->state = CONN_HEAD;
		c->http_reply = true;
		c->limit = PROXY_HEAD_MAX;
		c->t_deadline = c->t_start + PROXY_HEAD_MS * 1000u;
		conn_wait_read(c, PROXY_HEAD_MS * 1000u);
		return;
	}
	conn_start_transparent(c);
}
