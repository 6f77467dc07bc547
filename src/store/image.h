/* SPDX-License-Identifier: MIT */
/*
 * image.h - golden images ($DATA/images/NAME/{rootfs/, image.json}) and the writable layers
 * of their clones
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct json_object;

/* image_name_check() - the config's image name rule; "host" is not an image. -EINVAL + why */
int image_name_check(const char *name, const char **ret_why);

/* image_store_dir() - $DATA/images, created (0700) when @create */
int image_store_dir(bool create, char **ret);

/* image_dir() - $DATA/images/NAME (not checked) */
int image_dir(const char *name, char **ret);

/*
 * image_open() - the rootfs path of an existing image @name, and a shared lock on the image
 * (an fd, CLOEXEC; held while a sandbox uses the image, so `image rm` waits for nobody and
 * refuses). -ENOENT: no such image.
 */
int image_open(const char *name, char **ret_rootfs, int *ret_lock_fd);

/*
 * image_lock_exclusive() - the exclusive lock of image @name, without waiting: -EBUSY while a
 * sandbox runs on it
 */
int image_lock_exclusive(const char *name);

/* image_list() - the names under $DATA/images, sorted, NULL-terminated */
int image_list(char ***ret);

/* image_info() - image.json of @name (owned by the caller) */
int image_info(const char *name, struct json_object **ret);

/*
 * image_users() - the persistent sandboxes created with `--image @name`
 * ($DATA/sandboxes/ NAME/config.json options), NULL-terminated (possibly empty)
 */
int image_users(const char *name, char ***ret);

/* image_disk_usage() - bytes used by the tree below @dirfd/@name (st_blocks; hard links once) */
int image_disk_usage(int dirfd, const char *name, uint64_t *ret);

/*
 * image_clone_prepare() - the writable layer of a clone in @dir: @dir/upper and @dir/work
 * (created when missing), and the clone's own identity in upper: a fresh /etc/machine-id
 * (unless upper has one already) and no ssh host keys of the image (whiteouts over each
 * /etc/ssh/ssh_host_* of @rootfs, or empty files where whiteouts cannot be made). Does not
 * log; @reterr_path names what failed.
 */
int image_clone_prepare(const char *dir, const char *rootfs, const char **reterr_path);

/*
 * image_clone_reset() - empty @dir/upper and @dir/work (reset); image_clone_prepare() then
 * gives the clone a new identity
 */
int image_clone_reset(const char *dir);

/*
 * image_scratch_clone() - an ephemeral clone's layer directory under $DATA/tmp, locked by the
 * returned fd for the life of the run; stale ones (lock free) are removed first.
 */
int image_scratch_clone(char **ret_dir, int *ret_lock_fd);

/* image_scratch_remove() - remove an ephemeral clone's directory (at the end of the run) */
void image_scratch_remove(const char *dir);

/*
 * image_sweep_tmp() - remove what crashed imports and builds left ($DATA/images/.tmp-*),
 * whose process no longer holds their lock
 */
void image_sweep_tmp(void);
