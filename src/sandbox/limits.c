/* SPDX-License-Identifier: MIT */
/*
 * limits.c - resource limits of a sandbox: cgroup v2 when delegated, rlimits otherwise
 *
 * DOC: Theory of Operation
 * SPEC.md gives every sandbox --memory (8G), --pids (4096) and --cpus (none). The right tool
 * is a cgroup v2 subtree: memory.max and pids.max bound the whole sandbox, cpu.max its CPU
 * time, cgroup.freeze suspends it and cgroup.kill stops it without a race against fork. A
 * rootless process gets one only where its cgroup is delegated to it (a systemd user session,
 * or `systemd-run --user --scope -p Delegate=yes`), so this module works in three steps:
 *
 * 1. limits_probe() finds the cgroup2 mount (/proc/self/mountinfo: the hybrid layout puts it
 *    at /sys/fs/cgroup/unified), our cgroup (the "0::" line of /proc/self/cgroup), whether we
 *    may create a child (write access to the directory and cgroup.procs), and which of
 *    memory, pids and cpu a child would get: listed in our cgroup.controllers, and enabled in
 *    our cgroup.subtree_control or enableable. Enabling is refused (EBUSY) while our cgroup
 *    holds processes ("no internal processes", except at the root): when this process is the
 *    only one there, limits_cgroup_create() moves it into a leaf "paddock-supervisor-PID"
 *    first, as a process started by systemd-run --scope is; otherwise the controller is not
 *    usable and the why string says so. Nothing is changed by the probe.
 *
 * 2. limits_plan() picks a mechanism per limit: the cgroup when its controller is usable,
 *    else RLIMIT_NPROC for pids (counted per user namespace and uid since Linux 5.14, so it
 *    bounds one sandbox; the kernel exempts the initial namespace's root user), RLIMIT_DATA
 *    for memory (per process, not a total: RLIMIT_AS would count the huge PROT_NONE
 *    reservations of V8 and Go and break them), and nothing for --cpus, which is refused:
 *    a limit the user asked for is enforced or the sandbox does not start.
 *
 * 3. limits_cgroup_create() makes <our cgroup>/paddock-NAME-PID beside our own leaf, writes
 *    the limits, and returns a directory fd; every later operation is relative to it (no
 *    path is built from the sandbox's name beyond that one component, which is validated).
 *    The init should be cloned into it (clone3 CLONE_INTO_CGROUP) so that its cgroup
 *    namespace is rooted there; limits_cgroup_attach() is the fallback. The supervisor stays
 *    outside, so neither the OOM killer of memory.max nor cgroup.kill reaches it.
 *
 * The functions do not log: the probe and the plan return their reasons as strings, the
 * cgroup operations -errno and the step that failed.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fd.h"
#include "common/macro.h"
#include "common/xmalloc.h"
#include "features.h"
#include "limits.h"

#define MOUNTINFO_MAX   (4 * 1024 * 1024)
#define CGROUP_FILE_MAX (64 * 1024)
#define PROCS_MAX       (1024 * 1024)
#define NAME_MAX_LEN    64
#define REMOVE_DEPTH    8
#define FIX_DELEGATE                                                                               \
	"run paddock under `systemd-run --user --scope -p Delegate=yes paddock ...` (or from a "   \
	"systemd user session, whose user@UID.service is delegated)"
#define FIX_UNIFIED "boot with systemd.unified_cgroup_hierarchy=1 (cgroup v2 only)"

static const char *const ctrl_names[_LIMITS_CTRL_MAX] = {
	[LIMITS_CTRL_MEMORY] = "memory",
	[LIMITS_CTRL_PIDS] = "pids",
	[LIMITS_CTRL_CPU] = "cpu",
};

const char *limits_ctrl_to_string(enum limits_ctrl c)
{
	return c >= 0 && c < _LIMITS_CTRL_MAX ? ctrl_names[c] : NULL;
}

const char *limits_mech_to_string(enum limits_mech m)
{
	static const char *const names[_LIMITS_MECH_MAX] = {
		[LIMITS_MECH_NONE] = "none",
		[LIMITS_MECH_CGROUP] = "cgroup",
		[LIMITS_MECH_RLIMIT] = "rlimit",
	};

	return m >= 0 && m < _LIMITS_MECH_MAX ? names[m] : NULL;
}

_printf_(3, 4) static void why_set(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	/* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is above */
	(void)vsnprintf(buf, n, fmt, ap);
	va_end(ap);
}

/* ---- parsers ---- */

