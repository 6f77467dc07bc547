/* SPDX-License-Identifier: MIT */
/*
 * addr.c - IP addresses as the network policy sees them: classes, sets, the host's own
 *
 * DOC: Theory of Operation
 * The proxy resolves names itself and checks every address it is about to dial (DNS
 * rebinding cannot slip a private address past a check made on some other resolution). This
 * file says what an address is. Its only job is to never call an address "public" when it
 * leads somewhere local, so every doubt resolves towards a worse class:
 *
 * - IPv4: a table of the special-purpose ranges (IANA's registry, the ranges that are not
 *   globally reachable) plus the cloud metadata endpoints. Every entry that contains the
 *   address is looked at and the worst class wins, so the order of the table does not matter
 *   and 169.254.169.254 is metadata, not merely link-local.
 * - IPv6: the first matching entry of an ordered table (most specific first) gives the class
 *   of the IPv6 address itself; anything outside 2000::/3 that no entry names is reserved.
 *   Entries for the forms that carry an IPv4 address (v4-mapped, SIIT, v4-compatible, 6to4,
 *   NAT64, Teredo server and XOR-ed client) also classify each embedded IPv4 address, and
 *   the worst class wins: an attacker picks the spelling, so the most dangerous reading is
 *   the one that counts. The local-use NAT64 prefix 64:ff9b:1::/48 may be used with any
 *   RFC 6052 prefix length from /48 to /96, so each reading with a zero suffix counts (it
 *   is at least private anyway).
 * - The host's own addresses (struct addr_set, filled from getifaddrs() by
 *   addr_load_host_addresses(), the only I/O here) make ADDR_HOST_SELF, for the address and
 *   for any IPv4 address embedded in it: a host with a public address has services on it.
 *
 * Only IPv4-mapped addresses are folded into IPv4 (struct addr): a dual-stack socket dials
 * ::ffff:10.0.0.5 as 10.0.0.5, so a rule for one is a rule for the other. The other forms
 * reach a translator or relay, a different destination, so they are never equal to the IPv4
 * address they carry; they are only classified by it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "common/macro.h"
#include "common/xmalloc.h"

struct addr_set {
	struct addr *addrs;
	size_t n;
};

static const char *const class_names[_ADDR_CLASS_MAX] = {
	[ADDR_PUBLIC] = "public",
	[ADDR_RESERVED] = "reserved",
	[ADDR_BROADCAST] = "broadcast",
	[ADDR_MULTICAST] = "multicast",
	[ADDR_CGNAT] = "cgnat",
	[ADDR_ULA] = "ula",
	[ADDR_PRIVATE] = "private",
	[ADDR_LINK_LOCAL] = "link-local",
	[ADDR_UNSPECIFIED] = "unspecified",
	[ADDR_LOOPBACK] = "loopback",
	[ADDR_HOST_SELF] = "host-self",
	[ADDR_METADATA] = "metadata",
};

const char *addr_class_to_string(enum addr_class c)
{
	if (c < 0 || c >= _ADDR_CLASS_MAX)
		return NULL;
	return class_names[c];
}

#define V4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

static const struct {
	uint32_t net;
	unsigned len;
	enum addr_class class;
} v4_ranges[] = {
	{ V4(0, 0, 0, 0), 8, ADDR_UNSPECIFIED }, /* "this network"; 0.0.0.0 is the local host */
	{ V4(10, 0, 0, 0), 8, ADDR_PRIVATE },    /* RFC 1918 */
	{ V4(100, 64, 0, 0), 10, ADDR_CGNAT },   /* RFC 6598 shared address space */
	{ V4(100, 100, 100, 200), 32, ADDR_METADATA }, /* Alibaba Cloud metadata */
	{ V4(127, 0, 0, 0), 8, ADDR_LOOPBACK },
	{ V4(168, 63, 129, 16), 32, ADDR_METADATA }, /* Azure WireServer (host agent) */
	{ V4(169, 254, 0, 0), 16, ADDR_LINK_LOCAL },
	{ V4(169, 254, 169, 254), 32, ADDR_METADATA }, /* AWS, GCP, Azure, OCI, DO, ... */
	{ V4(169, 254, 170, 2), 32, ADDR_METADATA },   /* AWS ECS task metadata */
	{ V4(172, 16, 0, 0), 12, ADDR_PRIVATE },
	{ V4(192, 0, 0, 0), 24, ADDR_RESERVED },   /* IETF protocol assignments */
	{ V4(192, 0, 2, 0), 24, ADDR_RESERVED },   /* TEST-NET-1 */
	{ V4(192, 88, 99, 0), 24, ADDR_RESERVED }, /* deprecated 6to4 relay anycast */
	{ V4(192, 168, 0, 0), 16, ADDR_PRIVATE },
	{ V4(198, 18, 0, 0), 15, ADDR_RESERVED },   /* benchmarking; paddock's fake addresses */
	{ V4(198, 51, 100, 0), 24, ADDR_RESERVED }, /* TEST-NET-2 */
	{ V4(203, 0, 113, 0), 24, ADDR_RESERVED },  /* TEST-NET-3 */
	{ V4(224, 0, 0, 0), 4, ADDR_MULTICAST },
	{ V4(240, 0, 0, 0), 4, ADDR_RESERVED },
	{ V4(255, 255, 255, 255), 32, ADDR_BROADCAST },
};

