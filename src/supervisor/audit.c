/* SPDX-License-Identifier: MIT */
/*
 * audit.c - the audit log writer: JSON lines, appended atomically, rotated by size
 *
 * DOC: Theory of Operation
 * The audit log is data, not diagnostics (STYLE.md): one JSON object per event, one event per
 * line, members "ts", "sandbox", "type" first and then the event's fields (json-c keeps the
 * insertion order of an object's members). `paddock logs -f` reads the file while it is
 * written, and more than one process of a sandbox may write to it, so:
 *
 * - The file is opened with O_APPEND and each line, newline included, goes out in a single
 *   write(2). On Linux a write to a regular file holds the inode's lock for its whole length,
 *   so two appending writers never interleave their bytes. A reader may still catch a line
 *   half-copied, without its newline yet: it keeps such a tail until the newline arrives.
 * - A short write (the disk is full) leaves a partial line. The next write then starts with a
 *   newline, so that only the damaged line is lost to a reader, never the one after it.
 * - Nothing here is fatal to the sandbox: a failed write is counted (audit_errors(), which
 *   the supervisor reports at exit) and logged as a warning the first time only.
 *
 * Escaping. json-c escapes '"', '\\' and the control characters below 0x20 (as \n, \t, ...,
 * or \u00XX; NUL cannot occur in a C string, and a json-c string made with a length prints it
 * as \u0000). It copies every byte from 0x80 up unchanged and does not check that they form
 * UTF-8, so invalid UTF-8 in, say, an argv element would make a line that strict readers
 * (Python's json, Go's encoding/json, and json-c itself with JSON_TOKENER_VALIDATE_UTF8)
 * refuse or alter. Before a line is built, every string among the fields is therefore checked
 * and each byte that is not part of a well-formed UTF-8 character is replaced by U+FFFD, as
 * Go's encoding/json does. The replacement is lossy, but the log stays parseable line by line
 * by any reader, and a sandbox cannot forge structure with odd bytes.
 *
 * Bounds. A string field is cut (on a character boundary) to AUDIT_STRING_MAX bytes and an
 * array to AUDIT_ARRAY_MAX elements; a line that is still longer than AUDIT_LINE_MAX keeps only
 * ts, sandbox and type. Either way the line gets "truncated": true. Reserved member names
 * (ts, sandbox, type, truncated) among the fields are dropped.
 *
 * Rotation. Before each line the writer checks that PATH is still the file it has open (a
 * concurrent writer may have rotated it, or a user removed it) and reopens it if not. When the
 * line would take the file beyond the size limit, the writer takes an exclusive flock(2) on
 * the file, checks again under the lock that PATH is still that file, shifts PATH.3 to PATH.4
 * ... PATH to PATH.1 (the old PATH.4 goes), and opens a new PATH. The lock makes two writers
 * that hit the limit together rotate once, and lets `paddock logs -f` (a shared lock) find its
 * way from the file it was reading to the new one. The writer never waits for the lock: when
 * it is taken, the rotation is tried again at the next line. A line written by another writer between its check
 * and its write lands at the end of PATH.1: complete, and read just before PATH.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/utf8.h"
#include "common/xmalloc.h"

struct audit {
	char *path;
	struct json_object *sandbox; /* a string, sanitized once */
	int fd;
	uint64_t max_size;
	unsigned errors;
	bool warned;        /* the first failure has been logged */
	bool warned_rotate; /* the first rotation failure has been logged */
	bool partial_line;  /* the last write was short: start the next one with a newline */
};

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put)

bool audit_type_is_valid(const char *type)
{
	size_t n;

	if (!type || !(type[0] >= 'a' && type[0] <= 'z'))
		return false;
	n = strspn(type, "abcdefghijklmnopqrstuvwxyz0123456789_");
	if (n > AUDIT_TYPE_MAX)
		return false;
	return type[n] == '\0';
}

void audit_format_ts(int64_t ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	int frac = (int)(ms % 1000);
	struct tm tm;

	if (frac < 0) {
		frac += 1000;
		t--;
	}
	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
		(void)snprintf(buf, size, "1970-01-01T00:00:00.000Z");
		return;
	}
	(void)snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

/* @n decimal digits at @s, into @ret */
static bool parse_digits(const char *s, int n, int *ret)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return true;
}

/* days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil) */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int audit_parse_ts(const char *s, int64_t *ret_ms)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec, ms = 0, oh = 0, om = 0, sign = 0;
	const char *p;
	int64_t t;

	if (!s || strlen(s) < 20)
		return -EINVAL;
	if (!parse_digits(s, 4, &y) || s[4] != '-' || !parse_digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !parse_digits(s + 8, 2, &d) || !(s[10] == 'T' || s[10] == 't' || s[10] == ' ') ||
	    !parse_digits(s + 11, 2, &h) || s[13] != ':' || !parse_digits(s + 14, 2, &mi) ||
	    s[16] != ':' || !parse_digits(s + 17, 2, &sec))
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -EINVAL;
	p = s + 19;
	if (*p == '.') {
		int digits = 0;

		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 3)
				ms = ms * 10 + (*p - '0');
		if (digits == 0)
			return -EINVAL;
		for (; digits < 3; digits++)
			ms *= 10;
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (!parse_digits(p + 1, 2, &oh) || p[3] != ':' || !parse_digits(p + 4, 2, &om) ||
		    oh > 23 || om > 59)
			return -EINVAL;
		p += 6;
	} else
		return -EINVAL;
	if (*p)
		return -EINVAL;
	if (sec == 60) /* a leap second counts as the last second of its minute */
		sec = 59;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= (int64_t)sign * (oh * 3600 + om * 60);
	*ret_ms = t * 1000 + ms;
	return 0;
}

