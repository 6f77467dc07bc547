/* SPDX-License-Identifier: MIT */
/*
 * cmd-image.c - `paddock image build|import|ls|rm`: golden images
 *
 * DOC: Theory of Operation
 * One command with the action as its first positional argument, as `secret` and `ca` do.
 *
 * `import NAME FILE` extracts a rootfs tarball, an OCI image layout or a `docker save`
 * archive (store/unpack.c) into $DATA/images/.tmp-NAME-XXXXXX (held locked), writes
 * image.json there and renames the directory to $DATA/images/NAME: the image exists whole or
 * not at all. SIGINT and SIGTERM stop the extraction between two entries and remove the
 * directory; a crash leaves one that the next image command sweeps away.
 *
 * `build NAME --from DIST` runs mmdebstrap (as a program; it knows Debian better than we do):
 * --mode=unshare as a user (it needs a subordinate uid range, /etc/subuid, and newuidmap), or
 * --mode=root as root; --variant=minbase unless told; tar output without /dev, written to the
 * temporary directory and then imported as above, so that ownership, device nodes and
 * setuid bits follow the import's rules whichever way an image was made. mmdebstrap's
 * --verbose output on stderr is parsed for progress: its "I:" lines are the stages, apt's
 * "Get:" lines the downloads (count and size), dpkg's "Unpacking" and "Setting up" lines the
 * packages; its "E:" lines say why it failed, and the common causes (an unknown package, a
 * mirror that cannot be reached, no subordinate uids) get an error that says what to do. The
 * whole log is kept at $DATA/images/NAME/build.log (or .last-build.log on failure).
 *
 * Progress goes to stderr: a one-line bar redrawn ten times a second on a terminal, one line
 * per stage otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "common/cleanup.h"
#include "common/fd.h"
#include "common/log.h"
#include "common/path.h"
#include "common/strv.h"
#include "common/xmalloc.h"
#include "store/archive-dl.h"
#include "store/image.h"
#include "store/sandbox.h"
#include "store/unpack.h"

enum {
	ARG_FROM = OPT_LONG_BASE,
	ARG_PACKAGES,
	ARG_SCRIPT,
	ARG_MIRROR,
	ARG_VARIANT,
	ARG_JSON,
};

static const struct paddock_opt image_opts[] = {
	{ "from", 0, "DIST", false,
	  "build: the distribution: a Debian or Ubuntu suite (bookworm, trixie, noble, ...), "
	  "optionally as debian:SUITE or ubuntu:SUITE",
	  ARG_FROM, "bookworm trixie sid noble jammy" },
	{ "packages", 0, "P,...", false, "build: more packages to install", ARG_PACKAGES },
	{ "script", 0, "FILE", false, "build: a shell script run as root inside the new image",
	  ARG_SCRIPT, "file" },
	{ "mirror", 0, "URL", false, "build: the package mirror (default: the distribution's)",
	  ARG_MIRROR },
	{ "variant", 0, "NAME", false,
	  "build: mmdebstrap's variant: minbase (default), essential, apt, required, standard",
	  ARG_VARIANT, "minbase essential apt required important standard" },
	{ "json", 0, NULL, false, "ls: print a JSON array", ARG_JSON },
	{ "quiet", 'q', NULL, false, "ls: print only the names", 'q' },
	{},
};

static const char *arg_from, *arg_packages, *arg_script, *arg_mirror, *arg_variant;
static bool arg_json, arg_quiet;

static volatile sig_atomic_t cancelled;

static void on_signal(int sig)
{
	cancelled = sig;
}

/* --- progress ------------------------------------------------------------------------------ */

