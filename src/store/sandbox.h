/* SPDX-License-Identifier: MIT */
/*
 * sandbox.h - the state of persistent (named) sandboxes (SPEC.md section 6)
 *
 * $DATA/sandboxes/NAME/ holds config.json (how it was created), state.json (what its
 * supervisor last said: running, exited, stopped), home/ (its home), audit.jsonl, and a lock
 * file. $RUNTIME/NAME/ holds ctl.sock and supervisor.log while a supervisor runs.
 *
 * The lock file is the liveness truth: a supervisor holds an exclusive flock() on it for its
 * whole life (the kernel drops it when the process dies, however it dies), so "running" is
 * "the lock is held", without pids that can be reused.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct json_object;

#define SANDBOX_NAME_MAX 63

enum sandbox_state {
	SANDBOX_CREATED,   /* never started */
	SANDBOX_RUNNING,   /* its supervisor holds the lock */
	SANDBOX_SUSPENDED, /* running, every process stopped (from the supervisor) */
	SANDBOX_EXITED,    /* its command ended by itself; state.json has the status */
	SANDBOX_STOPPED,   /* stopped with `paddock stop` */
	SANDBOX_CRASHED,   /* state.json says running, but no supervisor holds the lock */
	_SANDBOX_STATE_MAX,
};

const char *sandbox_state_to_string(enum sandbox_state s);

/*
 * sandbox_name_check() - 1 to 63 of [A-Za-z0-9_.-], starting with a letter or digit, and not
 * a name paddock's runtime directory uses itself (run-N, placeholders.lock).
 * Return: 0 or -EINVAL with @ret_why (static string).
 */
int sandbox_name_check(const char *name, const char **ret_why);

/* sandbox_dir() - $DATA/sandboxes/NAME (not created); sandbox_runtime() - $RUNTIME/NAME */
int sandbox_dir(const char *name, char **ret);
int sandbox_runtime(const char *name, char **ret);
/* sandbox_ctl_path() - $RUNTIME/NAME/ctl.sock; -ENAMETOOLONG when it does not fit sun_path */
int sandbox_ctl_path(const char *name, char **ret);

/*
 * sandbox_lock() - take the exclusive lock of the sandbox in @dir, without waiting
 * (-EBUSY when another process holds it) or waiting up to @wait_ms. The fd is CLOEXEC.
 * Return: the fd or -errno (-ENOENT: no such sandbox).
 */
int sandbox_lock(const char *dir, int wait_ms);

/* sandbox_is_locked() - 1 when a supervisor holds the lock, 0 when not, -errno */
int sandbox_is_locked(const char *dir);

/*
 * sandbox_json_write() / _read() - @dir/@file, atomically and durably (write, fsync, rename)
 */
int sandbox_json_write(const char *dir, const char *file, struct json_object *o);
int sandbox_json_read(const char *dir, const char *file, struct json_object **ret);

/*
 * sandbox_state_set() - state.json := {"state": @state, "time": now, ...@fields}; takes
 * @fields (may be NULL)
 */
int sandbox_state_set(const char *dir, const char *state, struct json_object *fields);

/*
 * sandbox_state_get() - the state as `ls` shows it: from the lock and state.json.
 * @ret_state_json: state.json (NULL when absent), owned by the caller.
 */
enum sandbox_state sandbox_state_get(const char *dir, struct json_object **ret_state_json);

/*
 * rm_rf_at() - remove @name below @dirfd and everything in it, never following a symlink and
 * never leaving @dirfd's file system; directories without write or search permission (as a
 * sandbox may leave them) are made accessible first. 0 or -errno (the first error; it goes on
 * with the rest).
 */
int rm_rf_at(int parent, const char *name);

/* sandbox_list() - the names under $DATA/sandboxes, sorted; NULL-terminated */
int sandbox_list(char ***ret);
