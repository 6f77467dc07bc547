/* SPDX-License-Identifier: MIT */
/*
 * clone.h - a sandbox's root from a golden image: the overlay's layers, for run and start
 */
#pragma once

struct sandbox_spec;

struct clone_ctx {
	char *scratch;    /* an ephemeral run's layer directory, removed by clone_done() */
	int scratch_lock; /* held while the run lives (stale ones are swept) */
	int image_lock;   /* shared lock on the image: `image rm` refuses while held */
};

#define CLONE_CTX_INIT                                                                             \
	{                                                                                          \
		.scratch_lock = -1, .image_lock = -1                                               \
	}

/*
 * clone_setup() - make @spec's root a clone of image @image: its layers in @state_dir (a
 * persistent sandbox's directory: upper/ and work/) or in a scratch directory when
 * @state_dir is NULL; the clone's identity (machine-id, no ssh host keys) made when missing.
 * Logs. Return: 0 or -errno.
 */
int clone_setup(const char *verb, const char *image, const char *state_dir,
		struct sandbox_spec *spec, struct clone_ctx *ctx);

/* clone_done() - release the image, remove an ephemeral run's layers */
void clone_done(struct clone_ctx *ctx);
