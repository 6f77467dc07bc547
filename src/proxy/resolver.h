/* SPDX-License-Identifier: MIT */
/*
 * resolver.h - host-side asynchronous name resolution for the proxy (libevent evdns)
 */
#pragma once

#include <netinet/in.h>
#include <stddef.h>

struct event_base;
struct resolver;
struct resolver_query;

#define RESOLVER_ADDRS_MAX   32   /* addresses kept per name (IPv4 first, as evdns orders them) */
#define RESOLVER_CACHE_MAX   256  /* names in the positive cache */
#define RESOLVER_CACHE_TTL   30   /* seconds; evdns_getaddrinfo() does not report record TTLs */
#define RESOLVER_TIMEOUT_MS  5000 /* default deadline of one lookup */
#define RESOLVER_QUERIES_MAX 1024 /* lookups in flight at once */

/*
 * struct resolver_addr - one address of a name
 * @family: AF_INET or AF_INET6
 * @in: the IPv4 address (network byte order), when @family is AF_INET
 * @in6: the IPv6 address, when @family is AF_INET6
 */
struct resolver_addr {
	int family;
	union {
		struct in_addr in;
		struct in6_addr in6;
	};
};

/*
 * resolver_cb_t - the result of resolver_lookup()
 * @error: 0; -ENOENT (no such name, or no A/AAAA records); -ETIMEDOUT; -EAGAIN (the server
 *         failed, SERVFAIL or no answer from evdns); -EIO (any other failure)
 * @addrs: the addresses (borrowed: valid only during the call), NULL on error
 * @n_addrs: how many, 1 to RESOLVER_ADDRS_MAX on success, 0 on error
 * @userdata: as passed to resolver_lookup()
 *
 * Always called from the event loop, never from inside resolver_lookup(). Once it has been
 * called, the query handle is gone: do not pass it to resolver_cancel(). The callback may
 * start new lookups and may free the resolver.
 */
typedef void (*resolver_cb_t)(int error, const struct resolver_addr *addrs, size_t n_addrs,
			      void *userdata);

/**
 * resolver_new() - a resolver on @base
 * @base: the event loop (borrowed; must outlive the resolver)
 * @resolv_conf: a resolv.conf to read nameservers and options from, NULL for
 *               /etc/resolv.conf, or "" for none (add them with resolver_add_nameserver()).
 *               Its search list is ignored: the proxy resolves exactly the name the policy
 *               checked. /etc/hosts is read along with it, as host tools would.
 * @ret: the resolver (free with resolver_free())
 *
 * Return: 0; -ENOENT if @resolv_conf cannot be read; -ENXIO if it names no nameserver (there
 * is no silent fallback to 127.0.0.1); -EIO if libevent refuses it; -ENOMEM.
 */
int resolver_new(struct event_base *base, const char *resolv_conf, struct resolver **ret);

/**
 * resolver_add_nameserver() - add a nameserver
 * @r: the resolver
 * @addr: "IP" or "IP:PORT" ("[IPv6]:PORT" for IPv6 with a port)
 *
 * Return: 0 or -EINVAL.
 */
int resolver_add_nameserver(struct resolver *r, const char *addr);

/**
 * resolver_set_timeout() - the deadline of each lookup from now on
 * @r: the resolver
 * @msec: milliseconds (at least 10); RESOLVER_TIMEOUT_MS by default
 *
 * evdns retransmits within the deadline (every @msec / 2); a lookup still unanswered at the
 * deadline is reported -ETIMEDOUT and abandoned.
 *
 * Return: 0 or -EINVAL.
 */
int resolver_set_timeout(struct resolver *r, unsigned msec);

/**
 * resolver_set_cache_ttl() - how long a successful answer is reused
 * @r: the resolver
 * @seconds: 0 disables the cache; RESOLVER_CACHE_TTL by default
 */
void resolver_set_cache_ttl(struct resolver *r, unsigned seconds);

/**
 * resolver_lookup() - resolve @name to all its A and AAAA addresses, asynchronously
 * @r: the resolver
 * @name: the host name (as the policy canonicalised it); copied
 * @cb: called once with the result, from the loop (see resolver_cb_t)
 * @userdata: passed to @cb
 * @ret_query: if not NULL, a handle for resolver_cancel(), valid until @cb runs
 *
 * Never blocks. A cached answer is delivered on the next loop iteration.
 *
 * Return: 0; -EINVAL for an empty name or one longer than 253 bytes; -EBUSY when
 * RESOLVER_QUERIES_MAX lookups are already in flight. @cb is not called on failure.
 */
int resolver_lookup(struct resolver *r, const char *name, resolver_cb_t cb, void *userdata,
		    struct resolver_query **ret_query);

/**
 * resolver_cancel() - forget a lookup whose caller went away
 * @q: the handle from resolver_lookup(), or NULL
 *
 * Its callback is never called. The DNS request itself is cancelled in the background.
 */
void resolver_cancel(struct resolver_query *q);

/**
 * resolver_free() - free @r (NULL is fine)
 * @r: the resolver
 *
 * Every lookup still pending is cancelled: no callback runs after this. libevent delivers its
 * cancellations on the loop, so the last memory of @r is released there, on a later loop
 * iteration (if the loop never runs again, that memory is released with the process).
 *
 * Return: NULL.
 */
struct resolver *resolver_free(struct resolver *r);
