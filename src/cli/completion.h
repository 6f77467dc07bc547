/* SPDX-License-Identifier: MIT */
/*
 * completion.h - shell completion scripts generated from the command table
 */
#pragma once

#include <stdio.h>

/**
 * completion_generate() - write the completion script for @shell to @f
 * @f:     where to write
 * @shell: "bash", "zsh" or "fish"
 * Return: 0, or -EINVAL for an unknown shell. Does not log.
 */
int completion_generate(FILE *f, const char *shell);
