/* SPDX-License-Identifier: MIT */
/*
 * cmd-logs.c - `paddock logs [-f] [--json] [--type T,...] [--since WHEN] [TARGET]`
 *
 * DOC: Theory of Operation
 * TARGET is a file when it contains a '/', else a name: a persistent sandbox
 * ($DATA/sandboxes/NAME/audit.jsonl) or the kept log of an ephemeral run
 * ($DATA/logs/NAME.jsonl, `paddock run --keep-log`). Without TARGET the kept logs are listed.
 * The rotated files PATH.4 ... PATH.1 are read before PATH, so events come oldest first.
 *
 * The files are written by paddock (supervisor/audit.c) and a sandbox cannot write them, but a
 * crash or a full disk can cut a line, and a user can hand us any file: each line is parsed on
 * its own, with a bounded length and nesting depth, and a line that is not a JSON object with a
 * valid "ts" and "type" is skipped with a warning that names the file and the line number (at
 * most a few per file). The strings in the log come from the sandbox (argv, host names), so the
 * readable output escapes control characters, C1 controls, bidirectional overrides and invalid
 * UTF-8: viewing a log never sends escape sequences to the terminal. `--json` prints the lines
 * as stored, which json-c wrote with every control character escaped.
 *
 * -f reads what exists, then waits on inotify: one watch on the directory reports both appends
 * to the file (IN_MODIFY of a directory entry) and its rotation or late creation (IN_MOVED_*,
 * IN_CREATE). After every batch of events the open file is read to its end, then, if PATH now
 * names another file, the old one is finished and the new one read from its start. SIGINT and
 * SIGTERM arrive through a signalfd in the same poll(), so nothing busy-loops and the exit
 * status is 0. A line that a writer has not finished (no newline yet) waits in the buffer.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cmd.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/path.h"
#include "common/strv.h"
#include "common/utf8.h"
#include "common/xmalloc.h"
#include "store/paths.h"
#include "supervisor/audit.h"

#define LOGS_LINE_MAX     (4 * 1024 * 1024) /* above the writer's AUDIT_LINE_MAX */
#define LOGS_CHUNK        65536
#define LOGS_WARNINGS_MAX 5 /* malformed-line warnings per file */
#define LOGS_DEPTH_MAX    16

enum {
	ARG_JSON = OPT_LONG_BASE,
	ARG_TYPE,
	ARG_SINCE,
};

#define LOGS_TYPES                                                                                 \
	"start exit exec net dns secret secret_inject secret_leak deny port attach detach "        \
	"ssh_sign"

static const struct paddock_opt logs_opts[] = {
	{ "follow", 'f', NULL, false, "keep printing events as they are appended", 'f' },
	{ "json", 0, NULL, false, "print the JSON lines as stored", ARG_JSON },
	{ "type", 0, "T[,T...]", false, "only events of these types ('secret' is secret_*)",
	  ARG_TYPE, LOGS_TYPES },
	{ "since", 0, "WHEN", false, "only events since WHEN: 10m, 2h, 1d or an RFC 3339 time",
	  ARG_SINCE },
	{},
};

static bool arg_follow;
static bool arg_json;
static char **arg_types;
static bool arg_since_set;
static int64_t arg_since_ms;

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put)
DEFINE_TRIVIAL_CLEANUP_FUNC(json_tokener *, json_tokener_free)

/* One file being read: a line buffer that survives between reads while following */
struct logfile {
	char *path;
	int fd;
	char *buf;
	size_t len, cap;
	unsigned long line; /* lines taken so far */
	bool skipping;      /* inside a line longer than LOGS_LINE_MAX */
	unsigned warnings;
};

static void logfile_done(struct logfile *lf)
{
	lf->fd = safe_close(lf->fd);
	free(lf->buf);
	free(lf->path);
	*lf = (struct logfile){ .fd = -EBADF };
}

