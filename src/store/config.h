/* SPDX-License-Identifier: MIT */
/*
 * config.h - the effective configuration: defaults, JSON files, options, project narrowing
 *
 * The `run` and `create` commands build it in this order (SPEC.md section 5,
 * docs/design/config.md):
 *
 *	_cleanup_(config_freep) struct paddock_config *c = config_new();   built-in defaults
 *	config_load_files(c, arg_config, &err);       /etc, then user config or --config FILE
 *	config_set_option(c, "--memory", "4G", &err); once per option given, in argv order
 *	config_load_project(c, workspace_fd, workspace_path, &err);  .paddock.json, narrow only
 *
 * Each of these returns 0 or -errno and, on failure, a message in *reterr ("FILE: key 'K':
 * reason" or "--flag: reason") for the caller to log; @c is left unchanged on failure.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cleanup.h"
#include "hostrule.h"

/* Ordered narrowest first: a project may only move it down. */
enum config_net {
	CONFIG_NET_NONE,
	CONFIG_NET_ALLOWLIST,
	CONFIG_NET_PUBLIC,
	_CONFIG_NET_MAX,
	_CONFIG_NET_INVALID = -EINVAL,
};

/* struct config_env - one -e NAME[=VALUE]; @value NULL passes the host's value of @name */
struct config_env {
	char *name;
	char *value;
};

/* struct config_volume - one -v SRC:DST[:ro]; both normalized absolute paths */
struct config_volume {
	char *src;
	char *dst;
	bool ro;
};

/* where a secret's value comes from (docs/design/secrets.md) */
enum secret_from {
	SECRET_FROM_ENV,     /* env:VAR, paddock's own environment */
	SECRET_FROM_FILE,    /* file:PATH */
	SECRET_FROM_COMMAND, /* command:CMD, /bin/sh -c CMD on the host side */
	SECRET_FROM_STORE,   /* store: $DATA/secrets/NAME */
	_SECRET_FROM_MAX,
	_SECRET_FROM_INVALID = -EINVAL,
};

/*
 * struct config_secret - one entry of "secrets"
 * @name: [A-Za-z][A-Za-z0-9_]{0,63}
 * @from: the value's source
 * @arg: VAR, PATH or CMD; NULL for SECRET_FROM_STORE
 * @hosts: the hosts the value may be sent to (at least one)
 * @env: the variable that holds the placeholder inside the sandbox (default @name)
 * @headers: lowercase header names the value may be injected in; NULL for any
 * @timeout_ms: how long a command: source may run
 */
struct config_secret {
	char *name;
	enum secret_from from;
	char *arg;
	struct host_rule *hosts;
	size_t n_hosts;
	char *env;
	char **headers;
	unsigned timeout_ms;
};

/*
 * struct config_profile - an agent profile from the config's "profiles" (SPEC.md section 5);
 * the built-in ones are in store/profile.c. Lists are NULL-terminated, or NULL.
 * @command: the agent's command line (argv); its basename also selects the profile
 * @llm_hosts: HOST[:PORT] rules of the model APIs ("thinking" in `paddock status`)
 * @secrets: environment variable names of the keys it reads: a declared secret whose env is
 *           one of them is exposed by default
 * @home: the directories (relative to the home) where it keeps its state
 * @allow: HOST[:PORT] rules it needs in allowlist mode (besides @llm_hosts)
 */
struct config_profile {
	char *name;
	char **command;
	char **llm_hosts;
	char **secrets;
	char **home;
	char **allow;
};

void config_profile_done(struct config_profile *p);

/*
 * profile_apply() - the profile's effects on the config: its llm_hosts, and its llm_hosts and
 * allow rules as --allow (they matter in allowlist mode). 0 or -EINVAL with @reterr.
 */
struct paddock_config;
int profile_apply(struct paddock_config *c, const struct config_profile *p, char **reterr);
bool config_profile_name_is_valid(const char *s);

#define CONFIG_SECRET_TIMEOUT_MS_DEFAULT 10000u
#define CONFIG_SECRET_TIMEOUT_S_MAX      300u
#define CONFIG_SECRET_NAME_MAX           64

