/* SPDX-License-Identifier: MIT */
/*
 * proxy.c - the proxy's listeners, its DNS socket and its audit events
 *
 * DOC: Theory of Operation
 * The sandbox's init creates three sockets inside the sandbox's network namespace and passes
 * them to the supervisor, which hands them here: the transparent listener that nftables
 * redirects every TCP connection to, the explicit HTTP proxy listener, and the DNS socket.
 * Everything runs in the supervisor's libevent loop; nothing blocks.
 *
 * Listeners accept at most PROXY_ACCEPTS_PER_WAKEUP connections per wakeup and hand each to
 * conn.c. Beyond max_conns a connection is accepted and reset at once, with a `deny` event,
 * so that the backlog cannot fill with connections nobody will serve. When accept() runs out
 * of fds or memory the listener pauses for 100 ms instead of spinning on a readable socket.
 *
 * The DNS socket answers at most PROXY_DNS_PER_WAKEUP queries per wakeup with
 * dns_server_handle(). The policy callback canonicalises the question name exactly as the
 * connection path does (host_canonicalize()) and asks policy_check_name() with port 0; a name
 * that is not a plain host name (an IPv4 spelling such as "127.1") is denied. Each parsed
 * query gives one `dns` event: name, type, decision, rule and the answer (the fake address or
 * the response code). Packets that do not parse are answered (or dropped) as dns.c says and
 * logged at debug level only, so a flood of garbage does not flood the audit log.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/hostname.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/xmalloc.h"
#include "proxy/dns.h"
#include "proxy/fakeip.h"
#include "proxy/policy.h"
#include "proxy/proxy-internal.h"

#define ACCEPT_RETRY_MS 100

uint64_t proxy_now_usec(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void proxy_audit(struct proxy *p, const char *type, struct json_object *fields)
{
	if (p->o.audit)
		p->o.audit(p->o.audit_userdata, type, fields);
	else
		json_object_put(fields);
}

/* --- DNS ------------------------------------------------------------------------------- */

/* What the policy callback saw, for the audit event */
struct dns_decision {
	const struct policy *policy;
	bool asked;
	enum policy_decision decision;
	const char *rule;
	char name[DNS_NAME_MAX + 1];
};

static int dns_allow(void *arg, const char *name)
{
	struct dns_decision *d = arg;
	_cleanup_free_ char *canon = NULL;
	int kind;

	d->asked = true;
	d->decision = POLICY_DENY;
	d->rule = "host:invalid";
	(void)snprintf(d->name, sizeof(d->name), "%s", name);
	kind = host_canonicalize(name, strlen(name), &canon);
	if (kind != HOST_NAME)
		return 0;
	(void)snprintf(d->name, sizeof(d->name), "%s", canon);
	d->decision = policy_check_name(d->policy, canon, 0, &d->rule);
	return d->decision == POLICY_ALLOW;
}

static const char *dns_type_to_string(uint16_t t, char *buf, size_t n)
{
	switch (t) {
	case DNS_TYPE_A:
		return "A";
	case DNS_TYPE_AAAA:
		return "AAAA";
	case DNS_TYPE_HTTPS:
		return "HTTPS";
	case DNS_TYPE_TXT:
		return "TXT";
	case DNS_TYPE_MX:
		return "MX";
	case DNS_TYPE_SRV:
		return "SRV";
	case DNS_TYPE_PTR:
		return "PTR";
	case DNS_TYPE_CNAME:
		return "CNAME";
	case DNS_TYPE_ANY:
		return "ANY";
	default:
		(void)snprintf(buf, n, "TYPE%u", t);
		return buf;
	}
}

static const char *dns_rcode_to_string(int rcode)
{
	static const char *const names[] = { "NOERROR",  "FORMERR", "SERVFAIL",
					     "NXDOMAIN", "NOTIMP",  "REFUSED" };

	if (rcode >= 0 && (size_t)rcode < ELEMENTSOF(names))
		return names[rcode];
	return "ERROR";
}

static void dns_audit(struct proxy *p, const struct dns_query *q, const struct dns_decision *d,
		      const uint8_t *resp, size_t resp_len)
{
	struct json_object *o = json_object_new_object();
	char tbuf[16], abuf[INET_ADDRSTRLEN];
	const char *answer = "none";
	int rcode = resp_len >= 4 ? resp[3] & 0x0f : -1;

	if (rcode == DNS_RCODE_NOERROR && q->qtype == DNS_TYPE_A && d->asked &&
	    d->decision == POLICY_ALLOW) {
		struct in_addr a;

		if (fakeip_find(p->o.fakeip, d->name, &a) >= 0 &&
		    inet_ntop(AF_INET, &a, abuf, sizeof(abuf)))
			answer = abuf;
	} else if (rcode >= 0)
		answer = dns_rcode_to_string(rcode);

	json_object_object_add(o, "name", json_object_new_string(d->asked ? d->name : q->name));
	json_object_object_add(
		o, "qtype",
		json_object_new_string(dns_type_to_string(q->qtype, tbuf, sizeof(tbuf))));
	json_object_object_add(
		o, "decision",
		json_object_new_string(d->asked ? policy_decision_to_string(d->decision)
						: "refused"));
	json_object_object_add(o, "rule", d->asked ? json_object_new_string(d->rule) : NULL);
	json_object_object_add(o, "answer", json_object_new_string(answer));
	proxy_audit(p, "dns", o);
}

