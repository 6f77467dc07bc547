/* SPDX-License-Identifier: MIT */
/*
 * test-addr.c - address classes (every special range, by every IPv6 embedding), sets, and
 * the host's own addresses
 */
#include <arpa/inet.h>
#include <string.h>

#include "common/macro.h"
#include "proxy/addr.h"
#include "tap.h"

static struct addr A(const char *s) {
	struct addr a;

	if (addr_from_string(s, &a) < 0)
		TAP_FAIL("'%s' does not parse", s);
	return a;
}

static enum addr_class
class_of(const char *s, const struct addr_set *self)
{
	struct addr a = A(s);

	return addr_classify_host(&a, self);
}

static void check_class(const char *s, enum addr_class want)
{
	enum addr_class got = class_of(s, NULL);

	if (got != want)
		TAP_FAIL("%s: class %s, expected %s", s, addr_class_to_string(got),
			 addr_class_to_string(want));
}

/* Every IPv4 case: its class, and the worst-of rule for each IPv6 form carrying it. */
static const struct {
	const char *v4;
	enum addr_class class;
} v4_cases[] = {
	{ "8.8.8.8", ADDR_PUBLIC },
	{ "1.1.1.1", ADDR_PUBLIC },
	{ "140.82.112.3", ADDR_PUBLIC },
	{ "0.0.0.0", ADDR_UNSPECIFIED },
	{ "0.1.2.3", ADDR_UNSPECIFIED },
	{ "10.0.0.1", ADDR_PRIVATE },
	{ "10.255.255.255", ADDR_PRIVATE },
	{ "100.63.255.255", ADDR_PUBLIC },
	{ "100.64.0.1", ADDR_CGNAT },
	{ "100.127.255.255", ADDR_CGNAT },
	{ "100.128.0.0", ADDR_PUBLIC },
	{ "100.100.100.200", ADDR_METADATA },
	{ "127.0.0.1", ADDR_LOOPBACK },
	{ "127.255.255.254", ADDR_LOOPBACK },
	{ "126.255.255.255", ADDR_PUBLIC },
	{ "128.0.0.0", ADDR_PUBLIC },
	{ "168.63.129.16", ADDR_METADATA },
	{ "169.254.0.1", ADDR_LINK_LOCAL },
	{ "169.254.169.254", ADDR_METADATA },
	{ "169.254.170.2", ADDR_METADATA },
	{ "169.254.169.253", ADDR_LINK_LOCAL },
	{ "172.15.255.255", ADDR_PUBLIC },
	{ "172.16.0.1", ADDR_PRIVATE },
	{ "172.31.255.255", ADDR_PRIVATE },
	{ "172.32.0.0", ADDR_PUBLIC },
	{ "192.0.0.8", ADDR_RESERVED },
	{ "192.0.2.1", ADDR_RESERVED },
	{ "192.88.99.1", ADDR_RESERVED },
	{ "192.167.255.255", ADDR_PUBLIC },
	{ "192.168.1.1", ADDR_PRIVATE },
	{ "192.169.0.0", ADDR_PUBLIC },
	{ "198.17.255.255", ADDR_PUBLIC },
	{ "198.18.0.1", ADDR_RESERVED },
	{ "198.19.255.255", ADDR_RESERVED },
	{ "198.20.0.0", ADDR_PUBLIC },
	{ "198.51.100.7", ADDR_RESERVED },
	{ "203.0.113.9", ADDR_RESERVED },
	{ "224.0.0.1", ADDR_MULTICAST },
	{ "239.255.255.250", ADDR_MULTICAST },
	{ "240.0.0.1", ADDR_RESERVED },
	{ "255.255.255.254", ADDR_RESERVED },
	{ "255.255.255.255", ADDR_BROADCAST },
	{ "223.255.255.255", ADDR_PUBLIC },
};

TEST(ipv4_classes)
{
	for (size_t i = 0; i < ELEMENTSOF(v4_cases); i++)
		check_class(v4_cases[i].v4, v4_cases[i].class);
}

static void v6_with(const char *fmt_prefix, const uint8_t v4[4], const int pos[4], bool xor,
		    char *out)
{
	struct in6_addr a;

	if (inet_pton(AF_INET6, fmt_prefix, &a) != 1)
		TAP_FAIL("bad prefix %s", fmt_prefix);
	for (int i = 0; i < 4; i++)
		a.s6_addr[pos[i]] = xor? (uint8_t)~v4[i] : v4[i];
	inet_ntop(AF_INET6, &a, out, ADDR_STRLEN);
}

