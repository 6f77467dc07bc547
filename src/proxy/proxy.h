/* SPDX-License-Identifier: MIT */
/*
 * proxy.h - the sandbox's network proxy: transparent TCP capture, explicit HTTP proxy, DNS
 *
 * Runs in the supervisor's libevent loop. The sandbox's init creates the sockets inside the
 * sandbox's network namespace and passes them out; the supervisor hands them to the proxy:
 *
 *	struct proxy_opts o = { .base = base, .policy = p, .fakeip = f, .resolver = r,
 *				.audit = audit_cb, .audit_userdata = sup };
 *	proxy_new(&o, &proxy);
 *	proxy_add_transparent_listener(proxy, tcp_15001_fd);   nft REDIRECTs every TCP connection
 *	proxy_add_http_listener(proxy, tcp_3128_fd);           HTTP_PROXY / HTTPS_PROXY
 *	proxy_add_dns_socket(proxy, udp_53_fd);                resolv.conf
 *	...
 *	proxy_free(proxy);                                     before the policy, fakeip, resolver
 *
 * docs/design/proxy.md has the connection life cycle and the limits.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/cleanup.h"

struct event_base;
struct fakeip;
struct host_rule;
struct inject_table;
struct json_object;
struct mint;
struct policy;
struct resolver;
struct ssl_ctx_st; /* SSL_CTX */

/* Limits (docs/design/proxy.md) */
#define PROXY_CONNS_DEFAULT      1024u               /* max_conns when 0 is given */
#define PROXY_PEEK_MAX           (16u * 1024u)       /* first bytes read before deciding */
#define PROXY_HEAD_MAX           (64u * 1024u)       /* an HTTP request head */
#define PROXY_RELAY_BUF_MAX      (64u * 1024u)       /* bytes buffered per direction */
#define PROXY_FIRST_BYTES_MS     300u                /* wait for a client's first byte */
#define PROXY_PEEK_MS            5000u               /* wait for a complete hello or head */
#define PROXY_HEAD_MS            10000u              /* explicit proxy: the request head */
#define PROXY_CONNECT_MS         10000u              /* dialling upstream */
#define PROXY_IDLE_MS            (10u * 60u * 1000u) /* a relayed connection without traffic */
#define PROXY_LINGER_MS          2000u               /* draining a client after a 4xx/5xx */
#define PROXY_ACCEPTS_PER_WAKEUP 32u
#define PROXY_DNS_PER_WAKEUP     64u
#define PROXY_LISTENERS_MAX      16u    /* listeners and DNS sockets, together */
#define PROXY_HANDSHAKE_MS       10000u /* TLS handshakes of a terminated connection */

struct proxy;

/*
 * proxy_audit_fn - the audit sink
 * @userdata: proxy_opts.audit_userdata
 * @type: "net", "dns", "deny", "secret_inject" or "secret_leak"
 * @fields: the event's fields; the sink takes ownership (json_object_put() it)
 */
typedef void (*proxy_audit_fn)(void *userdata, const char *type, struct json_object *fields);

/*
 * proxy_original_dst_fn - where an accepted, redirected connection was going
 * @fd: the accepted socket
 * @ret: the original destination (sockaddr_in or sockaddr_in6)
 * @userdata: proxy_opts.original_dst_userdata
 *
 * Returns 0 or -errno.
 */
typedef int (*proxy_original_dst_fn)(int fd, struct sockaddr_storage *ret, void *userdata);

/*
 * struct proxy_tls - TLS interception and secrets (docs/design/interception.md)
 * @mint: leaf certificates for terminated hosts (mint_new(); borrowed). NULL: nothing is
 *        terminated (secrets are then only refused, never injected)
 * @upstream_ctx: the SSL_CTX for real servers (tls_upstream_ctx_new() with the config's
 *                tls.upstream_ca; borrowed). NULL: nothing is terminated
 * @inject: the sandbox's secrets, placeholders and real values (borrowed); NULL or empty: no
 *          secrets. A secret's hosts make those hosts terminated; a placeholder is swapped
 *          only on those, and refused (403, `secret_leak`) on any other request, in plaintext
 *          HTTP, in a request body, and in any relayed stream
 * @inspect: config `inspect`: hosts terminated even without a secret, @n_inspect of them
 * @splice: config `splice`: hosts never terminated (wins over @inspect and secrets)
 *
 * A TLS connection whose SNI names the target H, which the policy allows, is terminated when
 * @mint and @upstream_ctx are set, H matches no @splice rule, and a secret is bound to H or H
 * matches an @inspect rule. Every other connection is relayed untouched, as without @tls.
 */
