/* SPDX-License-Identifier: MIT */
/*
 * review.h - review mode: what a sandbox changed in its workspace's copy-on-write layer, and
 * landing it in the real workspace (docs/design/review.md)
 *
 * The layer lives in $DATA/sandboxes/NAME/review: upper/ and work/ (overlayfs'), start (when
 * the layer was first used, in ns), apply.journal while an apply is under way and
 * apply.committed between its last write and the layer's removal. Nothing here logs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define REVIEW_DIR "review"

struct review_entry {
	char *path;  /* relative to the workspace */
	char change; /* 'A' added, 'M' changed, 'D' deleted */
	char type;   /* 'f' file, 'l' symlink, 'd' directory, 'o' other (not applied): the new
		      * entry's for A and M, the old one's for D */
	mode_t mode; /* A, M: permission bits of the new entry */
};

struct review_list {
	struct review_entry *items;
	size_t n;
};

void review_list_free(struct review_list *l);

/*
 * review_prepare() - make @sandbox_dir's layer directories when missing and record its start
 * time when not recorded yet. @ret_upper, @ret_work: their paths.
 */
int review_prepare(const char *sandbox_dir, char **ret_upper, char **ret_work);

/*
 * review_scan() - the changes the upper layer @upper_fd holds over the lower @lower_fd, in
 * path order, parents before their children: regular files and symlinks added or changed
 * (identical content, target and mode: not listed), whiteouts of existing lower entries
 * deleted, opaque directories (their lower entries missing from the upper deleted), new
 * directories or changed permissions. A deleted directory is one entry.
 */
int review_scan(int upper_fd, int lower_fd, struct review_list *ret);

/*
 * review_conflicts() - the entries of @l whose lower path changed after @start_ns (ctime; for
 * a directory that goes, anything in it): the host changed them while the sandbox worked on
 * its copy. Returns the count; @ret_paths (NULL-terminated, may be NULL) names them.
 */
int review_conflicts(int lower_fd, const struct review_list *l, int64_t start_ns,
		     char ***ret_paths);

/* review_start() - the layer's start time in ns (-ENOENT: never started) */
int review_start(int review_fd, int64_t *ret_ns);

/*
 * review_apply() - land @l in @lower_fd from @upper_fd: the journal first (durably), then one
 * atomic operation per entry (a copy in the same directory, fsync, rename; rm for deletions),
 * a syncfs(), the commit mark, and only then the layer is emptied. Idempotent: run again on
 * an interruption it completes what the journal says. @review_fd: the review directory.
 * @reterr_path: the entry that failed (borrowed from @l).
 */
int review_apply(int review_fd, int upper_fd, int lower_fd, const struct review_list *l,
		 const char **reterr_path);

/*
 * review_pending() - 1 when an interrupted apply's journal (or commit mark) is there, 0 if
 * not; review_resume() completes it.
 */
int review_pending(int review_fd);
int review_resume(int review_fd, int upper_fd, int lower_fd, const char **reterr_path);

/*
 * review_discard() - empty the layer (upper, work, start); -EBUSY while an apply is pending.
 * @sandbox_dir: the sandbox's directory; a missing layer is fine.
 */
int review_discard(const char *sandbox_dir);

/* review_journal_parse() - the entries of a journal's content @buf (@n bytes); -EBADMSG */
int review_journal_parse(const char *buf, size_t n, struct review_list *ret);
