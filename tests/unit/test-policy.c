/* SPDX-License-Identifier: MIT */
/*
 * test-policy.c - host canonicalization and the network policy (THREATS.md category 3, the
 * name and address cases)
 */
#include <string.h>

#include "common/macro.h"
#include "common/strv.h"
#include "proxy/policy.h"
#include "store/config.h"
#include "tap.h"

/* --- host_canonicalize ---------------------------------------------------------------- */

#define BAD_HOST (-1)

static const struct {
	const char *in;
	size_t len; /* 0: strlen */
	int kind;   /* enum host_kind, or BAD_HOST */
	const char *out;
} canon_cases[] = {
	/* case and the root dot */
	{ "github.com", 0, HOST_NAME, "github.com" },
	{ "GitHub.COM", 0, HOST_NAME, "github.com" },
	{ "github.com.", 0, HOST_NAME, "github.com" },
	{ "GITHUB.COM.", 0, HOST_NAME, "github.com" },
	{ "github.com..", 0, BAD_HOST, NULL },
	{ ".github.com", 0, BAD_HOST, NULL },
	{ "github..com", 0, BAD_HOST, NULL },
	{ ".", 0, BAD_HOST, NULL },
	{ "", 0, BAD_HOST, NULL },
	{ "localhost", 0, HOST_NAME, "localhost" },
	{ "a-b.c0m", 0, HOST_NAME, "a-b.c0m" },
	{ "a.0x1g", 0, HOST_NAME, "a.0x1g" }, /* not hex: a name */
	{ "1e100.net", 0, HOST_NAME, "1e100.net" },
	{ "123.example", 0, HOST_NAME, "123.example" },
	/* NUL and odd bytes are refused, never stripped */
	{ "github.com\0.evil.com", 20, BAD_HOST, NULL },
	{ "github.com\0", 11, BAD_HOST, NULL },
	{ "\0github.com", 11, BAD_HOST, NULL },
	{ "github.com@evil.com", 0, BAD_HOST, NULL },
	{ "user:pass@github.com", 0, BAD_HOST, NULL },
	{ "github.com:443", 0, BAD_HOST, NULL },
	{ "github.com/evil", 0, BAD_HOST, NULL },
	{ "github.com\\evil.com", 0, BAD_HOST, NULL },
	{ "github.com%2f", 0, BAD_HOST, NULL },
	{ "github.com%00", 0, BAD_HOST, NULL },
	{ "git hub.com", 0, BAD_HOST, NULL },
	{ " github.com", 0, BAD_HOST, NULL },
	{ "github.com\t", 0, BAD_HOST, NULL },
	{ "github.com\r\n", 0, BAD_HOST, NULL },
	{ "git\x7fhub.com", 0, BAD_HOST, NULL },
	{ "git\x01hub.com", 0, BAD_HOST, NULL },
	{ "a_b.com", 0, BAD_HOST, NULL },
	{ "*.github.com", 0, BAD_HOST, NULL },
	{ "-a.com", 0, BAD_HOST, NULL },
	{ "a-.com", 0, BAD_HOST, NULL },
	{ "a.-b.com", 0, BAD_HOST, NULL },
	{ "http://github.com", 0, BAD_HOST, NULL },
	{ "github.com#x", 0, BAD_HOST, NULL },
	{ "github.com?x", 0, BAD_HOST, NULL },
	{ "\"github.com\"", 0, BAD_HOST, NULL },
	/* IDN: punycode out; homographs stay different names */
	{ "bücher.example", 0, HOST_NAME, "xn--bcher-kva.example" },
	{ "BÜCHER.example.", 0, HOST_NAME, "xn--bcher-kva.example" },
	{ "xn--bcher-kva.example", 0, HOST_NAME, "xn--bcher-kva.example" },
	{ "XN--BCHER-KVA.EXAMPLE", 0, HOST_NAME, "xn--bcher-kva.example" },
	{ "g\xd1\x96thub.com", 0, HOST_NAME, "xn--gthub-n2e.com" }, /* Cyrillic i */
	{ "\xd0\xb0\xd1\x80\xd1\x80\xd3\x8f\xd0\xb5.com", 0, HOST_NAME, "xn--80ak6aa92e.com" },
	{ "\xef\xbd\x87\xef\xbd\x89\xef\xbd\x94\xef\xbd\x88\xef\xbd\x95\xef\xbd\x82.com", 0,
	  HOST_NAME, "github.com" }, /* fullwidth: same name */
	{ "github\xe3\x80\x82"
	  "com",
	  0, HOST_NAME, "github.com" }, /* ideographic full stop */
	{ "github.com\xe3\x80\x82", 0, HOST_NAME, "github.com" },
	{ "\xc3\x9f.de", 0, HOST_NAME, "xn--zca.de" }, /* sharp s, non-transitional */
	{ "xn--zz.com", 0, BAD_HOST, NULL },           /* bad punycode */
	{ "xn--a.com", 0, BAD_HOST, NULL },
	{ "xn--.com", 0, BAD_HOST, NULL },
	{ "a\xef\xbc\x8f"
	  "b.com",
	  0, BAD_HOST, NULL }, /* fullwidth solidus -> '/' */
	{ "a\xef\xbc\xa0"
	  "b.c\xc3\xb6m",
	  0, BAD_HOST, NULL }, /* fullwidth '@' */
	{ "a\xef\xbc\x9a"
	  "1.com",
	  0, BAD_HOST, NULL }, /* fullwidth ':' */
	{ "ex_ample.c\xc3\xb6m", 0, BAD_HOST, NULL },
	{ "a@b.c\xc3\xb6m", 0, BAD_HOST, NULL },
	{ "\xf0\x9f\x98\x80.com", 0, BAD_HOST, NULL }, /* emoji: disallowed */
	{ "a\xff.com", 0, BAD_HOST, NULL },            /* invalid UTF-8 */
	{ "a\xc0\xae.com", 0, BAD_HOST, NULL },        /* overlong '.' */
	{ "a\xe0\x80\xae.com", 0, BAD_HOST, NULL },    /* overlong '.' */
	{ "\xed\xa0\x80.com", 0, BAD_HOST, NULL },     /* surrogate */
	{ "a.c\xc3", 0, BAD_HOST, NULL },              /* truncated */
	{ "\xf4\x90\x80\x80.com", 0, BAD_HOST, NULL }, /* above U+10FFFF */
	{ "ab--c.c\xc3\xb6m", 0, BAD_HOST, NULL },     /* "--" in positions 3-4 */
	/* IPv4 in every spelling inet_aton() takes is an address, never a name */
	{ "127.0.0.1", 0, HOST_IPV4, "127.0.0.1" },
	{ "127.0.0.1.", 0, HOST_IPV4, "127.0.0.1" },
	{ "2130706433", 0, HOST_IPV4, "127.0.0.1" },
	{ "0177.0.0.1", 0, HOST_IPV4, "127.0.0.1" },
	{ "0x7f.1", 0, HOST_IPV4, "127.0.0.1" },
	{ "0X7F.0X0.0X0.0X1", 0, HOST_IPV4, "127.0.0.1" },
	{ "0x7f000001", 0, HOST_IPV4, "127.0.0.1" },
	{ "017700000001", 0, HOST_IPV4, "127.0.0.1" },
	{ "127.1", 0, HOST_IPV4, "127.0.0.1" },
	{ "127.0.1", 0, HOST_IPV4, "127.0.0.1" },
	{ "0", 0, HOST_IPV4, "0.0.0.0" },
	{ "169.254.43518", 0, HOST_IPV4, "169.254.169.254" },
	{ "0xa9.0xfe.0xa9.0xfe", 0, HOST_IPV4, "169.254.169.254" },
	{ "2852039166", 0, HOST_IPV4, "169.254.169.254" },
	{ "10.1", 0, HOST_IPV4, "10.0.0.1" },
	{ "\xef\xbc\x91\xef\xbc\x92\xef\xbc\x97.0.0.1", 0, HOST_IPV4, "127.0.0.1" }, /* fullwidth */
	{ "1.2.3.4.5", 0, BAD_HOST, NULL },
	{ "256.1.1.1", 0, BAD_HOST, NULL },
	{ "1.2.3.256", 0, BAD_HOST, NULL },
	{ "08.1.1.1", 0, BAD_HOST, NULL },
	{ "4294967296", 0, BAD_HOST, NULL },
	{ "foo.123", 0, BAD_HOST, NULL },
	{ "github.com.0x10", 0, BAD_HOST, NULL },
	{ "0x", 0, BAD_HOST, NULL },
	{ "1..2", 0, BAD_HOST, NULL },
	/* IPv6 only in brackets, no zone */
	{ "[::1]", 0, HOST_IPV6, "::1" },
	{ "[0:0::1]", 0, HOST_IPV6, "::1" },
	{ "[::FFFF:127.0.0.1]", 0, HOST_IPV6, "::ffff:127.0.0.1" },
	{ "[FD00:EC2::254]", 0, HOST_IPV6, "fd00:ec2::254" },
	{ "::1", 0, BAD_HOST, NULL },
	{ "[::1", 0, BAD_HOST, NULL },
	{ "[::1]:443", 0, BAD_HOST, NULL },
	{ "[]", 0, BAD_HOST, NULL },
	{ "[1.2.3.4]", 0, BAD_HOST, NULL },
	{ "[fe80::1%eth0]", 0, BAD_HOST, NULL },
	{ "[fe80::1%25eth0]", 0, BAD_HOST, NULL },
	{ "[::1\0]", 6, BAD_HOST, NULL },
	{ "[github.com]", 0, BAD_HOST, NULL },
};