static enum addr_class v4_class(const struct in_addr *in, const struct addr_set *self)
{
	uint32_t v = ntohl(in->s_addr);
	enum addr_class c = ADDR_PUBLIC;

	for (size_t i = 0; i < ELEMENTSOF(v4_ranges); i++) {
		uint32_t mask = v4_ranges[i].len ? UINT32_MAX << (32 - v4_ranges[i].len) : 0;

		if ((v & mask) == v4_ranges[i].net)
			c = MAX(c, v4_ranges[i].class);
	}
	if (self) {
		struct addr a = { .family = AF_INET, .in = *in };

		if (addr_set_contains(self, &a))
			c = MAX(c, ADDR_HOST_SELF);
	}
	return c;
}

/* Where an IPv6 form keeps its IPv4 address(es). */
enum embed {
	EMBED_NONE,
	EMBED_96,            /* bytes 12-15: mapped, SIIT, compatible, NAT64 /96 */
	EMBED_6TO4,          /* bytes 2-5 */
	EMBED_TEREDO,        /* server in bytes 4-7, client in bytes 12-15 XOR 0xff */
	EMBED_RFC6052_LOCAL, /* 64:ff9b:1::/48: any of the /48, /56, /64 and /96 positions */
};

static const struct {
	uint8_t prefix[16];
	unsigned len;
	enum addr_class class;
	enum embed embed;
} v6_ranges[] = {
	/* most specific first: the first match gives the class of the IPv6 address itself */
	{ { 0 }, 128, ADDR_UNSPECIFIED, EMBED_NONE },
	{ { [15] = 1 }, 128, ADDR_LOOPBACK, EMBED_NONE },
	{ { [10] = 0xff, [11] = 0xff }, 96, ADDR_PUBLIC, EMBED_96 }, /* v4-mapped */
	{ { [8] = 0xff, [9] = 0xff }, 96, ADDR_RESERVED, EMBED_96 }, /* SIIT translated */
	{ { 0 }, 96, ADDR_RESERVED, EMBED_96 },                      /* v4-compatible */
	{ { 0, 0x64, 0xff, 0x9b }, 96, ADDR_PUBLIC, EMBED_96 },      /* NAT64 well-known */
	{ { 0, 0x64, 0xff, 0x9b, 0, 1 }, 48, ADDR_PRIVATE, EMBED_RFC6052_LOCAL }, /* local NAT64 */
	{ { 0x01, 0x00 }, 64, ADDR_RESERVED, EMBED_NONE },                   /* discard 100::/64 */
	{ { 0x01, 0x00, 0, 0, 0, 0, 0, 1 }, 64, ADDR_RESERVED, EMBED_NONE }, /* dummy prefix */
	{ { 0x20, 0x01 }, 32, ADDR_PUBLIC, EMBED_TEREDO },                   /* Teredo */
	{ { 0x20, 0x01, 0, 0x02 }, 48, ADDR_RESERVED, EMBED_NONE },          /* benchmarking */
	{ { 0x20, 0x01, 0, 0x10 }, 28, ADDR_RESERVED, EMBED_NONE },          /* ORCHID */
	{ { 0x20, 0x01, 0, 0x20 }, 28, ADDR_RESERVED, EMBED_NONE },          /* ORCHIDv2 */
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32, ADDR_RESERVED, EMBED_NONE },       /* documentation */
	{ { 0x20, 0x02 }, 16, ADDR_PUBLIC, EMBED_6TO4 },                     /* 6to4 */
	{ { 0x3f, 0xff }, 20, ADDR_RESERVED, EMBED_NONE },                   /* documentation */
	{ { 0x5f, 0x00 }, 16, ADDR_RESERVED, EMBED_NONE },                   /* SRv6 SIDs */
	{ { 0xfd, 0x00, 0x0e, 0xc2, [14] = 0x02, [15] = 0x54 },
	  128,
	  ADDR_METADATA,
	  EMBED_NONE }, /* AWS IMDS */
	{ { 0xfc }, 7, ADDR_ULA, EMBED_NONE },
	{ { 0xfe, 0x80 }, 10, ADDR_LINK_LOCAL, EMBED_NONE },
	{ { 0xfe, 0xc0 }, 10, ADDR_ULA, EMBED_NONE }, /* deprecated site-local */
	{ { 0xff }, 8, ADDR_MULTICAST, EMBED_NONE },
	{ { 0x20 }, 3, ADDR_PUBLIC, EMBED_NONE }, /* global unicast */
	{ { 0 }, 0, ADDR_RESERVED, EMBED_NONE },  /* everything else is not allocated */
};

