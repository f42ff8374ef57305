/* cctrust verity: model integrity. A reproducible tar of a model directory, and its dm-verity
 * hash tree (format 1, SHA-256, 4096-byte blocks) byte-identical to `veritysetup format`.
 *
 * The model spec "name@revision:root" names a model and pins its dm-verity root hash; it goes
 * into init-data so the composite verification can bind a model to the attested VM. */
#ifndef CCTRUST_VERITY_H
#define CCTRUST_VERITY_H

#include "common.h"
#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CCT_VERITY_BLOCK_SIZE 4096
#define CCT_VERITY_DIGEST_SIZE 32
#define CCT_VERITY_SUPERBLOCK_SIZE 512
#define CCT_VERITY_MAX_SALT 256
/** Largest data device handled: 2^28 blocks (1 TiB); the level-0 hashes are kept in memory. */
#define CCT_VERITY_MAX_DATA_BLOCKS (1ull << 28)
#define CCT_VERITY_MAX_THREADS 64
#define CCT_VERITY_MAX_LEVELS 10
/** Model pack caps. */
#define CCT_VERITY_PACK_MAX_ENTRIES 1000000
#define CCT_VERITY_PACK_MAX_DEPTH 64
#define CCT_VERITY_PACK_MAX_PATH 4096
#define CCT_VERITY_SPEC_MAX 512

/** dm-verity superblock fields cctrust writes and accepts (version 1, hash type 1, sha256,
 *  4096/4096). */
typedef struct cct_verity_params {
	uint8_t uuid[16];
	uint8_t salt[CCT_VERITY_MAX_SALT];
	size_t salt_size;
	uint64_t data_blocks;    /**< 0 on input to format: the whole data file */
} cct_verity_params;

/** Progress callback: done/total data blocks hashed so far (called from the calling thread). */
typedef void (*cct_verity_progress_fn)(uint64_t done, uint64_t total, void *ctx);

/** Serialize the 512-byte superblock. */
CCT_EXTERN void cct_verity_superblock_encode(uint8_t out[CCT_VERITY_SUPERBLOCK_SIZE],
					     const cct_verity_params *p);
/** Parse and check a superblock (signature, version 1, hash type 1, sha256, 4096-byte blocks,
 *  salt size, zero padding). */
CCT_EXTERN int cct_verity_superblock_parse(cct_verity_params *out, const uint8_t *p, size_t n,
					   cct_err *err);
/** "645ac31f-7610-42e1-8434-9d733699eac0" to 16 bytes (byte order as written). */
CCT_EXTERN int cct_verity_uuid_parse(uint8_t out[16], const char *s);
CCT_EXTERN void cct_verity_uuid_format(char out[37], const uint8_t uuid[16]);

/** Build the hash tree of data_path and write the hash file (superblock + tree) to hash_path.
 *  p->data_blocks 0 = floor(file size / 4096), as veritysetup does; on success it holds the
 *  count used. threads <= 0: all cores.
 *  root_out receives the root hash. progress may be NULL. */
CCT_EXTERN int cct_verity_format(uint8_t root_out[CCT_VERITY_DIGEST_SIZE], const char *data_path,
				 const char *hash_path, cct_verity_params *p, int threads,
				 cct_verity_progress_fn progress, void *ctx, cct_err *err);

/** Verify data_path against hash_path and the expected root: the tree top-down, then every
 *  data block. On a mismatch returns CCT_EMEASUREMENT, err->offset = byte offset of the bad
 *  block in its file, *bad_block = its index (data block, or hash-file block when
 *  *bad_in_hash_file is set). */
CCT_EXTERN int cct_verity_verify(uint64_t *bad_block, int *bad_in_hash_file, const char *data_path,
				 const char *hash_path, const uint8_t root[CCT_VERITY_DIGEST_SIZE],
				 int threads, cct_verity_progress_fn progress, void *ctx,
				 cct_err *err);

/** Pack a directory into a reproducible PAX tar (sorted names, mtime 0, owner 0/0 numeric,
 *  modes 0644/0755, regular files and directories only), zero-padded to 4096 bytes. */
CCT_EXTERN int cct_verity_pack(const char *dir, const char *out_path, cct_err *err);

/** A model spec "name@revision:root" (root: 64 hex digits). Borrowed-free: copies into buffers. */
typedef struct cct_verity_model_spec {
	char name[128];
	char revision[128];
	uint8_t root[CCT_VERITY_DIGEST_SIZE];
} cct_verity_model_spec;

CCT_EXTERN int cct_verity_model_spec_parse(cct_verity_model_spec *out, const char *s, cct_err *err);
/** Format into buf (>= CCT_VERITY_SPEC_MAX bytes). */
CCT_EXTERN void cct_verity_model_spec_format(char *buf, size_t size,
					     const cct_verity_model_spec *spec);

#ifdef __cplusplus
}
#endif
#endif
