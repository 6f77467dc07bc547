/* SPDX-License-Identifier: MIT */
/*
 * archive-dl.c - libarchive, loaded with dlopen() when an image is imported
 *
 * DOC: Theory of Operation
 * The same choice as libnftables in netcap.c: a library that only one rarely used command
 * needs is not a DT_NEEDED of paddock, so `paddock run` (and every other exec of paddock) does
 * not map and relocate it. The pointers are typed with __typeof__ of libarchive's own
 * declarations, so a prototype mismatch is a compile error, not a crash. Once loaded the
 * library stays loaded (RTLD_NODELETE semantics by never closing it).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>

#include "archive-dl.h"
#include "common/macro.h"

#define ARCHIVE_DL_DEF(f) __typeof__(f) *sym_##f /* NOLINT(bugprone-macro-parentheses) */

ARCHIVE_DL_DEF(archive_read_new);
ARCHIVE_DL_DEF(archive_read_free);
ARCHIVE_DL_DEF(archive_read_support_filter_all);
ARCHIVE_DL_DEF(archive_read_support_format_tar);
ARCHIVE_DL_DEF(archive_read_support_format_gnutar);
ARCHIVE_DL_DEF(archive_read_open);
ARCHIVE_DL_DEF(archive_read_open_fd);
ARCHIVE_DL_DEF(archive_read_next_header);
ARCHIVE_DL_DEF(archive_read_data_block);
ARCHIVE_DL_DEF(archive_filter_bytes);
ARCHIVE_DL_DEF(archive_error_string);
ARCHIVE_DL_DEF(archive_set_error);
ARCHIVE_DL_DEF(archive_entry_pathname);
ARCHIVE_DL_DEF(archive_entry_filetype);
ARCHIVE_DL_DEF(archive_entry_perm);
ARCHIVE_DL_DEF(archive_entry_hardlink);
ARCHIVE_DL_DEF(archive_entry_symlink);
ARCHIVE_DL_DEF(archive_entry_size);
ARCHIVE_DL_DEF(archive_entry_mtime);
ARCHIVE_DL_DEF(archive_entry_mtime_nsec);
ARCHIVE_DL_DEF(archive_entry_mtime_is_set);

#define SYM(f)                                                                                     \
	{                                                                                          \
#f, (void **)&sym_##f                                                              \
	}

static const struct {
	const char *name;
	void **ptr;
} syms[] = {
	SYM(archive_read_new),
	SYM(archive_read_free),
	SYM(archive_read_support_filter_all),
	SYM(archive_read_support_format_tar),
	SYM(archive_read_support_format_gnutar),
	SYM(archive_read_open),
	SYM(archive_read_open_fd),
	SYM(archive_read_next_header),
	SYM(archive_read_data_block),
	SYM(archive_filter_bytes),
	SYM(archive_error_string),
	SYM(archive_set_error),
	SYM(archive_entry_pathname),
	SYM(archive_entry_filetype),
	SYM(archive_entry_perm),
	SYM(archive_entry_hardlink),
	SYM(archive_entry_symlink),
	SYM(archive_entry_size),
	SYM(archive_entry_mtime),
	SYM(archive_entry_mtime_nsec),
	SYM(archive_entry_mtime_is_set),
};

int archive_dl_open(const char **reterr_why)
{
	static int state; /* 0: not tried, 1: loaded, -errno: failed */
	void *lib;

	if (state == 0) {
		lib = dlopen(ARCHIVE_DL_SONAME, RTLD_NOW | RTLD_LOCAL);
		state = lib ? 1 : -ELIBACC;
		for (size_t i = 0; lib && i < ELEMENTSOF(syms); i++) {
			*syms[i].ptr = dlsym(lib, syms[i].name);
			if (!*syms[i].ptr)
				state = -ELIBACC; /* the library stays loaded: harmless */
		}
	}
	if (state < 0 && reterr_why) {
		const char *e = dlerror();

		*reterr_why = e ? e : "cannot load " ARCHIVE_DL_SONAME;
	}
	return state < 0 ? state : 0;
}
