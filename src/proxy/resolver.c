/* SPDX-License-Identifier: MIT */
/*
 * resolver.c - host-side asynchronous name resolution for the proxy (libevent evdns)
 *
 * DOC: Theory of Operation
 * The sandbox only ever learns fake addresses (dns.c, fakeip.c). When it connects to one, the
 * proxy looks the name up here, on the host, checks every address against the policy and
 * dials exactly an address it checked, so a name that rebinds to a private address between
 * the check and the dial has nothing to rebind (THREATS.md 3).
 *
 * Lookups use evdns_getaddrinfo() on the supervisor's own loop: A and AAAA in parallel, the
 * host's nameservers and /etc/hosts, no search list (the proxy resolves the exact name the
 * policy allowed, never "name.corp.example"). Nothing blocks.
 *
 * Lifetimes are the delicate part. evdns_getaddrinfo() calls its callback exactly once per
 * request: synchronously (and returns NULL) when it can answer at once, otherwise later from
 * the loop, also after evdns_getaddrinfo_cancel(), which only turns the answer into
 * EVUTIL_EAI_CANCEL. And evdns_base_free() must not run while such a callback is still owed:
 * libevent 2.1 would then touch the freed base from it. So:
 *
 * - a query is attached (its user still waits: it sits on the resolver's list and owns a
 *   timer event) and/or outstanding (evdns still owes its callback); it is freed when it is
 *   neither;
 * - results, timeouts and cache hits all reach the user through the query's event, never
 *   from inside resolver_lookup() or from inside an evdns callback, and the query is detached
 *   and freed before the user's callback runs, so that callback may do anything, including
 *   freeing the resolver;
 * - resolver_cancel() and the deadline detach the query and cancel its evdns request;
 *   resolver_free() does that for every query, and the evdns base and the resolver itself are
 *   freed when the last outstanding callback has arrived.
 *
 * The cache holds up to 256 successful answers for 30 s (evdns_getaddrinfo() does not report
 * TTLs; 30 s bounds how stale an answer can be). Failures are not cached. Lookups are capped
 * at 1,024 in flight, and each has a deadline (5 s by default) after which it is reported
 * -ETIMEDOUT; evdns itself retransmits every half deadline and gives up after the deadline.
 */
#include <errno.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "common/log.h"
#include "common/macro.h"
#include "common/xmalloc.h"
#include "resolver.h"

#define RESOLVER_NAME_MAX 253

struct cache_entry {
	char *name; /* NULL: a free slot */
	uint64_t expires_ms;
	size_t n_addrs;
	struct resolver_addr *addrs;
};

struct resolver {
	struct event_base *base;
	struct evdns_base *dns;
	unsigned timeout_ms;
	unsigned cache_ttl;
	struct resolver_query *queries; /* attached queries */
	size_t n_queries;
	size_t n_outstanding; /* evdns callbacks still owed */
	bool dying;
	struct cache_entry *cache; /* RESOLVER_CACHE_MAX entries, allocated on first use */
};

