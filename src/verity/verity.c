/* dm-verity hash tree, format 1 (cryptsetup lib/verity: superblock, levels, salted SHA-256).
 *
 * Layout of the hash file written by `veritysetup format` (and here, byte for byte):
 *   block 0: the 512-byte superblock, zero-padded to 4096;
 *   then the tree levels, the top level (one block) first and level 0 (data hashes) last.
 * Level i has ceil(data_blocks / 128^(i+1)) blocks; a digest is SHA-256(salt || block), 128 per
 * hash block, unused slots zero. The root hash is the digest of the top block (or of the only
 * data block when there is a single one and no level at all). Level 0 is hashed on all cores. */
#define _GNU_SOURCE /* pread, posix_fadvise, O_CLOEXEC, mkstemp */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "cctrust/core.h"
#include "cctrust/verity.h"
#include "core/rd.h"

#define BS CCT_VERITY_BLOCK_SIZE
#define DS CCT_VERITY_DIGEST_SIZE
#define PER_BLOCK_BITS 7              /* 4096 / 32 = 128 digests per hash block */
#define CHUNK_BLOCKS 256              /* 1 MiB reads */

static const uint8_t sb_signature[8] = { 'v', 'e', 'r', 'i', 't', 'y', 0, 0 };

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

void cct_verity_superblock_encode(uint8_t out[CCT_VERITY_SUPERBLOCK_SIZE], const cct_verity_params *p)
{
	int i;

	memset(out, 0, CCT_VERITY_SUPERBLOCK_SIZE);
	memcpy(out, sb_signature, 8);          /* 0x00 signature */
	put32(out + 8, 1);                     /* 0x08 version */
	put32(out + 12, 1);                    /* 0x0c hash_type (format 1) */
	memcpy(out + 16, p->uuid, 16);         /* 0x10 uuid */
	memcpy(out + 32, "sha256", 6);         /* 0x20 algorithm[32] */
	put32(out + 64, BS);                   /* 0x40 data_block_size */
	put32(out + 68, BS);                   /* 0x44 hash_block_size */
	for (i = 0; i < 8; i++)                /* 0x48 data_blocks */
		out[72 + i] = (uint8_t)(p->data_blocks >> (8 * i));
	out[80] = (uint8_t)p->salt_size;       /* 0x50 salt_size (u16) */
	out[81] = (uint8_t)(p->salt_size >> 8);
	memcpy(out + 88, p->salt, p->salt_size); /* 0x58 salt[256], then 168 bytes padding */
}

