/* SPDX-License-Identifier: MIT */
/*
 * plan.c - the mount plan of a sandbox on the host image
 *
 * DOC: Theory of Operation
 * The sandbox's root is an empty read-only tmpfs into which paddock binds, read-only, the
 * host's system directories (an allowlist: /usr, /etc, /opt, the /lib and /bin family, /nix),
 * never the whole of /: /home, /root, /var, /run, /mnt, /media and anything a distribution or
 * a user adds at the top level stay out. Then come private tmpfs mounts (/tmp, /run, /var/tmp,
 * /home, the user's home), the few home paths a sandbox may read (git's config, PATH
 * directories that live in the home, such as ~/.local/bin or an nvm node, and what their
 * symlinks need), the workspace read-write, -v volumes, and last the protected workspace
 * paths, so they sit on top of everything else.
 *
 * The plan is pure data (struct sandbox_spec); init executes it. Root-readable secrets in
 * /etc (shadow, sudoers, ssh host keys, TLS private keys, saved Wi-Fi) are masked: an
 * unprivileged user could not read them anyway, but root running paddock maps to uid 0
 * inside, and owner permissions still apply to it without capabilities.
 */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/path.h"
#include "common/strv.h"
#include "common/xmalloc.h"
#include "plan.h"

/* path lists, filled to the line */
/* clang-format off */
static const char *const system_dirs[] = {
	"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt", "/nix",
	"/gnu",
};

static const char *const etc_masked_files[] = {
	"/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/etc/sudoers",
	"/etc/security/opasswd",
};

static const char *const etc_masked_dirs[] = {
	"/etc/sudoers.d", "/etc/ssl/private", "/etc/NetworkManager/system-connections",
	"/etc/wireguard", "/etc/credstore", "/etc/credstore.encrypted", "/etc/polkit-1/localauthority",
};

const char *const plan_home_denied[] = {
	".ssh", ".aws", ".azure", ".kube", ".docker", ".gnupg", ".password-store", ".netrc",
	".git-credentials", ".npmrc", ".pypirc", ".config/gcloud", ".config/gh", ".config/op",
	".config/hub", ".config/paddock", ".local/share/paddock", ".local/share/keyrings",
	".local/state/paddock", ".cargo/credentials", ".cargo/credentials.toml",
	".bash_history", ".zsh_history", ".python_history", ".node_repl_history", ".psql_history",
	".mysql_history", ".sqlite_history", ".lesshst", ".local/share/fish/fish_history",
	".vault-token", ".terraform.d", ".m2/settings.xml", ".gradle/gradle.properties",
	NULL,
};

static const char *const system_exact[] = {
	"/", "/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot",
	"/dev", "/proc", "/sys", "/run", "/var", "/tmp", "/home", "/root", "/opt", "/srv", "/mnt",
	"/media", "/nix",
};
/* clang-format on */

static const char *const system_below[] = { "/proc", "/sys", "/dev", "/run/user", "/boot" };

/* is_sensitive() - @p is a denied home path, below one, or contains one */
static bool is_sensitive(const struct plan_input *in, const char *p, bool check_contains)
{
	for (const char *const *d = plan_home_denied; *d; d++) {
		_cleanup_free_ char *full = path_join(in->home, *d);

		if (path_is_below_or_equal(p, full))
			return true;
		if (check_contains && path_is_below_or_equal(full, p))
			return true;
	}
	STRV_FOREACH (d, in->private_dirs) {
		if (path_is_below_or_equal(p, *d))
			return true;
		if (check_contains && path_is_below_or_equal(*d, p))
			return true;
	}
	return false;
}