TEST(canonicalize_table)
{
	for (size_t i = 0; i < ELEMENTSOF(canon_cases); i++) {
		const char *in = canon_cases[i].in;
		size_t len = canon_cases[i].len ? canon_cases[i].len : strlen(in);
		_cleanup_free_ char *out = NULL, *again = NULL;
		int r = host_canonicalize(in, len, &out);

		if (canon_cases[i].kind == BAD_HOST) {
			if (r >= 0)
				TAP_FAIL("case %zu '%.*s' accepted as '%s'", i, (int)len, in, out);
			ASSERT_EQ(r, -EINVAL);
			ASSERT_NULL(out);
			continue;
		}
		if (r != canon_cases[i].kind)
			TAP_FAIL("case %zu '%.*s': kind %d, expected %d", i, (int)len, in, r,
				 canon_cases[i].kind);
		if (!streq(out, canon_cases[i].out))
			TAP_FAIL("case %zu '%.*s' -> '%s', expected '%s'", i, (int)len, in, out,
				 canon_cases[i].out);
		/* canonical is a fixed point (IPv6 comes back without brackets) */
		if (r == HOST_NAME || r == HOST_IPV4) {
			ASSERT_EQ(host_canonicalize(out, strlen(out), &again), r);
			ASSERT_STREQ(again, out);
		}
	}
}

