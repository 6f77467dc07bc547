/* SPDX-License-Identifier: MIT */
/*
 * cmd-doctor.c - `paddock doctor [--json]`: is this host able to run sandboxes?
 *
 * DOC: Theory of Operation
 * Runs every probe of sandbox/features.c and prints one line per probe: its state, its name,
 * what was found and, when something is not OK, the exact fix (a sysctl, a package, a kernel
 * parameter). A sandbox fails closed, so the user needs to learn here, and not from a failed
 * `run`, that e.g. AppArmor forbids user namespaces.
 *
 * The exit status is 0 when everything the default `paddock run` needs is present (a LIMITED
 * state counts as present: a fallback is used and named), 1 otherwise. Missing optional
 * features (golden images, network capture, --root with subordinate ids) are shown but do not
 * fail the check. The mechanism that enforces each default resource limit (cgroup v2 or
 * rlimits, sandbox/limits.c) is printed last because DESIGN.md promises the user that `doctor`
 * says which one applies.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cmd.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "config.h"
#include "sandbox/features.h"
#include "sandbox/limits.h"
#include "store/config.h"

enum {
	ARG_JSON = OPT_LONG_BASE,
};

static const struct paddock_opt doctor_opts[] = {
	{ "json", 0, NULL, false, "print a JSON document instead of the table", ARG_JSON },
	{},
};

static bool arg_json;

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put)

static const char *doctor_limits(const struct feature *f)
{
	return f[FEATURE_LIMITS].state == FEATURE_OK ? "cgroup2" : "rlimits";
}

static int doctor_print_json(const struct feature *f, bool ok)
{
	_cleanup_(json_object_putp) json_object *doc = json_object_new_object();
	json_object *probes = json_object_new_array();

	json_object_object_add(doc, "version", json_object_new_string(PADDOCK_VERSION));
	json_object_object_add(doc, "ok", json_object_new_boolean(ok));
	json_object_object_add(doc, "limits", json_object_new_string(doctor_limits(f)));
	json_object_object_add(doc, "probes", probes);
	for (int i = 0; i < _FEATURE_ID_MAX; i++) {
		json_object *p = json_object_new_object();

		json_object_object_add(p, "key", json_object_new_string(f[i].key));
		json_object_object_add(p, "name", json_object_new_string(f[i].name));
		json_object_object_add(p, "state",
				       json_object_new_string(feature_state_to_string(f[i].state)));
		json_object_object_add(p, "required", json_object_new_boolean(f[i].required));
		json_object_object_add(p, "detail", json_object_new_string(f[i].detail));
		json_object_object_add(p, "fix",
				       f[i].fix[0] ? json_object_new_string(f[i].fix) : NULL);
		if (f[i].value)
			json_object_object_add(p, "value", json_object_new_int(f[i].value));
		json_object_array_add(probes, p);
	}
	puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	return 0;
}

static void doctor_print_table(const struct feature *f, bool ok)
{
	for (int i = 0; i < _FEATURE_ID_MAX; i++) {
		char state[16];

		(void)snprintf(state, sizeof(state), "%s", feature_state_to_string(f[i].state));
		for (char *s = state; *s; s++)
			*s = (char)(*s - 'a' + 'A');
		printf("%-7s %-18s %s%s\n", state, f[i].name, f[i].detail,
		       f[i].state == FEATURE_OK || f[i].required ? "" : " (optional)");
		if (f[i].fix[0])
			printf("%-7s %-18s fix: %s\n", "", "", f[i].fix);
	}
	/* what `run` applies with the default limits */
	{
		struct limits_host h;
		struct limits_plan p = {};
		char what[512];

		(void)limits_probe(&h);
		(void)limits_plan(&h, CONFIG_DEFAULT_MEMORY, CONFIG_DEFAULT_PIDS, 0, &p, NULL);
		limits_host_done(&h);
		/* as run_launch(): the default memory limit needs a cgroup */
		if (p.memory_mech == LIMITS_MECH_RLIMIT) {
			p.memory_mech = LIMITS_MECH_NONE;
			p.memory = 0;
		}
		limits_describe(&p, what, sizeof(what));
		printf("\nresource limits: %s\n", what);
	}
	if (ok)
		printf("paddock run: ready\n");
	else
		printf("paddock run: not ready: fix the MISSING lines that are not (optional)\n");
}

static int cmd_doctor_exec(int argc, char **argv)
{
	_cleanup_(cmd_parser_done) struct cmd_parser p =
		CMD_PARSER_INIT(cmd_find("doctor"), argc, argv);
	struct feature f[_FEATURE_ID_MAX];
	bool ok;
	int r;

	r = cmd_parse_args(&p, &arg_json);
	if (r <= 0)
		return r;

	features_probe_all(f);
	ok = features_default_run_ok(f, _FEATURE_ID_MAX);
	if (arg_json)
		(void)doctor_print_json(f, ok);
	else
		doctor_print_table(f, ok);
	return ok ? 0 : 1;
}

const struct paddock_cmd paddock_cmd_doctor = {
	.name = "doctor",
	.usage = "[--json]",
	.summary = "Check that this host can run sandboxes, and say how to fix what is missing",
	.opts = doctor_opts,
	.min_args = 0,
	.max_args = 0,
	.exec = cmd_doctor_exec,
};