/* next_field() - the next space-separated field of [*p, eol), or NULL at the end */
static const char *next_field(const char **p, const char *eol, size_t *ret_len)
{
	const char *s = *p, *e;

	while (s < eol && *s == ' ')
		s++;
	if (s >= eol)
		return NULL;
	e = s;
	while (e < eol && *e != ' ')
		e++;
	*p = e;
	*ret_len = (size_t)(e - s);
	return s;
}

/* unescape_octal() - a mountinfo field with "\NNN" escapes decoded; NULL when malformed */
static char *unescape_octal(const char *s, size_t n)
{
	_cleanup_free_ char *out = xmalloc(n + 1);
	size_t j = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\') {
			out[j++] = s[i];
			continue;
		}
		if (n - i < 4)
			return NULL;
		if (s[i + 1] < '0' || s[i + 1] > '3' || s[i + 2] < '0' || s[i + 2] > '7' ||
		    s[i + 3] < '0' || s[i + 3] > '7')
			return NULL;
		out[j++] = (char)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 | (s[i + 3] - '0'));
		if (out[j - 1] == '\0')
			return NULL;
		i += 3;
	}
	out[j] = '\0';
	return TAKE_PTR(out);
}

/*
 * struct mi_line - the fields of one mountinfo line we use:
 * "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS"
 */
struct mi_line {
	const char *root, *mnt, *fstype, *super;
	size_t root_len, mnt_len, fstype_len, super_len;
};

/* mi_split() - 0, or -EBADMSG when the line does not have the shape above */
static int mi_split(const char *line, const char *eol, struct mi_line *ret)
{
	const char *p = line, *f;
	size_t len = 0;
	int i = 0;

	*ret = (struct mi_line){};
	for (; (f = next_field(&p, eol, &len)); i++) {
		if (i == 3) {
			ret->root = f;
			ret->root_len = len;
		} else if (i == 4) {
			ret->mnt = f;
			ret->mnt_len = len;
		} else if (i >= 6 && len == 1 && *f == '-')
			break;
	}
	if (!f || i < 6)
		return -EBADMSG;
	ret->fstype = next_field(&p, eol, &ret->fstype_len);
	if (!ret->fstype || !next_field(&p, eol, &len)) /* source */
		return -EBADMSG;
	ret->super = next_field(&p, eol, &ret->super_len);
	if (!ret->super) {
		ret->super = eol;
		ret->super_len = 0;
	}
	return 0;
}

static bool field_is(const char *f, size_t n, const char *s)
{
	return f && strlen(s) == n && memcmp(f, s, n) == 0;
}

int limits_parse_mountinfo(const char *text, char **ret_mount, char **ret_root)
{
	struct mi_line best = {};
	bool found = false;

	for (const char *p = text; p && *p;) {
		const char *eol = strchrnul(p, '\n');
		struct mi_line m;

		if (mi_split(p, eol, &m) >= 0 && field_is(m.fstype, m.fstype_len, "cgroup2")) {
			if (!found || (!field_is(best.root, best.root_len, "/") &&
				       field_is(m.root, m.root_len, "/")))
				best = m;
			found = true;
		}
		p = *eol ? eol + 1 : NULL;
	}
	if (!found)
		return -ENOENT;

	_cleanup_free_ char *mnt = unescape_octal(best.mnt, best.mnt_len),
			    *root = unescape_octal(best.root, best.root_len);
	if (!mnt || !root || mnt[0] != '/' || root[0] != '/')
		return -EBADMSG;
	*ret_mount = TAKE_PTR(mnt);
	if (ret_root)
		*ret_root = TAKE_PTR(root);
	return 0;
}

bool limits_mountinfo_v1_has(const char *text, const char *ctrl)
{
	for (const char *p = text; p && *p;) {
		const char *eol = strchrnul(p, '\n');
		struct mi_line m;

		if (mi_split(p, eol, &m) >= 0 && field_is(m.fstype, m.fstype_len, "cgroup")) {
			const char *s = m.super, *end = m.super + m.super_len;

			while (s < end) {
				const char *c = memchr(s, ',', (size_t)(end - s));

				if (!c)
					c = end;
				if (field_is(s, (size_t)(c - s), ctrl))
					return true;
				s = c + 1;
			}
		}
		p = *eol ? eol + 1 : NULL;
	}
	return false;
}

