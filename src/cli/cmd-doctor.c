/* SPDX-License-Identifier: MIT */
/*
 * cmd-doctor.c - `paddock doctor` (placeholder)
 */
#include "cmd.h"
#include "common/log.h"

static const struct paddock_opt doctor_opts[] = {
	{},
};

static int cmd_doctor_exec(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return log_error_errno(ENOSYS, "doctor: not built yet");
}

const struct paddock_cmd paddock_cmd_doctor = {
	.name = "doctor",
	.usage = "",
	.summary = "doctor",
	.opts = doctor_opts,
	.max_args = -1,
	.exec = cmd_doctor_exec,
};
