/* SPDX-License-Identifier: MIT */
/*
 * policy.c - the network policy engine
 *
 * DOC: Theory of Operation
 * A policy is built once per sandbox from the effective configuration (net mode, allow and
 * deny rules, already merged and narrowed by store/config.c), the --add-host pairs and the
 * host's own addresses, and is immutable afterwards. Every rule is validated again while
 * building (a policy that cannot be built is an error, never "open"), IP rules are parsed into
 * struct addr once, and each rule gets its audit text ("deny:*.evil.com") once.
 *
 * One internal function, check(), makes every decision; policy_check_name() calls it with a
 * name and no address, policy_check_addr() with the address to dial. In order, the first
 * step that decides wins (docs/design/network-policy.md has the reasons):
 *
 *  1. no policy: deny ("policy:invalid"); a host that is not canonical: deny ("host:invalid")
 *  2. mode none: deny ("mode:none")
 *  3. deny rules: a name rule matching the name, an IP rule equal to the address ("deny:R")
 *  4. built-in names (localhost, *.localhost, metadata names): deny ("builtin:N") unless an
 *     exact allow rule (not project_only) or an --add-host entry names them
 *  5. the destination must be listed: a name needs a matching allow rule or --add-host entry,
 *     an IP literal needs an allow rule for its address ("allow:R", "add-host:N=IP"); in
 *     public mode anything unlisted passes ("default:public"); in allowlist mode it is denied
 *     ("default:allowlist")
 *  6. the address (if any): a class other than public (addr.c, with the host's own addresses)
 *     is denied ("address:CLASS") unless an allow rule for exactly that address, with a
 *     matching port and not project_only, or an --add-host pair of exactly this name and this
 *     address allows it (that rule decides)
 *  7. allow, with the rule of step 5
 *
 * Ports: a rule with port 0 matches every port, otherwise only its own. A check with port 0
 * (a DNS question) matches every allow rule whatever its port, and only the deny rules
 * without a port: it asks whether some connection to the name could be allowed.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "common/hostname.h"
#include "common/macro.h"
#include "common/strv.h"
#include "common/xmalloc.h"
#include "policy.h"

struct policy_rule {
	struct host_rule r;
	struct addr addr; /* for HOST_IPV4, HOST_IPV6 */
	char *text;
};

struct policy_host {
	char *name;
	struct addr addr;
	char *text;
};

struct policy {
	enum config_net mode;
	struct policy_rule *allow;
	size_t n_allow;
	struct policy_rule *deny;
	size_t n_deny;
	struct policy_host *hosts;
	size_t n_hosts;
	struct addr_set *self;
};

static const struct {
	enum host_kind kind;
	const char *host;
	const char *text;
} builtin_denied[] = {
	{ HOST_NAME, "localhost", "builtin:localhost" },
	{ HOST_WILDCARD, "localhost", "builtin:*.localhost" },
	{ HOST_NAME, "metadata", "builtin:metadata" },
	{ HOST_NAME, "metadata.google.internal", "builtin:metadata.google.internal" },
	{ HOST_NAME, "metadata.goog", "builtin:metadata.goog" },
	{ HOST_NAME, "instance-data", "builtin:instance-data" },
	{ HOST_NAME, "instance-data.ec2.internal", "builtin:instance-data.ec2.internal" },
};

static const char *const address_texts[_ADDR_CLASS_MAX] = {
	[ADDR_PUBLIC] = "address:public",
	[ADDR_RESERVED] = "address:reserved",
	[ADDR_BROADCAST] = "address:broadcast",
	[ADDR_MULTICAST] = "address:multicast",
	[ADDR_CGNAT] = "address:cgnat",
	[ADDR_ULA] = "address:ula",
	[ADDR_PRIVATE] = "address:private",
	[ADDR_LINK_LOCAL] = "address:link-local",
	[ADDR_UNSPECIFIED] = "address:unspecified",
	[ADDR_LOOPBACK] = "address:loopback",
	[ADDR_HOST_SELF] = "address:host-self",
	[ADDR_METADATA] = "address:metadata",
};

