/* SPDX-License-Identifier: MIT */
/*
 * test-secrets.c - the secret store, the value sources and the --secret check
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/secrets.c" /* reaches store_open() and strip_newline() */
#include "tap.h"

static char tmpl[] = "/tmp/test-secrets-XXXXXX";
static char *top;

static char *tmp_path(const char *name)
{
	if (!top)
		top = mkdtemp(tmpl);
	PADDOCK_ASSERT(top);
	return path_join(top, name);
}

static int write_mode(const char *path, const char *s, mode_t mode)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) < 0)
		return -errno;
	return loop_write(fd, s, strlen(s));
}

static struct config_secret mk(const char *name, enum secret_from from, const char *arg,
			       unsigned timeout_ms)
{
	return (struct config_secret){
		.name = (char *)name, .from = from, .arg = (char *)arg, .timeout_ms = timeout_ms
	};
}

TEST(names)
{
	ASSERT_TRUE(config_secret_name_is_valid("GH_TOKEN"));
	ASSERT_TRUE(config_secret_name_is_valid("a"));
	ASSERT_FALSE(config_secret_name_is_valid(""));
	ASSERT_FALSE(config_secret_name_is_valid("_A"));
	ASSERT_FALSE(config_secret_name_is_valid("1A"));
	ASSERT_FALSE(config_secret_name_is_valid("../x"));
	ASSERT_FALSE(config_secret_name_is_valid("a.b"));
	ASSERT_FALSE(config_secret_name_is_valid(".A.tmp.1"));
	{
		char n[66] = {};

		memset(n, 'A', 64);
		ASSERT_TRUE(config_secret_name_is_valid(n));
		n[64] = 'A';
		ASSERT_FALSE(config_secret_name_is_valid(n));
	}
}

TEST(values)
{
	const char *why = NULL;

	ASSERT_OK(secret_value_check("ghp_abc\tdef", 11, &why));
	ASSERT_ERR(secret_value_check("", 0, &why), EINVAL);
	ASSERT_ERR(secret_value_check("a\nb", 3, &why), EINVAL);
	ASSERT_STREQ(why, "the value contains a line break");
	ASSERT_ERR(secret_value_check("a\rb", 3, &why), EINVAL);
	ASSERT_ERR(secret_value_check("a\0b", 3, &why), EINVAL);
	ASSERT_STREQ(why, "the value contains a control character");
	ASSERT_ERR(secret_value_check("a\x7f", 2, &why), EINVAL);
	{
		_cleanup_free_ char *big = xmalloc(SECRET_VALUE_MAX + 1);

		memset(big, 'x', SECRET_VALUE_MAX + 1);
		ASSERT_OK(secret_value_check(big, SECRET_VALUE_MAX, &why));
		ASSERT_ERR(secret_value_check(big, SECRET_VALUE_MAX + 1, &why), EFBIG);
	}
}

TEST(store_roundtrip)
{
	_cleanup_free_ char *data = tmp_path("data"), *dir = path_join(data, "a/b/secrets"),
			    *f = path_join(dir, "TOKEN");
	struct secret_entry *l = NULL;
	size_t n = 0, len = 0;
	char *v = NULL;
	struct stat st;

	ASSERT_OK(secret_store_list(dir, &l, &n)); /* missing store: empty */
	ASSERT_EQ(n, 0);
	ASSERT_ERR(secret_store_get(dir, "TOKEN", &v, &len), ENOENT);
	ASSERT_OK(secret_store_set(dir, "TOKEN", "s3cr3t", 6));
	ASSERT_OK(stat(dir, &st));
	ASSERT_EQ(st.st_mode & 07777, 0700);
	ASSERT_OK(stat(f, &st));
	ASSERT_EQ(st.st_mode & 07777, 0600);
	ASSERT_TRUE(S_ISREG(st.st_mode));
	ASSERT_OK(secret_store_get(dir, "TOKEN", &v, &len));
	ASSERT_EQ(len, 6);
	ASSERT_STREQ(v, "s3cr3t");
	secret_value_free(v, len);
	/* replaced atomically: no temporary file left */
	ASSERT_OK(secret_store_set(dir, "TOKEN", "second", 6));
	ASSERT_OK(secret_store_set(dir, "B", "x", 1));
	ASSERT_OK(secret_store_get(dir, "TOKEN", &v, &len));
	ASSERT_STREQ(v, "second");
	secret_value_free(v, len);
	/* a stray file that is not a secret name, and a symlink, are not listed */
	{
		_cleanup_free_ char *junk = path_join(dir, ".TOKEN.tmp.1"),
				    *ln = path_join(dir, "L");

		ASSERT_OK(write_mode(junk, "x", 0600));
		ASSERT_OK(symlink("TOKEN", ln));
		ASSERT_ERR(secret_store_get(dir, "L", &v, &len), ELOOP);
	}
	ASSERT_OK(secret_store_list(dir, &l, &n));
	ASSERT_EQ(n, 2);
	ASSERT_STREQ(l[0].name, "B");
	ASSERT_STREQ(l[1].name, "TOKEN");
	ASSERT_TRUE(l[1].mtime.tv_sec > 0);
	secret_entries_free(l, n);
	/* names are validated: no path can be written */
	ASSERT_ERR(secret_store_set(dir, "../x", "v", 1), EINVAL);
	ASSERT_ERR(secret_store_set(dir, "A", "a\nb", 3), EINVAL);
	ASSERT_ERR(secret_store_set(dir, "A", "", 0), EINVAL);
	ASSERT_ERR(secret_store_get(dir, "a/b", &v, &len), EINVAL);
	/* remove */
	ASSERT_OK(secret_store_remove(dir, "TOKEN"));
	ASSERT_ERR(secret_store_remove(dir, "TOKEN"), ENOENT);
	ASSERT_ERR(secret_store_get(dir, "TOKEN", &v, &len), ENOENT);
}