TEST(canonicalize_lengths)
{
	char name[600];
	_cleanup_free_ char *out = NULL;

	/* labels of 63 bytes pass, 64 do not */
	memset(name, 'a', 63);
	strcpy(name + 63, ".com");
	ASSERT_EQ(host_canonicalize(name, strlen(name), &out), HOST_NAME);
	free(out);
	out = NULL;
	memset(name, 'a', 64);
	strcpy(name + 64, ".com");
	ASSERT_ERR(host_canonicalize(name, strlen(name), &out), EINVAL);

	/* names of 253 bytes pass (also with the root dot), 254 do not */
	for (int i = 0; i < 253; i++)
		name[i] = (i % 2) ? '.' : 'a';
	name[253] = '\0';
	ASSERT_EQ(host_canonicalize(name, 253, &out), HOST_NAME);
	free(out);
	out = NULL;
	name[253] = '.';
	ASSERT_EQ(host_canonicalize(name, 254, &out), HOST_NAME);
	ASSERT_EQ(strlen(out), 253);
	free(out);
	out = NULL;
	name[253] = 'a';
	name[254] = 'a';
	name[255] = '\0';
	ASSERT_ERR(host_canonicalize(name, 255, &out), EINVAL);
	memset(name, 'a', sizeof(name));
	ASSERT_ERR(host_canonicalize(name, sizeof(name), &out), EINVAL);
	ASSERT_ERR(host_canonicalize(NULL, 3, &out), EINVAL);
	ASSERT_NULL(out);
}

/* --- the policy ------------------------------------------------------------------------ */

struct policy_spec {
	const char *net;
	const char *allow[8];
	const char *deny[8];
	char *add_hosts[8];
	const char *project; /* a .paddock.json applied last */
	const char *self[4];
};

static struct policy *policy_make(const struct policy_spec *s)
{
	_cleanup_(config_freep) struct paddock_config *c = config_new();
	_cleanup_(addr_set_freep) struct addr_set *self = addr_set_new();
	struct policy *p = NULL;
	char *err = NULL;

	if (s->net && config_set_option(c, "--net", s->net, &err) < 0)
		TAP_FAIL("--net %s: %s", s->net, err);
	for (size_t i = 0; s->allow[i]; i++)
		if (config_set_option(c, "--allow", s->allow[i], &err) < 0)
			TAP_FAIL("--allow %s: %s", s->allow[i], err);
	for (size_t i = 0; s->deny[i]; i++)
		if (config_set_option(c, "--deny", s->deny[i], &err) < 0)
			TAP_FAIL("--deny %s: %s", s->deny[i], err);
	if (s->project && config_load_buffer(c, "/w/.paddock.json", s->project, strlen(s->project),
					     true, &err) < 0)
		TAP_FAIL("project: %s", err);
	for (size_t i = 0; s->self[i]; i++) {
		struct addr a;

		ASSERT_OK(addr_from_string(s->self[i], &a));
		addr_set_add(self, &a);
	}
	ASSERT_OK(policy_new(c, s->add_hosts, self, &p));
	return p;
}

enum { NAME, ADDR };

struct check {
	int what;
	const char *host; /* canonical; NULL for an IP-literal connection */
	uint16_t port;
	const char *addr; /* for ADDR */
	enum policy_decision want;
	const char *rule;
};

#define ALLOW POLICY_ALLOW
#define DENY  POLICY_DENY

static void run_checks(const struct policy *p, const struct check *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *rule = NULL;
		enum policy_decision d;

		if (c[i].what == NAME)
			d = policy_check_name(p, c[i].host, c[i].port, &rule);
		else {
			struct addr a;

			if (addr_from_string(c[i].addr, &a) < 0)
				TAP_FAIL("check %zu: bad address %s", i, c[i].addr);
			d = policy_check_addr(p, c[i].host, c[i].port, &a, &rule);
		}
		if (d != c[i].want || !rule || !streq(rule, c[i].rule))
			TAP_FAIL("check %zu: %s %s port %u %s: %s by '%s', expected %s by '%s'", i,
				 c[i].what == NAME ? "name" : "addr", strempty(c[i].host),
				 (unsigned)c[i].port, strempty(c[i].addr),
				 policy_decision_to_string(d), strempty(rule),
				 policy_decision_to_string(c[i].want), c[i].rule);
	}
}

#define UNPAREN(...) __VA_ARGS__
#define RUN(spec, ...)                                                                             \
	do {                                                                                       \
		static const struct policy_spec _s = UNPAREN spec;                                 \
		static const struct check _c[] = { __VA_ARGS__ };                                  \
		_cleanup_(policy_freep) struct policy *_p = policy_make(&_s);                      \
		run_checks(_p, _c, ELEMENTSOF(_c));                                                \
	} while (0)

/* The address forms every private, loopback and metadata address can take. */
static const char *const local_addrs[] = {
	"127.0.0.1",
	"127.1.2.3",
	"0.0.0.0",
	"10.0.0.1",
	"172.16.5.4",
	"192.168.1.1",
	"100.64.0.1",
	"169.254.1.1",
	"169.254.169.254",
	"169.254.170.2",
	"100.100.100.200",
	"168.63.129.16",
	"198.18.0.5",
	"224.0.0.251",
	"255.255.255.255",
	"::1",
	"::",
	"fe80::1",
	"fc00::1",
	"fd00:ec2::254",
	"ff02::fb",
	"2001:db8::1",
	"::ffff:127.0.0.1",
	"::ffff:169.254.169.254",
	"::ffff:10.0.0.1",
	"::ffff:0:127.0.0.1",
	"::127.0.0.1",
	"::169.254.169.254",
	"64:ff9b::127.0.0.1",
	"64:ff9b::169.254.169.254",
	"64:ff9b::192.168.0.1",
	"64:ff9b:1::a9fe:a9fe",
	"64:ff9b:1:a9fe:a9:fe00::",
	"2002:7f00:1::1",
	"2002:a9fe:a9fe::",
	"2002:c0a8:101::1",
	"2001:0:4136:e378:8000:63bf:80ff:fffe", /* Teredo client 127.0.0.1 */
	"2001:0:4136:e378:8000:63bf:5601:5601", /* Teredo client 169.254.169.254 */
	"2001:0:a9fe:a9fe:8000:63bf:f7f7:f7f7", /* Teredo server 169.254.169.254 */
	"2001:0:4136:e378:8000:63bf:f5ff:fefe", /* Teredo client 10.0.1.1 */
	"203.0.114.7",                          /* the host itself (see below) */
	"::ffff:203.0.114.7",
};