int plan_check_workspace(const struct plan_input *in, const char **reterr_why)
{
	const char *ws = in->workspace;

	for (size_t i = 0; i < ELEMENTSOF(system_exact); i++)
		if (streq(ws, system_exact[i])) {
			*reterr_why = "it is a system directory; choose a project directory";
			return -EPERM;
		}
	for (size_t i = 0; i < ELEMENTSOF(system_below); i++)
		if (path_is_below_or_equal(ws, system_below[i])) {
			*reterr_why = "it lies in a kernel or runtime filesystem";
			return -EPERM;
		}
	if (path_is_below_or_equal(in->home, ws)) {
		*reterr_why = "it is your home directory or contains it, with your credentials; "
			      "choose a project directory";
		return -EPERM;
	}
	if (is_sensitive(in, ws, true)) {
		*reterr_why = "it holds credentials or paddock's own state";
		return -EPERM;
	}
	for (const char *p = ws; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			*reterr_why = "its path contains control characters";
			return -EINVAL;
		}
	return 0;
}

int plan_check_volume(const struct plan_input *in, const struct plan_volume *v,
		      const char **reterr_why)
{
	if (streq(v->dst, "/") || path_is_below_or_equal(v->dst, "/proc") ||
	    path_is_below_or_equal(v->dst, "/sys") || path_is_below_or_equal(v->dst, "/dev")) {
		*reterr_why = "its destination is a system path";
		return -EINVAL;
	}
	if (path_is_below_or_equal(in->workspace, v->dst)) {
		*reterr_why = "its destination would hide the workspace";
		return -EINVAL;
	}
	if (is_sensitive(in, v->src, true)) {
		*reterr_why = "its source is or holds credentials or paddock's own state; paddock "
			      "never mounts those into a sandbox";
		return -EPERM;
	}
	if (streq(v->src, "/") || path_is_below_or_equal(in->home, v->src)) {
		*reterr_why = "its source is your home directory or contains it";
		return -EPERM;
	}
	for (size_t i = 0; in->protect && i < in->protect->n; i++) {
		_cleanup_free_ char *p = path_join(in->workspace, in->protect->items[i].rel);

		if (path_is_below_or_equal(p, v->dst) || path_is_below_or_equal(v->dst, p)) {
			*reterr_why = "its destination overlaps a protected workspace path";
			return -EPERM;
		}
	}
	return 0;
}

static void add(struct sandbox_spec *s, enum mount_kind k, const char *src, const char *dst,
		mode_t mode, bool optional)
{
	sandbox_spec_add_mount(s, k, src, dst, mode, optional);
}

static bool covered(char *const *bound, const char *p)
{
	STRV_FOREACH (b, bound)
		if (path_is_below_or_equal(p, *b))
			return true;
	return false;
}

/*
 * bind_link_targets() - symlinks in a bound PATH directory often point elsewhere in the home
 * (~/.local/bin/claude -> ~/.local/share/claude/versions/X, nvm's npm -> ../lib/...). Bind
 * what they need: the deepest common directory of link and target when that is specific
 * enough, else the target's directory, never anything that holds a denied path.
 */
static void bind_link_targets(const struct plan_input *in, struct sandbox_spec *s, const char *dir,
			      char ***bound)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return;
	while ((de = readdir(d)) && n++ < 1024) {
		_cleanup_free_ char *lp = NULL, *target = NULL, *cand = NULL;
		char *real;

		if (de->d_type != DT_LNK)
			continue;
		lp = path_join(dir, de->d_name);
		real = realpath(lp, NULL);
		if (!real)
			continue;
		target = real;
		if (!path_startswith(target, in->home) || streq(target, in->home) ||
		    is_sensitive(in, target, false) || covered(*bound, target))
			continue;
		/* common ancestor of dir and target */
		cand = xstrdup(target);
		while (!path_is_below_or_equal(dir, cand)) {
			char *up = path_dirname(cand);

			free(cand);
			cand = up;
		}
		if (streq(cand, in->home) || !path_startswith(cand, in->home) ||
		    is_sensitive(in, cand, true) || path_startswith(cand, in->home)[0] == '\0' ||
		    !strchr(path_startswith(cand, in->home), '/')) {
			/* too broad (e.g. ~/.local): the target's own directory */
			free(cand);
			cand = path_dirname(target);
			if (streq(cand, in->home) || is_sensitive(in, cand, true) ||
			    streq(cand, dir)) {
				free(cand);
				cand = xstrdup(target);
			}
		}
		if (covered(*bound, cand))
			continue;
		add(s, MOUNT_BIND_RO, cand, cand, 0, true);
		strv_extend(bound, cand);
	}
}

