/* SPDX-License-Identifier: MIT */
/*
 * clone.c - a sandbox's root from a golden image
 *
 * DOC: Theory of Operation
 * Creating a clone is O(1) in the image's size: two empty directories (upper/, work/) and
 * the clone's identity in upper (a new /etc/machine-id, whiteouts over the image's ssh host
 * keys; store/image.c). The sandbox's init mounts the overlay itself, in its user namespace
 * (mount.c); the image's rootfs is only ever its read-only lower layer. A persistent
 * sandbox keeps its layers in $DATA/sandboxes/NAME/{upper,work} (emptied by `reset`); an
 * ephemeral run gets a scratch directory under $DATA/tmp, on the same file system as the
 * images, removed when the run ends (or by the next run after a crash: its lock is free).
 *
 * overlayfs splits its options at ',' and ':' (and '\\' escapes): paths holding them are
 * refused with a message rather than escaped.
 */
#include <errno.h>
#include <string.h>

#include "clone.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/path.h"
#include "common/xmalloc.h"
#include "sandbox/spec.h"
#include "store/image.h"

static int check_overlay_path(const char *verb, const char *p)
{
	if (strpbrk(p, ",:\\\n"))
		return log_error_errno(EINVAL,
				       "%s: '%s' holds a ',', ':' or '\\', which overlayfs "
				       "options cannot carry; move paddock's data directory "
				       "(XDG_DATA_HOME) to a plainer path",
				       verb, p);
	return 0;
}

int clone_setup(const char *verb, const char *image, const char *state_dir,
		struct sandbox_spec *spec, struct clone_ctx *ctx)
{
	_cleanup_free_ char *rootfs = NULL;
	const char *dir = state_dir, *why = NULL, *bad = NULL;
	int r;

	if (image_name_check(image, &why) < 0)
		return log_error_errno(EINVAL, "%s: image '%s': %s", verb, image, why);
	r = image_open(image, &rootfs, &ctx->image_lock);
	if (r == -ENOENT)
		return log_error_errno(r,
				       "%s: no image named '%s'; 'paddock image ls' lists them, "
				       "'paddock image build' and 'paddock image import' make one",
				       verb, image);
	if (r < 0)
		return log_error_errno(r, "%s: cannot open image '%s': %m", verb, image);
	if (!dir) {
		r = image_scratch_clone(&ctx->scratch, &ctx->scratch_lock);
		if (r < 0)
			return log_error_errno(
				r, "%s: cannot create the clone's layer directory: %m", verb);
		dir = ctx->scratch;
	}
	r = image_clone_prepare(dir, rootfs, &bad);
	if (r < 0)
		return log_error_errno(r, "%s: cannot prepare the clone of '%s' in '%s' (%s): %m",
				       verb, image, dir, bad);
	spec->image_lower = TAKE_PTR(rootfs);
	spec->image_upper = path_join(dir, "upper");
	spec->image_work = path_join(dir, "work");
	r = check_overlay_path(verb, spec->image_lower);
	if (r >= 0)
		r = check_overlay_path(verb, spec->image_upper);
	if (r >= 0)
		r = check_overlay_path(verb, spec->image_work);
	return r;
}

void clone_done(struct clone_ctx *ctx)
{
	if (ctx->scratch) {
		image_scratch_remove(ctx->scratch);
		free(ctx->scratch);
		ctx->scratch = NULL;
	}
	ctx->scratch_lock = safe_close(ctx->scratch_lock);
	ctx->image_lock = safe_close(ctx->image_lock);
}
