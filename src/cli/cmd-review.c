/* SPDX-License-Identifier: MIT */
/*
 * cmd-review.c - review mode: `paddock diff`, `paddock apply`, `paddock discard`
 *
 * DOC: Theory of Operation
 * A sandbox created with --review writes its workspace changes to its own layer
 * ($DATA/sandboxes/NAME/review, see store/review.c). diff lists them (and shows them with
 * --patch, through diff(1)); apply lands them in the real workspace, refusing paths the host
 * changed since the layer was started unless --force; discard drops them. apply and discard
 * take the sandbox's lock, so they refuse while it runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/path.h"
#include "common/strv.h"
#include "common/xmalloc.h"
#include "sandbox/protect.h"
#include "store/config.h"
#include "store/review.h"
#include "store/sandbox.h"

enum {
	OPT_PATCH = OPT_LONG_BASE,
	OPT_JSON,
};

/*
 * struct review_ctx - an open review-mode sandbox: its directory, workspace and layer (fds
 * are -EBADF when the layer was never started)
 */
struct review_ctx {
	char *dir;
	char *workspace;
	int lock;
	int review_fd, upper_fd, ws_fd;
};

static void review_ctx_done(struct review_ctx *c)
{
	free(c->dir);
	free(c->workspace);
	(void)safe_close(c->lock);
	(void)safe_close(c->review_fd);
	(void)safe_close(c->upper_fd);
	(void)safe_close(c->ws_fd);
}

