/* SPDX-License-Identifier: MIT */
/*
 * hostname.c - canonical host names
 *
 * DOC: Theory of Operation
 * A host name reaches paddock from several places: the user's rules, and from the sandbox in
 * a TLS SNI, an HTTP Host header, a CONNECT target or a DNS question. Policy bugs come from a
 * name that one component reads one way and another component another way (THREATS.md 3), so
 * every one of them goes through this file and ends up as the same bytes:
 *
 * - Only letters, digits, '-' and '.' are accepted in ASCII, before and after IDN mapping.
 *   Anything else (NUL, space, control bytes, DEL, '/', '\\', '@', ':', '%', '_', '*') is
 *   refused, never stripped: "github.com@evil.com" and "github.com\0.evil.com" are not names.
 * - Letters are lowercased and one trailing dot (the DNS root) is stripped; a second one
 *   leaves an empty label and is refused.
 * - Non-ASCII input must be valid UTF-8 and is converted by libidn2 (UTS #46 non-transitional
 *   processing, IDNA2008, as curl does) to its punycode ("xn--") form, so that "bücher.example"
 *   and "xn--bcher-kva.example" are one name and a rule written in punycode matches it. The
 *   mapping may fold width and case ("ｇｉｔｈｕｂ.com" is "github.com"); what comes out is
 *   checked again as ASCII. Characters libidn2 disallows are refused. ASCII "xn--" labels must
 *   be valid punycode that survives the same round trip.
 * - A name whose last label is numeric is what inet_aton() and browsers read as an IPv4
 *   address ("2130706433", "0177.0.0.1", "0x7f.1", "127.1"). It is parsed with inet_aton() and
 *   returned as the dotted-quad address it means, so the caller checks the address, never
 *   looks it up as a name; if inet_aton() refuses it, so do we.
 * - IPv6 literals come only in brackets and without a zone ("[fe80::1%eth0]" is refused).
 *
 * Nothing here logs; every failure is -EINVAL.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <idn2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/macro.h"
#include "common/xmalloc.h"
#include "hostname.h"

/* Longest input we look at: a maximal name in UTF-8 is far shorter than this. */
#define HOST_INPUT_MAX 1024

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool host_name_is_valid(const char *s, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > HOST_NAME_MAX_LEN)
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (label == 0 || label > 63)
				return false;
			if (s[i - 1] == '-' || s[i - label] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			return false;
		label++;
	}
	return true;
}

bool host_name_last_label_is_numeric(const char *s, size_t len)
{
	const char *dot = memrchr(s, '.', len);
	const char *l = dot ? dot + 1 : s;
	size_t n = len - (size_t)(l - s);

	if (n >= 2 && l[0] == '0' && l[1] == 'x') {
		for (size_t i = 2; i < n; i++)
			if (!strchr("0123456789abcdef", l[i]) || l[i] == '\0')
				return false;
		return true;
	}
	for (size_t i = 0; i < n; i++)
		if (l[i] < '0' || l[i] > '9')
			return false;
	return n > 0;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_is_valid(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t n;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else
			return false;
		if (len - i <= n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

static bool has_alabel(const char *s)
{
	for (const char *l = s; l; l = strchr(l, '.'), l = l ? l + 1 : NULL)
		if (strncmp(l, "xn--", 4) == 0)
			return true;
	return false;
}

/* libidn2's ASCII form of the NUL-terminated @s, or NULL when it refuses it. */
static char *idn_to_ascii(const char *s)
{
	uint8_t *out = NULL;

	if (idn2_lookup_u8((const uint8_t *)s, &out, IDN2_NONTRANSITIONAL) != IDN2_OK) {
		idn2_free(out);
		return NULL;
	}
	return (char *)out;
}

static int canonicalize_ipv6(const char *in, size_t len, char **ret)
{
	char buf[INET6_ADDRSTRLEN];
	struct in6_addr a;

	if (len < 3 || in[len - 1] != ']' || len - 2 >= sizeof(buf))
		return -EINVAL;
	for (size_t i = 1; i < len - 1; i++)
		if (!strchr("0123456789abcdefABCDEF:.", in[i]) || in[i] == '\0')
			return -EINVAL;
	memcpy(buf, in + 1, len - 2);
	buf[len - 2] = '\0';
	if (inet_pton(AF_INET6, buf, &a) != 1 || !inet_ntop(AF_INET6, &a, buf, sizeof(buf)))
		return -EINVAL;
	*ret = xstrdup(buf);
	return HOST_IPV6;
}

/* @s (NUL-terminated, @len bytes, modifiable) is ASCII; lowercase letters already. */
static int canonicalize_ascii(char *s, size_t len, bool from_idn, char **ret)
{
	for (size_t i = 0; i < len; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-' && s[i] != '.')
			return -EINVAL;
	if (len > 0 && s[len - 1] == '.')
		s[--len] = '\0';
	if (len == 0)
		return -EINVAL;
	if (host_name_last_label_is_numeric(s, len)) {
		char buf[INET_ADDRSTRLEN];
		struct in_addr a;

		if (inet_aton(s, &a) == 0 || !inet_ntop(AF_INET, &a, buf, sizeof(buf)))
			return -EINVAL;
		*ret = xstrdup(buf);
		return HOST_IPV4;
	}
	if (!host_name_is_valid(s, len))
		return -EINVAL;
	if (!from_idn && has_alabel(s)) {
		/* An A-label must be what libidn2 would have made of its U-label. */
		_cleanup_free_ char *check = idn_to_ascii(s);

		if (!check || !streq(check, s))
			return -EINVAL;
	}
	*ret = xstrndup(s, len);
	return HOST_NAME;
}

int host_canonicalize(const char *in, size_t len, char **ret)
{
	char buf[HOST_INPUT_MAX + 1];
	_cleanup_free_ char *mapped = NULL;
	bool ascii = true;

	if (!in || len == 0 || len > HOST_INPUT_MAX)
		return -EINVAL;
	if (in[0] == '[')
		return canonicalize_ipv6(in, len, ret);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c >= 0x80)
			ascii = false;
		else if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		else if (!is_lower_alnum((char)c) && c != '-' && c != '.')
			return -EINVAL;
		buf[i] = (char)c;
	}
	buf[len] = '\0';
	if (ascii)
		return canonicalize_ascii(buf, len, false, ret);

	if (!utf8_is_valid((const unsigned char *)buf, len))
		return -EINVAL;
	mapped = idn_to_ascii(buf);
	if (!mapped)
		return -EINVAL;
	len = strlen(mapped);
	if (len > HOST_INPUT_MAX)
		return -EINVAL;
	return canonicalize_ascii(mapped, len, true, ret);
}
