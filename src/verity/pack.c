/* Reproducible model archive: PAX tar through libarchive, independent of the file system's
 * order, timestamps, owners and the packer's umask. Names sorted bytewise, mtime 0, numeric
 * owner 0/0 with no names, modes 0755 (directories and executables) or 0644, symlinks followed
 * (the archive holds contents), zero-padded to a multiple of 4096 bytes so the tar is directly
 * a dm-verity data device. */
#define _GNU_SOURCE /* pread, posix_fadvise, O_CLOEXEC, mkstemp */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/dl_archive.h"

#include "cctrust/verity.h"

#define COPY_CHUNK (1024u * 1024u)

typedef struct entries {
	char **path;       /* relative paths, malloc'd */
	size_t count, cap;
} entries;

static int add_entry(entries *e, const char *rel, cct_err *err)
{
	if (e->count >= CCT_VERITY_PACK_MAX_ENTRIES)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0,
				   "more than %d entries in the model directory",
				   CCT_VERITY_PACK_MAX_ENTRIES);
	if (e->count == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 64;
		char **p = realloc(e->path, cap * sizeof(*p));

		if (!p)
			return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
		e->path = p;
		e->cap = cap;
	}
	if (!(e->path[e->count] = strdup(rel)))
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	e->count++;
	return CCT_OK;
}

/* A path for a message: as it is when short, else its start and its end around "...", so the
 * message (cct_err's fixed size) keeps what follows the path, such as the limit or the reason. */
#define SHORT_PATH 112

static const char *short_path(char out[SHORT_PATH], const char *s)
{
	size_t n = strlen(s), head = 32, tail = SHORT_PATH - 1 - head - 3;

	if (n < SHORT_PATH)
		return s;
	memcpy(out, s, head);
	memcpy(out + head, "...", 3);
	memcpy(out + head + 3, s + n - tail, tail + 1);
	return out;
}

static int join(char *out, size_t size, const char *a, const char *b)
{
	int n = a[0] ? snprintf(out, size, "%s/%s", a, b) : snprintf(out, size, "%s", b);

	return n >= 0 && (size_t)n < size;
}

/* Collect every path under root/rel (relative to root), recursively. out: the existing output
 * archive (NULL when there is none), which must not be one of the files packed: the rename at
 * the end would replace it. */
static int walk(entries *e, const char *root, const char *rel, int depth, const struct stat *out,
		cct_err *err)
{
	int rc = CCT_ERROR;
	char abs[CCT_VERITY_PACK_MAX_PATH], child[CCT_VERITY_PACK_MAX_PATH], sp[SHORT_PATH];
	DIR *d = NULL;
	struct dirent *de;
	struct stat st;

	if (depth > CCT_VERITY_PACK_MAX_DEPTH) {
		rc = cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0,
				 "%s: deeper than %d levels (symlink loop?)", short_path(sp, rel),
				 CCT_VERITY_PACK_MAX_DEPTH);
		goto out;
	}
	if (!join(abs, sizeof(abs), root, rel)) {
		rc = cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0, "path too long under %s",
				 short_path(sp, root));
		goto out;
	}
	if (!(d = opendir(abs))) {
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "%s: %s", short_path(sp, abs),
				 strerror(errno));
		goto out;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!join(child, sizeof(child), rel, de->d_name) ||
		    !join(abs, sizeof(abs), root, child)) {
			rc = cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0,
					 "path too long (over %d bytes): %s/%.32s",
					 CCT_VERITY_PACK_MAX_PATH, short_path(sp, rel), de->d_name);
			goto out;
		}
		if (stat(abs, &st) != 0) {
			rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "%s: %s",
					 short_path(sp, abs), strerror(errno));
			goto out;
		}
		if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
			rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
					 "%s: only regular files and directories can be packed",
					 short_path(sp, abs));
			goto out;
		}
		if (out && st.st_dev == out->st_dev && st.st_ino == out->st_ino) {
			rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
					 "%s: is the output archive itself (same file): write the "
					 "archive outside the directory; nothing written",
					 short_path(sp, abs));
			goto out;
		}
		if ((rc = add_entry(e, child, err)) != CCT_OK)
			goto out;
		if (S_ISDIR(st.st_mode) &&
		    (rc = walk(e, root, child, depth + 1, out, err)) != CCT_OK)
			goto out;
	}
	if (errno) {
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "%s: %s", short_path(sp, rel),
				 strerror(errno));
		goto out;
	}
	rc = CCT_OK;
out:
	if (d)
		closedir(d);
	return rc;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int archive_fail(struct archive *a, const char *what, cct_err *err)
{
	char sp[SHORT_PATH];

	return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "%s: %s", short_path(sp, what),
			   archive_error_string(a) ? archive_error_string(a) : "libarchive error");
}

