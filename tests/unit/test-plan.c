/* SPDX-License-Identifier: MIT */
/*
 * test-plan.c - the mount plan: which workspaces and volumes are refused, what is bound
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/path.h"
#include "common/strv.h"
#include "common/xmalloc.h"
#include "sandbox/plan.h"
#include "tap.h"

static char *priv[] = { "/run/user/1000/paddock", "/home/u/.local/share/paddock",
			"/home/u/.config/paddock", NULL };

static int check_ws(const char *ws)
{
	struct plan_input in = { .workspace = ws, .home = "/home/u", .private_dirs = priv };
	const char *why = NULL;

	return plan_check_workspace(&in, &why);
}

TEST(workspace_refusals)
{
	ASSERT_ERR(check_ws("/"), EPERM);
	ASSERT_ERR(check_ws("/usr"), EPERM);
	ASSERT_ERR(check_ws("/etc"), EPERM);
	ASSERT_ERR(check_ws("/home"), EPERM);
	ASSERT_ERR(check_ws("/home/u"), EPERM);
	ASSERT_ERR(check_ws("/proc/self"), EPERM);
	ASSERT_ERR(check_ws("/sys/fs"), EPERM);
	ASSERT_ERR(check_ws("/run/user/1000"), EPERM);
	ASSERT_ERR(check_ws("/home/u/.ssh"), EPERM);
	ASSERT_ERR(check_ws("/home/u/.ssh/keys"), EPERM);
	ASSERT_ERR(check_ws("/home/u/.aws"), EPERM);
	ASSERT_ERR(check_ws("/home/u/.local/share/paddock/sandboxes/x"), EPERM);
	ASSERT_ERR(check_ws("/home/u/.local"), EPERM); /* contains keyrings and paddock's data */
	ASSERT_ERR(check_ws("/home/u/.config"), EPERM);
	ASSERT_ERR(check_ws("/tmp/a\nb"), EINVAL);
	ASSERT_OK(check_ws("/home/u/src/proj"));
	ASSERT_OK(check_ws("/home/u2"));      /* not a prefix match of /home/u */
	ASSERT_OK(check_ws("/home/u/.sshx")); /* component-wise */
	ASSERT_OK(check_ws("/tmp/proj"));
	ASSERT_OK(check_ws("/srv/proj"));
}

static int check_vol(const char *src, const char *dst, const struct protect_set *ps)
{
	struct plan_input in = {
		.workspace = "/home/u/proj", .home = "/home/u", .private_dirs = priv, .protect = ps
	};
	struct plan_volume v = { (char *)src, (char *)dst, false };
	const char *why = NULL;

	return plan_check_volume(&in, &v, &why);
}

TEST(volume_refusals)
{
	struct protect_item it[] = { { (char *)".git/hooks", PROTECT_READONLY, false, false } };
	struct protect_set ps = { it, 1 };

	ASSERT_ERR(check_vol("/data", "/", &ps), EINVAL);
	ASSERT_ERR(check_vol("/data", "/proc/x", &ps), EINVAL);
	ASSERT_ERR(check_vol("/data", "/dev/shm", &ps), EINVAL);
	ASSERT_ERR(check_vol("/data", "/home/u", &ps), EINVAL); /* hides the workspace */
	ASSERT_ERR(check_vol("/data", "/home/u/proj", &ps), EINVAL);
	ASSERT_ERR(check_vol("/data", "/home/u/proj/.git", &ps), EPERM);
	ASSERT_ERR(check_vol("/data", "/home/u/proj/.git/hooks/x", &ps), EPERM);
	ASSERT_ERR(check_vol("/home/u/.ssh", "/mnt/ssh", &ps), EPERM);
	ASSERT_ERR(check_vol("/home/u/.aws/config", "/mnt/aws", &ps), EPERM);
	ASSERT_ERR(check_vol("/home/u", "/mnt/home", &ps), EPERM);
	ASSERT_ERR(check_vol("/home", "/mnt/home", &ps), EPERM);
	ASSERT_ERR(check_vol("/", "/mnt/root", &ps), EPERM);
	ASSERT_ERR(check_vol("/home/u/.local/share/paddock", "/mnt/p", &ps), EPERM);
	ASSERT_OK(check_vol("/data", "/mnt/data", &ps));
	ASSERT_OK(check_vol("/home/u/datasets", "/mnt/data", &ps));
	ASSERT_OK(check_vol("/data", "/home/u/proj/data", &ps));
}