static int64_t now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "10m", "2h", "1d" (also s and w) before now, or an RFC 3339 time */
static int parse_since(const char *s, int64_t *ret_ms)
{
	static const struct {
		char unit;
		int64_t ms;
	} units[] = { { 's', 1000 },
		      { 'm', 60000 },
		      { 'h', 3600000 },
		      { 'd', 86400000 },
		      { 'w', 7 * 86400000LL } };
	size_t n = strspn(s, "0123456789");

	if (n > 0 && n <= 9 && s[n] && !s[n + 1])
		for (size_t i = 0; i < ELEMENTSOF(units); i++)
			if (s[n] == units[i].unit) {
				*ret_ms = now_ms() - strtoll(s, NULL, 10) * units[i].ms;
				return 0;
			}
	return audit_parse_ts(s, ret_ms);
}

static bool type_known(const char *t)
{
	_cleanup_free_ char *list = xstrdup(LOGS_TYPES);
	char *save = NULL;

	for (char *w = strtok_r(list, " ", &save); w; w = strtok_r(NULL, " ", &save))
		if (streq(w, t))
			return true;
	return false;
}

static int parse_types(const char *s)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *save = NULL;

	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (!audit_type_is_valid(w)) {
			log_error("logs: invalid --type '%s': a type is a lowercase word such as "
				  "net or exec",
				  w);
			return -EINVAL;
		}
		if (!type_known(w))
			log_warning("logs: '%s' is not a known event type (known: %s)", w,
				    LOGS_TYPES);
		strv_extend(&arg_types, w);
	}
	if (!arg_types) {
		log_error("logs: --type needs at least one type");
		return -EINVAL;
	}
	return 0;
}

/* --type T matches the type T and, so that 'secret' means both secret events, T_* */
static bool type_selected(const char *type)
{
	if (!arg_types)
		return true;
	STRV_FOREACH (t, arg_types) {
		size_t n = strlen(*t);

		if (streq(type, *t) || (strncmp(type, *t, n) == 0 && type[n] == '_'))
			return true;
	}
	return false;
}

/*
 * Print @s (@n bytes) for a terminal: valid printable UTF-8 as is; control characters, DEL,
 * C1 controls, bidirectional overrides and bytes that are not UTF-8 as escapes.
 */
static void put_safe_n(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint32_t cp = 0;
		size_t l = utf8_char_len(s + i, n - i, &cp);

		if (l == 0) {
			printf("\\x%02x", (unsigned char)s[i]);
			i++;
			continue;
		}
		if (cp == '\n')
			fputs("\\n", stdout);
		else if (cp == '\t')
			fputs("\\t", stdout);
		else if (cp == '\r')
			fputs("\\r", stdout);
		else if (cp < 0x20 || cp == 0x7f)
			printf("\\x%02x", (unsigned)cp);
		else if ((cp >= 0x80 && cp < 0xa0) || (cp >= 0x202a && cp <= 0x202e) ||
			 (cp >= 0x2066 && cp <= 0x2069))
			printf("\\u%04x", (unsigned)cp);
		else
			fwrite(s + i, 1, l, stdout);
		i += l;
	}
}

static void put_safe(const char *s)
{
	put_safe_n(s, strlen(s));
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool get_int(struct json_object *o, const char *key, int64_t *ret)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*ret = json_object_get_int64(v);
	return true;
}

/* a scalar as text: strings as they are (quoted when they need it), anything else as JSON */
static void put_scalar(struct json_object *v)
{
	const int flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;

	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		size_t n = (size_t)json_object_get_string_len(v);

		if (n == 0 || strpbrk(s, " \"=,") || strlen(s) != n)
			put_safe(json_object_to_json_string_ext(v, flags));
		else
			put_safe_n(s, n);
	} else
		put_safe(json_object_to_json_string_ext(v, flags));
}

/* a value: an array's elements separated by commas, anything else as put_scalar() */
static void put_value(struct json_object *v)
{
	size_t n;

	if (!json_object_is_type(v, json_type_array)) {
		put_scalar(v);
		return;
	}
	n = json_object_array_length(v);
	for (size_t i = 0; i < n; i++) {
		if (i)
			putchar(',');
		put_scalar(json_object_array_get_idx(v, i));
	}
}

