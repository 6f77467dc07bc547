/* SPDX-License-Identifier: MIT */
/*
 * run.h - the foreground supervisor of `paddock run`
 */
#pragma once

#include "sandbox/spec.h"

struct json_object;
struct policy;
struct sshagent_opts;
struct proxy_tls;
struct host_rule;

/*
 * supervisor_run() - start the sandbox of @spec and stay with it until its command exits:
 * relay the terminal (raw mode, window size) or leave the command on paddock's own stdio,
 * forward SIGINT/SIGTERM/SIGHUP to every process of the sandbox and kill it all if they do not
 * exit within a grace period. Logs its failures.
 * Return: the command's exit status (128+N when killed by signal N, 126/127 when it could not be
 * executed or found), or -errno when the sandbox could not be started.
 */
struct supervisor_hooks {
	/*
	 * prepare() - called once init exists and builds the sandbox, before init is told to
	 * mount the protected paths: create what they need on the host (placeholders). Logs its
	 * failures; a negative return stops the start.
	 */
	int (*prepare)(void *userdata);
	void *userdata;

	/* network capture (spec->net != NET_NONE): the policy (borrowed) and the audit sink */
	const struct policy *policy;
	void (*audit)(void *userdata, const char *type, struct json_object *fields);
	void *audit_userdata;

	/* the agent's model APIs, for its status (borrowed) */
	const struct host_rule *llm_hosts;
	size_t n_llm_hosts;

	/* TLS interception and secrets (borrowed; may be filled in by prepare()), or NULL */
	const struct proxy_tls *tls;

	/* --ssh-agent: the user's agent and the filter's options (NULL: none) */
	const char *ssh_agent_upstream;
	const struct sshagent_opts *ssh_agent;

	/* -p: port forwards, each valid for port_spec_parse() */
	char **publish;

	/* set by `paddock start`: run as a session supervisor */
	struct supervisor_session *session;
};

/*
 * struct supervisor_session - a session supervisor (paddock start): in the background, with
 * a control socket; the command runs on a pty whose output goes to a ring buffer and to the
 * clients attached through the control socket.
 */
struct supervisor_session {
	const char *name;
	int ctl_fd;            /* listening control socket (owned by the caller) */
	int ready_fd;          /* "1" is written here once the command runs, then closed; or -1 */
	int log_fd;            /* then put on stdout and stderr (the CLI's until then); or -1 */
	const char *state_dir; /* $DATA/sandboxes/NAME: state.json */
	bool wait_attach;      /* start -a: a client will attach; keep the output for it */
	/* out */
	bool stopped; /* it ended because of `paddock stop` (or SIGTERM), not by itself */
};

int supervisor_run(const struct sandbox_spec *spec, const struct supervisor_hooks *hooks);
