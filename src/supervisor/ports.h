/* SPDX-License-Identifier: MIT */
/*
 * ports.h - port forwards: host TCP ports relayed to ports inside a sandbox (-p, `port`)
 *
 * Runs in the supervisor's libevent loop. The supervisor binds nothing inside the sandbox:
 * for each accepted connection it asks (ops->connect) for a connection to the inner port,
 * which the sandbox's init opens inside the sandbox's network namespace and passes out; the
 * answer comes back through ports_connected(), and from then on the bytes are relayed.
 *
 *	struct ports_ops ops = { .connect = ask_init_to_connect, .audit = audit_cb };
 *	struct ports *ports = ports_new(base, &ops, sup);
 *	port_spec_parse("8080:3000", &spec, &err);
 *	ports_add(ports, &spec, &bound, &err);       listens on 127.0.0.1:8080
 *	...                                           init answers: ports_connected(ports, id, fd, 0)
 *	ports_remove(ports, 8080, 0, &err);
 *	ports_free(ports);
 *
 * The process must ignore SIGPIPE (libevent writes with writev()). docs/design/ports.md has
 * the choices and the limits.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cleanup.h"
#include "proxy/addr.h"

struct event_base;
struct json_object;

/* Limits (docs/design/ports.md) */
#define PORTS_FORWARDS_MAX       64u           /* forwards (listening sockets) per sandbox */
#define PORTS_CONNS_DEFAULT      1024u         /* forwarded connections at once per sandbox */
#define PORTS_CONNECT_MS         10000u        /* waiting for the sandbox's connection */
#define PORTS_RELAY_BUF_MAX      (64u * 1024u) /* bytes buffered per direction */
#define PORTS_ACCEPTS_PER_WAKEUP 32u
#define PORTS_BACKLOG            128
#define PORT_SPEC_INPUT_MAX      128u               /* bytes of a spec given to port_spec_parse() */
#define PORT_SPEC_STRLEN         (ADDR_STRLEN + 16) /* "[addr]:65535:65535" and the NUL */

/*
 * struct port_spec - one forward: host address and port -> port inside the sandbox
 * @host: the host address to listen on (127.0.0.1 unless one was written)
 * @host_port: the host port; 0 for any free port (ports_add() reports the one it got)
 * @port: the port inside the sandbox, 1-65535
 */
struct port_spec {
	struct addr host;
	uint16_t host_port;
	uint16_t port;
};

/**
 * port_spec_parse() - parse a -p / `port NAME add` value
 * @s: the value
 * @ret: the forward; untouched on failure
 * @reterr: on failure, a new message naming the bad part (the caller frees it)
 *
 * Forms (TCP only; a trailing "/tcp" is accepted, as docker writes it):
 *
 *   PORT                   127.0.0.1:PORT -> PORT
 *   HOSTPORT:PORT          127.0.0.1:HOSTPORT -> PORT
 *   IP:HOSTPORT            IP:HOSTPORT -> HOSTPORT (SPEC.md's [IP:]HOSTPORT[:PORT])
 *   IP:HOSTPORT:PORT       IPv4 literal
 *   [IPv6]:HOSTPORT[:PORT] IPv6 literal in brackets
 *   IP::PORT               any free host port (as HOSTPORT 0)
 *
 * Ports are decimal 1-65535; HOSTPORT may be 0 (any free port). IP is a literal (inet_pton:
 * names are not resolved). Any address is accepted, 0.0.0.0 and :: included, but only when
 * written: such a forward is reachable from other machines (port_spec_is_exposed()).
 *
 * Return: 0 or -EINVAL.
 */
int port_spec_parse(const char *s, struct port_spec *ret, char **reterr);

/**
 * port_spec_format() - a forward in the canonical form "127.0.0.1:8080:3000", "[::1]:0:22"
 * @spec: the forward
 * @buf: at least PORT_SPEC_STRLEN bytes
 *
 * port_spec_parse() reads it back to the same forward. Return: @buf.
 */
const char *port_spec_format(const struct port_spec *spec, char *buf);

/*
 * port_spec_is_exposed() - does the forward listen on an address other machines can reach?
 * True for anything but loopback (127/8, ::1): 0.0.0.0, ::, a LAN address. The caller
 * should say so when it adds one ("port 8080 is reachable from the network").
 */
bool port_spec_is_exposed(const struct port_spec *spec);

struct ports;

/*
 * struct ports_ops - what the ports need from the supervisor
 * @connect: ask the sandbox for a connection to its @inner_port (127.0.0.1, then ::1, inside
 *           its network namespace). Asynchronous: answer with ports_connected(@req_id) later,
 *           or from inside this call. It may call ports_connected() but no other function of
 *           this module (it runs inside the accept loop). Required.
 * @audit: the audit sink (as proxy_audit_fn): @type is "port"; the sink takes ownership of
 *         @fields. NULL drops the events.
 */