int cct_verity_superblock_parse(cct_verity_params *out, const uint8_t *p, size_t n, cct_err *err)
{
	int rc = CCT_ERROR;
	const uint8_t *sig, *alg;
	uint32_t version, type, dbs, hbs;
	uint16_t salt_size;
	cct_rd r;

	memset(out, 0, sizeof(*out));
	cct_rd_init(&r, p, n < CCT_VERITY_SUPERBLOCK_SIZE ? n : CCT_VERITY_SUPERBLOCK_SIZE);
	cct_rd_field(&r, "signature");
	sig = cct_rd_take(&r, 8);
	cct_rd_field(&r, "version");
	version = cct_rd_u32le(&r);
	cct_rd_field(&r, "hash_type");
	type = cct_rd_u32le(&r);
	cct_rd_field(&r, "uuid");
	cct_rd_copy(&r, out->uuid, 16);
	cct_rd_field(&r, "algorithm");
	alg = cct_rd_take(&r, 32);
	cct_rd_field(&r, "data_block_size");
	dbs = cct_rd_u32le(&r);
	cct_rd_field(&r, "hash_block_size");
	hbs = cct_rd_u32le(&r);
	cct_rd_field(&r, "data_blocks");
	out->data_blocks = cct_rd_u64le(&r);
	cct_rd_field(&r, "salt_size");
	salt_size = cct_rd_u16le(&r);
	cct_rd_field(&r, "pad1");
	cct_rd_mbz(&r, 6);
	cct_rd_field(&r, "salt");
	cct_rd_copy(&r, out->salt, CCT_VERITY_MAX_SALT);
	cct_rd_field(&r, "pad2");
	cct_rd_mbz(&r, 168);
	if ((rc = cct_rd_done(&r, err, "dm-verity superblock")) != CCT_OK)
		goto out;
	if (memcmp(sig, sb_signature, 8) != 0) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, 0,
				 "not a dm-verity hash file (no \"verity\" superblock signature)");
		goto out;
	}
	if (version != 1 || type != 1) {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_PARSE, 8,
				 "superblock version %u hash type %u (expected 1 and 1)", version, type);
		goto out;
	}
	if (memcmp(alg, "sha256", 7) != 0 || !cct_is_zero(alg + 7, 25)) {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_PARSE, 32,
				 "hash algorithm is not sha256");
		goto out;
	}
	if (dbs != BS || hbs != BS) {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_PARSE, 64,
				 "block sizes %u/%u (expected 4096/4096)", dbs, hbs);
		goto out;
	}
	if (salt_size > CCT_VERITY_MAX_SALT || !cct_is_zero(out->salt + salt_size,
							    CCT_VERITY_MAX_SALT - salt_size)) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_PARSE, 80,
				 "salt size %u invalid or bytes after the salt not zero", salt_size);
		goto out;
	}
	if (out->data_blocks == 0 || out->data_blocks > CCT_VERITY_MAX_DATA_BLOCKS) {
		rc = cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_PARSE, 72,
				 "data_blocks %llu outside 1..%llu",
				 (unsigned long long)out->data_blocks, CCT_VERITY_MAX_DATA_BLOCKS);
		goto out;
	}
	out->salt_size = salt_size;
	rc = CCT_OK;
out:
	return rc;
}

int cct_verity_uuid_parse(uint8_t out[16], const char *s)
{
	size_t i, k = 0;

	for (i = 0; s[i]; i++) {
		int v;
		char c = s[i];

		if (c == '-' && (i == 8 || i == 13 || i == 18 || i == 23))
			continue;
		if (c >= '0' && c <= '9') v = c - '0';
		else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
		else return CCT_EINVAL;
		if (k >= 32)
			return CCT_EINVAL;
		if (k % 2 == 0)
			out[k / 2] = (uint8_t)(v << 4);
		else
			out[k / 2] |= (uint8_t)v;
		k++;
	}
	return (k == 32 && i == 36) ? CCT_OK : CCT_EINVAL;
}

void cct_verity_uuid_format(char out[37], const uint8_t u[16])
{
	static const char hx[] = "0123456789abcdef";
	int i, k = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[k++] = '-';
		out[k++] = hx[u[i] >> 4];
		out[k++] = hx[u[i] & 15];
	}
	out[k] = '\0';
}

/* ---- tree geometry (cryptsetup hash_levels) ---- */
typedef struct geometry {
	int levels;
	uint64_t size[CCT_VERITY_MAX_LEVELS];   /* blocks per level */
	uint64_t pos[CCT_VERITY_MAX_LEVELS];    /* block index in the hash file */
	uint64_t total_blocks;                  /* superblock block + all levels */
} geometry;

static void geometry_of(geometry *g, uint64_t data_blocks)
{
	uint64_t position = 1; /* block 0 holds the superblock */
	int i;

	memset(g, 0, sizeof(*g));
	while (PER_BLOCK_BITS * g->levels < 64 && g->levels < CCT_VERITY_MAX_LEVELS &&
	       ((data_blocks - 1) >> (PER_BLOCK_BITS * g->levels)))
		g->levels++;
	for (i = g->levels - 1; i >= 0; i--) {
		int shift = (i + 1) * PER_BLOCK_BITS;

		g->pos[i] = position;
		g->size[i] = (data_blocks + ((uint64_t)1 << shift) - 1) >> shift;
		position += g->size[i];
	}
	g->total_blocks = position;
}

static void salted_base(SHA256_CTX *c, const cct_verity_params *p)
{
	SHA256_Init(c);
	SHA256_Update(c, p->salt, p->salt_size);
}

