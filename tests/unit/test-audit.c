/* SPDX-License-Identifier: MIT */
/*
 * test-audit.c - the audit log writer: line format, escaping, bounds, rotation, concurrency
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include "common/fd.h"
#include "common/strv.h"
#include "supervisor/audit.c" /* reaches struct audit */
#include "tap.h"

static char tmp[] = "/tmp/test-audit-XXXXXX";

static char *tpath(const char *name)
{
	return xasprintf("%s/%s", tmp, name);
}

static char *slurp(const char *path)
{
	char *s = NULL;
	size_t n;

	if (read_file_at(AT_FDCWD, path, 64 * 1024 * 1024, &s, &n) < 0)
		return NULL;
	return s;
}

/* parse one line as strict JSON with UTF-8 validation, as the strictest reader would */
static struct json_object *parse_strict(const char *s, size_t n)
{
	json_tokener *tok = json_tokener_new();
	struct json_object *o;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, s, (int)n);
	if (o && (json_tokener_get_error(tok) != json_tokener_success ||
		  json_tokener_get_parse_end(tok) != n)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* split @s into lines; every line must end with '\n' */
static char **lines_of(const char *s)
{
	char **l = NULL;

	for (const char *p = s; *p;) {
		const char *nl = strchr(p, '\n');

		if (!nl)
			return strv_free(l); /* an unterminated line */
		strv_push(&l, xstrndup(p, (size_t)(nl - p)));
		p = nl + 1;
	}
	return l;
}

static const char *str_of(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return json_object_get_string(v);
}

TEST(setup)
{
	ASSERT_NOT_NULL(mkdtemp(tmp));
}

TEST(utf8)
{
	uint32_t cp;

	ASSERT_EQ(utf8_char_len("a", 1, &cp), 1);
	ASSERT_EQ(utf8_char_len("\xc3\xa9", 2, &cp), 2);
	ASSERT_EQ(cp, 0xe9);
	ASSERT_EQ(utf8_char_len("\xe2\x82\xac", 3, &cp), 3);
	ASSERT_EQ(utf8_char_len("\xf0\x9f\x98\x80", 4, &cp), 4);
	ASSERT_EQ(cp, 0x1f600);
	ASSERT_EQ(utf8_char_len("\xc0\x80", 2, NULL), 0);         /* overlong NUL */
	ASSERT_EQ(utf8_char_len("\xe0\x80\xaf", 3, NULL), 0);     /* overlong '/' */
	ASSERT_EQ(utf8_char_len("\xed\xa0\x80", 3, NULL), 0);     /* surrogate */
	ASSERT_EQ(utf8_char_len("\xf4\x90\x80\x80", 4, NULL), 0); /* > U+10FFFF */
	ASSERT_EQ(utf8_char_len("\xe2\x82", 2, NULL), 0);         /* truncated */
	ASSERT_EQ(utf8_char_len("\x80", 1, NULL), 0);
	ASSERT_EQ(utf8_char_len("\xff", 1, NULL), 0);
	ASSERT_TRUE(utf8_is_valid("h\xc3\xa9llo", 6));
	ASSERT_FALSE(utf8_is_valid("h\xe9llo", 5));
}

TEST(timestamps)
{
	char buf[32];
	int64_t ms;

	audit_format_ts(0, buf, sizeof(buf));
	ASSERT_STREQ(buf, "1970-01-01T00:00:00.000Z");
	audit_format_ts(1738314301123LL, buf, sizeof(buf));
	ASSERT_STREQ(buf, "2025-01-31T09:05:01.123Z");
	ASSERT_OK(audit_parse_ts(buf, &ms));
	ASSERT_EQ(ms, 1738314301123LL);
	ASSERT_OK(audit_parse_ts("2025-01-31T10:05:01.123456+01:00", &ms));
	ASSERT_EQ(ms, 1738314301123LL);
	ASSERT_OK(audit_parse_ts("2025-01-31 04:05:01.1-05:00", &ms));
	ASSERT_EQ(ms, 1738314301100LL);
	ASSERT_OK(audit_parse_ts("2024-02-29t00:00:00z", &ms));
	ASSERT_OK(audit_parse_ts("1969-12-31T23:59:59Z", &ms));
	ASSERT_EQ(ms, -1000);
	ASSERT_ERR(audit_parse_ts("2023-02-29T00:00:00Z", &ms), EINVAL);
	ASSERT_ERR(audit_parse_ts("2025-01-31T09:05:01", &ms), EINVAL); /* no zone */
	ASSERT_ERR(audit_parse_ts("2025-01-31T09:05:01.Z", &ms), EINVAL);
	ASSERT_ERR(audit_parse_ts("2025-13-01T00:00:00Z", &ms), EINVAL);
	ASSERT_ERR(audit_parse_ts("2025-01-31T24:00:00Z", &ms), EINVAL);
	ASSERT_ERR(audit_parse_ts("2025-01-31T09:05:01Zjunk", &ms), EINVAL);
	ASSERT_ERR(audit_parse_ts("", &ms), EINVAL);
}

TEST(types)
{
	ASSERT_TRUE(audit_type_is_valid("net"));
	ASSERT_TRUE(audit_type_is_valid("secret_leak"));
	ASSERT_TRUE(audit_type_is_valid("x2"));
	ASSERT_FALSE(audit_type_is_valid(""));
	ASSERT_FALSE(audit_type_is_valid("Net"));
	ASSERT_FALSE(audit_type_is_valid("_net"));
	ASSERT_FALSE(audit_type_is_valid("net dns"));
	ASSERT_FALSE(audit_type_is_valid("n\"et"));
	ASSERT_FALSE(audit_type_is_valid("abcdefghijklmnopqrstuvwxyz0123456"));
	ASSERT_FALSE(audit_type_is_valid(NULL));
}

TEST(line_format_and_order)
{
	_cleanup_free_ char *p = tpath("sub/format.jsonl"), *s = NULL, *dir = tpath("sub");
	_cleanup_strv_free_ char **l = NULL;
	struct audit *a = NULL;
	struct json_object *f = json_object_new_object(), *o;
	struct stat st;
	int64_t ms;

	ASSERT_OK(audit_open(p, "box", &a));
	ASSERT_EQ(stat(dir, &st), 0);
	ASSERT_EQ(st.st_mode & 07777, 0700);
	ASSERT_EQ(stat(p, &st), 0);
	ASSERT_EQ(st.st_mode & 07777, 0600);
	json_object_object_add(f, "zeta", json_object_new_int(1));
	json_object_object_add(f, "alpha", json_object_new_string("x/y"));
	json_object_object_add(f, "type", json_object_new_string("forged")); /* reserved */
	json_object_object_add(f, "ts", json_object_new_string("forged"));
	audit_event(a, "net", f);
	audit_event(a, "exit", NULL);
	audit_event(NULL, "net", json_object_new_object()); /* no log: dropped, freed */
	ASSERT_EQ(audit_errors(a), 0);
	a = audit_close(a);
	ASSERT_NULL(a);

	s = slurp(p);
	ASSERT_NOT_NULL(s);
	l = lines_of(s);
	ASSERT_EQ(strv_length(l), 2);
	/* "ts":"YYYY-MM-DDTHH:MM:SS.mmmZ" first, then sandbox, type, fields in order */
	ASSERT_EQ(strncmp(l[0], "{\"ts\":\"", 7), 0);
	ASSERT_EQ(l[0][7 + 23], 'Z');
	ASSERT_EQ(l[0][7 + 19], '.');
	ASSERT_STREQ(l[0] + 7 + 24,
		     "\",\"sandbox\":\"box\",\"type\":\"net\",\"zeta\":1,\"alpha\":\"x/y\"}");
	ASSERT_STREQ(l[1] + 7 + 24, "\",\"sandbox\":\"box\",\"type\":\"exit\"}");
	o = parse_strict(l[0], strlen(l[0]));
	ASSERT_NOT_NULL(o);
	ASSERT_OK(audit_parse_ts(str_of(o, "ts"), &ms));
	ASSERT_TRUE(llabs(ms - now_ms()) < 60000);
	json_object_put(o);
}

TEST(hostile_strings)
{
	static const char *const in[] = {
		"line1\nline2\r\n{\"type\":\"forged\"}",
		"quote\" backslash\\ tab\t bell\a esc\x1b[2J del\x7f",
		"bad utf8 \xff\xfe end",
		"overlong \xc0\xaf surrogate \xed\xa0\x80 cut \xe2\x82",
		"fine \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
	};
	static const char *const want[] = {
		"line1\nline2\r\n{\"type\":\"forged\"}",
		"quote\" backslash\\ tab\t bell\a esc\x1b[2J del\x7f",
		"bad utf8 \xef\xbf\xbd\xef\xbf\xbd end",
		("overlong \xef\xbf\xbd\xef\xbf\xbd surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd "
		 "cut \xef\xbf\xbd\xef\xbf\xbd"),
		"fine \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
	};
	_cleanup_free_ char *p = tpath("hostile.jsonl"), *s = NULL;
	_cleanup_strv_free_ char **l = NULL;
	struct audit *a = NULL;
	struct json_object *f = json_object_new_object(), *argv = json_object_new_array(), *o, *v;

	ASSERT_OK(audit_open(p, "evil\nname\xff", &a));
	for (size_t i = 0; i < ELEMENTSOF(in); i++)
		json_object_array_add(argv, json_object_new_string(in[i]));
	json_object_object_add(f, "argv", argv);
	json_object_object_add(f, "cwd", json_object_new_string_len("nul\0inside", 10));
	json_object_object_add(f, "ke\"y\n", json_object_new_string("v"));
	audit_event(a, "exec", f);
	a = audit_close(a);

	s = slurp(p);
	l = lines_of(s);
	ASSERT_EQ(strv_length(l), 1); /* newlines inside values never split the line */
	ASSERT_NOT_NULL(strstr(l[0], "\\u0000"));
	o = parse_strict(l[0], strlen(l[0]));
	ASSERT_NOT_NULL(o);
	ASSERT_STREQ(str_of(o, "sandbox"), "evil\nname\xef\xbf\xbd");
	ASSERT_STREQ(str_of(o, "type"), "exec");
	ASSERT_TRUE(json_object_object_get_ex(o, "argv", &argv));
	ASSERT_EQ(json_object_array_length(argv), ELEMENTSOF(in));
	for (size_t i = 0; i < ELEMENTSOF(in); i++)
		ASSERT_STREQ(json_object_get_string(json_object_array_get_idx(argv, i)), want[i]);
	ASSERT_TRUE(json_object_object_get_ex(o, "cwd", &v));
	ASSERT_EQ(json_object_get_string_len(v), 10);
	ASSERT_STREQ(str_of(o, "ke\"y\n"), "v");
	ASSERT_FALSE(json_object_object_get_ex(o, "truncated", &v));
	json_object_put(o);
}

TEST(long_values)
{
	_cleanup_free_ char *p = tpath("long.jsonl"), *s = NULL, *big = xmalloc(1024 * 1024 + 1);
	_cleanup_strv_free_ char **l = NULL;
	struct audit *a = NULL;
	struct json_object *f, *arr, *o, *v;

	/* a 1 MiB string whose cut falls inside a 3-byte character */
	memset(big, 'a', 1024 * 1024);
	memcpy(big + AUDIT_STRING_MAX - 1, "\xe2\x82\xac", 3);
	big[1024 * 1024] = '\0';
	ASSERT_OK(audit_open(p, "box", &a));
	f = json_object_new_object();
	json_object_object_add(f, "cwd", json_object_new_string(big));
	audit_event(a, "exec", f);
	/* 5000 elements: cut to AUDIT_ARRAY_MAX */
	f = json_object_new_object();
	arr = json_object_new_array();
	for (int i = 0; i < 5000; i++)
		json_object_array_add(arr, json_object_new_int(i));
	json_object_object_add(f, "argv", arr);
	audit_event(a, "exec", f);
	/* 1024 strings of 16 KiB: beyond AUDIT_LINE_MAX, only the head stays */
	f = json_object_new_object();
	arr = json_object_new_array();
	big[AUDIT_STRING_MAX] = '\0';
	for (int i = 0; i < 1024; i++)
		json_object_array_add(arr, json_object_new_string(big));
	json_object_object_add(f, "argv", arr);
	audit_event(a, "exec", f);
	ASSERT_EQ(audit_errors(a), 0);
	a = audit_close(a);

	s = slurp(p);
	l = lines_of(s);
	ASSERT_EQ(strv_length(l), 3);
	for (int i = 0; i < 3; i++)
		ASSERT_TRUE(strlen(l[i]) + 1 <= AUDIT_LINE_MAX);

	o = parse_strict(l[0], strlen(l[0]));
	ASSERT_NOT_NULL(o);
	ASSERT_TRUE(json_object_object_get_ex(o, "cwd", &v));
	ASSERT_EQ(json_object_get_string_len(v), AUDIT_STRING_MAX - 1); /* cut before the euro */
	ASSERT_TRUE(json_object_object_get_ex(o, "truncated", &v));
	ASSERT_TRUE(json_object_get_boolean(v));
	json_object_put(o);

	o = parse_strict(l[1], strlen(l[1]));
	ASSERT_NOT_NULL(o);
	ASSERT_TRUE(json_object_object_get_ex(o, "argv", &v));
	ASSERT_EQ(json_object_array_length(v), AUDIT_ARRAY_MAX);
	ASSERT_TRUE(json_object_object_get_ex(o, "truncated", &v));
	json_object_put(o);

	o = parse_strict(l[2], strlen(l[2]));
	ASSERT_NOT_NULL(o);
	ASSERT_FALSE(json_object_object_get_ex(o, "argv", &v));
	ASSERT_TRUE(json_object_object_get_ex(o, "size", &v));
	ASSERT_TRUE(json_object_get_int64(v) > AUDIT_LINE_MAX);
	ASSERT_STREQ(str_of(o, "type"), "exec");
	json_object_put(o);
}

TEST(invalid_type_and_write_errors)
{
	_cleanup_free_ char *p = tpath("errors.jsonl"), *s = NULL;
	struct audit *a = NULL;
	int ro;

	ASSERT_OK(audit_open(p, "box", &a));
	audit_event(a, "Bad Type", json_object_new_object());
	ASSERT_EQ(audit_errors(a), 1);
	/* a descriptor that cannot be written: each event is counted, none is fatal */
	ro = open(p, O_RDONLY | O_CLOEXEC);
	ASSERT_TRUE(ro >= 0);
	safe_close(a->fd);
	a->fd = ro;
	audit_event(a, "net", NULL);
	audit_event(a, "net", NULL);
	ASSERT_EQ(audit_errors(a), 3);
	a = audit_close(a);
	s = slurp(p);
	ASSERT_STREQ(s, "");
	ASSERT_EQ(audit_errors(NULL), 0);
	ASSERT_ERR(audit_open("", "box", &a), EINVAL);
	ASSERT_TRUE(audit_open("/proc/self/nonexistent/x.jsonl", "box", &a) < 0);
}

/* every line of PATH.4 ... PATH.1, PATH parses; returns the "n" field of each, in order */
static int collect(const char *path, int64_t *out, int *writer, size_t max, size_t *ret_n,
		   size_t *ret_files)
{
	size_t n = 0, files = 0;

	for (int i = AUDIT_KEEP; i >= 0; i--) {
		_cleanup_free_ char *f = i ? xasprintf("%s.%d", path, i) : xstrdup(path);
		_cleanup_free_ char *s = slurp(f);
		_cleanup_strv_free_ char **l = NULL;

		if (!s)
			continue;
		files++;
		l = lines_of(s);
		if (!l && *s)
			return -EBADMSG;
		STRV_FOREACH (line, l) {
			struct json_object *o = parse_strict(*line, strlen(*line)), *v;

			if (!o || n >= max)
				return -EBADMSG;
			if (!json_object_object_get_ex(o, "n", &v))
				return -EBADMSG;
			out[n] = json_object_get_int64(v);
			writer[n] =
				json_object_object_get_ex(o, "w", &v) ? json_object_get_int(v) : 0;
			n++;
			json_object_put(o);
		}
	}
	*ret_n = n;
	*ret_files = files;
	return 0;
}

TEST(rotation)
{
	_cleanup_free_ char *p = tpath("rot.jsonl"), *p5 = tpath("rot.jsonl.5");
	int64_t seen[1000];
	int w[1000];
	size_t n, files;
	struct audit *a = NULL;
	struct stat st;

	ASSERT_OK(audit_open(p, "box", &a));
	audit_set_max_size(a, 1000);
	for (int i = 0; i < 200; i++) {
		struct json_object *f = json_object_new_object();

		json_object_object_add(f, "n", json_object_new_int(i));
		audit_event(a, "net", f);
	}
	ASSERT_EQ(audit_errors(a), 0);
	a = audit_close(a);
	ASSERT_OK(collect(p, seen, w, ELEMENTSOF(seen), &n, &files));
	ASSERT_EQ(files, AUDIT_KEEP + 1);
	ASSERT_TRUE(stat(p5, &st) < 0);
	for (int i = 0; i <= AUDIT_KEEP; i++) {
		_cleanup_free_ char *f = i ? xasprintf("%s.%d", p, i) : xstrdup(p);

		ASSERT_EQ(stat(f, &st), 0);
		ASSERT_TRUE(st.st_size <= 1000);
		ASSERT_EQ(st.st_mode & 07777, 0600);
	}
	/* the newest events, oldest first, without a gap */
	ASSERT_TRUE(n > 20);
	ASSERT_EQ(seen[n - 1], 199);
	for (size_t i = 1; i < n; i++)
		ASSERT_EQ(seen[i], seen[i - 1] + 1);
}

TEST(reopen_when_removed)
{
	_cleanup_free_ char *p = tpath("removed.jsonl"), *s = NULL;
	struct audit *a = NULL;

	ASSERT_OK(audit_open(p, "box", &a));
	audit_event(a, "start", NULL);
	ASSERT_EQ(unlink(p), 0);
	audit_event(a, "exit", NULL);
	a = audit_close(a);
	s = slurp(p);
	ASSERT_NOT_NULL(s);
	ASSERT_NOT_NULL(strstr(s, "\"type\":\"exit\""));
	ASSERT_NULL(strstr(s, "\"type\":\"start\""));
}

/* two processes append 3000 events each, @max_size 0 (no rotation) or small */
static void concurrent(const char *name, uint64_t max_size)
{
	enum { PER = 3000 };
	_cleanup_free_ char *p = tpath(name), *big = xmalloc(301);
	static int64_t seen[2 * PER];
	static int w[2 * PER];
	int64_t last[3] = { -1, -1, -1 }, count[3] = { 0 };
	size_t n, files;
	pid_t pid[2];

	memset(big, 'x', 300);
	big[300] = '\0';
	for (int k = 0; k < 2; k++) {
		pid[k] = fork();
		ASSERT_TRUE(pid[k] >= 0);
		if (pid[k] == 0) {
			struct audit *a = NULL;

			if (audit_open(p, "box", &a) < 0)
				_exit(2);
			if (max_size)
				audit_set_max_size(a, max_size);
			for (int i = 0; i < PER; i++) {
				struct json_object *f = json_object_new_object();

				json_object_object_add(f, "w", json_object_new_int(k + 1));
				json_object_object_add(f, "n", json_object_new_int(i));
				/* long lines make an interleaving visible */
				json_object_object_add(f, "pad", json_object_new_string(big));
				audit_event(a, "exec", f);
			}
			_exit(audit_errors(a) ? 1 : 0);
		}
	}
	for (int k = 0; k < 2; k++) {
		int status;

		ASSERT_EQ(waitpid(pid[k], &status, 0), pid[k]);
		ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ASSERT_OK(collect(p, seen, w, ELEMENTSOF(seen), &n, &files));
	/* every line parsed; each writer's events in order and, without rotation, all there */
	for (size_t i = 0; i < n; i++) {
		ASSERT_TRUE(w[i] == 1 || w[i] == 2);
		ASSERT_TRUE(seen[i] > last[w[i]]);
		last[w[i]] = seen[i];
		count[w[i]]++;
	}
	ASSERT_EQ(last[1], PER - 1);
	ASSERT_EQ(last[2], PER - 1);
	if (!max_size) {
		ASSERT_EQ(count[1], PER);
		ASSERT_EQ(count[2], PER);
	} else
		ASSERT_EQ(files, AUDIT_KEEP + 1);
}

TEST(concurrent_writers)
{
	concurrent("conc.jsonl", 0);
}

TEST(concurrent_writers_with_rotation)
{
	concurrent("conc-rot.jsonl", 256 * 1024);
}

TEST(cleanup)
{
	_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", tmp);

	ASSERT_EQ(system(cmd), 0);
}

int main(void)
{
	return tap_run();
}