struct resolver_query {
	struct resolver *r;
	struct resolver_query *prev, *next;
	resolver_cb_t cb; /* NULL once detached */
	void *userdata;
	struct event *ev; /* deadline, and delivery of the result */
	struct evdns_getaddrinfo_request *req;
	bool outstanding;
	bool done;
	int error;
	char *name;
	size_t n_addrs;
	struct resolver_addr addrs[RESOLVER_ADDRS_MAX];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void cache_free(struct resolver *r)
{
	if (!r->cache)
		return;
	for (size_t i = 0; i < RESOLVER_CACHE_MAX; i++) {
		free(r->cache[i].name);
		free(r->cache[i].addrs);
	}
	free(r->cache);
	r->cache = NULL;
}

static const struct cache_entry *cache_find(const struct resolver *r, const char *name)
{
	uint64_t now = now_ms();

	if (!r->cache || r->cache_ttl == 0)
		return NULL;
	for (size_t i = 0; i < RESOLVER_CACHE_MAX; i++) {
		const struct cache_entry *e = &r->cache[i];

		if (e->name && e->expires_ms > now && strcasecmp(e->name, name) == 0)
			return e;
	}
	return NULL;
}

/* Replace the entry for @name, else a free or expired one, else the one expiring first. */
static void cache_insert(struct resolver *r, const char *name, const struct resolver_addr *addrs,
			 size_t n)
{
	struct cache_entry *victim = NULL;
	uint64_t now = now_ms();

	if (r->cache_ttl == 0 || n == 0)
		return;
	if (!r->cache)
		r->cache = xcalloc(RESOLVER_CACHE_MAX, sizeof(*r->cache));
	for (size_t i = 0; i < RESOLVER_CACHE_MAX; i++) {
		struct cache_entry *e = &r->cache[i];

		if (e->name && strcasecmp(e->name, name) == 0) {
			victim = e;
			break;
		}
		if (!victim || !e->name || e->expires_ms <= now ||
		    (victim->name && victim->expires_ms > now &&
		     e->expires_ms < victim->expires_ms))
			victim = e;
	}
	free(victim->name);
	free(victim->addrs);
	victim->name = xstrdup(name);
	victim->addrs = xreallocarray(NULL, n, sizeof(*addrs));
	memcpy(victim->addrs, addrs, n * sizeof(*addrs));
	victim->n_addrs = n;
	victim->expires_ms = now + (uint64_t)r->cache_ttl * 1000;
}

static void resolver_destroy(struct resolver *r)
{
	if (r->dns)
		evdns_base_free(r->dns, 0);
	cache_free(r);
	free(r);
}

static int set_evdns_timeouts(struct resolver *r, unsigned msec)
{
	char half[32];

	/* evdns retransmits every half deadline and would give up at 1.5 deadlines, so the
	 * deadline (our timer) always comes first; also wait at most that long for the second
	 * address family once the first has answered */
	(void)snprintf(half, sizeof(half), "%u.%03u", msec / 2 / 1000, msec / 2 % 1000);
	if (evdns_base_set_option(r->dns, "timeout:", half) < 0 ||
	    evdns_base_set_option(r->dns, "getaddrinfo-allow-skew:", half) < 0 ||
	    evdns_base_set_option(r->dns, "attempts:", "3") < 0)
		return -EINVAL;
	return 0;
}

/* evdns writes its diagnostics to stderr unless told otherwise; this is library code */
static void evdns_log(int is_warning, const char *msg)
{
	log_debug("evdns: %s", msg);
}

int resolver_new(struct event_base *base, const char *resolv_conf, struct resolver **ret)
{
	struct resolver *r;
	int k;

	if (!base || !ret)
		return -EINVAL;
	evdns_set_log_fn(evdns_log);
	r = xcalloc(1, sizeof(*r));
	r->base = base;
	r->cache_ttl = RESOLVER_CACHE_TTL;
	r->timeout_ms = RESOLVER_TIMEOUT_MS;
	r->dns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (!r->dns) {
		free(r);
		return -ENOMEM;
	}
	if (!resolv_conf || resolv_conf[0]) {
		k = evdns_base_resolv_conf_parse(r->dns,
						 DNS_OPTION_NAMESERVERS |
							 DNS_OPTION_NAMESERVERS_NO_DEFAULT |
							 DNS_OPTION_MISC | DNS_OPTION_HOSTSFILE,
						 resolv_conf ? resolv_conf : "/etc/resolv.conf");
		if (k == 0 && evdns_base_count_nameservers(r->dns) == 0)
			k = 6;
		if (k != 0) {
			resolver_destroy(r);
			/* 1: cannot open, 2: cannot stat, 3: too large, 4: OOM, 5: short read,
			 * 6: no nameserver */
			return k == 1 || k == 2 ? -ENOENT
			       : k == 4         ? -ENOMEM
			       : k == 6         ? -ENXIO
						: -EIO;
		}
	}
	if (set_evdns_timeouts(r, r->timeout_ms) < 0) {
		resolver_destroy(r);
		return -EIO;
	}
	*ret = r;
	return 0;
}

int resolver_add_nameserver(struct resolver *r, const char *addr)
{
	if (!r || !addr || evdns_base_nameserver_ip_add(r->dns, addr) != 0)
		return -EINVAL;
	return 0;
}

int resolver_set_timeout(struct resolver *r, unsigned msec)
{
	int k;

	if (!r || msec < 10 || msec > 600000)
		return -EINVAL;
	k = set_evdns_timeouts(r, msec);
	if (k < 0)
		return k;
	r->timeout_ms = msec;
	return 0;
}

void resolver_set_cache_ttl(struct resolver *r, unsigned seconds)
{
	if (!r)
		return;
	r->cache_ttl = seconds;
	if (seconds == 0)
		cache_free(r);
}

static void query_free_if_unused(struct resolver_query *q)
{
	if (q->cb || q->outstanding)
		return;
	free(q->name);
	free(q);
}

/* The user no longer waits: off the list, no event; cancel what evdns still does. */
static void query_detach(struct resolver_query *q)
{
	struct resolver *r = q->r;

	if (q->prev)
		q->prev->next = q->next;
	else
		r->queries = q->next;
	if (q->next)
		q->next->prev = q->prev;
	q->prev = q->next = NULL;
	r->n_queries--;
	if (q->ev)
		event_free(q->ev);
	q->ev = NULL;
	q->cb = NULL;
	q->userdata = NULL;
	if (q->outstanding && q->req)
		evdns_getaddrinfo_cancel(q->req);
	query_free_if_unused(q);
}

/* The query's event: a result (or cache hit) to deliver, or the deadline. */
static void query_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct resolver_query *q = arg;
	struct resolver_addr addrs[RESOLVER_ADDRS_MAX];
	resolver_cb_t cb = q->cb;
	void *userdata = q->userdata;
	size_t n = 0;
	int error = -ETIMEDOUT;

	if (q->done) {
		error = q->error;
		n = q->n_addrs;
		memcpy(addrs, q->addrs, n * sizeof(addrs[0]));
	}
	query_detach(q); /* q may be gone from here on */
	cb(error, n > 0 ? addrs : NULL, n, userdata);
}

