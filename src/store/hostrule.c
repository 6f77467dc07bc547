/* SPDX-License-Identifier: MIT */
/*
 * hostrule.c - HOST[:PORT] rules of the network policy
 *
 * DOC: Theory of Operation
 * A rule is parsed once, strictly, into a canonical form, so that the proxy, the resolver and
 * the project-narrowing code all compare the same thing. The attacks this guards against are
 * names that one component reads one way and another component another way (THREATS.md 3):
 *
 * - Only printable ASCII is accepted: no NUL, no spaces or control bytes, no IDN (write the
 *   punycode "xn--" form). Letters are lowercased.
 * - One trailing dot (the DNS root) is stripped, so "example.com." and "example.com" are the
 *   same rule; a second one leaves an empty label and is refused.
 * - A wildcard is "*." followed by a name, only as the first label; it matches names with at
 *   least one more label ("*.example.com" does not match "example.com"). A '*' anywhere else
 *   is refused, as is a bare "*".
 * - Names: labels of letters, digits and '-', not starting or ending with '-', 1-63 bytes
 *   each, at most 253 bytes in all (RFC 1123).
 * - A name whose last label is numeric ("2130706433", "127.1", "0x7f.1") is what resolvers
 *   read as an odd IPv4 spelling; only the strict dotted quad is accepted (inet_pton), so such
 *   names are refused rather than matched as names.
 * - IPv6 literals are accepted bare ("::1") or in brackets ("[::1]"), and must be bracketed
 *   when a port follows; zone ids are refused. Addresses are stored in inet_ntop() form, so
 *   "0:0::1" and "::1" are one rule.
 * - A port is 1-65535 in decimal; 0 and anything longer than five digits is refused.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hostname.h"
#include "common/macro.h"
#include "common/xmalloc.h"
#include "hostrule.h"

static int parse_port(const char *s, size_t len, uint16_t *ret, const char **why)
{
	unsigned v = 0;

	if (len == 0) {
		*why = "empty port";
		return -EINVAL;
	}
	if (len > 5) {
		*why = "port out of range 1-65535";
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			*why = "port is not a decimal number";
			return -EINVAL;
		}
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < 1 || v > 65535) {
		*why = "port out of range 1-65535";
		return -EINVAL;
	}
	*ret = (uint16_t)v;
	return 0;
}

static int host_rule_parse_lower(const char *s, size_t len, struct host_rule *ret, const char **why)
{
	const char *host = s, *colon;
	size_t hlen = len;
	uint16_t port = 0;
	char buf[INET6_ADDRSTRLEN];
	unsigned char addr[16];
	enum host_kind kind = HOST_NAME;
	int r;

	if (len == 0) {
		*why = "empty host";
		return -EINVAL;
	}
	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);

		if (!close) {
			*why = "'[' without ']'";
			return -EINVAL;
		}
		host = s + 1;
		hlen = (size_t)(close - host);
		if (close + 1 < s + len) {
			if (close[1] != ':') {
				*why = "unexpected text after ']'";
				return -EINVAL;
			}
			r = parse_port(close + 2, len - (size_t)(close + 2 - s), &port, why);
			if (r < 0)
				return r;
		}
		if (hlen == 0 || hlen >= sizeof(buf)) {
			*why = "invalid IPv6 address";
			return -EINVAL;
		}
		memcpy(buf, host, hlen);
		buf[hlen] = '\0';
		if (inet_pton(AF_INET6, buf, addr) != 1) {
			*why = "invalid IPv6 address";
			return -EINVAL;
		}
		kind = HOST_IPV6;
		goto address;
	}

	colon = memchr(s, ':', len);
	if (colon && memchr(colon + 1, ':', len - (size_t)(colon + 1 - s))) {
		/* Two colons or more: a bare IPv6 address, which cannot carry a port. */
		if (len >= sizeof(buf)) {
			*why = "invalid IPv6 address (put it in brackets when a port follows)";
			return -EINVAL;
		}
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (inet_pton(AF_INET6, buf, addr) != 1) {
			*why = "invalid IPv6 address (put it in brackets when a port follows)";
			return -EINVAL;
		}
		kind = HOST_IPV6;
		goto address;
	}
	if (colon) {
		hlen = (size_t)(colon - s);
		r = parse_port(colon + 1, len - hlen - 1, &port, why);
		if (r < 0)
			return r;
	}
	if (hlen > 0 && host[hlen - 1] == '.')
		hlen--; /* one trailing dot: the DNS root */
	if (hlen >= 2 && host[0] == '*' && host[1] == '.') {
		kind = HOST_WILDCARD;
		host += 2;
		hlen -= 2;
	}
	if (hlen == 0) {
		*why = "empty host";
		return -EINVAL;
	}
	if (memchr(host, '*', hlen)) {
		*why = "'*' is only allowed as a whole first label, as in '*.example.com'";
		return -EINVAL;
	}
	if (host_name_last_label_is_numeric(host, hlen)) {
		if (kind == HOST_WILDCARD || hlen >= sizeof(buf)) {
			*why = "numeric host name that is not a dotted-quad IPv4 address";
			return -EINVAL;
		}
		memcpy(buf, host, hlen);
		buf[hlen] = '\0';
		if (inet_pton(AF_INET, buf, addr) != 1) {
			*why = "numeric host name that is not a dotted-quad IPv4 address";
			return -EINVAL;
		}
		kind = HOST_IPV4;
		goto address;
	}
	if (hlen > 253) {
		*why = "host name longer than 253 bytes";
		return -EINVAL;
	}
	if (!host_name_is_valid(host, hlen)) {
		*why = "invalid host name (letters, digits, '-' and '.', labels of 1-63 bytes, "
		       "not starting or ending with '-')";
		return -EINVAL;
	}
	*ret = (struct host_rule){ .kind = kind, .host = xstrndup(host, hlen), .port = port };
	return 0;

