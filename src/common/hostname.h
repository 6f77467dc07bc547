/* SPDX-License-Identifier: MIT */
/*
 * hostname.h - canonical host names: the one place that decides what a name is
 *
 * Used by the rule parser (store/hostrule.c), the policy engine (proxy/policy.c) and whatever
 * receives a name from the sandbox (SNI, Host, CONNECT, DNS questions), so that all of them
 * compare the same bytes.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

/* What a host text turned out to be. */
enum host_kind {
	HOST_NAME,     /* "example.com": exactly that name */
	HOST_WILDCARD, /* "*.example.com": any name with at least one label before the suffix */
	HOST_IPV4,
	HOST_IPV6,
	_HOST_KIND_MAX,
	_HOST_KIND_INVALID = -EINVAL,
};

/* Longest canonical name (RFC 1035 without the root dot) */
#define HOST_NAME_MAX_LEN 253

/**
 * host_name_is_valid() - is @s an ASCII host name in canonical form?
 * @s: the name; need not be NUL-terminated
 * @len: its length
 *
 * Lowercase letters, digits, '-' and '.'; labels of 1-63 bytes that neither start nor end
 * with '-'; at most 253 bytes; no trailing dot. Says nothing about numeric last labels (see
 * host_name_last_label_is_numeric()).
 *
 * Return: true if valid.
 */
bool host_name_is_valid(const char *s, size_t len);

/**
 * host_name_last_label_is_numeric() - would a resolver read @s as an IPv4 address?
 * @s: a lowercase name; need not be NUL-terminated
 * @len: its length
 *
 * True when the last label is all decimal digits or "0x" and hex digits: the names that
 * inet_aton() and the WHATWG URL parser treat as (odd spellings of) IPv4 addresses. Such a
 * name is either an address or invalid, never a name to look up.
 *
 * Return: true if the last label is numeric.
 */
bool host_name_last_label_is_numeric(const char *s, size_t len);

/**
 * host_canonicalize() - the canonical form of a host as a client sent it
 * @in: the host (SNI, Host header without port, CONNECT target without port, DNS question
 *      name); need not be NUL-terminated; any bytes
 * @len: its length
 * @ret: set to a new string (free()) on success; untouched on failure
 *
 * Names are lowercased, one trailing dot is stripped, UTF-8 (IDN) names are converted to
 * their punycode form with libidn2 (UTS #46 non-transitional), and the result must be a valid
 * ASCII name (host_name_is_valid()). Labels of the form "xn--..." must be valid punycode.
 * NUL, control bytes, space, DEL, '/', '\\', '@', ':', '%', '*', '_' and every other byte
 * that is not a letter, digit, '-' or '.' are refused, also when IDN mapping would produce
 * them from a non-ASCII character.
 *
 * A name whose last label is numeric is an IPv4 address in whatever spelling inet_aton()
 * accepts ("2130706433", "0177.0.0.1", "0x7f.1", "127.1"); it comes back in dotted-quad form
 * as HOST_IPV4, or is refused. An IPv6 literal is accepted only in brackets ("[::1]") and
 * without a zone; it comes back in inet_ntop() form without brackets as HOST_IPV6.
 *
 * Return: HOST_NAME, HOST_IPV4 or HOST_IPV6 (all >= 0), or -EINVAL.
 */
int host_canonicalize(const char *in, size_t len, char **ret);
