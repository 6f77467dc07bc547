/* SPDX-License-Identifier: MIT */
/*
 * test-resolver.c - host-side lookups against a real DNS stub on 127.0.0.1
 *
 * The stub is a UDP socket on a random loopback port, served by the same event loop as the
 * resolver. It parses queries with dns_parse_query() and answers from a small zone:
 *   multi.test    3 A + 2 AAAA          one.test   1 A, AAAA NODATA
 *   v6only.test   1 AAAA                nx.test    NXDOMAIN
 *   silent.test   never answered        anything else: REFUSED
 * evdns randomises the case of its queries (0x20), so the stub also checks that the question is
 * echoed as sent.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <event2/event.h>
#include <sys/socket.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/macro.h"
#include "proxy/dns.h"
#include "proxy/resolver.h"
#include "tap.h"

struct stub {
	int fd;
	struct event *ev;
	char addr[64]; /* "127.0.0.1:PORT" */
	unsigned queries;
	unsigned queries_for_one;
};

struct rr {
	const char *name;
	uint16_t type;
	const char *addr;
};

static const struct rr zone[] = {
	{ "multi.test", DNS_TYPE_A, "192.0.2.1" },
	{ "multi.test", DNS_TYPE_A, "192.0.2.2" },
	{ "multi.test", DNS_TYPE_A, "192.0.2.3" },
	{ "multi.test", DNS_TYPE_AAAA, "2001:db8::1" },
	{ "multi.test", DNS_TYPE_AAAA, "2001:db8::2" },
	{ "one.test", DNS_TYPE_A, "198.51.100.7" },
	{ "v6only.test", DNS_TYPE_AAAA, "2001:db8::6" },
};

static size_t put_rr(uint8_t *b, uint16_t type, const char *text)
{
	uint8_t data[16];
	size_t len = type == DNS_TYPE_A ? 4 : 16;

	if (inet_pton(type == DNS_TYPE_A ? AF_INET : AF_INET6, text, data) != 1)
		abort();
	b[0] = 0xc0; /* the question's name */
	b[1] = 0x0c;
	b[2] = 0;
	b[3] = (uint8_t)type;
	b[4] = 0;
	b[5] = 1;
	b[6] = b[7] = b[8] = 0;
	b[9] = 120;
	b[10] = 0;
	b[11] = (uint8_t)len;
	memcpy(b + 12, data, len);
	return 12 + len;
}

static void stub_read(evutil_socket_t fd, short what, void *arg)
{
	struct stub *s = arg;
	uint8_t q[1500], resp[1500];
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	struct dns_query query;
	char name[DNS_NAME_MAX + 1];
	ssize_t n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&peer, &plen);
	int len, count = 0;
	bool known = false;

	if (n < 0 || dns_parse_query(q, (size_t)n, &query) < 0)
		return;
	s->queries++;
	for (size_t i = 0; i <= query.name_len; i++)
		name[i] = (char)tolower((unsigned char)query.name[i]);
	if (streq(name, "one.test"))
		s->queries_for_one++;
	if (streq(name, "silent.test"))
		return;
	query.edns = false; /* answers go after the question; no OPT in between */
	for (size_t i = 0; i < ELEMENTSOF(zone); i++)
		known = known || streq(zone[i].name, name);
	if (streq(name, "nx.test"))
		len = dns_build_error(&query, DNS_RCODE_NXDOMAIN, resp, sizeof(resp));
	else if (!known)
		len = dns_build_error(&query, DNS_RCODE_REFUSED, resp, sizeof(resp));
	else {
		len = dns_build_empty(&query, resp, sizeof(resp));
		for (size_t i = 0; len > 0 && i < ELEMENTSOF(zone); i++)
			if (streq(zone[i].name, name) && zone[i].type == query.qtype) {
				len += (int)put_rr(resp + len, zone[i].type, zone[i].addr);
				count++;
			}
		resp[7] = (uint8_t)count; /* ANCOUNT */
	}
	if (len > 0)
		(void)sendto(fd, resp, (size_t)len, 0, (struct sockaddr *)&peer, plen);
}