struct proxy_tls {
	struct mint *mint;
	struct ssl_ctx_st *upstream_ctx;
	const struct inject_table *inject;
	const struct host_rule *inspect;
	size_t n_inspect;
	const struct host_rule *splice;
	size_t n_splice;
};

/*
 * struct proxy_opts - what proxy_new() needs
 * @base: the event loop (borrowed; outlives the proxy)
 * @policy: the sandbox's policy (borrowed; outlives the proxy); NULL denies everything
 * @fakeip: the sandbox's fake-address table (borrowed; the DNS socket adds names to it)
 * @resolver: host-side resolver (borrowed); NULL makes every name that is not an --add-host
 *            name fail to resolve
 * @audit: the audit sink, or NULL to drop events
 * @audit_userdata: passed to @audit
 * @original_dst: SO_ORIGINAL_DST of an accepted fd; NULL for the real getsockopt() (tests
 *                inject their own)
 * @original_dst_userdata: passed to @original_dst
 * @max_conns: connections at once over all listeners; 0 for PROXY_CONNS_DEFAULT
 * @tls: interception and secrets (borrowed; outlives the proxy), or NULL for none
 */
struct proxy_opts {
	struct event_base *base;
	const struct policy *policy;
	struct fakeip *fakeip;
	struct resolver *resolver;
	proxy_audit_fn audit;
	void *audit_userdata;
	proxy_original_dst_fn original_dst;
	void *original_dst_userdata;
	unsigned max_conns;
	const struct proxy_tls *tls;
};

/**
 * proxy_new() - a proxy with no listeners yet
 * @o: the options (copied)
 * @ret: the proxy (free with proxy_free()); untouched on failure
 *
 * Return: 0, or -EINVAL when @o or @o->base is NULL.
 */
int proxy_new(const struct proxy_opts *o, struct proxy **ret);

/**
 * proxy_add_transparent_listener() - serve redirected connections on a listening TCP socket
 * @p: the proxy
 * @fd: a listening socket (takes ownership, also on failure); made non-blocking
 *
 * Return: 0, -EINVAL for a bad @fd, -EMFILE past PROXY_LISTENERS_MAX, or -ENOMEM.
 */
int proxy_add_transparent_listener(struct proxy *p, int fd);

/**
 * proxy_add_http_listener() - serve CONNECT and absolute-form HTTP on a listening TCP socket
 * @p: the proxy
 * @fd: a listening socket (takes ownership, also on failure); made non-blocking
 *
 * Return: as proxy_add_transparent_listener().
 */
int proxy_add_http_listener(struct proxy *p, int fd);

/**
 * proxy_add_dns_socket() - answer DNS queries on a bound UDP socket
 * @p: the proxy
 * @fd: a bound UDP socket (takes ownership, also on failure); made non-blocking
 *
 * Return: as proxy_add_transparent_listener().
 */
int proxy_add_dns_socket(struct proxy *p, int fd);

/* proxy_set_llm_hosts() - the agent's model APIs (borrowed: they outlive the proxy) */
void proxy_set_llm_hosts(struct proxy *p, const struct host_rule *rules, size_t n);

/*
 * proxy_llm_busy() - a request to one of the LLM hosts is in flight: the agent is "thinking"
 * (SPEC.md section 7), seen from when bytes last went each way on each connection to those
 * hosts: sent more recently than answered, or an answer arriving (within 1.5 s), or a
 * connection being set up.
 */
bool proxy_llm_busy(struct proxy *p);

/* proxy_conn_count() - connections open now (accepted and not yet closed) */
unsigned proxy_conn_count(const struct proxy *p);

/**
 * proxy_free() - close every listener and connection and free @p
 * @p: the proxy, or NULL
 *
 * Connections still open are closed; each relayed one still gets its `net` event, with
 * "error": "proxy shut down", so the log stays complete.
 *
 * Return: NULL.
 */
struct proxy *proxy_free(struct proxy *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct proxy *, proxy_free)