TEST(every_local_address_is_denied)
{
	static const struct policy_spec specs[] = {
		{ .net = "public", .self = { "203.0.114.7" } },
		{ .net = "allowlist",
		  .allow = { "github.com", "*.github.com" },
		  .self = { "203.0.114.7" } },
		/* rules for names and project rules for these addresses change nothing */
		{ .net = "public",
		  .allow = { "github.com" },
		  .project = "{\"allow\": [\"github.com\", \"127.0.0.1\", \"10.0.0.1\", "
			     "\"169.254.169.254\", \"[::1]\", \"[fd00:ec2::254]\"]}",
		  .self = { "203.0.114.7" } },
	};

	for (size_t s = 0; s < ELEMENTSOF(specs); s++) {
		_cleanup_(policy_freep) struct policy *p = policy_make(&specs[s]);

		for (size_t i = 0; i < ELEMENTSOF(local_addrs); i++) {
			const char *rule = NULL;
			struct addr a;

			ASSERT_OK(addr_from_string(local_addrs[i], &a));
			/* a public-looking name that resolves there (DNS rebinding) */
			if (policy_check_addr(p, "github.com", 443, &a, &rule) != POLICY_DENY)
				TAP_FAIL("spec %zu: github.com -> %s allowed by %s", s,
					 local_addrs[i], rule);
			ASSERT_TRUE(strncmp(rule, "address:", 8) == 0);
			/* the same address as an IP literal */
			if (policy_check_addr(p, NULL, 80, &a, &rule) != POLICY_DENY)
				TAP_FAIL("spec %zu: %s allowed by %s", s, local_addrs[i], rule);
		}
	}
}

TEST(public_mode)
{
	RUN(({ .net = "public" }), { NAME, "github.com", 443, NULL, ALLOW, "default:public" },
	    { NAME, "github.com", 0, NULL, ALLOW, "default:public" },
	    { ADDR, "github.com", 443, "140.82.112.3", ALLOW, "default:public" },
	    { ADDR, "github.com", 22, "2606:50c0:8000::153", ALLOW, "default:public" },
	    { ADDR, NULL, 443, "8.8.8.8", ALLOW, "default:public" },
	    { ADDR, NULL, 443, "::ffff:8.8.8.8", ALLOW, "default:public" },
	    { ADDR, NULL, 443, "64:ff9b::8.8.8.8", ALLOW, "default:public" },
	    { ADDR, "github.com", 443, "127.0.0.1", DENY, "address:loopback" },
	    { ADDR, "github.com", 443, "10.1.2.3", DENY, "address:private" },
	    { ADDR, "github.com", 443, "169.254.169.254", DENY, "address:metadata" },
	    { ADDR, "github.com", 443, "::ffff:169.254.169.254", DENY, "address:metadata" },
	    { ADDR, "github.com", 443, "198.18.0.9", DENY, "address:reserved" },
	    { ADDR, "github.com", 443, "0.0.0.0", DENY, "address:unspecified" },
	    /* IP literals, as the proxy hands them over after canonicalizing */
	    { NAME, "127.0.0.1", 80, NULL, DENY, "address:loopback" },
	    { NAME, "169.254.169.254", 80, NULL, DENY, "address:metadata" },
	    { NAME, "::ffff:127.0.0.1", 80, NULL, DENY, "address:loopback" },
	    { NAME, "8.8.8.8", 53, NULL, ALLOW, "default:public" },
	    { ADDR, "127.0.0.1", 80, "127.0.0.1", DENY, "address:loopback" },
	    { ADDR, "1.2.3.4", 80, "5.6.7.8", DENY, "host:address-mismatch" },
	    /* anything not canonical is refused: the caller must canonicalize */
	    { NAME, "127.1", 80, NULL, DENY, "host:invalid" },
	    { NAME, "2130706433", 80, NULL, DENY, "host:invalid" },
	    { NAME, "GitHub.com", 443, NULL, DENY, "host:invalid" },
	    { NAME, "github.com.", 443, NULL, DENY, "host:invalid" },
	    { NAME, "github.com@evil.com", 443, NULL, DENY, "host:invalid" },
	    { NAME, "bücher.example", 443, NULL, DENY, "host:invalid" },
	    { NAME, "[::1]", 443, NULL, DENY, "host:invalid" },
	    { NAME, "", 443, NULL, DENY, "host:invalid" },
	    { ADDR, "GitHub.com", 443, "8.8.8.8", DENY, "host:invalid" },
	    /* built-in names */
	    { NAME, "localhost", 80, NULL, DENY, "builtin:localhost" },
	    { NAME, "app.localhost", 80, NULL, DENY, "builtin:*.localhost" },
	    { NAME, "metadata.google.internal", 80, NULL, DENY,
	      "builtin:metadata.google.internal" },
	    { NAME, "metadata", 80, NULL, DENY, "builtin:metadata" },
	    { NAME, "notlocalhost", 80, NULL, ALLOW, "default:public" },
	    { ADDR, "localhost", 80, "8.8.8.8", DENY, "builtin:localhost" },
	    /* ports */
	    { ADDR, "github.com", 0, "140.82.112.3", DENY, "port:invalid" });
}