static bool v6_prefix_match(const uint8_t *a, const uint8_t *prefix, unsigned len)
{
	unsigned bytes = len / 8, bits = len % 8;

	if (memcmp(a, prefix, bytes) != 0)
		return false;
	if (bits == 0)
		return true;
	return ((a[bytes] ^ prefix[bytes]) & (uint8_t)(0xff << (8 - bits))) == 0;
}

static enum addr_class v4_class_at(const uint8_t *b, const int idx[4], bool xor,
				   const struct addr_set *self)
{
	struct in_addr in;
	uint8_t v[4];

	for (int i = 0; i < 4; i++)
		v[i] = xor? (uint8_t)~b[idx[i]] : b[idx[i]];
	memcpy(&in.s_addr, v, 4);
	return v4_class(&in, self);
}

/* RFC 6052: the bytes after the embedded IPv4 address (the suffix) are zero. */
static bool suffix_is_zero(const uint8_t *b, size_t from)
{
	for (size_t i = from; i < 16; i++)
		if (b[i])
			return false;
	return true;
}

static enum addr_class v6_class(const struct in6_addr *in6, const struct addr_set *self)
{
	static const int at96[4] = { 12, 13, 14, 15 }, at6to4[4] = { 2, 3, 4, 5 },
			 teredo_server[4] = { 4, 5, 6, 7 }, at48[4] = { 6, 7, 9, 10 },
			 at56[4] = { 7, 9, 10, 11 }, at64[4] = { 9, 10, 11, 12 };
	const uint8_t *b = in6->s6_addr;
	enum addr_class c = ADDR_RESERVED;
	size_t i;

	for (i = 0; i < ELEMENTSOF(v6_ranges); i++)
		if (v6_prefix_match(b, v6_ranges[i].prefix, v6_ranges[i].len))
			break;
	PADDOCK_ASSERT(i < ELEMENTSOF(v6_ranges)); /* ::/0 matches everything */
	c = v6_ranges[i].class;
	switch (v6_ranges[i].embed) {
	case EMBED_NONE:
		break;
	case EMBED_96:
		c = MAX(c, v4_class_at(b, at96, false, self));
		break;
	case EMBED_6TO4:
		c = MAX(c, v4_class_at(b, at6to4, false, self));
		break;
	case EMBED_TEREDO:
		c = MAX(c, v4_class_at(b, teredo_server, false, self));
		c = MAX(c, v4_class_at(b, at96, true, self));
		break;
	case EMBED_RFC6052_LOCAL:
		/* the prefix length in use is not known: every reading whose suffix is zero */
		if (suffix_is_zero(b, 11))
			c = MAX(c, v4_class_at(b, at48, false, self));
		if (suffix_is_zero(b, 12))
			c = MAX(c, v4_class_at(b, at56, false, self));
		if (suffix_is_zero(b, 13))
			c = MAX(c, v4_class_at(b, at64, false, self));
		c = MAX(c, v4_class_at(b, at96, false, self));
		break;
	}
	if (self) {
		struct addr a = { .family = AF_INET6, .in6 = *in6 };

		if (addr_set_contains(self, &a))
			c = MAX(c, ADDR_HOST_SELF);
	}
	return c;
}

