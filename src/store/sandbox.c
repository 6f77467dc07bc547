/* SPDX-License-Identifier: MIT */
/*
 * sandbox.c - the state of persistent (named) sandboxes
 *
 * DOC: Theory of Operation
 * Every state file is replaced atomically and durably (write a temporary file, fsync, rename),
 * so a crash at any point leaves the old or the new file. What `ls` shows is derived, never
 * trusted blindly: state.json says what the supervisor last wrote, the lock says whether a
 * supervisor is alive. "running" in state.json with a free lock is a crash (the supervisor was
 * killed, or the machine rebooted), shown as such, and `start` or `rm` work on it as on a
 * stopped sandbox.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fd.h"
#include "common/path.h"
#include "common/strv.h"
#include "common/xmalloc.h"
#include "paths.h"
#include "sandbox.h"

static const char *const state_names[_SANDBOX_STATE_MAX] = {
	[SANDBOX_CREATED] = "created",     [SANDBOX_RUNNING] = "running",
	[SANDBOX_SUSPENDED] = "suspended", [SANDBOX_EXITED] = "exited",
	[SANDBOX_STOPPED] = "stopped",     [SANDBOX_CRASHED] = "crashed",
};

const char *sandbox_state_to_string(enum sandbox_state s)
{
	return s < _SANDBOX_STATE_MAX ? state_names[s] : "unknown";
}

int sandbox_name_check(const char *name, const char **ret_why)
{
	size_t n = strlen(name);

	if (n == 0 || n > SANDBOX_NAME_MAX) {
		*ret_why = "a name has 1 to 63 characters";
		return -EINVAL;
	}
	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
	      (name[0] >= '0' && name[0] <= '9'))) {
		*ret_why = "a name starts with a letter or a digit";
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-')) {
			*ret_why = "a name has only letters, digits, '_', '.' and '-'";
			return -EINVAL;
		}
	}
	if (strncmp(name, "run-", 4) == 0 && strspn(name + 4, "0123456789") == n - 4) {
		*ret_why = "names run-N are paddock's own (ephemeral runs)";
		return -EINVAL;
	}
	if (streq(name, "placeholders.lock")) {
		*ret_why = "this name is paddock's own";
		return -EINVAL;
	}
	return 0;
}

int sandbox_dir(const char *name, char **ret)
{
	_cleanup_free_ char *data = NULL;
	int r = paths_data_dir(&data);

	if (r < 0)
		return r;
	*ret = xasprintf("%s/sandboxes/%s", data, name);
	return 0;
}

int sandbox_runtime(const char *name, char **ret)
{
	_cleanup_free_ char *rt = NULL;
	int r = paths_runtime_dir(&rt);

	if (r < 0)
		return r;
	*ret = path_join(rt, name);
	return 0;
}

int sandbox_ctl_path(const char *name, char **ret)
{
	_cleanup_free_ char *rt = NULL;
	int r = sandbox_runtime(name, &rt);

	if (r < 0)
		return r;
	*ret = path_join(rt, "ctl.sock");
	if (strlen(*ret) >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
		free(*ret);
		*ret = NULL;
		return -ENAMETOOLONG;
	}
	return 0;
}

int sandbox_lock(const char *dir, int wait_ms)
{
	_cleanup_free_ char *p = path_join(dir, "lock");
	_cleanup_close_ int fd = -EBADF;

	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	for (int waited = 0;;) {
		/* fine-grained at first: a supervisor that is exiting lets go within ms */
		int step = waited < 200 ? 1 : 20;

		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return TAKE_FD(fd);
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (waited >= wait_ms)
			return -EBUSY;
		(void)usleep((useconds_t)step * 1000);
		waited += step;
	}
}

int sandbox_is_locked(const char *dir)
{
	_cleanup_free_ char *p = path_join(dir, "lock");
	_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
		return 0;
	return errno == EWOULDBLOCK ? 1 : -errno;
}

int sandbox_json_write(const char *dir, const char *file, struct json_object *o)
{
	_cleanup_free_ char *p = path_join(dir, file);
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								  JSON_C_TO_STRING_NOSLASHESCAPE);
	_cleanup_free_ char *text = xasprintf("%s\n", s);

	return write_file_atomic(p, text, strlen(text), 0600, true);
}

