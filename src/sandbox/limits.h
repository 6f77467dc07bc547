/* SPDX-License-Identifier: MIT */
/*
 * limits.h - resource limits of a sandbox: cgroup v2 when delegated, rlimits otherwise
 *
 * Use (supervisor, before the init is cloned; docs/design/limits.md):
 *
 *	struct limits_host h;
 *	struct limits_plan p;
 *	limits_probe(&h);                                  what this host offers us
 *	limits_plan(&h, cfg->memory, cfg->pids, milli, &p, &err);  what enforces each limit
 *	if (p.cgroup)
 *		limits_cgroup_create(&h, name, &p, &cg_fd, &step);  paddock-NAME-PID, limits written
 *	clone3(CLONE_INTO_CGROUP, cg_fd) or clone + limits_cgroup_attach(cg_fd, init_pid)
 *	limits_oom_protect_child(init_pid);                the OOM killer picks the sandbox first
 *	init, in the command child: limits_apply_rlimits(&p)   (async-signal-safe)
 *	stop: limits_cgroup_kill(cg_fd); exit: limits_cgroup_remove(&h, name, getpid())
 *
 * Everything here is non-logging; limits_probe() and limits_plan() explain themselves in
 * strings that the caller prints. struct limits_plan holds no pointers, so it can be copied
 * into the sandbox spec and read by the forked init.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The cgroup v2 controllers we use, as bits of struct limits_host's masks */
enum limits_ctrl {
	LIMITS_CTRL_MEMORY,
	LIMITS_CTRL_PIDS,
	LIMITS_CTRL_CPU,
	_LIMITS_CTRL_MAX,
	_LIMITS_CTRL_INVALID = -EINVAL,
};

/* What enforces one limit */
enum limits_mech {
	LIMITS_MECH_NONE,   /* no limit asked for (0) */
	LIMITS_MECH_CGROUP, /* memory.max, pids.max, cpu.max of the sandbox's cgroup */
	LIMITS_MECH_RLIMIT, /* RLIMIT_DATA (memory, per process) or RLIMIT_NPROC (pids) */
	_LIMITS_MECH_MAX,
	_LIMITS_MECH_INVALID = -EINVAL,
};

#define LIMITS_WHY_MAX    320
#define LIMITS_CPU_PERIOD 100000U /* cpu.max period in microseconds (the kernel's default) */

/**
 * struct limits_host - what limits_probe() found; free with limits_host_done()
 * @mount:       the cgroup2 mount point ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"), or NULL
 * @cgroup:      our cgroup as /proc/self/cgroup names it ("/user.slice/..."), or NULL
 * @dirfd:       O_PATH fd of our cgroup's directory, or -EBADF when it was not found
 * @is_root:     our cgroup is the hierarchy's root (exempt from "no internal processes")
 * @host_root:   we run as uid 0 of the initial user namespace, which RLIMIT_NPROC exempts
 * @can_create:  we may create a child cgroup (the directory is writable by us: delegated to
 *               our uid, or we are root)
 * @needs_leaf:  a controller we need is not enabled in our cgroup.subtree_control and our
 *               cgroup holds processes: limits_cgroup_create() first moves this process into
 *               the leaf "paddock-supervisor-PID" (it must be the only process there)
 * @available:   controllers in our cgroup.controllers (1 << LIMITS_CTRL_*)
 * @enabled:     controllers in our cgroup.subtree_control
 * @usable:      controllers a child of ours will have: available, and enabled or enableable
 * @freeze:      cgroup.freeze exists for a child (Linux >= 5.2)
 * @kill:        cgroup.kill exists for a child (Linux >= 5.14)
 * @why_cgroup:  why no child cgroup can be created, with the fix; "" when one can
 * @why_ctrl:    for each controller not in @usable: why, with the fix; else ""
 * @why_freeze:  why there is no cgroup freezer (suspend falls back to a SIGSTOP walk); or ""
 * @why_kill:    why there is no cgroup.kill (stop falls back to killing the init); or ""
 */
