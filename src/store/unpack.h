/* SPDX-License-Identifier: MIT */
/*
 * unpack.h - extract a root filesystem archive (a tarball, an OCI image layout or a `docker
 * save` archive) safely into a directory, as an unprivileged user
 */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

enum unpack_whiteout {
	UNPACK_WH_NONE,   /* an ordinary entry */
	UNPACK_WH_FILE,   /* DIR/.wh.NAME: NAME of the lower layers is deleted */
	UNPACK_WH_OPAQUE, /* DIR/.wh..wh..opq: what the lower layers have in DIR is hidden */
};

enum unpack_format {
	UNPACK_FORMAT_ROOTFS, /* a plain root filesystem tarball */
	UNPACK_FORMAT_OCI,    /* an OCI image layout (oci-layout, index.json, blobs/) */
	UNPACK_FORMAT_DOCKER, /* `docker save` (manifest.json, layer tarballs) */
};

const char *unpack_format_to_string(enum unpack_format f);

/*
 * unpack_path_clean() - the archive entry name @name as a clean relative path ("./usr//bin/"
 * -> "usr/bin"). *@ret is NULL for the root itself ("." or "./"). Absolute names, ".."
 * components, empty names and names longer than PATH_MAX are refused. Does not log.
 * Return: 0, or -EINVAL/-EPERM with @reterr_why (static string).
 */
int unpack_path_clean(const char *name, char **ret, const char **reterr_why);

/*
 * unpack_whiteout_classify() - whether the clean path @path is an OCI whiteout, and what it
 * removes: the hidden path for UNPACK_WH_FILE, the directory ("" for the root) for
 * UNPACK_WH_OPAQUE, in *@ret_target (allocated; NULL for UNPACK_WH_NONE). A malformed
 * whiteout (".wh." alone, ".wh.." names) is -EINVAL.
 */
int unpack_whiteout_classify(const char *path, enum unpack_whiteout *ret_kind, char **ret_target);

/* unpack_progress_fn() - @stage: what is being read; @done/@total: bytes of it (0 = unknown) */
typedef void (*unpack_progress_fn)(const char *stage, uint64_t done, uint64_t total,
				   void *userdata);

struct unpack_opts {
	unpack_progress_fn progress; /* may be NULL */
	void *userdata;
	const volatile sig_atomic_t *cancel; /* set by a signal handler: stop with -EINTR */
	const char *stage;                   /* name of the input for progress, e.g. a file name */
};

struct unpack_result {
	enum unpack_format format;
	uint64_t entries;         /* archive entries applied */
	uint64_t bytes;           /* bytes of file data written */
	uint64_t skipped_devices; /* device nodes under dev/ skipped */
	uint64_t dropped_setid;   /* setuid/setgid bits dropped */
	unsigned layers;          /* OCI or docker layers applied */
	char *ref;                /* OCI ref name or docker RepoTag, when the archive has one */
	/* on failure: the entry (or file) that was refused, and why */
	char *err_entry;
	const char *err_why;
};

void unpack_result_done(struct unpack_result *res);

/*
 * unpack_image() - read the archive on @archive_fd (tar, optionally gzip, xz, bzip2 or zstd
 * compressed; a pipe is fine) and build its root filesystem in a new directory "rootfs" below
 * @dirfd (plus a scratch directory "stage" that is removed again). An OCI layout or a docker
 * archive has its layers applied in order, whiteouts included; OCI blobs are checked against
 * their digests. Extraction never follows a symlink (openat2 RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS for parents, O_NOFOLLOW for the entry), so no entry lands outside the
 * tree; device nodes under dev/ are skipped (counted), elsewhere refused; setuid and setgid
 * bits are dropped; ownership, ACLs and xattrs are not restored (everything belongs to the
 * caller). Does not log. On failure, @dirfd may hold partial results: the caller removes it.
 * Return: 0, or -errno with @res->err_entry / @res->err_why set where an entry is to blame;
 * -ELIBACC when libarchive cannot be loaded (archive_dl_open()).
 */
int unpack_image(int dirfd, int archive_fd, const struct unpack_opts *opts,
		 struct unpack_result *res);