/* one argv element, single-quoted for a shell when it needs to be */
static void put_word(const char *s)
{
	if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			    "_./:=,+@%-") == strlen(s)) {
		put_safe(s);
		return;
	}
	putchar('\'');
	for (const char *p = s; *p; p++) {
		const char *q = strchr(p, '\'');
		size_t n = q ? (size_t)(q - p) : strlen(p);

		put_safe_n(p, n);
		if (!q)
			break;
		fputs("'\\''", stdout);
		p = q;
	}
	putchar('\'');
}

static bool put_argv(struct json_object *o, const char *key)
{
	struct json_object *v;
	size_t n;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
		return false;
	n = json_object_array_length(v);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		if (i)
			putchar(' ');
		if (json_object_is_type(e, json_type_string))
			put_word(json_object_get_string(e));
		else
			put_value(e);
	}
	return n > 0;
}

/* 517B, 4.2K, 31M */
static const char *fmt_bytes(int64_t b, char buf[static 24])
{
	static const char units[] = "KMGTPE";
	double v = (double)b / 1024;
	size_t u = 0;

	if (b < 1024) {
		(void)snprintf(buf, 24, "%" PRId64 "B", b);
		return buf;
	}
	while (v >= 1024 && u + 1 < sizeof(units) - 1) {
		v /= 1024;
		u++;
	}
	(void)snprintf(buf, 24, v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
	return buf;
}

static void put_duration(int64_t ms)
{
	if (ms < 1000)
		printf("%" PRId64 "ms", ms);
	else if (ms < 60000)
		printf("%.1fs", (double)ms / 1000);
	else if (ms < 3600000)
		printf("%" PRId64 "m%02" PRId64 "s", ms / 60000, ms / 1000 % 60);
	else
		printf("%" PRId64 "h%02" PRId64 "m", ms / 3600000, ms / 60000 % 60);
}

/* " " before every item but the first */
static void sep(bool *first)
{
	if (!*first)
		putchar(' ');
	*first = false;
}

/* host:port, or ip:port when there is no name */
static bool put_hostport(struct json_object *o)
{
	const char *host = get_str(o, "host") ?: get_str(o, "ip");
	int64_t port;

	if (!host)
		return false;
	put_safe(host);
	if (get_int(o, "port", &port))
		printf(":%" PRId64, port);
	return true;
}

static void summary_pairs(struct json_object *o, bool first)
{
	json_object_object_foreach(o, key, val)
	{
		if (streq(key, "ts") || streq(key, "sandbox") || streq(key, "type"))
			continue;
		sep(&first);
		put_safe(key);
		putchar('=');
		put_value(val);
	}
}

static void summary_net(struct json_object *o)
{
	bool first = true, have_up, have_down;
	const char *s, *host = get_str(o, "host");
	int64_t up = 0, down = 0, ms;

	if (put_hostport(o))
		first = false;
	if (host && (s = get_str(o, "ip"))) {
		sep(&first);
		put_safe(s);
	}
	if ((s = get_str(o, "decision"))) {
		sep(&first);
		put_safe(s);
	}
	if ((s = get_str(o, "rule"))) {
		sep(&first);
		put_safe(s);
	}
	have_up = get_int(o, "bytes_up", &up);
	have_down = get_int(o, "bytes_down", &down);
	if (have_up || have_down) {
		char a[24], b[24];

		sep(&first);
		printf("%s/%s", fmt_bytes(up, a), fmt_bytes(down, b));
	}
	if (get_int(o, "duration_ms", &ms)) {
		sep(&first);
		put_duration(ms);
	}
}

static void summary_dns(struct json_object *o)
{
	struct json_object *ans;
	const char *s;

	put_safe(get_str(o, "name") ?: "?");
	fputs(" -> ", stdout);
	if (json_object_object_get_ex(o, "answer", &ans) && ans &&
	    !(json_object_is_type(ans, json_type_array) && json_object_array_length(ans) == 0))
		put_value(ans);
	else
		putchar('-');
	if ((s = get_str(o, "decision"))) {
		fputs(" (", stdout);
		put_safe(s);
		putchar(')');
	}
}

static void summary_exec(struct json_object *o)
{
	bool first = true;
	const char *cwd = get_str(o, "cwd");
	int64_t pid;

	if (get_int(o, "pid", &pid)) {
		printf("%" PRId64, pid);
		first = false;
	}
	sep(&first);
	if (!put_argv(o, "argv"))
		put_safe(get_str(o, "path") ?: "?");
	if (cwd) {
		fputs(" (", stdout);
		put_safe(cwd);
		putchar(')');
	}
}

static void summary_deny(struct json_object *o)
{
	bool first = !put_hostport(o);
	const char *s;

	if ((s = get_str(o, "rule"))) {
		sep(&first);
		put_safe(s);
	}
	if ((s = get_str(o, "reason"))) {
		sep(&first);
		put_safe(s);
	}
}

static void summary_start(struct json_object *o)
{
	const char *ws = get_str(o, "workspace");
	bool first = !put_argv(o, "argv");

	if (ws) {
		sep(&first);
		putchar('(');
		put_safe(ws);
		putchar(')');
	}
}

static void summary_exit(struct json_object *o)
{
	const char *sig = get_str(o, "signal");
	int64_t status, ms;

	if (sig) {
		fputs("killed by ", stdout);
		put_safe(sig);
	} else if (get_int(o, "status", &status))
		printf("status %" PRId64, status);
	else
		fputs("exited", stdout);
	if (get_int(o, "duration_ms", &ms)) {
		fputs(" after ", stdout);
		put_duration(ms);
	}
}

static void print_readable(struct json_object *o, const char *type, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct json_object *tr;
	char when[64] = "?";
	struct tm tm;

	if (localtime_r(&t, &tm))
		(void)strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	printf("%s.%03d %-13s ", when, (int)(((ms % 1000) + 1000) % 1000), type);
	if (streq(type, "net"))
		summary_net(o);
	else if (streq(type, "dns"))
		summary_dns(o);
	else if (streq(type, "exec"))
		summary_exec(o);
	else if (streq(type, "deny"))
		summary_deny(o);
	else if (streq(type, "start"))
		summary_start(o);
	else if (streq(type, "exit"))
		summary_exit(o);
	else
		summary_pairs(o, true);
	if (json_object_object_get_ex(o, "truncated", &tr) && json_object_get_boolean(tr) &&
	    (streq(type, "net") || streq(type, "dns") || streq(type, "exec") ||
	     streq(type, "deny") || streq(type, "start") || streq(type, "exit")))
		fputs(" [truncated]", stdout);
	putchar('\n');
}

static void logfile_malformed(struct logfile *lf, const char *why)
{
	lf->warnings++;
	if (lf->warnings <= LOGS_WARNINGS_MAX)
		log_warning("%s:%lu: %s, skipped", lf->path, lf->line, why);
	if (lf->warnings == LOGS_WARNINGS_MAX)
		log_warning("%s: further malformed lines are skipped silently", lf->path);
}

/* one complete line (without its newline) */
static void logfile_line(struct logfile *lf, const char *s, size_t n)
{
	_cleanup_(json_tokener_freep) json_tokener *tok = NULL;
	_cleanup_(json_object_putp) json_object *o = NULL;
	const char *type, *ts;
	int64_t ms;

	lf->line++;
	if (n == 0)
		return; /* the writer's newline after a short write */
	if (n > INT_MAX || memchr(s, '\0', n)) {
		logfile_malformed(lf, "not a JSON line");
		return;
	}
	tok = json_tokener_new_ex(LOGS_DEPTH_MAX);
	if (!tok)
		return;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, s, (int)n);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != n) {
		logfile_malformed(lf, "malformed or truncated JSON");
		return;
	}
	if (!json_object_is_type(o, json_type_object)) {
		logfile_malformed(lf, "not a JSON object");
		return;
	}
	type = get_str(o, "type");
	ts = get_str(o, "ts");
	if (!type || !audit_type_is_valid(type)) {
		logfile_malformed(lf, "no valid \"type\"");
		return;
	}
	if (!ts || audit_parse_ts(ts, &ms) < 0) {
		logfile_malformed(lf, "no valid \"ts\"");
		return;
	}
	if (!type_selected(type) || (arg_since_set && ms < arg_since_ms))
		return;
	if (arg_json) {
		fwrite(s, 1, n, stdout);
		putchar('\n');
	} else
		print_readable(o, type, ms);
}

