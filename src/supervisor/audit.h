/* SPDX-License-Identifier: MIT */
/*
 * audit.h - the audit log: one JSON object per line per event (SPEC.md section 6)
 *
 * Every line starts with the same three members, in this order:
 *
 *   ts       RFC 3339 UTC time with milliseconds, "2025-01-31T09:05:01.123Z"
 *   sandbox  the sandbox's name
 *   type     the event type
 *
 * then the event's own fields, in the order the caller added them. Types and their fields
 * (a writer adds what it knows; a reader must accept any member missing or added):
 *
 *   start          argv (array), workspace, image, net, profile
 *   exit           status (exit code) or signal (name), duration_ms
 *   exec           pid, ppid, argv (array), cwd, path (the executable)
 *   net            host, port, ip, decision ("allow"/"deny"), rule, bytes_up, bytes_down,
 *                  duration_ms
 *   dns            name, qtype, answer (string or array), decision, rule
 *   deny           host, port, ip, rule, reason
 *   secret_inject  secret (name, never the value), host
 *   secret_leak    secret (name), host, port, where ("header", "query", "body")
 *   port           action ("listen", "remove"; per connection "open", then "close", or
 *                  "refused"), host_ip, host_port, port, exposed (listen), client,
 *                  bytes_up, bytes_down, duration_ms, error (src/supervisor/ports.c)
 *   attach, detach client (pid), tty
 *   ssh_sign       key (fingerprint), host, decision
 *
 * Any other lowercase identifier ([a-z][a-z0-9_]*, at most 32 bytes) is accepted as a type,
 * so a newer writer never needs a newer reader. A line whose fields had to be cut (see
 * audit.c) also carries "truncated": true.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#define AUDIT_MAX_SIZE_DEFAULT (32ULL * 1024 * 1024) /* rotate beyond this */
#define AUDIT_KEEP             4                     /* PATH.1 ... PATH.4 */
#define AUDIT_STRING_MAX       16384                 /* bytes of one string field */
#define AUDIT_ARRAY_MAX        1024                  /* elements of one array field */
#define AUDIT_LINE_MAX         (1024 * 1024)         /* bytes of one line, newline included */
#define AUDIT_TYPE_MAX         32

struct audit;

/*
 * audit_open() - open (create: mode 0600) the audit log at @path for appending, creating its
 * parent directory (mode 0700) if missing.
 * @path: the log file; rotated files are PATH.1 ... PATH.4
 * @sandbox: the name written in every line (copied)
 * @ret: the new writer, set only on success
 *
 * Does not log. Return: 0 or -errno.
 */
int audit_open(const char *path, const char *sandbox, struct audit **ret);

/*
 * audit_set_max_size() - rotate when a line would make the file larger than @bytes (0: never).
 * The default is AUDIT_MAX_SIZE_DEFAULT.
 */
void audit_set_max_size(struct audit *a, uint64_t bytes);

/*
 * audit_event() - append one event as one line, with a single write(2).
 * @a: the writer; NULL is accepted and drops the event (no log configured)
 * @type: the event type, a lowercase identifier (see above)
 * @fields: a JSON object of the event's fields, or NULL; ownership is taken in every case
 *
 * Strings are made valid UTF-8 and cut to the limits above before the line is built. Never
 * fails from the caller's point of view: a write error is counted (audit_errors()) and logged
 * as a warning the first time only.
 */
void audit_event(struct audit *a, const char *type, struct json_object *fields);

/* audit_errors() - how many events were lost (write errors, bad types) since audit_open() */
unsigned audit_errors(const struct audit *a);

/* audit_close() - close and free @a (NULL is fine). Return: NULL. */
struct audit *audit_close(struct audit *a);

/*
 * audit_format_ts() - @ms (milliseconds since the epoch) as RFC 3339 UTC with milliseconds,
 * "YYYY-MM-DDTHH:MM:SS.mmmZ", into @buf (at least 32 bytes).
 */
void audit_format_ts(int64_t ms, char *buf, size_t size);

/*
 * audit_parse_ts() - parse an RFC 3339 timestamp: "YYYY-MM-DDTHH:MM:SS", optional fraction
 * (any number of digits, kept to milliseconds), then "Z" or "+HH:MM"/"-HH:MM"; 't', 'z' and a
 * space for 'T' are accepted too (RFC 3339 section 5.6 note). Return: 0 and @ret_ms, or
 * -EINVAL.
 */
int audit_parse_ts(const char *s, int64_t *ret_ms);

/* audit_type_is_valid() - a lowercase identifier of at most AUDIT_TYPE_MAX bytes? */
bool audit_type_is_valid(const char *type);
