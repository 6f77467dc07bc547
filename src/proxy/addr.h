/* SPDX-License-Identifier: MIT */
/*
 * addr.h - IP addresses as the network policy sees them: classes, sets, the host's own
 */
#pragma once

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/cleanup.h"

/*
 * enum addr_class - what kind of destination an address is
 *
 * Ordered from harmless to worst: when an address embeds another (an IPv6 form carrying an
 * IPv4 address), its class is the larger of the two. Everything but ADDR_PUBLIC is denied by
 * the policy unless a rule names the address.
 */
enum addr_class {
	ADDR_PUBLIC,      /* globally routable unicast */
	ADDR_RESERVED,    /* documentation, benchmark (198.18/15, paddock's fake IPs), 240/4, ... */
	ADDR_BROADCAST,   /* 255.255.255.255 */
	ADDR_MULTICAST,   /* 224/4, ff00::/8 */
	ADDR_CGNAT,       /* 100.64/10 */
	ADDR_ULA,         /* fc00::/7, and the deprecated site-local fec0::/10 */
	ADDR_PRIVATE,     /* 10/8, 172.16/12, 192.168/16, local-use NAT64 64:ff9b:1::/48 */
	ADDR_LINK_LOCAL,  /* 169.254/16, fe80::/10 */
	ADDR_UNSPECIFIED, /* 0/8, ::  (Linux connects 0.0.0.0 to the local host) */
	ADDR_LOOPBACK,    /* 127/8, ::1 */
	ADDR_HOST_SELF, /* one of the host's own addresses (struct addr_set given by the caller) */
	ADDR_METADATA,  /* cloud metadata and host-agent endpoints */
	_ADDR_CLASS_MAX,
	_ADDR_CLASS_INVALID = -EINVAL,
};

/*
 * struct addr - an IPv4 or IPv6 address without port
 * @family: AF_INET or AF_INET6
 *
 * addr_from_sockaddr() turns an IPv4-mapped IPv6 address (::ffff:a.b.c.d) into AF_INET: a
 * dual-stack socket dials it as that IPv4 address, so it is that address. No other form is
 * folded (6to4, NAT64 and Teredo addresses go to a relay, not to the embedded address).
 */
struct addr {
	sa_family_t family;
	union {
		struct in_addr in;
		struct in6_addr in6;
	};
};

/* Longest text of addr_to_string(): INET6_ADDRSTRLEN */
#define ADDR_STRLEN 46

/**
 * addr_from_sockaddr() - the address of a socket address
 * @sa: a struct sockaddr_in or sockaddr_in6 (the port and scope are ignored)
 * @ret: the address; untouched on failure
 *
 * Return: 0, or -EAFNOSUPPORT for another family (or NULL).
 */
int addr_from_sockaddr(const struct sockaddr *sa, struct addr *ret);

/**
 * addr_from_string() - parse an address in strict form
 * @s: dotted-quad IPv4 or IPv6 text (inet_pton), without brackets, port or zone
 * @ret: the address (IPv4-mapped folded to IPv4); untouched on failure
 *
 * Return: 0 or -EINVAL.
 */
int addr_from_string(const char *s, struct addr *ret);

/**
 * addr_to_sockaddr() - a socket address to dial
 * @a: the address
 * @port: the port, host byte order
 * @ret: filled with a sockaddr_in or sockaddr_in6
 *
 * Return: the length of the socket address written to @ret.
 */
socklen_t addr_to_sockaddr(const struct addr *a, uint16_t port, struct sockaddr_storage *ret);

/* addr_to_string() - inet_ntop() form into @buf (ADDR_STRLEN bytes); returns @buf */
const char *addr_to_string(const struct addr *a, char *buf);

/* addr_equal() - same family and bytes */
bool addr_equal(const struct addr *a, const struct addr *b);

/*
 * struct addr_set - a small set of addresses, used for the host's own addresses
 *
 * Not thread-safe while being changed; read-only use (addr_set_contains()) is.
 */
struct addr_set;

/* addr_set_new() - an empty set; never NULL (OOM aborts) */
struct addr_set *addr_set_new(void);
/* addr_set_free() - free @s (NULL is fine); returns NULL */
struct addr_set *addr_set_free(struct addr_set *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct addr_set *, addr_set_free)
/* addr_set_add() - add @a unless present */
void addr_set_add(struct addr_set *s, const struct addr *a);
/* addr_set_contains() - is @a in @s? (false for a NULL @s) */
bool addr_set_contains(const struct addr_set *s, const struct addr *a);
/* addr_set_size() - the number of addresses in @s (0 for NULL) */
size_t addr_set_size(const struct addr_set *s);
/* addr_set_copy() - a new set with the same addresses (an empty one for NULL) */
struct addr_set *addr_set_copy(const struct addr_set *s);

/**
 * addr_load_host_addresses() - add the host's own interface addresses to a set
 * @s: the set to add to
 *
 * Reads getifaddrs() in the current network namespace (call it in the host's, i.e. in the
 * supervisor or proxy, not inside a sandbox): every IPv4 and IPv6 address of every
 * interface, up or not. The host's addresses change (DHCP, VPNs): reload from time to time
 * and build a new policy.
 *
 * Return: the number of addresses added, or -errno from getifaddrs().
 */
int addr_load_host_addresses(struct addr_set *s);

/**
 * addr_classify() - the class of an address
 * @sa: a struct sockaddr_in or sockaddr_in6
 *
 * IPv6 forms that carry an IPv4 address (v4-mapped ::ffff:0:0/96, SIIT ::ffff:0:0:0/96,
 * v4-compatible ::/96, 6to4 2002::/16, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, Teredo
 * 2001::/32 with its server and its XOR-ed client address) get the worst class of the IPv6
 * address and of every IPv4 address embedded. IPv6 outside 2000::/3 that is none of the
 * special ranges is ADDR_RESERVED.
 *
 * Return: the class, or _ADDR_CLASS_INVALID for a NULL or non-IP @sa.
 */
enum addr_class addr_classify(const struct sockaddr *sa);

/**
 * addr_classify_host() - the class of an address, counting the host's own addresses
 * @a: the address
 * @host_self: the host's own addresses (addr_load_host_addresses()), or NULL for none
 *
 * As addr_classify(), and ADDR_HOST_SELF (unless the class is already worse) when @a or an
 * IPv4 address embedded in it is in @host_self.
 *
 * Return: the class, or _ADDR_CLASS_INVALID for an @a of another family.
 */
enum addr_class addr_classify_host(const struct addr *a, const struct addr_set *host_self);

/* addr_class_to_string() - "public", "loopback", "private", "cgnat", "link-local", "ula",
 * "metadata", "multicast", "broadcast", "unspecified", "reserved", "host-self"; NULL if invalid */
const char *addr_class_to_string(enum addr_class c);