#define CONFIG_DEFAULT_IMAGE  "host"
#define CONFIG_DEFAULT_MEMORY (UINT64_C(8) << 30)
#define CONFIG_DEFAULT_PIDS   UINT64_C(4096)
#define CONFIG_MAX_FILE_SIZE  (1024 * 1024)

/*
 * struct paddock_config - the effective configuration of one sandbox
 * @image: image name ([a-z0-9][a-z0-9._-]{0,63}); "host" by default
 * @net: network mode
 * @allow: host rules that allow; in CONFIG_NET_PUBLIC they only matter for addresses that the
 *         policy would otherwise deny (private ones), unless project_only is set
 * @deny: host rules that deny; always win over @allow
 * @env: extra environment, later entries for the same name replaced earlier ones
 * @volumes: extra bind mounts, a later one for the same destination replaced the earlier one
 * @memory: memory limit in bytes; 0 = no limit
 * @pids: pids limit; 0 = no limit
 * @cpus: CPU limit in CPUs; 0 = no limit (the default)
 * @hostname: hostname inside, or NULL for the default
 * @protect: workspace-relative paths protected in addition to the built-in list; a trailing
 *           '*' in the last component is a prefix glob
 * @publish: host ports forwarded into the sandbox, as -p writes them ("[IP:]HOSTPORT[:PORT]"),
 *           checked by port_spec_parse(); appended, duplicates dropped; trusted layers only
 * @inspect: hosts whose TLS the proxy terminates even without a bound secret (a project may
 *           add to it: inspecting narrows what passes unseen)
 * @splice: hosts whose TLS the proxy never terminates (pinned clients); wins over @inspect
 *          and over a bound secret; trusted layers only
 * @tls_upstream_ca: PEM files the proxy trusts for upstream servers besides the host's
 *                   store (config tls.upstream_ca; trusted layers only)
 * @secrets: the secrets that may be exposed with --secret, by name, in definition order
 * @secrets_removed: names that the project config removed (for a better --secret message)
 * @sources: the files that were applied, in order (for --debug and inspect)
 * @project_file: the .paddock.json that narrowed this config, or NULL
 * @exec_audit: log every program started in the sandbox (config "audit": {"exec": false}
 *              turns it off; trusted layers only)
 */
struct paddock_config {
	char *image;
	enum config_net net;
	struct host_rule *allow;
	size_t n_allow;
	struct host_rule *deny;
	size_t n_deny;
	struct config_env *env;
	size_t n_env;
	struct config_volume *volumes;
	size_t n_volumes;
	uint64_t memory;
	uint64_t pids;
	double cpus;
	char *hostname;
	char **protect;
	char **publish;
	struct host_rule *inspect;
	size_t n_inspect;
	struct host_rule *splice;
	size_t n_splice;
	char **tls_upstream_ca;
	struct config_profile *profiles; /* "profiles": added to or replacing the built-ins */
	size_t n_profiles;
	struct host_rule *llm_hosts; /* the agent's model APIs: a request there is "thinking" */
	size_t n_llm_hosts;
	char **ssh_confirm;           /* ssh_agent.confirm: the confirmation command (argv) */
	char **ssh_keys;              /* ssh_agent.keys: the only keys exposed ("SHA256:...") */
	unsigned ssh_confirm_timeout; /* ssh_agent.timeout: seconds; 0 = the default */
	struct config_secret *secrets;
	size_t n_secrets;
	char **secrets_removed;
	char **sources;
	char *project_file;
	bool exec_audit;
};

/**
 * config_new() - a new configuration holding the built-in defaults
 *
 * Return: the new config; never NULL (OOM aborts). Free with config_free().
 */
struct paddock_config *config_new(void);

/**
 * config_free() - free a configuration
 * @c: the config, or NULL
 *
 * Return: NULL
 */
struct paddock_config *config_free(struct paddock_config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct paddock_config *, config_free)