static int add_file(struct archive *a, struct archive_entry *ae, const char *abs,
		    const char *rel, uint8_t *buf, cct_err *err)
{
	int rc = CCT_ERROR, fd = -1;
	struct stat st;
	int64_t left;
	char sp[SHORT_PATH];

	if ((fd = open(abs, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "%s: %s", short_path(sp, abs),
				 strerror(errno));
		goto out;
	}
	archive_entry_clear(ae);
	archive_entry_set_pathname(ae, rel);
	archive_entry_set_mtime(ae, 0, 0);
	archive_entry_set_uid(ae, 0);
	archive_entry_set_gid(ae, 0);
	if (S_ISDIR(st.st_mode)) {
		archive_entry_set_filetype(ae, AE_IFDIR);
		archive_entry_set_perm(ae, 0755);
		archive_entry_set_size(ae, 0);
	} else {
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_perm(ae, (st.st_mode & 0111) ? 0755 : 0644);
		archive_entry_set_size(ae, (la_int64_t)st.st_size);
	}
	if (archive_write_header(a, ae) != ARCHIVE_OK) {
		rc = archive_fail(a, rel, err);
		goto out;
	}
	left = S_ISDIR(st.st_mode) ? 0 : (int64_t)st.st_size;
	while (left > 0) {
		size_t want = left < (int64_t)COPY_CHUNK ? (size_t)left : COPY_CHUNK;
		ssize_t r = read(fd, buf, want);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
					 "%s: %s", short_path(sp, abs), r < 0 ? strerror(errno) :
					 "file shrank while packing");
			goto out;
		}
		if (archive_write_data(a, buf, (size_t)r) != r) {
			rc = archive_fail(a, rel, err);
			goto out;
		}
		left -= r;
	}
	rc = CCT_OK;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int cct_verity_pack(const char *dir, const char *out_path, cct_err *err)
{
	int rc = CCT_ERROR, fd = -1;
	entries e = { NULL, 0, 0 };
	struct archive *a = NULL;
	struct archive_entry *ae = NULL;
	/* tmp names the file to remove on failure: empty until mkstemp made one */
	char tmp[CCT_VERITY_PACK_MAX_PATH + 16] = "", abs[CCT_VERITY_PACK_MAX_PATH];
	uint8_t *buf = NULL;
	char sp[SHORT_PATH];
	struct stat st, ost;
	int have_out, in_place;
	size_t i;

	if (!dir || !out_path || strlen(out_path) >= CCT_VERITY_PACK_MAX_PATH) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "bad pack arguments");
		goto out;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "%s: not a directory",
				 short_path(sp, dir));
		goto out;
	}
	{
		char why[256];

		if (!cct_dl_archive_ok(why, sizeof(why))) {
			rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
					 "verity pack needs libarchive: %s", why);
			goto out;
		}
	}
	/* an existing output: not a directory, and not a file of the tree (checked in walk) */
	have_out = stat(out_path, &ost) == 0;
	if (have_out && S_ISDIR(ost.st_mode)) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				 "%s: is a directory, not an archive file name", short_path(sp, out_path));
		goto out;
	}
	if ((rc = walk(&e, dir, "", 0, have_out ? &ost : NULL, err)) != CCT_OK)
		goto out;
	if (e.count) /* an empty directory has no list to sort (qsort's base must not be NULL) */
		qsort(e.path, e.count, sizeof(*e.path), cmp_path);
	/* a device or FIFO (/dev/null, a block device as the dm-verity data device, a pipe) is
	 * written in place: the temporary file renamed over it replaced the node itself (as root,
	 * -o /dev/null left a regular /dev/null behind) */
	in_place = have_out && !S_ISREG(ost.st_mode);
	if (in_place) {
		if ((fd = open(out_path, O_WRONLY | O_CLOEXEC)) < 0) {
			rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "%s: %s",
					 short_path(sp, out_path), strerror(errno));
			goto out;
		}
	} else {
		snprintf(tmp, sizeof(tmp), "%s.XXXXXX", out_path);
		if ((fd = mkstemp(tmp)) < 0) {
			rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "%s: %s",
					 short_path(sp, tmp), strerror(errno));
			tmp[0] = '\0'; /* nothing was made */
			goto out;
		}
		(void)fchmod(fd, 0644);
	}
	if (!(buf = malloc(COPY_CHUNK)) || !(a = archive_write_new()) ||
	    !(ae = archive_entry_new())) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
		goto out;
	}
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(a, CCT_VERITY_BLOCK_SIZE) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, CCT_VERITY_BLOCK_SIZE) != ARCHIVE_OK ||
	    archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		rc = archive_fail(a, out_path, err);
		goto out;
	}
	for (i = 0; i < e.count; i++) {
		if (!join(abs, sizeof(abs), dir, e.path[i])) {
			rc = cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0, "path too long");
			goto out;
		}
		if ((rc = add_file(a, ae, abs, e.path[i], buf, err)) != CCT_OK)
			goto out;
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		rc = archive_fail(a, out_path, err);
		goto out;
	}
	if (in_place) { /* libarchive padded the last block; nothing to truncate or rename */
		if (close(fd) != 0) {
			fd = -1;
			rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "%s: %s",
					 short_path(sp, out_path), strerror(errno));
			goto out;
		}
		fd = -1;
		rc = CCT_OK;
		goto out;
	}
	/* belt and braces: the block size above already pads; make sure of 4 KiB alignment */
	if (fstat(fd, &st) != 0 ||
	    (st.st_size % CCT_VERITY_BLOCK_SIZE &&
	     ftruncate(fd, st.st_size + (CCT_VERITY_BLOCK_SIZE - st.st_size % CCT_VERITY_BLOCK_SIZE)))) {
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "%s: %s", short_path(sp, tmp),
				 strerror(errno));
		goto out;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "%s: %s", short_path(sp, tmp),
				 strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, out_path) != 0) {
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "%s: %s", short_path(sp, out_path),
				 strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	rc = CCT_OK;
out:
	if (fd >= 0)
		close(fd);
	if (rc != CCT_OK && tmp[0] && fd != -2)
		(void)unlink(tmp);
	if (ae) /* unset (not loaded) when the library is missing */
		archive_entry_free(ae);
	if (a)
		archive_write_free(a);
	for (i = 0; i < e.count; i++)
		free(e.path[i]);
	free(e.path);
	free(buf);
	return rc;
}
