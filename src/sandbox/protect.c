/* SPDX-License-Identifier: MIT */
/*
 * protect.c - workspace paths the host later executes or trusts
 *
 * DOC: Theory of Operation
 * Files such as .git/hooks/pre-commit, .git/config, .envrc or .vscode/tasks.json are run or trusted by
 * the user's tools on the host after the sandbox is gone, so a sandbox that can write them
 * can escape. Each protected path is made read-only inside the sandbox; a missing one must
 * not be creatable either, so its first missing component gets an empty placeholder in the
 * host workspace (removed at exit, or by the next paddock after a crash, if still empty) and
 * an empty read-only mount on top of it inside.
 *
 * Resolution happens here, on the host side, before the sandbox exists, one component at a
 * time with O_NOFOLLOW: a symlink is followed only by hand, only while it stays inside the
 * workspace, and a link that leaves it refuses the start (fail closed): what a link outside
 * points to cannot be protected by a mount inside the workspace. A non-directory in the middle
 * of a path (".git" as a gitdir file) is itself protected, so it cannot be replaced by a
 * directory holding hooks. core.hooksPath (husky and friends) is read from .git/config and
 * protected too.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fd.h"
#include "common/path.h"
#include "common/strv.h"
#include "common/xmalloc.h"
#include "protect.h"

const char *const protect_default_paths[] = {
	".git/hooks/",
	".git/config",
	".git/config.worktree",
	".git/commondir",
	".git/modules/",
	".git/worktrees/",
	".gitmodules",
	".envrc",
	".vscode/",
	".idea/",
	".mcp.json",
	".claude/settings.json",
	".claude/settings.local.json",
	".claude/settings*.json",
	".claude/hooks/",
	".codex/",
	".paddock.json",
	NULL,
};

#define MAX_HOPS 40

enum resolved_kind {
	RESOLVED_DIR,
	RESOLVED_OTHER, /* a non-directory (possibly before the last component) */
	RESOLVED_MISSING,
};

static int openat_beneath(int dirfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned)flags | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};

	return RET_NERRNO((int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how)));
}

/*
 * rel_normalize() - normalize a workspace-relative path that may contain "." and "..";
 * -EXDEV when it climbs out of the workspace. The result may be "" (the workspace itself).
 */
static int rel_normalize(const char *in, char **ret)
{
	_cleanup_free_ char *out = xmalloc(strlen(in) + 1);
	size_t len = 0;
	const char *s = in;

	while (*s) {
		const char *e = strchrnul(s, '/');
		size_t n = (size_t)(e - s);

		if (n == 0 || (n == 1 && s[0] == '.')) {
			/* skip */
		} else if (n == 2 && s[0] == '.' && s[1] == '.') {
			if (len == 0)
				return -EXDEV;
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
		} else {
			if (len > 0)
				out[len++] = '/';
			memcpy(out + len, s, n);
			len += n;
		}
		s = *e ? e + 1 : e;
	}
	out[len] = '\0';
	*ret = TAKE_PTR(out);
	return 0;
}

/*
 * resolve() - walk @rel from @ws_fd one component at a time. On success @ret_rel is the
 * symlink-free relative path of: the whole path (DIR/OTHER at the end), the first non-directory
 * on the way (OTHER, @ret_last false), or the first missing component (MISSING, @ret_last true
 * when it is the last component).
 */
static int resolve(int ws_fd, const char *ws_path, const char *rel_in, char **ret_rel,
		   enum resolved_kind *ret_kind, bool *ret_last, char **reterr_detail)
{
	_cleanup_free_ char *cur = NULL;
	int r;