static void hash_block(uint8_t out[DS], const SHA256_CTX *base, const uint8_t *blk)
{
	SHA256_CTX c = *base;

	SHA256_Update(&c, blk, BS);
	SHA256_Final(out, &c);
}

/* ---- parallel level-0 hashing ---- */
typedef struct worker {
	pthread_t tid;
	int fd;
	const SHA256_CTX *base;
	uint64_t start, end;       /* data blocks [start, end) */
	uint8_t *digests;          /* digest of block j at digests + j * 32 */
	atomic_uint_fast64_t *done;
	atomic_int *finished;
	int err;                   /* errno, or -1 for a short file */
	uint64_t err_block;
} worker;

static void *worker_run(void *arg)
{
	worker *w = arg;
	uint8_t *buf = malloc((size_t)CHUNK_BLOCKS * BS);
	uint64_t b = w->start;

	if (!buf)
		w->err = ENOMEM;
	while (buf && b < w->end && !w->err) {
		uint64_t n = w->end - b < CHUNK_BLOCKS ? w->end - b : CHUNK_BLOCKS, k;
		size_t want = (size_t)n * BS, got = 0;

		while (got < want) {
			ssize_t r = pread(w->fd, buf + got, want - got, (off_t)(b * BS + got));

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				w->err = r < 0 ? errno : -1;
				w->err_block = b + got / BS;
				break;
			}
			got += (size_t)r;
		}
		if (w->err)
			break;
		for (k = 0; k < n; k++)
			hash_block(w->digests + (b + k) * DS, w->base, buf + k * BS);
		b += n;
		atomic_fetch_add(w->done, n);
	}
	free(buf);
	atomic_fetch_add(w->finished, 1);
	return NULL;
}

static int cpu_count(int threads)
{
	long n;

	if (threads > 0)
		return threads > CCT_VERITY_MAX_THREADS ? CCT_VERITY_MAX_THREADS : threads;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	return n > CCT_VERITY_MAX_THREADS ? CCT_VERITY_MAX_THREADS : (int)n;
}

static int hash_data(uint8_t *digests, int fd, uint64_t nblocks, const SHA256_CTX *base,
		     int threads, cct_verity_progress_fn progress, void *ctx, const char *path,
		     cct_err *err)
{
	int rc = CCT_ERROR, i;
	worker w[CCT_VERITY_MAX_THREADS];
	atomic_uint_fast64_t done = 0;
	atomic_int finished = 0;
	uint64_t per;

	threads = cpu_count(threads);
	if ((uint64_t)threads > nblocks)
		threads = (int)nblocks;
	per = (nblocks + (uint64_t)threads - 1) / (uint64_t)threads;
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	memset(w, 0, sizeof(w));
	for (i = 0; i < threads; i++) {
		w[i].fd = fd;
		w[i].base = base;
		w[i].start = per * (uint64_t)i;
		w[i].end = per * (uint64_t)(i + 1) < nblocks ? per * (uint64_t)(i + 1) : nblocks;
		w[i].digests = digests;
		w[i].done = &done;
		w[i].finished = &finished;
		if (w[i].start >= w[i].end) {
			atomic_fetch_add(&finished, 1);
			continue;
		}
		if (pthread_create(&w[i].tid, NULL, worker_run, &w[i]) != 0) {
			w[i].err = EAGAIN;
			atomic_fetch_add(&finished, 1);
			continue;
		}
	}
	while (atomic_load(&finished) < threads) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		if (progress)
			progress(atomic_load(&done), nblocks, ctx);
		nanosleep(&ts, NULL);
	}
	for (i = 0; i < threads; i++)
		if (w[i].tid)
			pthread_join(w[i].tid, NULL);
	if (progress)
		progress(atomic_load(&done), nblocks, ctx);
	for (i = 0; i < threads; i++) {
		if (w[i].err) {
			rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, w[i].err_block * BS,
					 "%s: cannot read data block %llu: %s", path,
					 (unsigned long long)w[i].err_block,
					 w[i].err > 0 ? strerror(w[i].err) : "file shorter than expected");
			goto out;
		}
	}
	rc = CCT_OK;
