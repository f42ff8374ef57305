/* cctrust core utilities: encodings, time, constant-time compare, bounded file reads. */
#ifndef CCTRUST_CORE_H
#define CCTRUST_CORE_H

#include "common.h"
#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest evidence/collateral file cctrust reads (named cap). */
#define CCT_MAX_INPUT_FILE (64u * 1024u * 1024u)

/** Lowercase hex of n bytes into out (2n+1 bytes incl. NUL). */
CCT_EXTERN void cct_hex_encode(char *out, const uint8_t *in, size_t n);
/** Hex string (any case, optional whitespace ignored) to bytes. *out is malloc'd. */
CCT_EXTERN int cct_hex_decode(uint8_t **out, size_t *out_len, const char *s, size_t slen,
			      cct_err *err);
/** Exact-length hex decode into buf (n bytes); EENCODING if not exactly 2n hex digits. */
CCT_EXTERN int cct_hex_decode_fixed(uint8_t *buf, size_t n, const char *s, cct_err *err);
/** Standard or URL-safe base64 (padding optional, whitespace ignored). *out is malloc'd. */
CCT_EXTERN int cct_b64_decode(uint8_t **out, size_t *out_len, const char *s, size_t slen,
			      cct_err *err);
/** base64 (url=0: standard with padding; url=1: base64url without padding). malloc'd. */
CCT_EXTERN char *cct_b64_encode(const uint8_t *in, size_t n, int url);
/** The 64 characters of base64url (RFC 4648 section 5), in value order. */
#define CCT_B64URL_ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

/** Parse RFC 3339 ("2024-05-01T12:00:00Z", "+hh:mm", fractional seconds) or a bare date. */
CCT_EXTERN int cct_time_parse(time_t *out, const char *s, cct_err *err);
/** A whole decimal number in min..max, as strtol reads it (leading white space, an optional
 *  sign, digits) with nothing after it: "abc", "1e6", "10m", "5 " and "" are refused, never
 *  read as a number. CCT_OK, or CCT_EINVAL with *out untouched. */
CCT_EXTERN int cct_parse_long(long *out, const char *s, long min, long max);
/** Format as RFC 3339 UTC ("2024-05-01T12:00:00Z") into buf (>= 21 bytes). */
CCT_EXTERN void cct_time_format(char *buf, size_t size, time_t t);

/** 1 if equal; time depends only on n. */
CCT_EXTERN int cct_ct_eq(const void *a, const void *b, size_t n);
/** Overwrite key material in a way the compiler keeps. */
CCT_EXTERN void cct_wipe(void *p, size_t n);
/** 1 if all n bytes are zero. */
CCT_EXTERN int cct_is_zero(const void *p, size_t n);

/** Read a whole file (at most max bytes; 0 = CCT_MAX_INPUT_FILE). *out malloc'd, NUL-terminated. */
CCT_EXTERN int cct_file_read(uint8_t **out, size_t *out_len, const char *path, size_t max,
			     cct_err *err);
/** Called once per input by cct_inputs_each with a file path, or "-" for standard input; set
 *  *stop to end the iteration early. */
typedef void (*cct_input_fn)(void *ctx, const char *path, int *stop);
/** The inputs of a command, one at a time, in order: each argument is a file (or a path that
 *  does not exist: fn gets it and reports it), "-" (standard input), or a directory, whose
 *  regular files (not recursive, no dot files) come sorted by name. Nothing is read here and
 *  no list of all inputs is built, so a command that handles one input at a time keeps its
 *  memory flat however many inputs it gets. CCT_OK, or EIO / ENOMEM (a directory that cannot
 *  be read, or holds no input file: the inputs before it were passed already), or EINVAL
 *  when "-" appears more than once (nothing passed: standard input can be read once). */
CCT_EXTERN int cct_inputs_each(char *const *args, size_t n, cct_input_fn fn, void *ctx,
			       cct_err *err);
/** 1 when both paths name one existing file (same device and inode: the same path, another
 *  spelling, a hard link or a symlink to it), else 0. For refusing an output that is one of
 *  the inputs before anything is written. */
CCT_EXTERN int cct_file_same(const char *a, const char *b);
/** Write a whole file (mode 0644 unless private: 0600), atomically via rename. */
CCT_EXTERN int cct_file_write(const char *path, const void *data, size_t n, int private_,
			      cct_err *err);

/** Evidence file contents that may be raw binary, hex text or base64 text: decode to bytes.
 *  If the input is exactly expect_len raw bytes (or expect_len is 0 and it is not text), it is
 *  taken as raw. Text of hex digits only is hex (tried as base64 only when it decodes to fewer
 *  than expect_len bytes; more is kept: an SNP report followed by its certificate table): an
 *  odd number of them is EENCODING ("hex text has an odd number of digits (N)"), never tried
 *  as base64. *out malloc'd. */
CCT_EXTERN int cct_input_decode(uint8_t **out, size_t *out_len, const uint8_t *in, size_t n,
				size_t expect_len, cct_err *err);

#ifdef __cplusplus
}
#endif
#endif
