/* SPDX-License-Identifier: MIT */
/*
 * run.h - the foreground supervisor of `paddock run`
 */
#pragma once

#include "sandbox/spec.h"

struct json_object;
struct policy;

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
};

int supervisor_run(const struct sandbox_spec *spec, const struct supervisor_hooks *hooks);
