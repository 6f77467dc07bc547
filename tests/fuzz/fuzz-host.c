/* SPDX-License-Identifier: MIT */
/*
 * fuzz-host.c - libFuzzer target for host canonicalization, address classes and the policy
 *
 * The input is what a sandbox may send as a host (SNI, Host, CONNECT, DNS question), any
 * bytes. Layout: 2 bytes of port, 1 byte of flags (bit 0: IPv6), 16 bytes of the address
 * the host "resolved" to (the first 4 for IPv4), then the host. Invariants checked:
 *
 * - a canonical host re-canonicalizes to itself (same kind, same bytes); a name is a valid
 *   ASCII name of at most 253 bytes whose last label is not numeric;
 * - the policy denies whatever host_canonicalize() refuses or would change;
 * - mode none and an empty allowlist deny everything;
 * - an address whose class is not public is never allowed without an explicit rule: with a
 *   policy that has no address rules and no --add-host, it is always denied, and with one
 *   that has, an allow of such an address names exactly that rule or pair;
 * - an allowed connection in allowlist mode names an allow rule or --add-host pair.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/hostname.h"
#include "common/macro.h"
#include "proxy/policy.h"
#include "store/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { P_PUBLIC, P_ALLOWLIST, P_NONE, P_EMPTY, P_EXPLICIT, _P_MAX };

static struct policy *policies[_P_MAX];
static struct addr_set *host_self;

static struct policy *make(const char *net, const char *const *allow, const char *const *deny,
			   char *const *add_hosts)
{
	struct paddock_config *c = config_new();
	struct policy *p = NULL;
	char *err = NULL;

	PADDOCK_ASSERT(config_set_option(c, "--net", net, &err) >= 0);
	for (; allow && *allow; allow++)
		PADDOCK_ASSERT(config_set_option(c, "--allow", *allow, &err) >= 0);
	for (; deny && *deny; deny++)
		PADDOCK_ASSERT(config_set_option(c, "--deny", *deny, &err) >= 0);
	PADDOCK_ASSERT(policy_new(c, add_hosts, host_self, &p) >= 0);
	config_free(c);
	return p;
}

static void init(void)
{
	static const char *const names[] = { "github.com:443", "*.example.com",
					     "xn--bcher-kva.example", NULL };
	static const char *const deny[] = { "*.evil.com", "bad.example.com", NULL };
	static const char *const explicit[] = { "10.0.0.5:8080",      "127.0.0.1",     "[::1]:22",
						"169.254.169.254:80", "a.example.com", NULL };
	static char *const hosts[] = { "db.test:10.0.0.7", "a.example.com:192.168.1.1",
				       "v6.test:fd00::7", NULL };

	struct addr a;

	if (policies[0])
		return;
	host_self = addr_set_new();
	PADDOCK_ASSERT(addr_from_string("203.0.114.7", &a) >= 0);
	addr_set_add(host_self, &a);
	policies[P_PUBLIC] = make("public", NULL, deny, NULL);
	policies[P_ALLOWLIST] = make("allowlist", names, deny, NULL);
	policies[P_NONE] = make("none", names, NULL, hosts);
	policies[P_EMPTY] = make("allowlist", NULL, NULL, NULL);
	policies[P_EXPLICIT] = make("public", explicit, deny, hosts);
}

/* Is @rule, an allow of a non-public @a, an explicit rule or pair for exactly that address? */
static bool explicit_for(const char *rule, const struct addr *a, const char *host)
{
	static const char *const ok[] = { "allow:10.0.0.5:8080", "allow:127.0.0.1",
					  "allow:[::1]:22", "allow:169.254.169.254:80" };
	char buf[ADDR_STRLEN], *want;
	bool r = false;

	for (size_t i = 0; i < ELEMENTSOF(ok); i++)
		if (streq(rule, ok[i])) {
			struct addr r_addr;
			const char *s = ok[i] + 6;
			char tmp[64];
			size_t n;

			if (*s == '[') {
				n = strcspn(s + 1, "]");
				memcpy(tmp, s + 1, n);
			} else {
				n = strcspn(s, ":");
				memcpy(tmp, s, n);
			}
			tmp[n] = '\0';
			PADDOCK_ASSERT(addr_from_string(tmp, &r_addr) >= 0);
			return addr_equal(&r_addr, a);
		}
	if (!host)
		return false;
	want = NULL;
	if (asprintf(&want, "add-host:%s=%s", host, addr_to_string(a, buf)) < 0)
		abort();
	r = streq(rule, want);
	free(want);
	return r;
}

static bool is_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

