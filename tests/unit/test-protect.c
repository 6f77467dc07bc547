/* SPDX-License-Identifier: MIT */
/*
 * test-protect.c - the policy of protected workspace paths: resolution without following
 * links out of the workspace, placeholders for missing paths, and their safe removal
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/path.h"
#include "common/strv.h"
#include "common/xmalloc.h"
#include "sandbox/protect.h"
#include "tap.h"

static char ws[256];
static int ws_fd = -1;

static void fresh_ws(void)
{
	char cmd[600];

	if (ws_fd >= 0) {
		(void)snprintf(cmd, sizeof(cmd), "chmod -R u+rwX '%s'; rm -rf '%s'", ws, ws);
		(void)!system(cmd);
		close(ws_fd);
	}
	strcpy(ws, "/tmp/paddock-test-protect.XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(ws));
	ws_fd = open(ws, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ASSERT_TRUE(ws_fd >= 0);
}

static void mk(const char *rel, bool dir)
{
	_cleanup_free_ char *p = path_join(ws, rel);

	if (dir)
		ASSERT_EQ(mkdir(p, 0755), 0);
	else {
		int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);

		ASSERT_TRUE(fd >= 0);
		close(fd);
	}
}

static void ln(const char *target, const char *rel)
{
	_cleanup_free_ char *p = path_join(ws, rel);

	ASSERT_EQ(symlink(target, p), 0);
}

static const struct protect_item *find(const struct protect_set *s, const char *rel)
{
	for (size_t i = 0; i < s->n; i++)
		if (streq(s->items[i].rel, rel))
			return &s->items[i];
	return NULL;
}

static char **defaults(void)
{
	char **l = NULL;

	for (const char *const *p = protect_default_paths; *p; p++)
		strv_extend(&l, *p);
	return l;
}

TEST(empty_workspace_placeholders)
{
	_cleanup_strv_free_ char **pat = defaults();
	struct protect_set s = {};
	char *bad = NULL, *detail = NULL;

	fresh_ws();
	ASSERT_OK(protect_resolve(ws_fd, ws, pat, &s, &bad, &detail));
	/* .git/hooks and .git/config share the first missing component */
	ASSERT_EQ(find(&s, ".git")->action, PROTECT_MASK_DIR);
	ASSERT_TRUE(find(&s, ".git")->placeholder);
	ASSERT_EQ(find(&s, ".envrc")->action, PROTECT_MASK_FILE);
	ASSERT_EQ(find(&s, ".vscode")->action, PROTECT_MASK_DIR);
	ASSERT_EQ(find(&s, ".mcp.json")->action, PROTECT_MASK_FILE);
	ASSERT_EQ(find(&s, ".claude")->action, PROTECT_MASK_DIR);
	ASSERT_EQ(find(&s, ".paddock.json")->action, PROTECT_MASK_FILE);
	ASSERT_NULL(find(&s, ".git/hooks"));
	ASSERT_EQ(s.n, 9);
	protect_set_free(&s);
}

TEST(existing_paths_are_readonly)
{
	_cleanup_strv_free_ char **pat = defaults();
	struct protect_set s = {};
	char *bad = NULL, *detail = NULL;

	fresh_ws();
	mk(".git", true);
	mk(".git/hooks", true);
	mk(".git/config", false);
	mk(".git/objects", true);
	mk(".vscode", true);
	mk(".claude", true);
	mk(".claude/settings.extra.json", false);
	ASSERT_OK(protect_resolve(ws_fd, ws, pat, &s, &bad, &detail));
	ASSERT_EQ(find(&s, ".git/hooks")->action, PROTECT_READONLY);
	ASSERT_FALSE(find(&s, ".git/hooks")->placeholder);
	ASSERT_EQ(find(&s, ".git/config")->action, PROTECT_READONLY);
	ASSERT_NULL(find(&s, ".git")); /* objects stay writable */
	ASSERT_NULL(find(&s, ".git/objects"));
	ASSERT_EQ(find(&s, ".vscode")->action, PROTECT_READONLY);
	/* inside an existing .claude: each missing file gets its own placeholder */
	ASSERT_EQ(find(&s, ".claude/settings.json")->action, PROTECT_MASK_FILE);
	ASSERT_EQ(find(&s, ".claude/hooks")->action, PROTECT_MASK_DIR);
	/* the glob catches other settings files */
	ASSERT_EQ(find(&s, ".claude/settings.extra.json")->action, PROTECT_READONLY);
	protect_set_free(&s);
}

