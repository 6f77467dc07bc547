/* SPDX-License-Identifier: MIT */
/*
 * features.h - what this kernel and host offer the sandbox (probes for `doctor` and `version`)
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum feature_state {
	FEATURE_OK,      /* present and usable as the sandbox needs it */
	FEATURE_LIMITED, /* usable with less than the best: a fallback or an older ABI is in force */
	FEATURE_MISSING, /* absent or refused */
	_FEATURE_STATE_MAX,
	_FEATURE_STATE_INVALID = -EINVAL,
};

enum feature_id {
	FEATURE_USERNS,
	FEATURE_APPARMOR_USERNS,
	FEATURE_MOUNT_TMPFS,
	FEATURE_OVERLAYFS,
	FEATURE_NFTABLES,
	FEATURE_TUN,
	FEATURE_LANDLOCK,
	FEATURE_SECCOMP_NOTIFY,
	FEATURE_CGROUP2,
	FEATURE_LIMITS,
	FEATURE_PTY,
	FEATURE_SUBID,
	_FEATURE_ID_MAX,
	_FEATURE_ID_INVALID = -EINVAL,
};

/**
 * struct feature - the result of one probe
 * @id:        which probe
 * @key:       short stable name, for --json and the `version` summary ("userns", "landlock")
 * @name:      human name, for the `doctor` table ("user namespaces")
 * @state:     OK, LIMITED or MISSING
 * @required:  the default `paddock run` refuses to start without it (a LIMITED state is enough)
 * @value:     a probe-specific number: the Landlock ABI, the libseccomp API level; else 0
 * @detail:    what was found, in one line
 * @fix:       when not OK: what to do, naming the exact sysctl, package or kernel option; else ""
 */
struct feature {
	enum feature_id id;
	const char *key;
	const char *name;
	enum feature_state state;
	bool required;
	int value;
	char detail[256];
	char fix[256];
};

/**
 * feature_probe() - run one probe. Side-effect free: any child is killed and reaped, any
 * mount or device lives only in the child's throw-away namespaces. Never blocks for more than
 * about a second. Does not log above debug.
 * @id:  the probe
 * @ret: filled in completely
 */
void feature_probe(enum feature_id id, struct feature *ret);

/**
 * features_probe_all() - run every probe, in enum feature_id order
 * @ret: an array of _FEATURE_ID_MAX entries
 */
void features_probe_all(struct feature ret[static _FEATURE_ID_MAX]);

/**
 * features_default_run_ok() - whether everything the default `run` requires is present
 * Return: true when no required feature is MISSING.
 */
bool features_default_run_ok(const struct feature *f, size_t n);

/**
 * feature_state_to_string() - "ok", "limited", "missing"; NULL when out of range
 */
const char *feature_state_to_string(enum feature_state s);

/**
 * landlock_abi_describe() - what a Landlock ABI version adds, cumulatively
 * @abi: the ABI version (>= 1)
 * @buf: receives e.g. "fs, refer, truncate, net, ioctl_dev, scoping, logging"
 * @n:   size of @buf
 */
void landlock_abi_describe(int abi, char *buf, size_t n);

/* Parsers, exposed for the unit tests */

/**
 * cgroup_parse_self() - find the cgroup v2 path in the text of /proc/self/cgroup
 * @contents: the file's text
 * @ret_path: receives a new string holding the path after "0::" (e.g. "/user.slice/x.scope")
 * Return: 0, or -ENOENT when there is no "0::" line (a cgroup v1 only host), -EINVAL when the
 * path is not absolute.
 */
int cgroup_parse_self(const char *contents, char **ret_path);

/**
 * cgroup_controllers_has() - whether a cgroup.controllers or cgroup.subtree_control text lists
 * @controller as a whole word
 */
bool cgroup_controllers_has(const char *list, const char *controller);

/**
 * subid_parse() - find @user's (or @uid's) first range in /etc/subuid or /etc/subgid text
 * @contents:  the file's text: "NAME-OR-UID:START:COUNT" lines, '#' comments allowed
 * @user:      the user's name, or NULL
 * @uid:       the user's id (lines may name it numerically)
 * @ret_start: receives the first subordinate id
 * @ret_count: receives the size of the range
 * Return: 0, -ENOENT when no line matches, -EINVAL when a matching line is malformed.
 */
int subid_parse(const char *contents, const char *user, uid_t uid, unsigned long *ret_start,
		unsigned long *ret_count);
