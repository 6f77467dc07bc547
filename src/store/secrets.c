/* SPDX-License-Identifier: MIT */
/*
 * secrets.c - the local secret store and the value sources of a configured secret
 *
 * DOC: Theory of Operation
 * The store is a directory, $DATA/secrets, mode 0700, holding one file per secret named after
 * it, mode 0600 (SPEC.md section 6). It is only ever read by paddock on the host side; no
 * sandbox mounts the data directory. A write goes to a temporary ".NAME.tmp.PID" created with
 * O_EXCL|O_NOFOLLOW, is fsynced and renamed over NAME, then the directory is fsynced: a crash
 * leaves the old value or the new one, never a mix. Every access goes through an fd of the
 * directory opened with O_NOFOLLOW whose owner and mode are checked, and names are restricted
 * to [A-Za-z][A-Za-z0-9_]{0,63}, so a name can never be a path.
 *
 * A configured secret (config.h) resolves to a value from one of four sources: paddock's own
 * environment (env:VAR), a file (file:PATH; a regular file, owned by us or root, with no group
 * or other permission bits, as ssh demands of private keys), a command (command:CMD, /bin/sh
 * -c in its own process group, stdin /dev/null, stderr passed through, stdout captured up to
 * SECRET_VALUE_MAX bytes, the whole group killed at the timeout) or the store. Values are
 * header material for the proxy, so they are 1 to 64 KiB without control bytes but tab.
 *
 * Buffers that held a value are zeroed before they are freed (explicit_bzero), also on error
 * paths; values are never copied into messages. The module never logs.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/quote.h"
#include "common/fd.h"
#include "common/macro.h"
#include "common/path.h"
#include "common/strv.h"
#include "common/xmalloc.h"
#include "paths.h"
#include "secrets.h"

int secret_store_dir(char **ret)
{
	_cleanup_free_ char *data = NULL;
	int r = paths_data_dir(&data);

	if (r < 0)
		return r;
	*ret = path_join(data, "secrets");
	return 0;
}

int secret_value_check(const void *v, size_t len, const char **reterr_why)
{
	const unsigned char *p = v;
	const char *why = NULL;
	int r = 0;

	if (len == 0) {
		why = "the value is empty";
		r = -EINVAL;
	} else if (len > SECRET_VALUE_MAX) {
		why = "the value is longer than 64 KiB";
		r = -EFBIG;
	} else
		for (size_t i = 0; i < len; i++)
			if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f) {
				why = p[i] == '\n' || p[i] == '\r'
					      ? "the value contains a line break"
					      : "the value contains a control character";
				r = -EINVAL;
				break;
			}
	if (r < 0 && reterr_why)
		*reterr_why = why;
	return r;
}

void secret_value_free(char *v, size_t len)
{
	if (!v)
		return;
	explicit_bzero(v, len + 1);
	free(v);
}

/* A copy of @len bytes of @v in a buffer of exactly @len + 1, NUL-terminated. */
static char *value_dup(const char *v, size_t len)
{
	char *r = xmalloc(len + 1);

	memcpy(r, v, len);
	r[len] = '\0';
	return r;
}

/* ---- the store --------------------------------------------------------------------------- */