int limits_parse_keyed(const char *text, const char *key, uint64_t *ret)
{
	size_t klen = strlen(key);

	for (const char *p = text; p && *p;) {
		const char *eol = strchrnul(p, '\n');

		if ((size_t)(eol - p) > klen && memcmp(p, key, klen) == 0 && p[klen] == ' ') {
			const char *v = p + klen + 1;
			uint64_t x = 0;

			if (v == eol)
				return -EBADMSG;
			for (; v < eol; v++) {
				if (*v < '0' || *v > '9' || __builtin_mul_overflow(x, 10, &x) ||
				    __builtin_add_overflow(x, (uint64_t)(*v - '0'), &x))
					return -EBADMSG;
			}
			*ret = x;
			return 0;
		}
		p = *eol ? eol + 1 : NULL;
	}
	return -ENOENT;
}

unsigned limits_parse_controllers(const char *text)
{
	unsigned mask = 0;

	for (int i = 0; i < _LIMITS_CTRL_MAX; i++)
		if (cgroup_controllers_has(text, ctrl_names[i]))
			mask |= 1U << i;
	return mask;
}

int limits_cpus_to_milli(double cpus, uint64_t *ret)
{
	uint64_t m;

	if (!isfinite(cpus) || cpus < 0)
		return -EINVAL;
	if (cpus > 1e9)
		return -ERANGE;
	m = (uint64_t)(cpus * 1000.0 + 0.5); /* rounded to the nearest, without libm */
	if (cpus > 0 && m < 10)
		return -ERANGE;
	*ret = m;
	return 0;
}

int limits_cpu_max_format(uint64_t cpus_milli, char *buf, size_t n)
{
	int k;

	/* quota = period * cpus = 100000 us * milli / 1000 */
	if (cpus_milli == 0)
		k = snprintf(buf, n, "max %u", LIMITS_CPU_PERIOD);
	else if (cpus_milli > UINT64_MAX / (LIMITS_CPU_PERIOD / 1000))
		return -ERANGE;
	else
		k = snprintf(buf, n, "%" PRIu64 " %u", cpus_milli * (LIMITS_CPU_PERIOD / 1000),
			     LIMITS_CPU_PERIOD);
	if (k < 0 || (size_t)k >= n)
		return -ENOBUFS;
	return 0;
}

/* ---- probe ---- */

void limits_host_done(struct limits_host *h)
{
	if (!h)
		return;
	free(h->mount);
	free(h->cgroup);
	h->mount = h->cgroup = NULL;
	h->dirfd = safe_close(h->dirfd);
}

/* parse_uint() - a decimal number at *p, which moves past it; false when there is none */
static bool parse_uint(const char **p, unsigned long *ret)
{
	char *end;

	errno = 0;
	*ret = strtoul(*p, &end, 10);
	if (end == *p || errno != 0)
		return false;
	*p = end;
	return true;
}

/* host_is_init_root() - euid 0 and it is uid 0 of the initial user namespace */
static bool host_is_init_root(void)
{
	_cleanup_free_ char *map = NULL;
	unsigned long a, b, c;
	const char *p;

	if (geteuid() != 0)
		return false;
	if (read_file_at(AT_FDCWD, "/proc/self/uid_map", 4096, &map, NULL) < 0)
		return false;
	/* the initial namespace maps everything: "0 0 4294967295" */
	p = map;
	return parse_uint(&p, &a) && parse_uint(&p, &b) && parse_uint(&p, &c) && a == 0 && b == 0 &&
	       c == 4294967295UL;
}

/* kernel_at_least() - by uname; used where no non-root cgroup exists to look at */
static bool kernel_at_least(unsigned long major, unsigned long minor)
{
	unsigned long ma, mi;
	struct utsname u;
	const char *p = u.release;

	if (uname(&u) < 0 || !parse_uint(&p, &ma) || *p++ != '.' || !parse_uint(&p, &mi))
		return false;
	return ma > major || (ma == major && mi >= minor);
}

/* count_other_procs() - how many processes of cgroup.procs are not this one; or -errno */
static int count_other_procs(int dirfd)
{
	_cleanup_free_ char *procs = NULL;
	pid_t self = getpid();
	int n = 0, r;

	r = read_file_at(dirfd, "cgroup.procs", PROCS_MAX, &procs, NULL);
	if (r < 0)
		return r;
	for (char *p = procs; *p;) {
		char *end;
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		if (pid != self)
			n++;
		p = end + strspn(end, "\n");
	}
	return n;
}

