/* SPDX-License-Identifier: MIT */
/*
 * execaudit.h - the exec audit: every execve/execveat of a sandbox, as an "exec" audit event
 * (docs/design/exec-audit.md)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct event_base;
struct json_object;

/* what is read of one exec's arguments: at most this many, and this many bytes (NULs in) */
#define EXECAUDIT_ARGC_MAX 256
#define EXECAUDIT_ARGS_MAX (64 * 1024)
#define EXECAUDIT_PATH_MAX 4096

/*
 * struct execaudit_args - the argv of an execve as read from the caller's memory
 * @argc: strings read; each is @buf + @off[i], NUL-terminated, @len[i] bytes
 * @truncated: the argv had more strings, or longer ones, than the limits above
 * @error: 0, or the -errno that stopped the reading early (-EFAULT: a bad pointer)
 */
struct execaudit_args {
	size_t argc;
	size_t off[EXECAUDIT_ARGC_MAX];
	size_t len[EXECAUDIT_ARGC_MAX];
	bool truncated;
	int error;
	char buf[EXECAUDIT_ARGS_MAX];
};

/*
 * execaudit_read_args() - read the NULL-terminated array of string pointers at @argv_addr in
 * process @pid (process_vm_readv, page by page, so a string that ends just before an unmapped
 * page is read whole). A NULL @argv_addr is an empty argv, as for the kernel. Does not log.
 * Return: 0 (possibly @a->truncated, or @a->error set after a first string), or -errno when
 * nothing could be read: -ESRCH (gone), -EPERM (not readable to us), -EFAULT.
 */
int execaudit_read_args(pid_t pid, uint64_t argv_addr, struct execaudit_args *a);

/*
 * execaudit_read_string() - read the string at @addr in process @pid into @buf (@size bytes,
 * NUL included). Return: its length, or -errno; -ENAMETOOLONG when it does not fit (@buf then
 * holds the first @size - 1 bytes).
 */
ssize_t execaudit_read_string(pid_t pid, uint64_t addr, char *buf, size_t size);

struct execaudit;

struct execaudit_ops {
	/* the sink of the "exec" events; takes @fields */
	void (*audit)(void *userdata, const char *type, struct json_object *fields);
	/* the listener failed (or the kernel lacks a feature): the sandbox must die; logged */
	void (*fail)(void *userdata, int error);
};

/*
 * execaudit_new() - serve the seccomp listener @notify_fd (taken, also on failure) on @base:
 * each notification becomes one "exec" event (pid, ppid, argv, cwd, path, ...) given to
 * @ops->audit, then the call continues. Return: 0 or -errno (logged).
 */
int execaudit_new(struct event_base *base, int notify_fd, const struct execaudit_ops *ops,
		  void *userdata, struct execaudit **ret);

/* execaudit_count() - how many exec events were made so far */
uint64_t execaudit_count(const struct execaudit *ea);

/* execaudit_free() - stop serving and close the listener: a pending exec fails (ENOSYS) */
struct execaudit *execaudit_free(struct execaudit *ea);