TEST(deny_rules)
{
	RUN(({ .net = "public",
	       .allow = { "evil.com", "10.0.0.5" },
	       .deny = { "*.evil.com", "evil.com:443", "6.6.6.6", "[2001:4860::8888]:53",
			 "10.0.0.5:22" } }),
	    { NAME, "a.evil.com", 443, NULL, DENY, "deny:*.evil.com" },
	    { NAME, "a.b.evil.com", 80, NULL, DENY, "deny:*.evil.com" },
	    { NAME, "a.evil.com", 0, NULL, DENY, "deny:*.evil.com" },
	    { NAME, "evil.com", 443, NULL, DENY, "deny:evil.com:443" },
	    /* deny beats allow; a deny with a port does not stop DNS */
	    { NAME, "evil.com", 80, NULL, ALLOW, "allow:evil.com" },
	    { NAME, "evil.com", 0, NULL, ALLOW, "allow:evil.com" },
	    /* prefix and suffix lookalikes */
	    { NAME, "badevil.com", 443, NULL, ALLOW, "default:public" },
	    { NAME, "evil.com.example.org", 443, NULL, ALLOW, "default:public" },
	    { NAME, "evil.co", 443, NULL, ALLOW, "default:public" },
	    /* addresses, in every form the proxy may dial */
	    { ADDR, "ok.example", 443, "6.6.6.6", DENY, "deny:6.6.6.6" },
	    { ADDR, NULL, 443, "6.6.6.6", DENY, "deny:6.6.6.6" },
	    { ADDR, NULL, 443, "::ffff:6.6.6.6", DENY, "deny:6.6.6.6" },
	    { NAME, "6.6.6.6", 0, NULL, DENY, "deny:6.6.6.6" },
	    { ADDR, NULL, 53, "2001:4860::8888", DENY, "deny:[2001:4860::8888]:53" },
	    { ADDR, NULL, 443, "2001:4860::8888", ALLOW, "default:public" },
	    { ADDR, NULL, 8080, "10.0.0.5", ALLOW, "allow:10.0.0.5" },
	    { ADDR, NULL, 22, "10.0.0.5", DENY, "deny:10.0.0.5:22" },
	    { ADDR, "evil.com", 80, "6.6.6.6", DENY, "deny:6.6.6.6" });
}

TEST(allowlist_mode)
{
	RUN(({ .net = "allowlist",
	       .allow = { "github.com:443", "*.githubusercontent.com", "10.0.0.5:8080", "[fd00::5]",
			  "xn--bcher-kva.example", "8.8.8.8:53" },
	       .deny = { "raw.githubusercontent.com" } }),
	    { NAME, "github.com", 443, NULL, ALLOW, "allow:github.com:443" },
	    { NAME, "github.com", 0, NULL, ALLOW, "allow:github.com:443" },
	    { NAME, "github.com", 22, NULL, DENY, "default:allowlist" },
	    { NAME, "api.github.com", 443, NULL, DENY, "default:allowlist" },
	    { NAME, "github.com.evil.com", 443, NULL, DENY, "default:allowlist" },
	    { NAME, "evilgithub.com", 443, NULL, DENY, "default:allowlist" },
	    { NAME, "github.co", 443, NULL, DENY, "default:allowlist" },
	    { NAME, "xn--gthub-n2e.com", 443, NULL, DENY, "default:allowlist" }, /* homograph */
	    { NAME, "githubusercontent.com", 443, NULL, DENY, "default:allowlist" },
	    { NAME, "badgithubusercontent.com", 443, NULL, DENY, "default:allowlist" },
	    { NAME, "x.githubusercontent.com", 443, NULL, ALLOW, "allow:*.githubusercontent.com" },
	    { NAME, "a.b.githubusercontent.com", 1, NULL, ALLOW, "allow:*.githubusercontent.com" },
	    { NAME, "raw.githubusercontent.com", 443, NULL, DENY,
	      "deny:raw.githubusercontent.com" },
	    { NAME, "xn--bcher-kva.example", 443, NULL, ALLOW, "allow:xn--bcher-kva.example" },
	    { ADDR, "github.com", 443, "140.82.112.3", ALLOW, "allow:github.com:443" },
	    /* a listed name resolving to a private address: the IP rule's port differs */
	    { ADDR, "github.com", 443, "10.0.0.5", DENY, "address:private" },
	    { ADDR, "x.githubusercontent.com", 8080, "10.0.0.5", ALLOW, "allow:10.0.0.5:8080" },
	    /* an IP literal needs an IP rule */
	    { ADDR, NULL, 8080, "10.0.0.5", ALLOW, "allow:10.0.0.5:8080" },
	    { ADDR, NULL, 8080, "::ffff:10.0.0.5", ALLOW, "allow:10.0.0.5:8080" },
	    { ADDR, NULL, 80, "10.0.0.5", DENY, "default:allowlist" },
	    { ADDR, NULL, 443, "140.82.112.3", DENY, "default:allowlist" },
	    { ADDR, NULL, 53, "8.8.8.8", ALLOW, "allow:8.8.8.8:53" },
	    { ADDR, NULL, 53, "64:ff9b::8.8.8.8", DENY, "default:allowlist" },
	    { ADDR, NULL, 22, "fd00::5", ALLOW, "allow:[fd00::5]" },
	    { NAME, "10.0.0.5", 8080, NULL, ALLOW, "allow:10.0.0.5:8080" },
	    { NAME, "10.0.0.5", 0, NULL, ALLOW, "allow:10.0.0.5:8080" },
	    { NAME, "127.0.0.1", 8080, NULL, DENY, "default:allowlist" },
	    /* an unlisted name is denied before its addresses matter */
	    { ADDR, "example.org", 8080, "10.0.0.5", DENY, "default:allowlist" });

	/* the punycode rule matches the UTF-8 name once canonicalized */
	{
		_cleanup_free_ char *name = NULL;
		static const struct policy_spec s = { .net = "allowlist",
						      .allow = { "xn--bcher-kva.example" } };
		_cleanup_(policy_freep) struct policy *p = policy_make(&s);
		const char *rule = NULL;

		ASSERT_EQ(host_canonicalize("B\xc3\x9c"
					    "cher.example",
					    15, &name),
			  HOST_NAME);
		ASSERT_EQ(policy_check_name(p, name, 443, &rule), POLICY_ALLOW);
		ASSERT_STREQ(rule, "allow:xn--bcher-kva.example");
	}
}

