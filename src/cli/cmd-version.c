/* SPDX-License-Identifier: MIT */
/*
 * cmd-version.c - `paddock version [--json]`: this build's version, libraries and features
 *
 * DOC: Theory of Operation
 * A bug report needs three things: paddock's version, the versions of the libraries that the
 * binary runs with (the runtime ones: libseccomp and libevent may differ from the headers it
 * was built against), and what this kernel supports. The last comes from the same probes as
 * `paddock doctor`, printed in short form: "+name" present, "~name" limited (a fallback is in
 * force), "-name" missing; Landlock shows its ABI. `doctor` explains any of them.
 */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include <event2/event.h>
#include <json-c/json.h>
#include <seccomp.h>

#include "cmd.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "config.h"
#include "sandbox/features.h"

enum {
	ARG_JSON = OPT_LONG_BASE,
};

static const struct paddock_opt version_opts[] = {
	{ "json", 0, NULL, false, "print a JSON document", ARG_JSON },
	{},
};

static bool arg_json;

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put)

static void version_libseccomp(char *buf, size_t n)
{
	const struct scmp_version *v = seccomp_version();

	(void)snprintf(buf, n, "%u.%u.%u", v->major, v->minor, v->micro);
}

static int version_print_json(const struct utsname *u, const struct feature *f)
{
	_cleanup_(json_object_putp) json_object *doc = json_object_new_object();
	json_object *libs = json_object_new_object(), *features = json_object_new_object();
	char seccomp[32];

	version_libseccomp(seccomp, sizeof(seccomp));
	json_object_object_add(doc, "version", json_object_new_string(PADDOCK_VERSION));
	json_object_object_add(doc, "kernel", json_object_new_string(u->release));
	json_object_object_add(doc, "libraries", libs);
	json_object_object_add(libs, "libseccomp", json_object_new_string(seccomp));
	json_object_object_add(libs, "json-c", json_object_new_string(json_c_version()));
	json_object_object_add(libs, "libevent", json_object_new_string(event_get_version()));
	json_object_object_add(doc, "features", features);
	for (int i = 0; i < _FEATURE_ID_MAX; i++)
		json_object_object_add(features, f[i].key,
				       json_object_new_string(feature_state_to_string(f[i].state)));
	json_object_object_add(doc, "landlock_abi",
			       json_object_new_int(f[FEATURE_LANDLOCK].state == FEATURE_OK
							   ? f[FEATURE_LANDLOCK].value
							   : 0));
	puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	return 0;
}

static void version_print_text(const struct utsname *u, const struct feature *f)
{
	char seccomp[32];

	version_libseccomp(seccomp, sizeof(seccomp));
	printf("paddock %s\n", PADDOCK_VERSION);
	printf("libraries: libseccomp %s (API %u), json-c %s, libevent %s\n", seccomp,
	       seccomp_api_get(), json_c_version(), event_get_version());
	printf("kernel: %s %s\n", u->sysname, u->release);
	printf("features:");
	for (int i = 0; i < _FEATURE_ID_MAX; i++) {
		char sign = f[i].state == FEATURE_OK        ? '+'
			    : f[i].state == FEATURE_LIMITED ? '~'
							    : '-';

		if (f[i].id == FEATURE_LANDLOCK && f[i].state == FEATURE_OK)
			printf(" +%s=%d", f[i].key, f[i].value);
		else
			printf(" %c%s", sign, f[i].key);
	}
	printf("\n");
}

static int cmd_version_exec(int argc, char **argv)
{
	_cleanup_(cmd_parser_done) struct cmd_parser p =
		CMD_PARSER_INIT(cmd_find("version"), argc, argv);
	struct feature f[_FEATURE_ID_MAX];
	struct utsname u;
	int r;

	r = cmd_parse_args(&p, &arg_json);
	if (r <= 0)
		return r;

	if (uname(&u) < 0)
		return log_error_errno(errno, "version: uname failed: %m");
	features_probe_all(f);
	if (arg_json)
		return version_print_json(&u, f);
	version_print_text(&u, f);
	return 0;
}

const struct paddock_cmd paddock_cmd_version = {
	.name = "version",
	.usage = "[--json]",
	.summary = "Show the version, the libraries in use and the kernel features found",
	.opts = version_opts,
	.min_args = 0,
	.max_args = 0,
	.exec = cmd_version_exec,
};