const char *policy_decision_to_string(enum policy_decision d)
{
	switch (d) {
	case POLICY_ALLOW:
		return "allow";
	case POLICY_DENY:
	case _POLICY_DECISION_MAX:
	case _POLICY_DECISION_INVALID:
		break;
	}
	return "deny";
}

int policy_add_host_parse(const char *s, char **ret_name, struct addr *ret_addr,
			  const char **reterr_why)
{
	_cleanup_free_ char *name = NULL, *ip = NULL;
	const char *colon, *why;
	struct addr a;
	size_t n;
	int r;

	if (!s || !(colon = strchr(s, ':'))) {
		why = "expected NAME:IP";
		goto fail;
	}
	r = host_canonicalize(s, (size_t)(colon - s), &name);
	if (r != HOST_NAME) {
		why = r < 0 ? "invalid host name" : "NAME must be a host name, not an address";
		goto fail;
	}
	n = strlen(colon + 1);
	if (n >= 2 && colon[1] == '[' && colon[n] == ']')
		ip = xstrndup(colon + 2, n - 2);
	else
		ip = xstrdup(colon + 1);
	if (addr_from_string(ip, &a) < 0) {
		why = "invalid IP address (a dotted quad or an IPv6 address)";
		goto fail;
	}
	*ret_name = TAKE_PTR(name);
	*ret_addr = a;
	return 0;
fail:
	if (reterr_why)
		*reterr_why = why;
	return -EINVAL;
}

static void policy_rules_free(struct policy_rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		host_rule_done(&rules[i].r);
		free(rules[i].text);
	}
	free(rules);
}

struct policy *policy_free(struct policy *p)
{
	if (!p)
		return NULL;
	policy_rules_free(p->allow, p->n_allow);
	policy_rules_free(p->deny, p->n_deny);
	for (size_t i = 0; i < p->n_hosts; i++) {
		free(p->hosts[i].name);
		free(p->hosts[i].text);
	}
	free(p->hosts);
	addr_set_free(p->self);
	free(p);
	return NULL;
}

static int rules_copy(const struct host_rule *in, size_t n, const char *prefix,
		      struct policy_rule **ret)
{
	struct policy_rule *out = xcalloc(n ? n : 1, sizeof(*out));
	size_t done = 0;
	int r = 0;

	for (; done < n; done++) {
		const struct host_rule *h = &in[done];
		struct policy_rule *o = &out[done];
		_cleanup_free_ char *f = NULL;

		if (!h->host) {
			r = -EINVAL;
			break;
		}
		switch (h->kind) {
		case HOST_NAME:
		case HOST_WILDCARD:
			if (!host_name_is_valid(h->host, strlen(h->host)))
				r = -EINVAL;
			break;
		case HOST_IPV4:
		case HOST_IPV6:
			if (addr_from_string(h->host, &o->addr) < 0)
				r = -EINVAL;
			break;
		case _HOST_KIND_MAX:
		case _HOST_KIND_INVALID:
		default:
			r = -EINVAL;
			break;
		}
		if (r < 0)
			break;
		o->r = (struct host_rule){ .kind = h->kind,
					   .host = xstrdup(h->host),
					   .port = h->port,
					   .project_only = h->project_only };
		f = host_rule_format(h);
		o->text = xasprintf("%s:%s", prefix, f);
	}
	if (r < 0) {
		policy_rules_free(out, done);
		return r;
	}
	*ret = out;
	return 0;
}

