/* SPDX-License-Identifier: MIT */
/*
 * paths.h - where paddock keeps its configuration, data and runtime state (SPEC.md section 6)
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* The system-wide configuration directory, fixed by SPEC.md section 5 */
#define PATHS_SYSTEM_CONFIG_DIR "/etc/paddock"

/*
 * paths_config_dir() - the configuration directory of the calling user: $XDG_CONFIG_HOME/paddock
 * or ~/.config/paddock; /etc/paddock for root. Not created. 0 or -errno.
 */
int paths_config_dir(char **ret);

/*
 * paths_data_dir() - the persistent data directory: $XDG_DATA_HOME/paddock or
 * ~/.local/share/paddock; /var/lib/paddock for root. Not created. 0 or -errno.
 */
int paths_data_dir(char **ret);

/*
 * paths_runtime_dir() - the runtime directory (control sockets), created 0700 if missing and
 * verified (a directory, not a symlink, owned by us, mode 0700): $XDG_RUNTIME_DIR/paddock, or
 * /tmp/paddock-UID when XDG_RUNTIME_DIR is unusable; /run/paddock for root. 0 or -errno.
 */
int paths_runtime_dir(char **ret);

/*
 * paths_ensure_private_dir() - create @path with mode 0700 if missing, then check that it is a
 * directory (not a symlink) owned by @uid with mode exactly 0700. 0, -ELOOP (symlink),
 * -ENOTDIR, -EPERM (wrong owner or mode) or another -errno.
 */
int paths_ensure_private_dir(const char *path, uid_t uid);