static void stub_start(struct event_base *base, struct stub *s)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);

	memset(s, 0, sizeof(*s));
	s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(s->fd, (struct sockaddr *)&sin, &len) < 0)
		abort();
	snprintf(s->addr, sizeof(s->addr), "127.0.0.1:%u", ntohs(sin.sin_port));
	s->ev = event_new(base, s->fd, EV_READ | EV_PERSIST, stub_read, s);
	(void)event_add(s->ev, NULL);
}

static void stub_stop(struct stub *s)
{
	event_free(s->ev);
	s->fd = safe_close(s->fd);
}

struct result {
	int calls;
	int error;
	size_t n;
	struct resolver_addr addrs[RESOLVER_ADDRS_MAX];
	struct resolver **free_me; /* free the resolver from inside the callback */
};

static void on_result(int error, const struct resolver_addr *addrs, size_t n, void *userdata)
{
	struct result *res = userdata;

	res->calls++;
	res->error = error;
	res->n = n;
	if (n > 0)
		memcpy(res->addrs, addrs, n * sizeof(*addrs));
	if (res->free_me)
		*res->free_me = resolver_free(*res->free_me);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	*(int *)arg = 1;
}

/* Run the loop until *@done is set (checked after each iteration) or @ms pass. */
static void run_until(struct event_base *base, const int *done, unsigned ms)
{
	int expired = 0;
	struct event *deadline = evtimer_new(base, on_deadline, &expired);
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000 };

	(void)evtimer_add(deadline, &tv);
	while (!expired && !(done && *done))
		(void)event_base_loop(base, EVLOOP_ONCE);
	event_free(deadline);
}

static struct resolver *resolver_on(struct event_base *base, const struct stub *s)
{
	struct resolver *r = NULL;

	if (resolver_new(base, "", &r) < 0 || resolver_add_nameserver(r, s->addr) < 0)
		abort();
	return r;
}

static bool has(const struct result *res, int family, const char *text)
{
	uint8_t want[16];

	if (inet_pton(family, text, want) != 1)
		abort();
	for (size_t i = 0; i < res->n; i++)
		if (res->addrs[i].family == family &&
		    memcmp(family == AF_INET ? (const void *)&res->addrs[i].in
					     : (const void *)&res->addrs[i].in6,
			   want, family == AF_INET ? 4 : 16) == 0)
			return true;
	return false;
}

TEST(several_addresses)
{
	struct event_base *base = event_base_new();
	struct stub s;
	struct resolver *r;
	struct result res = {};

	stub_start(base, &s);
	r = resolver_on(base, &s);
	ASSERT_OK(resolver_lookup(r, "multi.test", on_result, &res, NULL));
	ASSERT_EQ(res.calls, 0); /* never from inside resolver_lookup() */
	run_until(base, &res.calls, 5000);
	ASSERT_EQ(res.calls, 1);
	ASSERT_OK(res.error);
	ASSERT_EQ(res.n, 5);
	ASSERT_EQ(res.addrs[0].family, AF_INET); /* IPv4 first */
	ASSERT_TRUE(has(&res, AF_INET, "192.0.2.1"));
	ASSERT_TRUE(has(&res, AF_INET, "192.0.2.2"));
	ASSERT_TRUE(has(&res, AF_INET, "192.0.2.3"));
	ASSERT_TRUE(has(&res, AF_INET6, "2001:db8::1"));
	ASSERT_TRUE(has(&res, AF_INET6, "2001:db8::2"));

	memset(&res, 0, sizeof(res));
	ASSERT_OK(resolver_lookup(r, "v6only.test", on_result, &res, NULL));
	run_until(base, &res.calls, 5000);
	ASSERT_OK(res.error);
	ASSERT_EQ(res.n, 1);
	ASSERT_TRUE(has(&res, AF_INET6, "2001:db8::6"));
	resolver_free(r);
	stub_stop(&s);
	event_base_free(base);
}

