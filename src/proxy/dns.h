/* SPDX-License-Identifier: MIT */
/*
 * dns.h - the sandbox's DNS server: strict query parser, response builders, policy glue
 */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fakeip;

#define DNS_HEADER_SIZE   12
#define DNS_NAME_MAX      253 /* text form, without the trailing dot */
#define DNS_WIRE_NAME_MAX 255 /* wire form, length bytes and the root label included */
#define DNS_QUESTION_MAX  (DNS_WIRE_NAME_MAX + 4)
#define DNS_UDP_MAX       512               /* largest response without EDNS (RFC 1035) */
#define DNS_EDNS_UDP_SIZE 1232              /* what we advertise and the most we send with EDNS */
#define DNS_TTL           60                /* seconds, for every answer */
#define DNS_RESPONSE_MAX  DNS_EDNS_UDP_SIZE /* a buffer this big always suffices */

enum dns_type {
	DNS_TYPE_A = 1,
	DNS_TYPE_NS = 2,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_SOA = 6,
	DNS_TYPE_PTR = 12,
	DNS_TYPE_MX = 15,
	DNS_TYPE_TXT = 16,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_SRV = 33,
	DNS_TYPE_OPT = 41,
	DNS_TYPE_HTTPS = 65,
	DNS_TYPE_ANY = 255,
};

#define DNS_CLASS_IN 1

/* Response codes; values above 15 need EDNS (the upper bits travel in the OPT record) */
enum dns_rcode {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
	DNS_RCODE_BADVERS = 16,
};

/* Header flag bits (the 16-bit word after the ID) */
#define DNS_FLAG_QR          0x8000
#define DNS_FLAG_OPCODE_MASK 0x7800
#define DNS_FLAG_AA          0x0400
#define DNS_FLAG_TC          0x0200
#define DNS_FLAG_RD          0x0100
#define DNS_FLAG_RA          0x0080
#define DNS_FLAG_Z           0x0040
#define DNS_FLAG_AD          0x0020
#define DNS_FLAG_CD          0x0010
#define DNS_FLAG_RCODE_MASK  0x000f

/*
 * struct dns_query - a query that passed dns_parse_query()
 * @id: the transaction ID
 * @flags: the query's flags word (only RD, AD and CD can be set in a valid query)
 * @qtype: the question's type (any value; the parser does not judge it)
 * @qclass: always DNS_CLASS_IN
 * @edns: the query carried an OPT record
 * @edns_version: its EDNS version (the server answers BADVERS to anything but 0)
 * @edns_udp_size: the UDP payload size it announced (at least 512)
 * @edns_do: its DNSSEC OK bit (copied into the response's OPT record, RFC 3225)
 * @question: the question section exactly as sent (name with its case, type, class), copied
 *            into every response
 * @question_len: its length
 * @name: the decoded name: labels joined by '.', no trailing dot, case as sent, "" for the
 *        root; only the bytes [A-Za-z0-9_-] occur in it
 * @name_len: strlen(@name)
 */
struct dns_query {
	uint16_t id;
	uint16_t flags;
	uint16_t qtype;
	uint16_t qclass;
	bool edns;
	uint8_t edns_version;
	uint16_t edns_udp_size;
	bool edns_do;
	size_t question_len;
	uint8_t question[DNS_QUESTION_MAX];
	size_t name_len;
	char name[DNS_NAME_MAX + 1];
};

/**
 * dns_parse_query() - parse one DNS query packet, strictly
 * @buf: the UDP payload
 * @len: its length
 * @ret: the parsed query; untouched on failure
 *
 * Accepts exactly: QR=0, opcode QUERY, AA, TC, RA, Z and RCODE zero (RD, AD, CD may be set),
 * QDCOUNT=1, ANCOUNT=NSCOUNT=0, ARCOUNT 0 or 1 where the one record is an EDNS OPT on the
 * root name with well-formed options, and nothing after the last record. The name must be
 * plain labels (no compression pointers, no extended label types), each 1-63 bytes of
 * [A-Za-z0-9_-], at most 253 bytes in text form; the class must be IN.
 *
 * Return: 0 on success; -EMSGSIZE if @len cannot hold a header and -ENOMSG if the packet is
 * not a query (both: drop it, never answer); -EOPNOTSUPP for an opcode other than QUERY;
 * -EBADMSG for a malformed packet; -EINVAL for a well-formed query the server refuses (odd
 * bytes in the name, a class other than IN). dns_rcode_from_error() maps these to the answer.
 */