struct limits_host {
	char *mount;
	char *cgroup;
	int dirfd;
	bool is_root;
	bool host_root;
	bool can_create;
	bool needs_leaf;
	unsigned available;
	unsigned enabled;
	unsigned usable;
	bool freeze;
	bool kill;
	char why_cgroup[LIMITS_WHY_MAX];
	char why_ctrl[_LIMITS_CTRL_MAX][LIMITS_WHY_MAX];
	char why_freeze[LIMITS_WHY_MAX];
	char why_kill[LIMITS_WHY_MAX];
};

/**
 * struct limits_plan - what enforces each limit of one sandbox (plain data, no pointers)
 * @memory:      bytes; 0 = none
 * @pids:        processes; 0 = none
 * @cpus_milli:  thousandths of a CPU; 0 = none
 * @memory_mech: memory.max, or RLIMIT_DATA per process
 * @pids_mech:   pids.max, or RLIMIT_NPROC (per user namespace and uid since Linux 5.14)
 * @cpus_mech:   cpu.max; never an rlimit (limits_plan() refuses instead)
 * @cgroup:      create a cgroup for the sandbox (also for freeze and kill without any limit)
 * @needs_leaf:  copied from the host: limits_cgroup_create() moves us into a leaf first
 * @controllers: the controllers to enable for the sandbox's cgroup (1 << LIMITS_CTRL_*)
 * @pids_exempt: @pids_mech is RLIMIT_NPROC but the kernel does not apply it to the host's
 *               root user (uid 0 of the initial user namespace): not enforced
 * @freeze:      suspend by cgroup.freeze (else: SIGSTOP every process)
 * @kill:        stop by cgroup.kill (else: SIGKILL the init, pid 1 of its namespace)
 */
struct limits_plan {
	uint64_t memory;
	uint64_t pids;
	uint64_t cpus_milli;
	enum limits_mech memory_mech;
	enum limits_mech pids_mech;
	enum limits_mech cpus_mech;
	bool cgroup;
	bool needs_leaf;
	unsigned controllers;
	bool pids_exempt;
	bool freeze;
	bool kill;
};

/**
 * limits_probe() - find our cgroup v2 and what a child of it could enforce
 * @ret: filled in completely (also on failure: every why string says what is missing)
 *
 * Reads /proc/self/mountinfo (the cgroup2 mount), /proc/self/cgroup (the "0::" line), and
 * our cgroup's cgroup.controllers, cgroup.subtree_control and cgroup.procs. Changes nothing.
 *
 * Return: 0 when a child cgroup can be created (@ret->can_create), -ENOENT without a cgroup2
 * mount or entry, -EACCES when our cgroup is not delegated to us, or another -errno. In
 * every case @ret is usable by limits_plan(), which falls back to rlimits.
 */
int limits_probe(struct limits_host *ret);

/* limits_host_done() - free what limits_probe() allocated; @h may be zeroed or half-built */
void limits_host_done(struct limits_host *h);

/**
 * limits_plan() - decide what enforces each limit
 * @h:          the probe's result
 * @memory:     bytes, 0 = none
 * @pids:       processes, 0 = none
 * @cpus_milli: thousandths of a CPU (limits_cpus_to_milli()), 0 = none
 * @ret:        the plan; unchanged on failure
 * @ret_error:  on failure, a new message naming the option and what to do (caller frees)
 *
 * A controller in @h->usable enforces its limit by cgroup. Without it: pids by RLIMIT_NPROC,
 * memory by RLIMIT_DATA per process (not a total: RLIMIT_AS would break the address space
 * reservations of V8 and Go), and a CPU limit cannot be enforced at all: -EOPNOTSUPP with a
 * message that names --cpus (fail closed). A cgroup is used whenever one can be created,
 * even with no controller, for cgroup.freeze and cgroup.kill.
 *
 * Return: 0 or -EOPNOTSUPP.
 */
int limits_plan(const struct limits_host *h, uint64_t memory, uint64_t pids, uint64_t cpus_milli,
		struct limits_plan *ret, char **ret_error);