static void probe_no_cgroup(struct limits_host *h, const char *why, const char *mountinfo)
{
	why_set(h->why_cgroup, sizeof(h->why_cgroup), "%s", why);
	for (int i = 0; i < _LIMITS_CTRL_MAX; i++)
		if (mountinfo && limits_mountinfo_v1_has(mountinfo, ctrl_names[i]))
			/* delegation alone would not help: say what would */
			why_set(h->why_ctrl[i], sizeof(h->why_ctrl[i]),
				"%s controller is bound to a cgroup v1 hierarchy (hybrid host), so "
				"cgroup v2 cannot offer it even where delegated: " FIX_UNIFIED,
				ctrl_names[i]);
		else
			why_set(h->why_ctrl[i], sizeof(h->why_ctrl[i]),
				"%s: no cgroup of our own (%s)", ctrl_names[i], why);
	why_set(h->why_freeze, sizeof(h->why_freeze),
		"no cgroup of our own: suspend stops each process with SIGSTOP");
	why_set(h->why_kill, sizeof(h->why_kill),
		"no cgroup of our own: stop kills the sandbox's init (pid 1 of its namespace)");
}

/* probe_files() - cgroup.freeze and cgroup.kill, which exist in every non-root cgroup */
static void probe_files(struct limits_host *h)
{
	if (!h->is_root) {
		h->freeze = faccessat(h->dirfd, "cgroup.freeze", F_OK, 0) >= 0;
		h->kill = faccessat(h->dirfd, "cgroup.kill", F_OK, 0) >= 0;
	} else {
		/* the root has neither file; its children have them from these kernels on */
		h->freeze = kernel_at_least(5, 2);
		h->kill = kernel_at_least(5, 14);
	}
	if (!h->freeze)
		why_set(h->why_freeze, sizeof(h->why_freeze),
			"no cgroup.freeze (Linux < 5.2): suspend stops each process with SIGSTOP");
	if (!h->kill)
		why_set(h->why_kill, sizeof(h->why_kill),
			"no cgroup.kill (Linux < 5.14): stop kills the sandbox's init (pid 1 of "
			"its "
			"namespace)");
}

static void probe_controllers(struct limits_host *h, const char *mountinfo)
{
	_cleanup_free_ char *avail = NULL, *sub = NULL;
	bool sub_writable;
	int others = -1, r;

	r = read_file_at(h->dirfd, "cgroup.controllers", CGROUP_FILE_MAX, &avail, NULL);
	if (r >= 0)
		r = read_file_at(h->dirfd, "cgroup.subtree_control", CGROUP_FILE_MAX, &sub, NULL);
	if (r < 0) {
		for (int i = 0; i < _LIMITS_CTRL_MAX; i++)
			why_set(h->why_ctrl[i], sizeof(h->why_ctrl[i]),
				"%s: cannot read the controller lists of %s: %s", ctrl_names[i],
				h->cgroup, strerror(-r));
		return;
	}
	avail[strcspn(avail, "\n")] = '\0';
	h->available = limits_parse_controllers(avail);
	h->enabled = limits_parse_controllers(sub);
	sub_writable = faccessat(h->dirfd, "cgroup.subtree_control", W_OK, AT_EACCESS) >= 0;
	if (!h->is_root && (h->available & ~h->enabled))
		others = count_other_procs(h->dirfd);

	for (int i = 0; i < _LIMITS_CTRL_MAX; i++) {
		unsigned bit = 1U << i;
		char *why = h->why_ctrl[i];
		size_t n = sizeof(h->why_ctrl[i]);

		if (!(h->available & bit)) {
			if (limits_mountinfo_v1_has(mountinfo, ctrl_names[i]))
				why_set(why, n,
					"%s controller is bound to a cgroup v1 hierarchy (hybrid "
					"host), so cgroup v2 cannot offer it: " FIX_UNIFIED,
					ctrl_names[i]);
			else
				why_set(why, n,
					"%s controller not delegated to %s (cgroup.controllers: "
					"'%s'): " FIX_DELEGATE,
					ctrl_names[i], h->cgroup, avail);
			continue;
		}
		if (h->enabled & bit) {
			h->usable |= bit;
			continue;
		}
		if (!sub_writable) {
			why_set(why, n,
				"%s controller is offered to %s but not enabled for its children, "
				"and its cgroup.subtree_control is not writable by "
				"us: " FIX_DELEGATE,
				ctrl_names[i], h->cgroup);
			continue;
		}
		if (h->is_root) {
			h->usable |= bit;
			continue;
		}
		if (others < 0) {
			why_set(why, n, "%s: cannot read %s/cgroup.procs: %s", ctrl_names[i],
				h->cgroup, strerror(-others));
			continue;
		}
		if (others > 0) {
			why_set(why, n,
				"%s controller can be enabled in %s only when no process is in it "
				"(cgroup v2 \"no internal processes\" rule), and %d other "
				"processes "
				"are: run paddock in a scope of its own: " FIX_DELEGATE,
				ctrl_names[i], h->cgroup, others);
			continue;
		}
		/* we are alone: limits_cgroup_create() moves us into a leaf, then enables it */
		h->usable |= bit;
		h->needs_leaf = true;
	}
}