int dns_parse_query(const uint8_t *buf, size_t len, struct dns_query *ret);

/**
 * dns_rcode_from_error() - the response code for an error of dns_parse_query()
 * @error: a negative errno from dns_parse_query()
 *
 * Return: FORMERR, NOTIMP or REFUSED, or -1 when the packet must be dropped unanswered.
 */
int dns_rcode_from_error(int error);

/**
 * dns_build_a() - an authoritative answer with one A record
 * @q: the query
 * @addr: the address (network byte order)
 * @buf: where to write the response
 * @cap: the size of @buf
 *
 * The response copies the ID, RD and CD bits and the question; sets QR, AA and RA; the answer
 * has TTL DNS_TTL. If the query had EDNS, a minimal OPT record (UDP size DNS_EDNS_UDP_SIZE,
 * no options) is added.
 *
 * Return: the response's length, or -ENOBUFS if it does not fit in @cap or in the size the
 * client can receive (512 bytes without EDNS).
 */
int dns_build_a(const struct dns_query *q, struct in_addr addr, uint8_t *buf, size_t cap);

/**
 * dns_build_empty() - NOERROR with no answers (NODATA): the name exists, not with this type
 * @q: the query
 * @buf: where to write the response
 * @cap: the size of @buf
 *
 * Return: the response's length, or -ENOBUFS.
 */
int dns_build_empty(const struct dns_query *q, uint8_t *buf, size_t cap);

/**
 * dns_build_error() - an answer with no records and response code @rcode
 * @q: the query
 * @rcode: a DNS response code (0-4095; above 15 only when the query had EDNS)
 * @buf: where to write the response
 * @cap: the size of @buf
 *
 * AA is set for NXDOMAIN only (the name does not exist as far as this server is concerned).
 *
 * Return: the response's length, -EINVAL for an rcode the query cannot carry, or -ENOBUFS.
 */
int dns_build_error(const struct dns_query *q, int rcode, uint8_t *buf, size_t cap);

/**
 * dns_build_reject() - the answer to a packet that dns_parse_query() refused
 * @query: the raw packet
 * @qlen: its length
 * @rcode: the response code (from dns_rcode_from_error(); 0-15)
 * @buf: where to write the response
 * @cap: the size of @buf
 *
 * Copies the ID, opcode, RD and CD bits. The question is echoed when the packet has exactly
 * one structurally sound question (stub resolvers such as glibc's ignore answers whose
 * question does not match theirs), and left out otherwise (QDCOUNT=0, as RFC 1035 allows for
 * FORMERR). No OPT record is added: the packet's own OPT record may be what was wrong.
 *
 * Return: the response's length; 0 when the packet must not be answered (shorter than a
 * header, or a response itself); -EINVAL for a bad @rcode; -ENOBUFS.
 */
int dns_build_reject(const uint8_t *query, size_t qlen, int rcode, uint8_t *buf, size_t cap);

/**
 * dns_server_handle() - answer one query from a sandbox
 * @q: the query packet (a UDP payload)
 * @qlen: its length
 * @resp: where to write the response
 * @cap: the size of @resp; DNS_RESPONSE_MAX always suffices
 * @fip: the sandbox's fake-address table
 * @allow: the policy: called with the queried name, lowercased, without a trailing dot;
 *         returns > 0 to allow, 0 to deny, < 0 on error (answered SERVFAIL); NULL denies all
 * @arg: passed to @allow
 *
 * What is answered how:
 * - not a query, or too short for a header: dropped (returns 0);
 * - malformed: FORMERR; opcode other than QUERY: NOTIMP; odd bytes, class not IN: REFUSED;
 * - EDNS version other than 0: BADVERS;
 * - the root name, or a type other than A and AAAA: REFUSED (the policy is not asked);
 * - a name the policy denies: NXDOMAIN (nothing is looked up anywhere);
 * - AAAA for an allowed name: NOERROR, no answers;
 * - A for an allowed name: its fake address from @fip, or REFUSED when @fip is full.
 *
 * Return: the response's length (at most @cap), or 0 to send nothing.
 */
size_t dns_server_handle(const uint8_t *q, size_t qlen, uint8_t *resp, size_t cap,
			 struct fakeip *fip, int (*allow)(void *arg, const char *name), void *arg);
