/* SPDX-License-Identifier: MIT */
/*
 * archive-dl.h - libarchive, loaded with dlopen() when an image is imported
 *
 * Linked normally, libarchive and the 13 libraries it pulls in (libxml2, ICU, libstdc++, the
 * compressors) cost ~2.5 ms of dynamic linking at every exec of paddock, more than the rest
 * of `paddock run` together (docs/design/startup.md). Only unpack.c reads archives: it calls
 * archive_dl_open() first, then the sym_ pointers below, typed from <archive.h> itself.
 */
#pragma once

#include <archive.h>
#include <archive_entry.h>

#define ARCHIVE_DL_SONAME "libarchive.so.13"

/* a declaration, not an expression: no parentheses possible */
#define ARCHIVE_DL_SYM(f) extern __typeof__(f) *sym_##f /* NOLINT(bugprone-macro-parentheses) */

ARCHIVE_DL_SYM(archive_read_new);
ARCHIVE_DL_SYM(archive_read_free);
ARCHIVE_DL_SYM(archive_read_support_filter_all);
ARCHIVE_DL_SYM(archive_read_support_format_tar);
ARCHIVE_DL_SYM(archive_read_support_format_gnutar);
ARCHIVE_DL_SYM(archive_read_open);
ARCHIVE_DL_SYM(archive_read_open_fd);
ARCHIVE_DL_SYM(archive_read_next_header);
ARCHIVE_DL_SYM(archive_read_data_block);
ARCHIVE_DL_SYM(archive_filter_bytes);
ARCHIVE_DL_SYM(archive_error_string);
ARCHIVE_DL_SYM(archive_set_error);
ARCHIVE_DL_SYM(archive_entry_pathname);
ARCHIVE_DL_SYM(archive_entry_filetype);
ARCHIVE_DL_SYM(archive_entry_perm);
ARCHIVE_DL_SYM(archive_entry_hardlink);
ARCHIVE_DL_SYM(archive_entry_symlink);
ARCHIVE_DL_SYM(archive_entry_size);
ARCHIVE_DL_SYM(archive_entry_mtime);
ARCHIVE_DL_SYM(archive_entry_mtime_nsec);
ARCHIVE_DL_SYM(archive_entry_mtime_is_set);

/*
 * archive_dl_open() - load ARCHIVE_DL_SONAME and resolve every sym_ pointer, once per process
 * (later calls return the first result). Non-logging.
 *
 * Return: 0, or -ELIBACC when the library or one of its functions is missing, with
 * @reterr_why (dlerror()'s text, valid until the next dl call) when not NULL.
 */
int archive_dl_open(const char **reterr_why);