out:
	return rc;
}

/* Upper levels: digests of level i blocks into level i+1. */
static void hash_level(uint8_t *dst, const uint8_t *src, uint64_t src_blocks, const SHA256_CTX *b)
{
	uint64_t k;

	for (k = 0; k < src_blocks; k++)
		hash_block(dst + k * DS, b, src + k * BS);
}

static int open_data(int *fd, uint64_t *blocks, struct stat *st, const char *path, cct_err *err)
{
	/* O_NONBLOCK: a FIFO is refused below, but a plain open of one without a writer blocked
	 * for ever first (model verity FIFO hung instead of saying "not a regular file") */
	if ((*fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "%s: %s", path, strerror(errno));
	if (fstat(*fd, st) != 0 || (!S_ISREG(st->st_mode) && !S_ISBLK(st->st_mode))) {
		close(*fd);
		*fd = -1;
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
				   "%s: not a regular file or block device", path);
	}
	(void)fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) & ~O_NONBLOCK);
	*blocks = (uint64_t)st->st_size / BS;
	return CCT_OK;
}

/* The hash file must not be the data file under another name (the same path, a hard link, a
 * symlink, /proc/self/fd/N): writing it would destroy the data it describes. */
static int not_the_data(const struct stat *hs, const struct stat *ds, const char *hash_path,
			const char *data_path, cct_err *err)
{
	if (hs->st_dev != ds->st_dev || hs->st_ino != ds->st_ino)
		return CCT_OK;
	return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
			   "hash file %.96s is the data file %.96s itself (same file): nothing "
			   "written", hash_path, data_path);
}

/* Write the hash file; it is opened without truncation and checked against the data file
 * before a byte changes (no window between a check by name and the write). */
static int write_all(const char *path, const uint8_t *p, size_t n, const struct stat *data_st,
		     const char *data_path, cct_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644), rc;
	struct stat st;
	size_t off = 0;

	if (fd < 0)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "%s: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	if ((rc = not_the_data(&st, data_st, path, data_path, err)) != CCT_OK) {
		close(fd);
		return rc;
	}
	if (S_ISREG(st.st_mode) && ftruncate(fd, 0) != 0) {
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "%s: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	while (off < n) {
		ssize_t w = write(fd, p + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = errno;

			close(fd);
			return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, off, "%s: %s", path,
					   strerror(e));
		}
		off += (size_t)w;
	}
	if (close(fd) != 0)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "%s: %s", path, strerror(errno));
	return CCT_OK;
}

int cct_verity_format(uint8_t root_out[DS], const char *data_path, const char *hash_path,
		      cct_verity_params *p, int threads, cct_verity_progress_fn progress,
		      void *ctx, cct_err *err)
{
	int rc = CCT_ERROR, fd = -1, i;
	uint64_t file_blocks = 0, n;
	uint8_t *img = NULL, *lvl0 = NULL;
	cct_verity_params prm;
	SHA256_CTX base;
	geometry g;
	struct stat ds, hs;

	if (!root_out || !data_path || !hash_path || !p || p->salt_size > CCT_VERITY_MAX_SALT) {
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "bad verity format arguments");
		goto out;
	}
	if ((rc = open_data(&fd, &file_blocks, &ds, data_path, err)) != CCT_OK)
		goto out;
	/* refused before hashing (and checked again on the open hash file before writing) */
	if (stat(hash_path, &hs) == 0 &&
	    (rc = not_the_data(&hs, &ds, hash_path, data_path, err)) != CCT_OK)
		goto out;
	prm = *p;
	n = prm.data_blocks ? prm.data_blocks : file_blocks;
	if (n == 0 || n > file_blocks || n > CCT_VERITY_MAX_DATA_BLOCKS) {
		rc = cct_err_set(err, n > CCT_VERITY_MAX_DATA_BLOCKS ? CCT_ETOOBIG : CCT_EINVAL,
				 CCT_STAGE_INPUT, 0,
				 "%s: %llu data blocks of 4096 bytes requested, file holds %llu "
				 "(need 1..%llu)", data_path, (unsigned long long)n,
				 (unsigned long long)file_blocks, CCT_VERITY_MAX_DATA_BLOCKS);
		goto out;
	}
	prm.data_blocks = n;
	geometry_of(&g, n);
	salted_base(&base, &prm);
	if (!(img = calloc((size_t)g.total_blocks, BS))) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
		goto out;
	}
	cct_verity_superblock_encode(img, &prm);
	if (g.levels == 0) {
		/* one data block: no tree, the root is its digest */
		if ((rc = hash_data(root_out, fd, 1, &base, 1, progress, ctx, data_path, err)))
			goto out;
	} else {
		lvl0 = img + g.pos[0] * BS;
		if ((rc = hash_data(lvl0, fd, n, &base, threads, progress, ctx, data_path, err)))
			goto out;
		for (i = 0; i + 1 < g.levels; i++)
			hash_level(img + g.pos[i + 1] * BS, img + g.pos[i] * BS, g.size[i], &base);
		hash_block(root_out, &base, img + g.pos[g.levels - 1] * BS);
	}
	if ((rc = write_all(hash_path, img, (size_t)g.total_blocks * BS, &ds, data_path, err)))
		goto out;
	p->data_blocks = n;
	rc = CCT_OK;
