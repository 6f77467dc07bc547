/* SPDX-License-Identifier: MIT */
/*
 * mount.h - build the sandbox's root filesystem (runs in init)
 */
#pragma once

#include "spec.h"

/*
 * mount_build_root() - in a fresh user and mount namespace, build the root of @spec and pivot
 * into it. Does not log. On failure returns -errno and sets @reterr_step to the step and
 * @reterr_path to the path (inside the sandbox) that failed; the string is static or
 * borrowed from @spec.
 */
int mount_build_root(const struct sandbox_spec *spec, int *reterr_step, const char **reterr_path);
