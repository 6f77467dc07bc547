/* SPDX-License-Identifier: MIT */
/*
 * spec.c - struct sandbox_spec helpers
 */
#include <stdlib.h>

#include "common/strv.h"
#include "common/xmalloc.h"
#include "spec.h"

void sandbox_spec_add_mount(struct sandbox_spec *s, enum mount_kind kind, const char *src,
			    const char *dst, mode_t mode, bool optional)
{
	s->mounts = xreallocarray(s->mounts, s->n_mounts + 1, sizeof(*s->mounts));
	s->mounts[s->n_mounts++] = (struct sandbox_mount){
		.kind = kind,
		.src = src ? xstrdup(src) : NULL,
		.dst = xstrdup(dst),
		.mode = mode,
		.optional = optional,
	};
}

void sandbox_spec_add_overlay(struct sandbox_spec *s, const char *lower, const char *upper,
			      const char *work, const char *dst)
{
	sandbox_spec_add_mount(s, MOUNT_OVERLAY, lower, dst, 0, false);
	s->mounts[s->n_mounts - 1].upper = xstrdup(upper);
	s->mounts[s->n_mounts - 1].work = xstrdup(work);
}

void sandbox_spec_free(struct sandbox_spec *s)
{
	for (size_t i = 0; i < s->n_mounts; i++) {
		free(s->mounts[i].src);
		free(s->mounts[i].dst);
		free(s->mounts[i].upper);
		free(s->mounts[i].work);
	}
	free(s->mounts);
	free(s->hostname);
	free(s->workspace);
	free(s->home);
	strv_free(s->rw_paths);
	free(s->image_lower);
	free(s->image_upper);
	free(s->image_work);
	strv_free(s->argv);
	strv_free(s->envp);
	*s = (struct sandbox_spec){};
}

const char *mount_kind_to_string(enum mount_kind k)
{
	switch (k) {
	case MOUNT_BIND_RO:
		return "bind-ro";
	case MOUNT_BIND_RW:
		return "bind-rw";
	case MOUNT_BIND_DEV:
		return "bind-dev";
	case MOUNT_TMPFS:
		return "tmpfs";
	case MOUNT_MASK_DIR:
		return "mask-dir";
	case MOUNT_MASK_FILE:
		return "mask-file";
	case MOUNT_REBIND_RO:
		return "readonly";
	case MOUNT_REBIND:
		return "pin";
	case MOUNT_SYMLINK:
		return "symlink";
	case MOUNT_DIR:
		return "dir";
	case MOUNT_FILE:
		return "file";
	case MOUNT_OVERLAY:
		return "overlay";
	case _MOUNT_KIND_MAX:
		break;
	}
	return "?";
}