static void dns_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;
	struct proxy *p = l->proxy;

	for (unsigned i = 0; i < PROXY_DNS_PER_WAKEUP; i++) {
		uint8_t q[1500], resp[DNS_RESPONSE_MAX];
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		struct dns_decision d = { .policy = p->o.policy };
		struct dns_query query;
		ssize_t n;
		size_t r;

		n = recvfrom(fd, q, sizeof(q), MSG_DONTWAIT, (struct sockaddr *)&peer, &plen);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_debug_errno(errno, "DNS socket: recvfrom failed, ignoring: %m");
			return;
		}
		r = dns_server_handle(q, (size_t)n, resp, sizeof(resp), p->o.fakeip, dns_allow, &d);
		if (r > 0 && sendto(fd, resp, r, MSG_DONTWAIT | MSG_NOSIGNAL,
				    (struct sockaddr *)&peer, plen) < 0)
			log_debug_errno(errno, "DNS socket: sendto failed, ignoring: %m");
		if (dns_parse_query(q, (size_t)n, &query) >= 0)
			dns_audit(p, &query, &d, resp, r);
		else
			log_debug("DNS socket: dropped or refused a malformed packet of %zd bytes",
				  n);
	}
}

/* --- listeners ------------------------------------------------------------------------ */

static void listener_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;

	(void)event_add(l->ev, NULL);
}

static void listener_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;
	struct proxy *p = l->proxy;

	for (unsigned i = 0; i < PROXY_ACCEPTS_PER_WAKEUP; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				struct timeval tv = { 0, ACCEPT_RETRY_MS * 1000 };

				log_warning_errno(errno, "Proxy: accept() failed, pausing: %m");
				(void)event_del(l->ev);
				(void)event_add(l->retry, &tv);
			}
			return;
		}
		conn_start(p, l->kind, cfd);
	}
}

static struct listener *listener_free(struct listener *l)
{
	if (!l)
		return NULL;
	if (l->ev)
		event_free(l->ev);
	if (l->retry)
		event_free(l->retry);
	safe_close(l->fd);
	free(l);
	return NULL;
}

static int proxy_add_listener(struct proxy *p, int fd, enum listener_kind kind)
{
	_cleanup_close_ int owned = fd;
	struct listener *l;
	int flags;

	if (!p || fd < 0)
		return -EINVAL;
	if (kind == LISTENER_DNS && !p->o.fakeip)
		return -EINVAL;
	if (p->n_listeners >= PROXY_LISTENERS_MAX)
		return -EMFILE;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;

	l = xcalloc(1, sizeof(*l));
	l->proxy = p;
	l->kind = kind;
	l->fd = TAKE_FD(owned);
	l->ev = event_new(p->o.base, l->fd, EV_READ | EV_PERSIST,
			  kind == LISTENER_DNS ? dns_read_cb : listener_accept_cb, l);
	l->retry = evtimer_new(p->o.base, listener_retry_cb, l);
	if (!l->ev || !l->retry || event_add(l->ev, NULL) < 0) {
		listener_free(l);
		return -ENOMEM;
	}
	p->listeners[p->n_listeners++] = l;
	return 0;
}

int proxy_new(const struct proxy_opts *o, struct proxy **ret)
{
	struct proxy *p;

	if (!o || !o->base || !ret)
		return -EINVAL;
	p = xcalloc(1, sizeof(*p));
	p->o = *o;
	if (p->o.max_conns == 0)
		p->o.max_conns = PROXY_CONNS_DEFAULT;
	p->idle_usec = PROXY_IDLE_MS * 1000ull;
	*ret = p;
	return 0;
}

int proxy_add_transparent_listener(struct proxy *p, int fd)
{
	return proxy_add_listener(p, fd, LISTENER_TRANSPARENT);
}

int proxy_add_http_listener(struct proxy *p, int fd)
{
	return proxy_add_listener(p, fd, LISTENER_HTTP);
}

int proxy_add_dns_socket(struct proxy *p, int fd)
{
	return proxy_add_listener(p, fd, LISTENER_DNS);
}

unsigned proxy_conn_count(const struct proxy *p)
{
	return p ? p->n_conns : 0;
}

struct proxy *proxy_free(struct proxy *p)
{
	if (!p)
		return NULL;
	for (size_t i = 0; i < p->n_listeners; i++)
		p->listeners[i] = listener_free(p->listeners[i]);
	while (p->conns)
		conn_close(p->conns, "proxy shut down");
	free(p);
	return NULL;
}

void proxy_set_llm_hosts(struct proxy *p, const struct host_rule *rules, size_t n)
{
	p->llm = rules;
	p->n_llm = n;
}

#define LLM_STREAM_USEC (1500 * 1000) /* a response still arriving */

bool proxy_llm_busy(struct proxy *p)
{
	uint64_t now = proxy_now_usec();
	bool busy = false;

	for (struct conn *c = p->conns; c; c = c->next) {
		bool llm = false;

		if (!c->name)
			continue;
		for (size_t i = 0; i < p->n_llm && !llm; i++)
			llm = host_rule_match_name(&p->llm[i], c->name) &&
			      (!p->llm[i].port || p->llm[i].port == c->port);
		if (!llm)
			continue;
		if (c->state == CONN_RESOLVE || c->state == CONN_DIAL) {
			busy = true; /* a request on its way */
			continue;
		}
		/* sent more recently than answered: waiting for the model; or an answer streaming */
		if ((c->llm_t_up && c->llm_t_up > c->llm_t_down) ||
		    (c->llm_t_down && now - c->llm_t_down < LLM_STREAM_USEC))
			busy = true;
	}
	return busy;
}
