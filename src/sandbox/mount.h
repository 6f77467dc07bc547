/* SPDX-License-Identifier: MIT */
/*
 * mount.h - build the sandbox's root filesystem (runs in init)
 */
#pragma once

#include "spec.h"

/*
 * mount_build_root() - in a fresh user and mount namespace, build the root of @spec and pivot
 * into it. @wait_ready is called once, before the first mount at @spec->protect_from (those
 * cover placeholders the supervisor creates meanwhile), or at the end when there is none; its
 * failure (-errno) fails the build at STEP_GO. Does not log. On failure returns -errno and sets @reterr_step to the step and
 * @reterr_path to the path (inside the sandbox) that failed; the string is static or
 * borrowed from @spec.
 */
int mount_build_root(const struct sandbox_spec *spec, int (*wait_ready)(void *userdata),
		     void *userdata, int *reterr_step, const char **reterr_path);