TEST(nxdomain_and_refused)
{
	struct event_base *base = event_base_new();
	struct stub s;
	struct resolver *r;
	struct result res = {};

	stub_start(base, &s);
	r = resolver_on(base, &s);
	ASSERT_OK(resolver_lookup(r, "nx.test", on_result, &res, NULL));
	run_until(base, &res.calls, 5000);
	ASSERT_EQ(res.calls, 1);
	ASSERT_ERR(res.error, ENOENT);
	ASSERT_EQ(res.n, 0);
	memset(&res, 0, sizeof(res));
	ASSERT_OK(resolver_lookup(r, "unknown.test", on_result, &res, NULL));
	run_until(base, &res.calls, 5000);
	ASSERT_EQ(res.calls, 1);
	ASSERT_TRUE(res.error < 0);
	ASSERT_EQ(res.n, 0);
	resolver_free(r);
	stub_stop(&s);
	event_base_free(base);
}

TEST(timeout_when_the_server_is_silent)
{
	struct event_base *base = event_base_new();
	struct stub s;
	struct resolver *r;
	struct result res = {};
	struct timespec t0, t1;
	long ms;

	stub_start(base, &s);
	r = resolver_on(base, &s);
	ASSERT_OK(resolver_set_timeout(r, 300));
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_OK(resolver_lookup(r, "silent.test", on_result, &res, NULL));
	run_until(base, &res.calls, 5000);
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ASSERT_EQ(res.calls, 1);
	ASSERT_ERR(res.error, ETIMEDOUT);
	ASSERT_TRUE(ms >= 290 && ms < 2000);
	/* evdns retransmitted within the deadline */
	ASSERT_TRUE(s.queries >= 2);
	/* nothing else arrives later */
	run_until(base, NULL, 600);
	ASSERT_EQ(res.calls, 1);
	resolver_free(r);
	run_until(base, NULL, 50);
	stub_stop(&s);
	event_base_free(base);
}

TEST(positive_cache)
{
	struct event_base *base = event_base_new();
	struct stub s;
	struct resolver *r;
	struct result res = {};

	stub_start(base, &s);
	r = resolver_on(base, &s);
	ASSERT_OK(resolver_lookup(r, "one.test", on_result, &res, NULL));
	run_until(base, &res.calls, 5000);
	ASSERT_OK(res.error);
	ASSERT_EQ(s.queries_for_one, 2); /* A and AAAA */
	memset(&res, 0, sizeof(res));
	ASSERT_OK(resolver_lookup(r, "ONE.test", on_result, &res, NULL));
	ASSERT_EQ(res.calls, 0); /* a hit is delivered from the loop too */
	run_until(base, &res.calls, 5000);
	ASSERT_OK(res.error);
	ASSERT_EQ(res.n, 1);
	ASSERT_TRUE(has(&res, AF_INET, "198.51.100.7"));
	ASSERT_EQ(s.queries_for_one, 2);
	/* failures are not cached */
	memset(&res, 0, sizeof(res));
	ASSERT_OK(resolver_lookup(r, "nx.test", on_result, &res, NULL));
	run_until(base, &res.calls, 5000);
	memset(&res, 0, sizeof(res));
	s.queries = 0;
	ASSERT_OK(resolver_lookup(r, "nx.test", on_result, &res, NULL));
	run_until(base, &res.calls, 5000);
	ASSERT_ERR(res.error, ENOENT);
	ASSERT_TRUE(s.queries > 0);
	/* no cache: asked again */
	resolver_set_cache_ttl(r, 0);
	memset(&res, 0, sizeof(res));
	ASSERT_OK(resolver_lookup(r, "one.test", on_result, &res, NULL));
	run_until(base, &res.calls, 5000);
	ASSERT_OK(res.error);
	ASSERT_EQ(s.queries_for_one, 4);
	resolver_free(r);
	stub_stop(&s);
	event_base_free(base);
}