/**
 * limits_describe() - one line saying which mechanism enforces each limit of @p
 * @p:   the plan
 * @buf: receives e.g. "memory 8G by cgroup memory.max; pids 4096 by cgroup pids.max; cpus
 *       none; suspend by cgroup.freeze, stop by cgroup.kill" (for doctor, run --debug, ls)
 * @n:   size of @buf; the text is truncated to fit
 */
void limits_describe(const struct limits_plan *p, char *buf, size_t n);

/**
 * limits_cpus_to_milli() - the configuration's CPU count as thousandths of a CPU
 * @cpus: CPUs as config.c stores them (0 = none; else 0 < cpus <= 4096)
 * @ret:  thousandths, rounded to the nearest; 0 for @cpus 0
 *
 * Return: 0, -ERANGE when a positive @cpus rounds below 0.01 CPU (1 ms of every 100 ms, the
 * smallest quota the kernel accepts), -EINVAL when negative or not finite.
 */
int limits_cpus_to_milli(double cpus, uint64_t *ret);

/**
 * limits_cpu_max_format() - the cpu.max line "QUOTA PERIOD" for @cpus_milli
 * @cpus_milli: thousandths of a CPU; 0 writes "max 100000"
 * @buf:        receives the line, without a newline
 * @n:          size of @buf (32 is always enough)
 *
 * Return: 0, or -ENOBUFS when @buf is too small.
 */
int limits_cpu_max_format(uint64_t cpus_milli, char *buf, size_t n);

/**
 * limits_cgroup_create() - create and configure the sandbox's cgroup
 * @h:           the probe's result (borrowed; its @dirfd is the parent)
 * @name:        the sandbox's name: [A-Za-z0-9_.-]{1,64}, not starting with '.'
 * @p:           the plan (@p->cgroup must be set)
 * @ret_dirfd:   an O_RDONLY|O_DIRECTORY fd of the new cgroup (for clone3 CLONE_INTO_CGROUP
 *               and the calls below)
 * @reterr_step: on failure, what failed ("mkdir", "cgroup.subtree_control", "memory.max", ...)
 *
 * Creates <our cgroup>/paddock-NAME-PID. Controllers in @p->controllers that our
 * cgroup.subtree_control lacks are enabled first; when our cgroup holds processes (the
 * "no internal processes" rule makes that fail with EBUSY) and it holds only this process,
 * this process moves into the leaf "paddock-supervisor-PID" first. Then memory.max (and
 * memory.swap.max, the same value, when swap accounting exists), pids.max and cpu.max are
 * written as the plan says. On failure nothing is left behind but a leaf we moved into.
 *
 * Return: 0, -EINVAL for a bad @name, -EEXIST, -EBUSY when our cgroup holds other processes,
 * or the -errno of the step in @reterr_step.
 */
int limits_cgroup_create(const struct limits_host *h, const char *name, const struct limits_plan *p,
			 int *ret_dirfd, const char **reterr_step);

/* limits_cgroup_attach() - move @pid (all its threads) into the cgroup @dirfd: 0 or -errno */
int limits_cgroup_attach(int dirfd, pid_t pid);

/**
 * limits_cgroup_freeze() - freeze or thaw every process of the cgroup, and wait for it
 * @dirfd:      the cgroup
 * @frozen:     true to freeze, false to thaw
 * @timeout_ms: how long to wait for cgroup.events to say "frozen 1" (or 0 when thawing)
 *
 * Blocks up to @timeout_ms (a frozen task in uninterruptible sleep delays the freeze).
 *
 * Return: 0, -EOPNOTSUPP without cgroup.freeze, -ETIMEDOUT (the request stays in force: the
 * cgroup finishes freezing later), or -errno.
 */
int limits_cgroup_freeze(int dirfd, bool frozen, int timeout_ms);

/* limits_cgroup_kill() - SIGKILL every process of the cgroup: 0, -EOPNOTSUPP (no cgroup.kill) */
int limits_cgroup_kill(int dirfd);