/**
 * config_load_files() - apply the system and the user configuration files
 * @c: the config to change
 * @config_file: the global --config FILE (replaces the user's file and must exist), or NULL
 *               for $XDG_CONFIG_HOME/paddock/config.json
 * @reterr: set to a new message on failure (the caller logs and frees it)
 *
 * Applies /etc/paddock/config.json, then the user's file. Missing default files are skipped;
 * unreadable or invalid ones are errors. As root the user's config directory is /etc/paddock,
 * so that file is applied once. Each file is applied whole or not at all, but when the user's
 * file fails @c keeps the system file's values: treat any failure as fatal.
 *
 * Return: 0, or -errno (-EINVAL for an invalid file, -EFBIG, -ENOENT for a missing
 * @config_file, or the error of open/read).
 */
int config_load_files(struct paddock_config *c, const char *config_file, char **reterr);

/**
 * config_load_file() - apply one trusted (system or user) configuration file
 * @c: the config to change; unchanged on failure
 * @path: the file; symlinks are followed (it is the user's own file)
 * @must_exist: false makes a missing file a no-op
 * @reterr: set to a new message on failure
 *
 * Return: 1 when the file was applied, 0 when it is missing and may be, or -errno.
 */
int config_load_file(struct paddock_config *c, const char *path, bool must_exist, char **reterr);

/**
 * config_set_option() - apply one command-line option
 * @c: the config to change; unchanged on failure
 * @flag: the option as the user wrote it: --image, --net, --allow, --deny, --env/-e,
 *        --volume/-v, --memory, --pids, --cpus, --hostname, --protect
 * @value: its argument
 * @reterr: set to a new message on failure ("--memory: invalid size '12X'")
 *
 * Validates as the corresponding config key does; arrays are appended, scalars replaced.
 *
 * Return: 0, or -EINVAL (also for a @flag that is not a configuration option).
 */
int config_set_option(struct paddock_config *c, const char *flag, const char *value, char **reterr);

/**
 * config_load_project() - narrow a configuration with the workspace's .paddock.json
 * @c: the config to narrow, after all options were applied; unchanged on failure
 * @workspace_fd: an fd of the workspace directory (borrowed)
 * @workspace: the workspace's path, for messages
 * @reterr: set to a new message on failure
 *
 * The file is opened with O_NOFOLLOW: a symlink is refused. A key a project may not set, or a
 * value that would widen the policy, is an error (docs/design/config.md).
 *
 * Return: 1 when a project config was applied, 0 when there is none, or -errno (-ELOOP for
 * a symlink, -EINVAL for an invalid or widening file, -EFBIG).
 */
int config_load_project(struct paddock_config *c, int workspace_fd, const char *workspace,
			char **reterr);

/**
 * config_load_buffer() - apply a configuration held in memory
 * @c: the config to change; unchanged on failure
 * @name: the file name used in messages
 * @buf: the JSON text; need not be NUL-terminated
 * @len: its length
 * @project: apply it as a project config (narrow only) rather than a trusted file
 * @reterr: set to a new message on failure
 *
 * Return: 0 or -EINVAL.
 */
int config_load_buffer(struct paddock_config *c, const char *name, const char *buf, size_t len,
		       bool project, char **reterr);

/**
 * config_to_json() - the effective configuration as pretty-printed JSON
 * @c: the config
 *
 * For --debug and inspect. Rules that only a project allowed are listed under
 * "allow_public_only"; env entries without a value under "env_pass".
 *
 * Return: a new string; never NULL.
 */
char *config_to_json(const struct paddock_config *c);

/**
 * config_secret_find() - the secret called @name
 * @c: the config
 * @name: the name
 *
 * Return: the secret (borrowed from @c), or NULL.
 */
const struct config_secret *config_secret_find(const struct paddock_config *c, const char *name);

/* config_secret_name_is_valid() - [A-Za-z][A-Za-z0-9_]{0,63} */
bool config_secret_name_is_valid(const char *s);

/* secret_from_to_string() - "env", "file", "command", "store" */
const char *secret_from_to_string(enum secret_from f);

/* config_net_to_string() / config_net_from_string() - "public", "allowlist", "none" */
const char *config_net_to_string(enum config_net n);
enum config_net config_net_from_string(const char *s);