/* mkdir -p with 0700 for each missing component of the absolute path @p */
static int mkdir_parents(const char *p)
{
	_cleanup_free_ char *copy = xstrdup(p);

	for (char *s = copy + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(copy, 0700) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return 0;
}

/*
 * Open the store directory: a directory (not a symlink) owned by us, mode 0700. With @create,
 * make it and its parents first. -ENOENT when it is missing and !@create.
 */
static int store_open(const char *dir, bool create, int *ret_fd)
{
	_cleanup_free_ char *def = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	int r;

	if (!dir) {
		r = secret_store_dir(&def);
		if (r < 0)
			return r;
		dir = def;
	}
	if (create) {
		if (dir[0] != '/')
			return -EINVAL;
		r = mkdir_parents(dir);
		if (r < 0)
			return r;
		r = paths_ensure_private_dir(dir, geteuid());
		if (r < 0)
			return r;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOTDIR && lstat(dir, &st) == 0 && S_ISLNK(st.st_mode) ? -ELOOP
										       : -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_uid != geteuid() || (st.st_mode & 077))
		return -EPERM;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int secret_store_set(const char *dir, const char *name, const void *value, size_t len)
{
	_cleanup_close_ int dfd = -EBADF, fd = -EBADF;
	_cleanup_free_ char *tmp = NULL;
	int r;

	if (!config_secret_name_is_valid(name))
		return -EINVAL;
	r = secret_value_check(value, len, NULL);
	if (r < 0)
		return r;
	r = store_open(dir, true, &dfd);
	if (r < 0)
		return r;
	tmp = xasprintf(".%s.tmp.%d", name, (int)getpid());
	(void)unlinkat(dfd, tmp, 0); /* left by a crashed writer with our pid */
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	r = RET_NERRNO(fchmod(fd, 0600)); /* whatever the umask */
	if (r >= 0)
		r = loop_write(fd, value, len);
	if (r >= 0)
		r = RET_NERRNO(fsync(fd));
	if (r >= 0)
		r = RET_NERRNO(renameat(dfd, tmp, dfd, name));
	if (r < 0) {
		(void)unlinkat(dfd, tmp, 0);
		return r;
	}
	return RET_NERRNO(fsync(dfd));
}

/*
 * Read a small file from an open fd into a value buffer: at most SECRET_VALUE_MAX bytes (after
 * an optional trailing newline), zeroed on every failure.
 */
static int read_value_fd(int fd, char **ret, size_t *ret_len)
{
	const size_t cap = SECRET_VALUE_MAX + 3;
	char *buf = xmalloc(cap);
	size_t n = 0;
	int r = 0;

	for (;;) {
		ssize_t k = read(fd, buf + n, cap - n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			break;
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (n == cap) {
			r = -EFBIG;
			break;
		}
	}
	if (r >= 0) {
		*ret = value_dup(buf, n);
		*ret_len = n;
	}
	explicit_bzero(buf, cap);
	free(buf);
	return r;
}

/* Strip one trailing "\n" or "\r\n". */
static void strip_newline(char *v, size_t *len)
{
	if (*len > 0 && v[*len - 1] == '\n') {
		v[--*len] = '\0';
		if (*len > 0 && v[*len - 1] == '\r')
			v[--*len] = '\0';
	}
}

int secret_store_get(const char *dir, const char *name, char **ret_value, size_t *ret_len)
{
	_cleanup_close_ int dfd = -EBADF, fd = -EBADF;
	char *v = NULL;
	size_t n = 0;
	struct stat st;
	int r;

	if (!config_secret_name_is_valid(name))
		return -EINVAL;
	r = store_open(dir, false, &dfd);
	if (r < 0)
		return r;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_uid != geteuid() || (st.st_mode & 077))
		return -EPERM;
	r = read_value_fd(fd, &v, &n);
	if (r < 0)
		return r;
	r = secret_value_check(v, n, NULL);
	if (r < 0) {
		secret_value_free(v, n);
		return r;
	}
	*ret_value = v;
	*ret_len = n;
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct secret_entry *)a)->name,
		      ((const struct secret_entry *)b)->name);
}

void secret_entries_free(struct secret_entry *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i].name);
	free(l);
}

int secret_store_list(const char *dir, struct secret_entry **ret, size_t *ret_n)
{
	_cleanup_close_ int dfd = -EBADF;
	_cleanup_closedir_ DIR *d = NULL;
	struct secret_entry *l = NULL;
	size_t n = 0;
	struct dirent *de;
	int r;

	r = store_open(dir, false, &dfd);
	if (r == -ENOENT) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	if (r < 0)
		return r;
	d = fdopendir(dfd);
	if (!d)
		return -errno;
	dfd = -EBADF; /* owned by d now */
	while ((errno = 0, de = readdir(d))) {
		struct stat st;

		if (!config_secret_name_is_valid(de->d_name))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		l = xreallocarray(l, n + 1, sizeof(*l));
		l[n++] = (struct secret_entry){ .name = xstrdup(de->d_name), .mtime = st.st_mtim };
	}
	if (errno) {
		r = -errno;
		secret_entries_free(l, n);
		return r;
	}
	if (n > 1)
		qsort(l, n, sizeof(*l), entry_cmp);
	*ret = l;
	*ret_n = n;
	return 0;
}

int secret_store_remove(const char *dir, const char *name)
{
	_cleanup_close_ int dfd = -EBADF;
	int r;

	if (!config_secret_name_is_valid(name))
		return -EINVAL;
	r = store_open(dir, false, &dfd);
	if (r < 0)
		return r;
	if (unlinkat(dfd, name, 0) < 0)
		return -errno;
	return RET_NERRNO(fsync(dfd));
}

/* ---- sources ----------------------------------------------------------------------------- */

/* A user-controlled string for a message: quoted, printable, cut at 80 bytes. */
static char *quote(const char *s)
{
	return str_quote(s, strlen(s));
}

