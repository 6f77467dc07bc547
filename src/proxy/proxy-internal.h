/* SPDX-License-Identifier: MIT */
/*
 * proxy-internal.h - what proxy.c (listeners, DNS, audit) and conn.c (one connection) share
 */
#pragma once

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

#include "proxy/addr.h"
#include "proxy/proxy.h"

struct bufferevent;
struct icpt;
struct inject_scan;
struct relay_pipe;
struct resolver_query;

enum listener_kind {
	LISTENER_TRANSPARENT,
	LISTENER_HTTP,
	LISTENER_DNS,
	_LISTENER_KIND_MAX,
	_LISTENER_KIND_INVALID = -EINVAL,
};

/*
 * struct listener - one socket handed to the proxy
 * @proxy: the owner
 * @kind: what it serves
 * @fd: the socket (owned)
 * @ev: its persistent read event
 * @retry: one-shot timer that re-enables @ev after accept() ran out of fds or memory
 */
struct listener {
	struct proxy *proxy;
	enum listener_kind kind;
	int fd;
	struct event *ev;
	struct event *retry;
};

/*
 * struct proxy - see proxy.h
 * @o: the options, max_conns resolved
 * @listeners: the listeners and DNS sockets
 * @conns: every open connection (a doubly linked list through conn.next/prev)
 * @n_conns: its length, at most @o.max_conns
 * @idle_usec: a relay without a byte either way for this long is closed (PROXY_IDLE_MS;
 *             tests shorten it)
 * @no_splice: relay with bufferevents only (tests set it to cover the fallback)
 */
struct proxy {
	struct proxy_opts o;
	struct listener *listeners[PROXY_LISTENERS_MAX];
	size_t n_listeners;
	struct conn *conns;
	unsigned n_conns;
	uint64_t idle_usec;
	bool no_splice;
	const struct host_rule *llm; /* proxy_set_llm_hosts() */
	size_t n_llm;
};

enum conn_via {
	VIA_TRANSPARENT, /* redirected by nftables */
	VIA_CONNECT,     /* explicit proxy, CONNECT host:port */
	VIA_FORWARD,     /* explicit proxy, absolute-form request */
	_CONN_VIA_MAX,
	_CONN_VIA_INVALID = -EINVAL,
};

enum conn_state {
	CONN_HEAD,    /* explicit proxy: reading the request head */
	CONN_PEEK,    /* reading the client's first bytes */
	CONN_RESOLVE, /* waiting for the resolver */
	CONN_DIAL,    /* connecting upstream */
	CONN_RELAY,   /* relaying both ways */
	CONN_ICPT,    /* TLS terminated both ways, HTTP/1.1 parsed (intercept.c) */
	CONN_LINGER,  /* refused: response sent, draining the client before closing */
	_CONN_STATE_MAX,
	_CONN_STATE_INVALID = -EINVAL,
};

enum conn_proto {
	PROTO_TCP,
	PROTO_TLS,
	PROTO_HTTP,
	_CONN_PROTO_MAX,
	_CONN_PROTO_INVALID = -EINVAL,
};

/*
 * struct conn - one client connection and, once dialled, its upstream
 *
 * The connection owns the client's socket @fd (read with @ev until the relay starts) and the
 * upstream socket @up_fd from first to last; the bufferevents and the splice relay only
 * borrow them. @buf holds what was read from the client and not yet sent upstream (the
 * peeked bytes, or the rewritten request head and what followed it). While relaying, either
 * @pipes (splice, relay.c) or @client and @upstream (bufferevents) move the bytes.
 */
struct conn {
	struct proxy *proxy;
	struct conn *prev, *next;
	enum conn_via via;
	enum conn_state state;
	enum conn_proto proto;
	int fd, up_fd;
	struct event *ev;
	struct event *timer;
	struct bufferevent *client, *upstream;
	struct relay_pipe *pipes; /* [0] client -> upstream, [1] upstream -> client */
	uint8_t *buf;
	size_t len, cap, limit;
	uint64_t t_start, t_deadline; /* microseconds, CLOCK_MONOTONIC */
	char *name;                   /* canonical target name, NULL for an IP literal */
	struct addr addr;             /* the literal target, then the address dialled */
	bool has_addr;
	uint16_t port;
	char *sni;
	const char *rule;
	struct resolver_query *query;
	uint64_t bytes_up, bytes_down;
	size_t drained;
	bool http_reply;          /* the client expects an HTTP response to a refusal */
	bool allowed;             /* the policy allowed it: a `net` event is owed at close */
	bool client_eof;          /* the client sent FIN */
	bool upstream_eof;        /* the upstream sent FIN */
	bool up_shut;             /* FIN passed on to the upstream */
	bool down_shut;           /* FIN passed on to the client */
	bool terminate;           /* TLS to be terminated (intercept.c) once dialled */
	unsigned n_requests;      /* terminated: requests seen */
	struct icpt *icpt;        /* CONN_ICPT: the interception state */
	struct inject_scan *scan; /* relayed with secrets: the client-to-upstream leak scan */
	/* when bytes last went up and down (conn_count()), for proxy_llm_busy() */
	uint64_t llm_t_up, llm_t_down;
};

uint64_t proxy_now_usec(void);

/* conn_count() - @n bytes went up (client to server) or down; when, for proxy_llm_busy() */
static inline void conn_count(struct conn *c, bool up, uint64_t n)
{
	if (!n)
		return;
	if (up) {
		c->bytes_up += n;
		c->llm_t_up = proxy_now_usec();
	} else {
		c->bytes_down += n;
		c->llm_t_down = proxy_now_usec();
	}
}

/* proxy.c */
void proxy_audit(struct proxy *p, const char *type, struct json_object *fields);

/* conn.c */
void conn_start(struct proxy *p, enum listener_kind kind, int fd);
void conn_close(struct conn *c, const char *error);
const char *conn_proto_to_string(enum conn_proto proto);
struct json_object *conn_audit_fields(const struct conn *c);
void conn_audit_deny(struct conn *c, const char *rule, const char *reason);
void conn_audit_secret(struct conn *c, const char *type, const char *secret, const char *where,
		       const char *field, size_t field_len);
bool proxy_has_secrets(const struct proxy *p);

/* intercept.c */
void intercept_start(struct conn *c);
void intercept_free(struct conn *c);

/* relay.c */
void relay_start(struct conn *c);
void relay_free(struct conn *c);
bool relay_scan(struct conn *c, const void *buf, size_t len);