/*
 * Read @lf from where it stands to its end. Complete lines are handled; a tail without its
 * newline stays buffered, unless @final (the file is finished), when it counts as a line.
 */
static int logfile_read(struct logfile *lf, bool final)
{
	for (;;) {
		size_t start = 0, scan;
		ssize_t k;

		if (lf->cap - lf->len < LOGS_CHUNK) {
			lf->cap = lf->len + LOGS_CHUNK;
			lf->buf = xrealloc(lf->buf, lf->cap);
		}
		k = read(lf->fd, lf->buf + lf->len, lf->cap - lf->len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		scan = lf->len;
		lf->len += (size_t)k;
		for (char *nl; (nl = memchr(lf->buf + scan, '\n', lf->len - scan));) {
			size_t end = (size_t)(nl - lf->buf);

			if (lf->skipping) {
				lf->skipping = false;
				lf->line++;
			} else
				logfile_line(lf, lf->buf + start, end - start);
			start = scan = end + 1;
		}
		memmove(lf->buf, lf->buf + start, lf->len - start);
		lf->len -= start;
		if (lf->len >= LOGS_LINE_MAX) {
			if (!lf->skipping)
				logfile_malformed(lf, "line longer than 4 MiB");
			lf->skipping = true;
			lf->len = 0;
		}
	}
	if (final && lf->len > 0) {
		if (!lf->skipping)
			logfile_line(lf, lf->buf, lf->len);
		lf->len = 0;
	}
	return 0;
}

/* open @path for reading into @lf; -ENOENT when it does not exist */
static int logfile_open(struct logfile *lf, const char *path)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	*lf = (struct logfile){ .path = xstrdup(path), .fd = TAKE_FD(fd) };
	return 0;
}