TEST(ipv6_embeddings)
{
	static const int at96[4] = { 12, 13, 14, 15 }, at6to4[4] = { 2, 3, 4, 5 },
			 at32[4] = { 4, 5, 6, 7 }, at48[4] = { 6, 7, 9, 10 },
			 at56[4] = { 7, 9, 10, 11 }, at64[4] = { 9, 10, 11, 12 };
	static const struct {
		const char *prefix;
		const int *pos;
		bool xor ;
		enum addr_class floor; /* the class of the IPv6 form itself */
	} forms[] = {
		{ "::ffff:0:0", at96, false, ADDR_PUBLIC },             /* v4-mapped */
		{ "::ffff:0:0:0", at96, false, ADDR_RESERVED },         /* SIIT */
		{ "::", at96, false, ADDR_RESERVED },                   /* v4-compatible */
		{ "64:ff9b::", at96, false, ADDR_PUBLIC },              /* NAT64 */
		{ "64:ff9b:1::", at96, false, ADDR_PRIVATE },           /* local NAT64 /96 */
		{ "64:ff9b:1::", at64, false, ADDR_PRIVATE },           /* local NAT64 /64 */
		{ "64:ff9b:1::", at56, false, ADDR_PRIVATE },           /* local NAT64 /56 */
		{ "64:ff9b:1::", at48, false, ADDR_PRIVATE },           /* local NAT64 /48 */
		{ "2002::", at6to4, false, ADDR_PUBLIC },               /* 6to4 */
		{ "2001:0:4136:e378::", at96, true, ADDR_PUBLIC },      /* Teredo client */
		{ "2001::8000:0:f7f7:f7f7", at32, false, ADDR_PUBLIC }, /* Teredo server */
	};

	for (size_t f = 0; f < ELEMENTSOF(forms); f++)
		for (size_t i = 0; i < ELEMENTSOF(v4_cases); i++) {
			char v6[ADDR_STRLEN];
			uint8_t b[4];
			struct in_addr in;
			enum addr_class want = MAX(forms[f].floor, v4_cases[i].class), got;

			ASSERT_EQ(inet_pton(AF_INET, v4_cases[i].v4, &in), 1);
			memcpy(b, &in.s_addr, 4);
			v6_with(forms[f].prefix, b, forms[f].pos, forms[f].xor, v6);
			/* "::" with 0.0.0.0 or 0.0.0.1 embedded is :: or ::1 itself */
			if (streq(v6, "::") || streq(v6, "::1"))
				continue;
			got = class_of(v6, NULL);
			/* the local-use NAT64 prefix is read at every RFC 6052 position, and
			 * another position may read worse: at least as bad is what counts */
			if (forms[f].floor == ADDR_PRIVATE ? got < want : got != want)
				TAP_FAIL("%s (%s in %s): %s, expected %s", v6, v4_cases[i].v4,
					 forms[f].prefix, addr_class_to_string(got),
					 addr_class_to_string(want));
		}
}

TEST(ipv6_classes)
{
	check_class("::", ADDR_UNSPECIFIED);
	check_class("::1", ADDR_LOOPBACK);
	check_class("::2", ADDR_UNSPECIFIED); /* v4-compatible 0.0.0.2 */
	check_class("2606:4700:4700::1111", ADDR_PUBLIC);
	check_class("2a00:1450:4001:80b::200e", ADDR_PUBLIC);
	check_class("fe80::1", ADDR_LINK_LOCAL);
	check_class("febf:ffff::1", ADDR_LINK_LOCAL);
	check_class("fec0::1", ADDR_ULA);
	check_class("fc00::1", ADDR_ULA);
	check_class("fd12:3456::1", ADDR_ULA);
	check_class("fd00:ec2::254", ADDR_METADATA);
	check_class("fd00:ec2::253", ADDR_ULA);
	check_class("ff02::1", ADDR_MULTICAST);
	check_class("ff05::1:3", ADDR_MULTICAST);
	check_class("2001:db8::1", ADDR_RESERVED);
	check_class("2001:db8:ffff::1", ADDR_RESERVED);
	check_class("2001:2::1", ADDR_RESERVED);
	check_class("2001:10::1", ADDR_RESERVED);
	check_class("2001:20::1", ADDR_RESERVED);
	check_class("3fff::1", ADDR_RESERVED);
	check_class("5f00::1", ADDR_RESERVED);
	check_class("100::1", ADDR_RESERVED);
	check_class("4000::1", ADDR_RESERVED); /* outside 2000::/3 */
	check_class("1::1", ADDR_RESERVED);
	check_class("e000::1", ADDR_RESERVED);
	check_class("3ffe::1", ADDR_PUBLIC); /* inside 2000::/3, not special */
	check_class("64:ff9b::808:808", ADDR_PUBLIC);
	check_class("64:ff9b::a9fe:a9fe", ADDR_METADATA);
	check_class("64:ff9b::7f00:1", ADDR_LOOPBACK);
	check_class("2002:7f00:1::", ADDR_LOOPBACK);
	check_class("2002:a9fe:a9fe::1", ADDR_METADATA);
	check_class("2002:808:808::1", ADDR_PUBLIC);
	/* Teredo: server 65.54.227.120, client 127.0.0.1 XOR-ed */
	check_class("2001:0:4136:e378:8000:63bf:80ff:fffe", ADDR_LOOPBACK);
	check_class("2001:0:4136:e378:8000:63bf:3fff:fdd2", ADDR_RESERVED); /* 192.0.2.45 */
	check_class("2001:0:4136:e378:8000:63bf:f7f7:f7f7", ADDR_PUBLIC);   /* 8.8.8.8 */
}