TEST(mode_none_and_empty)
{
	static const struct check all_denied_none[] = {
		{ NAME, "github.com", 443, NULL, DENY, "mode:none" },
		{ NAME, "github.com", 0, NULL, DENY, "mode:none" },
		{ NAME, "8.8.8.8", 53, NULL, DENY, "mode:none" },
		{ ADDR, "github.com", 443, "140.82.112.3", DENY, "mode:none" },
		{ ADDR, NULL, 8080, "10.0.0.5", DENY, "mode:none" },
		{ ADDR, "db.test", 5432, "10.0.0.7", DENY, "mode:none" },
	};
	static const struct check all_denied_empty[] = {
		{ NAME, "github.com", 443, NULL, DENY, "default:allowlist" },
		{ NAME, "github.com", 0, NULL, DENY, "default:allowlist" },
		{ NAME, "8.8.8.8", 53, NULL, DENY, "default:allowlist" },
		{ ADDR, "github.com", 443, "140.82.112.3", DENY, "default:allowlist" },
		{ ADDR, NULL, 443, "140.82.112.3", DENY, "default:allowlist" },
		{ ADDR, NULL, 8080, "10.0.0.5", DENY, "default:allowlist" },
	};
	static const struct policy_spec none = { .net = "none",
						 .allow = { "github.com", "10.0.0.5", "8.8.8.8" },
						 .add_hosts = { "db.test:10.0.0.7" } };
	static const struct policy_spec empty = { .net = "allowlist" };
	/* a project that lists nothing narrows a public policy to nothing */
	static const struct policy_spec project_empty = { .net = "public",
							  .project = "{\"allow\": []}" };
	_cleanup_(policy_freep) struct policy *p1 = policy_make(&none), *p2 = policy_make(&empty),
					      *p3 = policy_make(&project_empty);

	run_checks(p1, all_denied_none, ELEMENTSOF(all_denied_none));
	run_checks(p2, all_denied_empty, ELEMENTSOF(all_denied_empty));
	run_checks(p3, all_denied_empty, ELEMENTSOF(all_denied_empty));
	ASSERT_EQ(policy_mode(p1), CONFIG_NET_NONE);
	ASSERT_EQ(policy_mode(p3), CONFIG_NET_ALLOWLIST);
}

TEST(invalid_policy)
{
	_cleanup_(config_freep) struct paddock_config *c = config_new();
	struct policy *p = (struct policy *)0x1;
	struct host_rule bad = { .kind = HOST_NAME, .host = (char *)"Not Canonical" };
	struct host_rule bad_ip = { .kind = HOST_IPV4, .host = (char *)"127.1" };
	struct host_rule bad_kind = { .kind = 42, .host = (char *)"a.com" };
	char *bad_hosts[] = { (char *)"db.test:127.1", NULL };
	const char *rule = NULL;
	struct addr a;

	ASSERT_OK(addr_from_string("8.8.8.8", &a));
	ASSERT_EQ(policy_check_name(NULL, "github.com", 443, &rule), POLICY_DENY);
	ASSERT_STREQ(rule, "policy:invalid");
	ASSERT_EQ(policy_check_addr(NULL, "github.com", 443, &a, &rule), POLICY_DENY);
	ASSERT_STREQ(rule, "policy:invalid");
	ASSERT_EQ(policy_mode(NULL), _CONFIG_NET_INVALID);

	ASSERT_ERR(policy_new(NULL, NULL, NULL, &p), EINVAL);
	c->net = (enum config_net)7;
	ASSERT_ERR(policy_new(c, NULL, NULL, &p), EINVAL);
	c->net = _CONFIG_NET_INVALID;
	ASSERT_ERR(policy_new(c, NULL, NULL, &p), EINVAL);
	c->net = CONFIG_NET_PUBLIC;
	ASSERT_ERR(policy_new(c, bad_hosts, NULL, &p), EINVAL);
	/* rules that did not come through the parser are checked again */
	c->allow = &bad;
	c->n_allow = 1;
	ASSERT_ERR(policy_new(c, NULL, NULL, &p), EINVAL);
	c->allow = &bad_ip;
	ASSERT_ERR(policy_new(c, NULL, NULL, &p), EINVAL);
	c->allow = &bad_kind;
	ASSERT_ERR(policy_new(c, NULL, NULL, &p), EINVAL);
	c->allow = NULL;
	ASSERT_ERR(policy_new(c, NULL, NULL, &p), EINVAL);
	c->n_allow = 0;
	ASSERT_TRUE(p == (struct policy *)0x1); /* untouched on failure */

	/* the checks refuse nonsense arguments */
	ASSERT_OK(policy_new(c, NULL, NULL, &p));
	ASSERT_EQ(policy_check_name(p, NULL, 443, &rule), POLICY_DENY);
	ASSERT_STREQ(rule, "host:invalid");
	ASSERT_EQ(policy_check_addr(p, "github.com", 443, NULL, &rule), POLICY_DENY);
	ASSERT_STREQ(rule, "address:invalid");
	a.family = AF_UNIX;
	ASSERT_EQ(policy_check_addr(p, "github.com", 443, &a, &rule), POLICY_DENY);
	ASSERT_STREQ(rule, "address:invalid");
	ASSERT_EQ(policy_check_name(p, "github.com", 443, NULL), POLICY_ALLOW);
	p = policy_free(p);
	ASSERT_NULL(p);
}