static void plan_home(const struct plan_input *in, struct sandbox_spec *s)
{
	static const char *const home_files[] = { ".gitconfig", ".config/git/config",
						  ".config/git/ignore", ".gitignore_global" };
	_cleanup_strv_free_ char **bound = NULL;
	_cleanup_free_ char *path = xstrdup(strempty(in->path_env));
	char *save = NULL;

	for (size_t i = 0; i < ELEMENTSOF(home_files); i++) {
		_cleanup_free_ char *p = path_join(in->home, home_files[i]);

		add(s, MOUNT_BIND_RO, p, p, 0, true);
	}

	for (char *e = strtok_r(path, ":", &save); e; e = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *norm = path_normalize(e), *real = NULL;

		if (!norm || !path_startswith(norm, in->home) || streq(norm, in->home))
			continue;
		real = realpath(norm, NULL);
		if (!real || !path_startswith(real, in->home) || streq(real, in->home) ||
		    is_sensitive(in, real, true) || is_sensitive(in, norm, true))
			continue;
		if (covered(bound, norm))
			continue;
		add(s, MOUNT_BIND_RO, real, norm, 0, true);
		strv_extend(&bound, norm);
		if (!streq(real, norm))
			strv_extend(&bound, real);
		bind_link_targets(in, s, real, &bound);
	}
}