static void check_canonical(const char *in, size_t len, int kind, const char *out)
{
	char *again = NULL, *bracketed = NULL;
	int r;

	PADDOCK_ASSERT(kind == HOST_NAME || kind == HOST_IPV4 || kind == HOST_IPV6);
	PADDOCK_ASSERT(out && strlen(out) > 0);
	if (kind == HOST_NAME) {
		size_t n = strlen(out);

		PADDOCK_ASSERT(n <= HOST_NAME_MAX_LEN && host_name_is_valid(out, n));
		PADDOCK_ASSERT(!host_name_last_label_is_numeric(out, n));
		r = host_canonicalize(out, n, &again);
	} else if (kind == HOST_IPV4) {
		struct in_addr a;

		PADDOCK_ASSERT(inet_pton(AF_INET, out, &a) == 1);
		r = host_canonicalize(out, strlen(out), &again);
	} else {
		if (asprintf(&bracketed, "[%s]", out) < 0)
			abort();
		r = host_canonicalize(bracketed, strlen(bracketed), &again);
	}
	PADDOCK_ASSERT(r == kind);
	PADDOCK_ASSERT(streq(again, out));
	/* an ASCII name only changes case and loses one trailing dot: nothing is stripped */
	if (kind == HOST_NAME && is_ascii(in, len)) {
		size_t n = strlen(out);

		PADDOCK_ASSERT(n == len || (n + 1 == len && in[n] == '.'));
		PADDOCK_ASSERT(strncasecmp(in, out, n) == 0);
	}
	free(again);
	free(bracketed);
}

static void check_addr_invariants(const char *host, uint16_t port, const struct addr *a)
{
	enum addr_class class;
	const char *rule;

	for (int i = 0; i < _P_MAX; i++) {
		const struct policy *p = policies[i];
		enum policy_decision d;

		rule = NULL;
		d = policy_check_addr(p, host, port, a, &rule);
		PADDOCK_ASSERT(rule);
		PADDOCK_ASSERT(d == POLICY_ALLOW || d == POLICY_DENY);
		if (i == P_NONE || i == P_EMPTY)
			PADDOCK_ASSERT(d == POLICY_DENY);
		if (d != POLICY_ALLOW)
			continue;
		PADDOCK_ASSERT(port != 0);
		class = addr_classify_host(a, host_self);
		PADDOCK_ASSERT(class >= 0 && class < _ADDR_CLASS_MAX);
		if (class != ADDR_PUBLIC) {
			/* only P_EXPLICIT has address rules and --add-host pairs */
			PADDOCK_ASSERT(i == P_EXPLICIT);
			PADDOCK_ASSERT(explicit_for(rule, a, host));
		}
		if (i == P_ALLOWLIST)
			PADDOCK_ASSERT(strncmp(rule, "allow:", 6) == 0);
		PADDOCK_ASSERT(!streq(rule, "default:public") || class == ADDR_PUBLIC);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data + 19;
	char *canon = NULL, *raw = NULL;
	struct addr resolved = {};
	uint16_t port;
	size_t len;
	int kind;

	init();
	if (size < 19 || size > 4096)
		return 0;
	port = (uint16_t)(data[0] << 8 | data[1]);
	if (data[2] & 1) {
		resolved.family = AF_INET6;
		memcpy(&resolved.in6, data + 3, 16);
		if (IN6_IS_ADDR_V4MAPPED(&resolved.in6)) {
			struct in_addr v4;

			memcpy(&v4, data + 15, 4);
			resolved = (struct addr){ .family = AF_INET, .in = v4 };
		}
	} else {
		resolved.family = AF_INET;
		memcpy(&resolved.in, data + 3, 4);
	}
	len = size - 19;

	kind = host_canonicalize(in, len, &canon);
	if (kind >= 0)
		check_canonical(in, len, kind, canon);
	else
		PADDOCK_ASSERT(kind == -EINVAL && !canon);

	/* the raw input as a C string: denied unless it is canonical already */
	raw = strndup(in, len);
	if (!raw)
		abort();
	for (int i = 0; i < _P_MAX; i++) {
		const char *rule = NULL;
		enum policy_decision d = policy_check_name(policies[i], raw, port, &rule);

		PADDOCK_ASSERT(rule);
		if (i == P_NONE || i == P_EMPTY)
			PADDOCK_ASSERT(d == POLICY_DENY);
		if (d == POLICY_ALLOW) {
			char *c2 = NULL;
			int k2 = strchr(raw, ':') ? HOST_IPV6
						  : host_canonicalize(raw, strlen(raw), &c2);

			PADDOCK_ASSERT(k2 >= 0);
			PADDOCK_ASSERT(k2 == HOST_IPV6 || streq(c2, raw));
			free(c2);
			if (i == P_ALLOWLIST)
				PADDOCK_ASSERT(strncmp(rule, "allow:", 6) == 0);
		}
	}

	/* an IP-literal connection to the resolved address, and the host resolved to it */
	check_addr_invariants(NULL, port, &resolved);
	if (kind == HOST_NAME)
		check_addr_invariants(canon, port, &resolved);
	else if (kind == HOST_IPV4 || kind == HOST_IPV6) {
		struct addr a;

		PADDOCK_ASSERT(addr_from_string(canon, &a) >= 0);
		check_addr_invariants(NULL, port, &a);
		check_addr_invariants(canon, port, &a);
	}
	free(raw);
	free(canon);
	return 0;
}