int sandbox_json_read(const char *dir, const char *file, struct json_object **ret)
{
	_cleanup_free_ char *p = path_join(dir, file), *text = NULL;
	struct json_tokener *tok;
	struct json_object *o;
	size_t len = 0;
	int r;

	r = read_file_at(AT_FDCWD, p, 1 << 20, &text, &len);
	if (r < 0)
		return r;
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, text, (int)len);
	r = json_tokener_get_error(tok) == json_tokener_success ? 0 : -EBADMSG;
	json_tokener_free(tok);
	if (r < 0 || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -EBADMSG;
	}
	*ret = o;
	return 0;
}

int sandbox_state_set(const char *dir, const char *state, struct json_object *fields)
{
	struct json_object *o = fields ? fields : json_object_new_object();
	int r;

	json_object_object_add(o, "state", json_object_new_string(state));
	json_object_object_add(o, "time", json_object_new_int64((int64_t)time(NULL)));
	r = sandbox_json_write(dir, "state.json", o);
	json_object_put(o);
	return r;
}

enum sandbox_state sandbox_state_get(const char *dir, struct json_object **ret_state_json)
{
	struct json_object *st = NULL, *v;
	const char *s = NULL;
	int locked = sandbox_is_locked(dir);

	if (sandbox_json_read(dir, "state.json", &st) >= 0 &&
	    json_object_object_get_ex(st, "state", &v))
		s = json_object_get_string(v);
	if (ret_state_json)
		*ret_state_json = st;
	else
		json_object_put(st);
	if (locked > 0) {
		/* a supervisor finishing: its command has ended, it is saying goodbye */
		if (s && streq(s, "exited"))
			return SANDBOX_EXITED;
		if (s && streq(s, "stopped"))
			return SANDBOX_STOPPED;
		return s && streq(s, "suspended") ? SANDBOX_SUSPENDED : SANDBOX_RUNNING;
	}
	if (!s)
		return SANDBOX_CREATED;
	if (streq(s, "exited"))
		return SANDBOX_EXITED;
	if (streq(s, "stopped"))
		return SANDBOX_STOPPED;
	if (streq(s, "created"))
		return SANDBOX_CREATED;
	return SANDBOX_CRASHED; /* running or suspended, with no supervisor */
}

int rm_rf_at(int parent, const char *name) /* NOLINT(misc-no-recursion): bounded by the tree */
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st, top;
	DIR *d;
	int r = 0, q;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(parent, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if ((st.st_mode & 0700) != 0700)
		(void)fchmodat(parent, name, st.st_mode | 0700, 0);
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &top) < 0)
		return -errno;
	if (top.st_dev != st.st_dev || top.st_ino != st.st_ino)
		return -ESTALE; /* replaced between the stat and the open */
	d = fdopendir(fd);
	if (!d)
		return -errno;
	fd = -EBADF; /* owned by d now */
	for (struct dirent *de; (de = readdir(d));) {
		struct stat cst;

		if (dot_or_dot_dot(de->d_name))
			continue;
		if (fstatat(dirfd(d), de->d_name, &cst, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(cst.st_mode) && cst.st_dev != top.st_dev) {
			/* a mount point (never ours to cross): leave it, report it */
			if (r == 0)
				r = -EXDEV;
			continue;
		}
		q = rm_rf_at(dirfd(d), de->d_name);
		if (q < 0 && r == 0)
			r = q;
	}
	(void)closedir(d);
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
		r = -errno;
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int sandbox_list(char ***ret)
{
	_cleanup_free_ char *data = NULL, *dir = NULL;
	char **names = NULL;
	const char *why;
	DIR *d;
	int r;

	r = paths_data_dir(&data);
	if (r < 0)
		return r;
	dir = path_join(data, "sandboxes");
	d = opendir(dir);
	if (!d) {
		*ret = xcalloc(1, sizeof(char *));
		return errno == ENOENT ? 0 : -errno;
	}
	for (struct dirent *de; (de = readdir(d));)
		if (!dot_or_dot_dot(de->d_name) && sandbox_name_check(de->d_name, &why) == 0 &&
		    de->d_type == DT_DIR)
			strv_extend(&names, de->d_name);
	(void)closedir(d);
	if (!names)
		names = xcalloc(1, sizeof(char *));
	qsort(names, strv_length(names), sizeof(char *), cmp_str);
	*ret = names;
	return 0;
}