static int set_error(char **reterr, int r, const char *fmt, ...) _printf_(3, 4);
static int set_error(char **reterr, int r, const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;

	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (reterr) {
		free(*reterr);
		*reterr = m;
	} else
		free(m);
	return r;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int resolve_env(const struct config_secret *s, char **ret, size_t *ret_len, char **reterr)
{
	const char *v = getenv(s->arg);

	if (!v)
		return set_error(reterr, -ENOENT,
				 "secret '%s': environment variable %s is not set (from "
				 "\"env:%s\")",
				 s->name, s->arg, s->arg);
	*ret_len = strlen(v);
	*ret = value_dup(v, *ret_len);
	return 0;
}

static int resolve_file(const struct config_secret *s, char **ret, size_t *ret_len, char **reterr)
{
	_cleanup_free_ char *q = quote(s->arg);
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	int r;

	/* the user's own path: symlinks are followed (dotfiles); O_NONBLOCK so a FIFO cannot
	 * hang us, it is refused below */
	fd = open(s->arg, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return set_error(reterr, -errno, "secret '%s': cannot open %s: %m", s->name, q);
	if (fstat(fd, &st) < 0)
		return set_error(reterr, -errno, "secret '%s': cannot stat %s: %m", s->name, q);
	if (!S_ISREG(st.st_mode))
		return set_error(reterr, -EINVAL, "secret '%s': %s is not a regular file", s->name,
				 q);
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return set_error(reterr, -EPERM,
				 "secret '%s': %s belongs to another user (uid %u); a secret "
				 "file must be yours or root's",
				 s->name, q, (unsigned)st.st_uid);
	if (st.st_mode & 077)
		return set_error(reterr, -EPERM,
				 "secret '%s': %s is accessible by group or others (mode %04o); "
				 "run 'chmod 600' on it",
				 s->name, q, (unsigned)(st.st_mode & 07777));
	r = read_value_fd(fd, ret, ret_len);
	if (r == -EFBIG)
		return set_error(reterr, r, "secret '%s': %s is larger than 64 KiB", s->name, q);
	if (r < 0)
		return set_error(reterr, r, "secret '%s': cannot read %s: %s", s->name, q,
				 strerror(-r));
	strip_newline(*ret, ret_len);
	return 0;
}

/* Wait up to @deadline for @pid; kill its process group when the time is up. */
static int wait_child(pid_t pid, int64_t deadline, int *ret_status)
{
	for (;;) {
		pid_t w = waitpid(pid, ret_status, WNOHANG);

		if (w == pid)
			return 0;
		if (w < 0 && errno != EINTR)
			return -errno;
		if (now_ms() >= deadline) {
			(void)kill(-pid, SIGKILL);
			while (waitpid(pid, ret_status, 0) < 0 && errno == EINTR)
				;
			return -ETIMEDOUT;
		}
		(void)usleep(5000);
	}
}

static int resolve_command(const struct config_secret *s, char **ret, size_t *ret_len,
			   char **reterr)
{
	_cleanup_free_ char *q = quote(s->arg);
	const size_t cap = SECRET_VALUE_MAX + 3;
	char *argv[] = { (char *)"sh", (char *)"-c", s->arg, NULL };
	int64_t deadline = now_ms() + (s->timeout_ms ? s->timeout_ms : 10000);
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	int p[2], status = 0, r;
	char *buf = NULL;
	size_t n = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return set_error(reterr, -errno, "secret '%s': pipe: %m", s->name);
	(void)posix_spawn_file_actions_init(&fa);
	(void)posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	(void)posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
	(void)posix_spawnattr_init(&attr);
	(void)sigemptyset(&none);
	(void)sigfillset(&dfl);
	(void)posix_spawnattr_setsigmask(&attr, &none);
	(void)posix_spawnattr_setsigdefault(&attr, &dfl);
	(void)posix_spawnattr_setpgroup(&attr, 0);
	(void)posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
						      POSIX_SPAWN_SETSIGDEF);
	r = -posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, environ);
	(void)posix_spawn_file_actions_destroy(&fa);
	(void)posix_spawnattr_destroy(&attr);
	(void)close(p[1]);
	if (r < 0) {
		(void)close(p[0]);
		return set_error(reterr, r, "secret '%s': cannot run /bin/sh: %s", s->name,
				 strerror(-r));
	}

	buf = xmalloc(cap);
	for (;;) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		int64_t left = deadline - now_ms();
		ssize_t k;

		if (left <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		k = poll(&pfd, 1, (int)MIN(left, (int64_t)1000));
		if (k < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		if (k <= 0)
			continue;
		k = read(p[0], buf + n, cap - n);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k < 0) {
			r = -errno;
			break;
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (n == cap) {
			r = -EFBIG;
			break;
		}
	}
	(void)close(p[0]);
	if (r < 0) {
		(void)kill(-pid, SIGKILL);
		(void)wait_child(pid, 0, &status);
	} else
		r = wait_child(pid, deadline, &status);
	if (r >= 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		r = -EIO;
		if (WIFEXITED(status))
			(void)set_error(reterr, r, "secret '%s': command %s exited with status %d",
					s->name, q, WEXITSTATUS(status));
		else
			(void)set_error(reterr, r,
					"secret '%s': command %s was killed by signal %d", s->name,
					q, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	} else if (r == -ETIMEDOUT)
		(void)set_error(reterr, r,
				"secret '%s': command %s did not finish within %u s and was "
				"killed (raise \"timeout\" in the secret's config)",
				s->name, q, (s->timeout_ms ? s->timeout_ms : 10000) / 1000);
	else if (r == -EFBIG)
		(void)set_error(reterr, r, "secret '%s': command %s printed more than 64 KiB",
				s->name, q);
	else if (r < 0)
		(void)set_error(reterr, r, "secret '%s': reading the output of %s: %s", s->name, q,
				strerror(-r));
	if (r >= 0) {
		*ret = value_dup(buf, n);
		*ret_len = n;
		strip_newline(*ret, ret_len);
	}
	explicit_bzero(buf, cap);
	free(buf);
	return r;
}

static int resolve_store(const struct config_secret *s, const char *store_dir, char **ret,
			 size_t *ret_len, char **reterr)
{
	int r = secret_store_get(store_dir, s->name, ret, ret_len);

	switch (r) {
	case 0:
		return 0;
	case -ENOENT:
		return set_error(reterr, r,
				 "secret '%s' is not in the store; set it with 'paddock secret "
				 "set %s'",
				 s->name, s->name);
	case -EPERM:
		return set_error(reterr, r,
				 "secret '%s': the store entry or its directory is not yours or "
				 "is accessible by others (it must be mode 0600 in a 0700 "
				 "directory)",
				 s->name);
	case -ELOOP:
		return set_error(reterr, r, "secret '%s': the store directory is a symlink",
				 s->name);
	case -EINVAL:
	case -EFBIG:
		return set_error(reterr, r,
				 "secret '%s': the stored value is unusable (not a regular file, "
				 "empty, over 64 KiB or with control characters); set it again",
				 s->name);
	default:
		return set_error(reterr, r, "secret '%s': cannot read the store: %s", s->name,
				 strerror(-r));
	}
}

int secret_resolve_in(const struct config_secret *s, const char *store_dir, char **ret_value,
		      size_t *ret_len, char **reterr)
{
	const char *why = NULL;
	char *v = NULL;
	size_t n = 0;
	int r;

	switch (s->from) {
	case SECRET_FROM_ENV:
		r = resolve_env(s, &v, &n, reterr);
		break;
	case SECRET_FROM_FILE:
		r = resolve_file(s, &v, &n, reterr);
		break;
	case SECRET_FROM_COMMAND:
		r = resolve_command(s, &v, &n, reterr);
		break;
	case SECRET_FROM_STORE:
		r = resolve_store(s, store_dir, &v, &n, reterr);
		break;
	case _SECRET_FROM_MAX:
	case _SECRET_FROM_INVALID:
	default:
		return set_error(reterr, -EINVAL, "secret '%s' has no source", s->name);
	}
	if (r < 0)
		return r;
	r = secret_value_check(v, n, &why);
	if (r < 0) {
		secret_value_free(v, n);
		return set_error(reterr, r, "secret '%s' (from %s): %s", s->name,
				 secret_from_to_string(s->from), why);
	}
	*ret_value = v;
	*ret_len = n;
	return 0;
}

int secret_resolve(const struct config_secret *s, char **ret_value, size_t *ret_len, char **reterr)
{
	return secret_resolve_in(s, NULL, ret_value, ret_len, reterr);
}

int secret_check_selected(const struct paddock_config *c, const char *name, const char *store_dir,
			  char **reterr)
{
	_cleanup_close_ int dfd = -EBADF;
	_cleanup_free_ char *q = quote(name);
	struct stat st;

	if (!config_secret_name_is_valid(name))
		return set_error(reterr, -EINVAL,
				 "--secret: invalid secret name %s (a letter, then letters, "
				 "digits or '_', at most 64 bytes)",
				 q);
	if (config_secret_find(c, name))
		return 0;
	if (strv_contains(c->secrets_removed, name))
		return set_error(reterr, -ENOENT,
				 "--secret: the project config %s removed secret '%s'",
				 c->project_file ? c->project_file : ".paddock.json", name);
	if (store_open(store_dir, false, &dfd) >= 0 &&
	    fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return set_error(reterr, -ENOENT,
				 "--secret: secret '%s' is in the store but not declared in the "
				 "configuration; a secret is only injected in requests to its "
				 "hosts, so declare them: \"secrets\": {\"%s\": {\"from\": "
				 "\"store\", \"hosts\": [\"api.example.com\"]}} in "
				 "~/.config/paddock/config.json",
				 name, name);
	return set_error(reterr, -ENOENT,
			 "--secret: no secret '%s' in the configuration; declare it with its "
			 "source and hosts under \"secrets\" in ~/.config/paddock/config.json "
			 "(paddock.conf(5))",
			 name);
}
