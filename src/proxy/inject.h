/* SPDX-License-Identifier: MIT */
/*
 * inject.h - secret placeholders: swap them in request heads to bound hosts, refuse them
 * anywhere else
 *
 * See inject.c and docs/design/http-engine.md.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "proxy/h1stream.h"
#include "proxy/http1.h"

/* A placeholder is "pdk_" NAME "_" 32 lowercase hex digits, NAME the secret's name lowercased
 * with '-' written '_' */
#define INJECT_PREFIX          "pdk_"
#define INJECT_NAME_MAX        64u
#define INJECT_HEX_LEN         32u
#define INJECT_PLACEHOLDER_MAX (STRLEN(INJECT_PREFIX) + INJECT_NAME_MAX + 1 + INJECT_HEX_LEN)
/* A real value: bytes, at most this many */
#define INJECT_VALUE_MAX (16u * 1024u)
/* Secrets in one table, hosts and header names of one secret */
#define INJECT_SECRETS_MAX 256u
#define INJECT_HOSTS_MAX   64u
#define INJECT_HEADERS_MAX 64u
/* Forms of one real value looked for in answers (redact.h), and the shortest one looked for */
#define INJECT_FORMS_MAX 8u
#define INJECT_FORM_MIN  8u
/* Reports kept for one head; more are counted but not listed */
#define INJECT_HITS_MAX 64u

enum inject_where {
	INJECT_WHERE_HEADER, /* a header field's value */
	INJECT_WHERE_BASIC,  /* inside Authorization: Basic base64(user:password) */
	INJECT_WHERE_QUERY,  /* the request-target's query */
	INJECT_WHERE_PATH,   /* the request-target's path: never swapped */
	INJECT_WHERE_BODY,   /* a request body: never swapped (inject_scan()) */
	INJECT_WHERE_STREAM, /* a relayed TCP or TLS stream: never swapped (inject_scan()) */
	_INJECT_WHERE_MAX,
	_INJECT_WHERE_INVALID = -EINVAL,
};

/* inject_where_to_string() - "header", "basic", "query", "path", "body", "stream" */
const char *inject_where_to_string(enum inject_where w);

struct inject_table;

/* inject_table_new() - an empty table. Never NULL. */
struct inject_table *inject_table_new(void);

/* inject_table_free() - zeroes every real value before freeing; accepts NULL, returns NULL */
struct inject_table *inject_table_free(struct inject_table *t);

/**
 * inject_table_add() - add one secret
 * @t: the table
 * @name: the secret's name: 1-64 letters, digits, '_' and '-'
 * @placeholder: its placeholder in this sandbox (inject_placeholder_new())
 * @value: the real value, @value_len bytes (1 to INJECT_VALUE_MAX); printable ASCII, SP and
 *         bytes >= 0x80 only, since it is written into header values: no control byte
 * @hosts: NULL-terminated HOST[:PORT] rules (store/hostrule.h) it is bound to; at least one
 * @headers: NULL, or the NULL-terminated header names it may be swapped in (Basic credentials
 *           count as "Authorization"); with a list, it is never swapped in the query
 * @reterr_why: if not NULL, set on failure to a static reason
 *
 * Copies everything it keeps. Return: 0; -EINVAL for an invalid argument or a name or
 * placeholder already in the table; -E2BIG past INJECT_SECRETS_MAX.
 */
int inject_table_add(struct inject_table *t, const char *name, const char *placeholder,
		     const void *value, size_t value_len, char *const *hosts, char *const *headers,
		     const char **reterr_why);

/* inject_table_size() - how many secrets @t holds; 0 for NULL */
size_t inject_table_size(const struct inject_table *t);

/**
 * inject_table_binds() - is a secret of @t bound to @host:@port?
 * @t: the table, or NULL
 * @host: a canonical name or address text
 * @port: the port
 *
 * Return: true when at least one secret would be swapped on requests to @host:@port.
 */
bool inject_table_binds(const struct inject_table *t, const char *host, uint16_t port);

/*
 * struct inject_form - one way a real value can be written in an answer
 * @secret: the secret's name (borrowed from the table)
 * @p: the bytes (a real value, or an encoding of one: borrowed from the table), @len of them
 */
struct inject_form {
	const char *secret;
	const char *p;
	size_t len;
};