TEST(add_host)
{
	RUN(({ .net = "public",
	       .deny = { "blocked.test" },
	       .add_hosts = { "db.test:10.0.0.5", "DB.test.:[fd00::7]", "svc.test:127.0.0.1",
			      "localhost:127.0.0.1", "blocked.test:10.0.0.9",
			      "meta.test:169.254.169.254" } }),
	    { ADDR, "db.test", 5432, "10.0.0.5", ALLOW, "add-host:db.test=10.0.0.5" },
	    { ADDR, "db.test", 5432, "::ffff:10.0.0.5", ALLOW, "add-host:db.test=10.0.0.5" },
	    { ADDR, "db.test", 1, "fd00::7", ALLOW, "add-host:db.test=fd00::7" },
	    { ADDR, "db.test", 5432, "10.0.0.6", DENY, "address:private" },
	    { ADDR, "db.test", 5432, "8.8.8.8", ALLOW, "default:public" },
	    { ADDR, "other.test", 5432, "10.0.0.5", DENY, "address:private" },
	    { ADDR, "sub.db.test", 5432, "10.0.0.5", DENY, "address:private" },
	    { ADDR, NULL, 5432, "10.0.0.5", DENY, "address:private" },
	    { ADDR, "svc.test", 8080, "127.0.0.1", ALLOW, "add-host:svc.test=127.0.0.1" },
	    { ADDR, "svc.test", 8080, "127.0.0.2", DENY, "address:loopback" },
	    { ADDR, "localhost", 8080, "127.0.0.1", ALLOW, "add-host:localhost=127.0.0.1" },
	    { NAME, "localhost", 8080, NULL, ALLOW, "add-host:localhost=127.0.0.1" },
	    { ADDR, "meta.test", 80, "169.254.169.254", ALLOW,
	      "add-host:meta.test=169.254.169.254" },
	    /* a deny rule still wins */
	    { NAME, "blocked.test", 80, NULL, DENY, "deny:blocked.test" },
	    { ADDR, "blocked.test", 80, "10.0.0.9", DENY, "deny:blocked.test" });

	RUN(({ .net = "allowlist", .add_hosts = { "db.test:10.0.0.5" } }),
	    { NAME, "db.test", 5432, NULL, ALLOW, "add-host:db.test=10.0.0.5" },
	    { NAME, "db.test", 0, NULL, ALLOW, "add-host:db.test=10.0.0.5" },
	    { ADDR, "db.test", 5432, "10.0.0.5", ALLOW, "add-host:db.test=10.0.0.5" },
	    { ADDR, "db.test", 5432, "1.2.3.4", DENY, "default:allowlist" },
	    { ADDR, NULL, 5432, "10.0.0.5", DENY, "default:allowlist" },
	    { NAME, "localhost", 80, NULL, DENY, "builtin:localhost" });

	{
		static const struct policy_spec s = {
			.net = "public",
			.add_hosts = { "db.test:10.0.0.5", "db.test:10.0.0.6", "x.test:::1" }
		};
		_cleanup_(policy_freep) struct policy *p = policy_make(&s);
		struct addr out[4];
		char buf[ADDR_STRLEN];

		ASSERT_EQ(policy_add_host_lookup(p, "db.test", out, 4), 2);
		ASSERT_STREQ(addr_to_string(&out[0], buf), "10.0.0.5");
		ASSERT_STREQ(addr_to_string(&out[1], buf), "10.0.0.6");
		ASSERT_EQ(policy_add_host_lookup(p, "db.test", out, 1), 2);
		ASSERT_EQ(policy_add_host_lookup(p, "x.test", out, 4), 1);
		ASSERT_STREQ(addr_to_string(&out[0], buf), "::1");
		ASSERT_EQ(policy_add_host_lookup(p, "y.test", out, 4), 0);
		ASSERT_EQ(policy_add_host_lookup(NULL, "db.test", out, 4), 0);
	}
}

TEST(add_host_parse)
{
	static const char *const bad[] = {
		"db.test",
		"db.test:",
		":10.0.0.5",
		"db.test:127.1",
		"db.test:0x7f000001",
		"db.test:[::1",
		"db.test:[10.0.0.5]x",
		"127.0.0.1:10.0.0.5",
		"[::1]:10.0.0.5",
		"db_test:10.0.0.5",
		"db test:10.0.0.5",
		"*.db.test:10.0.0.5",
		"db.test:fe80::1%lo",
		"db.test:10.0.0.5:80",
		"a@b.test:10.0.0.5",
	};
	_cleanup_free_ char *name = NULL;
	struct addr a;
	const char *why = NULL;
	char buf[ADDR_STRLEN];

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		why = NULL;
		if (policy_add_host_parse(bad[i], &name, &a, &why) >= 0)
			TAP_FAIL("'%s' accepted", bad[i]);
		ASSERT_NOT_NULL(why);
		ASSERT_NULL(name);
	}
	ASSERT_OK(policy_add_host_parse("B\xc3\xbc"
					"cher.Example:[::ffff:10.0.0.5]",
					&name, &a, &why));
	ASSERT_STREQ(name, "xn--bcher-kva.example");
	ASSERT_STREQ(addr_to_string(&a, buf), "10.0.0.5");
}