static const struct sandbox_mount *mount_at(const struct sandbox_spec *s, const char *dst)
{
	for (size_t i = 0; i < s->n_mounts; i++)
		if (streq(s->mounts[i].dst, dst))
			return &s->mounts[i];
	return NULL;
}

TEST(plan_contents)
{
	char home[] = "/tmp/paddock-test-plan.XXXXXX";
	_cleanup_free_ char *bin = NULL, *sshbin = NULL, *path = NULL, *ws = NULL;
	struct protect_item it[] = { { (char *)".envrc", PROTECT_MASK_FILE, true, false } };
	struct protect_set ps = { it, 1 };
	struct sandbox_spec s = {};
	struct plan_input in = {};
	char cmd[200];

	ASSERT_NOT_NULL(mkdtemp(home));
	bin = path_join(home, ".local/bin");
	sshbin = path_join(home, ".ssh/bin");
	ws = path_join(home, "proj");
	(void)snprintf(cmd, sizeof(cmd), "mkdir -p %s %s %s", bin, sshbin, ws);
	ASSERT_EQ(system(cmd), 0);
	path = xasprintf("%s:%s:/usr/bin", bin, sshbin);
	in.workspace = ws;
	in.home = home;
	in.path_env = path;
	in.private_dirs = priv;
	in.protect = &ps;
	ASSERT_OK(plan_build(&in, &s));

	ASSERT_EQ(mount_at(&s, "/usr")->kind, MOUNT_BIND_RO);
	ASSERT_EQ(mount_at(&s, "/etc")->kind, MOUNT_BIND_RO);
	ASSERT_EQ(mount_at(&s, "/etc/shadow")->kind, MOUNT_MASK_FILE);
	ASSERT_EQ(mount_at(&s, "/tmp")->kind, MOUNT_TMPFS);
	ASSERT_EQ(mount_at(&s, "/home")->kind, MOUNT_TMPFS);
	ASSERT_EQ(mount_at(&s, home)->kind, MOUNT_TMPFS);
	ASSERT_EQ(mount_at(&s, bin)->kind, MOUNT_BIND_RO);
	ASSERT_NULL(mount_at(&s, sshbin)); /* a PATH directory under ~/.ssh is never bound */
	ASSERT_EQ(mount_at(&s, ws)->kind, MOUNT_BIND_RW);
	ASSERT_NULL(mount_at(&s, "/var/log"));
	ASSERT_NULL(mount_at(&s, "/run/user"));
	{
		_cleanup_free_ char *envrc = path_join(ws, ".envrc");

		ASSERT_EQ(mount_at(&s, envrc)->kind, MOUNT_MASK_FILE);
		/* protected paths come last, after the workspace itself */
		ASSERT_TRUE(mount_at(&s, envrc) > mount_at(&s, ws));
		ASSERT_EQ((size_t)(mount_at(&s, envrc) - s.mounts), s.protect_from);
	}
	/* where the command may write */
	ASSERT_TRUE(strv_contains(s.rw_paths, ws));
	ASSERT_TRUE(strv_contains(s.rw_paths, home));
	ASSERT_TRUE(strv_contains(s.rw_paths, "/tmp"));
	ASSERT_FALSE(strv_contains(s.rw_paths, "/usr"));
	/* no host bind of anything under /home other than what was listed */
	for (size_t i = 0; i < s.n_mounts; i++)
		if (s.mounts[i].src && s.mounts[i].kind != MOUNT_SYMLINK)
			ASSERT_FALSE(path_startswith(s.mounts[i].src, "/home") &&
				     !path_startswith(s.mounts[i].src, home));
	sandbox_spec_free(&s);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", home);
	(void)!system(cmd);
}

int main(void)
{
	return tap_run();
}