TEST(cancel)
{
	struct event_base *base = event_base_new();
	struct stub s;
	struct resolver *r;
	struct resolver_query *q1 = NULL, *q2 = NULL;
	struct result a = {}, b = {}, d = {};

	stub_start(base, &s);
	r = resolver_on(base, &s);
	ASSERT_OK(resolver_set_timeout(r, 300));
	ASSERT_OK(resolver_lookup(r, "silent.test", on_result, &a, &q1));
	ASSERT_OK(resolver_lookup(r, "multi.test", on_result, &b, &q2));
	ASSERT_OK(resolver_lookup(r, "multi.test", on_result, &d, NULL));
	resolver_cancel(q1); /* waiting on the network */
	resolver_cancel(q2); /* its answer will arrive */
	run_until(base, &d.calls, 5000);
	run_until(base, NULL, 500);
	ASSERT_EQ(a.calls, 0);
	ASSERT_EQ(b.calls, 0);
	ASSERT_EQ(d.calls, 1);
	ASSERT_OK(d.error);
	resolver_cancel(NULL);

	/* a result queued for delivery (a cache hit) cancelled before the loop runs */
	memset(&d, 0, sizeof(d));
	ASSERT_OK(resolver_lookup(r, "multi.test", on_result, &d, &q1));
	resolver_cancel(q1);
	run_until(base, NULL, 50);
	ASSERT_EQ(d.calls, 0);
	resolver_free(r);
	run_until(base, NULL, 50);
	stub_stop(&s);
	event_base_free(base);
}

TEST(free_with_lookups_pending)
{
	struct event_base *base = event_base_new();
	struct stub s;
	struct resolver *r;
	struct result a = {}, b = {}, c = {};
	int calls;

	stub_start(base, &s);
	r = resolver_on(base, &s);
	ASSERT_OK(resolver_lookup(r, "silent.test", on_result, &a, NULL));
	ASSERT_OK(resolver_lookup(r, "multi.test", on_result, &b, NULL));
	run_until(base, NULL, 1); /* on the wire, perhaps answered, perhaps delivered */
	calls = a.calls + b.calls;
	ASSERT_EQ(a.calls, 0);
	ASSERT_OK(resolver_lookup(r, "one.test", on_result, &c, NULL));
	resolver_free(r);
	/* evdns delivers its cancellations on the loop; the resolver's memory goes then */
	run_until(base, NULL, 200);
	ASSERT_EQ(a.calls + b.calls + c.calls, calls);
	stub_stop(&s);
	event_base_free(base);
}

TEST(callback_may_free_the_resolver)
{
	struct event_base *base = event_base_new();
	struct stub s;
	struct resolver *r;
	struct result a = {}, b = {};

	stub_start(base, &s);
	r = resolver_on(base, &s);
	a.free_me = &r;
	ASSERT_OK(resolver_lookup(r, "one.test", on_result, &a, NULL));
	ASSERT_OK(resolver_lookup(r, "silent.test", on_result, &b, NULL));
	run_until(base, &a.calls, 5000);
	ASSERT_EQ(a.calls, 1);
	ASSERT_NULL(r);
	run_until(base, NULL, 200);
	ASSERT_EQ(b.calls, 0);
	stub_stop(&s);
	event_base_free(base);
}

