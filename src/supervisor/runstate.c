/* SPDX-License-Identifier: MIT */
/*
 * runstate.c - what an ephemeral run leaves on the host while it runs, and its cleanup
 *
 * DOC: Theory of Operation
 * The only thing an ephemeral sandbox changes on the host outside its own namespaces is the
 * set of empty placeholders for missing protected paths in the workspace (see protect.c).
 * Their list is written (write, fsync, rename) to RUNTIME/run-PID/placeholders before the
 * first one is created, together with the workspace's path and paddock's process start time.
 * At exit they are removed if still empty. After a crash (SIGKILL, power loss of the runtime
 * dir aside) the next paddock finds the directory of a dead process and does the same.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fd.h"
#include "common/log.h"
#include "common/path.h"
#include "common/strv.h"
#include "common/xmalloc.h"
#include "runstate.h"

/* process start time in clock ticks since boot (field 22 of /proc/PID/stat), 0 if unknown */
static unsigned long long proc_start_time(pid_t pid)
{
	_cleanup_free_ char *buf = NULL;
	char path[64];
	const char *p;
	unsigned long long t = 0;

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_file_at(AT_FDCWD, path, 4096, &buf, NULL) < 0)
		return 0;
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	/* a zombie is dead, whether or not its parent got round to reaping it */
	if (p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'))
		return 0;
	/* after ") ": field 3 is state; start time is field 22 */
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (p)
		t = strtoull(p + 1, NULL, 10);
	return t;
}

int runstate_create(struct runstate *rs, const char *runtime_dir, const char *workspace, int ws_fd,
		    const struct protect_set *set)
{
	_cleanup_free_ char *dir = xasprintf("%s/run-%d", runtime_dir, (int)getpid());
	_cleanup_free_ char *file = NULL, *buf = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	{
		bool any = false;

		for (size_t i = 0; i < set->n; i++)
			any = any || set->items[i].placeholder;
		if (!any)
			return 0; /* nothing on the host to record or clean up */
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return log_error_errno(errno, "Failed to create the runtime directory '%s': %m",
				       dir);
	f = open_memstream(&buf, &len);
	if (!f)
		return log_error_errno(ENOMEM, "Out of memory");
	fprintf(f, "start\t%llu\nworkspace\t%s\n", proc_start_time(getpid()), workspace);
	for (size_t i = 0; i < set->n; i++)
		if (set->items[i].placeholder)
			fprintf(f, "%c\t%s\n", set->items[i].action == PROTECT_MASK_DIR ? 'd' : 'f',
				set->items[i].rel);
	if (fclose(f) != 0)
		return log_error_errno(ENOMEM, "Out of memory");
	file = path_join(dir, "placeholders");
	/* a runtime file: atomic against a crash of paddock, not durable against power loss */
	r = write_file_atomic(file, buf, len, 0600, false);
	if (r < 0)
		return log_error_errno(r, "Failed to write '%s': %m", file);
	rs->dir = TAKE_PTR(dir);
	rs->runtime = xstrdup(runtime_dir);
	rs->workspace = xstrdup(workspace);
	rs->ws_fd = ws_fd;
	return 0;
}

/* run_is_live() - RUNTIME/run-PID names a running paddock (pid and start time match) */
static bool run_is_live(const char *runtime_dir, const char *name, char **ret_record)
{
	_cleanup_free_ char *file = NULL, *buf = NULL;
	unsigned long long start = 0, now;
	char *end;
	long pid;

	if (strncmp(name, "run-", 4) != 0)
		return false;
	pid = strtol(name + 4, &end, 10);
	if (*end || pid <= 0)
		return false;
	file = xasprintf("%s/%s/placeholders", runtime_dir, name);
	if (read_file_at(AT_FDCWD, file, 1 << 20, &buf, NULL) >= 0 &&
	    strncmp(buf, "start\t", 6) == 0)
		start = strtoull(buf + 6, NULL, 10);
	if (ret_record)
		*ret_record = TAKE_PTR(buf);
	if (kill((pid_t)pid, 0) < 0 && errno != EPERM)
		return false;
	now = proc_start_time((pid_t)pid);
	/* alive and ours, or alive and still writing its record */
	return start == 0 || (now != 0 && now == start);
}

/*
 * live_entries() - the placeholders that other live runs record for @workspace, as
 * "d\tREL" / "f\tREL": read once per decision, not once per path
 */
static char **live_entries(const char *runtime_dir, const char *workspace)
{
	_cleanup_closedir_ DIR *d = opendir(runtime_dir);
	char **l = NULL, self[32];
	struct dirent *de;

	if (!d)
		return NULL;
	(void)snprintf(self, sizeof(self), "run-%d", (int)getpid());
	while ((de = readdir(d))) {
		_cleanup_free_ char *rec = NULL;
		bool same_ws = false;
		char *save = NULL;

		if (streq(de->d_name, self) || !run_is_live(runtime_dir, de->d_name, &rec) || !rec)
			continue;
		for (char *line = strtok_r(rec, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char *tab = strchr(line, '\t');

			if (!tab)
				continue;
			*tab = '\0';
			if (streq(line, "workspace"))
				same_ws = streq(tab + 1, workspace);
			else if (same_ws && (streq(line, "d") || streq(line, "f")))
				strv_push(&l, xasprintf("%s\t%s", line, tab + 1));
		}
	}
	return l;
}

/* entries_type() - 'd'/'f' when @entries lists @rel, else 0 */
static char entries_type(char *const *entries, const char *rel)
{
	STRV_FOREACH (e, entries)
		if (streq(*e + 2, rel))
			return (*e)[0];
	return 0;
}

int runstate_lock(const char *runtime_dir)
{
	_cleanup_free_ char *path = path_join(runtime_dir, "placeholders.lock");
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			int r = -errno;

			(void)close(fd);
			return r;
		}
	return fd;
}

void runstate_adopt(const char *runtime_dir, const char *workspace, int ws_fd,
		    struct protect_set *set)
{
	_cleanup_strv_free_ char **live = live_entries(runtime_dir, workspace);
	size_t n = 0;

	for (size_t i = 0; i < set->n; i++) {
		struct protect_item *it = &set->items[i];
		_cleanup_free_ char *prefix = xstrdup(it->rel);
		char *slash = prefix;

		/*
		 * The shortest listed prefix wins: another sandbox's placeholder ".claude" covers
		 * our ".claude/settings.json", which we would otherwise create inside it.
		 */
		for (;;) {
			char t;

			slash = strchr(slash, '/');
			if (slash)
				*slash = '\0';
			t = entries_type(live, prefix);
			if (t) {
				struct stat st;

				free(it->rel);
				it->rel = xstrdup(prefix);
				it->placeholder = true;
				/* already gone (its run just removed it): ours to create */
				it->adopted = fstatat(ws_fd, prefix, &st, AT_SYMLINK_NOFOLLOW) == 0;
				it->action = t == 'd' ? PROTECT_MASK_DIR : PROTECT_MASK_FILE;
				break;
			}
			if (!slash)
				break;
			*slash++ = '/';
		}
	}
	/* adopting may have made items equal: keep the first of each */
	for (size_t i = 0; i < set->n; i++) {
		bool dup = false;

		for (size_t j = 0; j < n && !dup; j++)
			dup = streq(set->items[j].rel, set->items[i].rel);
		if (dup)
			free(set->items[i].rel);
		else
			set->items[n++] = set->items[i];
	}
	set->n = n;
}

static void remove_listed(const char *runtime_dir, const char *dir, int ws_fd_or_neg)
{
	_cleanup_free_ char *file = path_join(dir, "placeholders"), *buf = NULL, *ws = NULL;
	_cleanup_strv_free_ char **live = NULL;
	_cleanup_close_ int own_fd = -EBADF;
	int ws_fd = ws_fd_or_neg;
	char *save = NULL;

	if (read_file_at(AT_FDCWD, file, 1 << 20, &buf, NULL) < 0)
		return;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t');
		int r;

		if (!tab)
			continue;
		*tab = '\0';
		if (streq(line, "workspace")) {
			ws = xstrdup(tab + 1);
			live = strv_free(live);
			live = live_entries(runtime_dir, ws);
			if (ws_fd < 0) {
				own_fd = open(tab + 1, O_PATH | O_DIRECTORY | O_CLOEXEC);
				ws_fd = own_fd;
			}
			continue;
		}
		if (ws_fd < 0 || !ws || (!streq(line, "d") && !streq(line, "f")))
			continue;
		if (entries_type(live, tab + 1))
			continue; /* another sandbox still stands on it */
		r = protect_remove_placeholder(ws_fd, tab + 1, line[0] == 'd');
		if (r == -ENOTEMPTY || r == -EEXIST)
			log_warning("'%s' in the workspace was created while paddock protected it "
				    "and is no longer empty; left in place",
				    tab + 1);
		else if (r < 0)
			log_debug_errno(r, "Failed to remove placeholder '%s', ignoring: %m",
					tab + 1);
	}
	(void)unlink(file);
}

