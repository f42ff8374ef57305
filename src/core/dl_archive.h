/* libarchive, loaded on first use (core/dl.h): header types only at build time; tar files are
 * written by `model pack` (verity) and read/written as collateral bundles (collateral). Include this instead of <archive.h>; call
 * cct_dl_archive_ok() before any archive function (they are unset until it succeeds). */
#ifndef CCT_CORE_DL_ARCHIVE_H
#define CCT_CORE_DL_ARCHIVE_H

#include <stddef.h>

#include <archive.h>
#include <archive_entry.h>

#define CCT_ARCHIVE_FUNCS(X)                                                                  \
	X(archive_entry_clear) X(archive_entry_free) X(archive_entry_new)                     \
	X(archive_entry_set_filetype) X(archive_entry_set_gid) X(archive_entry_set_mtime)     \
	X(archive_entry_set_pathname) X(archive_entry_set_perm) X(archive_entry_set_size)     \
	X(archive_entry_set_uid) X(archive_error_string) X(archive_write_close)               \
	X(archive_write_data) X(archive_write_free) X(archive_write_header)                   \
	X(archive_write_new) X(archive_write_open_fd) X(archive_write_set_bytes_in_last_block) \
	X(archive_write_set_bytes_per_block) X(archive_write_set_format_pax_restricted)         \
	X(archive_write_open_filename) X(archive_read_new) X(archive_read_free)               \
	X(archive_read_support_format_tar) X(archive_read_support_filter_none)                \
	X(archive_read_open_filename) X(archive_read_next_header) X(archive_read_data)        \
	X(archive_entry_size) X(archive_entry_filetype) X(archive_entry_pathname)

typedef struct cct_dl_archive_table {
#define CCT_X(f) __typeof__(&f) f;
	CCT_ARCHIVE_FUNCS(CCT_X)
#undef CCT_X
} cct_dl_archive_table;

extern cct_dl_archive_table cct_dl_archive_fns;
/* Load libarchive.so.13 once: 1 when loaded, else 0 with the reason in why (if not NULL). */
int cct_dl_archive_ok(char *why, size_t size);

#ifndef CCT_DL_ARCHIVE_IMPL
#define archive_entry_clear (cct_dl_archive_fns.archive_entry_clear)
#define archive_entry_free (cct_dl_archive_fns.archive_entry_free)
#define archive_entry_new (cct_dl_archive_fns.archive_entry_new)
#define archive_entry_set_filetype (cct_dl_archive_fns.archive_entry_set_filetype)
#define archive_entry_set_gid (cct_dl_archive_fns.archive_entry_set_gid)
#define archive_entry_set_mtime (cct_dl_archive_fns.archive_entry_set_mtime)
#define archive_entry_set_pathname (cct_dl_archive_fns.archive_entry_set_pathname)
#define archive_entry_set_perm (cct_dl_archive_fns.archive_entry_set_perm)
#define archive_entry_set_size (cct_dl_archive_fns.archive_entry_set_size)
#define archive_entry_set_uid (cct_dl_archive_fns.archive_entry_set_uid)
#define archive_error_string (cct_dl_archive_fns.archive_error_string)
#define archive_write_close (cct_dl_archive_fns.archive_write_close)
#define archive_write_data (cct_dl_archive_fns.archive_write_data)
#define archive_write_free (cct_dl_archive_fns.archive_write_free)
#define archive_write_header (cct_dl_archive_fns.archive_write_header)
#define archive_write_new (cct_dl_archive_fns.archive_write_new)
#define archive_write_open_fd (cct_dl_archive_fns.archive_write_open_fd)
#define archive_write_set_bytes_in_last_block (cct_dl_archive_fns.archive_write_set_bytes_in_last_block)
#define archive_write_set_bytes_per_block (cct_dl_archive_fns.archive_write_set_bytes_per_block)
#define archive_write_set_format_pax_restricted (cct_dl_archive_fns.archive_write_set_format_pax_restricted)
#define archive_write_open_filename (cct_dl_archive_fns.archive_write_open_filename)
#define archive_read_new (cct_dl_archive_fns.archive_read_new)
#define archive_read_free (cct_dl_archive_fns.archive_read_free)
#define archive_read_support_format_tar (cct_dl_archive_fns.archive_read_support_format_tar)
#define archive_read_support_filter_none (cct_dl_archive_fns.archive_read_support_filter_none)
#define archive_read_open_filename (cct_dl_archive_fns.archive_read_open_filename)
#define archive_read_next_header (cct_dl_archive_fns.archive_read_next_header)
#define archive_read_data (cct_dl_archive_fns.archive_read_data)
#define archive_entry_size (cct_dl_archive_fns.archive_entry_size)
#define archive_entry_filetype (cct_dl_archive_fns.archive_entry_filetype)
#define archive_entry_pathname (cct_dl_archive_fns.archive_entry_pathname)
#endif

#endif
