/* cctrust CLI: shared helpers and the subcommand entry points (one file per area). */
#ifndef CCT_CLI_H
#define CCT_CLI_H

#include <getopt.h>
#include <getopt.h>
#include <stdio.h>
#include <jansson.h>

#include "cctrust/core.h"
#include "cctrust/errors.h"
#include "cctrust/policy.h"
#include "cctrust/policy.h"

/* Exit codes of every verify command (CLI contract). */
#define CCT_EXIT_OK 0       /* verified and policy satisfied */
#define CCT_EXIT_REJECT 1   /* evidence rejected */
#define CCT_EXIT_USAGE 2    /* usage error or unreadable input */

/* Subcommands: argv[0] is the subcommand name ("snp", "tdx", ...). */
int cct_cmd_snp(int argc, char **argv);
int cct_cmd_tdx(int argc, char **argv);
int cct_cmd_gpu(int argc, char **argv);
int cct_cmd_measure(int argc, char **argv);
int cct_cmd_model(int argc, char **argv);
int cct_cmd_verify(int argc, char **argv);
int cct_cmd_policy(int argc, char **argv);
int cct_cmd_token(int argc, char **argv);
int cct_cmd_sim(int argc, char **argv);
int cct_cmd_evidence(int argc, char **argv);
int cct_cmd_gate(int argc, char **argv);
int cct_cmd_kbs(int argc, char **argv);
int cct_cmd_cert(int argc, char **argv);
int cct_cmd_collateral(int argc, char **argv);
int cct_cmd_eventlog(int argc, char **argv);
int cct_cmd_tpm(int argc, char **argv);
int cct_cmd_vtpm(int argc, char **argv);
int cct_cmd_ratls(int argc, char **argv);
int cct_cmd_launch(int argc, char **argv);
int cct_cmd_host(int argc, char **argv);

/* A JSON string of s (a file name, a message): as is when it is UTF-8, else with each byte
 * outside a well-formed sequence written as the text \xHH. Never NULL (json null for NULL). */
json_t *cct_cli_json_text(const char *s);

/* Print "cctrust: <msg>" to stderr, return CCT_EXIT_USAGE. */
int cct_cli_usage_error(const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 1, 2)))
#endif
	;
/* 1 (after the message "OPT FILE: ...") when the n bytes of b are not text: a NUL byte (a C
 * string would end there, dropping the rest) or bytes that are not UTF-8. */
int cct_cli_text_check(const char *opt, const char *file, const uint8_t *b, size_t n);
/* Exit code for a library status: OK -> 0, input/usage class -> 2, anything else -> 1. */
int cct_cli_exit_code(int rc);
/* {"code","stage","message"} (+ "offset" when non-zero) for err, or JSON null when rc == OK. */
json_t *cct_cli_error_json(int rc, const cct_err *err);
/* Print one JSON object on one line (compact) or pretty; takes ownership of obj. */
void cct_cli_print_json(json_t *obj, int one_line);
/* A failed command: {"error": cct_cli_error_json} on stdout (json), or "cctrust: MESSAGE" on
 * stderr. */
void cct_cli_print_error(int rc, const cct_err *err, int json);
/* Parse --at value; on error prints and returns -1. */
int cct_cli_parse_time(time_t *out, const char *s);
/* Print a human "REJECTED (stage/code) at offset: message" line to stdout. */
void cct_cli_print_reject(const char *what, int rc, const cct_err *err);
/* DIR/rel for a simulated TEE directory made by `cctrust sim init DIR` (static storage,
 * valid for the process; at most 16 live at once). */
const char *cct_cli_sim_path(const char *dir, const char *rel);

/* Options: every command parses its options with getopt_long through this one helper (GNU
 * argument permutation unless shortopts starts with '+', getopt's own message for unknown
 * options; shortopts NULL = long options only; -h means --help where a command has --help and
 * no -h of its own). Call cct_cli_getopt_begin() before the first
 * cct_cli_getopt() of an argv. */