/*
 * A copy of @s (@n bytes) as valid UTF-8 of at most @max bytes: each byte that does not begin
 * a well-formed character becomes U+FFFD. NULL when @s is already fine. Sets *@truncated when
 * it had to cut.
 */
static char *sanitize_string(const char *s, size_t n, size_t max, bool *truncated)
{
	size_t i = 0, o = 0;
	char *out;

	if (n <= max && utf8_is_valid(s, n))
		return NULL;
	out = xmalloc(MIN(n * 3, max) + 1);
	while (i < n) {
		size_t l = utf8_char_len(s + i, n - i, NULL);
		size_t need = l ? l : 3;

		if (o + need > max) {
			*truncated = true;
			break;
		}
		if (l) {
			memcpy(out + o, s + i, l);
			i += l;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			i++;
		}
		o += need;
	}
	out[o] = '\0';
	return out;
}

/* make every string in @o valid UTF-8 and every string and array bounded, in place */
/* NOLINTNEXTLINE(misc-no-recursion): stops at depth 16 */
static void sanitize(struct json_object *o, int depth, bool *truncated)
{
	switch (json_object_get_type(o)) {
	case json_type_string: {
		_cleanup_free_ char *s = sanitize_string(json_object_get_string(o),
							 (size_t)json_object_get_string_len(o),
							 AUDIT_STRING_MAX, truncated);

		if (s)
			(void)json_object_set_string(o, s);
		break;
	}
	case json_type_array: {
		size_t n = json_object_array_length(o);

		if (n > AUDIT_ARRAY_MAX) {
			(void)json_object_array_del_idx(o, AUDIT_ARRAY_MAX, n - AUDIT_ARRAY_MAX);
			*truncated = true;
			n = AUDIT_ARRAY_MAX;
		}
		if (depth >= 16)
			break;
		for (size_t i = 0; i < n; i++)
			sanitize(json_object_array_get_idx(o, i), depth + 1, truncated);
		break;
	}
	case json_type_object: {
		if (depth >= 16)
			break;
		json_object_object_foreach(o, key, val)
		{
			(void)key;
			sanitize(val, depth + 1, truncated);
		}
		break;
	}
	case json_type_null:
	case json_type_boolean:
	case json_type_double:
	case json_type_int:
		break;
	}
}

static bool is_reserved(const char *key)
{
	return streq(key, "ts") || streq(key, "sandbox") || streq(key, "type") ||
	       streq(key, "truncated");
}

static int64_t now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The line for one event, with a newline before it (used only after a short write) and after
 * it: @ret_len counts from the second byte.
 */
static char *audit_build_line(struct audit *a, int64_t ms, const char *type,
			      struct json_object *fields, size_t *ret_len)
{
	_cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
	const int flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
	bool truncated = false;
	char ts[32], *line;
	const char *s;
	size_t len;

	audit_format_ts(ms, ts, sizeof(ts));
	json_object_object_add(o, "ts", json_object_new_string(ts));
	json_object_object_add(o, "sandbox", json_object_get(a->sandbox));
	json_object_object_add(o, "type", json_object_new_string(type));
	if (fields && json_object_is_type(fields, json_type_object)) {
		sanitize(fields, 0, &truncated);
		json_object_object_foreach(fields, key, val)
		{
			if (is_reserved(key)) {
				log_debug("audit: field '%s' of a '%s' event is reserved, dropped",
					  key, type);
				continue;
			}
			json_object_object_add(o, key, json_object_get(val));
		}
	}
	if (truncated)
		json_object_object_add(o, "truncated", json_object_new_boolean(true));
	s = json_object_to_json_string_length(o, flags, &len);
	if (len + 1 > AUDIT_LINE_MAX) {
		json_object_put(o);
		o = json_object_new_object();
		json_object_object_add(o, "ts", json_object_new_string(ts));
		json_object_object_add(o, "sandbox", json_object_get(a->sandbox));
		json_object_object_add(o, "type", json_object_new_string(type));
		json_object_object_add(o, "truncated", json_object_new_boolean(true));
		json_object_object_add(o, "size", json_object_new_int64((int64_t)len));
		s = json_object_to_json_string_length(o, flags, &len);
	}
	line = xmalloc(len + 3);
	line[0] = '\n';
	memcpy(line + 1, s, len);
	line[len + 1] = '\n';
	line[len + 2] = '\0';
	*ret_len = len + 1;
	return line;
}

static int audit_open_fd(const char *path)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	return TAKE_FD(fd);
}