static int error_from_eai(int eai)
{
	switch (eai) {
	case EVUTIL_EAI_NONAME:
	case EVUTIL_EAI_NODATA:
		return -ENOENT;
	case EVUTIL_EAI_AGAIN:
		return -EAGAIN;
	case EVUTIL_EAI_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

static size_t addrs_from_addrinfo(const struct evutil_addrinfo *res, struct resolver_addr *out)
{
	size_t n = 0;

	for (const struct evutil_addrinfo *ai = res; ai && n < RESOLVER_ADDRS_MAX;
	     ai = ai->ai_next) {
		struct resolver_addr a = {};
		bool dup = false;

		if (ai->ai_family == AF_INET && ai->ai_addrlen >= sizeof(struct sockaddr_in)) {
			a.family = AF_INET;
			a.in = ((const struct sockaddr_in *)ai->ai_addr)->sin_addr;
		} else if (ai->ai_family == AF_INET6 &&
			   ai->ai_addrlen >= sizeof(struct sockaddr_in6)) {
			a.family = AF_INET6;
			a.in6 = ((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
		} else
			continue;
		for (size_t i = 0; i < n && !dup; i++)
			dup = out[i].family == a.family &&
			      (a.family == AF_INET
				       ? out[i].in.s_addr == a.in.s_addr
				       : memcmp(&out[i].in6, &a.in6, sizeof(a.in6)) == 0);
		if (!dup)
			out[n++] = a;
	}
	return n;
}

static void query_gai_cb(int result, struct evutil_addrinfo *res, void *arg)
{
	struct resolver_query *q = arg;
	struct resolver *r = q->r;

	q->outstanding = false;
	q->req = NULL;
	r->n_outstanding--;

	if (q->cb && result != EVUTIL_EAI_CANCEL) {
		q->error = result == 0 ? 0 : error_from_eai(result);
		if (result == 0) {
			q->n_addrs = addrs_from_addrinfo(res, q->addrs);
			if (q->n_addrs == 0)
				q->error = -ENOENT;
			else
				cache_insert(r, q->name, q->addrs, q->n_addrs);
		}
		q->done = true;
		/* deliver from the loop: we may be inside evdns_getaddrinfo() or evdns code */
		(void)event_del(q->ev);
		event_active(q->ev, EV_TIMEOUT, 1);
	}
	if (res)
		evutil_freeaddrinfo(res);
	query_free_if_unused(q);
	if (r->dying && r->n_outstanding == 0)
		resolver_destroy(r);
}

int resolver_lookup(struct resolver *r, const char *name, resolver_cb_t cb, void *userdata,
		    struct resolver_query **ret_query)
{
	struct evutil_addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_protocol = IPPROTO_TCP,
	};
	const struct cache_entry *e;
	struct resolver_query *q;
	struct evdns_getaddrinfo_request *req;
	size_t len;

	if (!r || !name || !cb || r->dying)
		return -EINVAL;
	len = strnlen(name, RESOLVER_NAME_MAX + 1);
	if (len == 0 || len > RESOLVER_NAME_MAX)
		return -EINVAL;
	if (r->n_queries >= RESOLVER_QUERIES_MAX || r->n_outstanding >= RESOLVER_QUERIES_MAX)
		return -EBUSY;

	q = xcalloc(1, sizeof(*q));
	q->r = r;
	q->cb = cb;
	q->userdata = userdata;
	q->name = xstrndup(name, len);
	q->ev = event_new(r->base, -1, 0, query_event_cb, q);
	if (!q->ev) {
		free(q->name);
		free(q);
		return -ENOMEM;
	}
	q->next = r->queries;
	if (r->queries)
		r->queries->prev = q;
	r->queries = q;
	r->n_queries++;
	if (ret_query)
		*ret_query = q;

	e = cache_find(r, q->name);
	if (e) {
		q->n_addrs = e->n_addrs;
		memcpy(q->addrs, e->addrs, e->n_addrs * sizeof(e->addrs[0]));
		q->done = true;
		event_active(q->ev, EV_TIMEOUT, 1);
		return 0;
	}

	(void)event_add(q->ev, &(struct timeval){ .tv_sec = r->timeout_ms / 1000,
						  .tv_usec = r->timeout_ms % 1000 * 1000 });
	q->outstanding = true;
	r->n_outstanding++;
	req = evdns_getaddrinfo(r->dns, q->name, NULL, &hints, query_gai_cb, q);
	/* NULL: query_gai_cb() has already run; the result waits on q->ev */
	if (req && q->outstanding)
		q->req = req;
	return 0;
}

void resolver_cancel(struct resolver_query *q)
{
	if (q && q->cb)
		query_detach(q);
}

struct resolver *resolver_free(struct resolver *r)
{
	if (!r)
		return NULL;
	r->dying = true;
	/*
	 * query_detach() unlinks the head before anything can free it; the analyzer loses track
	 * through evdns_getaddrinfo_cancel()'s callback (test-resolver frees with lookups pending
	 * under ASan).
	 */
	while (r->queries)
		query_detach(r->queries); /* NOLINT(clang-analyzer-unix.Malloc) */
	if (r->n_outstanding == 0)
		resolver_destroy(r);
	return NULL;
}