int cct_cli_getopt_begin(void);
/* A whole-number option value in min..max into *out: 0, or CCT_EXIT_USAGE after saying which
 * option, the value and the range ("abc", "1e6" or "10m" are never read as a number). */
int cct_cli_parse_long(long *out, const char *opt, const char *v, long min, long max);
/* 1 when --help or -h is among argv[from..] before a "--": for the commands that hand their
 * subcommands' arguments on unparsed and answer help with one usage text for them all. */
int cct_cli_asks_help(int argc, char **argv, int from);
int cct_cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);
/* The long name of getopt value c in longopts (as the user may have written it), or "?". */
const char *cct_cli_long_name(const struct option *longopts, int c);
/* An option subcommand sub of cmd does not read, refused (never accepted and ignored): "CMD SUB:
 * --NAME does not apply to it (cctrust CMD --help lists each subcommand's options)", exit 2. */
int cct_cli_foreign_option(const char *cmd, const char *sub, const struct option *longopts,
			   int c);

/* The single verifiers' --policy FILE: a cctrust.policy/v1 document, or a legacy format of
 * `kind` ("snp"/"tdx"/"gpu") converted with one deprecation warning per key on stderr; the
 * per-verifier flags are `overrides` ({"snp": {"max_vmpl": 1}}). 0 or CCT_EXIT_USAGE. */
int cct_cli_policy_load(cct_policy **out, const char *file, const char *kind,
			const json_t *overrides);
/* Evaluate pol over c: every failure (new reference, array); when any fails and *rc is CCT_OK,
 * *rc/err become the policy error (CCT_EPOLICY, stage policy). */
json_t *cct_cli_policy_apply(const cct_policy *pol, const cct_policy_claims *c, int *rc,
			     cct_err *err);
/* "  rule <name>: <message>" per failure, on stdout. */
void cct_cli_print_failures(const json_t *failures);
/* Text mode: "WHAT: checks skipped ...: a, b" on stderr when the array is not empty (every
 * verify command lists the checks it did not perform; JSON: "checks_skipped"). */
void cct_cli_print_skipped(const char *what, const json_t *skipped);
/* 1 when two output paths name one file, existing or not: cct_file_same, or the same name in
 * one directory ("x", "./x"): for refusing two outputs that would overwrite each other. */
int cct_cli_same_output(const char *a, const char *b);
/* The request a guest binds its evidence to, checked before any evidence is made (what the
 * verifier would refuse later, with a less helpful error): --nonce must be non-empty base64,
 * --tee-pubkey (named as src in the message) a usable public JWK. 0 or CCT_EXIT_USAGE after
 * naming the option. */
int cct_cli_check_nonce_b64(const char *nonce_b64);
int cct_cli_check_tee_pubkey(const json_t *jwk, const char *src);
/* 1 when a verify command's inputs (cct_inputs_each arguments) may be more than one: several
 * arguments, or a directory; then each result names its input. */
int cct_cli_inputs_many(char *const *args, int n);
/* The run over the inputs stopped (cct_inputs_each's err): said on standard error and, when it
 * stopped on one input (a directory without input files, CCT_EIO) with --json and several
 * inputs (one object each), that input's object too: obj (taken; NULL: {"verified": false})
 * with "error", on one line; a usage error of the whole line ("-" twice) is main's one error
 * object. Returns CCT_EXIT_USAGE. */
int cct_cli_inputs_stopped(const cct_err *err, int json, int multi, json_t *obj);
/* An input file of n bytes that holds nothing but ASCII white space: CCT_ETRUNC (stage input,
 * "WHAT PATH is empty"), an unreadable input (exit 2) as in every verify command, not
 * evidence that is rejected; else CCT_OK. */
int cct_cli_empty_input(const uint8_t *b, size_t n, const char *what, const char *path,
			cct_err *err);

#endif
