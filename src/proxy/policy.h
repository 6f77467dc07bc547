/* SPDX-License-Identifier: MIT */
/*
 * policy.h - the network policy engine: may the sandbox reach this host, port and address?
 *
 * docs/design/network-policy.md has the order of the checks and the reasons. In short, for
 * the proxy and the DNS server:
 *
 *	_cleanup_(addr_set_freep) struct addr_set *self = addr_set_new();
 *	addr_load_host_addresses(self);                        in the host's network namespace
 *	policy_new(config, add_hosts, self, &p);               once; immutable afterwards
 *
 *	DNS question NAME:     host_canonicalize(NAME) -> policy_check_name(p, name, 0, &rule)
 *	connection to a name:  host_canonicalize() the SNI/Host/CONNECT name (and check it is the
 *	                       name the connection was made to), policy_check_name(p, name, port),
 *	                       then the addresses: policy_add_host_lookup() or a real resolution,
 *	                       and policy_check_addr(p, name, port, addr) for each address right
 *	                       before dialling exactly that address
 *	connection to an IP:   policy_check_addr(p, NULL, port, addr)
 *
 * Every check returns POLICY_ALLOW or POLICY_DENY and the rule that decided, as text for the
 * audit log. The checks only read the policy: they are safe from several threads at once.
 */
#pragma once

#include <errno.h>
#include <stdint.h>

#include "addr.h"
#include "common/cleanup.h"
#include "common/hostname.h"
#include "store/config.h"

/* Zero is DENY: a verdict that was never set denies. */
enum policy_decision {
	POLICY_DENY,
	POLICY_ALLOW,
	_POLICY_DECISION_MAX,
	_POLICY_DECISION_INVALID = -EINVAL,
};

struct policy;

/**
 * policy_add_host_parse() - parse one --add-host NAME:IP
 * @s: "NAME:IP"; IP is a dotted quad or an IPv6 address, bare or in brackets
 *     ("db.test:10.0.0.5", "db.test:::1", "db.test:[::1]")
 * @ret_name: set to the canonical name (free()); untouched on failure
 * @ret_addr: set to the address; untouched on failure
 * @reterr_why: if not NULL, set to a static reason on failure
 *
 * NAME must be a host name (host_canonicalize() gives HOST_NAME), IP a literal in strict
 * form (no odd IPv4 spellings).
 *
 * Return: 0 or -EINVAL.
 */
int policy_add_host_parse(const char *s, char **ret_name, struct addr *ret_addr,
			  const char **reterr_why);

/**
 * policy_new() - build the policy of one sandbox
 * @c: the effective configuration: net mode, allow and deny rules (borrowed; not kept)
 * @add_hosts: the --add-host NAME:IP entries, NULL-terminated, or NULL
 * @host_self: the host's own addresses (addr_load_host_addresses()), or NULL for none;
 *             copied
 * @ret: the new policy (free with policy_free()); untouched on failure
 *
 * Return: 0, or -EINVAL when @c is NULL, has an invalid net mode or rule, or an @add_hosts
 * entry does not parse. An invalid policy is never built, and the checks deny when given a
 * NULL policy.
 */
int policy_new(const struct paddock_config *c, char *const *add_hosts,
	       const struct addr_set *host_self, struct policy **ret);

/* policy_free() - free @p (NULL is fine); returns NULL */
struct policy *policy_free(struct policy *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct policy *, policy_free)

/* policy_mode() - the net mode, or _CONFIG_NET_INVALID for a NULL policy */
enum config_net policy_mode(const struct policy *p);

/**
 * policy_check_name() - may a connection to @host on @port be attempted (before resolving)?
 * @p: the policy, or NULL (denies)
 * @host: a canonical host: the output of host_canonicalize(), a name or an IPv4/IPv6
 *        literal; anything that is not already canonical is denied ("host:invalid")
 * @port: the destination port, or 0 for a DNS question: "could any connection to this name
 *        be allowed?" (deny rules with a port then do not apply, allow rules with one do)
 * @ret_rule: if not NULL, set to the deciding rule for the audit log; it lives as long as @p
 *
 * A deny rule that matches wins; then mode none denies everything; a built-in name
 * (localhost, cloud metadata names) is denied unless an allow rule or --add-host names it
 * explicitly; in allowlist mode the name must match an allow rule or an --add-host name; in
 * public mode any name passes this stage. An IP literal is checked as policy_check_addr()
 * with no name. Passing this check allows nothing by itself: policy_check_addr() decides on
 * each address.
 *
 * Return: POLICY_ALLOW or POLICY_DENY.
 */
enum policy_decision policy_check_name(const struct policy *p, const char *host, uint16_t port,
				       const char **ret_rule);

/**
 * policy_check_addr() - may the proxy dial @addr on @port for a connection to @host?
 * @p: the policy, or NULL (denies)
 * @host: the canonical name the connection is for, or NULL when the sandbox connected to an
 *        IP literal (also when it was spelt as a name, such as "127.1")
 * @port: the destination port (1-65535; 0 denies)
 * @addr: the address the proxy resolved and is about to dial (IPv4-mapped is IPv4)
 * @ret_rule: if not NULL, set to the deciding rule for the audit log; it lives as long as @p
 *
 * Repeats the name checks of policy_check_name() (so it is a complete decision on its own),
 * then: a deny rule for the address wins; in allowlist mode a connection without a name needs
 * an allow rule for the address; an address of any class but ADDR_PUBLIC (the host's own
 * addresses included) is denied unless an allow rule for that address (with a matching port,
 * and not project_only) or an --add-host pair of exactly @host and @addr allows it.
 *
 * Return: POLICY_ALLOW or POLICY_DENY.
 */
enum policy_decision policy_check_addr(const struct policy *p, const char *host, uint16_t port,
				       const struct addr *addr, const char **ret_rule);

/**
 * policy_add_host_lookup() - the --add-host addresses of a name
 * @p: the policy
 * @host: a canonical name
 * @ret: filled with up to @max addresses, in the order given
 * @max: room in @ret
 *
 * A name given with --add-host is not resolved: the proxy dials these addresses instead (and
 * still checks each with policy_check_addr()).
 *
 * Return: the number of addresses the name has (may be more than @max), 0 when it has none.
 */
size_t policy_add_host_lookup(const struct policy *p, const char *host, struct addr *ret,
			      size_t max);

/* policy_decision_to_string() - "allow" or "deny" */
const char *policy_decision_to_string(enum policy_decision d);