struct ports_ops {
	void (*connect)(void *userdata, uint16_t inner_port, uint64_t req_id);
	void (*audit)(void *userdata, const char *type, struct json_object *fields);
};

/**
 * ports_new() - an empty set of forwards for one sandbox
 * @base: the event loop (borrowed; outlives the ports)
 * @ops: the callbacks (copied)
 * @userdata: passed to @ops
 *
 * Return: the new set (free with ports_free()), or NULL for a NULL @base or @ops->connect.
 */
struct ports *ports_new(struct event_base *base, const struct ports_ops *ops, void *userdata);

/* ports_set_max_conns() - forwarded connections allowed at once (0: PORTS_CONNS_DEFAULT) */
void ports_set_max_conns(struct ports *p, unsigned max_conns);

/* ports_set_connect_timeout() - how long to wait for ports_connected() (0: PORTS_CONNECT_MS) */
void ports_set_connect_timeout(struct ports *p, unsigned ms);

/**
 * ports_add() - listen on a host port and forward what connects to the sandbox
 * @p: the ports
 * @spec: the forward
 * @ret_bound: the forward as bound (the real host port when @spec's was 0), or NULL
 * @reterr: on failure, a new message for the user (the caller frees it)
 *
 * The socket is non-blocking, close-on-exec, SO_REUSEADDR (a restarted sandbox gets its port
 * back at once), and IPV6_V6ONLY for an IPv6 address. Emits a `port` event, action "listen".
 *
 * Return: 0; -EADDRINUSE ("host port 8080 is already in use; choose another with
 * -p HOSTPORT:PORT"), -EEXIST (this sandbox forwards it already), -EACCES (a privileged
 * port), -EADDRNOTAVAIL (not an address of this host), -EMFILE (PORTS_FORWARDS_MAX), or
 * another -errno of socket(), bind() or listen().
 */
int ports_add(struct ports *p, const struct port_spec *spec, struct port_spec *ret_bound,
	      char **reterr);

/**
 * ports_remove() - stop listening on a host port
 * @p: the ports
 * @host_port: the host port (on every address it is bound to)
 * @port: only the forwards to this inner port, or 0 for any
 * @reterr: on failure, a new message for the user (the caller frees it)
 *
 * Connections already relayed go on until they end. Emits a `port` event, action "remove",
 * for each forward removed.
 *
 * Return: the number of forwards removed (> 0), or -ENOENT.
 */
int ports_remove(struct ports *p, uint16_t host_port, uint16_t port, char **reterr);

/*
 * struct port_info - one forward as ports_list() shows it
 * @spec: as bound (the real host port)
 * @conns: connections open through it now (pending or relayed)
 * @total: connections accepted through it since it was added
 */
struct port_info {
	struct port_spec spec;
	unsigned conns;
	uint64_t total;
};

/**
 * ports_list() - the forwards, in the order they were added
 * @p: the ports (NULL: none)
 * @ret: a new array (free() it), NULL when there are none
 *
 * Return: the number of forwards.
 */
size_t ports_list(const struct ports *p, struct port_info **ret);

/**
 * ports_to_json() - the forwards as a JSON array (for `paddock ls` and `paddock port NAME`)
 * @p: the ports (NULL: none)
 *
 * Each element: {"host_ip", "host_port", "port", "exposed", "conns", "total"}.
 * Return: a new array (json_object_put() it).
 */
struct json_object *ports_to_json(const struct ports *p);

/**
 * ports_connected() - the sandbox's answer to ops->connect
 * @p: the ports
 * @req_id: the request's id
 * @fd: the connected socket (takes ownership, in every case), or -1 with @error
 * @error: 0, or the errno (either sign) of the failed connect inside the sandbox
 *
 * On success the client's bytes are relayed both ways. On error the client is closed and a
 * `port` event, action "refused", carries the error's text. An answer for a request that is
 * gone (timed out, or its client closed) closes @fd.
 *
 * Return: 0, or -ENOENT for an unknown @req_id.
 */
int ports_connected(struct ports *p, uint64_t req_id, int fd, int error);

/* ports_conn_count() - forwarded connections open now, over all forwards */
unsigned ports_conn_count(const struct ports *p);

/**
 * ports_free() - stop every forward and close every connection
 * @p: the ports, or NULL
 *
 * Each open connection still gets its `port` event, action "close", with "error":
 * "sandbox stopped". Return: NULL.
 */
struct ports *ports_free(struct ports *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ports *, ports_free)