TEST(commondir_placeholder_is_harmless)
{
	char *pat[] = { ".git/commondir", NULL };
	struct protect_set s = {};
	char *bad = NULL, *detail = NULL, buf[8] = { 0 };
	const char *badrel = NULL;
	int fd;

	fresh_ws();
	mk(".git", true);
	ASSERT_OK(protect_resolve(ws_fd, ws, pat, &s, &bad, &detail));
	/* not masked empty (git fails on an empty commondir): "." shown read-only */
	ASSERT_EQ(find(&s, ".git/commondir")->action, PROTECT_READONLY);
	ASSERT_TRUE(find(&s, ".git/commondir")->placeholder);
	ASSERT_OK(protect_create_placeholders(ws_fd, &s, &badrel));
	fd = openat(ws_fd, ".git/commondir", O_RDONLY);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(read(fd, buf, sizeof(buf)), 2);
	close(fd);
	ASSERT_STREQ(buf, ".\n");
	ASSERT_OK(protect_remove_placeholder(ws_fd, ".git/commondir", false));
	/* changed meanwhile: left alone */
	ASSERT_OK(protect_create_placeholders(ws_fd, &s, &badrel));
	{
		_cleanup_free_ char *p = path_join(ws, ".git/commondir");
		FILE *f = fopen(p, "w");

		fputs("../x\n", f);
		fclose(f);
	}
	ASSERT_ERR(protect_remove_placeholder(ws_fd, ".git/commondir", false), EEXIST);
	protect_set_free(&s);
}

TEST(gitdir_file_is_protected_itself)
{
	_cleanup_strv_free_ char **pat = defaults();
	struct protect_set s = {};
	char *bad = NULL, *detail = NULL;

	fresh_ws();
	mk(".git", false);
	ASSERT_OK(protect_resolve(ws_fd, ws, pat, &s, &bad, &detail));
	ASSERT_EQ(find(&s, ".git")->action, PROTECT_READONLY);
	ASSERT_FALSE(find(&s, ".git")->placeholder);
	protect_set_free(&s);
}

TEST(symlink_out_of_workspace_refused)
{
	char *pat[] = { ".envrc", NULL };
	struct protect_set s = {};
	char *bad = NULL, *detail = NULL;

	fresh_ws();
	ln("/etc/passwd", ".envrc");
	ASSERT_ERR(protect_resolve(ws_fd, ws, pat, &s, &bad, &detail), EXDEV);
	ASSERT_STREQ(bad, ".envrc");
	ASSERT_NOT_NULL(strstr(detail, "outside the workspace"));
	free(bad);
	free(detail);
	bad = detail = NULL;

	fresh_ws();
	ln("../../etc", ".envrc");
	ASSERT_ERR(protect_resolve(ws_fd, ws, pat, &s, &bad, &detail), EXDEV);
	free(bad);
	free(detail);
}

TEST(symlink_via_prefix_sibling_refused)
{
	/* an absolute link to "<ws>-evil/x" must not count as inside "<ws>" */
	char *pat[] = { ".envrc", NULL };
	struct protect_set s = {};
	char *bad = NULL, *detail = NULL, target[300];

	fresh_ws();
	(void)snprintf(target, sizeof(target), "%s-evil/envrc", ws);
	ln(target, ".envrc");
	ASSERT_ERR(protect_resolve(ws_fd, ws, pat, &s, &bad, &detail), EXDEV);
	free(bad);
	free(detail);
}

TEST(symlink_inside_protects_target)
{
	char *pat[] = { ".git/hooks/", ".envrc", NULL };
	struct protect_set s = {};
	char *bad = NULL, *detail = NULL, abs[300];

	fresh_ws();
	mk(".git", true);
	mk("scripts", true);
	mk("scripts/hooks", true);
	ln("../scripts/hooks", ".git/hooks");
	(void)snprintf(abs, sizeof(abs), "%s/envrc.real", ws);
	ln(abs, ".envrc"); /* absolute, inside, dangling */
	ASSERT_OK(protect_resolve(ws_fd, ws, pat, &s, &bad, &detail));
	ASSERT_EQ(find(&s, "scripts/hooks")->action, PROTECT_READONLY);
	/* the missing target of a link gets the placeholder, not the link */
	ASSERT_EQ(find(&s, "envrc.real")->action, PROTECT_MASK_FILE);
	ASSERT_TRUE(find(&s, "envrc.real")->placeholder);
	protect_set_free(&s);
}

