/* SPDX-License-Identifier: MIT */
/* landlock.c - placeholder until the Landlock module lands: refuses (fail closed) */
#include <errno.h>
#include "landlock.h"

int landlock_abi_version(void)
{
	return -ENOSYS;
}

int landlock_restrict_self(const struct landlock_rule *rules, size_t n_rules,
			   const char **reterr_path)
{
	(void)rules;
	(void)n_rules;
	if (reterr_path)
		*reterr_path = NULL;
	return -ENOSYS;
}