/**
 * inject_forms() - the forms of the real values of the secrets bound to @host:@port
 * @t: the table, or NULL
 * @host: a canonical name or address text
 * @port: the port
 * @ret: set to a new array (free() it; the forms it points to belong to @t), or NULL
 *
 * For each secret: the value, percent-encoded, and base64 (standard and URL alphabets) at
 * each of the three alignments it can have inside a longer base64 text, leaving out the
 * characters that depend on the bytes around it. Forms shorter than INJECT_FORM_MIN are left
 * out: such short values would match ordinary text.
 *
 * Return: how many forms are in @ret.
 */
size_t inject_forms(const struct inject_table *t, const char *host, uint16_t port,
		    struct inject_form **ret);

/**
 * inject_placeholder_new() - a fresh placeholder for the secret @name
 * @name: as for inject_table_add()
 * @ret: set to a new string (free()) on success
 *
 * 128 bits from getrandom(2). Return: 0, -EINVAL for an invalid name, or getrandom's -errno.
 */
int inject_placeholder_new(const char *name, char **ret);

/*
 * struct inject_hit - one placeholder found in a head
 * @secret: the secret's name (borrowed from the table: valid while it lives)
 * @where: see enum inject_where
 * @field: for INJECT_WHERE_HEADER and _BASIC, the field's name (a span into the head)
 */
struct inject_hit {
	const char *secret;
	enum inject_where where;
	struct http_span field;
};

/*
 * struct inject_result - what inject_head() did
 * @edits: replacements for h1_head_rewrite() (they hold real values), @n_edits of them
 * @hits: on success the injections (secret_inject events), on -EACCES the placeholders that
 *        made it refuse (secret_leak events); at most INJECT_HITS_MAX, @n_hits of them
 */
struct inject_result {
	struct h1_edit *edits;
	size_t n_edits;
	struct inject_hit *hits;
	size_t n_hits;
};

/**
 * inject_head() - find and swap the placeholders in one request head
 * @t: the sandbox's secrets
 * @h: a request head (h1stream H1_EV_HEAD, or http1_parse_head() for plain HTTP)
 * @host: the host the request goes to: the SNI name (or the address) the connection was
 *        made to, as the policy checked it
 * @port: the port it goes to
 * @terminated: the proxy terminated this connection's TLS. False for plain HTTP: then every
 *              placeholder is refused.
 * @ret: filled on success and on -EACCES; release with inject_result_done()
 *
 * Placeholders are looked for in every field value, in the decoded credentials of
 * "Authorization: Basic", and in the request-target. One is swapped for its real value only
 * if the connection was terminated, the secret is bound to @host:@port, it is in the query or
 * in a header its allowlist names (any header without a list), never in the path. The query
 * gets the value percent-encoded (all but unreserved characters), Basic credentials are
 * re-encoded. Any placeholder that cannot be swapped refuses the whole request.
 *
 * Return: the number of placeholders swapped (0: send the head as it is); -EACCES to refuse
 * the request (answer 403, log a secret_leak per hit); -E2BIG when the swapped head would
 * exceed H1_OUT_HEAD_MAX.
 */
int inject_head(const struct inject_table *t, const struct http_head *h, const char *host,
		uint16_t port, bool terminated, struct inject_result *ret);

/* inject_result_done() - zero and free the edits' values and the arrays; accepts an empty one */
void inject_result_done(struct inject_result *r);

/*
 * struct inject_scan - the state of a scan over a stream given in pieces
 * @table: the secrets (borrowed)
 * @carry: the last bytes seen, up to one less than the longest placeholder, so that one
 *         split between two pieces is found
 */
struct inject_scan {
	const struct inject_table *table;
	size_t carry_len;
	char carry[INJECT_PLACEHOLDER_MAX];
};

/* inject_scan_init() - start a scan of a new stream (a body, one direction of a relay) */
void inject_scan_init(struct inject_scan *st, const struct inject_table *t);

/**
 * inject_scan() - look for placeholders in the next piece of a stream
 * @st: the scan
 * @buf: the piece
 * @len: its length
 *
 * Finds a placeholder wholly inside @buf or split across this piece and the ones before.
 * Nothing is swapped: the caller refuses the stream (a body to any host, or a stream the
 * proxy relays without terminating it) and logs secret_leak with the name.
 *
 * Return: the name of the first secret found (borrowed from the table), or NULL.
 */
const char *inject_scan(struct inject_scan *st, const void *buf, size_t len);
