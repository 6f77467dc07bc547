/* SPDX-License-Identifier: MIT */
/*
 * caps.c - capabilities of the sandboxed command
 *
 * DOC: Theory of Operation
 *
 * The sandbox init runs in a fresh user namespace where it holds every capability (scoped to
 * that namespace). Before it execs the command it gives them up, with raw prctl() and capset()
 * so that nothing allocates between clone() and execve():
 *
 * 1. Bounding set: every capability the kernel knows is dropped (PR_CAPBSET_DROP, which needs
 *    CAP_SETPCAP in the effective set, so this comes first), except, with --root, podman's
 *    default set: chown, dac_override, fowner, fsetid, kill, setgid, setuid, setpcap,
 *    net_bind_service, sys_chroot, setfcap. The bounding set caps what any later execve() can
 *    grant, including from file capabilities and setuid-root binaries.
 * 2. Securebits, without --root: NOROOT (uid 0 gains no capabilities on execve),
 *    NO_SETUID_FIXUP (changing uids does not touch capabilities) and KEEP_CAPS off, all locked
 *    so the command cannot undo them. The command's uid may be 0 inside the namespace (when
 *    the host user is root), and this keeps uid 0 an ordinary uid there. With --root, uid 0
 *    must keep the root semantics, and the bounding set alone limits it.
 * 3. Ambient set: cleared, so nothing is inherited by a non-root execve().
 * 4. capset(): effective, permitted and inheritable become empty, or, with --root, the kept
 *    set, which execve() by uid 0 hands on to the command.
 *
 * Capabilities held in the sandbox's user namespace never apply to the host's resources; the
 * point is to shrink the kernel surface reachable as "privileged in a user namespace" (mount,
 * netfilter, raw sockets, ...). The seccomp filter is installed after this step and does not
 * deny prctl() or capset().
 */
#include <errno.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/macro.h"
#include "sandbox/caps.h"

/* podman's default capability set, kept with --root */
#define CAPS_ROOT_DEFAULT                                                                          \
	((UINT64_C(1) << CAP_CHOWN) | (UINT64_C(1) << CAP_DAC_OVERRIDE) |                          \
	 (UINT64_C(1) << CAP_FOWNER) | (UINT64_C(1) << CAP_FSETID) | (UINT64_C(1) << CAP_KILL) |   \
	 (UINT64_C(1) << CAP_SETGID) | (UINT64_C(1) << CAP_SETUID) |                               \
	 (UINT64_C(1) << CAP_SETPCAP) | (UINT64_C(1) << CAP_NET_BIND_SERVICE) |                    \
	 (UINT64_C(1) << CAP_SYS_CHROOT) | (UINT64_C(1) << CAP_SETFCAP))

#define CAPS_SECUREBITS                                                                            \
	(SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |                           \
	 SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED)

/* Drop from the bounding set every capability not in @keep; stops at the first unknown one */
static int caps_drop_bounding(uint64_t keep)
{
	for (unsigned long cap = 0; cap < 64; cap++) {
		int r;

		r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (r < 0) {
			if (errno == EINVAL) /* past the last capability this kernel knows */
				return 0;
			return -errno;
		}
		if (r == 0 || (keep & (UINT64_C(1) << cap)))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return -errno;
	}
	return 0;
}

/* Set effective, permitted and inheritable to @set */
static int caps_set_current(uint64_t set)
{
	struct __user_cap_header_struct header = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};

	for (size_t i = 0; i < ELEMENTSOF(data); i++) {
		uint32_t word = (uint32_t)(set >> (32 * i));

		data[i].effective = word;
		data[i].permitted = word;
		data[i].inheritable = word;
	}
	return RET_NERRNO((int)syscall(SYS_capset, &header, data));
}

/**
 * caps_drop_for_exec() - prepare the capability sets for execve() of the command
 * @root:	keep podman's default set (--root) instead of dropping everything
 *
 * See the Theory of Operation for the steps and their order. Must run while the caller still
 * holds CAP_SETPCAP in its user namespace, and before the seccomp filter. Does not log.
 *
 * Return: 0 or -errno
 */
int caps_drop_for_exec(bool root)
{
	uint64_t keep = root ? CAPS_ROOT_DEFAULT : 0;
	int r;

	r = caps_drop_bounding(keep);
	if (r < 0)
		return r;

	if (!root && prctl(PR_SET_SECUREBITS, CAPS_SECUREBITS, 0, 0, 0) < 0)
		return -errno;

	/* EINVAL: a kernel without ambient capabilities (< 4.3) has none to clear */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;

	return caps_set_current(keep);
}
