/* SPDX-License-Identifier: MIT */
/*
 * test-paths.c - configuration, data and runtime directories
 */
#include <sys/stat.h>

#include "common/fd.h"
#include "store/paths.c" /* reaches runtime_dir_for() */
#include "tap.h"

static char tmp[] = "/tmp/test-paths-XXXXXX";

static void env_reset(void)
{
	(void)unsetenv("XDG_CONFIG_HOME");
	(void)unsetenv("XDG_DATA_HOME");
	(void)unsetenv("XDG_RUNTIME_DIR");
	(void)setenv("HOME", tmp, 1);
}

TEST(config_and_data_dirs)
{
	_cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e1 = NULL, *e2 = NULL;

	env_reset();
	e1 = xasprintf("%s/.config/paddock", tmp);
	e2 = xasprintf("%s/.local/share/paddock", tmp);
	ASSERT_OK(config_dir_for(false, &a));
	ASSERT_STREQ(a, e1);
	ASSERT_OK(data_dir_for(false, &b));
	ASSERT_STREQ(b, e2);
	(void)setenv("XDG_CONFIG_HOME", "/x/conf/", 1);
	(void)setenv("XDG_DATA_HOME", "/x/data", 1);
	ASSERT_OK(config_dir_for(false, &c));
	ASSERT_STREQ(c, "/x/conf/paddock");
	ASSERT_OK(data_dir_for(false, &d));
	ASSERT_STREQ(d, "/x/data/paddock");
	/* relative XDG values are ignored (XDG base directory spec) */
	free(c);
	c = NULL;
	(void)setenv("XDG_CONFIG_HOME", "rel/conf", 1);
	ASSERT_OK(config_dir_for(false, &c));
	ASSERT_STREQ(c, e1);
	free(c);
	c = NULL;
	(void)setenv("XDG_CONFIG_HOME", "", 1);
	ASSERT_OK(config_dir_for(false, &c));
	ASSERT_STREQ(c, e1);
	env_reset();
}

TEST(home_from_passwd_when_unset)
{
	_cleanup_free_ char *a = NULL;

	env_reset();
	(void)unsetenv("HOME");
	/* the password database may not have us (containers): then ENOENT, never a guess */
	if (config_dir_for(false, &a) >= 0)
		ASSERT_TRUE(a[0] == '/' && strstr(a, "/.config/paddock"));
	env_reset();
}

TEST(root_uses_system_dirs)
{
	_cleanup_free_ char *a = NULL, *b = NULL;

	ASSERT_OK(config_dir_for(true, &a));
	ASSERT_STREQ(a, "/etc/paddock");
	ASSERT_OK(data_dir_for(true, &b));
	ASSERT_STREQ(b, "/var/lib/paddock");
}

TEST(runtime_dir_xdg)
{
	_cleanup_free_ char *xdg = xasprintf("%s/run", tmp), *r = NULL, *exp = NULL;
	struct stat st;

	ASSERT_OK(RET_NERRNO(mkdir(xdg, 0700)));
	ASSERT_OK(runtime_dir_for(geteuid(), false, xdg, tmp, &r));
	exp = xasprintf("%s/paddock", xdg);
	ASSERT_STREQ(r, exp);
	ASSERT_OK(RET_NERRNO(lstat(exp, &st)));
	ASSERT_TRUE(S_ISDIR(st.st_mode));
	ASSERT_EQ(st.st_mode & 07777, 0700);
	/* idempotent */
	free(r);
	r = NULL;
	ASSERT_OK(runtime_dir_for(geteuid(), false, xdg, tmp, &r));
	(void)rmdir(exp);
	(void)rmdir(xdg);
}

