/* SPDX-License-Identifier: MIT */
/*
 * hostrule.h - HOST[:PORT] rules of the network policy (--allow, --deny, "allow", "deny")
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hostname.h"

/*
 * struct host_rule - one parsed, canonical rule
 * @kind: see enum host_kind
 * @host: lowercase name without a trailing dot (for HOST_WILDCARD the suffix after "*."), or
 *        the canonical text of the address (inet_ntop)
 * @port: 1-65535, or 0 for any port
 * @project_only: the rule exists only because a project config narrowed the policy; it never
 *                counts as an explicit permission for a private or loopback address
 */
struct host_rule {
	enum host_kind kind;
	char *host;
	uint16_t port;
	bool project_only;
};

/**
 * host_rule_parse() - parse and validate one HOST[:PORT] rule
 * @s: the text; need not be NUL-terminated; NUL bytes in it are refused
 * @len: its length
 * @ret: the parsed rule (free with host_rule_done()); untouched on failure
 * @reterr_why: if not NULL, set to a static string saying why on failure
 *
 * Return: 0 or -EINVAL.
 */
int host_rule_parse(const char *s, size_t len, struct host_rule *ret, const char **reterr_why);

/**
 * host_rule_format() - the canonical text of a rule
 * @r: the rule
 *
 * Return: a new string such as "*.example.com:443", "[::1]" or "1.2.3.4".
 */
char *host_rule_format(const struct host_rule *r);

/* host_rule_done() - free what @r holds (not @r itself) */
void host_rule_done(struct host_rule *r);

/* host_rule_equal() - same kind, host and port (ignores @project_only) */
bool host_rule_equal(const struct host_rule *a, const struct host_rule *b);

/*
 * host_rule_intersect() - the rule matching exactly the connections that both @a and @b
 * match, if that set is non-empty and expressible as one rule (it always is for this rule
 * language: host patterns are either nested or disjoint). Returns true and fills @ret (with
 * @ret->project_only false), or false when the two rules share nothing.
 */
bool host_rule_intersect(const struct host_rule *a, const struct host_rule *b,
			 struct host_rule *ret);

/**
 * host_rule_match_name() - does @r match the host name @name?
 * @r: the rule
 * @name: a canonical name (host_canonicalize() returned HOST_NAME for it)
 *
 * "example.com" matches only itself; "*.example.com" matches "a.example.com" and
 * "a.b.example.com" but neither "example.com" nor "badexample.com". Address rules never match
 * a name. Ports are not looked at.
 *
 * Return: true on a match.
 */
bool host_rule_match_name(const struct host_rule *r, const char *name);