/* review_open() - @name's layer; with @lock, refuse while the sandbox runs */
static int review_open(const char *verb, const char *name, bool lock, struct review_ctx *c)
{
	struct json_object *cfg = NULL, *v, *opts;
	const char *why = NULL;
	bool review = false;
	int r;

	*c = (struct review_ctx){
		.lock = -EBADF, .review_fd = -EBADF, .upper_fd = -EBADF, .ws_fd = -EBADF
	};
	if (sandbox_name_check(name, &why) < 0)
		return log_error_errno(EINVAL, "%s: '%s' is not a sandbox name: %s", verb, name,
				       why);
	r = sandbox_dir(name, &c->dir);
	if (r < 0)
		return log_error_errno(r, "%s: cannot find paddock's data directory: %m", verb);
	r = sandbox_json_read(c->dir, "config.json", &cfg);
	if (r == -ENOENT)
		return log_error_errno(ENOENT,
				       "%s: no sandbox named '%s'; 'paddock ls' lists them, "
				       "'paddock create --review %s' makes one",
				       verb, name, name);
	if (r < 0)
		return log_error_errno(r, "%s: cannot read the config of '%s': %m", verb, name);
	if (json_object_object_get_ex(cfg, "workspace", &v) &&
	    json_object_is_type(v, json_type_string))
		c->workspace = xstrdup(json_object_get_string(v));
	if (json_object_object_get_ex(cfg, "options", &opts) &&
	    json_object_is_type(opts, json_type_array))
		for (size_t i = 0; i < json_object_array_length(opts); i++)
			review = review || streq(strempty(json_object_get_string(
							 json_object_array_get_idx(opts, i))),
						 "--review");
	json_object_put(cfg);
	if (!c->workspace)
		return log_error_errno(EBADMSG, "%s: the config of '%s' names no workspace", verb,
				       name);
	if (!review)
		return log_error_errno(EINVAL,
				       "%s: sandbox '%s' is not in review mode: its changes are "
				       "in the workspace already (create one with 'paddock create "
				       "--review')",
				       verb, name);
	if (lock) {
		c->lock = sandbox_lock(c->dir, 0);
		if (c->lock == -EBUSY)
			return log_error_errno(EBUSY,
					       "%s: sandbox '%s' is running; stop it first "
					       "('paddock stop %s'): its changes are not final",
					       verb, name, name);
		if (c->lock < 0)
			return log_error_errno(c->lock, "%s: cannot lock '%s': %m", verb, name);
	}
	c->ws_fd = open(c->workspace, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->ws_fd < 0)
		return log_error_errno(errno, "%s: workspace '%s': %m", verb, c->workspace);
	{
		_cleanup_free_ char *rd = path_join(c->dir, REVIEW_DIR);

		c->review_fd = open(rd, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (c->review_fd < 0 && errno != ENOENT)
			return log_error_errno(errno, "%s: '%s': %m", verb, rd);
	}
	if (c->review_fd >= 0) {
		c->upper_fd = openat(c->review_fd, "upper",
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (c->upper_fd < 0 && errno != ENOENT)
			return log_error_errno(errno, "%s: the review layer of '%s': %m", verb,
					       name);
	}
	return 0;
}

static const char *change_word(char c)
{
	return c == 'A' ? "added" : c == 'M' ? "changed" : "deleted";
}

static const char *type_word(char t)
{
	return t == 'f' ? "file" : t == 'l' ? "symlink" : t == 'd' ? "directory" : "other";
}

/* show_patch() - diff -u of one entry; binary files are named by diff itself */
static void show_patch(const struct review_ctx *c, const struct review_entry *e)
{
	_cleanup_free_ char *a = NULL, *b = NULL, *la = NULL, *lb = NULL;
	pid_t pid;

	if (e->type == 'd')
		return;
	if (e->type == 'l' || e->type == 'o') {
		char target[4096];
		ssize_t k;

		if (e->change == 'D')
			return;
		k = readlinkat(c->upper_fd, e->path, target, sizeof(target) - 1);
		if (k >= 0) {
			target[k] = '\0';
			printf("symlink %s -> %s\n", e->path, target);
		}
		return;
	}
	a = e->change == 'A' ? xstrdup("/dev/null") : path_join(c->workspace, e->path);
	b = e->change == 'D' ? xstrdup("/dev/null")
			     : xasprintf("%s/" REVIEW_DIR "/upper/%s", c->dir, e->path);
	la = e->change == 'A' ? xstrdup("/dev/null") : xasprintf("a/%s", e->path);
	lb = e->change == 'D' ? xstrdup("/dev/null") : xasprintf("b/%s", e->path);
	(void)fflush(stdout);
	pid = fork();
	if (pid < 0) {
		log_warning_errno(errno, "diff: cannot fork, ignoring: %m");
		return;
	}
	if (pid == 0) {
		execlp("diff", "diff", "-u", "--label", la, "--label", lb, "--", a, b,
		       (char *)NULL);
		(void)fprintf(stderr, "paddock: diff: cannot run diff(1) (diffutils): %m\n");
		_exit(2);
	}
	(void)waitpid(pid, NULL, 0);
}

static const struct paddock_opt diff_opts[] = {
	{ "patch", 0, NULL, false, "show a unified diff of each text file", OPT_PATCH, NULL },
	{ "json", 0, NULL, false, "print a JSON array", OPT_JSON, NULL },
	{},
};

static int cmd_diff_exec(int argc, char **argv)
{
	_cleanup_(cmd_parser_done) struct cmd_parser p =
		CMD_PARSER_INIT(cmd_find("diff"), argc, argv);
	_cleanup_(review_ctx_done) struct review_ctx c = {
		.lock = -EBADF, .review_fd = -EBADF, .upper_fd = -EBADF, .ws_fd = -EBADF
	};
	struct review_list l = {};
	bool patch = false, json = false;
	int ch, r;

	while ((ch = cmd_parse_next(&p)) > 0) {
		if (ch == 'h')
			return 0;
		if (ch == OPT_PATCH)
			patch = true;
		else if (ch == OPT_JSON)
			json = true;
	}
	if (ch < 0)
		return ch;
	r = review_open("diff", p.args[0], false, &c);
	if (r < 0)
		return r;
	if (c.review_fd >= 0 && review_pending(c.review_fd) > 0)
		log_warning("diff: an apply of '%s' was interrupted; 'paddock apply %s' completes "
			    "it",
			    p.args[0], p.args[0]);
	if (c.upper_fd >= 0) {
		r = review_scan(c.upper_fd, c.ws_fd, &l);
		if (r < 0)
			return log_error_errno(r, "diff: cannot read the review layer of '%s': %m",
					       p.args[0]);
	}
	if (json) {
		struct json_object *a = json_object_new_array();

		for (size_t i = 0; i < l.n; i++) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "path", json_object_new_string(l.items[i].path));
			json_object_object_add(
				o, "change",
				json_object_new_string(change_word(l.items[i].change)));
			json_object_object_add(o, "type",
					       json_object_new_string(type_word(l.items[i].type)));
			json_object_array_add(a, o);
		}
		printf("%s\n",
		       json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(a);
	} else
		for (size_t i = 0; i < l.n; i++) {
			const struct review_entry *e = &l.items[i];

			printf("%c %s%s\n", e->change, e->path, e->type == 'd' ? "/" : "");
			if (patch)
				show_patch(&c, e);
		}
	review_list_free(&l);
	return 0;
}

const struct paddock_cmd paddock_cmd_diff = {
	.name = "diff",
	.usage = "[--patch] [--json] NAME",
	.summary = "Show what a review-mode sandbox changed in its workspace",
	.opts = diff_opts,
	.min_args = 1,
	.max_args = 1,
	.complete_args = "sandbox",
	.exec = cmd_diff_exec,
};

/* rel_below() - relative path @p equals @dir or lies below it */
static bool rel_below(const char *p, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(p, dir, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

/* hits() - entry @e writes at or below protected @pat, or removes a directory holding it */
static bool hits(const struct review_entry *e, const char *pat)
{
	_cleanup_free_ char *p = xstrdup(pat), *q = NULL;
	size_t n = strlen(p);

	while (n > 0 && p[n - 1] == '/')
		p[--n] = '\0';
	if (n == 0)
		return false;
	if (fnmatch(p, e->path, FNM_PATHNAME | FNM_PERIOD) == 0 || rel_below(e->path, p))
		return true;
	/* below a glob's directory: ".claude/settings*.json" against ".claude/settings.x.json/y" */
	q = xstrdup(e->path);
	for (char *slash = strchr(q, '/'); slash; slash = strchr(slash + 1, '/')) {
		bool m;

		*slash = '\0';
		m = fnmatch(p, q, FNM_PATHNAME | FNM_PERIOD) == 0;
		*slash = '/';
		if (m)
			return true;
	}
	/* a directory holding it goes, or a file takes the place of one */
	return (e->change == 'D' || e->type != 'd') && rel_below(p, e->path);
}

/*
 * protected_entries() - the entries touching a protected workspace path (the built-in list,
 * the configuration's, core.hooksPath): the sandbox sees them read-only, so one in its layer
 * did not come from the agent the usual way, and the host runs or trusts these files
 */
static char **protected_entries(const struct review_ctx *c, const struct review_list *l)
{
	_cleanup_(config_freep) struct paddock_config *cfg = config_new();
	_cleanup_strv_free_ char **pats = NULL, **hit = NULL;
	struct protect_set set = {};
	_cleanup_free_ char *err = NULL, *bad = NULL, *detail = NULL;

	for (const char *const *p = protect_default_paths; *p; p++)
		strv_extend(&pats, *p);
	if (config_load_files(cfg, arg_config, &err) >= 0 &&
	    config_load_project(cfg, c->ws_fd, c->workspace, &err) >= 0)
		STRV_FOREACH (p, cfg->protect)
			strv_extend(&pats, *p);
	else
		log_warning("apply: %s; checking the built-in protected paths only", strempty(err));
	if (protect_resolve(c->ws_fd, c->workspace, pats, &set, &bad, &detail) >= 0)
		for (size_t i = 0; i < set.n; i++)
			strv_extend(&pats, set.items[i].rel);
	protect_set_free(&set);
	for (size_t i = 0; i < l->n; i++)
		STRV_FOREACH (p, pats)
			if (hits(&l->items[i], *p)) {
				strv_extend(&hit, l->items[i].path);
				break;
			}
	return TAKE_PTR(hit);
}

static const struct paddock_opt apply_opts[] = {
	{ "force", 'f', NULL, false,
	  "apply over files changed on the host meanwhile, and protected paths", 'f', NULL },
	{},
};

static int cmd_apply_exec(int argc, char **argv)
{
	_cleanup_(cmd_parser_done) struct cmd_parser cl =
		CMD_PARSER_INIT(cmd_find("apply"), argc, argv);
	_cleanup_(review_ctx_done) struct review_ctx c = {
		.lock = -EBADF, .review_fd = -EBADF, .upper_fd = -EBADF, .ws_fd = -EBADF
	};
	_cleanup_strv_free_ char **conflicts = NULL;
	struct review_list l = {};
	const char *name, *bad = NULL;
	bool force = false;
	int64_t start = 0;
	int r, n;

	r = cmd_parse_args(&cl, &force);
	if (r <= 0)
		return r;
	name = cl.args[0];
	r = review_open("apply", name, true, &c);
	if (r < 0)
		return r;
	if (c.review_fd < 0 || c.upper_fd < 0) {
		printf("%s: nothing to apply\n", name);
		return 0;
	}
	if (review_pending(c.review_fd) > 0) {
		r = review_resume(c.review_fd, c.upper_fd, c.ws_fd, &bad);
		if (r < 0)
			return log_error_errno(r,
					       "apply: cannot complete the interrupted apply of "
					       "'%s' (at '%s'): %m; fix that and run apply again",
					       name, strempty(bad));
		printf("%s: completed an interrupted apply\n", name);
		return 0;
	}
	r = review_scan(c.upper_fd, c.ws_fd, &l);
	if (r < 0)
		return log_error_errno(r, "apply: cannot read the review layer of '%s': %m", name);
	if (l.n == 0) {
		printf("%s: nothing to apply\n", name);
		return 0;
	}
	r = review_start(c.review_fd, &start);
	if (r < 0) {
		review_list_free(&l);
		return log_error_errno(r, "apply: the review layer of '%s' has no start time: %m",
				       name);
	}
	n = review_conflicts(c.ws_fd, &l, start, &conflicts);
	if (n > 0 && !force) {
		_cleanup_free_ char *list = xstrdup("");

		STRV_FOREACH (p, conflicts) {
			char *more = xasprintf("%s%s%s", list, list[0] ? "\n  " : "", *p);

			free(list);
			list = more;
		}

		review_list_free(&l);
		return log_error_errno(EEXIST,
				       "apply: %d path%s changed in the workspace '%s' since "
				       "the sandbox started working on its copy:\n  %s\n"
				       "Nothing was applied. Look at them ('paddock diff --patch "
				       "%s'), then apply over them with --force, or discard.",
				       n, n == 1 ? "" : "s", c.workspace, list, name);
	}
	{
		_cleanup_strv_free_ char **prot = protected_entries(&c, &l);

		if (prot && !force) {
			_cleanup_free_ char *list = xstrdup("");

			STRV_FOREACH (p, prot) {
				char *more = xasprintf("%s%s%s", list, list[0] ? "\n  " : "", *p);

				free(list);
				list = more;
			}
			review_list_free(&l);
			return log_error_errno(
				EPERM,
				"apply: the review layer of '%s' touches protected "
				"paths, which the host runs or trusts and the sandbox "
				"sees read-only:\n  %s\nNothing was applied. Look at "
				"them ('paddock diff --patch %s'); --force applies them "
				"too.",
				name, list, name);
		}
	}
	r = review_apply(c.review_fd, c.upper_fd, c.ws_fd, &l, &bad);
	if (r < 0) {
		_cleanup_free_ char *what = xstrdup(strempty(bad));

		review_list_free(&l);
		return log_error_errno(r, "apply: cannot apply '%s' to '%s': %m; %s", what,
				       c.workspace,
				       review_pending(c.review_fd) > 0
					       ? "fix that and run 'paddock apply' again to "
						 "complete it"
					       : "nothing was applied");
	}
	for (size_t i = 0; i < l.n; i++)
		printf("%c %s%s\n", l.items[i].change, l.items[i].path,
		       l.items[i].type == 'd' ? "/" : "");
	review_list_free(&l);
	return 0;
}

const struct paddock_cmd paddock_cmd_apply = {
	.name = "apply",
	.usage = "[-f] NAME",
	.summary = "Land a review-mode sandbox's changes in the real workspace",
	.opts = apply_opts,
	.min_args = 1,
	.max_args = 1,
	.complete_args = "sandbox",
	.exec = cmd_apply_exec,
};

static const struct paddock_opt discard_opts[] = {
	{},
};

static int cmd_discard_exec(int argc, char **argv)
{
	_cleanup_(cmd_parser_done) struct cmd_parser p =
		CMD_PARSER_INIT(cmd_find("discard"), argc, argv);
	_cleanup_(review_ctx_done) struct review_ctx c = {
		.lock = -EBADF, .review_fd = -EBADF, .upper_fd = -EBADF, .ws_fd = -EBADF
	};
	int r;

	r = cmd_parse_args(&p, NULL);
	if (r <= 0)
		return r;
	r = review_open("discard", p.args[0], true, &c);
	if (r < 0)
		return r;
	r = review_discard(c.dir);
	if (r == -EBUSY)
		return log_error_errno(r,
				       "discard: an apply of '%s' was interrupted and is half "
				       "done; complete it first ('paddock apply %s')",
				       p.args[0], p.args[0]);
	if (r < 0)
		return log_error_errno(r, "discard: could not empty the review layer of '%s': %m",
				       p.args[0]);
	return 0;
}

const struct paddock_cmd paddock_cmd_discard = {
	.name = "discard",
	.usage = "NAME",
	.summary = "Drop a review-mode sandbox's changes",
	.opts = discard_opts,
	.min_args = 1,
	.max_args = 1,
	.complete_args = "sandbox",
	.exec = cmd_discard_exec,
};