address:
	if (!inet_ntop(kind == HOST_IPV6 ? AF_INET6 : AF_INET, addr, buf, sizeof(buf))) {
		*why = "invalid address";
		return -EINVAL;
	}
	*ret = (struct host_rule){ .kind = kind, .host = xstrdup(buf), .port = port };
	return 0;
}

int host_rule_parse(const char *s, size_t len, struct host_rule *ret, const char **reterr_why)
{
	char lower[512] = "";
	const char *why = NULL;
	int r;

	if (len > 300) {
		why = "host rule too long";
		goto fail;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0) {
			why = "NUL byte in host rule";
			goto fail;
		}
		if (c <= 0x20 || c >= 0x7f) {
			why = "space, control or non-ASCII byte in host rule (write IDN names in "
			      "their xn-- form)";
			goto fail;
		}
		lower[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
	}
	r = host_rule_parse_lower(lower, len, ret, &why);
	if (r >= 0)
		return r;
fail:
	if (reterr_why)
		*reterr_why = why ? why : "invalid host rule";
	return -EINVAL;
}

char *host_rule_format(const struct host_rule *r)
{
	char port[8] = "";

	if (r->port)
		(void)snprintf(port, sizeof(port), ":%u", (unsigned)r->port);
	switch (r->kind) {
	case HOST_WILDCARD:
		return xasprintf("*.%s%s", r->host, port);
	case HOST_IPV6:
		return xasprintf("[%s]%s", r->host, port);
	case HOST_NAME:
	case HOST_IPV4:
	case _HOST_KIND_MAX:
	case _HOST_KIND_INVALID:
		break;
	}
	return xasprintf("%s%s", r->host, port);
}

void host_rule_done(struct host_rule *r)
{
	free(r->host);
	r->host = NULL;
}

bool host_rule_equal(const struct host_rule *a, const struct host_rule *b)
{
	return a->kind == b->kind && a->port == b->port && streq(a->host, b->host);
}

/* Is @name (a plain name or a wildcard's suffix) strictly below @suffix? */
static bool name_below(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	return n > s + 1 && name[n - s - 1] == '.' && streq(name + n - s, suffix);
}

bool host_rule_match_name(const struct host_rule *r, const char *name)
{
	if (r->kind == HOST_NAME)
		return streq(r->host, name);
	if (r->kind == HOST_WILDCARD)
		return name_below(name, r->host);
	return false;
}

/* Is the host pattern of @a contained in that of @b? */
static bool host_within(const struct host_rule *a, const struct host_rule *b)
{
	if (b->kind == HOST_WILDCARD) {
		if (a->kind == HOST_NAME)
			return name_below(a->host, b->host);
		if (a->kind == HOST_WILDCARD)
			return streq(a->host, b->host) || name_below(a->host, b->host);
		return false;
	}
	return a->kind == b->kind && streq(a->host, b->host);
}

bool host_rule_intersect(const struct host_rule *a, const struct host_rule *b,
			 struct host_rule *ret)
{
	const struct host_rule *h;
	uint16_t port;

	if (a->port && b->port && a->port != b->port)
		return false;
	port = a->port ? a->port : b->port;
	if (host_within(a, b))
		h = a;
	else if (host_within(b, a))
		h = b;
	else
		return false;
	*ret = (struct host_rule){ .kind = h->kind, .host = xstrdup(h->host), .port = port };
	return true;
}