TEST(project_only)
{
	/* user: public; project narrows to a list, which can never reach a local address */
	RUN(({ .net = "public",
	       .project = "{\"allow\": [\"pypi.org\", \"10.0.0.9\", \"169.254.169.254\", "
			  "\"metadata.google.internal\", \"[::1]:8080\"]}" }),
	    { NAME, "pypi.org", 443, NULL, ALLOW, "allow:pypi.org" },
	    { ADDR, "pypi.org", 443, "151.101.0.223", ALLOW, "allow:pypi.org" },
	    { ADDR, "pypi.org", 443, "10.0.0.9", DENY, "address:private" },
	    { ADDR, NULL, 443, "10.0.0.9", DENY, "address:private" },
	    { ADDR, NULL, 80, "169.254.169.254", DENY, "address:metadata" },
	    { ADDR, NULL, 8080, "::1", DENY, "address:loopback" },
	    { NAME, "metadata.google.internal", 80, NULL, DENY,
	      "builtin:metadata.google.internal" },
	    { NAME, "github.com", 443, NULL, DENY, "default:allowlist" });

	/* user: allowlist with their own private address; the project's intersection keeps it */
	RUN(({ .net = "allowlist",
	       .allow = { "10.0.0.9", "*.corp.example" },
	       .project = "{\"allow\": [\"10.0.0.9:5432\", \"git.corp.example:22\"]}" }),
	    { ADDR, NULL, 5432, "10.0.0.9", ALLOW, "allow:10.0.0.9:5432" },
	    { ADDR, NULL, 22, "10.0.0.9", DENY, "default:allowlist" },
	    { NAME, "git.corp.example", 22, NULL, ALLOW, "allow:git.corp.example:22" },
	    { NAME, "wiki.corp.example", 443, NULL, DENY, "default:allowlist" },
	    /* a name rule never opens a private address by itself */
	    { ADDR, "git.corp.example", 22, "10.0.0.10", DENY, "address:private" });

	/* user: public with an explicit private address; a project list intersects with it */
	RUN(({ .net = "public",
	       .allow = { "10.0.0.9" },
	       .project = "{\"allow\": [\"10.0.0.9:5432\"]}" }),
	    { ADDR, NULL, 5432, "10.0.0.9", ALLOW, "allow:10.0.0.9:5432" },
	    { ADDR, NULL, 5433, "10.0.0.9", DENY, "default:allowlist" });
}

TEST(explicit_address_rules)
{
	RUN(({ .net = "public",
	       .allow = { "10.0.0.5:8080", "127.0.0.1:3000", "[::1]:3001", "169.254.169.254",
			  "internal.example" },
	       .self = { "203.0.114.7" } }),
	    { ADDR, NULL, 8080, "10.0.0.5", ALLOW, "allow:10.0.0.5:8080" },
	    { ADDR, "internal.example", 8080, "10.0.0.5", ALLOW, "allow:10.0.0.5:8080" },
	    { ADDR, "internal.example", 8081, "10.0.0.5", DENY, "address:private" },
	    /* a name rule is not an address rule */
	    { ADDR, "internal.example", 443, "10.0.0.6", DENY, "address:private" },
	    { ADDR, NULL, 3000, "127.0.0.1", ALLOW, "allow:127.0.0.1:3000" },
	    { ADDR, NULL, 3000, "::ffff:127.0.0.1", ALLOW, "allow:127.0.0.1:3000" },
	    /* other embeddings go to a relay, not to the address: not covered by the rule */
	    { ADDR, NULL, 3000, "2002:7f00:1::", DENY, "address:loopback" },
	    { ADDR, NULL, 3000, "64:ff9b::7f00:1", DENY, "address:loopback" },
	    { ADDR, NULL, 3000, "::127.0.0.1", DENY, "address:loopback" },
	    { ADDR, NULL, 3000, "127.0.0.2", DENY, "address:loopback" },
	    { ADDR, NULL, 3001, "::1", ALLOW, "allow:[::1]:3001" },
	    { ADDR, NULL, 3000, "::1", DENY, "address:loopback" },
	    { ADDR, NULL, 80, "169.254.169.254", ALLOW, "allow:169.254.169.254" },
	    { ADDR, NULL, 80, "203.0.114.7", DENY, "address:host-self" },
	    { ADDR, NULL, 80, "::ffff:203.0.114.7", DENY, "address:host-self" },
	    { ADDR, "example.org", 80, "2002:cb00:7207::", DENY, "address:host-self" },
	    { ADDR, NULL, 80, "203.0.114.8", ALLOW, "default:public" });

	/* the built-in name deny yields to an exact allow rule, not to a wildcard; the address
	 * is still checked */
	RUN(({ .net = "allowlist", .allow = { "metadata.google.internal", "*.localhost" } }),
	    { NAME, "metadata.google.internal", 80, NULL, ALLOW, "allow:metadata.google.internal" },
	    { ADDR, "metadata.google.internal", 80, "169.254.169.254", DENY, "address:metadata" },
	    { NAME, "app.localhost", 80, NULL, DENY, "builtin:*.localhost" });
}

int main(void)
{
	return tap_run();
}
