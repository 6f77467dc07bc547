/* SPDX-License-Identifier: MIT */
/*
 * test-completion.c - the completion generator covers every command and option of the table
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/completion.h"
#include "common/cleanup.h"
#include "common/macro.h"
#include "tap.h"

static char *generate(const char *shell)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	if (!f)
		return NULL;
	if (completion_generate(f, shell) < 0) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

static void check_covers_table(const char *shell)
{
	_cleanup_free_ char *s = generate(shell);

	ASSERT_NOT_NULL(s);
	for (const struct paddock_cmd *const *c = paddock_cmds; *c; c++) {
		char needle[128];

		ASSERT_NOT_NULL(strstr(s, (*c)->name));
		for (const struct paddock_opt *o = (*c)->opts; o && o->name; o++) {
			/* bash and zsh spell "--name", fish "-l name" */
			(void)snprintf(needle, sizeof(needle),
				       streq(shell, "fish") ? "-l %s" : "--%s", o->name);
			if (!strstr(s, needle))
				TAP_FAIL("%s: option '%s' of '%s' missing", shell, o->name,
					 (*c)->name);
			if (o->short_name) {
				(void)snprintf(needle, sizeof(needle),
					       streq(shell, "fish") ? "-s %c" : "-%c",
					       o->short_name);
				if (!strstr(s, needle))
					TAP_FAIL("%s: option '-%c' missing", shell, o->short_name);
			}
			if (o->complete && !streq(o->complete, "dir") &&
			    !streq(o->complete, "file"))
				ASSERT_NOT_NULL(
					strstr(s, o->complete)); /* the word list, verbatim */
		}
	}
	for (const struct paddock_opt *o = paddock_global_opts; o->name; o++)
		ASSERT_NOT_NULL(strstr(s, o->name));
}

TEST(bash_covers_table)
{
	check_covers_table("bash");
}

TEST(zsh_covers_table)
{
	check_covers_table("zsh");
}

TEST(fish_covers_table)
{
	check_covers_table("fish");
}

TEST(bash_registers_function)
{
	_cleanup_free_ char *s = generate("bash");

	ASSERT_NOT_NULL(strstr(s, "complete -F _paddock paddock\n"));
	ASSERT_NOT_NULL(strstr(s, "'run -w'|'run --workspace') REPLY='dir' ;;"));
	ASSERT_NOT_NULL(strstr(s, "paddock-command) COMPREPLY=($(compgen -W 'run "));
}

TEST(zsh_is_a_compdef)
{
	_cleanup_free_ char *s = generate("zsh");

	ASSERT_EQ(strncmp(s, "#compdef paddock\n", 17), 0);
	ASSERT_NOT_NULL(strstr(s, "_files -/"));
}

TEST(unknown_shell)
{
	FILE *f = fopen("/dev/null", "w");

	ASSERT_NOT_NULL(f);
	ASSERT_ERR(completion_generate(f, "tcsh"), EINVAL);
	fclose(f);
}

int main(void)
{
	return tap_run();
}