/**
 * limits_cgroup_oom_kills() - how many processes the cgroup's memory limit has killed
 * @dirfd: the cgroup
 * @ret:   the "oom_kill" count of memory.events
 *
 * Return: 0, -EOPNOTSUPP without the memory controller, -EBADMSG for a malformed file.
 */
int limits_cgroup_oom_kills(int dirfd, uint64_t *ret);

/**
 * limits_cgroup_remove() - remove the sandbox's cgroup once its processes are gone
 * @h:       the probe's result (the parent)
 * @name:    the sandbox's name, as given to limits_cgroup_create()
 * @creator: the pid that created it (getpid() of the supervisor; another one for a cleanup
 *           after a crash)
 * @timeout_ms: how long to retry while processes are still exiting (EBUSY)
 *
 * Child cgroups made below it (by nobody we know of) are removed depth-first. Never kills.
 *
 * Return: 0, 0 too when it does not exist, -EBUSY when still populated after @timeout_ms.
 */
int limits_cgroup_remove(const struct limits_host *h, const char *name, pid_t creator,
			 int timeout_ms);

/**
 * limits_apply_rlimits() - set the fallback rlimits of @p on the calling process
 * @p: the plan
 *
 * For the command child in init, between fork and exec: async-signal-safe, no allocation,
 * no logging. Sets RLIMIT_NPROC when @p->pids_mech is an rlimit, RLIMIT_DATA when
 * @p->memory_mech is (soft and hard: the sandbox cannot raise them).
 *
 * Return: 0 or -errno of setrlimit().
 */
int limits_apply_rlimits(const struct limits_plan *p);

/**
 * limits_oom_protect_child() - make @pid the OOM killer's first choice
 * @pid: the sandbox's init (its children inherit the value)
 *
 * Writes 1000 to /proc/PID/oom_score_adj: raising it needs no privilege, so under memory
 * pressure the kernel kills the sandbox before the supervisor or the host's processes.
 *
 * Return: 0 or -errno.
 */
int limits_oom_protect_child(pid_t pid);

/* Parsers, exposed for the unit tests and the fuzzer */

/**
 * limits_parse_mountinfo() - find the cgroup2 mount in /proc/self/mountinfo text
 * @text:      the file's text
 * @ret_mount: a new string: the mount point, octal escapes (\040) decoded
 * @ret_root:  a new string: the mount's root within the hierarchy (field 4), or NULL
 *
 * The first cgroup2 mount whose root is "/" wins; else the first cgroup2 mount.
 *
 * Return: 0, -ENOENT when there is none, -EBADMSG for a malformed cgroup2 line.
 */
int limits_parse_mountinfo(const char *text, char **ret_mount, char **ret_root);

/**
 * limits_mountinfo_v1_has() - whether a cgroup v1 hierarchy in /proc/self/mountinfo text has
 * @ctrl (a super option of a "cgroup" mount): on a hybrid host that controller is not
 * available to cgroup v2 at all
 */
bool limits_mountinfo_v1_has(const char *text, const char *ctrl);

/**
 * limits_parse_keyed() - the value of @key in a flat keyed cgroup file ("key value" lines,
 * as cgroup.events and memory.events)
 *
 * Return: 0, -ENOENT when @key is absent, -EBADMSG when its value is not a decimal u64.
 */
int limits_parse_keyed(const char *text, const char *key, uint64_t *ret);

/**
 * limits_parse_controllers() - a cgroup.controllers or cgroup.subtree_control text as a
 * mask of 1 << LIMITS_CTRL_*; other controllers are ignored
 */
unsigned limits_parse_controllers(const char *text);

/* limits_ctrl_to_string() - "memory", "pids", "cpu"; NULL when out of range */
const char *limits_ctrl_to_string(enum limits_ctrl c);

/* limits_mech_to_string() - "none", "cgroup", "rlimit"; NULL when out of range */
const char *limits_mech_to_string(enum limits_mech m);