TEST(symlink_to_workspace_itself_or_loop_refused)
{
	char *pat[] = { ".vscode/", NULL };
	struct protect_set s = {};
	char *bad = NULL, *detail = NULL;

	fresh_ws();
	ln(".", ".vscode");
	ASSERT_ERR(protect_resolve(ws_fd, ws, pat, &s, &bad, &detail), EINVAL);
	free(bad);
	free(detail);
	bad = detail = NULL;

	fresh_ws();
	ln("b", "a");
	ln("a", ".vscode");
	{
		_cleanup_free_ char *p = path_join(ws, "b");

		ASSERT_EQ(symlink("a", p), 0);
	}
	ASSERT_ERR(protect_resolve(ws_fd, ws, pat, &s, &bad, &detail), ELOOP);
	free(bad);
	free(detail);
}

TEST(hooks_path_and_husky)
{
	char *pat[] = { ".git/config", NULL };
	struct protect_set s = {};
	char *bad = NULL, *detail = NULL;
	_cleanup_free_ char *cfg = NULL;
	FILE *f;

	fresh_ws();
	mk(".git", true);
	cfg = path_join(ws, ".git/config");
	f = fopen(cfg, "w");
	ASSERT_NOT_NULL(f);
	fputs("[core]\n\tbare = false\n\thooksPath = \".husky/_\"\n", f);
	fclose(f);
	ASSERT_OK(protect_resolve(ws_fd, ws, pat, &s, &bad, &detail));
	ASSERT_EQ(find(&s, ".git/config")->action, PROTECT_READONLY);
	/* .husky is missing: its placeholder covers both .husky/_ and .husky */
	ASSERT_EQ(find(&s, ".husky")->action, PROTECT_MASK_DIR);
	protect_set_free(&s);
}

TEST(placeholders_created_and_removed_safely)
{
	_cleanup_strv_free_ char **pat = defaults();
	struct protect_set s = {};
	char *bad = NULL, *detail = NULL;
	const char *badrel = NULL;
	struct stat st;

	fresh_ws();
	ASSERT_OK(protect_resolve(ws_fd, ws, pat, &s, &bad, &detail));
	ASSERT_OK(protect_create_placeholders(ws_fd, &s, &badrel));
	ASSERT_EQ(fstatat(ws_fd, ".vscode", &st, AT_SYMLINK_NOFOLLOW), 0);
	ASSERT_TRUE(S_ISDIR(st.st_mode));
	ASSERT_EQ(fstatat(ws_fd, ".envrc", &st, AT_SYMLINK_NOFOLLOW), 0);
	ASSERT_TRUE(S_ISREG(st.st_mode));
	/* creating again fails: a placeholder is never created over something that exists */
	ASSERT_ERR(protect_create_placeholders(ws_fd, &s, &badrel), EEXIST);

	/* still empty: removed */
	ASSERT_OK(protect_remove_placeholder(ws_fd, ".vscode", true));
	ASSERT_EQ(fstatat(ws_fd, ".vscode", &st, AT_SYMLINK_NOFOLLOW), -1);
	ASSERT_OK(protect_remove_placeholder(ws_fd, ".envrc", false));
	/* something was put there meanwhile: left alone */
	mk(".idea/workspace.xml", false);
	ASSERT_ERR(protect_remove_placeholder(ws_fd, ".idea", true), ENOTEMPTY);
	{
		_cleanup_free_ char *p = path_join(ws, ".mcp.json");
		FILE *f = fopen(p, "w");

		fputs("{}", f);
		fclose(f);
	}
	ASSERT_ERR(protect_remove_placeholder(ws_fd, ".mcp.json", false), EEXIST);
	/* gone already: fine */
	ASSERT_OK(protect_remove_placeholder(ws_fd, ".vscode", true));
	/* hostile records */
	ASSERT_ERR(protect_remove_placeholder(ws_fd, "../x", true), EINVAL);
	ASSERT_ERR(protect_remove_placeholder(ws_fd, "/etc", true), EINVAL);
	mk("real", true);
	mk("real/victim", true);
	ln("real", "link");
	ASSERT_TRUE(protect_remove_placeholder(ws_fd, "link/victim", true) < 0);
	ASSERT_EQ(fstatat(ws_fd, "real/victim", &st, 0), 0);
	protect_set_free(&s);
}

int main(void)
{
	int r = tap_run();

	fresh_ws(); /* removes the last one */
	return r;
}
