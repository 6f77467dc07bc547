/* SPDX-License-Identifier: MIT */
/*
 * audit-write.c - write audit events with the real writer, for tests/logs.sh
 *
 * usage: audit-write PATH SANDBOX [MAX_SIZE]
 * Reads lines "TYPE [JSON-OBJECT]" from stdin and appends one event per line. Exits 1 when
 * an event was lost (audit_errors()), 2 on bad usage or input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "supervisor/audit.h"

int main(int argc, char **argv)
{
	_cleanup_free_ char *line = NULL;
	struct audit *a = NULL;
	size_t cap = 0;
	ssize_t n;
	int r;

	if (argc < 3 || argc > 4) {
		(void)fprintf(stderr, "usage: audit-write PATH SANDBOX [MAX_SIZE]\n");
		return 2;
	}
	r = audit_open(argv[1], argv[2], &a);
	if (r < 0) {
		(void)fprintf(stderr, "audit_open '%s': %s\n", argv[1], strerror(-r));
		return 2;
	}
	if (argc == 4)
		audit_set_max_size(a, strtoull(argv[3], NULL, 10));
	while ((n = getline(&line, &cap, stdin)) > 0) {
		struct json_object *fields = NULL;
		char *sp;

		if (line[n - 1] == '\n')
			line[--n] = '\0';
		sp = strchr(line, ' ');
		if (sp) {
			*sp = '\0';
			fields = json_tokener_parse(sp + 1);
			if (!fields) {
				(void)fprintf(stderr, "bad JSON: %s\n", sp + 1);
				audit_close(a);
				return 2;
			}
		}
		audit_event(a, line, fields);
	}
	r = audit_errors(a) ? 1 : 0;
	audit_close(a);
	return r;
}