TEST(mapped_folds_to_ipv4)
{
	struct addr a = A("::ffff:10.0.0.5"), b = A("10.0.0.5"), c = A("::10.0.0.5");
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	struct sockaddr_storage ss;
	char buf[ADDR_STRLEN];

	ASSERT_EQ(a.family, AF_INET);
	ASSERT_TRUE(addr_equal(&a, &b));
	ASSERT_FALSE(addr_equal(&b, &c)); /* v4-compatible goes elsewhere */
	ASSERT_STREQ(addr_to_string(&a, buf), "10.0.0.5");

	ASSERT_EQ(inet_pton(AF_INET6, "::ffff:169.254.169.254", &sin6.sin6_addr), 1);
	ASSERT_EQ(addr_classify((struct sockaddr *)&sin6), ADDR_METADATA);
	ASSERT_EQ(addr_from_sockaddr((struct sockaddr *)&sin6, &a), 0);
	ASSERT_EQ(a.family, AF_INET);
	ASSERT_EQ(addr_to_sockaddr(&a, 443, &ss), sizeof(struct sockaddr_in));
	ASSERT_EQ(((struct sockaddr_in *)&ss)->sin_port, htons(443));
	ASSERT_EQ(addr_classify((struct sockaddr *)&ss), ADDR_METADATA);
	a = A("2001:db8::1");
	ASSERT_EQ(addr_to_sockaddr(&a, 80, &ss), sizeof(struct sockaddr_in6));
	ASSERT_EQ(addr_classify((struct sockaddr *)&ss), ADDR_RESERVED);
}

TEST(invalid)
{
	struct sockaddr_un {
		sa_family_t family;
		char path[108];
	} un = { .family = AF_UNIX };
	struct addr a;

	ASSERT_EQ(addr_classify(NULL), _ADDR_CLASS_INVALID);
	ASSERT_EQ(addr_classify((struct sockaddr *)&un), _ADDR_CLASS_INVALID);
	ASSERT_EQ(addr_classify_host(NULL, NULL), _ADDR_CLASS_INVALID);
	ASSERT_NULL(addr_class_to_string(_ADDR_CLASS_INVALID));
	ASSERT_NULL(addr_class_to_string(_ADDR_CLASS_MAX));
	ASSERT_ERR(addr_from_string("127.1", &a), EINVAL);
	ASSERT_ERR(addr_from_string("0x7f000001", &a), EINVAL);
	ASSERT_ERR(addr_from_string("[::1]", &a), EINVAL);
	ASSERT_ERR(addr_from_string("fe80::1%lo", &a), EINVAL);
	ASSERT_ERR(addr_from_string("", &a), EINVAL);
	ASSERT_ERR(addr_from_string(NULL, &a), EINVAL);
	for (int c = 0; c < _ADDR_CLASS_MAX; c++)
		ASSERT_NOT_NULL(addr_class_to_string(c));
}

TEST(host_self)
{
	_cleanup_(addr_set_freep) struct addr_set *self = addr_set_new(), *copy = NULL;
	struct addr a = A("203.0.114.7"), b = A("2a01:4f8::7");

	ASSERT_EQ(class_of("203.0.114.7", self), ADDR_PUBLIC);
	addr_set_add(self, &a);
	addr_set_add(self, &a);
	addr_set_add(self, &b);
	ASSERT_EQ(addr_set_size(self), 2);
	ASSERT_EQ(class_of("203.0.114.7", self), ADDR_HOST_SELF);
	ASSERT_EQ(class_of("::ffff:203.0.114.7", self), ADDR_HOST_SELF);
	ASSERT_EQ(class_of("2002:cb00:7207::1", self), ADDR_HOST_SELF);  /* 6to4 */
	ASSERT_EQ(class_of("64:ff9b::cb00:7207", self), ADDR_HOST_SELF); /* NAT64 */
	ASSERT_EQ(class_of("2a01:4f8::7", self), ADDR_HOST_SELF);
	ASSERT_EQ(class_of("2a01:4f8::8", self), ADDR_PUBLIC);
	ASSERT_EQ(class_of("203.0.114.8", self), ADDR_PUBLIC);
	/* worse classes stay worse */
	a = A("169.254.169.254");
	addr_set_add(self, &a);
	ASSERT_EQ(class_of("169.254.169.254", self), ADDR_METADATA);
	a = A("10.1.2.3");
	addr_set_add(self, &a);
	ASSERT_EQ(class_of("10.1.2.3", self), ADDR_HOST_SELF);
	copy = addr_set_copy(self);
	ASSERT_EQ(addr_set_size(copy), 4);
	ASSERT_TRUE(addr_set_contains(copy, &a));
	ASSERT_FALSE(addr_set_contains(NULL, &a));
	ASSERT_EQ(addr_set_size(NULL), 0);
}

TEST(load_host_addresses)
{
	_cleanup_(addr_set_freep) struct addr_set *self = addr_set_new();
	int r = addr_load_host_addresses(self);

	ASSERT_OK(r);
	ASSERT_EQ(addr_set_size(self), (size_t)r);
	printf("# %d host addresses\n", r);
}

int main(void)
{
	return tap_run();
}