TEST(store_refuses_open_permissions)
{
	_cleanup_free_ char *dir = tmp_path("perm"), *f = path_join(dir, "A"), *ln = NULL;
	char *v = NULL;
	size_t len = 0;

	ASSERT_OK(secret_store_set(dir, "A", "v", 1));
	ASSERT_OK(chmod(f, 0644));
	ASSERT_ERR(secret_store_get(dir, "A", &v, &len), EPERM);
	ASSERT_OK(chmod(f, 0600));
	ASSERT_OK(chmod(dir, 0755));
	ASSERT_ERR(secret_store_get(dir, "A", &v, &len), EPERM);
	ASSERT_ERR(secret_store_set(dir, "A", "w", 1), EPERM); /* never repaired */
	ASSERT_OK(chmod(dir, 0700));
	ASSERT_OK(secret_store_get(dir, "A", &v, &len));
	secret_value_free(v, len);
	/* the store directory itself a symlink */
	ln = tmp_path("permlink");
	ASSERT_OK(symlink(dir, ln));
	ASSERT_ERR(secret_store_get(ln, "A", &v, &len), ELOOP);
	ASSERT_ERR(secret_store_set(ln, "A", "w", 1), ELOOP);
}

TEST(source_env)
{
	struct config_secret s = mk("T", SECRET_FROM_ENV, "TEST_SECRETS_VAR", 0);
	_cleanup_free_ char *e = NULL;
	char *v = NULL;
	size_t len = 0;

	(void)unsetenv("TEST_SECRETS_VAR");
	ASSERT_ERR(secret_resolve(&s, &v, &len, &e), ENOENT);
	ASSERT_STREQ(e, "secret 'T': environment variable TEST_SECRETS_VAR is not set (from "
			"\"env:TEST_SECRETS_VAR\")");
	ASSERT_OK(setenv("TEST_SECRETS_VAR", "", 1));
	ASSERT_ERR(secret_resolve(&s, &v, &len, &e), EINVAL);
	ASSERT_TRUE(strstr(e, "secret 'T' (from env): the value is empty"));
	ASSERT_OK(setenv("TEST_SECRETS_VAR", "abc", 1));
	ASSERT_OK(secret_resolve(&s, &v, &len, &e));
	ASSERT_STREQ(v, "abc");
	ASSERT_EQ(len, 3);
	secret_value_free(v, len);
}

TEST(source_file)
{
	_cleanup_free_ char *f = tmp_path("key"), *d = tmp_path("adir"), *e = NULL;
	struct config_secret s = mk("K", SECRET_FROM_FILE, f, 0);
	char *v = NULL;
	size_t len = 0;

	ASSERT_ERR(secret_resolve(&s, &v, &len, &e), ENOENT);
	ASSERT_TRUE(strstr(e, "secret 'K': cannot open '"));
	ASSERT_OK(write_mode(f, "tok\n", 0600));
	ASSERT_OK(secret_resolve(&s, &v, &len, &e));
	ASSERT_STREQ(v, "tok"); /* one trailing newline stripped */
	secret_value_free(v, len);
	ASSERT_OK(write_mode(f, "tok\r\n", 0400));
	ASSERT_OK(secret_resolve(&s, &v, &len, &e));
	ASSERT_STREQ(v, "tok");
	secret_value_free(v, len);
	ASSERT_OK(write_mode(f, "tok\n\n", 0600)); /* only one */
	ASSERT_ERR(secret_resolve(&s, &v, &len, &e), EINVAL);
	ASSERT_TRUE(strstr(e, "line break"));
	ASSERT_OK(write_mode(f, "tok", 0640));
	ASSERT_ERR(secret_resolve(&s, &v, &len, &e), EPERM);
	ASSERT_TRUE(strstr(e, "is accessible by group or others (mode 0640); run 'chmod 600'"));
	ASSERT_OK(write_mode(f, "tok", 0604));
	ASSERT_ERR(secret_resolve(&s, &v, &len, &e), EPERM);
	ASSERT_OK(mkdir(d, 0700));
	s.arg = d;
	ASSERT_ERR(secret_resolve(&s, &v, &len, &e), EINVAL);
	ASSERT_TRUE(strstr(e, "is not a regular file"));
}