static bool file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* does @path or one of its rotated files exist? */
static bool log_exists(const char *path)
{
	if (file_exists(path))
		return true;
	for (int i = 1; i <= AUDIT_KEEP; i++) {
		_cleanup_free_ char *p = xasprintf("%s.%d", path, i);

		if (file_exists(p))
			return true;
	}
	return false;
}

static bool dir_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* TARGET to the path of its log file */
static int logs_resolve(const char *target, char **ret)
{
	_cleanup_free_ char *data = NULL, *sbdir = NULL, *sb = NULL, *kept = NULL;
	int r;

	if (strchr(target, '/')) {
		_cleanup_free_ char *dir = parent_dir(target);

		if (log_exists(target) || (arg_follow && dir_exists(dir))) {
			*ret = xstrdup(target);
			return 0;
		}
		log_error("logs: no audit log at '%s' (nor '%s.1' ... '%s.%d')", target, target,
			  target, AUDIT_KEEP);
		return -ENOENT;
	}
	if (!*target || target[0] == '.') {
		log_error("logs: invalid sandbox name '%s'", target);
		return -EINVAL;
	}
	r = paths_data_dir(&data);
	if (r < 0) {
		(void)log_error_errno(r, "logs: cannot find the data directory: %m");
		return r; /* not the macro's value: the analyzer then knows *ret is set on success */
	}
	sbdir = xasprintf("%s/sandboxes/%s", data, target);
	sb = path_join(sbdir, "audit.jsonl");
	kept = xasprintf("%s/logs/%s.jsonl", data, target);
	/* a persistent sandbox that has not logged anything yet still names its log */
	if (log_exists(sb) || dir_exists(sbdir)) {
		*ret = TAKE_PTR(sb);
		return 0;
	}
	if (log_exists(kept)) {
		*ret = TAKE_PTR(kept);
		return 0;
	}
	log_error("logs: no sandbox or kept log named '%s': looked for '%s' and '%s'", target, sb,
		  kept);
	return -ENOENT;
}

