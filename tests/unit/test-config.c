/* SPDX-License-Identifier: MIT */
/*
 * test-config.c - configuration files, options, layering and project narrowing
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/config.c" /* reaches load_files() and the parsers */
#include "tap.h"

/* Load @json as a trusted file named "/u/config.json" into @c; the error, if any, in @err. */
static int load(struct paddock_config *c, const char *json, char **err)
{
	free(*err);
	*err = NULL;
	return config_load_buffer(c, "/u/config.json", json, strlen(json), false, err);
}

static int load_project(struct paddock_config *c, const char *json, char **err)
{
	free(*err);
	*err = NULL;
	return config_load_buffer(c, "/w/.paddock.json", json, strlen(json), true, err);
}

/* Expect @json to fail with a message containing every one of the NULL-terminated needles. */
#define ASSERT_LOAD_FAILS(project, json, ...)                                                      \
	do {                                                                                       \
		_cleanup_(config_freep) struct paddock_config *_c = config_new();                  \
		_cleanup_free_ char *_e = NULL;                                                    \
		const char *_needles[] = { __VA_ARGS__, NULL };                                    \
		int _r = (project) ? load_project(_c, (json), &_e) : load(_c, (json), &_e);        \
		if (_r >= 0)                                                                       \
			TAP_FAIL("loading %s succeeded", #json);                                   \
		if (!_e)                                                                           \
			TAP_FAIL("no message for %s", #json);                                      \
		for (const char **_n = _needles; *_n; _n++)                                        \
			if (!strstr(_e, *_n))                                                      \
				TAP_FAIL("message '%s' lacks '%s'", _e, *_n);                      \
	} while (0)

#define ASSERT_LOAD_OK(c, json)                                                                    \
	do {                                                                                       \
		_cleanup_free_ char *_e = NULL;                                                    \
		if (load((c), (json), &_e) < 0)                                                    \
			TAP_FAIL("loading %s failed: %s", #json, _e);                              \
	} while (0)

/* The allow rules with project_only == @project_only, comma-separated. */
static char *allow_join(const struct paddock_config *c, bool project_only)
{
	char *r = xstrdup("");

	for (size_t i = 0; i < c->n_allow; i++) {
		_cleanup_free_ char *t = host_rule_format(&c->allow[i]);
		char *n;

		if (c->allow[i].project_only != project_only)
			continue;
		n = xasprintf("%s%s%s", r, *r ? "," : "", t);
		free(r);
		r = n;
	}
	return r;
}

static char *rule_str(const struct paddock_config *c, size_t i, bool deny)
{
	return host_rule_format(deny ? &c->deny[i] : &c->allow[i]);
}

TEST(defaults)
{
	_cleanup_(config_freep) struct paddock_config *c = config_new();

	ASSERT_STREQ(c->image, "host");
	ASSERT_EQ(c->net, CONFIG_NET_PUBLIC);
	ASSERT_EQ(c->memory, UINT64_C(8) << 30);
	ASSERT_EQ(c->pids, 4096);
	ASSERT_TRUE(c->cpus == 0);
	ASSERT_NULL(c->hostname);
	ASSERT_EQ(c->n_allow, 0);
	ASSERT_NULL(c->protect);
}

TEST(every_key_valid)
{
	_cleanup_(config_freep) struct paddock_config *c = config_new();
	_cleanup_free_ char *a0 = NULL, *a1 = NULL, *d0 = NULL;

	ASSERT_LOAD_OK(
		c, "{ \"image\": \"deb-12.x_y\", \"net\": \"allowlist\","
		   " \"allow\": [\"GitHub.com\", \"*.npmjs.org:443\"], \"deny\": [\"evil.com.\"],"
		   " \"env\": {\"FOO\": \"bar\", \"_X1\": \"\"},"
		   " \"volumes\": [\"/data:/mnt/data:ro\", {\"src\": \"/a:b\", \"dst\": \"/c\"}],"
		   " \"memory\": \"1.5G\", \"pids\": 100, \"cpus\": 0.5, \"hostname\": \"box-1\","
		   " \"protect\": [\"secrets/\", \"build/out*\"] }");
	ASSERT_STREQ(c->image, "deb-12.x_y");
	ASSERT_EQ(c->net, CONFIG_NET_ALLOWLIST);
	ASSERT_EQ(c->n_allow, 2);
	a0 = rule_str(c, 0, false);
	a1 = rule_str(c, 1, false);
	d0 = rule_str(c, 0, true);
	ASSERT_STREQ(a0, "github.com");
	ASSERT_STREQ(a1, "*.npmjs.org:443");
	ASSERT_STREQ(d0, "evil.com");
	ASSERT_EQ(c->n_env, 2);
	ASSERT_STREQ(c->env[0].name, "FOO");
	ASSERT_STREQ(c->env[0].value, "bar");
	ASSERT_EQ(c->n_volumes, 2);
	ASSERT_STREQ(c->volumes[0].src, "/data");
	ASSERT_STREQ(c->volumes[0].dst, "/mnt/data");
	ASSERT_TRUE(c->volumes[0].ro);
	ASSERT_STREQ(c->volumes[1].src, "/a:b");
	ASSERT_FALSE(c->volumes[1].ro);
	ASSERT_EQ(c->memory, UINT64_C(3) << 29);
	ASSERT_EQ(c->pids, 100);
	ASSERT_TRUE(c->cpus == 0.5);
	ASSERT_STREQ(c->hostname, "box-1");
	ASSERT_STREQ(c->protect[0], "secrets");
	ASSERT_STREQ(c->protect[1], "build/out*");
	ASSERT_STREQ(c->sources[0], "/u/config.json");
}

TEST(env_array_form)
{
	_cleanup_(config_freep) struct paddock_config *c = config_new();

	ASSERT_LOAD_OK(c, "{\"env\": [\"TERM\", \"A=b=c\", \"E=\"]}");
	ASSERT_EQ(c->n_env, 3);
	ASSERT_STREQ(c->env[0].name, "TERM");
	ASSERT_NULL(c->env[0].value);
	ASSERT_STREQ(c->env[1].value, "b=c");
	ASSERT_STREQ(c->env[2].value, "");
}

TEST(every_key_invalid_names_file_key_reason)
{
	ASSERT_LOAD_FAILS(false, "{\"image\": \"Host\"}",
			  "/u/config.json: key 'image': ", "invalid image name 'Host'");
	ASSERT_LOAD_FAILS(false, "{\"image\": \"-x\"}", "key 'image'");
	ASSERT_LOAD_FAILS(false, "{\"image\": 3}", "key 'image': expected a string, got a number");
	ASSERT_LOAD_FAILS(false, "{\"net\": \"open\"}",
			  "/u/config.json: key 'net': expected one of public, allowlist, none, got "
			  "'open'");
	ASSERT_LOAD_FAILS(false, "{\"allow\": \"x.com\"}", "key 'allow': expected an array");
	ASSERT_LOAD_FAILS(false, "{\"allow\": [\"a.com\", 1]}", "key 'allow[1]'");
	ASSERT_LOAD_FAILS(false, "{\"deny\": [\"a.com\", \"a..com\"]}", "key 'deny[1]'",
			  "invalid host rule 'a..com'");
	ASSERT_LOAD_FAILS(false, "{\"env\": {\"1A\": \"x\"}}", "key 'env'",
			  "invalid environment variable name '1A'");
	ASSERT_LOAD_FAILS(false, "{\"env\": {\"A\": 1}}", "key 'env.A': expected a string");
	ASSERT_LOAD_FAILS(false, "{\"env\": [\"A-B=1\"]}", "key 'env[0]'", "'A-B'");
	ASSERT_LOAD_FAILS(false, "{\"env\": [\"=x\"]}", "key 'env[0]'");
	ASSERT_LOAD_FAILS(false, "{\"env\": \"A=1\"}", "key 'env'");
	ASSERT_LOAD_FAILS(false, "{\"env\": {\"A\": \"x\\u0000y\"}}", "key 'env.A': NUL byte");
	ASSERT_LOAD_FAILS(false, "{\"volumes\": [\"/a:/b\", \"/a:/b:rx\"]}", "key 'volumes[1]'",
			  "'ro' or 'rw'");
	ASSERT_LOAD_FAILS(false, "{\"volumes\": [\"a:/b\"]}", "key 'volumes[0]'", "not absolute");
	ASSERT_LOAD_FAILS(false, "{\"volumes\": [\"/a:b\"]}", "not absolute");
	ASSERT_LOAD_FAILS(false, "{\"volumes\": [\"/a/../etc:/b\"]}", "'..'");
	ASSERT_LOAD_FAILS(false, "{\"volumes\": [\"/a\"]}", "expected SRC:DST");
	ASSERT_LOAD_FAILS(false, "{\"volumes\": [\"/a:/b:ro:x\"]}", "expected SRC:DST");
	ASSERT_LOAD_FAILS(false, "{\"volumes\": [\"/a:/\"]}", "on '/'");
	ASSERT_LOAD_FAILS(false, "{\"volumes\": [\"/a\\n:/b\"]}", "invalid source path");
	ASSERT_LOAD_FAILS(false, "{\"volumes\": [{\"src\": \"/a\"}]}", "key 'volumes[0]'", "both");
	ASSERT_LOAD_FAILS(false, "{\"volumes\": [{\"src\": \"/a\", \"dst\": \"/b\", \"x\": 1}]}",
			  "key 'volumes[0]': unknown key 'x'");
	ASSERT_LOAD_FAILS(false, "{\"volumes\": [{\"src\": \"/a\", \"dst\": \"/b\", \"ro\": 1}]}",
			  "key 'volumes[0].ro': expected a boolean");
	ASSERT_LOAD_FAILS(false, "{\"volumes\": [true]}", "key 'volumes[0]'");
	ASSERT_LOAD_FAILS(false, "{\"memory\": \"12X\"}", "key 'memory': invalid size '12X'");
	ASSERT_LOAD_FAILS(false, "{\"memory\": 0}", "key 'memory'");
	ASSERT_LOAD_FAILS(false, "{\"memory\": -5}", "key 'memory'");
	ASSERT_LOAD_FAILS(false, "{\"memory\": 1.5}", "key 'memory'");
	ASSERT_LOAD_FAILS(false, "{\"memory\": 99999999999999999999}", "key 'memory'");
	ASSERT_LOAD_FAILS(false, "{\"pids\": 0}", "key 'pids'");
	ASSERT_LOAD_FAILS(false, "{\"pids\": -1}", "key 'pids'");
	ASSERT_LOAD_FAILS(false, "{\"pids\": \"10\"}", "key 'pids': expected a positive integer");
	ASSERT_LOAD_FAILS(false, "{\"pids\": 1.5}", "key 'pids'");
	ASSERT_LOAD_FAILS(false, "{\"pids\": 99999999}", "key 'pids'");
	ASSERT_LOAD_FAILS(false, "{\"cpus\": 0}", "key 'cpus'");
	ASSERT_LOAD_FAILS(false, "{\"cpus\": -1}", "key 'cpus'");
	ASSERT_LOAD_FAILS(false, "{\"cpus\": \"2\"}", "key 'cpus'");
	ASSERT_LOAD_FAILS(false, "{\"cpus\": 1e300}", "key 'cpus'");
	ASSERT_LOAD_FAILS(false, "{\"hostname\": \"-box\"}", "key 'hostname'");
	ASSERT_LOAD_FAILS(false, "{\"hostname\": \"a_b\"}", "key 'hostname'");
	ASSERT_LOAD_FAILS(
		false,
		"{\"hostname\": "
		"\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}",
		"key 'hostname'");
	ASSERT_LOAD_FAILS(false, "{\"protect\": [\"/etc\"]}", "key 'protect[0]'", "relative");
	ASSERT_LOAD_FAILS(false, "{\"protect\": [\"a/../b\"]}", "key 'protect[0]'", "'..'");
	ASSERT_LOAD_FAILS(false, "{\"protect\": [\"a//b\"]}", "key 'protect[0]'");
	ASSERT_LOAD_FAILS(false, "{\"protect\": [\"a\\u0001\"]}", "key 'protect[0]'");
	ASSERT_LOAD_FAILS(false, "{\"protect\": [\"a*/b\"]}", "key 'protect[0]'", "'*'");
	ASSERT_LOAD_FAILS(false, "{\"protect\": [\"\"]}", "key 'protect[0]'");
	ASSERT_LOAD_FAILS(false, "{\"protect\": \"a\"}", "key 'protect'");
}

TEST(unknown_keys)
{
	ASSERT_LOAD_FAILS(false, "{\"nett\": \"none\"}", "/u/config.json: key 'nett': unknown key");
}

/* "publish": what -p accepts, checked by port_spec_parse(); the user's config only */
TEST(publish)
{
	_cleanup_(config_freep) struct paddock_config *c = config_new();
	_cleanup_free_ char *e = NULL;

	ASSERT_NULL(c->publish);
	ASSERT_LOAD_OK(c, "{\"publish\": [\"8080:3000\", \"127.0.0.1:9000\", \"[::1]:5000:5000\","
			  " \"0.0.0.0::22/tcp\"]}");
	ASSERT_EQ(strv_length(c->publish), 4);
	ASSERT_STREQ(c->publish[0], "8080:3000");
	ASSERT_STREQ(c->publish[3], "0.0.0.0::22/tcp");
	/* a later file appends; the same forward twice is one */
	ASSERT_LOAD_OK(c, "{\"publish\": [\"8080:3000\", \"4000\"]}");
	ASSERT_EQ(strv_length(c->publish), 5);
	ASSERT_STREQ(c->publish[4], "4000");

	ASSERT_LOAD_FAILS(false, "{\"publish\": [\"8080:3000\", \"x:1\"]}",
			  "/u/config.json: key 'publish[1]': invalid port forward 'x:1'",
			  "expected [IP:]HOSTPORT[:PORT] as for -p");
	ASSERT_LOAD_FAILS(false, "{\"publish\": [\"70000\"]}", "key 'publish[0]': invalid port");
	ASSERT_LOAD_FAILS(false, "{\"publish\": [\"\"]}", "key 'publish[0]': an empty string");
	ASSERT_LOAD_FAILS(
		false, "{\"publish\": \"8080\"}",
		"/u/config.json: key 'publish': expected an array of strings, got a string");
	ASSERT_LOAD_FAILS(false, "{\"publish\": [8080]}", "key 'publish[0]': expected a string");
	/* a failed file changes nothing */
	ASSERT_EQ(strv_length(c->publish), 5);

	/* a host port is an exposure on the host: a project config may not ask for one */
	ASSERT_ERR(load_project(c, "{\"publish\": [\"8080:3000\"]}", &e), EINVAL);
	ASSERT_NOT_NULL(strstr(e, "/w/.paddock.json: key 'publish': cannot be set by a project "
				  "config: a published port listens on the host"));
	ASSERT_ERR(load_project(c, "{\"publish\": []}", &e), EINVAL);
	ASSERT_EQ(strv_length(c->publish), 5);
	ASSERT_NULL(c->project_file);
}

TEST(json_syntax_errors)
{
	ASSERT_LOAD_FAILS(false, "{\n  \"net\": \"none\",\n  oops\n}",
			  "/u/config.json: line 3, "
			  "column 3");
	ASSERT_LOAD_FAILS(false, "{\"net\": \"none\",}", "line 1");
	ASSERT_LOAD_FAILS(false, "{\"net\": \"none\"", "unexpected end");
	ASSERT_LOAD_FAILS(false, "", "unexpected end");
	ASSERT_LOAD_FAILS(false, "123", "top level must be a JSON object");
	ASSERT_LOAD_FAILS(false, " true", "top level must be a JSON object");
	ASSERT_LOAD_FAILS(false, "[]", "top level must be a JSON object, got an array");
	ASSERT_LOAD_FAILS(false, "\"x\"", "top level must be a JSON object");
	ASSERT_LOAD_FAILS(false, "{} {}", "line 1, column 4");
	ASSERT_LOAD_FAILS(false, "{\"net\": 'none'}", "syntax error");
	ASSERT_LOAD_FAILS(false, "{\"net\": \"none\", \"net\": \"public\"}",
			  "line 1, column 17: duplicate key");
	ASSERT_LOAD_FAILS(false, "{\"net\": \"none\", \"n\\u0065t\": \"public\"}", "duplicate key");
	ASSERT_LOAD_FAILS(false,
			  "{\"volumes\": [{\"src\": \"/a\", \"dst\": \"/b\", \"dst\": \"/c\"}]}",
			  "duplicate key");
	ASSERT_LOAD_FAILS(false, "{\"a\\u0000b\": 1}", "NUL byte in key");
	ASSERT_LOAD_FAILS(false, "{\"net\": \"\xff\"}", "syntax error");
	ASSERT_LOAD_FAILS(false, "/* c */ {}", "syntax error");
	{
		_cleanup_(config_freep) struct paddock_config *c = config_new();
		_cleanup_free_ char *e = NULL;
		static const char nul[] = "{}\0{}";

		ASSERT_ERR(config_load_buffer(c, "f", nul, sizeof(nul) - 1, false, &e), EINVAL);
		ASSERT_TRUE(strstr(e, "NUL byte in file"));
	}
	{
		/* same key at different levels is fine */
		_cleanup_(config_freep) struct paddock_config *c = config_new();

		ASSERT_LOAD_OK(c, "{\"env\": {\"env\": \"1\"}, \"volumes\": [{\"src\": \"/a\", "
				  "\"dst\": \"/b\"}, {\"src\": \"/c\", \"dst\": \"/d\"}]}");
	}
}

static char *nested(int depth)
{
	char *j = xmalloc(2 * (size_t)depth + 16), *w = j;

	w = stpcpy(w, "{\"env\":");
	for (int i = 0; i < depth; i++)
		*w++ = '[';
	for (int i = 0; i < depth; i++)
		*w++ = ']';
	strcpy(w, "}");
	return j;
}

TEST(nesting_limit)
{
	/* json-c's depth limit and the duplicate-key scan agree: the deepest document json-c
	 * accepts is scanned, and fails only on the value of "env" */
	for (int d = 2; d < 40; d++) {
		_cleanup_(config_freep) struct paddock_config *c = config_new();
		_cleanup_free_ char *j = nested(d), *e = NULL;

		ASSERT_ERR(load(c, j, &e), EINVAL);
		if (!strstr(e, "key 'env[0]'") && !strstr(e, "syntax error"))
			TAP_FAIL("depth %d: %s", d, e);
	}
}

TEST(deep_nesting_refused)
{
	_cleanup_free_ char *j = xmalloc(2 * 100 + 16);
	char *w = j;

	w = stpcpy(w, "{\"env\":");
	for (int i = 0; i < 100; i++)
		*w++ = '[';
	for (int i = 0; i < 100; i++)
		*w++ = ']';
	strcpy(w, "}");
	ASSERT_LOAD_FAILS(false, j, "/u/config.json");
}

TEST(sizes)
{
	static const struct {
		const char *s;
		uint64_t v;
	} ok[] = {
		{ "8G", UINT64_C(8) << 30 },
		{ "512M", UINT64_C(512) << 20 },
		{ "1.5G", UINT64_C(3) << 29 },
		{ "1k", 1024 },
		{ "2t", UINT64_C(2) << 40 },
		{ "1048576", 1048576 },
		{ "0.5K", 512 },
		{ "1.000000001G", (UINT64_C(1) << 30) + 1 },
		{ "8388607T", UINT64_C(8388607) << 40 },
	};
	static const char *const bad[] = { "12X",
					   "",
					   "G",
					   "1.G",
					   ".5G",
					   "1.5.G",
					   "1GB",
					   "-1G",
					   "+1G",
					   "1 G",
					   " 1G",
					   "0",
					   "0.0001K",
					   "1e9",
					   "0x10",
					   "8388608T",
					   "99999999999999999999",
					   "1.0000000001G" };

	for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
		struct ctx x = { .source = "t", .flag = true };
		uint64_t v = 0;

		ASSERT_OK(parse_size(&x, NULL, ok[i].s, &v));
		ASSERT_EQ(v, ok[i].v);
	}
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		_cleanup_free_ char *e = NULL;
		struct ctx x = { .source = "--memory", .flag = true, .reterr = &e };
		uint64_t v = 7;

		if (parse_size(&x, NULL, bad[i], &v) >= 0)
			TAP_FAIL("size '%s' accepted", bad[i]);
		ASSERT_EQ(v, 7);
		ASSERT_TRUE(strncmp(e, "--memory: ", 10) == 0);
	}
	{
		_cleanup_(config_freep) struct paddock_config *c = config_new();

		ASSERT_LOAD_OK(c, "{\"memory\": 1073741824}");
		ASSERT_EQ(c->memory, UINT64_C(1) << 30);
	}
}

/* host rules */

static void check_rule(const char *in, const char *canon)
{
	struct host_rule h;
	const char *why = NULL;
	_cleanup_free_ char *s = NULL;

	if (host_rule_parse(in, strlen(in), &h, &why) < 0)
		TAP_FAIL("rule '%s' refused: %s", in, why);
	s = host_rule_format(&h);
	host_rule_done(&h);
	if (!streq(s, canon))
		TAP_FAIL("rule '%s' became '%s', expected '%s'", in, s, canon);
}

static void check_bad_rule(const char *in, size_t n)
{
	struct host_rule h = {};
	const char *why = NULL;

	if (host_rule_parse(in, n, &h, &why) >= 0) {
		host_rule_done(&h);
		TAP_FAIL("rule '%.*s' accepted", (int)n, in);
	}
	if (!why)
		TAP_FAIL("rule '%.*s' refused without a reason", (int)n, in);
}
#define BAD(s) check_bad_rule((s), strlen(s))

TEST(host_rules)
{
	check_rule("Example.COM", "example.com");
	check_rule("example.com.", "example.com");
	check_rule("example.com.:443", "example.com:443");
	check_rule("*.Example.com", "*.example.com");
	check_rule("*.example.com:22", "*.example.com:22");
	check_rule("a-b.c0m", "a-b.c0m");
	check_rule("xn--bcher-kva.example", "xn--bcher-kva.example");
	check_rule("localhost", "localhost");
	check_rule("1.2.3.4", "1.2.3.4");
	check_rule("1.2.3.4:80", "1.2.3.4:80");
	check_rule("::1", "[::1]");
	check_rule("[::1]", "[::1]");
	check_rule("[0:0::1]:8080", "[::1]:8080");
	check_rule("[FD00:EC2::254]:80", "[fd00:ec2::254]:80");
	check_rule("::ffff:127.0.0.1", "[::ffff:127.0.0.1]");
	check_rule("a.b:65535", "a.b:65535");
	check_rule("a.b:1", "a.b:1");

	BAD("");
	BAD(".");
	BAD("example.com..");
	BAD(".example.com");
	BAD("a..b");
	BAD("exa*mple.com");
	BAD("*example.com");
	BAD("a.*.example.com");
	BAD("*.*.example.com");
	BAD("*");
	BAD("*.");
	BAD("**.a.com");
	BAD("example.com:0");
	BAD("example.com:65536");
	BAD("example.com:99999999");
	BAD("example.com:");
	BAD("example.com:-1");
	BAD("example.com:+80");
	BAD("example.com:8a");
	BAD(":80");
	BAD("exa mple.com");
	BAD(" example.com");
	BAD("example.com\t");
	BAD("ex\x7f.com");
	BAD("bücher.example");
	BAD("-a.com");
	BAD("a-.com");
	BAD("a_b.com");
	BAD("user@example.com");
	BAD("example.com/path");
	BAD("http://example.com");
	BAD("2130706433");
	BAD("127.1");
	BAD("0x7f.0.0.1");
	BAD("a.0x7f");
	BAD("0177.0.0.1");
	BAD("1.2.3.4.5");
	BAD("256.1.1.1");
	BAD("*.1.2.3.4");
	BAD("[::1");
	BAD("[::1]x");
	BAD("[::1]:");
	BAD("[::1]:0");
	BAD("[1.2.3.4]");
	BAD("[]");
	BAD("::1:80:x");
	BAD("[fe80::1%eth0]");
	BAD("fe80::1%eth0");
	check_bad_rule("example.com\0.evil.com", 21);
	check_bad_rule("a\0", 2);
	{
		/* labels > 63 and names > 253 */
		char label[70], name[300];

		memset(label, 'a', 64);
		strcpy(label + 64, ".com");
		BAD(label);
		label[1] = '.';
		check_rule(label, label);
		for (int i = 0; i < 64; i++)
			memcpy(name + 4 * i, "abc.", 4);
		name[253] = '\0'; /* 253 bytes ending in "a" */
		name[252] = 'x';
		check_rule(name, name);
		name[253] = 'y';
		name[254] = '\0';
		BAD(name);
	}
}

TEST(host_rule_intersection)
{
	static const struct {
		const char *a, *b, *r;
	} cases[] = {
		{ "*.example.com", "api.example.com", "api.example.com" },
		{ "api.example.com", "*.example.com:443", "api.example.com:443" },
		{ "*.example.com", "*.a.example.com", "*.a.example.com" },
		{ "*.example.com", "*.example.com:22", "*.example.com:22" },
		{ "a.com:80", "a.com", "a.com:80" },
		{ "*.example.com", "example.com", NULL },
		{ "*.example.com", "badexample.com", NULL },
		{ "*.example.com", "*.other.com", NULL },
		{ "a.com:80", "a.com:443", NULL },
		{ "1.2.3.4", "*.example.com", NULL },
		{ "[::1]", "::1", "[::1]" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct host_rule a, b, r;
		bool got;

		ASSERT_OK(host_rule_parse(cases[i].a, strlen(cases[i].a), &a, NULL));
		ASSERT_OK(host_rule_parse(cases[i].b, strlen(cases[i].b), &b, NULL));
		got = host_rule_intersect(&a, &b, &r);
		if (got != (cases[i].r != NULL))
			TAP_FAIL("%s ^ %s: got %d", cases[i].a, cases[i].b, got);
		if (got) {
			_cleanup_free_ char *s = host_rule_format(&r);

			ASSERT_STREQ(s, cases[i].r);
			host_rule_done(&r);
		}
		/* symmetric */
		got = host_rule_intersect(&b, &a, &r);
		ASSERT_EQ(got, cases[i].r != NULL);
		if (got)
			host_rule_done(&r);
		host_rule_done(&a);
		host_rule_done(&b);
	}
}

TEST(host_rule_nul_through_json)
{
	ASSERT_LOAD_FAILS(false, "{\"allow\": [\"example.com\\u0000.evil.com\"]}", "key 'allow[0]'",
			  "NUL byte");
}

/* layering */

static int write_file(const char *path, const char *s)
{
	return write_file_atomic(path, s, strlen(s), 0644, true);
}

TEST(layering_order)
{
	char dir[] = "/tmp/test-config-XXXXXX";
	_cleanup_free_ char *sys = NULL, *user = NULL, *e = NULL, *a0 = NULL, *a1 = NULL,
			    *a2 = NULL;
	_cleanup_(config_freep) struct paddock_config *c = config_new();

	ASSERT_NOT_NULL(mkdtemp(dir));
	sys = path_join(dir, "sys.json");
	user = path_join(dir, "user.json");
	ASSERT_OK(write_file(sys,
			     "{\"net\": \"allowlist\", \"memory\": \"4G\", \"pids\": 10, "
			     "\"allow\": [\"a.com\"], \"env\": {\"A\": \"sys\", \"B\": \"sys\"},"
			     " \"volumes\": [\"/s:/d\"], \"protect\": [\"p1\"]}"));
	ASSERT_OK(write_file(user, "{\"net\": \"public\", \"memory\": \"2G\", \"allow\": "
				   "[\"b.com\", \"a.com\"], \"env\": {\"A\": \"user\"}, "
				   "\"volumes\": [\"/s2:/d:ro\"], \"protect\": [\"p2\"]}"));
	ASSERT_OK(load_files(c, sys, user, false, &e));
	ASSERT_EQ(c->net, CONFIG_NET_PUBLIC);
	ASSERT_EQ(c->memory, UINT64_C(2) << 30);
	ASSERT_EQ(c->pids, 10);
	ASSERT_EQ(c->n_allow, 2); /* appended, duplicates merged */
	ASSERT_EQ(c->n_env, 2);
	ASSERT_STREQ(c->env[0].name, "B");
	ASSERT_STREQ(c->env[1].value, "user");
	ASSERT_EQ(c->n_volumes, 1);
	ASSERT_STREQ(c->volumes[0].src, "/s2");
	ASSERT_TRUE(c->volumes[0].ro);
	ASSERT_EQ(strv_length(c->protect), 2);
	ASSERT_EQ(strv_length(c->sources), 2);

	/* then options */
	ASSERT_OK(config_set_option(c, "--memory", "1G", &e));
	ASSERT_OK(config_set_option(c, "--allow", "C.com:443", &e));
	ASSERT_OK(config_set_option(c, "-e", "A=cli", &e));
	ASSERT_OK(config_set_option(c, "--net", "allowlist", &e));
	ASSERT_EQ(c->memory, UINT64_C(1) << 30);
	ASSERT_EQ(c->net, CONFIG_NET_ALLOWLIST);
	a0 = rule_str(c, 0, false);
	a1 = rule_str(c, 1, false);
	a2 = rule_str(c, 2, false);
	ASSERT_STREQ(a0, "a.com");
	ASSERT_STREQ(a1, "b.com");
	ASSERT_STREQ(a2, "c.com:443");
	ASSERT_STREQ(c->env[1].value, "cli");

	/* missing default files are fine, a missing --config is not */
	{
		_cleanup_(config_freep) struct paddock_config *d = config_new();
		_cleanup_free_ char *nx = path_join(dir, "nope.json");

		ASSERT_OK(load_files(d, nx, nx, false, &e));
		ASSERT_NULL(d->sources);
		ASSERT_ERR(load_files(d, nx, nx, true, &e), ENOENT);
		ASSERT_TRUE(strstr(e, "nope.json: cannot open"));
	}
	/* an error in the user file names the user file */
	ASSERT_OK(write_file(user, "{\"pids\": \"x\"}"));
	ASSERT_ERR(load_files(c, sys, user, true, &e), EINVAL);
	ASSERT_TRUE(strstr(e, "user.json: key 'pids'"));
	(void)unlink(sys);
	(void)unlink(user);
	(void)rmdir(dir);
}

TEST(failed_load_changes_nothing)
{
	_cleanup_(config_freep) struct paddock_config *c = config_new();
	_cleanup_free_ char *e = NULL;

	ASSERT_ERR(load(c, "{\"net\": \"none\", \"allow\": [\"a.com\"], \"pids\": 0}", &e), EINVAL);
	ASSERT_EQ(c->net, CONFIG_NET_PUBLIC);
	ASSERT_EQ(c->n_allow, 0);
	ASSERT_NULL(c->sources);
}

TEST(unreadable_and_special_files)
{
	_cleanup_(config_freep) struct paddock_config *c = config_new();
	_cleanup_free_ char *e = NULL;
	char dir[] = "/tmp/test-config-XXXXXX";
	_cleanup_free_ char *f = NULL;

	ASSERT_ERR(config_load_file(c, "/tmp", true, &e), EINVAL);
	ASSERT_TRUE(strstr(e, "/tmp: not a regular file"));
	ASSERT_NOT_NULL(mkdtemp(dir));
	f = path_join(dir, "fifo.json");
	ASSERT_OK(RET_NERRNO(mkfifo(f, 0600)));
	ASSERT_ERR(config_load_file(c, f, false, &e), EINVAL);
	(void)unlink(f);
	if (geteuid() != 0) {
		ASSERT_OK(write_file(f, "{}"));
		ASSERT_OK(RET_NERRNO(chmod(f, 0)));
		ASSERT_ERR(config_load_file(c, f, false, &e), EACCES);
		ASSERT_TRUE(strstr(e, "cannot open"));
		(void)unlink(f);
	}
	(void)rmdir(dir);
}

TEST(oversize_file_refused)
{
	_cleanup_(config_freep) struct paddock_config *c = config_new();
	_cleanup_free_ char *e = NULL, *big = xmalloc(CONFIG_MAX_FILE_SIZE + 16), *f = NULL;
	char dir[] = "/tmp/test-config-XXXXXX";

	memset(big, ' ', CONFIG_MAX_FILE_SIZE + 15);
	big[0] = '{';
	big[CONFIG_MAX_FILE_SIZE + 14] = '}';
	big[CONFIG_MAX_FILE_SIZE + 15] = '\0';
	ASSERT_ERR(config_load_buffer(c, "big", big, strlen(big), false, &e), EINVAL);
	ASSERT_TRUE(strstr(e, "big: file is larger than"));
	ASSERT_NOT_NULL(mkdtemp(dir));
	f = path_join(dir, "config.json");
	ASSERT_OK(write_file(f, big));
	ASSERT_ERR(config_load_file(c, f, true, &e), EFBIG);
	ASSERT_TRUE(strstr(e, "file is larger than"));
	/* exactly 1 MiB is fine */
	big[CONFIG_MAX_FILE_SIZE - 1] = '}';
	big[CONFIG_MAX_FILE_SIZE] = '\0';
	ASSERT_OK(write_file(f, big));
	ASSERT_EQ(config_load_file(c, f, true, &e), 1);
	(void)unlink(f);
	(void)rmdir(dir);
}

TEST(options)
{
	_cleanup_(config_freep) struct paddock_config *c = config_new();
	_cleanup_free_ char *e = NULL;

	ASSERT_ERR(config_set_option(c, "--memory", "12X", &e), EINVAL);
	ASSERT_TRUE(strstr(e, "--memory: invalid size '12X'"));
	ASSERT_ERR(config_set_option(c, "--net", "open", &e), EINVAL);
	ASSERT_TRUE(strstr(e, "--net: expected one of public, allowlist, none, got 'open'"));
	ASSERT_ERR(config_set_option(c, "--allow", "exa*mple.com", &e), EINVAL);
	ASSERT_TRUE(strstr(e, "--allow: invalid host rule"));
	ASSERT_ERR(config_set_option(c, "--pids", "0", &e), EINVAL);
	ASSERT_ERR(config_set_option(c, "--pids", "12a", &e), EINVAL);
	ASSERT_ERR(config_set_option(c, "--pids", "", &e), EINVAL);
	ASSERT_ERR(config_set_option(c, "--cpus", "0", &e), EINVAL);
	ASSERT_ERR(config_set_option(c, "--cpus", "1.", &e), EINVAL);
	ASSERT_ERR(config_set_option(c, "--cpus", "1e3", &e), EINVAL);
	ASSERT_ERR(config_set_option(c, "--cpus", "-1", &e), EINVAL);
	ASSERT_ERR(config_set_option(c, "-v", "/a", &e), EINVAL);
	ASSERT_TRUE(strncmp(e, "-v: ", 4) == 0);
	ASSERT_ERR(config_set_option(c, "-e", "A B=1", &e), EINVAL);
	ASSERT_ERR(config_set_option(c, "--hostname", "a..b", &e), EINVAL);
	ASSERT_ERR(config_set_option(c, "--image", "UP", &e), EINVAL);
	ASSERT_ERR(config_set_option(c, "--secret", "x", &e), EINVAL);
	ASSERT_TRUE(strstr(e, "--secret: not a configuration option"));
	ASSERT_EQ(c->memory, CONFIG_DEFAULT_MEMORY);

	ASSERT_OK(config_set_option(c, "--pids", "100", &e));
	ASSERT_OK(config_set_option(c, "--cpus", "0.25", &e));
	ASSERT_OK(config_set_option(c, "--cpus", "2", &e));
	ASSERT_OK(config_set_option(c, "--volume", "/a:/b:ro", &e));
	ASSERT_OK(config_set_option(c, "--env", "X", &e));
	ASSERT_OK(config_set_option(c, "--hostname", "Box", &e));
	ASSERT_OK(config_set_option(c, "--image", "host", &e));
	ASSERT_OK(config_set_option(c, "--deny", "x.com", &e));
	ASSERT_OK(config_set_option(c, "--protect", "a/b*", &e));
	ASSERT_EQ(c->pids, 100);
	ASSERT_TRUE(c->cpus == 2);
	ASSERT_EQ(c->n_volumes, 1);
	ASSERT_NULL(c->env[0].value);
	ASSERT_STREQ(c->hostname, "Box");
	ASSERT_EQ(c->n_deny, 1);
	ASSERT_STREQ(c->protect[0], "a/b*");
}

/* project narrowing */

TEST(project_narrowing_allowed)
{
	_cleanup_(config_freep) struct paddock_config *c = config_new();
	_cleanup_free_ char *e = NULL;

	ASSERT_LOAD_OK(c, "{\"net\": \"allowlist\", \"protect\": [\"u\"], \"cpus\": 4}");
	ASSERT_OK(load_project(c,
			       "{\"net\": \"allowlist\", \"deny\": [\"bad.com\"], \"protect\": "
			       "[\"p\"], \"memory\": \"1G\", \"pids\": 50, \"cpus\": 1}",
			       &e));
	ASSERT_EQ(c->net, CONFIG_NET_ALLOWLIST);
	ASSERT_EQ(c->n_deny, 1);
	ASSERT_EQ(strv_length(c->protect), 2);
	ASSERT_STREQ(c->protect[0], "u");
	ASSERT_EQ(c->memory, UINT64_C(1) << 30);
	ASSERT_EQ(c->pids, 50);
	ASSERT_TRUE(c->cpus == 1);
	ASSERT_STREQ(c->project_file, "/w/.paddock.json");
	/* equal values are fine, and none is narrower than anything */
	ASSERT_OK(load_project(c, "{\"pids\": 50, \"net\": \"none\"}", &e));
	ASSERT_EQ(c->net, CONFIG_NET_NONE);
}

TEST(project_widening_refused)
{
	static const char *const refused[] = {
		"{\"image\": \"host\"}", "{\"env\": {\"A\": \"1\"}}",    "{\"env\": []}",
		"{\"volumes\": []}",     "{\"volumes\": [\"/:/host\"]}", "{\"hostname\": \"x\"}",
	};
	_cleanup_(config_freep) struct paddock_config *c = config_new();
	_cleanup_free_ char *e = NULL;

	for (size_t i = 0; i < ELEMENTSOF(refused); i++)
		ASSERT_LOAD_FAILS(true, refused[i], "/w/.paddock.json: key '",
				  "': cannot be set by a project config (.paddock.json may only "
				  "narrow the policy)");
	ASSERT_LOAD_FAILS(true, "{\"whatever\": 1}",
			  "/w/.paddock.json: key 'whatever': unknown key",
			  "cannot be set by a project config");
	/* user public (default): the project cannot ask for more */
	ASSERT_LOAD_FAILS(true, "{\"memory\": \"9G\"}",
			  "/w/.paddock.json: key 'memory': project "
			  "config cannot raise memory from 8G to 9G");
	ASSERT_LOAD_FAILS(true, "{\"memory\": 8589934593}", "cannot raise memory");
	ASSERT_LOAD_FAILS(true, "{\"pids\": 4097}",
			  "key 'pids': project config cannot raise pids "
			  "from 4096 to 4097");
	ASSERT_LOAD_FAILS(true, "{\"protect\": [\"../x\"]}", "key 'protect[0]'");
	ASSERT_LOAD_FAILS(true, "{\"deny\": [\"*\"]}", "key 'deny[0]'");

	ASSERT_LOAD_OK(c, "{\"net\": \"allowlist\", \"cpus\": 2}");
	ASSERT_ERR(load_project(c, "{\"net\": \"public\"}", &e), EINVAL);
	ASSERT_TRUE(strstr(e, "/w/.paddock.json: key 'net': project config cannot widen net from "
			      "allowlist to public"));
	ASSERT_ERR(load_project(c, "{\"cpus\": 2.5}", &e), EINVAL);
	ASSERT_TRUE(strstr(e, "key 'cpus': project config cannot raise cpus from 2 to 2.5"));
	ASSERT_LOAD_OK(c, "{\"net\": \"none\"}");
	ASSERT_ERR(load_project(c, "{\"net\": \"allowlist\"}", &e), EINVAL);
	ASSERT_TRUE(strstr(e, "cannot widen net from none to allowlist"));
	/* a refused project leaves everything as it was, even the keys before the bad one */
	ASSERT_ERR(load_project(c, "{\"deny\": [\"x.com\"], \"pids\": 1, \"net\": \"public\"}", &e),
		   EINVAL);
	ASSERT_EQ(c->n_deny, 0);
	ASSERT_EQ(c->pids, 4096);
	ASSERT_NULL(c->project_file);
}

TEST(project_allow_in_public_mode)
{
	_cleanup_(config_freep) struct paddock_config *c = config_new();
	_cleanup_free_ char *e = NULL, *a = NULL, *p = NULL;

	/* the user allows one private address explicitly */
	ASSERT_LOAD_OK(c, "{\"allow\": [\"10.0.0.5\", \"*.corp.example\"]}");
	ASSERT_OK(
		load_project(c,
			     "{\"allow\": [\"github.com\", \"10.0.0.5:22\", \"git.corp.example\", "
			     "\"10.0.0.6\"]}",
			     &e));
	ASSERT_EQ(c->net, CONFIG_NET_ALLOWLIST);
	/* rules the user also allowed keep their power; the others only reach public addresses */
	a = allow_join(c, false);
	p = allow_join(c, true);
	ASSERT_STREQ(a, "10.0.0.5:22,git.corp.example");
	ASSERT_STREQ(p, "github.com,10.0.0.6");
}

TEST(project_allow_in_allowlist_mode)
{
	_cleanup_(config_freep) struct paddock_config *c = config_new();
	_cleanup_free_ char *e = NULL, *a = NULL, *p = NULL;

	ASSERT_LOAD_OK(c, "{\"net\": \"allowlist\", \"allow\": [\"*.github.com\", \"pypi.org\", "
			  "\"npmjs.org:443\"]}");
	ASSERT_OK(load_project(c,
			       "{\"allow\": [\"api.github.com:443\", \"npmjs.org\", "
			       "\"evil.com\", \"*.pypi.org\"]}",
			       &e));
	ASSERT_EQ(c->net, CONFIG_NET_ALLOWLIST);
	a = allow_join(c, false);
	p = allow_join(c, true);
	ASSERT_STREQ(a, "api.github.com:443,npmjs.org:443");
	ASSERT_STREQ(p, "");
	/* an empty project list allows nothing */
	ASSERT_OK(load_project(c, "{\"allow\": []}", &e));
	ASSERT_EQ(c->n_allow, 0);
	ASSERT_EQ(c->net, CONFIG_NET_ALLOWLIST);
}

TEST(project_allow_with_net)
{
	_cleanup_(config_freep) struct paddock_config *c = config_new();
	_cleanup_free_ char *e = NULL, *a = NULL, *p = NULL;

	/* "net": "allowlist" next to "allow" must not intersect with the user's (public-mode)
	 * exemption list: the project's hosts stay, restricted to public addresses */
	ASSERT_OK(load_project(c, "{\"net\": \"allowlist\", \"allow\": [\"github.com\"]}", &e));
	ASSERT_EQ(c->net, CONFIG_NET_ALLOWLIST);
	a = allow_join(c, false);
	p = allow_join(c, true);
	ASSERT_STREQ(a, "");
	ASSERT_STREQ(p, "github.com");
	/* and "public" next to "allow" is not a widening: the mode still becomes allowlist */
	ASSERT_OK(load_project(c, "{\"net\": \"allowlist\", \"allow\": [\"github.com\"]}", &e));
	ASSERT_EQ(c->n_allow, 1);
	ASSERT_OK(load_project(c, "{\"net\": \"none\", \"allow\": [\"github.com\"]}", &e));
	ASSERT_EQ(c->net, CONFIG_NET_NONE);
}

TEST(project_public_plus_allow_is_allowlist)
{
	_cleanup_(config_freep) struct paddock_config *c = config_new();
	_cleanup_free_ char *e = NULL;

	ASSERT_OK(load_project(c, "{\"net\": \"public\", \"allow\": [\"a.com\"]}", &e));
	ASSERT_EQ(c->net, CONFIG_NET_ALLOWLIST);
	ASSERT_EQ(c->n_allow, 1);
	ASSERT_TRUE(c->allow[0].project_only);
}

TEST(project_allow_in_none_mode)
{
	_cleanup_(config_freep) struct paddock_config *c = config_new();
	_cleanup_free_ char *e = NULL;

	ASSERT_OK(config_set_option(c, "--net", "none", &e));
	ASSERT_OK(load_project(c, "{\"allow\": [\"github.com\"]}", &e));
	ASSERT_EQ(c->net, CONFIG_NET_NONE);
	ASSERT_EQ(c->n_allow, 0);
}

TEST(project_file_from_workspace)
{
	char dir[] = "/tmp/test-config-XXXXXX";
	_cleanup_free_ char *f = NULL, *target = NULL, *e = NULL;
	_cleanup_close_ int dfd = -EBADF;
	_cleanup_(config_freep) struct paddock_config *c = config_new();

	ASSERT_NOT_NULL(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_TRUE(dfd >= 0);
	f = path_join(dir, ".paddock.json");
	target = path_join(dir, "real.json");

	/* none: fine */
	ASSERT_EQ(config_load_project(c, dfd, dir, &e), 0);
	ASSERT_NULL(c->project_file);

	ASSERT_OK(write_file(f, "{\"net\": \"none\"}"));
	ASSERT_EQ(config_load_project(c, dfd, dir, &e), 1);
	ASSERT_EQ(c->net, CONFIG_NET_NONE);
	ASSERT_STREQ(c->project_file, f);
	(void)unlink(f);

	/* a symlink named .paddock.json is refused, even to a harmless file */
	ASSERT_OK(write_file(target, "{}"));
	ASSERT_OK(RET_NERRNO(symlink("real.json", f)));
	ASSERT_ERR(config_load_project(c, dfd, dir, &e), ELOOP);
	ASSERT_TRUE(strstr(e, ".paddock.json: is a symlink"));
	(void)unlink(f);
	ASSERT_OK(RET_NERRNO(symlink("/nonexistent", f)));
	ASSERT_ERR(config_load_project(c, dfd, dir, &e), ELOOP);
	(void)unlink(f);

	/* a directory named .paddock.json */
	ASSERT_OK(RET_NERRNO(mkdir(f, 0700)));
	ASSERT_ERR(config_load_project(c, dfd, dir, &e), EINVAL);
	ASSERT_TRUE(strstr(e, "not a regular file"));
	(void)rmdir(f);

	/* errors inside name the project file */
	ASSERT_OK(write_file(f, "{\"volumes\": [\"/:/h\"]}"));
	ASSERT_ERR(config_load_project(c, dfd, dir, &e), EINVAL);
	ASSERT_TRUE(strstr(e, ".paddock.json: key 'volumes': cannot be set by a project config"));
	(void)unlink(f);
	(void)unlink(target);
	(void)rmdir(dir);
}

/* The strings of the array at @key (of @sub, if not NULL) of config_to_json(), comma-separated */
static char *json_array_join(const struct paddock_config *c, const char *sub, const char *key)
{
	_cleanup_free_ char *j = config_to_json(c);
	_cleanup_json_ struct json_object *o = json_tokener_parse(j);
	struct json_object *a = NULL;
	char *r = xstrdup("");

	if (sub)
		PADDOCK_ASSERT(json_object_object_get_ex(o, sub, &a));
	PADDOCK_ASSERT(json_object_object_get_ex(a ? a : o, key, &a));
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		char *n = xasprintf("%s%s%s", r, i ? "," : "",
				    json_object_get_string(json_object_array_get_idx(a, i)));

		free(r);
		r = n;
	}
	return r;
}

TEST(inspect_and_splice)
{
	_cleanup_(config_freep) struct paddock_config *c = config_new();
	_cleanup_free_ char *e = NULL, *j = NULL;

	ASSERT_LOAD_OK(c, "{\"inspect\": [\"api.example.com\", \"*.corp.example:8443\"], "
			  "\"splice\": [\"pinned.example.com\"]}");
	ASSERT_EQ(c->n_inspect, 2);
	ASSERT_EQ(c->inspect[1].kind, HOST_WILDCARD);
	ASSERT_STREQ(c->inspect[1].host, "corp.example");
	ASSERT_EQ(c->inspect[1].port, 8443);
	ASSERT_EQ(c->n_splice, 1);
	ASSERT_STREQ(c->splice[0].host, "pinned.example.com");
	/* a second trusted file appends, without duplicates; the rules are canonical */
	ASSERT_LOAD_OK(c, "{\"inspect\": [\"API.example.com.\", \"b.example\"], \"splice\": []}");
	ASSERT_EQ(c->n_inspect, 3);
	ASSERT_EQ(c->n_splice, 1);
	j = json_array_join(c, NULL, "inspect");
	ASSERT_STREQ(j, "api.example.com,*.corp.example:8443,b.example");
	free(j);
	j = json_array_join(c, NULL, "splice");
	ASSERT_STREQ(j, "pinned.example.com");

	/* invalid rules name the element */
	ASSERT_LOAD_FAILS(false, "{\"inspect\": [\"a b\"]}", "key 'inspect[0]'",
			  "invalid host rule");
	ASSERT_LOAD_FAILS(false, "{\"splice\": [\"*\"]}", "key 'splice[0]'");
	ASSERT_LOAD_FAILS(false, "{\"inspect\": \"a.com\"}", "key 'inspect'", "an array");

	/* a project may add inspect rules (more is looked at, nothing more is allowed) ... */
	ASSERT_OK(load_project(c, "{\"inspect\": [\"c.example\"]}", &e));
	ASSERT_EQ(c->n_inspect, 4);
	ASSERT_STREQ(c->inspect[3].host, "c.example");
	/* ... but no splice: that would hide a host from the proxy */
	ASSERT_LOAD_FAILS(true, "{\"splice\": [\"api.example.com\"]}",
			  "/w/.paddock.json: key 'splice': cannot be set by a project config",
			  "hides its traffic");
	ASSERT_LOAD_FAILS(true, "{\"splice\": []}", "key 'splice': cannot be set");
}

TEST(tls_upstream_ca)
{
	_cleanup_(config_freep) struct paddock_config *c = config_new();
	_cleanup_free_ char *e = NULL, *j = NULL;

	ASSERT_LOAD_OK(c,
		       "{\"tls\": {\"upstream_ca\": [\"/etc/corp/ca.pem\", \"/x//y/./z.pem\"]}}");
	ASSERT_EQ(strv_length(c->tls_upstream_ca), 2);
	ASSERT_STREQ(c->tls_upstream_ca[0], "/etc/corp/ca.pem");
	ASSERT_STREQ(c->tls_upstream_ca[1], "/x/y/z.pem");
	ASSERT_LOAD_OK(c, "{\"tls\": {\"upstream_ca\": [\"/etc/corp/ca.pem\", \"/b.pem\"]}}");
	ASSERT_EQ(strv_length(c->tls_upstream_ca), 3);
	ASSERT_LOAD_OK(c, "{\"tls\": {}}");
	ASSERT_EQ(strv_length(c->tls_upstream_ca), 3);
	j = json_array_join(c, "tls", "upstream_ca");
	ASSERT_STREQ(j, "/etc/corp/ca.pem,/x/y/z.pem,/b.pem");

	ASSERT_LOAD_FAILS(false, "{\"tls\": {\"upstream_ca\": [\"ca.pem\"]}}",
			  "key 'tls.upstream_ca[0]'", "not absolute");
	ASSERT_LOAD_FAILS(false, "{\"tls\": {\"upstream_ca\": [\"/a/../ca.pem\"]}}",
			  "key 'tls.upstream_ca[0]'", "'..'");
	ASSERT_LOAD_FAILS(false, "{\"tls\": {\"upstream_ca\": \"/ca.pem\"}}",
			  "key 'tls.upstream_ca'", "an array");
	ASSERT_LOAD_FAILS(false, "{\"tls\": {\"insecure\": true}}", "key 'tls'",
			  "unknown key 'insecure' (expected upstream_ca)");
	ASSERT_LOAD_FAILS(false, "{\"tls\": []}", "key 'tls'", "an object");

	/* a project must not add a CA: that widens whom the proxy believes */
	ASSERT_LOAD_FAILS(true, "{\"tls\": {\"upstream_ca\": [\"/w/evil.pem\"]}}",
			  "/w/.paddock.json: key 'tls': cannot be set by a project config",
			  "would add a CA");
	ASSERT_LOAD_FAILS(true, "{\"tls\": {}}", "key 'tls': cannot be set");
	ASSERT_EQ(strv_length(c->tls_upstream_ca), 3);
	(void)e;
}

TEST(to_json)
{
	_cleanup_(config_freep) struct paddock_config *c = config_new();
	_cleanup_free_ char *j = NULL;
	_cleanup_json_ struct json_object *o = NULL;

	ASSERT_LOAD_OK(c, "{\"env\": [\"P\", \"A=1\"], \"deny\": [\"[::1]:22\"], \"cpus\": 1.5}");
	j = config_to_json(c);
	o = json_tokener_parse(j);
	ASSERT_NOT_NULL(o);
	ASSERT_TRUE(strstr(j, "\"net\": \"public\""));
	ASSERT_TRUE(strstr(j, "\"memory\": 8589934592"));
	ASSERT_TRUE(strstr(j, "\"[::1]:22\""));
	ASSERT_TRUE(strstr(j, "\"env_pass\""));
	ASSERT_TRUE(strstr(j, "\"cpus\": 1.5"));
	ASSERT_TRUE(strstr(j, "\"hostname\": null"));
}

/* ---- secrets ---- */

#define GH                                                                                         \
	"{\"secrets\": {\"GH_TOKEN\": {\"from\": \"env:GH\", \"hosts\": [\"api.github.com\", "     \
	"\"*.githubusercontent.com:443\"], \"headers\": [\"Authorization\"]}}}"

TEST(secrets_parse)
{
	_cleanup_(config_freep) struct paddock_config *c = config_new();
	const struct config_secret *s;
	_cleanup_free_ char *j = NULL;

	ASSERT_LOAD_OK(c, GH);
	ASSERT_LOAD_OK(c, "{\"secrets\": {\"OPENAI\": {\"from\": \"command:op read op://x/y\", "
			  "\"hosts\": [\"api.openai.com\"], \"env\": \"OPENAI_API_KEY\", "
			  "\"timeout\": 3}, \"S\": {\"from\": \"store\", \"hosts\": [\"a.b\"]}, "
			  "\"F\": {\"from\": \"file:/run//k\", \"hosts\": [\"a.b\"]}}}");
	ASSERT_EQ(c->n_secrets, 4);
	s = config_secret_find(c, "GH_TOKEN");
	ASSERT_NOT_NULL(s);
	ASSERT_EQ(s->from, SECRET_FROM_ENV);
	ASSERT_STREQ(s->arg, "GH");
	ASSERT_STREQ(s->env, "GH_TOKEN");
	ASSERT_EQ(s->n_hosts, 2);
	ASSERT_STREQ(s->headers[0], "authorization");
	ASSERT_NULL(s->headers[1]);
	ASSERT_EQ(s->timeout_ms, CONFIG_SECRET_TIMEOUT_MS_DEFAULT);
	s = config_secret_find(c, "OPENAI");
	ASSERT_EQ(s->from, SECRET_FROM_COMMAND);
	ASSERT_STREQ(s->arg, "op read op://x/y");
	ASSERT_STREQ(s->env, "OPENAI_API_KEY");
	ASSERT_EQ(s->timeout_ms, 3000);
	ASSERT_NULL(s->headers);
	ASSERT_EQ(config_secret_find(c, "S")->from, SECRET_FROM_STORE);
	ASSERT_NULL(config_secret_find(c, "S")->arg);
	ASSERT_STREQ(config_secret_find(c, "F")->arg, "/run/k");
	ASSERT_NULL(config_secret_find(c, "gh_token"));
	j = config_to_json(c);
	ASSERT_TRUE(strstr(j, "\"from\": \"command:op read op://x/y\""));
	ASSERT_TRUE(strstr(j, "\"*.githubusercontent.com:443\""));
}

TEST(secrets_invalid)
{
	ASSERT_LOAD_FAILS(false, "{\"secrets\": []}", "key 'secrets': expected an object");
	ASSERT_LOAD_FAILS(false, "{\"secrets\": {\"1A\": {}}}", "invalid secret name '1A'");
	ASSERT_LOAD_FAILS(false, "{\"secrets\": {\"A-B\": {}}}", "invalid secret name");
	ASSERT_LOAD_FAILS(false,
			  "{\"secrets\": {\"A1234567890123456789012345678901234567890123456789012"
			  "345678901234\": {}}}",
			  "at most 64 bytes");
	ASSERT_LOAD_FAILS(false, "{\"secrets\": {\"A\": {\"hosts\": [\"a.b\"]}}}",
			  "key 'secrets.A': a secret needs \"from\"");
	ASSERT_LOAD_FAILS(false, "{\"secrets\": {\"A\": {\"from\": \"store\"}}}",
			  "a secret needs \"hosts\"");
	ASSERT_LOAD_FAILS(false, "{\"secrets\": {\"A\": {\"from\": \"store\", \"hosts\": []}}}",
			  "key 'secrets.A.hosts': a secret needs at least one host");
	ASSERT_LOAD_FAILS(false,
			  "{\"secrets\": {\"A\": {\"from\": \"vault\", \"hosts\": [\"a\"]}}}",
			  "key 'secrets.A.from': invalid secret source 'vault'");
	ASSERT_LOAD_FAILS(false,
			  "{\"secrets\": {\"A\": {\"from\": \"env:1X\", \"hosts\": [\"a\"]}}}",
			  "invalid environment variable name");
	ASSERT_LOAD_FAILS(false,
			  "{\"secrets\": {\"A\": {\"from\": \"file:rel/p\", \"hosts\": [\"a\"]}}}",
			  "is not absolute");
	ASSERT_LOAD_FAILS(false,
			  "{\"secrets\": {\"A\": {\"from\": \"command: \", \"hosts\": [\"a\"]}}}",
			  "the command is empty");
	ASSERT_LOAD_FAILS(false,
			  "{\"secrets\": {\"A\": {\"from\": \"store\", \"hosts\": [\"*\"]}}}",
			  "key 'secrets.A.hosts[0]': invalid host rule");
	ASSERT_LOAD_FAILS(false,
			  "{\"secrets\": {\"A\": {\"from\": \"store\", \"hosts\": [\"a\"], "
			  "\"headers\": [\"Bad Header\"]}}}",
			  "invalid header name");
	ASSERT_LOAD_FAILS(false,
			  "{\"secrets\": {\"A\": {\"from\": \"store\", \"hosts\": [\"a\"], "
			  "\"headers\": []}}}",
			  "would allow no header");
	ASSERT_LOAD_FAILS(false,
			  "{\"secrets\": {\"A\": {\"from\": \"store\", \"hosts\": [\"a\"], "
			  "\"timeout\": 0}}}",
			  "expected 1 to 300 seconds");
	ASSERT_LOAD_FAILS(false,
			  "{\"secrets\": {\"A\": {\"from\": \"store\", \"hosts\": [\"a\"], "
			  "\"value\": \"x\"}}}",
			  "unknown key 'value'");
	ASSERT_LOAD_FAILS(
		false,
		"{\"secrets\": {\"A\": {\"from\": \"store\", \"hosts\": [\"a\"], \"env\": "
		"\"X\"}, \"B\": {\"from\": \"store\", \"hosts\": [\"a\"], \"env\": "
		"\"X\"}}}",
		"both use the variable X");
}

TEST(secrets_layers)
{
	_cleanup_(config_freep) struct paddock_config *c = config_new();
	_cleanup_free_ char *e = NULL;

	ASSERT_LOAD_OK(c, GH);
	/* a later trusted file replaces the whole secret */
	ASSERT_LOAD_OK(c, "{\"secrets\": {\"GH_TOKEN\": {\"from\": \"store\", \"hosts\": "
			  "[\"github.com\"]}}}");
	ASSERT_EQ(c->n_secrets, 1);
	ASSERT_EQ(c->secrets[0].from, SECRET_FROM_STORE);
	ASSERT_EQ(c->secrets[0].n_hosts, 1);
	ASSERT_NULL(c->secrets[0].headers);
	/* another secret cannot take its variable, unless the same file moves it */
	ASSERT_ERR(load(c,
			"{\"secrets\": {\"B\": {\"from\": \"store\", \"hosts\": [\"a\"], "
			"\"env\": \"GH_TOKEN\"}}}",
			&e),
		   EINVAL);
	ASSERT_TRUE(strstr(e, "secrets 'GH_TOKEN' and 'B' both use the variable GH_TOKEN"));
	ASSERT_EQ(c->n_secrets, 1);
	ASSERT_LOAD_OK(c, "{\"secrets\": {\"GH_TOKEN\": null, \"B\": {\"from\": \"store\", "
			  "\"hosts\": [\"a\"], \"env\": \"GH_TOKEN\"}}}");
	ASSERT_EQ(c->n_secrets, 1);
	ASSERT_STREQ(c->secrets[0].name, "B");
	/* null removes; removing what is not there is fine */
	ASSERT_LOAD_OK(c, "{\"secrets\": {\"B\": null, \"NOPE\": null}}");
	ASSERT_EQ(c->n_secrets, 0);
}

TEST(secrets_project)
{
	_cleanup_(config_freep) struct paddock_config *c = config_new();
	_cleanup_free_ char *e = NULL, *h = NULL;
	const struct config_secret *s;

	ASSERT_LOAD_OK(c, GH);
	ASSERT_LOAD_OK(c, "{\"secrets\": {\"NPM\": {\"from\": \"store\", \"hosts\": "
			  "[\"registry.npmjs.org\"]}}}");
	/* cannot add, change the source, the variable or the headers */
	ASSERT_LOAD_FAILS(true,
			  "{\"secrets\": {\"NEW\": {\"from\": \"env:X\", \"hosts\": [\"a.b\"]}}}",
			  "key 'secrets.NEW.from': a project config may only remove a secret");
	ASSERT_ERR(load_project(c, "{\"secrets\": {\"NEW\": {\"hosts\": [\"a.b\"]}}}", &e), EINVAL);
	ASSERT_TRUE(strstr(e, "key 'secrets.NEW': project config cannot add a secret"));
	ASSERT_ERR(load_project(c, "{\"secrets\": {\"GH_TOKEN\": {\"from\": \"env:EVIL\"}}}", &e),
		   EINVAL);
	ASSERT_TRUE(strstr(e, "may only remove a secret (null) or narrow its \"hosts\""));
	ASSERT_ERR(load_project(c, "{\"secrets\": {\"GH_TOKEN\": {\"env\": \"X\"}}}", &e), EINVAL);
	ASSERT_ERR(load_project(c, "{\"secrets\": {\"GH_TOKEN\": {}}}", &e), EINVAL);
	/* widening the hosts: nothing in common is refused, not silently empty */
	ASSERT_ERR(
		load_project(c, "{\"secrets\": {\"GH_TOKEN\": {\"hosts\": [\"evil.com\"]}}}", &e),
		EINVAL);
	ASSERT_TRUE(strstr(e, "narrows the secret's hosts to nothing"));
	ASSERT_ERR(load_project(c, "{\"secrets\": {\"NPM\": {\"hosts\": [\"npmjs.org\"]}}}", &e),
		   EINVAL);
	/* nothing changed by the refused files */
	s = config_secret_find(c, "GH_TOKEN");
	ASSERT_EQ(s->from, SECRET_FROM_ENV);
	ASSERT_EQ(s->n_hosts, 2);
	ASSERT_EQ(c->n_secrets, 2);
	/* narrowing: the intersection with the user's hosts; a wider project rule gives the
	 * user's, a narrower one itself */
	ASSERT_OK(load_project(c,
			       "{\"secrets\": {\"NPM\": null, \"GH_TOKEN\": {\"hosts\": "
			       "[\"*.github.com\", \"raw.githubusercontent.com\", \"evil.com\"]}}}",
			       &e));
	ASSERT_EQ(c->n_secrets, 1);
	ASSERT_NULL(config_secret_find(c, "NPM"));
	ASSERT_TRUE(strv_contains(c->secrets_removed, "NPM"));
	s = config_secret_find(c, "GH_TOKEN");
	ASSERT_EQ(s->n_hosts, 2);
	h = host_rule_format(&s->hosts[0]);
	ASSERT_STREQ(h, "api.github.com");
	free(h);
	h = host_rule_format(&s->hosts[1]);
	ASSERT_STREQ(h, "raw.githubusercontent.com:443");
	ASSERT_EQ(s->from, SECRET_FROM_ENV);
	ASSERT_STREQ(s->headers[0], "authorization");
}

int main(void)
{
	return tap_run();
}

static int load_str(struct paddock_config *c, const char *name, const char *buf, bool project,
		    char **reterr)
{
	return config_load_buffer(c, name, buf, strlen(buf), project, reterr);
}

TEST(profiles)
{
	_cleanup_(config_freep) struct paddock_config *c = config_new();
	_cleanup_free_ char *e = NULL;

	ASSERT_OK(load_str(c, "/u/config.json",
			   "{\"profiles\": {\"mine\": {\"command\": [\"mine\", \"--yolo\"], "
			   "\"llm_hosts\": [\"llm.example.com\"], \"secrets\": [\"MINE_KEY\"], "
			   "\"home\": [\".mine\"], \"allow\": [\"*.example.com\"]}}}",
			   false, &e));
	ASSERT_EQ(c->n_profiles, (size_t)1);
	ASSERT_STREQ(c->profiles[0].command[1], "--yolo");
	ASSERT_STREQ(c->profiles[0].secrets[0], "MINE_KEY");
	/* a later file replaces the whole profile */
	ASSERT_OK(load_str(c, "/u2/config.json",
			   "{\"profiles\": {\"mine\": {\"command\": [\"other\"]}}}", false, &e));
	ASSERT_EQ(c->n_profiles, (size_t)1);
	ASSERT_STREQ(c->profiles[0].command[0], "other");
	ASSERT_TRUE(c->profiles[0].secrets == NULL);
	/* errors name the key */
	free(e);
	e = NULL;
	ASSERT_ERR(load_str(c, "/u/config.json",
			    "{\"profiles\": {\"x\": {\"llm_hosts\": [\"a b\"], "
			    "\"command\": [\"x\"]}}}",
			    false, &e),
		   EINVAL);
	ASSERT_TRUE(strstr(e, "profiles.x.llm_hosts[0]") != NULL);
	free(e);
	e = NULL;
	ASSERT_ERR(load_str(c, "/u/config.json", "{\"profiles\": {\"x\": {}}}", false, &e), EINVAL);
	ASSERT_TRUE(strstr(e, "needs a \"command\"") != NULL);
	free(e);
	e = NULL;
	ASSERT_ERR(load_str(c, "/u/config.json",
			    "{\"profiles\": {\"x\": {\"command\": [\"x\"], \"home\": "
			    "[\"../.ssh\"]}}}",
			    false, &e),
		   EINVAL);
	free(e);
	e = NULL;
	ASSERT_ERR(load_str(c, "/w/.paddock.json",
			    "{\"profiles\": {\"x\": {\"command\": [\"x\"]}}}", true, &e),
		   EINVAL);
	ASSERT_TRUE(strstr(e, "cannot be set by a project config") != NULL);
}
