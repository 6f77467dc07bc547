/* SPDX-License-Identifier: MIT */
/*
 * main.c - paddock's entry point: global options, command dispatch, exit codes
 *
 * DOC: Theory of Operation
 * Global options come before the verb. The verb is looked up exactly in paddock_cmds[]. A
 * command returns its exit status (>= 0) or -errno after having logged why; only this file
 * turns the latter into 125, as podman does, so a caller can tell paddock's failures from the
 * sandboxed command's own status.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "cmd.h"
#include "common/log.h"

static const struct option global_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "debug", no_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{},
};

int main(int argc, char **argv)
{
	const struct paddock_cmd *cmd;
	int c, r;

	/*
	 * A closed 0, 1 or 2 would be taken by the next open() or socket() and then be handed to
	 * the sandboxed command as its stdio: fill them with /dev/null first.
	 */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			int n = open("/dev/null", O_RDWR);

			if (n < 0)
				return PADDOCK_EXIT_ERROR;
			if (n != fd) {
				(void)dup2(n, fd);
				(void)close(n);
			}
		}

	log_open();
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", global_opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			arg_config = optarg;
			break;
		case 'd':
			arg_debug = true;
			log_set_max_level(LOG_DEBUG);
			break;
		case 'h':
			cmd_print_list();
			return 0;
		case 'V':
			cmd = cmd_find("version");
			optind = 0; /* full reset, as for any command: it parses its own argv */
			r = cmd->exec(1, (char *[]){ (char *)"version", NULL });
			return r < 0 ? PADDOCK_EXIT_ERROR : r;
		case ':':
			log_error("option '%s' needs a value", argv[optind - 1]);
			return PADDOCK_EXIT_ERROR;
		default:
			log_error("unknown global option '%s'; run 'paddock help'",
				  argv[optind - 1]);
			return PADDOCK_EXIT_ERROR;
		}
	}
	if (optind >= argc) {
		cmd_print_list();
		return PADDOCK_EXIT_ERROR;
	}
	cmd = cmd_find(argv[optind]);
	if (!cmd) {
		log_error("unknown command '%s'; run 'paddock help' for the list", argv[optind]);
		return PADDOCK_EXIT_ERROR;
	}
	argc -= optind;
	argv += optind;
	optind = 0; /* full reset: the command parses its own argv */
	r = cmd->exec(argc, argv);
	if (r < 0)
		return PADDOCK_EXIT_ERROR;
	return r > 255 ? PADDOCK_EXIT_ERROR : r;
}