TEST(source_command)
{
	struct config_secret s = mk("C", SECRET_FROM_COMMAND, "printf 'from-cmd\\n'", 5000);
	_cleanup_free_ char *e = NULL;
	char *v = NULL;
	size_t len = 0;
	int64_t t0;

	ASSERT_OK(secret_resolve(&s, &v, &len, &e));
	ASSERT_STREQ(v, "from-cmd");
	secret_value_free(v, len);
	/* stdin is /dev/null, the environment is ours */
	ASSERT_OK(setenv("TEST_SECRETS_VAR", "via-env", 1));
	s.arg = "cat; printf %s \"$TEST_SECRETS_VAR\"";
	ASSERT_OK(secret_resolve(&s, &v, &len, &e));
	ASSERT_STREQ(v, "via-env");
	secret_value_free(v, len);
	/* failing */
	v = NULL;
	s.arg = "echo partial; echo oops >&2; exit 3";
	ASSERT_ERR(secret_resolve(&s, &v, &len, &e), EIO);
	ASSERT_STREQ(e, "secret 'C': command 'echo partial; echo oops >&2; exit 3' exited with "
			"status 3");
	ASSERT_NULL(v);
	s.arg = "kill -9 $$";
	ASSERT_ERR(secret_resolve(&s, &v, &len, &e), EIO);
	ASSERT_TRUE(strstr(e, "was killed by signal 9"));
	s.arg = "true";
	ASSERT_ERR(secret_resolve(&s, &v, &len, &e), EINVAL);
	ASSERT_TRUE(strstr(e, "the value is empty"));
	s.arg = "head -c 70000 /dev/zero | tr '\\0' x";
	ASSERT_ERR(secret_resolve(&s, &v, &len, &e), EFBIG);
	ASSERT_TRUE(strstr(e, "printed more than 64 KiB"));
	/* a timeout kills the whole process group, also a child that keeps stdout open */
	s.arg = "sleep 30 & sleep 30; echo late";
	s.timeout_ms = 500;
	t0 = now_ms();
	ASSERT_ERR(secret_resolve(&s, &v, &len, &e), ETIMEDOUT);
	ASSERT_TRUE(now_ms() - t0 < 3000);
	ASSERT_TRUE(strstr(e, "did not finish within 0 s") || strstr(e, "did not finish within"));
	/* output, then the command lingers: still a timeout, not a value */
	s.arg = "echo early; exec sleep 30";
	t0 = now_ms();
	ASSERT_ERR(secret_resolve(&s, &v, &len, &e), ETIMEDOUT);
	ASSERT_TRUE(now_ms() - t0 < 3000);
}

TEST(source_store)
{
	_cleanup_free_ char *dir = tmp_path("store"), *e = NULL;
	struct config_secret s = mk("S", SECRET_FROM_STORE, NULL, 0);
	char *v = NULL;
	size_t len = 0;

	ASSERT_ERR(secret_resolve_in(&s, dir, &v, &len, &e), ENOENT);
	ASSERT_TRUE(
		strstr(e, "secret 'S' is not in the store; set it with 'paddock secret set S'"));
	ASSERT_OK(secret_store_set(dir, "S", "stored", 6));
	ASSERT_OK(secret_resolve_in(&s, dir, &v, &len, &e));
	ASSERT_STREQ(v, "stored");
	secret_value_free(v, len);
}

TEST(check_selected)
{
	_cleanup_(config_freep) struct paddock_config *c = config_new();
	_cleanup_free_ char *dir = tmp_path("sel"), *e = NULL;
	static const char json[] =
		"{\"secrets\": {\"GH\": {\"from\": \"store\", \"hosts\": [\"github.com\"]}, "
		"\"NPM\": {\"from\": \"store\", \"hosts\": [\"npmjs.org\"]}}}";
	static const char project[] = "{\"secrets\": {\"NPM\": null}}";

	ASSERT_OK(config_load_buffer(c, "/u/c.json", json, strlen(json), false, &e));
	ASSERT_OK(config_load_buffer(c, "/w/.paddock.json", project, strlen(project), true, &e));
	ASSERT_OK(secret_check_selected(c, "GH", dir, &e));
	ASSERT_ERR(secret_check_selected(c, "bad-name", dir, &e), EINVAL);
	ASSERT_TRUE(strstr(e, "invalid secret name 'bad-name'"));
	ASSERT_ERR(secret_check_selected(c, "NPM", dir, &e), ENOENT);
	ASSERT_TRUE(strstr(e, "the project config /w/.paddock.json removed secret 'NPM'"));
	ASSERT_ERR(secret_check_selected(c, "OTHER", dir, &e), ENOENT);
	ASSERT_TRUE(strstr(e, "no secret 'OTHER' in the configuration"));
	ASSERT_OK(secret_store_set(dir, "OTHER", "v", 1));
	ASSERT_ERR(secret_check_selected(c, "OTHER", dir, &e), ENOENT);
	ASSERT_TRUE(strstr(e, "secret 'OTHER' is in the store but not declared"));
	ASSERT_TRUE(strstr(e, "\"hosts\""));
}

int main(void)
{
	int r = tap_run();

	if (top) {
		_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", top);

		(void)system(cmd);
	}
	return r;
}