static char *rotated_name(const char *path, int i)
{
	return xasprintf("%s.%d", path, i);
}

/* is @path the file open as @fd? */
static bool path_is_fd(const char *path, int fd)
{
	struct stat a, b;

	return fd >= 0 && stat(path, &a) == 0 && fstat(fd, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

static int audit_reopen(struct audit *a)
{
	int fd = audit_open_fd(a->path);

	if (fd < 0)
		return fd;
	safe_close(a->fd);
	a->fd = fd;
	a->partial_line = false; /* a new file starts at a line boundary */
	return 0;
}

/* 1 when rotated, 0 when postponed (the file is locked), or -errno */
static int audit_rotate(struct audit *a)
{
	int r = 0;

	/*
	 * Never wait: a reader (`paddock logs -f`) may hold a shared lock while it finds its way
	 * through the rotated files, and the sandbox must not stall on it. Try again next line.
	 */
	if (flock(a->fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? 0 : -errno;
	/* under the lock: another writer may have rotated the file since we looked */
	if (path_is_fd(a->path, a->fd)) {
		for (int i = AUDIT_KEEP - 1; i >= 1; i--) {
			_cleanup_free_ char *from = rotated_name(a->path, i);
			_cleanup_free_ char *to = rotated_name(a->path, i + 1);

			if (rename(from, to) < 0 && errno != ENOENT) {
				r = -errno;
				break;
			}
		}
		if (r == 0) {
			_cleanup_free_ char *to = rotated_name(a->path, 1);

			if (rename(a->path, to) < 0)
				r = -errno;
		}
	}
	(void)flock(a->fd, LOCK_UN);
	if (r < 0)
		return r;
	r = audit_reopen(a);
	return r < 0 ? r : 1;
}

static int audit_write_line(struct audit *a, const char *line, size_t len)
{
	const char *p = a->partial_line ? line : line + 1;
	size_t n = a->partial_line ? len + 1 : len;
	struct stat st;
	ssize_t w;
	int r;

	/* the file may have been rotated by another writer, or removed */
	if (!path_is_fd(a->path, a->fd)) {
		r = audit_reopen(a);
		if (r < 0)
			return r;
		p = line + 1;
		n = len;
	}
	if (a->max_size > 0 && fstat(a->fd, &st) == 0 && st.st_size > 0 &&
	    (uint64_t)st.st_size + n > a->max_size) {
		r = audit_rotate(a);
		if (r < 0) {
			/* keep appending to the big file rather than lose events */
			if (!a->warned_rotate)
				log_warning_errno(r,
						  "Failed to rotate the audit log '%s', "
						  "ignoring: %m",
						  a->path);
			a->warned_rotate = true;
		} else if (r > 0) {
			p = line + 1;
			n = len;
		}
	}
	do
		w = write(a->fd, p, n);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -errno;
	if ((size_t)w < n) {
		a->partial_line = true;
		return -ENOSPC;
	}
	a->partial_line = false;
	return 0;
}

static void audit_fail(struct audit *a, int r, const char *what)
{
	a->errors++;
	if (a->warned)
		return;
	a->warned = true;
	log_warning_errno(r,
			  "Failed to %s the audit log '%s' (further failures are counted, not "
			  "shown): %m",
			  what, a->path);
}

void audit_event(struct audit *a, const char *type, struct json_object *fields)
{
	_cleanup_(json_object_putp) struct json_object *f = fields;
	_cleanup_free_ char *line = NULL;
	size_t len;
	int r;

	if (!a)
		return;
	if (!audit_type_is_valid(type)) {
		audit_fail(a, -EINVAL, "record an event of an invalid type in");
		return;
	}
	line = audit_build_line(a, now_ms(), type, f, &len);
	r = audit_write_line(a, line, len);
	if (r < 0)
		audit_fail(a, r, "write to");
}

unsigned audit_errors(const struct audit *a)
{
	return a ? a->errors : 0;
}

void audit_set_max_size(struct audit *a, uint64_t bytes)
{
	a->max_size = bytes;
}

static int mkdir_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	_cleanup_free_ char *dir = NULL;

	if (!slash || slash == path)
		return 0;
	dir = xstrndup(path, (size_t)(slash - path));
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int audit_open(const char *path, const char *sandbox, struct audit **ret)
{
	_cleanup_free_ char *name = NULL;
	struct audit *a;
	bool truncated = false;
	int fd, r;

	if (!path || !*path || !sandbox)
		return -EINVAL;
	r = mkdir_parent(path);
	if (r < 0)
		return r;
	fd = audit_open_fd(path);
	if (fd < 0)
		return fd;
	name = sanitize_string(sandbox, strlen(sandbox), 256, &truncated);
	a = xcalloc(1, sizeof(*a));
	a->path = xstrdup(path);
	a->sandbox = json_object_new_string(name ? name : sandbox);
	a->fd = fd;
	a->max_size = AUDIT_MAX_SIZE_DEFAULT;
	*ret = a;
	return 0;
}

struct audit *audit_close(struct audit *a)
{
	if (!a)
		return NULL;
	safe_close(a->fd);
	json_object_put(a->sandbox);
	free(a->path);
	free(a);
	return NULL;
}