TEST(literals_and_bad_names)
{
	struct event_base *base = event_base_new();
	struct stub s;
	struct resolver *r;
	struct result res = {};
	char name[300];

	stub_start(base, &s);
	r = resolver_on(base, &s);
	/* evdns answers a literal at once; the callback still comes from the loop */
	ASSERT_OK(resolver_lookup(r, "192.0.2.9", on_result, &res, NULL));
	ASSERT_EQ(res.calls, 0);
	run_until(base, &res.calls, 5000);
	ASSERT_OK(res.error);
	ASSERT_EQ(res.n, 1);
	ASSERT_TRUE(has(&res, AF_INET, "192.0.2.9"));
	ASSERT_EQ(s.queries, 0);

	ASSERT_ERR(resolver_lookup(r, "", on_result, &res, NULL), EINVAL);
	ASSERT_ERR(resolver_lookup(r, NULL, on_result, &res, NULL), EINVAL);
	ASSERT_ERR(resolver_lookup(r, "a.test", NULL, &res, NULL), EINVAL);
	memset(name, 'a', sizeof(name));
	name[254] = '\0';
	ASSERT_ERR(resolver_lookup(r, name, on_result, &res, NULL), EINVAL);
	ASSERT_ERR(resolver_set_timeout(r, 0), EINVAL);
	resolver_free(r);
	ASSERT_NULL(resolver_free(NULL));
	stub_stop(&s);
	event_base_free(base);
}

TEST(too_many_in_flight)
{
	struct event_base *base = event_base_new();
	struct stub s;
	struct resolver *r;
	static struct result res[RESOLVER_QUERIES_MAX + 1];
	char name[64];
	int calls = 0;

	stub_start(base, &s);
	r = resolver_on(base, &s);
	for (int i = 0; i < RESOLVER_QUERIES_MAX; i++) {
		snprintf(name, sizeof(name), "n%d.silent.test", i);
		ASSERT_OK(resolver_lookup(r, name, on_result, &res[i], NULL));
	}
	ASSERT_ERR(resolver_lookup(r, "one-more.test", on_result, &res[RESOLVER_QUERIES_MAX], NULL),
		   EBUSY);
	resolver_free(r);
	run_until(base, NULL, 200);
	for (int i = 0; i <= RESOLVER_QUERIES_MAX; i++)
		calls += res[i].calls;
	ASSERT_EQ(calls, 0);
	stub_stop(&s);
	event_base_free(base);
}

TEST(resolv_conf)
{
	struct event_base *base = event_base_new();
	struct stub s;
	struct resolver *r = NULL;
	struct result res = {};
	char path[] = "/tmp/test-resolver-XXXXXX";
	_cleanup_close_ int fd = mkstemp(path);
	char conf[128];

	ASSERT_TRUE(fd >= 0);
	stub_start(base, &s);
	ASSERT_ERR(resolver_new(base, "/nonexistent/resolv.conf", &r), ENOENT);
	ASSERT_NULL(r);
	/* no nameserver: an error, not a silent 127.0.0.1 */
	ASSERT_TRUE(write(fd, "search example.com\n", 19) == 19);
	ASSERT_ERR(resolver_new(base, path, &r), ENXIO);
	snprintf(conf, sizeof(conf), "nameserver %s\nsearch test\n", s.addr);
	ASSERT_TRUE(ftruncate(fd, 0) == 0 &&
		    pwrite(fd, conf, strlen(conf), 0) == (ssize_t)strlen(conf));
	ASSERT_OK(resolver_new(base, path, &r));
	ASSERT_OK(resolver_lookup(r, "multi.test", on_result, &res, NULL));
	run_until(base, &res.calls, 5000);
	ASSERT_OK(res.error);
	ASSERT_EQ(res.n, 5);
	/* the search list is not used: "one" is not "one.test" */
	memset(&res, 0, sizeof(res));
	ASSERT_OK(resolver_lookup(r, "one", on_result, &res, NULL));
	run_until(base, &res.calls, 5000);
	ASSERT_TRUE(res.error < 0);
	ASSERT_EQ(s.queries_for_one, 0);
	resolver_free(r);
	(void)unlink(path);
	stub_stop(&s);
	event_base_free(base);
}

int main(void)
{
	return tap_run();
}