/* print the rotated files of @path, oldest first */
static int logs_print_rotated(const char *path)
{
	for (int i = AUDIT_KEEP; i >= 1; i--) {
		_cleanup_free_ char *p = xasprintf("%s.%d", path, i);
		struct logfile lf = { .fd = -EBADF };
		int r = logfile_open(&lf, p);

		if (r == -ENOENT)
			continue;
		if (r < 0)
			return log_error_errno(r, "logs: cannot read '%s': %m", p);
		r = logfile_read(&lf, true);
		logfile_done(&lf);
		if (r < 0)
			return log_error_errno(r, "logs: cannot read '%s': %m", p);
	}
	return 0;
}

/* is @path the file open as @fd? */
static bool path_is_fd(const char *path, int fd)
{
	struct stat a, b;

	return fd >= 0 && stat(path, &a) == 0 && fstat(fd, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/*
 * Several rotations may have happened since the last batch: if the file we were reading is
 * now PATH.k, the files rotated after it, PATH.(k-1) ... PATH.1, are read too, whole.
 */
static void logs_read_rotated_after(const char *path, int old_fd)
{
	int k = 0;

	for (int i = 1; i <= AUDIT_KEEP && !k; i++) {
		_cleanup_free_ char *p = xasprintf("%s.%d", path, i);

		if (path_is_fd(p, old_fd))
			k = i;
	}
	for (int i = k - 1; i >= 1; i--) {
		_cleanup_free_ char *p = xasprintf("%s.%d", path, i);
		struct logfile lf = { .fd = -EBADF };

		if (logfile_open(&lf, p) < 0)
			continue;
		(void)logfile_read(&lf, true);
		logfile_done(&lf);
	}
}

/*
 * After an inotify batch: read the rest of the open file, then switch if PATH was replaced.
 * A writer rotates only under an exclusive flock(2) on PATH's file (audit.c), so a shared
 * lock on the new PATH keeps the rotated files still while we find and read those that came
 * between the one we were reading and it.
 */
static int logs_follow_step(const char *path, struct logfile *lf)
{
	struct logfile next = { .fd = -EBADF };
	int r;

	if (lf->fd >= 0) {
		r = logfile_read(lf, false);
		if (r < 0)
			return log_error_errno(r, "logs: cannot read '%s': %m", path);
	}
	for (int tries = 0;; tries++) {
		if (path_is_fd(path, lf->fd))
			return 0;
		r = logfile_open(&next, path);
		if (r == -ENOENT)
			return 0; /* between the rotation's rename and the new file: wait */
		if (r < 0)
			return log_error_errno(r, "logs: cannot read '%s': %m", path);
		(void)flock(next.fd, LOCK_SH);
		if (path_is_fd(path, next.fd) || tries >= 10)
			break;
		logfile_done(&next); /* rotated again meanwhile */
	}
	if (lf->fd >= 0) {
		(void)logfile_read(lf, true); /* the old file is finished */
		logs_read_rotated_after(path, lf->fd);
	}
	(void)flock(next.fd, LOCK_UN);
	logfile_done(lf);
	*lf = next;
	r = logfile_read(lf, false);
	if (r < 0)
		return log_error_errno(r, "logs: cannot read '%s': %m", path);
	return 0;
}

static int logs_follow(const char *path, struct logfile *lf)
{
	_cleanup_close_ int ifd = -EBADF, sfd = -EBADF;
	_cleanup_free_ char *dir = parent_dir(path);
	const uint32_t mask = IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
			      IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF;
	sigset_t mask_sig;
	int wd, r;

	sigemptyset(&mask_sig);
	sigaddset(&mask_sig, SIGINT);
	sigaddset(&mask_sig, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask_sig, NULL) < 0)
		return log_error_errno(-errno, "logs: cannot block signals: %m");
	sfd = signalfd(-1, &mask_sig, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return log_error_errno(-errno, "logs: signalfd failed: %m");
	ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ifd < 0)
		return log_error_errno(-errno, "logs: inotify_init1 failed: %m");
	/* #syscalls: inotify_add_watch */
	wd = inotify_add_watch(ifd, dir, mask | IN_ONLYDIR);
	if (wd < 0)
		return log_error_errno(-errno, "logs: cannot watch '%s': %m", dir);

	/* whatever happened between the first read and the watch */
	r = logs_follow_step(path, lf);
	if (r < 0)
		return r;
	(void)fflush(stdout);
	for (;;) {
		struct pollfd p[2] = { { .fd = ifd, .events = POLLIN },
				       { .fd = sfd, .events = POLLIN } };
		char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
		bool gone = false;
		ssize_t k;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return log_error_errno(-errno, "logs: poll failed: %m");
		}
		if (p[1].revents)
			return 0; /* SIGINT or SIGTERM: the user is done */
		while ((k = read(ifd, ev, sizeof(ev))) > 0)
			for (char *e = ev; e < ev + k;) {
				const struct inotify_event *ie = (const struct inotify_event *)e;

				if (ie->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
					gone = true;
				e += sizeof(*ie) + ie->len;
			}
		r = logs_follow_step(path, lf);
		if (r < 0)
			return r;
		if (fflush(stdout) != 0 || ferror(stdout))
			return 0; /* the reader went away */
		if (gone) {
			log_notice("logs: '%s' was removed", dir);
			return 0;
		}
	}
}

static int logs_show(const char *path)
{
	struct logfile lf = { .fd = -EBADF };
	int r;

	r = logs_print_rotated(path);
	if (r < 0)
		return r;
	r = logfile_open(&lf, path);
	if (r < 0 && !(r == -ENOENT && (arg_follow || log_exists(path))))
		return log_error_errno(r, "logs: cannot read '%s': %m", path);
	if (lf.fd >= 0) {
		r = logfile_read(&lf, !arg_follow);
		if (r < 0) {
			logfile_done(&lf);
			return log_error_errno(r, "logs: cannot read '%s': %m", path);
		}
	}
	if (arg_follow) {
		(void)fflush(stdout);
		r = logs_follow(path, &lf);
	}
	logfile_done(&lf);
	return r < 0 ? r : 0;
}

/* the size of @path and its rotated files, and the newest modification time */
static void log_size(const char *path, int64_t *ret_size, time_t *ret_mtime)
{
	struct stat st;

	*ret_size = 0;
	*ret_mtime = 0;
	for (int i = 0; i <= AUDIT_KEEP; i++) {
		_cleanup_free_ char *p = i ? xasprintf("%s.%d", path, i) : xstrdup(path);

		if (stat(p, &st) < 0)
			continue;
		*ret_size += st.st_size;
		if (st.st_mtime > *ret_mtime)
			*ret_mtime = st.st_mtime;
	}
}

struct log_entry {
	char *name;
	const char *kind;
	int64_t size;
	time_t mtime;
};

static int entry_cmp(const void *a, const void *b)
{
	const struct log_entry *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* the logs under @dir: NAME.jsonl (kept runs) or NAME/audit.jsonl (sandboxes) */
static void logs_collect(const char *dir, bool sandboxes, struct log_entry **e, size_t *n)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		_cleanup_free_ char *p = NULL, *name = NULL;
		size_t l = strlen(de->d_name);

		if (de->d_name[0] == '.')
			continue;
		if (sandboxes) {
			p = xasprintf("%s/%s/audit.jsonl", dir, de->d_name);
			name = xstrdup(de->d_name);
		} else {
			if (l <= 6 || !streq(de->d_name + l - 6, ".jsonl"))
				continue;
			p = xasprintf("%s/%s", dir, de->d_name);
			name = xstrndup(de->d_name, l - 6);
		}
		if (!log_exists(p))
			continue;
		*e = xreallocarray(*e, *n + 1, sizeof(**e));
		(*e)[*n] = (struct log_entry){ .name = TAKE_PTR(name),
					       .kind = sandboxes ? "sandbox" : "run" };
		log_size(p, &(*e)[*n].size, &(*e)[*n].mtime);
		(*n)++;
	}
}