int limits_probe(struct limits_host *ret)
{
	_cleanup_free_ char *mountinfo = NULL, *self = NULL, *root = NULL;
	_cleanup_close_ int mfd = -EBADF;
	const char *rel;
	int r;

	*ret = (struct limits_host){ .dirfd = -EBADF };
	ret->host_root = host_is_init_root();

	r = read_file_at(AT_FDCWD, "/proc/self/mountinfo", MOUNTINFO_MAX, &mountinfo, NULL);
	if (r < 0) {
		probe_no_cgroup(ret, "cannot read /proc/self/mountinfo", NULL);
		return r;
	}
	r = limits_parse_mountinfo(mountinfo, &ret->mount, &root);
	if (r < 0) {
		probe_no_cgroup(ret,
				"no cgroup2 filesystem is mounted (a cgroup v1 only host): "
				"mount it, or " FIX_UNIFIED,
				mountinfo);
		return -ENOENT;
	}
	r = read_file_at(AT_FDCWD, "/proc/self/cgroup", CGROUP_FILE_MAX, &self, NULL);
	if (r >= 0)
		r = cgroup_parse_self(self, &ret->cgroup);
	if (r < 0) {
		probe_no_cgroup(ret, "no \"0::\" (cgroup v2) line in /proc/self/cgroup", mountinfo);
		return -ENOENT;
	}

	/* our cgroup's directory: the mount shows the hierarchy from @root down */
	rel = ret->cgroup;
	if (!streq(root, "/")) {
		size_t n = strlen(root);

		if (strncmp(rel, root, n) != 0 || (rel[n] != '/' && rel[n] != '\0')) {
			char why[LIMITS_WHY_MAX];

			why_set(why, sizeof(why),
				"our cgroup %s is outside the part of the hierarchy mounted on %s "
				"(%s)",
				ret->cgroup, ret->mount, root);
			probe_no_cgroup(ret, why, mountinfo);
			return -ENOENT;
		}
		rel += n;
	}
	rel += strspn(rel, "/");
	mfd = open(ret->mount, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (mfd >= 0)
		ret->dirfd = *rel ? openat(mfd, rel, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
				  : TAKE_FD(mfd);
	if (ret->dirfd < 0) {
		char why[LIMITS_WHY_MAX];

		r = -errno;
		why_set(why, sizeof(why), "cannot open our cgroup %s under %s: %s", ret->cgroup,
			ret->mount, strerror(-r));
		probe_no_cgroup(ret, why, mountinfo);
		return r;
	}
	/* only the root cgroup has no cgroup.type (a cgroup namespace's root has one) */
	ret->is_root = faccessat(ret->dirfd, "cgroup.type", F_OK, 0) < 0 && errno == ENOENT;

	if (faccessat(ret->dirfd, ".", W_OK, AT_EACCESS) < 0 ||
	    faccessat(ret->dirfd, "cgroup.procs", W_OK, AT_EACCESS) < 0) {
		char why[LIMITS_WHY_MAX];

		r = -errno;
		why_set(why, sizeof(why),
			"cgroup %s is not delegated to uid %u (%s): " FIX_DELEGATE, ret->cgroup,
			(unsigned)geteuid(), strerror(-r));
		probe_no_cgroup(ret, why, mountinfo);
		return r == -EROFS ? -EROFS : -EACCES;
	}
	ret->can_create = true;
	probe_controllers(ret, mountinfo);
	probe_files(ret);
	return 0;
}

/* ---- plan ---- */

int limits_plan(const struct limits_host *h, uint64_t memory, uint64_t pids, uint64_t cpus_milli,
		struct limits_plan *ret, char **ret_error)
{
	struct limits_plan p = {
		.memory = memory,
		.pids = pids,
		.cpus_milli = cpus_milli,
		.cgroup = h->can_create,
	};
	unsigned usable = h->can_create ? h->usable : 0;

	if (cpus_milli) {
		if (!(usable & (1U << LIMITS_CTRL_CPU))) {
			if (ret_error)
				*ret_error = xasprintf(
					"--cpus %" PRIu64 ".%03" PRIu64 ": a CPU limit needs the "
					"cgroup v2 cpu controller, and this host does not give us "
					"one: %s. Remove --cpus (and \"cpus\" from the config) to "
					"run "
					"without a CPU limit",
					cpus_milli / 1000, cpus_milli % 1000,
					h->why_ctrl[LIMITS_CTRL_CPU]);
			return -EOPNOTSUPP;
		}
		p.cpus_mech = LIMITS_MECH_CGROUP;
		p.controllers |= 1U << LIMITS_CTRL_CPU;
	}
	if (memory) {
		if (usable & (1U << LIMITS_CTRL_MEMORY)) {
			p.memory_mech = LIMITS_MECH_CGROUP;
			p.controllers |= 1U << LIMITS_CTRL_MEMORY;
		} else
			p.memory_mech = LIMITS_MECH_RLIMIT;
	}
	if (pids) {
		if (usable & (1U << LIMITS_CTRL_PIDS)) {
			p.pids_mech = LIMITS_MECH_CGROUP;
			p.controllers |= 1U << LIMITS_CTRL_PIDS;
		} else {
			p.pids_mech = LIMITS_MECH_RLIMIT;
			p.pids_exempt = h->host_root;
		}
	}
	/* a leaf is needed only to enable a controller that is not enabled yet */
	p.needs_leaf = h->needs_leaf && (p.controllers & ~h->enabled);
	p.freeze = p.cgroup && h->freeze;
	p.kill = p.cgroup && h->kill;
	*ret = p;
	return 0;
}

static void size_format(uint64_t v, char *buf, size_t n)
{
	static const char units[] = "KMGT";
	int u = -1;

	while (u < 3 && v >= 1024 && v % 1024 == 0) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		(void)snprintf(buf, n, "%" PRIu64 "B", v);
	else
		(void)snprintf(buf, n, "%" PRIu64 "%c", v, units[u]);
}

void limits_describe(const struct limits_plan *p, char *buf, size_t n)
{
	char mem[96], pids[128], cpus[96], size[32];

	size_format(p->memory, size, sizeof(size));
	if (p->memory_mech == LIMITS_MECH_CGROUP)
		(void)snprintf(mem, sizeof(mem), "memory %s by cgroup memory.max", size);
	else if (p->memory_mech == LIMITS_MECH_RLIMIT)
		(void)snprintf(mem, sizeof(mem), "memory %s per process by RLIMIT_DATA", size);
	else
		(void)snprintf(mem, sizeof(mem), "memory unlimited");

	if (p->pids_mech == LIMITS_MECH_CGROUP)
		(void)snprintf(pids, sizeof(pids), "pids %" PRIu64 " by cgroup pids.max", p->pids);
	else if (p->pids_mech == LIMITS_MECH_RLIMIT)
		(void)snprintf(pids, sizeof(pids), "pids %" PRIu64 " by RLIMIT_NPROC%s", p->pids,
			       p->pids_exempt ? " (not enforced: the kernel exempts host root)"
					      : " (per sandbox)");
	else
		(void)snprintf(pids, sizeof(pids), "pids unlimited");

	if (p->cpus_mech == LIMITS_MECH_CGROUP)
		(void)snprintf(cpus, sizeof(cpus),
			       "cpus %" PRIu64 ".%03" PRIu64 " by cgroup cpu.max",
			       p->cpus_milli / 1000, p->cpus_milli % 1000);
	else
		(void)snprintf(cpus, sizeof(cpus), "cpus unlimited");

	(void)snprintf(buf, n, "%s; %s; %s; suspend by %s; stop by %s", mem, pids, cpus,
		       p->freeze ? "cgroup.freeze" : "SIGSTOP",
		       p->kill ? "cgroup.kill" : "killing the init");
}

/* ---- the sandbox's cgroup ---- */

static bool name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > NAME_MAX_LEN || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
			return false;
	return true;
}

static int cgroup_component(const char *name, pid_t pid, char *buf, size_t n)
{
	int k;

	if (!name_valid(name) || pid <= 0)
		return -EINVAL;
	k = snprintf(buf, n, "paddock-%s-%d", name, (int)pid);
	return k < 0 || (size_t)k >= n ? -ENAMETOOLONG : 0;
}

/* move_self_to_leaf() - so that controllers can be enabled in our cgroup; we must be alone */
static int move_self_to_leaf(const struct limits_host *h)
{
	_cleanup_close_ int leaf = -EBADF;
	char comp[64], pid[24];
	int r;

	r = count_other_procs(h->dirfd);
	if (r < 0)
		return r;
	if (r > 0)
		return -EBUSY;
	(void)snprintf(comp, sizeof(comp), "paddock-supervisor-%d", (int)getpid());
	if (mkdirat(h->dirfd, comp, 0755) < 0 && errno != EEXIST)
		return -errno;
	leaf = openat(h->dirfd, comp, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (leaf < 0)
		return -errno;
	(void)snprintf(pid, sizeof(pid), "%d", (int)getpid());
	return write_file_at(leaf, "cgroup.procs", pid);
}

static int enable_controllers(const struct limits_host *h, unsigned want)
{
	_cleanup_free_ char *sub = NULL;
	unsigned have;
	int r;

	r = read_file_at(h->dirfd, "cgroup.subtree_control", CGROUP_FILE_MAX, &sub, NULL);
	if (r < 0)
		return r;
	have = limits_parse_controllers(sub);
	for (int i = 0; i < _LIMITS_CTRL_MAX; i++) {
		char line[16];

		if (!(want & ~have & (1U << i)))
			continue;
		(void)snprintf(line, sizeof(line), "+%s", ctrl_names[i]);
		r = write_file_at(h->dirfd, "cgroup.subtree_control", line);
		if (r < 0)
			return r;
	}
	return 0;
}

static int write_u64_at(int dirfd, const char *file, uint64_t v)
{
	char buf[24];

	(void)snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return write_file_at(dirfd, file, buf);
}

static int cgroup_write_limits(int fd, const struct limits_plan *p, const char **reterr_step)
{
	char cpu[32];
	int r;

	if (p->memory_mech == LIMITS_MECH_CGROUP) {
		*reterr_step = "memory.max";
		r = write_u64_at(fd, "memory.max", p->memory);
		if (r < 0)
			return r;
		/* as much again in swap, as docker's default; absent without swap accounting */
		*reterr_step = "memory.swap.max";
		r = write_u64_at(fd, "memory.swap.max", p->memory);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	if (p->pids_mech == LIMITS_MECH_CGROUP) {
		*reterr_step = "pids.max";
		r = write_u64_at(fd, "pids.max", p->pids);
		if (r < 0)
			return r;
	}
	if (p->cpus_mech == LIMITS_MECH_CGROUP) {
		*reterr_step = "cpu.max";
		r = limits_cpu_max_format(p->cpus_milli, cpu, sizeof(cpu));
		if (r >= 0)
			r = write_file_at(fd, "cpu.max", cpu);
		if (r < 0)
			return r;
	}
	return 0;
}

int limits_cgroup_create(const struct limits_host *h, const char *name, const struct limits_plan *p,
			 int *ret_dirfd, const char **reterr_step)
{
	_cleanup_close_ int fd = -EBADF;
	const char *step = "name";
	char comp[NAME_MAX_LEN + 40];
	int r;

	r = cgroup_component(name, getpid(), comp, sizeof(comp));
	if (r < 0)
		goto fail;
	step = "cgroup";
	if (!p->cgroup || h->dirfd < 0) {
		r = -EOPNOTSUPP;
		goto fail;
	}
	if (p->controllers & ~h->enabled) {
		step = "cgroup.subtree_control";
		r = enable_controllers(h, p->controllers);
		if (r == -EBUSY && !h->is_root) {
			step = "move to a leaf cgroup (cgroup.procs)";
			r = move_self_to_leaf(h);
			if (r >= 0) {
				step = "cgroup.subtree_control";
				r = enable_controllers(h, p->controllers);
			}
		}
		if (r < 0)
			goto fail;
	}
	step = "mkdir";
	if (mkdirat(h->dirfd, comp, 0755) < 0) {
		r = -errno;
		goto fail;
	}
	fd = openat(h->dirfd, comp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		r = -errno;
		step = "open";
	} else
		r = cgroup_write_limits(fd, p, &step);
	if (r < 0) {
		(void)unlinkat(h->dirfd, comp, AT_REMOVEDIR);
		goto fail;
	}
	*ret_dirfd = TAKE_FD(fd);
	return 0;
fail:
	if (reterr_step)
		*reterr_step = step;
	return r;
}

int limits_cgroup_attach(int dirfd, pid_t pid)
{
	char buf[24];

	if (pid <= 0)
		return -EINVAL;
	(void)snprintf(buf, sizeof(buf), "%d", (int)pid);
	return write_file_at(dirfd, "cgroup.procs", buf);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* events_value() - @key of cgroup.events, re-read from the start of @fd */
static int events_value(int fd, const char *key, uint64_t *ret)
{
	char buf[512];
	ssize_t k;

	k = pread(fd, buf, sizeof(buf) - 1, 0);
	if (k < 0)
		return -errno;
	buf[k] = '\0';
	return limits_parse_keyed(buf, key, ret);
}

int limits_cgroup_freeze(int dirfd, bool frozen, int timeout_ms)
{
	_cleanup_close_ int ev = -EBADF;
	int64_t deadline = now_ms() + MAX(timeout_ms, 0);
	int r;

	r = write_file_at(dirfd, "cgroup.freeze", frozen ? "1" : "0");
	if (r == -ENOENT)
		return -EOPNOTSUPP;
	if (r < 0)
		return r;
	ev = openat(dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
	if (ev < 0)
		return -errno;
	for (;;) {
		struct pollfd pfd = { .fd = ev, .events = POLLPRI };
		uint64_t v = 0;
		int64_t left;

		r = events_value(ev, "frozen", &v);
		if (r < 0)
			return r;
		if ((v == 1) == frozen)
			return 0;
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		/* kernfs signals a change of cgroup.events with POLLPRI; re-check at least
		 * every 50 ms in case the change raced with the read above */
		if (poll(&pfd, 1, (int)MIN(left, 50)) < 0 && errno != EINTR)
			return -errno;
	}
}

int limits_cgroup_kill(int dirfd)
{
	int r = write_file_at(dirfd, "cgroup.kill", "1");

	return r == -ENOENT ? -EOPNOTSUPP : r;
}

int limits_cgroup_oom_kills(int dirfd, uint64_t *ret)
{
	_cleanup_free_ char *ev = NULL;
	int r;

	r = read_file_at(dirfd, "memory.events", CGROUP_FILE_MAX, &ev, NULL);
	if (r == -ENOENT)
		return -EOPNOTSUPP;
	if (r < 0)
		return r;
	r = limits_parse_keyed(ev, "oom_kill", ret);
	return r == -ENOENT ? -EBADMSG : r;
}

/* remove_children() - rmdir every cgroup below @fd, depth-first; the first error wins */
/* NOLINTNEXTLINE(misc-no-recursion): stops at REMOVE_DEPTH */
static int remove_children(int fd, int depth)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int dfd, r = 0;

	if (depth > REMOVE_DEPTH)
		return -ELOOP;
	dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	d = fdopendir(dfd);
	if (!d) {
		r = -errno;
		(void)close(dfd);
		return r;
	}
	while ((de = readdir(d))) {
		_cleanup_close_ int sub = -EBADF;
		int q;

		if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		sub = openat(fd, de->d_name, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		q = sub < 0 ? -errno : remove_children(sub, depth + 1);
		if (q >= 0 && unlinkat(fd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
			q = -errno;
		if (q < 0 && r >= 0)
			r = q;
	}
	return r;
}

int limits_cgroup_remove(const struct limits_host *h, const char *name, pid_t creator,
			 int timeout_ms)
{
	char comp[NAME_MAX_LEN + 40];
	int64_t deadline = now_ms() + MAX(timeout_ms, 0);
	int r;

	r = cgroup_component(name, creator, comp, sizeof(comp));
	if (r < 0)
		return r;
	if (h->dirfd < 0)
		return -EBADF;
	for (;;) {
		_cleanup_close_ int fd = -EBADF;
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		fd = openat(h->dirfd, comp, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			return errno == ENOENT ? 0 : -errno;
		r = remove_children(fd, 0);
		if (r >= 0 || r == -EBUSY) {
			if (unlinkat(h->dirfd, comp, AT_REMOVEDIR) >= 0 || errno == ENOENT)
				return 0;
			r = -errno;
		}
		if (r != -EBUSY)
			return r;
		/* processes that were just killed are still exiting */
		if (now_ms() >= deadline)
			return -EBUSY;
		(void)nanosleep(&ts, NULL);
	}
}

/* ---- processes ---- */

int limits_apply_rlimits(const struct limits_plan *p)
{
	/* async-signal-safe: only setrlimit(2) */
	if (p->pids_mech == LIMITS_MECH_RLIMIT) {
		struct rlimit rl = { (rlim_t)p->pids, (rlim_t)p->pids };

		if (setrlimit(RLIMIT_NPROC, &rl) < 0)
			return -errno;
	}
	if (p->memory_mech == LIMITS_MECH_RLIMIT) {
		struct rlimit rl = { (rlim_t)p->memory, (rlim_t)p->memory };

		if (setrlimit(RLIMIT_DATA, &rl) < 0)
			return -errno;
	}
	return 0;
}

int limits_oom_protect_child(pid_t pid)
{
	char path[48];

	if (pid <= 0)
		return -EINVAL;
	(void)snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
	return write_file_at(AT_FDCWD, path, "1000");
}