TEST(runtime_dir_fallback)
{
	_cleanup_free_ char *r = NULL, *exp = NULL, *notdir = NULL, *link = NULL;
	uid_t uid = geteuid();
	struct stat st;

	exp = xasprintf("%s/paddock-%u", tmp, (unsigned)uid);
	/* unset, relative, missing, not a directory, or a symlink: fall back */
	notdir = xasprintf("%s/file", tmp);
	ASSERT_OK(write_file_atomic(notdir, "x", 1, 0600, true));
	link = xasprintf("%s/link", tmp);
	ASSERT_OK(RET_NERRNO(symlink(tmp, link)));
	{
		const char *bases[] = { NULL, "relative", "/nonexistent/x", notdir, link };

		for (size_t i = 0; i < ELEMENTSOF(bases); i++) {
			free(r);
			r = NULL;
			ASSERT_OK(runtime_dir_for(uid, false, bases[i], tmp, &r));
			ASSERT_STREQ(r, exp);
		}
	}
	ASSERT_OK(RET_NERRNO(lstat(exp, &st)));
	ASSERT_EQ(st.st_mode & 07777, 0700);
	ASSERT_EQ(st.st_uid, uid);

	/* wrong mode: refused, not repaired */
	ASSERT_OK(RET_NERRNO(chmod(exp, 0755)));
	ASSERT_ERR(runtime_dir_for(uid, false, NULL, tmp, &r), EPERM);
	ASSERT_OK(RET_NERRNO(rmdir(exp)));

	/* a symlink planted where the directory goes: refused */
	ASSERT_OK(RET_NERRNO(symlink(tmp, exp)));
	ASSERT_ERR(runtime_dir_for(uid, false, NULL, tmp, &r), ELOOP);
	ASSERT_OK(RET_NERRNO(unlink(exp)));
	/* a dangling one too (mkdir must not follow it) */
	ASSERT_OK(RET_NERRNO(symlink("/nonexistent-paddock-test", exp)));
	ASSERT_ERR(runtime_dir_for(uid, false, NULL, tmp, &r), ELOOP);
	ASSERT_OK(RET_NERRNO(unlink(exp)));

	/* a file planted there */
	ASSERT_OK(write_file_atomic(exp, "x", 1, 0600, true));
	ASSERT_ERR(runtime_dir_for(uid, false, NULL, tmp, &r), ENOTDIR);
	ASSERT_OK(RET_NERRNO(unlink(exp)));

	/* an XDG_RUNTIME_DIR owned by someone else is not used */
	{
		_cleanup_free_ char *other = xasprintf("%s/other", tmp);

		ASSERT_OK(RET_NERRNO(mkdir(other, 0700)));
		if (uid == 0)
			ASSERT_OK(RET_NERRNO(chown(other, 65534, 65534)));
		else
			ASSERT_OK(RET_NERRNO(chmod(other, 0755))); /* "/" stands in below */
		free(r);
		r = NULL;
		ASSERT_OK(runtime_dir_for(uid, false, uid == 0 ? other : "/", tmp, &r));
		ASSERT_STREQ(r, exp);
		ASSERT_OK(RET_NERRNO(rmdir(exp)));
		(void)rmdir(other);
	}

	/* owned by someone else: we can only simulate it by claiming another uid */
	free(r);
	r = NULL;
	ASSERT_OK(runtime_dir_for(uid, false, NULL, tmp, &r));
	ASSERT_ERR(runtime_dir_for(uid + 1, false, NULL, tmp, &r), EPERM);
	(void)rmdir(exp);
	(void)unlink(notdir);
	(void)unlink(link);
	ASSERT_STREQ(r, exp); /* ret_ untouched by the failures */
}

TEST(ensure_private_dir_public)
{
	_cleanup_free_ char *p = xasprintf("%s/priv", tmp);

	ASSERT_OK(paths_ensure_private_dir(p, geteuid()));
	ASSERT_OK(paths_ensure_private_dir(p, geteuid()));
	(void)rmdir(p);
}

int main(void)
{
	int r;

	if (!mkdtemp(tmp))
		return 1;
	r = tap_run();
	(void)rmdir(tmp);
	return r;
}