static int logs_list(void)
{
	_cleanup_free_ char *data = NULL, *sbdir = NULL, *keptdir = NULL;
	struct log_entry *e = NULL;
	size_t n = 0;
	int r;

	r = paths_data_dir(&data);
	if (r < 0)
		return log_error_errno(r, "logs: cannot find the data directory: %m");
	sbdir = path_join(data, "sandboxes");
	keptdir = path_join(data, "logs");
	logs_collect(sbdir, true, &e, &n);
	logs_collect(keptdir, false, &e, &n);
	if (n > 0)
		qsort(e, n, sizeof(*e), entry_cmp);
	if (arg_json) {
		_cleanup_(json_object_putp) json_object *a = json_object_new_array();

		for (size_t i = 0; i < n; i++) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "name", json_object_new_string(e[i].name));
			json_object_object_add(o, "kind", json_object_new_string(e[i].kind));
			json_object_object_add(o, "size", json_object_new_int64(e[i].size));
			json_object_object_add(o, "mtime", json_object_new_int64(e[i].mtime));
			json_object_array_add(a, o);
		}
		puts(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
	} else if (n == 0)
		log_notice("logs: no audit logs under '%s' or '%s'", sbdir, keptdir);
	else {
		printf("%-32s %-8s %8s  %s\n", "NAME", "KIND", "SIZE", "MODIFIED");
		for (size_t i = 0; i < n; i++) {
			char when[64] = "?", size[24];
			size_t l = strlen(e[i].name);
			struct tm tm;

			if (localtime_r(&e[i].mtime, &tm))
				(void)strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
			put_safe(e[i].name);
			printf("%*s %-8s %8s  %s\n", (int)(l < 32 ? 32 - l : 0), "", e[i].kind,
			       fmt_bytes(e[i].size, size), when);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(e[i].name);
	free(e);
	return 0;
}

static int cmd_logs_exec(int argc, char **argv)
{
	_cleanup_(cmd_parser_done) struct cmd_parser p =
		CMD_PARSER_INIT(cmd_find("logs"), argc, argv);
	_cleanup_free_ char *path = NULL;
	int c, r;

	while ((c = cmd_parse_next(&p)) > 0)
		switch (c) {
		case 'f':
			arg_follow = true;
			break;
		case ARG_JSON:
			arg_json = true;
			break;
		case ARG_TYPE:
			if (parse_types(optarg) < 0)
				return -EINVAL;
			break;
		case ARG_SINCE:
			if (parse_since(optarg, &arg_since_ms) < 0) {
				log_error("logs: invalid --since '%s': expected a duration such "
					  "as 10m, 2h or 1d, or an RFC 3339 time such as "
					  "2025-01-31T09:00:00Z",
					  optarg);
				return -EINVAL;
			}
			arg_since_set = true;
			break;
		case 'h':
			return 0;
		default:
			return -EINVAL;
		}
	if (c < 0)
		return c;
	if (p.n_args == 0) {
		if (arg_follow || arg_types || arg_since_set) {
			log_error("logs: -f, --type and --since need a TARGET");
			return -EINVAL;
		}
		return logs_list();
	}
	r = logs_resolve(p.args[0], &path);
	if (r < 0)
		return r;
	r = logs_show(path);
	(void)fflush(stdout);
	return r;
}

const struct paddock_cmd paddock_cmd_logs = {
	.name = "logs",
	.usage = "[-f] [--json] [--type T[,T...]] [--since WHEN] [SANDBOX|FILE]",
	.summary = "Show the audit log of a sandbox or a kept run: programs, connections, DNS",
	.opts = logs_opts,
	.min_args = 0,
	.max_args = 1,
	.complete_args = "file",
	.exec = cmd_logs_exec,
};
