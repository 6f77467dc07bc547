/* SPDX-License-Identifier: MIT */
/*
 * json-strict.c - read a JSON document strictly with json-c
 *
 * DOC: Theory of Operation
 * json-c's tokener in strict mode (JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8) does the
 * parsing. Three things it does not do are added here: a size limit checked before parsing,
 * refusing trailing data with a position, and refusing duplicate keys. json-c keeps the last
 * of two equal keys silently, which would let a configuration file show "net": "none" to a
 * reviewer and mean "net": "public" further down. So, once json-c has accepted the text, it is
 * walked once more (cheaply: the structure is known to be valid) and each object's keys are
 * collected in a json-c object used as a hash set. Keys are decoded by json-c itself, so "net"
 * and "n\u0065t" are the same key; keys containing NUL are refused outright, as json-c's object
 * API would truncate them.
 *
 * The walk recurses at most JSON_STRICT_MAX_DEPTH levels, the depth json-c was given, so a
 * document json-c accepted is never too deep for it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/xmalloc.h"
#include "json-strict.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct json_tokener *, json_tokener_free)

const char *json_type_article(struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
	case json_type_int:
		return "a number";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	}
	return "something else";
}

static void offset_to_line_col(const char *buf, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else
			(*col)++;
	}
}

struct scan {
	const char *buf, *p, *end;
	struct json_tokener *tok;
	size_t err_off;
	const char *err;
};

static void scan_ws(struct scan *s)
{
	while (s->p < s->end && strchr(" \t\r\n", *s->p) && *s->p)
		s->p++;
}

static void scan_string(struct scan *s)
{
	for (s->p++; s->p < s->end && *s->p != '"'; s->p++)
		if (*s->p == '\\')
			s->p++;
	if (s->p < s->end)
		s->p++;
}

static int scan_value(struct scan *s, int depth);

/* NOLINTNEXTLINE(misc-no-recursion): scan_value() stops at JSON_STRICT_MAX_DEPTH */
static int scan_object(struct scan *s, int depth)
{
	_cleanup_json_ struct json_object *seen = json_object_new_object();
	int r;

	for (s->p++;;) {
		_cleanup_json_ struct json_object *key = NULL;
		const char *start;

		scan_ws(s);
		if (s->p >= s->end)
			return -EINVAL;
		if (*s->p == '}') {
			s->p++;
			return 0;
		}
		if (*s->p == ',') {
			s->p++;
			continue;
		}
		if (*s->p != '"')
			return -EINVAL;
		start = s->p;
		scan_string(s);
		json_tokener_reset(s->tok);
		key = json_tokener_parse_ex(s->tok, start, (int)(s->p - start));
		if (!key || !json_object_is_type(key, json_type_string))
			return -EINVAL;
		if (strlen(json_object_get_string(key)) !=
		    (size_t)json_object_get_string_len(key)) {
			s->err_off = (size_t)(start - s->buf);
			s->err = "NUL byte in key";
			return -EINVAL;
		}
		if (json_object_object_get_ex(seen, json_object_get_string(key), NULL)) {
			s->err_off = (size_t)(start - s->buf);
			s->err = "duplicate key";
			return -EINVAL;
		}
		(void)json_object_object_add(seen, json_object_get_string(key), NULL);
		scan_ws(s);
		if (s->p >= s->end || *s->p != ':')
			return -EINVAL;
		s->p++;
		r = scan_value(s, depth + 1);
		if (r < 0)
			return r;
	}
}

/* NOLINTNEXTLINE(misc-no-recursion): stops at JSON_STRICT_MAX_DEPTH */
static int scan_value(struct scan *s, int depth)
{
	int r;

	if (depth > JSON_STRICT_MAX_DEPTH)
		return -EINVAL;
	scan_ws(s);
	if (s->p >= s->end)
		return -EINVAL;
	switch (*s->p) {
	case '{':
		return scan_object(s, depth);
	case '[':
		for (s->p++;;) {
			scan_ws(s);
			if (s->p >= s->end)
				return -EINVAL;
			if (*s->p == ']') {
				s->p++;
				return 0;
			}
			if (*s->p == ',') {
				s->p++;
				continue;
			}
			r = scan_value(s, depth + 1);
			if (r < 0)
				return r;
		}
	case '"':
		scan_string(s);
		return 0;
	default:
		while (s->p < s->end && !strchr(",]} \t\r\n", *s->p))
			s->p++;
		return 0;
	}
}

static int fail(char **reterr_why, const char *buf, size_t off, const char *fmt, ...)
	_printf_(4, 5);
static int fail(char **reterr_why, const char *buf, size_t off, const char *fmt, ...)
{
	_cleanup_free_ char *why = NULL;
	size_t line, col;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&why, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (reterr_why) {
		if (buf) {
			offset_to_line_col(buf, off, &line, &col);
			*reterr_why = xasprintf("line %zu, column %zu: %s", line, col, why);
		} else
			*reterr_why = TAKE_PTR(why);
	}
	return -EINVAL;
}

int json_parse_strict(const char *buf, size_t len, size_t max, struct json_object **ret,
		      char **reterr_why)
{
	_cleanup_(json_tokener_freep) struct json_tokener *tok = NULL;
	_cleanup_json_ struct json_object *root = NULL;
	enum json_tokener_error jerr;
	size_t end;
	struct scan s;

	if (len > max || len > INT32_MAX)
		return fail(reterr_why, NULL, 0, "file is larger than %zu bytes", max);
	end = strnlen(buf, len);
	if (end < len)
		return fail(reterr_why, buf, end, "NUL byte in file");
	tok = json_tokener_new_ex(JSON_STRICT_MAX_DEPTH);
	if (!tok)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (!root || jerr != json_tokener_success) {
		if (jerr == json_tokener_continue || jerr == json_tokener_success) {
			size_t i = 0;

			while (i < len && strchr(" \t\r\n", buf[i]))
				i++;
			/* json-c waits for more input after a top-level number */
			if (i < len && buf[i] != '{' && buf[i] != '[' && buf[i] != '"')
				return fail(reterr_why, NULL, 0,
					    "the top level must be a JSON object");
			return fail(reterr_why, NULL, 0,
				    "unexpected end of file (incomplete JSON)");
		}
		return fail(reterr_why, buf, MIN(end, len), "JSON syntax error: %s",
			    json_tokener_error_desc(jerr));
	}
	for (size_t i = end; i < len; i++)
		if (!strchr(" \t\r\n", buf[i]))
			return fail(reterr_why, buf, i, "unexpected data after the JSON value");
	if (!json_object_is_type(root, json_type_object))
		return fail(reterr_why, NULL, 0, "the top level must be a JSON object, got %s",
			    json_type_article(root));

	s = (struct scan){ .buf = buf, .p = buf, .end = buf + end, .tok = tok };
	if (scan_value(&s, 0) < 0) {
		if (!s.err)
			return fail(reterr_why, NULL, 0, "JSON structure could not be scanned");
		return fail(reterr_why, buf, s.err_off, "%s", s.err);
	}
	*ret = TAKE_PTR(root);
	return 0;
}