void runstate_remove(struct runstate *rs)
{
	_cleanup_close_ int lock = -EBADF;

	if (!rs->dir)
		return;
	lock = runstate_lock(rs->runtime); /* best effort: removal happens either way */
	remove_listed(rs->runtime, rs->dir, rs->ws_fd);
	if (rmdir(rs->dir) < 0 && errno != ENOENT)
		log_debug_errno(errno, "Failed to remove '%s', ignoring: %m", rs->dir);
	free(rs->dir);
	free(rs->runtime);
	free(rs->workspace);
	rs->dir = rs->runtime = rs->workspace = NULL;
}

void runstate_cleanup_stale(const char *runtime_dir)
{
	_cleanup_closedir_ DIR *d = opendir(runtime_dir);
	_cleanup_close_ int lock = -EBADF;
	struct dirent *de;

	if (!d)
		return;
	lock = runstate_lock(runtime_dir);
	while ((de = readdir(d))) {
		_cleanup_free_ char *dir = NULL;

		if (strncmp(de->d_name, "run-", 4) != 0 ||
		    run_is_live(runtime_dir, de->d_name, NULL))
			continue;
		dir = path_join(runtime_dir, de->d_name);
		log_debug("cleaning up after %s, which did not exit cleanly", de->d_name);
		remove_listed(runtime_dir, dir, -1);
		/* a record that was being written when the run died */
		{
			_cleanup_closedir_ DIR *sub = opendir(dir);
			struct dirent *e;

			while (sub && (e = readdir(sub)))
				if (strncmp(e->d_name, "placeholders.tmp.", 17) == 0)
					(void)unlinkat(dirfd(sub), e->d_name, 0);
		}
		(void)rmdir(dir);
	}
}
