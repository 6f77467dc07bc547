/* SPDX-License-Identifier: MIT */
/*
 * secrets.h - the local secret store ($DATA/secrets/NAME) and the value sources of a secret
 *
 * The store keeps one file per secret, mode 0600 in a 0700 directory, written atomically. A
 * configured secret (struct config_secret, config.h) takes its value from paddock's own
 * environment, a file, a command run on the host side, or the store:
 *
 *	char *v = NULL, *err = NULL;
 *	size_t n;
 *	r = secret_resolve(config_secret_find(c, "GH_TOKEN"), &v, &n, &err);
 *	...
 *	secret_value_free(v, n);     zeroes, then frees
 *
 * Nothing here logs: functions return 0 or -errno, and those that take @reterr set it to a
 * message naming the secret and the source. docs/design/secrets.md has the rules.
 */
#pragma once

#include <stddef.h>
#include <time.h>

#include "common/cleanup.h"
#include "config.h"

#define SECRET_VALUE_MAX (64u * 1024u) /* bytes of a value, from any source */

/* struct secret_entry - one secret of the store, as listed: never its value */
struct secret_entry {
	char *name;
	struct timespec mtime;
};

/**
 * secret_store_dir() - the store's directory, $DATA/secrets (not created)
 * @ret: the path
 *
 * Return: 0 or -errno (from paths_data_dir()).
 */
int secret_store_dir(char **ret);

/**
 * secret_value_check() - can @v be a secret's value?
 * @v: the value
 * @len: its length
 * @reterr_why: set to a static reason on failure, if not NULL
 *
 * A value is injected into HTTP header values, so it is 1 to SECRET_VALUE_MAX bytes without
 * control characters other than tab (no NUL, CR or LF).
 *
 * Return: 0, -EINVAL (empty or a control byte) or -EFBIG.
 */
int secret_value_check(const void *v, size_t len, const char **reterr_why);

/**
 * secret_store_set() - store a value, replacing the secret's old value atomically
 * @dir: the store directory, or NULL for secret_store_dir(); created 0700 (with missing
 *       parents 0700) if needed
 * @name: the secret's name (config_secret_name_is_valid())
 * @value: the value (secret_value_check())
 * @len: its length
 *
 * Writes a temporary file 0600, fsyncs it, renames it over NAME and fsyncs the directory.
 *
 * Return: 0, -EINVAL (name or value), -EFBIG, -EPERM (the directory is not ours or not 0700),
 * -ELOOP (it is a symlink), or another -errno.
 */
int secret_store_set(const char *dir, const char *name, const void *value, size_t len);

/**
 * secret_store_get() - read a stored value
 * @dir: the store directory, or NULL
 * @name: the secret's name
 * @ret_value: the value, NUL-terminated; free with secret_value_free()
 * @ret_len: its length
 *
 * Return: 0, -ENOENT (no such secret), -EINVAL (invalid name or value), -EPERM (the file or
 * directory is not ours or is readable by others), -ELOOP, or another -errno.
 */
int secret_store_get(const char *dir, const char *name, char **ret_value, size_t *ret_len);

/**
 * secret_store_list() - the stored secrets, sorted by name
 * @dir: the store directory, or NULL
 * @ret: the entries (free with secret_entries_free()); NULL when there are none
 * @ret_n: how many
 *
 * A missing store is empty. Files that are not regular or whose names are not secret names
 * (temporary files) are skipped.
 *
 * Return: 0, -EPERM, -ELOOP or another -errno.
 */
int secret_store_list(const char *dir, struct secret_entry **ret, size_t *ret_n);

/* secret_entries_free() - free what secret_store_list() returned */
void secret_entries_free(struct secret_entry *l, size_t n);

/**
 * secret_store_remove() - remove a stored secret
 * @dir: the store directory, or NULL
 * @name: the secret's name
 *
 * Return: 0, -ENOENT, -EINVAL (invalid name) or another -errno.
 */
int secret_store_remove(const char *dir, const char *name);

/* secret_value_free() - zero @len bytes of @v (and its NUL), then free it; @v may be NULL */
void secret_value_free(char *v, size_t len);

/**
 * secret_resolve_in() - the current value of a configured secret
 * @s: the secret
 * @store_dir: the store directory for "store", or NULL for secret_store_dir()
 * @ret_value: the value, NUL-terminated; free with secret_value_free()
 * @ret_len: its length
 * @reterr: set to a new message naming the secret and its source on failure
 *
 * env:VAR reads paddock's environment; file:PATH a regular file owned by us or root with no
 * group or other permissions; command:CMD runs /bin/sh -c CMD in its own process group with
 * stdin /dev/null, stderr inherited and stdout captured, killing the group after
 * @s->timeout_ms. One trailing newline ("\n" or "\r\n") is stripped from files and command
 * output. The value must pass secret_value_check().
 *
 * Return: 0, or -errno (-ENOENT unset variable, missing file or store entry; -EPERM file
 * permissions; -ETIMEDOUT; -EIO a command failed; -EINVAL, -EFBIG an unusable value).
 */
int secret_resolve_in(const struct config_secret *s, const char *store_dir, char **ret_value,
		      size_t *ret_len, char **reterr);

/* secret_resolve() - secret_resolve_in() with the default store */
int secret_resolve(const struct config_secret *s, char **ret_value, size_t *ret_len, char **reterr);

/**
 * secret_check_selected() - may `--secret NAME` be used with this configuration?
 * @c: the effective configuration (after the project config)
 * @name: the NAME given
 * @store_dir: the store directory, or NULL (to tell "only in the store" apart)
 * @reterr: set to a new message on failure
 *
 * A secret must be declared in the configuration with its hosts, also a stored one: a value
 * without hosts could not be injected anywhere.
 *
 * Return: 0, -EINVAL (invalid name) or -ENOENT (not declared; the message says what to add).
 */
int secret_check_selected(const struct paddock_config *c, const char *name, const char *store_dir,
			  char **reterr);