struct progress {
	bool tty;
	char stage[128];
	uint64_t last_ms;
	size_t last_len;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void format_bytes(uint64_t n, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	size_t u = 0;

	while (v >= 1024 && u + 1 < ELEMENTSOF(units)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		(void)snprintf(buf, size, "%llu B", (unsigned long long)n);
	else
		(void)snprintf(buf, size, "%.1f %s", v, units[u]);
}

/* progress_line() - redraw the bar (terminal, at most 10/s) or print a new stage (pipe) */
static void progress_line(struct progress *p, const char *stage, const char *detail, int pct,
			  bool force)
{
	bool new_stage = !streq(p->stage, stage);
	uint64_t t = now_ms();

	if (new_stage)
		(void)snprintf(p->stage, sizeof(p->stage), "%s", stage);
	if (!p->tty) {
		if (new_stage)
			(void)fprintf(stderr, "%s\n", stage);
		return;
	}
	if (!force && !new_stage && t - p->last_ms < 100)
		return;
	p->last_ms = t;
	if (pct >= 0) {
		char bar[21];
		int fill = pct / 5;

		for (int i = 0; i < 20; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[20] = '\0';
		(void)fprintf(stderr, "\r\033[K%-28.28s [%s] %3d%% %s", stage, bar, pct,
			      strempty(detail));
	} else
		(void)fprintf(stderr, "\r\033[K%-28.28s %s", stage, strempty(detail));
	(void)fflush(stderr);
}

static void progress_done(struct progress *p)
{
	if (p->tty) {
		(void)fputs("\r\033[K", stderr);
		(void)fflush(stderr);
	}
}

static void unpack_progress(const char *stage, uint64_t done, uint64_t total, void *userdata)
{
	struct progress *p = userdata;
	char d[32], t[32], detail[80], label[128];

	format_bytes(done, d, sizeof(d));
	(void)snprintf(label, sizeof(label), "extracting %s", stage);
	if (total > 0) {
		format_bytes(total, t, sizeof(t));
		(void)snprintf(detail, sizeof(detail), "%s / %s", d, t);
		progress_line(p, label, detail,
			      (int)(done * 100 / total > 100 ? 100 : done * 100 / total), false);
	} else {
		(void)snprintf(detail, sizeof(detail), "%s", d);
		progress_line(p, label, detail, -1, false);
	}
}

/* --- import (also the end of a build) -------------------------------------------------------- */

static void signals_catch(bool on)
{
	struct sigaction sa = { .sa_handler = on ? on_signal : SIG_DFL };

	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
}

static int check_new_name(const char *verb, const char *name)
{
	_cleanup_free_ char *dir = NULL;
	const char *why = NULL;
	struct stat st;
	int r;

	if (image_name_check(name, &why) < 0)
		return log_error_errno(EINVAL, "image %s: '%s' is not a valid image name: %s", verb,
				       name, why);
	r = image_dir(name, &dir);
	if (r < 0)
		return log_error_errno(r, "image %s: cannot find paddock's data directory: %m",
				       verb);
	if (lstat(dir, &st) == 0)
		return log_error_errno(EEXIST,
				       "image %s: an image named '%s' exists already; remove it "
				       "first ('paddock image rm %s') or choose another name",
				       verb, name, name);
	return 0;
}

struct staging {
	char *store, *tmp, *name;
	int dfd, lock;
};

static int staging_begin(const char *verb, const char *name, struct staging *s)
{
	_cleanup_free_ char *tmpl = NULL;
	int r;

	*s = (struct staging){ .dfd = -EBADF, .lock = -EBADF };
	image_sweep_tmp();
	r = image_store_dir(true, &s->store);
	if (r < 0)
		return log_error_errno(r, "image %s: cannot create the image store: %m", verb);
	tmpl = xasprintf("%s/.tmp-%s-XXXXXX", s->store, name);
	if (!mkdtemp(tmpl))
		return log_error_errno(errno, "image %s: cannot create a directory in '%s': %m",
				       verb, s->store);
	s->tmp = TAKE_PTR(tmpl);
	s->name = xstrdup(name);
	s->dfd = open(s->tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s->dfd < 0 || flock(s->dfd, LOCK_EX | LOCK_NB) < 0)
		return log_error_errno(errno, "image %s: cannot lock '%s': %m", verb, s->tmp);
	s->lock = s->dfd;
	return 0;
}

/* staging_end() - commit (rename into place) or throw away */
static int staging_end(const char *verb, struct staging *s, bool commit)
{
	int r = 0;

	if (s->tmp && commit) {
		_cleanup_free_ char *dst = path_join(s->store, s->name);

		if (renameat2(AT_FDCWD, s->tmp, AT_FDCWD, dst, RENAME_NOREPLACE) < 0)
			r = log_error_errno(errno,
					    "image %s: cannot move the new image to '%s': %m", verb,
					    dst);
		else
			(void)fsync(s->dfd);
	}
	if (s->tmp && (!commit || r < 0)) {
		_cleanup_close_ int pfd = open(s->store, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (pfd >= 0)
			(void)rm_rf_at(pfd, strrchr(s->tmp, '/') + 1);
	}
	s->dfd = safe_close(s->dfd);
	free(s->store);
	free(s->tmp);
	free(s->name);
	*s = (struct staging){ .dfd = -EBADF, .lock = -EBADF };
	return r;
}

/*
 * import_into() - extract @fd into @s and write image.json; @base and @extra (taken) describe
 * the image. Logs.
 */
static int import_into(const char *verb, struct staging *s, int fd, const char *label,
		       const char *base, struct json_object *extra)
{
	struct progress prog = { .tty = isatty(STDERR_FILENO) };
	struct unpack_opts o = {
		.progress = unpack_progress,
		.userdata = &prog,
		.cancel = &cancelled,
		.stage = label,
	};
	struct unpack_result res = {};
	struct json_object *info;
	uint64_t size = 0;
	char sz[32];
	uint64_t t0 = now_ms();
	int r;

	{
		const char *why = NULL;

		r = archive_dl_open(&why);
		if (r < 0) {
			log_error("image %s: cannot read archives: %s; install libarchive "
				  "(Debian: libarchive13)",
				  verb, why);
			goto out;
		}
	}
	r = unpack_image(s->dfd, fd, &o, &res);
	progress_done(&prog);
	if (r == -EINTR && cancelled) {
		log_error("image %s: interrupted; nothing was kept", verb);
		goto out;
	}
	if (r < 0 && res.err_entry) {
		log_error("image %s: '%s': refusing entry '%s': %s; nothing was imported", verb,
			  label, res.err_entry, strempty(res.err_why));
		goto out;
	}
	if (r < 0) {
		log_error_errno(r, "image %s: cannot extract '%s': %m", verb, label);
		goto out;
	}
	(void)image_disk_usage(s->dfd, "rootfs", &size);
	info = extra ? extra : json_object_new_object();
	json_object_object_add(info, "version", json_object_new_int(1));
	json_object_object_add(info, "name", json_object_new_string(s->name));
	json_object_object_add(info, "created", json_object_new_int64((int64_t)time(NULL)));
	json_object_object_add(info, "base", json_object_new_string(base));
	json_object_object_add(info, "format",
			       json_object_new_string(unpack_format_to_string(res.format)));
	if (res.ref)
		json_object_object_add(info, "ref", json_object_new_string(res.ref));
	if (res.layers)
		json_object_object_add(info, "layers", json_object_new_int((int)res.layers));
	json_object_object_add(info, "size", json_object_new_int64((int64_t)size));
	json_object_object_add(info, "files", json_object_new_int64((int64_t)res.entries));
	r = sandbox_json_write(s->tmp, "image.json", info);
	json_object_put(info);
	extra = NULL;
	if (r < 0) {
		log_error_errno(r, "image %s: cannot write image.json: %m", verb);
		goto out;
	}
	format_bytes(size, sz, sizeof(sz));
	(void)fprintf(stderr, "image %s: %s, %u layers: %llu entries, %s in %.1f s\n", s->name,
		      unpack_format_to_string(res.format), res.layers,
		      (unsigned long long)res.entries, sz, (double)(now_ms() - t0) / 1000.0);
	if (res.skipped_devices)
		log_notice("image %s: %llu device nodes under /dev were skipped (a sandbox has "
			   "its own /dev)",
			   s->name, (unsigned long long)res.skipped_devices);
	if (res.dropped_setid)
		log_notice("image %s: setuid/setgid bits of %llu files were dropped (they "
			   "cannot work in a sandbox: no_new_privs, nosuid)",
			   s->name, (unsigned long long)res.dropped_setid);
out:
	json_object_put(extra);
	unpack_result_done(&res);
	return r;
}

static int image_import(const char *name, const char *file)
{
	_cleanup_close_ int fd = -EBADF;
	struct staging s;
	_cleanup_free_ char *base = NULL;
	int r;

	r = check_new_name("import", name);
	if (r < 0)
		return r;
	if (streq(file, "-"))
		fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	else
		fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return log_error_errno(errno, "image import: cannot open '%s': %m", file);
	r = staging_begin("import", name, &s);
	if (r < 0) {
		(void)staging_end("import", &s, false);
		return r;
	}
	signals_catch(true);
	base = xasprintf("import:%s", streq(file, "-")     ? "stdin"
				      : strrchr(file, '/') ? strrchr(file, '/') + 1
							   : file);
	r = import_into("import", &s, fd, streq(file, "-") ? "stdin" : file, base, NULL);
	r = staging_end("import", &s, r >= 0) < 0 && r >= 0 ? -EIO : r;
	signals_catch(false);
	if (r >= 0)
		printf("%s\n", name);
	return r;
}

/* --- build ------------------------------------------------------------------------------------ */

static const char *const ubuntu_suites[] = {
	"trusty", "xenial", "bionic",   "focal",  "jammy",    "kinetic", "lunar",
	"mantic", "noble",  "oracular", "plucky", "questing", NULL,
};

struct build_state {
	struct progress prog;
	char line[4096];
	size_t len;
	char **errors; /* the E: lines */
	unsigned downloads, unpacked, configured, total;
	uint64_t download_bytes;
	FILE *log;
};

/* "[1,234 kB]" or "[1.2 MB]" at the end of an apt Get: line */
static uint64_t get_line_bytes(const char *l)
{
	const char *b = strrchr(l, '[');
	char num[32];
	size_t n = 0;
	double v;

	if (!b)
		return 0;
	for (b++; *b && *b != ' ' && n + 1 < sizeof(num); b++)
		if (*b != ',')
			num[n++] = *b;
	num[n] = '\0';
	v = strtod(num, NULL);
	if (strncmp(b, " kB", 3) == 0)
		v *= 1e3;
	else if (strncmp(b, " MB", 3) == 0)
		v *= 1e6;
	else if (strncmp(b, " GB", 3) == 0)
		v *= 1e9;
	return v > 0 ? (uint64_t)v : 0;
}

static void build_line(struct build_state *b, const char *l)
{
	char detail[128], dl[32];
	const char *stage = b->prog.stage[0] ? b->prog.stage : "starting mmdebstrap";
	int pct = -1;

	if (b->log)
		(void)fprintf(b->log, "%s\n", l);
	if (strncmp(l, "I: ", 3) == 0) {
		_cleanup_free_ char *s = xstrdup(l + 3);
		size_t n = strlen(s);

		while (n > 0 && (s[n - 1] == '.' || s[n - 1] == ' '))
			s[--n] = '\0';
		if (strncmp(s, "using ", 6) == 0 || strncmp(s, "removing tempdir", 16) == 0 ||
		    strncmp(s, "chroot architecture", 19) == 0 || strstr(s, "received signal"))
			return;
		stage = s;
		progress_line(&b->prog, s, "", -1, true);
		return;
	}
	if (strncmp(l, "E: ", 3) == 0) {
		if (strv_length(b->errors) < 16)
			strv_extend(&b->errors, l + 3);
	} else if (strncmp(l, "Get:", 4) == 0) {
		b->downloads++;
		b->download_bytes += get_line_bytes(l);
	} else if (strncmp(l, "Unpacking ", 10) == 0)
		b->unpacked++;
	else if (strncmp(l, "Setting up ", 11) == 0)
		b->configured++;
	else if (strstr(l, " upgraded, ") && strstr(l, " newly installed")) {
		unsigned long c = strtoul(strstr(l, " upgraded, ") + 11, NULL, 10);

		if (c > b->total && c < 100000)
			b->total = (unsigned)c;
	} else
		return;
	format_bytes(b->download_bytes, dl, sizeof(dl));
	if (b->total > 0) {
		unsigned done = b->configured < b->total ? b->configured : b->total;

		pct = (int)(done * 100 / b->total);
	}
	(void)snprintf(detail, sizeof(detail), "%u/%u packages set up, %u downloads (%s)",
		       b->configured, b->total, b->downloads, dl);
	progress_line(&b->prog, stage, detail, pct, false);
}

static void build_input(struct build_state *b, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n' || buf[i] == '\r' || b->len + 1 >= sizeof(b->line)) {
			b->line[b->len] = '\0';
			if (b->len > 0)
				build_line(b, b->line);
			b->len = 0;
			if (buf[i] == '\n' || buf[i] == '\r')
				continue;
		}
		b->line[b->len++] = buf[i];
	}
}

/* explain mmdebstrap's failure from its E: lines */
static void build_explain(const struct build_state *b, const char *suite, const char *mirror)
{
	STRV_FOREACH (e, b->errors) {
		const char *p = strstr(*e, "Unable to locate package ");

		if (p) {
			log_error("image build: package '%s' is not in %s; check its name "
				  "(https://packages.debian.org, https://packages.ubuntu.com)",
				  p + strlen("Unable to locate package "), suite);
			return;
		}
		if (strstr(*e, "Failed to fetch") || strstr(*e, "Could not resolve") ||
		    strstr(*e, "Temporary failure resolving") || strstr(*e, "Could not connect") ||
		    strstr(*e, "Unable to connect") || strstr(*e, "Connection failed") ||
		    strstr(*e, "Connection timed out") || strstr(*e, "is not signed") ||
		    strstr(*e, "does not have a Release file") || strstr(*e, "no Release file")) {
			log_error("image build: the mirror %s cannot be reached or has no suite "
				  "'%s' (%s); check the network, the suite's name, or give another "
				  "mirror with --mirror URL",
				  mirror ? mirror : "(the distribution's default)", suite, *e);
			return;
		}
		if (strstr(*e, "subuid") || strstr(*e, "newuidmap") || strstr(*e, "unshare")) {
			log_error("image build: mmdebstrap cannot create its user namespace (%s); "
				  "it needs the uidmap package and a subordinate uid and gid range "
				  "for you in /etc/subuid and /etc/subgid",
				  *e);
			return;
		}
	}
	if (b->errors)
		log_error("image build: mmdebstrap failed: %s",
			  b->errors[strv_length(b->errors) - 1]);
	else
		log_error("image build: mmdebstrap failed");
}

static bool has_subid(const char *file, const char *user, uid_t uid)
{
	_cleanup_fclose_ FILE *f = fopen(file, "re");
	char line[512], uidstr[32];

	if (!f)
		return false;
	(void)snprintf(uidstr, sizeof(uidstr), "%u", (unsigned)uid);
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		*colon = '\0';
		if ((user && streq(line, user)) || streq(line, uidstr))
			return true;
	}
	return false;
}

static char *find_program(const char *name)
{
	_cleanup_free_ char *path = xstrdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	char *save = NULL;

	for (char *d = strtok_r(path, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *p = path_join(d, name);

		if (access(p, X_OK) == 0)
			return TAKE_PTR(p);
	}
	return NULL;
}

static int image_build(const char *name)
{
	_cleanup_free_ char *mmdebstrap = NULL, *suite = NULL, *dist = NULL, *script = NULL,
			    *tar = NULL, *logpath = NULL, *base = NULL;
	_cleanup_strv_free_ char **argv = NULL;
	_cleanup_close_ int tarfd = -EBADF;
	struct build_state b = { .prog.tty = isatty(STDERR_FILENO) };
	const char *mirror = arg_mirror;
	struct staging s = { .dfd = -EBADF, .lock = -EBADF };
	bool ubuntu = false;
	int errpipe[2] = { -1, -1 }, status = 0;
	uint64_t t0 = now_ms();
	pid_t pid;
	int r;

	r = check_new_name("build", name);
	if (r < 0)
		return r;
	if (!arg_from)
		return log_error_errno(EINVAL, "image build: --from DIST is required, e.g. "
					       "--from bookworm or --from ubuntu:noble");
	if (strchr(arg_from, ':')) {
		dist = xstrndup(arg_from, (size_t)(strchr(arg_from, ':') - arg_from));
		suite = xstrdup(strchr(arg_from, ':') + 1);
	} else {
		suite = xstrdup(arg_from);
		dist = xstrdup("debian");
		for (const char *const *u = ubuntu_suites; *u; u++)
			if (streq(*u, suite))
				dist = (free(dist), xstrdup("ubuntu"));
	}
	if (!streq(dist, "debian") && !streq(dist, "ubuntu"))
		return log_error_errno(EINVAL,
				       "image build: unknown distribution '%s'; paddock builds "
				       "Debian and Ubuntu images (debian:SUITE, ubuntu:SUITE); "
				       "import others with 'paddock image import'",
				       dist);
	if (!*suite || strspn(suite, "abcdefghijklmnopqrstuvwxyz0123456789-.") != strlen(suite))
		return log_error_errno(EINVAL, "image build: invalid suite '%s'", suite);
	ubuntu = streq(dist, "ubuntu");
	if (ubuntu && !mirror)
		mirror = "http://archive.ubuntu.com/ubuntu";
	if (arg_packages && strspn(arg_packages, "abcdefghijklmnopqrstuvwxyz0123456789+-.,:=~") !=
				    strlen(arg_packages))
		return log_error_errno(EINVAL,
				       "image build: --packages '%s': package names are lowercase "
				       "letters, digits and + - . (comma-separated)",
				       arg_packages);
	if (arg_script) {
		script = realpath(arg_script, NULL);
		if (!script || access(script, R_OK) < 0)
			return log_error_errno(errno, "image build: --script '%s': %m", arg_script);
	}

	mmdebstrap = find_program("mmdebstrap");
	if (!mmdebstrap)
		return log_error_errno(ENOENT, "image build: mmdebstrap is not installed; install "
					       "it (apt install mmdebstrap), or import an image "
					       "('paddock image import')");
	if (getuid() != 0) {
		struct passwd *pw = getpwuid(getuid());
		_cleanup_free_ char *nu = find_program("newuidmap");

		if (!nu || !has_subid("/etc/subuid", pw ? pw->pw_name : NULL, getuid()) ||
		    !has_subid("/etc/subgid", pw ? pw->pw_name : NULL, getuid()))
			return log_error_errno(
				EPERM,
				"image build: building as a user needs a subordinate uid and gid "
				"range (mmdebstrap --mode=unshare): install uidmap and add "
				"'%s:100000:65536' to /etc/subuid and /etc/subgid (as root: "
				"usermod --add-subuids 100000-165535 --add-subgids 100000-165535 "
				"%s); "
				"or import an image made elsewhere",
				pw ? pw->pw_name : "USER", pw ? pw->pw_name : "USER");
	}
	if (ubuntu && access("/usr/share/keyrings/ubuntu-archive-keyring.gpg", R_OK) < 0)
		return log_error_errno(ENOENT, "image build: Ubuntu's archive key is missing "
					       "(/usr/share/keyrings/ubuntu-archive-keyring.gpg); "
					       "install ubuntu-keyring");

	r = staging_begin("build", name, &s);
	if (r < 0)
		goto out;
	tar = path_join(s.tmp, "build.tar");
	logpath = path_join(s.tmp, "build.log");
	b.log = fopen(logpath, "we");

	strv_extend(&argv, "mmdebstrap");
	strv_extend(&argv, "--verbose");
	strv_extend(&argv, getuid() == 0 ? "--mode=root" : "--mode=unshare");
	strv_push(&argv, xasprintf("--variant=%s", arg_variant ? arg_variant : "minbase"));
	strv_extend(&argv, "--format=tar");
	strv_extend(&argv, "--skip=output/dev");
	strv_extend(&argv, "--aptopt=Acquire::Retries \"1\"");
	strv_extend(&argv, "--aptopt=Acquire::http::Timeout \"30\"");
	if (arg_packages)
		strv_push(&argv, xasprintf("--include=%s", arg_packages));
	if (ubuntu) {
		strv_extend(&argv, "--keyring=/usr/share/keyrings/ubuntu-archive-keyring.gpg");
		strv_extend(&argv, "--components=main,universe");
	}
	/* apt inside a rootless clone cannot switch to _apt (one uid is mapped) */
	strv_extend(&argv, "--customize-hook=if [ -d \"$1/etc/apt/apt.conf.d\" ]; then "
			   "echo 'APT::Sandbox::User \"root\";' > "
			   "\"$1/etc/apt/apt.conf.d/99paddock-rootless\"; fi");
	if (script) {
		strv_push(&argv, xasprintf("--customize-hook=upload %s /tmp/paddock-build-script",
					   script));
		strv_extend(&argv,
			    "--customize-hook=chroot \"$1\" /bin/sh -e /tmp/paddock-build-script");
		strv_extend(&argv, "--customize-hook=rm -f \"$1/tmp/paddock-build-script\"");
	}
	strv_extend(&argv, suite);
	strv_extend(&argv, tar);
	if (mirror)
		strv_extend(&argv, mirror);

	if (pipe2(errpipe, O_CLOEXEC) < 0) {
		r = log_error_errno(errno, "image build: pipe: %m");
		goto out;
	}
	{
		posix_spawn_file_actions_t fa;

		(void)posix_spawn_file_actions_init(&fa);
		(void)posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
		(void)posix_spawn_file_actions_adddup2(&fa, errpipe[1], STDOUT_FILENO);
		(void)posix_spawn_file_actions_adddup2(&fa, errpipe[1], STDERR_FILENO);
		r = -posix_spawn(&pid, mmdebstrap, &fa, NULL, argv, environ);
		(void)posix_spawn_file_actions_destroy(&fa);
	}
	errpipe[1] = safe_close(errpipe[1]);
	if (r < 0) {
		log_error_errno(r, "image build: cannot run '%s': %m", mmdebstrap);
		goto out;
	}
	signals_catch(true);
	progress_line(&b.prog, "starting mmdebstrap", "", -1, true);
	for (;;) {
		char buf[4096];
		ssize_t k = read(errpipe[0], buf, sizeof(buf));

		if (k < 0 && errno == EINTR) {
			if (cancelled)
				(void)kill(pid, SIGTERM);
			continue;
		}
		if (k <= 0)
			break;
		build_input(&b, buf, (size_t)k);
	}
	if (b.len > 0) {
		b.line[b.len] = '\0';
		build_line(&b, b.line);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	progress_done(&b.prog);
	if (b.log)
		(void)fflush(b.log);
	if (cancelled) {
		r = log_error_errno(EINTR, "image build: interrupted; nothing was kept");
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		_cleanup_free_ char *keep = path_join(s.store, ".last-build.log");

		build_explain(&b, suite, mirror);
		if (rename(logpath, keep) == 0)
			log_error("image build: mmdebstrap's full output: %s", keep);
		r = -EIO;
		goto out;
	}
	(void)fprintf(stderr, "image %s: mmdebstrap built %s:%s in %.1f s (%u packages)\n", name,
		      dist, suite, (double)(now_ms() - t0) / 1000.0, b.configured);

	tarfd = open(tar, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (tarfd < 0) {
		r = log_error_errno(errno, "image build: mmdebstrap left no '%s': %m", tar);
		goto out;
	}
	(void)unlink(tar); /* freed when closed */
	{
		struct json_object *extra = json_object_new_object(), *pk = json_object_new_array();
		_cleanup_free_ char *plist = xstrdup(strempty(arg_packages));
		char *save = NULL;

		for (char *p = strtok_r(plist, ",", &save); p; p = strtok_r(NULL, ",", &save))
			json_object_array_add(pk, json_object_new_string(p));
		json_object_object_add(extra, "packages", pk);
		json_object_object_add(
			extra, "variant",
			json_object_new_string(arg_variant ? arg_variant : "minbase"));
		if (mirror)
			json_object_object_add(extra, "mirror", json_object_new_string(mirror));
		if (script)
			json_object_object_add(extra, "script", json_object_new_string(script));
		base = xasprintf("%s:%s", dist, suite);
		r = import_into("build", &s, tarfd, "mmdebstrap output", base, extra);
	}
	if (r < 0)
		goto out;
	tarfd = safe_close(tarfd);
	if (b.log) {
		(void)fclose(b.log);
		b.log = NULL;
	}
	r = staging_end("build", &s, true);
	if (r >= 0)
		printf("%s\n", name);
out:
	if (b.log)
		(void)fclose(b.log);
	safe_close(errpipe[0]);
	safe_close(errpipe[1]);
	if (s.tmp)
		(void)staging_end("build", &s, false);
	signals_catch(false);
	strv_free(b.errors);
	return r;
}

/* --- ls, rm -------------------------------------------------------------------------------- */

static int64_t json_i64(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static const char *json_s(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : "";
}

static int image_ls(void)
{
	_cleanup_strv_free_ char **names = NULL;
	struct json_object *arr = json_object_new_array();
	int r;

	r = image_list(&names);
	if (r < 0) {
		json_object_put(arr);
		return log_error_errno(r, "image ls: cannot list the images: %m");
	}
	if (arg_quiet) {
		STRV_FOREACH (n, names)
			printf("%s\n", *n);
		json_object_put(arr);
		return 0;
	}
	if (!arg_json && names[0])
		printf("%-24s %10s  %-19s  %s\n", "NAME", "SIZE", "CREATED", "BASE");
	STRV_FOREACH (n, names) {
		struct json_object *info = NULL, *o;
		_cleanup_strv_free_ char **users = NULL;
		char sz[32], when[32] = "?";
		time_t t;
		struct tm tm;

		if (image_info(*n, &info) < 0)
			info = json_object_new_object();
		t = (time_t)json_i64(info, "created");
		if (localtime_r(&t, &tm))
			(void)strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		if (arg_json) {
			o = json_object_new_object();
			json_object_object_add(o, "name", json_object_new_string(*n));
			json_object_object_add(o, "size",
					       json_object_new_int64(json_i64(info, "size")));
			json_object_object_add(o, "created",
					       json_object_new_int64(json_i64(info, "created")));
			json_object_object_add(o, "base",
					       json_object_new_string(json_s(info, "base")));
			json_object_object_add(o, "format",
					       json_object_new_string(json_s(info, "format")));
			if (image_users(*n, &users) >= 0) {
				struct json_object *u = json_object_new_array();

				STRV_FOREACH (x, users)
					json_object_array_add(u, json_object_new_string(*x));
				json_object_object_add(o, "sandboxes", u);
			}
			json_object_array_add(arr, o);
		} else {
			format_bytes((uint64_t)json_i64(info, "size"), sz, sizeof(sz));
			printf("%-24s %10s  %-19s  %s\n", *n, sz, when, json_s(info, "base"));
		}
		json_object_put(info);
	}
	if (arg_json)
		printf("%s\n",
		       json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
	return 0;
}

static int image_rm(const char *name)
{
	_cleanup_strv_free_ char **users = NULL;
	_cleanup_free_ char *dir = NULL, *store = NULL, *tmp = NULL;
	_cleanup_close_ int lock = -EBADF, pfd = -EBADF;
	const char *why = NULL;
	int r;

	if (image_name_check(name, &why) < 0)
		return log_error_errno(EINVAL, "image rm: '%s' is not an image name: %s", name,
				       why);
	r = image_users(name, &users);
	if (r < 0)
		return log_error_errno(r, "image rm: cannot list the sandboxes: %m");
	if (users[0]) {
		_cleanup_free_ char *list = NULL;

		STRV_FOREACH (u, users) {
			char *n = xasprintf("%s%s%s", strempty(list), list ? ", " : "", *u);

			free(list);
			list = n;
		}
		return log_error_errno(EBUSY,
				       "image rm: image '%s' is used by the sandboxes %s; remove "
				       "them first ('paddock rm NAME')",
				       name, list);
	}
	lock = image_lock_exclusive(name);
	if (lock == -ENOENT)
		return log_error_errno(ENOENT, "image rm: no image named '%s' ('paddock image ls')",
				       name);
	if (lock == -EBUSY)
		return log_error_errno(EBUSY,
				       "image rm: image '%s' is in use by a running sandbox; stop "
				       "it first",
				       name);
	if (lock < 0)
		return log_error_errno(lock, "image rm: cannot lock image '%s': %m", name);
	r = image_dir(name, &dir);
	if (r >= 0)
		r = image_store_dir(false, &store);
	if (r < 0)
		return log_error_errno(r, "image rm: %m");
	/* gone at once (one rename), then deleted; a crash midway is swept later */
	tmp = xasprintf("%s/.tmp-rm-%s-%ld", store, name, (long)getpid());
	if (rename(dir, tmp) < 0)
		return log_error_errno(errno, "image rm: cannot remove '%s': %m", dir);
	pfd = open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd >= 0) {
		lock = safe_close(lock);
		r = rm_rf_at(pfd, strrchr(tmp, '/') + 1);
		if (r < 0)
			log_warning_errno(r, "image rm: could not delete all of '%s': %m", tmp);
	}
	printf("%s\n", name);
	return 0;
}

/* parse_opts() - options anywhere: `image build NAME --from DIST`, `image --json ls` */
static int parse_opts(struct cmd_parser *p)
{
	int c;

	while ((c = cmd_parse_next(p)) > 0)
		switch (c) {
		case ARG_FROM:
			arg_from = optarg;
			break;
		case ARG_PACKAGES:
			arg_packages = optarg;
			break;
		case ARG_SCRIPT:
			arg_script = optarg;
			break;
		case ARG_MIRROR:
			arg_mirror = optarg;
			break;
		case ARG_VARIANT:
			arg_variant = optarg;
			break;
		case ARG_JSON:
			arg_json = true;
			break;
		case 'q':
			arg_quiet = true;
			break;
		case 'h':
			return 0;
		default:
			return -EINVAL;
		}
	return c < 0 ? c : 1;
}

static int cmd_image_exec(int argc, char **argv)
{
	_cleanup_(cmd_parser_done) struct cmd_parser p =
		CMD_PARSER_INIT(cmd_find("image"), argc, argv);
	const char *verb;
	bool build_opts;
	int r, nargs;

	r = parse_opts(&p);
	if (r <= 0)
		return r;
	verb = p.args[0];
	nargs = p.n_args - 1;
	argv = p.args + 1;
	build_opts = arg_from || arg_packages || arg_script || arg_mirror || arg_variant;
	if (streq(verb, "build")) {
		if (nargs != 1 || arg_json) {
			log_error("image build: usage: paddock image build NAME --from DIST "
				  "[--packages P,...] [--script FILE]");
			return -EINVAL;
		}
		return image_build(argv[0]);
	}
	if (build_opts) {
		log_error("image %s: --from, --packages, --script, --mirror and --variant are "
			  "options of 'image build'",
			  verb);
		return -EINVAL;
	}
	if (streq(verb, "import")) {
		if (nargs != 2 || arg_json) {
			log_error("image import: usage: paddock image import NAME FILE (a rootfs "
				  "tarball or an OCI/docker archive; '-' for stdin)");
			return -EINVAL;
		}
		return image_import(argv[0], argv[1]);
	}
	if (streq(verb, "ls") || streq(verb, "list")) {
		if (nargs != 0) {
			log_error("image ls: usage: paddock image ls [--json]");
			return -EINVAL;
		}
		return image_ls();
	}
	if (streq(verb, "rm") || streq(verb, "remove")) {
		if (nargs < 1 || arg_json) {
			log_error("image rm: usage: paddock image rm NAME...");
			return -EINVAL;
		}
		r = 0;
		for (int i = 0; i < nargs; i++) {
			int q = image_rm(argv[i]);

			if (q < 0 && r == 0)
				r = q;
		}
		return r;
	}
	log_error("image: unknown action '%s'; expected build, import, ls or rm", verb);
	return -EINVAL;
}

const struct paddock_cmd paddock_cmd_image = {
	.name = "image",
	.usage = "build NAME --from DIST [--packages P,...] [--script FILE] | import NAME FILE | "
		 "ls [--json] | rm NAME...",
	.summary = "Build, import, list and remove golden images",
	.opts = image_opts,
	.min_args = 1,
	.max_args = -1,
	.complete_args = "build import ls rm",
	.exec = cmd_image_exec,
};