enum addr_class addr_classify_host(const struct addr *a, const struct addr_set *host_self)
{
	if (!a)
		return _ADDR_CLASS_INVALID;
	if (a->family == AF_INET)
		return v4_class(&a->in, host_self);
	if (a->family == AF_INET6)
		return v6_class(&a->in6, host_self);
	return _ADDR_CLASS_INVALID;
}

enum addr_class addr_classify(const struct sockaddr *sa)
{
	struct addr a;

	if (addr_from_sockaddr(sa, &a) < 0)
		return _ADDR_CLASS_INVALID;
	return addr_classify_host(&a, NULL);
}

static void addr_fold(struct addr *a)
{
	if (a->family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a->in6)) {
		struct in_addr in;

		memcpy(&in.s_addr, a->in6.s6_addr + 12, 4);
		*a = (struct addr){ .family = AF_INET, .in = in };
	}
}

int addr_from_sockaddr(const struct sockaddr *sa, struct addr *ret)
{
	struct addr a = {};

	if (!sa)
		return -EAFNOSUPPORT;
	if (sa->sa_family == AF_INET) {
		a.family = AF_INET;
		a.in = ((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		a.family = AF_INET6;
		a.in6 = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	} else
		return -EAFNOSUPPORT;
	addr_fold(&a);
	*ret = a;
	return 0;
}

int addr_from_string(const char *s, struct addr *ret)
{
	struct addr a = {};

	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, &a.in) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, &a.in6) == 1)
		a.family = AF_INET6;
	else
		return -EINVAL;
	addr_fold(&a);
	*ret = a;
	return 0;
}

socklen_t addr_to_sockaddr(const struct addr *a, uint16_t port, struct sockaddr_storage *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ret;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr = a->in;
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)ret;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	sin6->sin6_addr = a->in6;
	return sizeof(*sin6);
}

const char *addr_to_string(const struct addr *a, char *buf)
{
	if (!inet_ntop(a->family,
		       a->family == AF_INET ? (const void *)&a->in : (const void *)&a->in6, buf,
		       ADDR_STRLEN))
		strcpy(buf, "?");
	return buf;
}

bool addr_equal(const struct addr *a, const struct addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->in.s_addr == b->in.s_addr;
	return memcmp(&a->in6, &b->in6, sizeof(a->in6)) == 0;
}

struct addr_set *addr_set_new(void)
{
	return xcalloc(1, sizeof(struct addr_set));
}

struct addr_set *addr_set_free(struct addr_set *s)
{
	if (s) {
		free(s->addrs);
		free(s);
	}
	return NULL;
}

void addr_set_add(struct addr_set *s, const struct addr *a)
{
	if (addr_set_contains(s, a))
		return;
	s->addrs = xreallocarray(s->addrs, s->n + 1, sizeof(*s->addrs));
	s->addrs[s->n++] = *a;
}

bool addr_set_contains(const struct addr_set *s, const struct addr *a)
{
	if (!s)
		return false;
	for (size_t i = 0; i < s->n; i++)
		if (addr_equal(&s->addrs[i], a))
			return true;
	return false;
}

size_t addr_set_size(const struct addr_set *s)
{
	return s ? s->n : 0;
}

struct addr_set *addr_set_copy(const struct addr_set *s)
{
	struct addr_set *c = addr_set_new();

	for (size_t i = 0; s && i < s->n; i++)
		addr_set_add(c, &s->addrs[i]);
	return c;
}

int addr_load_host_addresses(struct addr_set *s)
{
	struct ifaddrs *ifa = NULL;
	size_t before = s->n;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		struct addr a;

		if (addr_from_sockaddr(i->ifa_addr, &a) >= 0)
			addr_set_add(s, &a);
	}
	freeifaddrs(ifa);
	return (int)(s->n - before);
}
