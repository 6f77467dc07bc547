/* SPDX-License-Identifier: MIT */
/*
 * sshagent.h - a filtering ssh-agent proxy: list keys and sign, nothing else
 *
 * Runs in the supervisor's libevent loop. The sandbox's init creates a listening unix socket
 * inside the sandbox (SSH_AUTH_SOCK) and passes its fd out; the supervisor hands it over:
 *
 *	struct sshagent_opts o = { .confirm_argv = argv_or_NULL, .allowed_keys = fps_or_NULL,
 *				   .audit = audit_cb, .audit_userdata = sup };
 *	sshagent_new(base, getenv("SSH_AUTH_SOCK"), &o, &agent);
 *	sshagent_add_listener(agent, listen_fd);
 *	...
 *	sshagent_free(agent);
 *
 * docs/design/ssh-agent.md has the protocol rules and the choices.
 */
#pragma once

#include "common/cleanup.h"

struct event_base;
struct json_object;
struct sshagent;

#define SSHAGENT_CONFIRM_TIMEOUT_MS_DEFAULT 30000u
#define SSHAGENT_CLIENTS_DEFAULT            32u
#define SSHAGENT_UPSTREAM_TIMEOUT_MS        120000u /* the upstream's own confirmation (-c) */
#define SSHAGENT_LISTENERS_MAX              4u

/*
 * sshagent_audit_fn - the audit sink (as proxy_audit_fn)
 * @userdata: sshagent_opts.audit_userdata
 * @type: "ssh_sign"
 * @fields: fingerprint, key_type, purpose, decision ("allow" or "deny"), reason; the sink
 *          takes ownership (json_object_put() it)
 */
typedef void (*sshagent_audit_fn)(void *userdata, const char *type, struct json_object *fields);

/*
 * struct sshagent_opts - what sshagent_new() needs (copied, strings too)
 * @confirm_argv: a command run for every signature (posix_spawnp, in its own process group,
 *                stdin and stdout /dev/null, with PADDOCK_SSH_FINGERPRINT, PADDOCK_SSH_KEY_TYPE,
 *                PADDOCK_SSH_PURPOSE, PADDOCK_SSH_PROMPT and PADDOCK_SANDBOX in its
 *                environment); exit status 0 allows, anything else denies; NULL: no confirmation
 * @confirm_timeout_ms: deny and kill the command's process group after this; 0 for
 *                      SSHAGENT_CONFIRM_TIMEOUT_MS_DEFAULT
 * @allowed_keys: NULL-terminated "SHA256:..." fingerprints; NULL or empty allows every key of
 *                the upstream agent
 * @sandbox: the sandbox's name for the confirmation prompt, or NULL
 * @audit: the audit sink, or NULL
 * @audit_userdata: passed to @audit
 * @max_clients: connections at once; 0 for SSHAGENT_CLIENTS_DEFAULT
 */
struct sshagent_opts {
	char *const *confirm_argv;
	unsigned confirm_timeout_ms;
	char *const *allowed_keys;
	const char *sandbox;
	sshagent_audit_fn audit;
	void *audit_userdata;
	unsigned max_clients;
};

/**
 * sshagent_new() - a filter in front of the agent at @upstream, with no listener yet
 * @base: the event loop (borrowed; outlives the filter)
 * @upstream: the path of the user's agent socket (copied); connected per client, when the
 *            client's first request that needs it arrives
 * @o: the options (copied)
 * @ret: the filter (free with sshagent_free()); untouched on failure
 *
 * Return: 0, or -EINVAL (no base, a relative or too long @upstream, an invalid fingerprint in
 * @o->allowed_keys, an empty @o->confirm_argv).
 */
int sshagent_new(struct event_base *base, const char *upstream, const struct sshagent_opts *o,
		 struct sshagent **ret);

/**
 * sshagent_add_listener() - serve clients accepted on a listening unix socket
 * @a: the filter
 * @fd: a listening socket (takes ownership, also on failure); made non-blocking
 *
 * Return: 0, -EINVAL for a bad @fd, -EMFILE past SSHAGENT_LISTENERS_MAX, or -ENOMEM.
 */
int sshagent_add_listener(struct sshagent *a, int fd);

/* sshagent_client_count() - client connections open now */
unsigned sshagent_client_count(const struct sshagent *a);

/**
 * sshagent_free() - close every listener and connection, kill pending confirmation commands
 * @a: the filter, or NULL
 *
 * Return: NULL.
 */
struct sshagent *sshagent_free(struct sshagent *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct sshagent *, sshagent_free)