out:
	if (fd >= 0)
		close(fd);
	free(img);
	return rc;
}

/* Grow *buf to want bytes and read fd into it from *got on, up to want (fewer at its end):
 * the hash file is read in two steps on one descriptor, its superblock and then as far as the
 * superblock says the tree goes, never to a blind cap (a device such as /dev/zero has no
 * end). */
static int read_upto(int fd, uint8_t **buf, size_t *got, size_t want, const char *path,
		     cct_err *err)
{
	uint8_t *p = realloc(*buf, want ? want : 1);

	if (!p)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	*buf = p;
	while (*got < want) {
		ssize_t r = read(fd, p + *got, want - *got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, *got, "cannot read %s: %s",
					   path, strerror(errno));
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return CCT_OK;
}

int cct_verity_verify(uint64_t *bad_block, int *bad_in_hash, const char *data_path,
		      const char *hash_path, const uint8_t root[DS], int threads,
		      cct_verity_progress_fn progress, void *ctx, cct_err *err)
{
	int rc = CCT_ERROR, fd = -1, hfd = -1, i;
	uint8_t *hf = NULL, *digests = NULL, d[DS];
	size_t hf_n = 0;
	uint64_t file_blocks = 0, k, hash_max;
	cct_verity_params prm;
	SHA256_CTX base;
	geometry g;
	struct stat dst;

	*bad_block = 0;
	*bad_in_hash = 0;
	/* the hash file: the superblock first, then as far as its tree goes (at most 1/127 of
	 * the data cap), whatever follows left unread */
	hash_max = (CCT_VERITY_MAX_DATA_BLOCKS / 64 + 16) * BS;
	if ((hfd = open(hash_path, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "cannot read %s: %s", hash_path,
				 strerror(errno));
		goto out;
	}
	if ((rc = read_upto(hfd, &hf, &hf_n, BS, hash_path, err)) != CCT_OK)
		goto out;
	if ((rc = cct_verity_superblock_parse(&prm, hf, hf_n, err)) != CCT_OK)
		goto out;
	geometry_of(&g, prm.data_blocks);
	if (g.total_blocks * BS > hash_max) {
		rc = cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_PARSE, 0,
				 "hash file: a tree for %llu data blocks is above the cap",
				 (unsigned long long)prm.data_blocks);
		goto out;
	}
	if ((rc = read_upto(hfd, &hf, &hf_n, (size_t)(g.total_blocks * BS), hash_path, err)) !=
	    CCT_OK)
		goto out;
	if (hf_n < g.total_blocks * BS) {
		rc = cct_err_set(err, CCT_ETRUNC, CCT_STAGE_PARSE, hf_n,
				 "hash file is %zu bytes; its tree for %llu data blocks needs %llu",
				 hf_n, (unsigned long long)prm.data_blocks,
				 (unsigned long long)(g.total_blocks * BS));
		goto out;
	}
	salted_base(&base, &prm);
	/* top-down: root, then each level against the one above, so level 0 is trusted */
	if (g.levels > 0) {
		hash_block(d, &base, hf + g.pos[g.levels - 1] * BS);
		if (!cct_ct_eq(d, root, DS)) {
			*bad_block = g.pos[g.levels - 1];
			*bad_in_hash = 1;
			rc = cct_err_set(err, CCT_EMEASUREMENT, CCT_STAGE_MEASUREMENT,
					 g.pos[g.levels - 1] * BS,
					 "root hash mismatch: the top hash block (hash file block %llu) "
					 "does not hash to the expected root",
					 (unsigned long long)g.pos[g.levels - 1]);
			goto out;
		}
		for (i = g.levels - 1; i > 0; i--) {
			for (k = 0; k < g.size[i - 1]; k++) {
				hash_block(d, &base, hf + (g.pos[i - 1] + k) * BS);
				if (memcmp(d, hf + g.pos[i] * BS + k * DS, DS) != 0) {
					*bad_block = g.pos[i - 1] + k;
					*bad_in_hash = 1;
					rc = cct_err_set(err, CCT_EMEASUREMENT, CCT_STAGE_MEASUREMENT,
							 (g.pos[i - 1] + k) * BS,
							 "hash file block %llu (tree level %d) is "
							 "corrupt", (unsigned long long)(g.pos[i - 1] + k),
							 i - 1);
					goto out;
				}
			}
		}
	}
	if ((rc = open_data(&fd, &file_blocks, &dst, data_path, err)) != CCT_OK)
		goto out;
	if (file_blocks < prm.data_blocks) {
		rc = cct_err_set(err, CCT_EMEASUREMENT, CCT_STAGE_MEASUREMENT, file_blocks * BS,
				 "%s has %llu data blocks, the hash tree covers %llu", data_path,
				 (unsigned long long)file_blocks, (unsigned long long)prm.data_blocks);
		*bad_block = file_blocks;
		goto out;
	}
	/* a regular file longer than the tree: model verity covers every whole block of the file
	 * it hashes, so whole blocks past data_blocks were added later and no hash covers them
	 * ("OK (every data block matches root hash)" was printed for a file with blocks appended);
	 * a block device may be larger than its data, as with veritysetup */
	if (S_ISREG(dst.st_mode) && file_blocks > prm.data_blocks) {
		rc = cct_err_set(err, CCT_EMEASUREMENT, CCT_STAGE_MEASUREMENT,
				 prm.data_blocks * BS,
				 "%s has %llu data blocks, the hash tree covers %llu: blocks %llu.. "
				 "(from byte %llu) are not covered by the root hash", data_path,
				 (unsigned long long)file_blocks, (unsigned long long)prm.data_blocks,
				 (unsigned long long)prm.data_blocks,
				 (unsigned long long)(prm.data_blocks * BS));
		*bad_block = prm.data_blocks;
		goto out;
	}
	if (!(digests = malloc((size_t)prm.data_blocks * DS))) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
		goto out;
	}
	if ((rc = hash_data(digests, fd, prm.data_blocks, &base, threads, progress, ctx, data_path,
			    err)) != CCT_OK)
		goto out;
	for (k = 0; k < prm.data_blocks; k++) {
		const uint8_t *want = g.levels ? hf + g.pos[0] * BS + k * DS : root;

		if (memcmp(digests + k * DS, want, DS) != 0) {
			*bad_block = k;
			rc = cct_err_set(err, CCT_EMEASUREMENT, CCT_STAGE_MEASUREMENT, k * BS,
					 "data block %llu (bytes %llu..%llu) does not match its hash",
					 (unsigned long long)k, (unsigned long long)(k * BS),
					 (unsigned long long)(k * BS + BS - 1));
			goto out;
		}
	}
	rc = CCT_OK;
out:
	if (fd >= 0)
		close(fd);
	if (hfd >= 0)
		close(hfd);
	free(hf);
	free(digests);
	return rc;
}