int policy_new(const struct paddock_config *c, char *const *add_hosts,
	       const struct addr_set *host_self, struct policy **ret)
{
	_cleanup_(policy_freep) struct policy *p = NULL;
	int r;

	if (!c || c->net < 0 || c->net >= _CONFIG_NET_MAX)
		return -EINVAL;
	if ((c->n_allow && !c->allow) || (c->n_deny && !c->deny))
		return -EINVAL;
	p = xcalloc(1, sizeof(*p));
	p->mode = c->net;
	r = rules_copy(c->allow, c->n_allow, "allow", &p->allow);
	if (r < 0)
		return r;
	p->n_allow = c->n_allow;
	r = rules_copy(c->deny, c->n_deny, "deny", &p->deny);
	if (r < 0)
		return r;
	p->n_deny = c->n_deny;
	p->hosts = xcalloc(strv_length(add_hosts) + 1, sizeof(*p->hosts));
	STRV_FOREACH (s, add_hosts) {
		struct policy_host *h = &p->hosts[p->n_hosts];
		char buf[ADDR_STRLEN];

		r = policy_add_host_parse(*s, &h->name, &h->addr, NULL);
		if (r < 0)
			return r;
		h->text = xasprintf("add-host:%s=%s", h->name, addr_to_string(&h->addr, buf));
		p->n_hosts++;
	}
	p->self = addr_set_copy(host_self);
	*ret = TAKE_PTR(p);
	return 0;
}

enum config_net policy_mode(const struct policy *p)
{
	return p ? p->mode : _CONFIG_NET_INVALID;
}

static bool port_matches(uint16_t rule_port, uint16_t port, bool deny)
{
	if (port == 0) /* a DNS question: could some port be allowed? */
		return deny ? rule_port == 0 : true;
	return rule_port == 0 || rule_port == port;
}

static bool rule_is_addr(const struct policy_rule *r)
{
	return r->r.kind == HOST_IPV4 || r->r.kind == HOST_IPV6;
}

static const struct policy_host *host_find(const struct policy *p, const char *name,
					   const struct addr *addr)
{
	for (size_t i = 0; i < p->n_hosts; i++)
		if (streq(p->hosts[i].name, name) && (!addr || addr_equal(&p->hosts[i].addr, addr)))
			return &p->hosts[i];
	return NULL;
}

static bool builtin_overridden(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->n_allow; i++)
		if (p->allow[i].r.kind == HOST_NAME && !p->allow[i].r.project_only &&
		    streq(p->allow[i].r.host, name))
			return true;
	return host_find(p, name, NULL) != NULL;
}

static enum policy_decision deny(const char **ret_rule, const char *text)
{
	if (ret_rule)
		*ret_rule = text;
	return POLICY_DENY;
}

/* The whole decision; @name and @addr may each be NULL but not both. */
static enum policy_decision check(const struct policy *p, const char *name, uint16_t port,
				  const struct addr *addr, const char **ret_rule)
{
	const char *listed = NULL;
	enum addr_class class;

	if (p->mode == CONFIG_NET_NONE)
		return deny(ret_rule, "mode:none");
	if (p->mode != CONFIG_NET_ALLOWLIST && p->mode != CONFIG_NET_PUBLIC)
		return deny(ret_rule, "policy:invalid");

	for (size_t i = 0; i < p->n_deny; i++) {
		const struct policy_rule *r = &p->deny[i];
		bool hit = rule_is_addr(r) ? addr && addr_equal(&r->addr, addr)
					   : name && host_rule_match_name(&r->r, name);

		if (hit && port_matches(r->r.port, port, true))
			return deny(ret_rule, r->text);
	}

	if (name)
		for (size_t i = 0; i < ELEMENTSOF(builtin_denied); i++) {
			struct host_rule b = { .kind = builtin_denied[i].kind,
					       .host = (char *)builtin_denied[i].host };

			if (host_rule_match_name(&b, name) && !builtin_overridden(p, name))
				return deny(ret_rule, builtin_denied[i].text);
		}

	for (size_t i = 0; i < p->n_allow && !listed; i++) {
		const struct policy_rule *r = &p->allow[i];
		bool hit = name ? !rule_is_addr(r) && host_rule_match_name(&r->r, name)
				: rule_is_addr(r) && addr_equal(&r->addr, addr);

		if (hit && port_matches(r->r.port, port, false))
			listed = r->text;
	}
	if (!listed && name) {
		const struct policy_host *h = host_find(p, name, addr);

		if (h)
			listed = h->text;
	}
	if (!listed) {
		if (p->mode != CONFIG_NET_PUBLIC)
			return deny(ret_rule, "default:allowlist");
		listed = "default:public";
	}

	if (addr) {
		class = addr_classify_host(addr, p->self);
		if (class < 0 || class >= _ADDR_CLASS_MAX)
			return deny(ret_rule, "address:invalid");
		if (class != ADDR_PUBLIC) {
			const char *explicit = NULL;

			for (size_t i = 0; i < p->n_allow && !explicit; i++) {
				const struct policy_rule *r = &p->allow[i];

				if (rule_is_addr(r) && !r->r.project_only &&
				    addr_equal(&r->addr, addr) &&
				    port_matches(r->r.port, port, false))
					explicit = r->text;
			}
			if (!explicit && name) {
				const struct policy_host *h = host_find(p, name, addr);

				if (h)
					explicit = h->text;
			}
			if (!explicit)
				return deny(ret_rule, address_texts[class]);
			listed = explicit;
		}
	}

	if (ret_rule)
		*ret_rule = listed;
	return POLICY_ALLOW;
}