	r = rel_normalize(rel_in, &cur);
	if (r < 0) {
		*reterr_detail = xstrdup("it climbs out of the workspace");
		return r;
	}
	for (int hop = 0; hop <= MAX_HOPS; hop++) {
		_cleanup_close_ int dfd = -EBADF;
		_cleanup_free_ char *done = xstrdup("");
		const char *s = cur;
		bool restart = false;

		if (!*cur) {
			*reterr_detail = xstrdup("it resolves to the workspace itself");
			return -EINVAL;
		}
		dfd = openat(ws_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			return -errno;
		while (*s) {
			const char *e = strchrnul(s, '/');
			_cleanup_free_ char *comp = xstrndup(s, (size_t)(e - s));
			_cleanup_free_ char *next =
				*done ? xasprintf("%s/%s", done, comp) : xstrdup(comp);
			bool last = *e == '\0';
			struct stat st;

			if (fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				if (errno != ENOENT)
					return -errno;
				*ret_rel = TAKE_PTR(next);
				*ret_kind = RESOLVED_MISSING;
				*ret_last = last;
				return 0;
			}
			if (S_ISLNK(st.st_mode)) {
				char target[4096];
				ssize_t k = readlinkat(dfd, comp, target, sizeof(target) - 1);
				_cleanup_free_ char *joined = NULL, *norm = NULL;

				if (k < 0)
					return -errno;
				target[k] = '\0';
				if (target[0] == '/') {
					const char *below = path_startswith(target, ws_path);

					if (!below) {
						*reterr_detail = xasprintf(
							"'%s' is a symlink to '%s', outside the "
							"workspace",
							next, target);
						return -EXDEV;
					}
					joined = xasprintf("%s%s%s", below, last ? "" : "/",
							   last ? "" : e + 1);
				} else
					joined = xasprintf("%s%s%s%s%s", done, *done ? "/" : "",
							   target, last ? "" : "/",
							   last ? "" : e + 1);
				r = rel_normalize(joined, &norm);
				if (r < 0) {
					*reterr_detail = xasprintf(
						"'%s' is a symlink to '%s', outside the workspace",
						next, target);
					return r;
				}
				free(cur);
				cur = TAKE_PTR(norm);
				restart = true;
				break;
			}
			if (!S_ISDIR(st.st_mode) || last) {
				*ret_rel = TAKE_PTR(next);
				*ret_kind = S_ISDIR(st.st_mode) ? RESOLVED_DIR : RESOLVED_OTHER;
				*ret_last = last;
				return 0;
			}
			{
				int nfd = openat(dfd, comp,
						 O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

				if (nfd < 0)
					return -errno;
				safe_close(dfd);
				dfd = nfd;
			}
			free(done);
			done = TAKE_PTR(next);
			s = e + 1;
		}
		if (!restart)
			break;
	}
	*reterr_detail = xstrdup("too many levels of symbolic links");
	return -ELOOP;
}

/*
 * placeholder_content() - what a placeholder file must contain to be harmless, or NULL for
 * empty. .git/commondir redirects git to another directory's config and hooks; an empty one
 * makes git fail ("failed to read .git/commondir"), "." names the git directory itself.
 */
static const char *placeholder_content(const char *rel)
{
	const char *slash = strrchr(rel, '/');

	if (slash && streq(slash + 1, "commondir") && slash - rel >= 4 &&
	    strncmp(slash - 4, ".git", 4) == 0)
		return ".\n";
	return NULL;
}

static void set_add(struct protect_set *set, char *rel /* takes */, enum protect_action a,
		    bool placeholder)
{
	for (size_t i = 0; i < set->n; i++)
		if (streq(set->items[i].rel, rel)) {
			free(rel);
			return;
		}
	set->items = xreallocarray(set->items, set->n + 1, sizeof(*set->items));
	set->items[set->n++] = (struct protect_item){ rel, a, placeholder, false };
}

static int protect_one(int ws_fd, const char *ws_path, const char *pattern, struct protect_set *set,
		       char **reterr_detail)
{
	_cleanup_free_ char *p = xstrdup(pattern), *rel = NULL;
	enum resolved_kind kind;
	bool want_dir = false, last;
	size_t n = strlen(p);
	int r;

	if (n > 0 && p[n - 1] == '/') {
		want_dir = true;
		p[n - 1] = '\0';
	}
	r = resolve(ws_fd, ws_path, p, &rel, &kind, &last, reterr_detail);
	if (r < 0)
		return r;
	switch (kind) {
	case RESOLVED_DIR:
	case RESOLVED_OTHER:
		set_add(set, TAKE_PTR(rel), PROTECT_READONLY, false);
		break;
	case RESOLVED_MISSING:
		/*
		 * A file whose empty version would break the user's tools gets its harmless
		 * content instead, and is shown read-only as it is (not masked) inside.
		 */
		if (last && !want_dir && placeholder_content(rel))
			set_add(set, TAKE_PTR(rel), PROTECT_READONLY, true);
		else
			set_add(set, TAKE_PTR(rel),
				(!last || want_dir) ? PROTECT_MASK_DIR : PROTECT_MASK_FILE, true);
		break;
	}
	return 0;
}

static int protect_glob(int ws_fd, const char *ws_path, const char *pattern,
			struct protect_set *set, char **reterr_detail)
{
	_cleanup_free_ char *dir = NULL, *rel = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	const char *slash = strrchr(pattern, '/'), *glob = slash ? slash + 1 : pattern;
	enum resolved_kind kind = RESOLVED_MISSING;
	struct dirent *de;
	bool last;
	int fd, r;

	if (slash) {
		dir = xstrndup(pattern, (size_t)(slash - pattern));
		r = resolve(ws_fd, ws_path, dir, &rel, &kind, &last, reterr_detail);
		if (r < 0)
			return r;
		if (kind != RESOLVED_DIR)
			return 0; /* nothing can match; explicit siblings in the list cover names */
		fd = openat_beneath(ws_fd, rel, O_RDONLY | O_DIRECTORY);
	} else
		fd = RET_NERRNO(openat(ws_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d) {
		safe_close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		_cleanup_free_ char *child = NULL;

		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		if (fnmatch(glob, de->d_name, 0) != 0)
			continue;
		child = rel ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
		r = protect_one(ws_fd, ws_path, child, set, reterr_detail);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * hooks_path() - core.hooksPath from .git/config when it names a directory in the workspace.
 * A deliberately small reader: "[core]" section, "hookspath = VALUE" (case-insensitive, optional
 * quotes). Git's full syntax has more (includes, subsections); those cannot point elsewhere
 * without editing .git/config, which is itself read-only inside.
 */
static char *hooks_path(int ws_fd, const char *ws_path)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *buf = NULL;
	bool in_core = false;
	char *line, *save = NULL;

	fd = openat_beneath(ws_fd, ".git/config", O_RDONLY);
	if (fd < 0)
		return NULL;
	if (read_fd(fd, 1 << 20, &buf, NULL) < 0)
		return NULL;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *s = line, *v, *end;

		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '[') {
			in_core = strncasecmp(s, "[core]", 6) == 0;
			continue;
		}
		if (!in_core || strncasecmp(s, "hookspath", 9) != 0)
			continue;
		v = s + 9;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v != '=')
			continue;
		v++;
		while (*v == ' ' || *v == '\t')
			v++;
		end = v + strlen(v);
		while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			*--end = '\0';
		if (*v == '"' && end > v + 1 && end[-1] == '"') {
			*--end = '\0';
			v++;
		}
		while (end > v + 1 && end[-1] == '/')
			*--end = '\0';
		if (*v == '/') {
			const char *below = path_startswith(v, ws_path);

			return below && *below ? xstrdup(below) : NULL;
		}
		return *v ? xstrdup(v) : NULL;
	}
	return NULL;
}

int protect_resolve(int ws_fd, const char *ws_path, char *const *patterns, struct protect_set *ret,
		    char **reterr_pattern, char **reterr_detail)
{
	struct protect_set set = {};
	_cleanup_free_ char *hp = NULL;
	_cleanup_strv_free_ char **all = strv_copy(patterns);
	int r;

	hp = hooks_path(ws_fd, ws_path);
	if (hp) {
		_cleanup_free_ char *norm = NULL;

		/* husky: hooksPath .husky/_ runs the scripts in .husky itself */
		if (rel_normalize(hp, &norm) >= 0 && *norm) {
			const char *base = strrchr(norm, '/');

			strv_push(&all, xasprintf("%s/", norm));
			if (base && streq(base + 1, "_"))
				strv_push(&all, xasprintf("%.*s/", (int)(base - norm), norm));
		}
	}

	STRV_FOREACH (p, all) {
		const char *slash = strrchr(*p, '/');
		const char *lastc = slash && slash[1] ? slash + 1 : *p;

		if (strchr(lastc, '*') || strchr(lastc, '?') || strchr(lastc, '['))
			r = protect_glob(ws_fd, ws_path, *p, &set, reterr_detail);
		else
			r = protect_one(ws_fd, ws_path, *p, &set, reterr_detail);
		if (r < 0) {
			*reterr_pattern = xstrdup(*p);
			protect_set_free(&set);
			return r;
		}
	}
	*ret = set;
	return 0;
}

int protect_create_placeholders(int ws_fd, const struct protect_set *set, const char **reterr_rel)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct protect_item *it = &set->items[i];
		_cleanup_free_ char *parent = NULL;
		_cleanup_close_ int pfd = -EBADF;
		const char *slash, *name;

