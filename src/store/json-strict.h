/* SPDX-License-Identifier: MIT */
/*
 * json-strict.h - read a JSON document strictly with json-c
 */
#pragma once

#include <stddef.h>

#include <json-c/json.h>

#include "common/cleanup.h"

#define JSON_STRICT_MAX_DEPTH 32

static inline void json_object_putp(struct json_object **o)
{
	if (*o)
		(void)json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

/**
 * json_parse_strict() - parse a JSON document whose top level is an object
 * @buf: the text; need not be NUL-terminated
 * @len: its length
 * @max: the largest @len accepted
 * @ret: the parsed object (release with json_object_put()); untouched on failure
 * @reterr_why: on failure, a new string saying why, with "line L, column C: " when a position
 *              is known
 *
 * Refuses documents larger than @max, NUL bytes, invalid UTF-8, anything json-c's strict mode
 * refuses, data after the value, nesting deeper than JSON_STRICT_MAX_DEPTH, a top level that
 * is not an object, duplicate keys in any object and keys containing NUL.
 *
 * Return: 0 or -EINVAL.
 */
int json_parse_strict(const char *buf, size_t len, size_t max, struct json_object **ret,
		      char **reterr_why);

/* json_type_article() - "a string", "an object", "a number", ... for messages */
const char *json_type_article(struct json_object *o);