/*
 * Canonicalizes @host and insists that it was canonical already. IPv6 literals are canonical
 * in inet_ntop() form without brackets, as host_canonicalize() returns them.
 */
static int host_check_canonical(const char *host, struct addr *ret_addr)
{
	_cleanup_free_ char *canon = NULL;
	int kind;

	if (strchr(host, ':')) {
		struct in6_addr in6;
		char buf[ADDR_STRLEN];

		if (inet_pton(AF_INET6, host, &in6) != 1 ||
		    !inet_ntop(AF_INET6, &in6, buf, sizeof(buf)) || !streq(buf, host) ||
		    addr_from_string(host, ret_addr) < 0)
			return -EINVAL;
		return HOST_IPV6;
	}
	kind = host_canonicalize(host, strlen(host), &canon);
	if (kind < 0 || !streq(canon, host))
		return -EINVAL;
	if (kind == HOST_IPV4 || kind == HOST_IPV6) {
		if (addr_from_string(canon, ret_addr) < 0)
			return -EINVAL;
	}
	return kind;
}

enum policy_decision policy_check_name(const struct policy *p, const char *host, uint16_t port,
				       const char **ret_rule)
{
	struct addr a;
	int kind;

	if (!p)
		return deny(ret_rule, "policy:invalid");
	if (!host)
		return deny(ret_rule, "host:invalid");
	kind = host_check_canonical(host, &a);
	if (kind < 0)
		return deny(ret_rule, "host:invalid");
	if (kind != HOST_NAME)
		return check(p, NULL, port, &a, ret_rule);
	return check(p, host, port, NULL, ret_rule);
}

enum policy_decision policy_check_addr(const struct policy *p, const char *host, uint16_t port,
				       const struct addr *addr, const char **ret_rule)
{
	struct addr literal;
	int kind;

	if (!p)
		return deny(ret_rule, "policy:invalid");
	if (!addr || (addr->family != AF_INET && addr->family != AF_INET6))
		return deny(ret_rule, "address:invalid");
	if (port == 0)
		return deny(ret_rule, "port:invalid");
	if (host) {
		kind = host_check_canonical(host, &literal);
		if (kind < 0)
			return deny(ret_rule, "host:invalid");
		if (kind != HOST_NAME) {
			/* the "name" was an IP literal: it must be the address dialled */
			if (!addr_equal(&literal, addr))
				return deny(ret_rule, "host:address-mismatch");
			host = NULL;
		}
	}
	return check(p, host, port, addr, ret_rule);
}

size_t policy_add_host_lookup(const struct policy *p, const char *host, struct addr *ret,
			      size_t max)
{
	size_t n = 0;

	if (!p || !host)
		return 0;
	for (size_t i = 0; i < p->n_hosts; i++)
		if (streq(p->hosts[i].name, host)) {
			if (n < max)
				ret[n] = p->hosts[i].addr;
			n++;
		}
	return n;
}