		if (!it->placeholder || it->adopted)
			continue;
		slash = strrchr(it->rel, '/');
		name = slash ? slash + 1 : it->rel;
		parent = slash ? xstrndup(it->rel, (size_t)(slash - it->rel)) : xstrdup(".");
		pfd = openat_beneath(ws_fd, parent, O_PATH | O_DIRECTORY);
		if (pfd < 0) {
			*reterr_rel = it->rel;
			return pfd;
		}
		if (it->action == PROTECT_MASK_DIR) {
			/* an empty directory */
			if (mkdirat(pfd, name, 0755) < 0) {
				*reterr_rel = it->rel;
				return -errno;
			}
		} else {
			int fd = openat(pfd, name,
					O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
			const char *content = placeholder_content(it->rel);
			int r = 0;

			if (fd < 0) {
				*reterr_rel = it->rel;
				return -errno;
			}
			if (content)
				r = loop_write(fd, content, strlen(content));
			(void)close(fd);
			if (r < 0) {
				*reterr_rel = it->rel;
				return r;
			}
		}
	}
	return 0;
}

int protect_remove_placeholder(int ws_fd, const char *rel, bool dir)
{
	_cleanup_free_ char *parent = NULL;
	_cleanup_close_ int pfd = -EBADF;
	const char *slash = strrchr(rel, '/'), *name = slash ? slash + 1 : rel;
	struct stat st;

	if (!path_is_safe_relative(rel))
		return -EINVAL;
	parent = slash ? xstrndup(rel, (size_t)(slash - rel)) : xstrdup(".");
	pfd = openat_beneath(ws_fd, parent, O_PATH | O_DIRECTORY);
	if (pfd < 0)
		return pfd;
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (dir && S_ISDIR(st.st_mode))
		return RET_NERRNO(unlinkat(pfd, name, AT_REMOVEDIR));
	if (!dir && S_ISREG(st.st_mode)) {
		const char *content = placeholder_content(rel);
		size_t want = content ? strlen(content) : 0;
		char buf[16];

		if ((size_t)st.st_size != want)
			return -EEXIST;
		if (want > 0) {
			_cleanup_close_ int fd =
				openat(pfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

			if (fd < 0 || read(fd, buf, sizeof(buf)) != (ssize_t)want ||
			    memcmp(buf, content, want) != 0)
				return -EEXIST;
		}
		return RET_NERRNO(unlinkat(pfd, name, 0));
	}
	return -EEXIST;
}

void protect_set_free(struct protect_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->items[i].rel);
	free(s->items);
	s->items = NULL;
	s->n = 0;
}
