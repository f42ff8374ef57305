/* cctrust: status codes, failing stage, and the error record filled by every fallible call. */
#ifndef CCTRUST_ERRORS_H
#define CCTRUST_ERRORS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Status codes. Grouped by kind; codes are only ever added, never renumbered. */
typedef enum {
	CCT_OK = 0,
	CCT_ERROR = -1,        /**< internal error (should not happen) */
	CCT_ENOMEM = -2,
	CCT_EINVAL = -3,       /**< API misuse or bad option */
	CCT_EIO = -4,          /**< a file or directory could not be read */
	CCT_ENETWORK = -5,     /**< a fetch failed or network was forbidden (--offline) */
	/* -10..-19: the bytes are malformed */
	CCT_ETRUNC = -10,      /**< input ends before a field */
	CCT_ETRAILING = -11,   /**< bytes after the end of a structure */
	CCT_EFORMAT = -12,     /**< a field holds a value the format forbids */
	CCT_EUNSUPPORTED = -13,/**< a version/algorithm this build does not handle */
	CCT_ETOOBIG = -14,     /**< a length or count above a named cap */
	CCT_EMBZ = -15,        /**< a reserved field is not zero */
	CCT_EENCODING = -16,   /**< hex/base64/PEM/JSON text that does not decode */
	/* -20..-39: well-formed but not trustworthy */
	CCT_ESIGNATURE = -20,  /**< a signature does not verify */
	CCT_ECHAIN = -21,      /**< certificate chain broken or not to a pinned root */
	CCT_EREVOKED = -22,    /**< a certificate is revoked (CRL/OCSP) */
	CCT_EEXPIRED = -23,    /**< outside a validity window at the verification time */
	CCT_EPOLICY = -24,     /**< a policy rule is not satisfied */
	CCT_ETCB = -25,        /**< TCB too old / mismatching */
	CCT_ENONCE = -26,      /**< nonce / report_data mismatch */
	CCT_ECOLLATERAL = -27, /**< collateral missing, stale or inconsistent (fail closed) */
	CCT_EMEASUREMENT = -28,/**< a measurement differs from its reference */
	CCT_EBINDING = -29,    /**< evidence not bound to the request */
	CCT_EUNTRUSTED = -30   /**< a key or root that is not trusted */
} cct_status;

/** Where verification stopped. */
typedef enum {
	CCT_STAGE_NONE = 0,
	CCT_STAGE_INPUT,       /**< reading / decoding the input */
	CCT_STAGE_PARSE,       /**< structure of the evidence */
	CCT_STAGE_CHAIN,       /**< certificate chain to a pinned root */
	CCT_STAGE_REVOCATION,  /**< CRL / OCSP */
	CCT_STAGE_SIGNATURE,   /**< evidence signature */
	CCT_STAGE_TCB,         /**< TCB comparison / evaluation */
	CCT_STAGE_COLLATERAL,  /**< collateral fetch / freshness */
	CCT_STAGE_MEASUREMENT, /**< golden measurement comparison */
	CCT_STAGE_BINDING,     /**< nonce / report_data / runtime data binding */
	CCT_STAGE_POLICY,      /**< relying-party policy */
	CCT_STAGE_TOKEN        /**< result token */
} cct_stage;

#define CCT_ERR_MSG_SIZE 240

/** The error record. Fixed size, no allocation; messages never contain secrets. */
typedef struct cct_err {
	int code;                    /**< cct_status */
	cct_stage stage;
	size_t offset;               /**< byte offset in the evidence where it applies (else 0) */
	char msg[CCT_ERR_MSG_SIZE];  /**< human-readable, actionable */
} cct_err;

/** Fill err (may be NULL) and return code. printf-style message. */
CCT_EXTERN int cct_err_set(cct_err *err, int code, cct_stage stage, size_t offset,
			   const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 5, 6)))
#endif
	;
/** Reset err to OK (err may be NULL). */
CCT_EXTERN void cct_err_clear(cct_err *err);
/** Static description of a code. */
CCT_EXTERN const char *cct_strerror(int code);
/** Stable machine name of a code, e.g. "signature" (used in JSON output). */
CCT_EXTERN const char *cct_code_name(int code);
/** Stable machine name of a stage, e.g. "chain". */
CCT_EXTERN const char *cct_stage_name(cct_stage stage);
/** 1 if code means malformed/unreadable input (exit 2 class), else 0. */
CCT_EXTERN int cct_code_is_input(int code);

#ifdef __cplusplus
}
#endif
#endif
