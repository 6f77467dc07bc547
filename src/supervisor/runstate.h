/* SPDX-License-Identifier: MIT */
/*
 * runstate.h - what an ephemeral run leaves on the host while it runs, and its cleanup
 */
#pragma once

#include "sandbox/protect.h"

struct runstate {
	char *runtime;   /* RUNTIME */
	char *dir;       /* RUNTIME/run-PID */
	char *workspace; /* resolved */
	int ws_fd;
};

/*
 * runstate_create() - create RUNTIME/run-PID (0700) and write, atomically, the record of the
 * placeholders that are about to be created in the workspace: the record comes first, so a
 * crash at any later point leaves something the next run can clean up. Logs its failures.
 */
int runstate_create(struct runstate *rs, const char *runtime_dir, const char *workspace, int ws_fd,
		    const struct protect_set *set);

/*
 * runstate_adopt() - a protected path that exists only as the placeholder of another live
 * sandbox on the same workspace becomes ours too (placeholder + adopted), so that whichever
 * exits first leaves it for the other.
 */
void runstate_adopt(const char *runtime_dir, const char *workspace, int ws_fd,
		    struct protect_set *set);

/*
 * runstate_lock() - an exclusive lock on the runtime directory's placeholder records, held
 * from adopting another sandbox's placeholders until this run's record is written (and by a
 * run removing its placeholders), so that one never removes what the other just adopted.
 * Return: the lock's fd (close it to unlock), or -errno.
 */
int runstate_lock(const char *runtime_dir);

/*
 * runstate_remove() - remove the placeholders (when still empty, and not also listed by
 * another live sandbox) and the state directory
 */
void runstate_remove(struct runstate *rs);

/*
 * runstate_cleanup_stale() - for every RUNTIME/run-PID whose process is gone (pid and start
 * time both checked, so a reused pid does not count), remove its placeholders and directory.
 */
void runstate_cleanup_stale(const char *runtime_dir);