int plan_build(const struct plan_input *in, struct sandbox_spec *s)
{
	struct stat st;
	char buf[PATH_MAX];

	/* images: the system directories are the clone's own (mount.c mounts the overlay) */
	for (size_t i = 0; !in->image && i < ELEMENTSOF(system_dirs); i++) {
		if (lstat(system_dirs[i], &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			ssize_t k = readlink(system_dirs[i], buf, sizeof(buf) - 1);

			if (k <= 0)
				continue;
			buf[k] = '\0';
			add(s, MOUNT_SYMLINK, buf, system_dirs[i], 0, false);
		} else if (S_ISDIR(st.st_mode))
			add(s, MOUNT_BIND_RO, system_dirs[i], system_dirs[i], 0, true);
	}
	for (size_t i = 0; !in->image && i < ELEMENTSOF(etc_masked_files); i++)
		add(s, MOUNT_MASK_FILE, NULL, etc_masked_files[i], 0, true);
	for (size_t i = 0; !in->image && i < ELEMENTSOF(etc_masked_dirs); i++)
		add(s, MOUNT_MASK_DIR, NULL, etc_masked_dirs[i], 0, true);
	if (!in->image) {
		glob_t g = { 0 };

		if (glob("/etc/ssh/ssh_host_*_key", 0, NULL, &g) == 0)
			for (size_t i = 0; i < g.gl_pathc; i++)
				add(s, MOUNT_MASK_FILE, NULL, g.gl_pathv[i], 0, true);
		globfree(&g);
	}

	if (in->network)
		add(s, MOUNT_FILE,
		    "# paddock: every name is resolved by paddock's policy\n"
		    "nameserver 127.0.0.1\noptions edns0\n",
		    "/etc/resolv.conf", 0, false);
	add(s, MOUNT_DIR, NULL, "/var", 0755, false);
	add(s, MOUNT_TMPFS, NULL, "/var/tmp", 01777, false);
	add(s, MOUNT_SYMLINK, "../run", "/var/run", 0, false);
	add(s, MOUNT_SYMLINK, "../run/lock", "/var/lock", 0, false);
	if (!in->image)
		add(s, MOUNT_BIND_RO, "/var/lib/dpkg", "/var/lib/dpkg", 0, true);
	add(s, MOUNT_TMPFS, NULL, "/tmp", 01777, false);
	add(s, MOUNT_TMPFS, NULL, "/run", 0755, false);
	add(s, MOUNT_DIR, NULL, "/run/lock", 01777, false);
	add(s, MOUNT_TMPFS, NULL, "/home", 0755, false);
	if (!path_is_below_or_equal(in->home, "/root"))
		add(s, MOUNT_TMPFS, NULL, "/root", 0700, false);
	if (in->home_src)
		add(s, MOUNT_BIND_RW, in->home_src, in->home, 0, false);
	else if (!streq(in->home, "/"))
		add(s, MOUNT_TMPFS, NULL, in->home, 0700, false);
	plan_home(in, s);

	if (in->review_upper)
		sandbox_spec_add_overlay(s, in->workspace, in->review_upper, in->review_work,
					 in->workspace);
	else
		add(s, MOUNT_BIND_RW, in->workspace, in->workspace, 0, false);
	strv_extend(&s->rw_paths, in->workspace);
	strv_extend(&s->rw_paths, in->home);
	strv_extend(&s->rw_paths, "/tmp");
	strv_extend(&s->rw_paths, "/var/tmp");
	strv_extend(&s->rw_paths, "/dev/shm");
	/* a clone's system directories are its own writable layer (apt-get install) */
	for (size_t i = 0; in->image && i < ELEMENTSOF(system_dirs); i++)
		strv_extend(&s->rw_paths, system_dirs[i]);
	if (in->image) {
		strv_extend(&s->rw_paths, "/var");
		strv_extend(&s->rw_paths, "/srv");
	}

	for (size_t i = 0; i < in->n_volumes; i++) {
		const struct plan_volume *v = &in->volumes[i];

		add(s, v->ro ? MOUNT_BIND_RO : MOUNT_BIND_RW, v->src, v->dst, 0, false);
		if (!v->ro)
			strv_extend(&s->rw_paths, v->dst);
	}

	s->protect_from = s->n_mounts;
	/*
	 * Pin every directory on the way to a protected path (bind it onto itself): a mount
	 * point cannot be renamed, so `mv .git .git-old && mkdir .git` cannot swap a new
	 * .git/config in under the read-only one. The workspace itself is a mount point already.
	 */
	{
		_cleanup_strv_free_ char **pins = NULL;

		for (size_t i = 0; in->protect && i < in->protect->n; i++) {
			_cleanup_free_ char *rel = xstrdup(in->protect->items[i].rel);

			for (char *slash = strchr(rel, '/'); slash;
			     slash = strchr(slash + 1, '/')) {
				*slash = '\0';
				if (!strv_contains(pins, rel))
					strv_extend(&pins, rel);
				*slash = '/';
			}
		}
		/* parents before children: shorter first, stable */
		for (size_t len = 1; pins && len < PATH_MAX; len++) {
			bool more = false;

			STRV_FOREACH (p, pins) {
				size_t l = strlen(*p);

				if (l == len) {
					_cleanup_free_ char *full = path_join(in->workspace, *p);

					add(s, MOUNT_REBIND, NULL, full, 0, false);
				} else if (l > len)
					more = true;
			}
			if (!more)
				break;
		}
	}
	for (size_t i = 0; in->protect && i < in->protect->n; i++) {
		const struct protect_item *it = &in->protect->items[i];
		_cleanup_free_ char *p = path_join(in->workspace, it->rel);

		add(s,
		    it->action == PROTECT_READONLY   ? MOUNT_REBIND_RO
		    : it->action == PROTECT_MASK_DIR ? MOUNT_MASK_DIR
						     : MOUNT_MASK_FILE,
		    NULL, p, 0, false);
	}
	return 0;
}
