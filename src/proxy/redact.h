/* SPDX-License-Identifier: MIT */
/*
 * redact.h - a real value that a bound host sends back never reaches the sandbox
 *
 * See redact.c and docs/design/secrets.md ("Answers").
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "proxy/inject.h"

/* What a redacted byte becomes */
#define REDACT_CHAR '*'
/* Entries of the scan's shift table (a power of two) */
#define REDACT_SHIFT_SIZE 4096u
/* Independent scans interleaved over a long buffer */
#define REDACT_LANES 4u

/*
 * struct redact - the answers of one connection, checked for the real values of the secrets
 * bound to its host
 * @forms: inject_forms() for the host, @n of them; @longest bytes the longest
 * @m, @shift: the scan's window (the shortest form, at most 255 bytes) and shift table
 * @hold: two buffers of @longest bytes: the bytes held back (@hold_len, in hold[@cur]) because
 *        they could be the start of a form that the next piece completes
 * @at_start: the next bytes begin a message (or follow a flush)
 * @hit: the first secret redacted since redact_take_hit() last ran
 */
struct redact {
	struct inject_form *forms;
	size_t n, longest, m;
	uint8_t *shift;
	char *hold[2];
	size_t hold_len;
	unsigned cur;
	bool at_start;
	const char *hit;
};

/* redact_init() - check answers for the secrets bound to @host:@port (none: inactive) */
void redact_init(struct redact *r, const struct inject_table *t, const char *host, uint16_t port);

/* redact_active() - are there forms to look for? */
bool redact_active(const struct redact *r);

/* redact_done() - zero what is held and free it; accepts a zeroed struct */
void redact_done(struct redact *r);

/**
 * redact_buf() - redact every whole form in a complete buffer (a response head)
 * @r: the state
 * @buf: the bytes, changed in place
 * @len: how many
 *
 * Return: how many forms were redacted.
 */
size_t redact_buf(struct redact *r, char *buf, size_t len);

/**
 * redact_stream() - the next piece of a body or stream
 * @r: the state
 * @buf: the piece, changed in place
 * @len: its length
 * @out: set to the bytes to send now, in order: what was held before, and the start of @buf.
 *       They stay valid until the next call on @r.
 *
 * A form wholly in what was held and @buf is redacted, whatever the piece boundaries. The
 * longest tail that is the start of a form is held back, until the next piece or
 * redact_flush(). At the start of a message, the longest head of @buf that is the end of a
 * form (at least INJECT_FORM_MIN bytes) is redacted too.
 *
 * Return: how many entries of @out are set (0-2); their lengths add up to what can be sent.
 */
size_t redact_stream(struct redact *r, char *buf, size_t len, struct iovec out[2]);

/**
 * redact_flush() - the message ended, or the stream paused: give what is held
 * @r: the state
 * @out: set to the held bytes, redacted when they are INJECT_FORM_MIN bytes or more (a form
 *       cut short by the end of the message)
 *
 * What follows is treated as the start of a message. Return: 0 or 1 entries set.
 */
size_t redact_flush(struct redact *r, struct iovec out[1]);

/* redact_take_hit() - the first secret redacted since the last call (NULL: none); resets */
const char *redact_take_hit(struct redact *r);
