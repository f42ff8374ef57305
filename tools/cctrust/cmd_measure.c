/* cctrust measure: reference values from launch artifacts.
 *   measure snp   SEV/SEV-ES/SEV-SNP launch digest (+ optional ID block / ID_AUTH_INFO)
 *   measure ovmf-hash   SNP digest of the OVMF pages alone (input of --ovmf-hash)
 *   measure id-block    ID block + ID_AUTH_INFO for a given launch digest
 *   measure tdx   MRTD from the TDVF metadata; RTMR1/RTMR2 of a direct kernel boot */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/sha.h>

#include "cctrust/measure.h"
#include "cli.h"
#include "json/json.h"

#define MAX_KERNEL_FILE (1024u * 1024u * 1024u)

static const char *usage_snp =
	"usage: cctrust measure snp --ovmf OVMF.fd [--mode snp|seves|sev|snp:svsm] [--ovmf-hash HEX]\n"
	"         [--kernel K [--initrd I] [--append CMDLINE]] --vcpus N\n"
	"         (--vcpu-type TYPE | --vcpu-sig SIG | --vcpu-family F --vcpu-model M --vcpu-stepping S)\n"
	"         [--vmm-type qemu|ec2|gce] [--vmm-version N] [--guest-features HEX]\n"
	"         [--svsm SVSM.bin --vars-size N] [--dump-vmsa DIR]\n"
	"         [--id-key ID.pem [--author-key AUTHOR.pem] [--family-id HEX] [--image-id HEX]\n"
	"          [--guest-svn N] [--policy HEX] [--id-block FILE] [--auth-block FILE]] [--json]";

typedef struct idb_args {
	const char *id_key, *author_key, *family_id, *image_id, *id_block_out, *auth_block_out;
	const char *id_sig, *auth_sig;
	uint32_t svn;
	uint64_t policy;
} idb_args;

/* The value of --NAME: a whole number in 0..max (base 0: decimal or 0x hex; 16: hex), else a
 * usage error naming the option, the value and the range. */
static int parse_u64(uint64_t *out, const char *s, int base, const char *name, uint64_t max)
{
	char *end = NULL;
	unsigned long long v;

	*out = 0; /* defined on every path, also on a usage error */
	if (!s || !*s)
		return cct_cli_usage_error("--%s needs a value", name);
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || !end || *end || end == s || s[0] == '-' || s[0] == '+' || s[0] == ' ' ||
	    v > max) {
		if (base == 16)
			return cct_cli_usage_error("--%s: '%s' is not a hex number in 0x0..0x%llx",
						   name, s, (unsigned long long)max);
		return cct_cli_usage_error("--%s: '%s' is not a whole number in 0..%llu%s", name, s,
					   (unsigned long long)max, base ? "" : " (decimal or 0x hex)");
	}
	*out = v;
	return 0;
}

static int read_file(uint8_t **buf, size_t *n, const char *path, size_t max, const char *what,
		     json_t **jerr, cct_err *err)
{
	int rc = cct_file_read(buf, n, path, max, err);

	if (rc != CCT_OK) {
		char m[CCT_ERR_MSG_SIZE];
		size_t w = strlen(what);

		memcpy(m, err->msg, sizeof(m));
		m[sizeof(m) - 1] = '\0';
		if (w + 2 < sizeof(err->msg)) {
			memcpy(err->msg, what, w);
			memcpy(err->msg + w, ": ", 2);
			memcpy(err->msg + w + 2, m, sizeof(err->msg) - w - 2);
			err->msg[sizeof(err->msg) - 1] = '\0';
		}
		*jerr = cct_cli_error_json(rc, err);
	}
	return rc;
}

static const char measure_exit[] =
	"exit: 0 done; 2 usage error, or unreadable, invalid or unsupported input (docs/measure.md)";

static int finish(int rc, const cct_err *err, int json, json_t *out)
{
	if (rc != CCT_OK) {
		cct_cli_print_error(rc, err, json);
		json_decref(out);
		/* measure judges nothing: 1 (rejected) has no meaning here; firmware without the
		 * section a kernel needs, a key of another curve, a signature that does not verify
		 * are all invalid input */
		return CCT_EXIT_USAGE;
	}
	return CCT_EXIT_OK;
}

/* 16 bytes of hex for option opt; the message names the option. */
static int hex16_opt(uint8_t out[16], const char *opt, const char *v, cct_err *err)
{
	cct_err e;
	int rc;

	memset(&e, 0, sizeof(e));
	if ((rc = cct_hex_decode_fixed(out, 16, v, &e)) == CCT_OK)
		return CCT_OK;
	return cct_err_set(err, rc, CCT_STAGE_INPUT, 0, "%s: '%.40s': %s", opt, v,
			   e.msg);
}

/* ID block (+ ID_AUTH_INFO when an author key is given) for digest ld; adds JSON fields and
 * hands back the blocks (idb_out; *auth_out malloc'd, NULL without an author key). Writes
 * nothing: every input is read before any output is written (write_id_blocks). */
static int make_id_block(json_t *o, const uint8_t ld[48], const idb_args *a,
			 uint8_t idb_out[CCT_MEASURE_ID_BLOCK_SIZE], uint8_t **auth_out, cct_err *err)
{
	int rc = CCT_ERROR;
	cct_measure_id_block_opts opts;
	uint8_t idb[CCT_MEASURE_ID_BLOCK_SIZE], id_pub[CCT_MEASURE_SNP_PUBKEY_SIZE];
	uint8_t au_pub[CCT_MEASURE_SNP_PUBKEY_SIZE], id_sig[CCT_MEASURE_SNP_SIG_SIZE];
	uint8_t au_sig[CCT_MEASURE_SNP_SIG_SIZE], digest[48];
	uint8_t *auth = NULL, *idk = NULL, *auk = NULL, *sig = NULL;
	size_t idk_n = 0, auk_n = 0, sig_n = 0;
	char *b64 = NULL;
	json_t *jerr = NULL;

	*auth_out = NULL;
	memset(&opts, 0, sizeof(opts));
	memcpy(opts.launch_digest, ld, 48);
	opts.version = 1;
	opts.guest_svn = a->svn;
	opts.policy = a->policy;
	if (a->family_id && (rc = hex16_opt(opts.family_id, "--family-id", a->family_id, err)))
		goto out;
	if (a->image_id && (rc = hex16_opt(opts.image_id, "--image-id", a->image_id, err)))
		goto out;
	cct_measure_id_block_encode(idb, &opts);
	if ((rc = read_file(&idk, &idk_n, a->id_key, 0, "--id-key", &jerr, err)) != CCT_OK)
		goto out;
	if ((rc = cct_measure_snp_pubkey(id_pub, idk, idk_n, err)) != CCT_OK)
		goto out;
	if (a->id_sig) { /* a signature made elsewhere (HSM): take it, but it must verify */
		if ((rc = read_file(&sig, &sig_n, a->id_sig, 0, "--id-sig", &jerr, err)))
			goto out;
		if (sig_n != sizeof(id_sig)) {
			rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
					 "--id-sig: %zu bytes, expected 512", sig_n);
			goto out;
		}
		memcpy(id_sig, sig, sizeof(id_sig));
		free(sig);
		sig = NULL;
	} else if ((rc = cct_measure_snp_sign(id_sig, idb, sizeof(idb), idk, idk_n, err))) {
		goto out;
	}
	if ((rc = cct_measure_snp_sig_verify(id_sig, idb, sizeof(idb), idk, idk_n, err)))
		goto out;
	b64 = cct_b64_encode(idb, sizeof(idb), 0);
	json_object_set_new(o, "id_block", json_string(b64 ? b64 : ""));
	free(b64);
	b64 = NULL;
	if ((rc = cct_measure_key_digest(digest, idk, idk_n, err)) != CCT_OK)
		goto out;
	b64 = cct_b64_encode(digest, 48, 0);
	json_object_set_new(o, "id_key_digest", json_string(b64 ? b64 : ""));
	free(b64);
	b64 = NULL;
	cct_json__set_hex(o, "id_key_digest_hex", digest, 48);
	memcpy(idb_out, idb, sizeof(idb));
	if (a->author_key) {
		if ((rc = read_file(&auk, &auk_n, a->author_key, 0, "--author-key", &jerr, err)))
			goto out;
		if ((rc = cct_measure_snp_pubkey(au_pub, auk, auk_n, err)) != CCT_OK)
			goto out;
		if (a->auth_sig) {
			if ((rc = read_file(&sig, &sig_n, a->auth_sig, 0, "--auth-sig", &jerr, err)))
				goto out;
			if (sig_n != sizeof(au_sig)) {
				rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
						 "--auth-sig: %zu bytes, expected 512", sig_n);
				goto out;
			}
			memcpy(au_sig, sig, sizeof(au_sig));
		} else if ((rc = cct_measure_snp_sign(au_sig, id_pub, sizeof(id_pub), auk, auk_n,
						       err))) {
			goto out;
		}
		if ((rc = cct_measure_snp_sig_verify(au_sig, id_pub, sizeof(id_pub), auk, auk_n,
						     err)))
			goto out;
		if (!(auth = malloc(CCT_MEASURE_ID_AUTH_SIZE))) {
			rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
			goto out;
		}
		cct_measure_id_auth_encode(auth, id_sig, id_pub, au_sig, au_pub);
		b64 = cct_b64_encode(auth, CCT_MEASURE_ID_AUTH_SIZE, 0);
		json_object_set_new(o, "auth_block", json_string(b64 ? b64 : ""));
		free(b64);
		b64 = NULL;
		if ((rc = cct_measure_key_digest(digest, auk, auk_n, err)) != CCT_OK)
			goto out;
		b64 = cct_b64_encode(digest, 48, 0);
		json_object_set_new(o, "author_key_digest", json_string(b64 ? b64 : ""));
		cct_json__set_hex(o, "author_key_digest_hex", digest, 48);
		*auth_out = auth;
		auth = NULL;
	}
	rc = CCT_OK;
out:
	json_decref(jerr);
	free(b64);
	free(auth);
	free(sig);
	if (idk)
		cct_wipe(idk, idk_n);
	if (auk)
		cct_wipe(auk, auk_n);
	free(idk);
	free(auk);
	return rc;
}

/* Options shared by snp and id-block (their long names, without "--", all take a value). */
static const char *const idb_names[] = { "id-key", "author-key", "family-id", "image-id",
					 "guest-svn", "policy", "id-block", "auth-block",
					 "id-sig", "auth-sig", NULL };

/* k: option name without "--"; returns 1 if it is an ID-block option (consumed), 0 if not,
 * -1 on error. */
static int idb_option(idb_args *a, const char *k, const char *v)
{
	uint64_t u;
	size_t i;
	int known = 0;

	for (i = 0; idb_names[i]; i++)
		known |= !strcmp(k, idb_names[i]);
	if (!known)
		return 0;
	if (!strcmp(k, "id-key")) a->id_key = v;
	else if (!strcmp(k, "author-key")) a->author_key = v;
	else if (!strcmp(k, "family-id")) a->family_id = v;
	else if (!strcmp(k, "image-id")) a->image_id = v;
	else if (!strcmp(k, "id-block")) a->id_block_out = v;
	else if (!strcmp(k, "auth-block")) a->auth_block_out = v;
	else if (!strcmp(k, "id-sig")) a->id_sig = v;
	else if (!strcmp(k, "auth-sig")) a->auth_sig = v;
	else if (!strcmp(k, "guest-svn")) {
		if (parse_u64(&u, v, 0, k, UINT32_MAX))
			return -1;
		a->svn = (uint32_t)u;
	} else {
		cct_err err;

		if (parse_u64(&a->policy, v, 16, k, UINT64_MAX))
			return -1;
		if (cct_measure_snp_policy_check(a->policy, &err) != CCT_OK)
			return cct_cli_usage_error("--policy %s: %s", v, err.msg), -1;
	}
	return 1;
}

/* The ID-block options that need others: checked before anything is read or written. */
static int idb_check(const idb_args *a)
{
	if (!a->id_key && (a->author_key || a->id_block_out || a->auth_block_out || a->id_sig ||
			   a->auth_sig))
		return cct_cli_usage_error("--author-key/--id-block/--auth-block/--id-sig/--auth-sig "
					   "need --id-key");
	if (!a->author_key && (a->auth_block_out || a->auth_sig))
		return cct_cli_usage_error("--auth-block/--auth-sig need --author-key");
	return 0;
}

/* A file a measure subcommand reads or writes, with the option that names it. */
typedef struct named_path {
	const char *opt, *path;
} named_path;


/* The directory path would be created in exists (a usage error naming opt, else 0): checked
 * before anything is written, so that a later output's missing directory does not fail the
 * run after an earlier output was written. */
static int output_parent_exists(const char *opt, const char *path)
{
	char parent[4096];
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (!slash)
		return 0; /* the working directory */
	snprintf(parent, sizeof(parent), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode))
		return cct_cli_usage_error("%s %s: %s is not an existing directory (nothing "
					   "written)", opt, path, parent);
	return 0;
}

/* Output out (path, its option) against every input and the earlier outputs: a usage error
 * naming both options when it is one of them (an output never replaces an input, a private
 * key included, nor another output), else 0. Run before anything is written. */
static int output_clash(const named_path *out, const named_path *in, size_t nin,
			const named_path *prev, size_t nprev)
{
	size_t i;
	struct stat st;

	/* a directory where a file goes: refused before anything is written (a directory named
	 * as --auth-block, or vmsa2.bin in --dump-vmsa DIR, failed the run after the ID block or
	 * vmsa0.bin, vmsa1.bin had been written) */
	if (stat(out->path, &st) == 0 && S_ISDIR(st.st_mode))
		return cct_cli_usage_error("%s %s: is a directory, not a file to write (nothing "
					   "written)", out->opt, out->path);
	for (i = 0; i < nin; i++)
		if (in[i].path && cct_file_same(out->path, in[i].path))
			return cct_cli_usage_error("%s %s is the same file as the input %s %s: "
						   "refusing to overwrite an input (nothing "
						   "written)", out->opt, out->path, in[i].opt,
						   in[i].path);
	for (i = 0; i < nprev; i++)
		if (prev[i].path && cct_cli_same_output(out->path, prev[i].path))
			return cct_cli_usage_error("%s %s and %s %s are the same file: give each "
						   "output its own (nothing written)", out->opt,
						   out->path, prev[i].opt, prev[i].path);
	return 0;
}

/* The ID-block outputs (--id-block, --auth-block) against the inputs; *nout set to the outputs
 * kept in outs[2] for later checks. */
static int idb_clash(const idb_args *a, const named_path *in, size_t nin, named_path outs[2],
		     size_t *nout)
{
	*nout = 0;
	if (a->id_block_out) {
		outs[*nout].opt = "--id-block";
		outs[*nout].path = a->id_block_out;
		if (output_parent_exists("--id-block", a->id_block_out) ||
		    output_clash(&outs[*nout], in, nin, outs, *nout))
			return CCT_EXIT_USAGE;
		(*nout)++;
	}
	if (a->auth_block_out) {
		outs[*nout].opt = "--auth-block";
		outs[*nout].path = a->auth_block_out;
		if (output_parent_exists("--auth-block", a->auth_block_out) ||
		    output_clash(&outs[*nout], in, nin, outs, *nout))
			return CCT_EXIT_USAGE;
		(*nout)++;
	}
	return 0;
}

/* The ID-block inputs, in idb_clash's input table form. */
static size_t idb_inputs(named_path *in, const idb_args *a)
{
	in[0].opt = "--id-key";
	in[0].path = a->id_key;
	in[1].opt = "--author-key";
	in[1].path = a->author_key;
	in[2].opt = "--id-sig";
	in[2].path = a->id_sig;
	in[3].opt = "--auth-sig";
	in[3].path = a->auth_sig;
	return 4;
}

static int write_id_blocks(const idb_args *a, const uint8_t idb[CCT_MEASURE_ID_BLOCK_SIZE],
			   const uint8_t *auth, cct_err *err)
{
	int rc;

	if (a->id_block_out &&
	    (rc = cct_file_write(a->id_block_out, idb, CCT_MEASURE_ID_BLOCK_SIZE, 0, err)))
		return rc;
	if (a->auth_block_out && auth &&
	    (rc = cct_file_write(a->auth_block_out, auth, CCT_MEASURE_ID_AUTH_SIZE, 0, err)))
		return rc;
	return CCT_OK;
}

/* The option table of a measure subcommand: its own names (`name` or `name=` for a value), the
 * ID-block options when idb is set, then --json and --help. Option i returns 256 + i. */
static struct option *measure_opts(const char *const *own, int idb)
{
	static struct option tab[64];
	static char names[64][32];
	size_t n = 0, i;

	for (i = 0; own[i] && n < 60; i++, n++) {
		size_t l = strlen(own[i]);
		int arg = l && own[i][l - 1] == '=';

		snprintf(names[n], sizeof(names[n]), "%.*s", (int)(arg ? l - 1 : l), own[i]);
		tab[n].name = names[n];
		tab[n].has_arg = arg ? required_argument : no_argument;
		tab[n].flag = NULL;
		tab[n].val = 256 + (int)n;
	}
	for (i = 0; idb && idb_names[i] && n < 62; i++, n++) {
		tab[n].name = idb_names[i];
		tab[n].has_arg = required_argument;
		tab[n].flag = NULL;
		tab[n].val = 256 + (int)n;
	}
	memset(&tab[n], 0, sizeof(tab[n]));
	return tab;
}

/* Next option of argv through the CLI's getopt helper: its name (without "--") and *val, NULL
 * at the end; "?" after a usage error (getopt printed it). */
static const char *next_opt(int argc, char **argv, const struct option *tab, const char **val)
{
	int c = cct_cli_getopt(argc, argv, "h", tab);

	*val = optarg;
	if (c == -1)
		return NULL;
	if (c == 'h')
		return "help";
	if (c < 256)
		return "?";
	return tab[c - 256].name;
}

/* One VMSA page per vCPU, in memory (*out malloc'd): computed before anything is written. */
static int vmsa_pages(uint8_t **out, const cct_measure_snp_opts *o, cct_err *err)
{
	uint8_t *pages = malloc((size_t)o->vcpus * CCT_MEASURE_VMSA_SIZE);
	uint32_t i;
	int rc = CCT_OK;

	*out = NULL;
	if (!pages)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	for (i = 0; i < o->vcpus && rc == CCT_OK; i++)
		rc = cct_measure_vmsa_page(pages + (size_t)i * CCT_MEASURE_VMSA_SIZE, o, i, err);
	if (rc != CCT_OK) {
		free(pages);
		return rc;
	}
	*out = pages;
	return CCT_OK;
}

static void vmsa_path(char *path, size_t n, const char *dir, uint32_t i)
{
	snprintf(path, n, "%s/vmsa%u.bin", dir, i);
}

static int write_vmsas(const char *dir, const uint8_t *pages, uint32_t vcpus, cct_err *err)
{
	char path[4096];
	uint32_t i;
	int rc = CCT_OK;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_NONE, 0, "--dump-vmsa: cannot create %s: %s",
				   dir, strerror(errno));
	for (i = 0; i < vcpus && rc == CCT_OK; i++) {
		vmsa_path(path, sizeof(path), dir, i);
		rc = cct_file_write(path, pages + (size_t)i * CCT_MEASURE_VMSA_SIZE,
				    CCT_MEASURE_VMSA_SIZE, 0, err);
	}
	return rc;
}

static const char *mode_name(cct_measure_mode m)
{
	switch (m) {
	case CCT_MEASURE_MODE_SEV: return "sev";
	case CCT_MEASURE_MODE_SEVES: return "seves";
	case CCT_MEASURE_MODE_SNP_SVSM: return "snp:svsm";
	default: return "snp";
	}
}

static int cmd_snp(int argc, char **argv)
{
	int rc = CCT_ERROR, json = 0, have_mode = 0, have_sig = 0, have_gf = 0;
	const char *ovmf_path = NULL, *kernel_path = NULL, *initrd_path = NULL, *svsm_path = NULL;
	const char *vcpu_type = NULL, *ovmf_hash_hex = NULL, *dump_dir = NULL;
	uint64_t vcpus = 0, fam = 0, model = 0, step = 0, u, vars_size = 0;
	int have_fam = 0, have_model = 0, have_step = 0, have_vcpus = 0, have_vars = 0;
	int have_vmm = 0;
	uint8_t *ovmf = NULL, *kernel = NULL, *initrd = NULL, *svsm = NULL;
	size_t ovmf_n = 0, kernel_n = 0, initrd_n = 0, svsm_n = 0, ld_n = 0;
	uint8_t ovmf_hash[48], ld[48], khash[32], idb_bytes[CCT_MEASURE_ID_BLOCK_SIZE];
	uint8_t *vmsa = NULL, *auth = NULL;
	cct_measure_snp_opts o;
	idb_args idb;
	cct_err err;
	json_t *out = NULL, *jerr = NULL;
	char sigbuf[16];

	memset(&o, 0, sizeof(o));
	memset(&idb, 0, sizeof(idb));
	memset(&err, 0, sizeof(err));
	idb.policy = 0x30000;
	o.guest_features = 0x1;
	static const char *const own[] = { "json", "help", "ovmf=", "ovmf-hash=", "kernel=",
					   "initrd=", "append=", "svsm=", "dump-vmsa=", "vcpu-type=",
					   "mode=", "vmm-type=", "vmm-version=", "guest-features=",
					   "vcpus=", "vcpu-sig=", "vcpu-family=", "vcpu-model=",
					   "vcpu-stepping=", "vars-size=", NULL };
	const struct option *tab = measure_opts(own, 1);
	const char *k, *v;

	cct_cli_getopt_begin();
	while ((k = next_opt(argc, argv, tab, &v)) != NULL) {
		int r;

		if (!strcmp(k, "?"))
			return cct_cli_usage_error("%s", usage_snp);
		if (!strcmp(k, "json")) { json = 1; continue; }
		if (!strcmp(k, "help")) { printf("%s\n%s\n", usage_snp, measure_exit); return 0; }
		if ((r = idb_option(&idb, k, v)) < 0)
			return CCT_EXIT_USAGE;
		if (r > 0)
			continue;
		if (!strcmp(k, "ovmf")) ovmf_path = v;
		else if (!strcmp(k, "ovmf-hash")) ovmf_hash_hex = v;
		else if (!strcmp(k, "kernel")) kernel_path = v;
		else if (!strcmp(k, "initrd")) initrd_path = v;
		else if (!strcmp(k, "append")) o.append = v;
		else if (!strcmp(k, "svsm")) svsm_path = v;
		else if (!strcmp(k, "dump-vmsa")) dump_dir = v;
		else if (!strcmp(k, "vcpu-type")) vcpu_type = v;
		else if (!strcmp(k, "mode")) {
			have_mode = 1;
			if (!strcmp(v, "snp") || !strcmp(v, "sev-snp")) o.mode = CCT_MEASURE_MODE_SNP;
			else if (!strcmp(v, "sev")) o.mode = CCT_MEASURE_MODE_SEV;
			else if (!strcmp(v, "seves") || !strcmp(v, "sev-es")) o.mode = CCT_MEASURE_MODE_SEVES;
			else if (!strcmp(v, "snp:svsm") || !strcmp(v, "sev-snp:svsm")) o.mode = CCT_MEASURE_MODE_SNP_SVSM;
			else return cct_cli_usage_error("--mode: '%s' is not snp, seves, sev or snp:svsm", v);
		} else if (!strcmp(k, "vmm-type")) {
			have_vmm = 1;
			if (!strcasecmp(v, "qemu")) o.vmm = CCT_MEASURE_VMM_QEMU;
			else if (!strcasecmp(v, "ec2")) o.vmm = CCT_MEASURE_VMM_EC2;
			else if (!strcasecmp(v, "gce")) o.vmm = CCT_MEASURE_VMM_GCE;
			else return cct_cli_usage_error("--vmm-type: '%s' is not qemu, ec2 or gce", v);
		} else if (!strcmp(k, "vmm-version")) {
			/* 0 (and 2): the current VMSA; 1: EC2's older one */
			have_vmm = 1;
			if (parse_u64(&u, v, 10, k, 2))
				return CCT_EXIT_USAGE;
			o.vmm_version = (int)u;
		} else if (!strcmp(k, "guest-features")) {
			if (parse_u64(&o.guest_features, v, 16, k, UINT64_MAX))
				return CCT_EXIT_USAGE;
			have_gf = 1;
		} else if (!strcmp(k, "vcpus")) {
			if (parse_u64(&vcpus, v, 10, k, UINT64_MAX))
				return CCT_EXIT_USAGE;
			if (vcpus == 0 || vcpus > CCT_MEASURE_MAX_VCPUS)
				return cct_cli_usage_error("--vcpus: '%s' is out of range 1..%d", v,
							   CCT_MEASURE_MAX_VCPUS);
			have_vcpus = 1;
		} else if (!strcmp(k, "vcpu-sig")) {
			if (parse_u64(&u, v, 0, k, UINT32_MAX))
				return CCT_EXIT_USAGE;
			o.vcpu_sig = (uint32_t)u;
			have_sig = 1;
		} else if (!strcmp(k, "vcpu-family")) {
			/* CPUID's encoding holds family 0..0x10e (base 0xf + 8 extended bits),
			 * model 0..0xff, stepping 0..0xf: more would alias another CPU */
			if (parse_u64(&fam, v, 0, k, 0x10e)) return CCT_EXIT_USAGE;
			have_fam = 1;
		} else if (!strcmp(k, "vcpu-model")) {
			if (parse_u64(&model, v, 0, k, 0xff)) return CCT_EXIT_USAGE;
			have_model = 1;
		} else if (!strcmp(k, "vcpu-stepping")) {
			if (parse_u64(&step, v, 0, k, 0xf)) return CCT_EXIT_USAGE;
			have_step = 1;
		} else if (!strcmp(k, "vars-size")) {
			if (parse_u64(&vars_size, v, 0, k, UINT64_MAX)) return CCT_EXIT_USAGE;
			have_vars = 1;
		} else {
			return cct_cli_usage_error("unknown option --%s\n%s", k, usage_snp);
		}
	}
	if (optind < argc)
		return cct_cli_usage_error("unexpected argument %s\n%s", argv[optind], usage_snp);
	if (!ovmf_path)
		return cct_cli_usage_error("--ovmf is required\n%s", usage_snp);
	if (svsm_path && !have_mode)
		o.mode = CCT_MEASURE_MODE_SNP_SVSM;
	if (o.mode == CCT_MEASURE_MODE_SNP_SVSM && (!svsm_path || !have_vars))
		return cct_cli_usage_error("SVSM mode needs --svsm FILE and --vars-size N");
	/* --svsm and --vars-size are measured in mode snp:svsm alone: with --mode snp (or sev,
	 * seves) the SVSM image was read and the plain digest printed, as if it were measured */
	if (o.mode != CCT_MEASURE_MODE_SNP_SVSM && (svsm_path || have_vars))
		return cct_cli_usage_error("%s%s%s: measured only in mode snp:svsm (which --svsm "
					   "implies when --mode is not given), not in mode '%s'",
					   svsm_path ? "--svsm" : "",
					   svsm_path && have_vars ? " and " : "",
					   have_vars ? "--vars-size" : "", mode_name(o.mode));
	if ((initrd_path || o.append) && !kernel_path)
		return cct_cli_usage_error("--initrd and --append need --kernel");
	/* --vmm-version 1 is EC2's older VMSA: with the QEMU or GCE VMM type nothing reads it, and
	 * the digest printed was the one of the current VMSA of that type (exit 0) */
	if (o.vmm_version == 1 && o.vmm != CCT_MEASURE_VMM_EC2 && o.mode != CCT_MEASURE_MODE_SEV)
		return cct_cli_usage_error("--vmm-version 1 (EC2's older VMSA) needs --vmm-type ec2 "
					   "(got --vmm-type %s)", o.vmm == CCT_MEASURE_VMM_GCE ?
					   "gce" : "qemu, the default");
	/* the vCPU is given one way: a type, a signature, or family + model + stepping */
	if ((vcpu_type != NULL) + have_sig + (have_fam || have_model || have_step) > 1)
		return cct_cli_usage_error("--vcpu-type, --vcpu-sig and --vcpu-family/--vcpu-model/"
					   "--vcpu-stepping are alternatives: give one (got%s%s%s)",
					   vcpu_type ? " --vcpu-type" : "",
					   have_sig ? " --vcpu-sig" : "",
					   have_fam || have_model || have_step ?
					   " --vcpu-family/model/stepping" : "");
	if ((have_fam || have_model || have_step) && !(have_fam && have_model && have_step))
		return cct_cli_usage_error("--vcpu-family, --vcpu-model and --vcpu-stepping go "
					   "together (missing%s%s%s)", have_fam ? "" : " --vcpu-family",
					   have_model ? "" : " --vcpu-model",
					   have_step ? "" : " --vcpu-stepping");
	if (vcpu_type && cct_measure_vcpu_sig(&o.vcpu_sig, vcpu_type))
		return cct_cli_usage_error("--vcpu-type: unknown type '%s' (EPYC, EPYC-v1..v4, "
					   "EPYC-IBPB, EPYC-Rome[-v1..v3], EPYC-Milan[-v1,v2], "
					   "EPYC-Genoa[-v1], EPYC-Turin)", vcpu_type);
	if (o.mode != CCT_MEASURE_MODE_SEV) {
		if (!have_vcpus)
			return cct_cli_usage_error("missing --vcpus N (1..%d) in mode '%s'",
						   CCT_MEASURE_MAX_VCPUS, mode_name(o.mode));
		if (have_fam)
			o.vcpu_sig = cct_measure_cpu_sig((uint32_t)fam, (uint32_t)model, (uint32_t)step);
		else if (!vcpu_type && !have_sig && o.vmm == CCT_MEASURE_VMM_QEMU)
			return cct_cli_usage_error("missing --vcpu-type, --vcpu-sig or --vcpu-family "
						   "in mode '%s'", mode_name(o.mode));
	}
	/* what a mode does not measure is accepted, as sev-snp-measure does, but said: SEV has no
	 * VMSA pages, SEV-ES's carry no guest features */
	if (o.mode == CCT_MEASURE_MODE_SEV &&
	    (have_vcpus || vcpu_type || have_sig || have_fam || have_model || have_step ||
	     have_vmm || have_gf))
		fprintf(stderr, "cctrust: warning: mode 'sev' measures no VMSA:%s%s%s%s%s%s "
			"ignored\n", have_vcpus ? " --vcpus" : "", vcpu_type ? " --vcpu-type" : "",
			have_sig ? " --vcpu-sig" : "",
			have_fam || have_model || have_step ? " --vcpu-family/model/stepping" : "",
			have_vmm ? " --vmm-type/--vmm-version" : "",
			have_gf ? " --guest-features" : "");
	else if (o.mode == CCT_MEASURE_MODE_SEVES && have_gf)
		fprintf(stderr, "cctrust: warning: mode 'seves' measures no guest features: "
			"--guest-features ignored\n");
	/* the SVSM-started VMSAs have fixed SEV features (0x1): --guest-features was ignored
	 * without a word (and --json said guest_features 0x1) */
	else if (o.mode == CCT_MEASURE_MODE_SNP_SVSM && have_gf)
		fprintf(stderr, "cctrust: warning: mode 'snp:svsm' measures SVSM-started VMSAs, "
			"whose guest features are 0x1: --guest-features ignored\n");
	o.vcpus = (uint32_t)vcpus;
	o.ovmf_vars_size = vars_size;
	/* everything that can be refused is refused before anything is read or written */
	if (dump_dir && o.mode == CCT_MEASURE_MODE_SEV)
		return cct_cli_usage_error("--dump-vmsa: mode 'sev' has no VMSA pages (seves, snp, "
					   "snp:svsm have)");
	if (idb.id_key && (o.mode == CCT_MEASURE_MODE_SEV || o.mode == CCT_MEASURE_MODE_SEVES))
		return cct_cli_usage_error("--id-key: ID blocks exist only for SNP launch digests "
					   "(mode '%s')", mode_name(o.mode));
	if (idb_check(&idb))
		return CCT_EXIT_USAGE;
	{ /* no output may be an input or another output (a private key, the firmware) */
		named_path in[8], outs[2], np;
		size_t nin = 4, nout = 0;
		char path[4096];
		struct stat st;
		uint32_t i;

		in[0].opt = "--ovmf";
		in[0].path = ovmf_path;
		in[1].opt = "--kernel";
		in[1].path = kernel_path;
		in[2].opt = "--initrd";
		in[2].path = initrd_path;
		in[3].opt = "--svsm";
		in[3].path = svsm_path;
		nin += idb_inputs(in + 4, &idb);
		if (idb_clash(&idb, in, nin, outs, &nout))
			return CCT_EXIT_USAGE;
		if (dump_dir && stat(dump_dir, &st) == 0 && !S_ISDIR(st.st_mode))
			return cct_cli_usage_error("--dump-vmsa %s: not a directory", dump_dir);
		if (dump_dir && stat(dump_dir, &st) != 0 &&
		    output_parent_exists("--dump-vmsa", dump_dir))
			return CCT_EXIT_USAGE;
		for (i = 0; dump_dir && i < o.vcpus; i++) {
			vmsa_path(path, sizeof(path), dump_dir, i);
			np.opt = "--dump-vmsa";
			np.path = path;
			if (output_clash(&np, in, nin, outs, nout))
				return CCT_EXIT_USAGE;
		}
	}
	if (ovmf_hash_hex) {
		if (cct_hex_decode_fixed(ovmf_hash, 48, ovmf_hash_hex, &err) != CCT_OK)
			return cct_cli_usage_error("--ovmf-hash: %s (need 96 hex digits)", err.msg);
		o.ovmf_hash = ovmf_hash;
	}
	if ((rc = read_file(&ovmf, &ovmf_n, ovmf_path, CCT_MEASURE_MAX_FIRMWARE, "--ovmf", &jerr,
			    &err)) != CCT_OK)
		goto out;
	o.ovmf = ovmf;
	o.ovmf_size = ovmf_n;
	if (kernel_path) {
		if ((rc = read_file(&kernel, &kernel_n, kernel_path, MAX_KERNEL_FILE, "--kernel",
				    &jerr, &err)) != CCT_OK)
			goto out;
		o.has_kernel = 1;
		o.kernel = kernel;
		o.kernel_size = kernel_n;
	}
	if (initrd_path) {
		if ((rc = read_file(&initrd, &initrd_n, initrd_path, MAX_KERNEL_FILE, "--initrd",
				    &jerr, &err)) != CCT_OK)
			goto out;
		o.initrd = initrd;
		o.initrd_size = initrd_n;
	}
	if (svsm_path) {
		if ((rc = read_file(&svsm, &svsm_n, svsm_path, CCT_MEASURE_MAX_FIRMWARE, "--svsm",
				    &jerr, &err)) != CCT_OK)
			goto out;
		o.svsm = svsm;
		o.svsm_size = svsm_n;
	}
	if ((rc = cct_measure_launch_digest(ld, &ld_n, &o, &err)) != CCT_OK)
		goto out;
	out = json_object();
	json_object_set_new(out, "tee", json_string(o.mode == CCT_MEASURE_MODE_SEV ? "sev" :
						    o.mode == CCT_MEASURE_MODE_SEVES ? "sev-es" :
						    "snp"));
	json_object_set_new(out, "mode", json_string(mode_name(o.mode)));
	cct_json__set_hex(out, "launch_digest", ld, ld_n);
	if (o.mode != CCT_MEASURE_MODE_SEV) {
		json_object_set_new(out, "vcpus", json_integer((json_int_t)o.vcpus));
		snprintf(sigbuf, sizeof(sigbuf), "0x%08x", o.vcpu_sig);
		json_object_set_new(out, "vcpu_sig", json_string(sigbuf));
		json_object_set_new(out, "vmm_type", json_string(o.vmm == CCT_MEASURE_VMM_EC2 ? "ec2" :
							    o.vmm == CCT_MEASURE_VMM_GCE ? "gce" :
							    "qemu"));
	}
	if (o.mode == CCT_MEASURE_MODE_SNP || o.mode == CCT_MEASURE_MODE_SNP_SVSM) {
		snprintf(sigbuf, sizeof(sigbuf), "0x%llx",
			 (unsigned long long)(o.mode == CCT_MEASURE_MODE_SNP ? o.guest_features : 1));
		json_object_set_new(out, "guest_features", json_string(sigbuf));
	}
	if (o.mode == CCT_MEASURE_MODE_SNP) {
		uint8_t oh[48];

		if (o.ovmf_hash) {
			cct_json__set_hex(out, "ovmf_hash", o.ovmf_hash, 48);
		} else if (cct_measure_snp_ovmf_hash(oh, ovmf, ovmf_n, NULL) == CCT_OK) {
			cct_json__set_hex(out, "ovmf_hash", oh, 48);
		}
	}
	if (kernel) {
		SHA256(kernel, kernel_n, khash);
		cct_json__set_hex(out, "kernel_sha256", khash, 32);
	}
	if (initrd) {
		SHA256(initrd, initrd_n, khash);
		cct_json__set_hex(out, "initrd_sha256", khash, 32);
	}
	if (kernel_path)
		json_object_set_new(out, "cmdline", json_string(o.append ? o.append : ""));
	if (dump_dir && (rc = vmsa_pages(&vmsa, &o, &err)) != CCT_OK)
		goto out;
	if (idb.id_key) {
		if (ld_n != 48) {
			rc = cct_err_set(&err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
					 "ID blocks exist only for SNP launch digests");
			goto out;
		}
		if ((rc = make_id_block(out, ld, &idb, idb_bytes, &auth, &err)) != CCT_OK)
			goto out;
	}
	/* every input read, every value computed: only now the outputs */
	if (idb.id_key && (rc = write_id_blocks(&idb, idb_bytes, auth, &err)) != CCT_OK)
		goto out;
	if (dump_dir && (rc = write_vmsas(dump_dir, vmsa, o.vcpus, &err)) != CCT_OK)
		goto out;
	{ /* policy snippet: the reference value as a policy rule */
		json_t *pol = json_object(), *tee = json_object(), *arr = json_array();
		char hex[97];

		cct_hex_encode(hex, ld, ld_n);
		json_array_append_new(arr, json_string(hex));
		json_object_set_new(tee, "measurement", arr);
		json_object_set_new(pol, o.mode == CCT_MEASURE_MODE_SEV ||
					 o.mode == CCT_MEASURE_MODE_SEVES ? "sev" : "snp", tee);
		json_object_set_new(out, "policy", pol);
	}
	if (json) {
		cct_cli_print_json(out, 0);
	} else {
		char hex[97];

		cct_hex_encode(hex, ld, ld_n);
		printf("%s\n", hex);
		json_decref(out);
	}
	out = NULL;
	rc = CCT_OK;
out:
	json_decref(jerr);
	free(ovmf);
	free(kernel);
	free(initrd);
	free(svsm);
	free(vmsa);
	free(auth);
	return finish(rc, &err, json, out);
}

static int cmd_ovmf_hash(int argc, char **argv)
{
	int rc = CCT_ERROR, json = 0;
	const char *path = NULL;
	uint8_t *img = NULL, h[48];
	size_t n = 0;
	cct_err err;
	json_t *jerr = NULL, *out = NULL;

	static const char *const own[] = { "json", "help", "ovmf=", NULL };
	const struct option *tab = measure_opts(own, 0);
	const char *k, *v;

	memset(&err, 0, sizeof(err));
	cct_cli_getopt_begin();
	while ((k = next_opt(argc, argv, tab, &v)) != NULL) {
		if (!strcmp(k, "json"))
			json = 1;
		else if (!strcmp(k, "ovmf"))
			path = v;
		else if (!strcmp(k, "help")) {
			printf("usage: cctrust measure ovmf-hash --ovmf OVMF.fd [--json]\n%s\n",
			       measure_exit);
			return CCT_EXIT_OK;
		} else
			return cct_cli_usage_error("usage: cctrust measure ovmf-hash --ovmf OVMF.fd [--json]");
	}
	if (optind < argc)
		return cct_cli_usage_error("usage: cctrust measure ovmf-hash --ovmf OVMF.fd [--json]");
	if (!path)
		return cct_cli_usage_error("usage: cctrust measure ovmf-hash --ovmf OVMF.fd [--json]");
	if ((rc = read_file(&img, &n, path, CCT_MEASURE_MAX_FIRMWARE, "--ovmf", &jerr, &err)))
		goto out;
	if ((rc = cct_measure_snp_ovmf_hash(h, img, n, &err)) != CCT_OK)
		goto out;
	if (json) {
		out = json_object();
		cct_json__set_hex(out, "ovmf_hash", h, 48);
		cct_cli_print_json(out, 0);
		out = NULL;
	} else {
		char hex[97];

		cct_hex_encode(hex, h, 48);
		puts(hex);
	}
	rc = CCT_OK;
out:
	json_decref(jerr);
	free(img);
	return finish(rc, &err, json, out);
}

static int cmd_id_block(int argc, char **argv)
{
	static const char *usage =
		"usage: cctrust measure id-block --launch-digest HEX --id-key ID.pem\n"
		"         [--author-key AUTHOR.pem] [--family-id HEX] [--image-id HEX] [--guest-svn N]\n"
		"         [--policy HEX] [--id-sig SIG.bin] [--auth-sig SIG.bin]\n"
		"         [--id-block FILE] [--auth-block FILE] [--json]";
	int rc = CCT_ERROR, json = 0, r;
	const char *ld_hex = NULL;
	uint8_t ld[48], idb_bytes[CCT_MEASURE_ID_BLOCK_SIZE], *auth = NULL;
	idb_args idb;
	cct_err err;
	json_t *out = NULL;

	memset(&idb, 0, sizeof(idb));
	memset(&err, 0, sizeof(err));
	idb.policy = 0x30000;
	static const char *const own[] = { "json", "help", "launch-digest=", NULL };
	const struct option *tab = measure_opts(own, 1);
	const char *k, *v;

	cct_cli_getopt_begin();
	while ((k = next_opt(argc, argv, tab, &v)) != NULL) {
		if (!strcmp(k, "json")) {
			json = 1;
			continue;
		}
		if (!strcmp(k, "help")) {
			printf("%s\n%s\n", usage, measure_exit);
			return CCT_EXIT_OK;
		}
		if ((r = idb_option(&idb, k, v)) < 0)
			return CCT_EXIT_USAGE;
		if (r > 0)
			continue;
		if (!strcmp(k, "launch-digest"))
			ld_hex = v;
		else
			return cct_cli_usage_error("%s", usage);
	}
	if (optind < argc)
		return cct_cli_usage_error("unexpected argument %s\n%s", argv[optind], usage);
	if (!ld_hex || !idb.id_key)
		return cct_cli_usage_error("%s", usage);
	if (cct_hex_decode_fixed(ld, 48, ld_hex, &err) != CCT_OK)
		return cct_cli_usage_error("--launch-digest: %s (need 96 hex digits)", err.msg);
	if (idb_check(&idb))
		return CCT_EXIT_USAGE;
	{ /* no output may be an input (the ID or author private key) or the other output */
		named_path in[4], outs[2];
		size_t nin = idb_inputs(in, &idb), nout = 0;

		if (idb_clash(&idb, in, nin, outs, &nout))
			return CCT_EXIT_USAGE;
	}
	out = json_object();
	cct_json__set_hex(out, "launch_digest", ld, 48);
	if ((rc = make_id_block(out, ld, &idb, idb_bytes, &auth, &err)) != CCT_OK)
		goto out;
	if ((rc = write_id_blocks(&idb, idb_bytes, auth, &err)) != CCT_OK)
		goto out;
	if (json) {
		cct_cli_print_json(out, 0);
	} else {
		const char *k;
		json_t *v;

		json_object_foreach(out, k, v)
			if (json_is_string(v) && strlen(json_string_value(v)) < 200)
				printf("%s: %s\n", k, json_string_value(v));
		json_decref(out);
	}
	out = NULL;
	rc = CCT_OK;
out:
	free(auth);
	return finish(rc, &err, json, out);
}

static const char *tdvf_type_name(uint32_t t)
{
	static const char *const names[] = { "BFV", "CFV", "TD_HOB", "TEMP_MEM", "PERM_MEM",
					     "PAYLOAD", "PAYLOAD_PARAM" };

	return t < sizeof(names) / sizeof(names[0]) ? names[t] : "UNKNOWN";
}

static const char *usage_tdx =
	"usage: cctrust measure tdx [--tdvf OVMF.tdx.fd [--two-pass]]\n"
	"         [--kernel K [--initrd I --memory SIZE] [--append CMDLINE]] [--json]";

/* QEMU -m size ("64G", "4096" = MiB). */
static int parse_mem(uint64_t *out, const char *s)
{
	char *end = NULL;
	unsigned long long v;
	uint64_t mul = 1024ull * 1024ull;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return -1;
	if (*end == 'K' || *end == 'k')
		mul = 1024ull;
	else if (*end == 'G' || *end == 'g')
		mul = 1024ull * 1024ull * 1024ull;
	else if (*end == 'T' || *end == 't')
		mul = 1024ull * 1024ull * 1024ull * 1024ull;
	else if (*end && *end != 'M' && *end != 'm')
		return -1;
	if ((*end && end[1]) || v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

static int tdx_boot(json_t *out, const char *kpath, const char *ipath, const char *append,
		    uint64_t mem, int json, json_t **jerr, cct_err *err)
{
	uint8_t *k = NULL, *ini = NULL;
	size_t kn = 0, in = 0, e;
	cct_measure_tdx_boot *b = calloc(1, sizeof(*b));
	json_t *evs;
	char hex[97];
	int rc;

	if (!b)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	if ((rc = read_file(&k, &kn, kpath, MAX_KERNEL_FILE, "--kernel", jerr, err)))
		goto out;
	if (kn == 0) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "--kernel %.100s: empty file, expected a kernel image (bzImage/PE)",
				 kpath);
		goto out;
	}
	if (ipath && (rc = read_file(&ini, &in, ipath, MAX_KERNEL_FILE, "--initrd", jerr, err)))
		goto out;
	if ((rc = cct_measure_tdx_direct_boot(b, k, kn, ipath ? ini : NULL, in, append, mem, err)))
		goto out;
	cct_json__set_hex(out, "rtmr1", b->rtmr[1], 48);
	cct_json__set_hex(out, "rtmr2", b->rtmr[2], 48);
	cct_json__set_hex(out, "kernel_authenticode_sha384", b->kernel_authenticode, 48);
	evs = json_array();
	for (e = 0; e < b->count; e++) {
		cct_hex_encode(hex, b->events[e].sha384, 48);
		json_array_append_new(evs, json_pack("{s:i,s:i,s:I,s:s,s:s}", "rtmr",
						     (int)b->events[e].rtmr, "mr_index",
						     (int)b->events[e].rtmr + 1, "event_type",
						     (json_int_t)b->events[e].event_type,
						     "description", b->events[e].description,
						     "sha384", hex));
		if (!json)
			printf("  RTMR%u  type 0x%08x  %s  %s\n", b->events[e].rtmr,
			       b->events[e].event_type, hex, b->events[e].description);
	}
	json_object_set_new(out, "rtmr_events", evs);
	rc = CCT_OK;
out:
	free(b);
	free(k);
	free(ini);
	return rc;
}

static int cmd_tdx(int argc, char **argv)
{
	int rc = CCT_ERROR, json = 0, two_pass = 0;
	const char *path = NULL, *kernel = NULL, *initrd = NULL, *append = NULL, *memory = NULL;
	uint8_t *img = NULL, mrtd[48], h[48];
	size_t n = 0, k;
	uint64_t mem = 0;
	cct_measure_tdvf *t = NULL;
	cct_err err;
	json_t *jerr = NULL, *out = NULL, *secs, *pol, *tdx;
	char hex[97];

	static const char *const own[] = { "json", "help", "two-pass", "tdvf=", "ovmf=", "kernel=",
					   "initrd=", "append=", "memory=", NULL };
	const struct option *tab = measure_opts(own, 0);
	const char *o, *v;

	memset(&err, 0, sizeof(err));
	cct_cli_getopt_begin();
	while ((o = next_opt(argc, argv, tab, &v)) != NULL) {
		if (!strcmp(o, "json"))
			json = 1;
		else if (!strcmp(o, "two-pass"))
			two_pass = 1;
		else if (!strcmp(o, "tdvf") || !strcmp(o, "ovmf"))
			path = v;
		else if (!strcmp(o, "kernel"))
			kernel = v;
		else if (!strcmp(o, "initrd"))
			initrd = v;
		else if (!strcmp(o, "append"))
			append = v;
		else if (!strcmp(o, "memory"))
			memory = v;
		else if (!strcmp(o, "help")) {
			printf("%s\n", usage_tdx);
			return CCT_EXIT_OK;
		} else
			return cct_cli_usage_error("%s", usage_tdx);
	}
	if (optind < argc)
		return cct_cli_usage_error("unexpected argument %s\n%s", argv[optind], usage_tdx);
	if (!path && !kernel)
		return cct_cli_usage_error("measure tdx needs --tdvf or --kernel\n%s", usage_tdx);
	/* the page-add order of the MRTD: without --tdvf no MRTD is measured and --two-pass
	 * was accepted and ignored */
	if (two_pass && !path)
		return cct_cli_usage_error("--two-pass needs --tdvf (it selects the MRTD's page-add "
					   "order)\n%s", usage_tdx);
	if ((initrd || append || memory) && !kernel)
		return cct_cli_usage_error("--initrd/--append/--memory need --kernel\n%s", usage_tdx);
	if (initrd && !memory)
		return cct_cli_usage_error("--initrd needs --memory (the guest's -m: QEMU places the "
					   "initrd below it and writes the address into the "
					   "measured kernel header)");
	if (memory && parse_mem(&mem, memory) != 0)
		return cct_cli_usage_error("--memory: '%s' is not a size (64G, 4096M)", memory);
	/* as a launch plan's memory: below 64 MiB no TD boots, above 64 TiB no host has it */
	if (memory && (mem < (64ull << 20) || mem > (64ull << 40)))
		return cct_cli_usage_error("--memory: '%s' is out of range 64M..64T (no suffix: "
					   "MiB)", memory);
	if (!memory)
		mem = 2ull << 30;
	out = json_object();
	json_object_set_new(out, "tee", json_string("tdx"));
	pol = json_object();
	tdx = json_object();
	json_object_set_new(pol, "tdx", tdx);
	json_object_set_new(out, "policy", pol);
	if (path) {
		if ((rc = read_file(&img, &n, path, CCT_MEASURE_MAX_FIRMWARE, "--tdvf", &jerr, &err)))
			goto out;
		if (!(t = calloc(1, sizeof(*t)))) {
			rc = cct_err_set(&err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
			goto out;
		}
		if ((rc = cct_measure_tdvf_parse(t, img, n, &err)) != CCT_OK)
			goto out;
		if ((rc = cct_measure_tdx_mrtd(mrtd, t, two_pass, &err)) != CCT_OK)
			goto out;
		cct_json__set_hex(out, "mrtd", mrtd, 48);
		json_object_set_new(out, "page_add_order",
				    json_string(two_pass ? "two-pass" : "single-pass"));
		secs = json_array();
		for (k = 0; k < t->section_count; k++) {
			const cct_measure_tdvf_section *s = &t->sections[k];
			json_t *js = json_object();

			json_object_set_new(js, "type", json_string(tdvf_type_name(s->type)));
			json_object_set_new(js, "gpa", json_integer((json_int_t)s->gpa));
			json_object_set_new(js, "memory_size", json_integer((json_int_t)s->mem_size));
			json_object_set_new(js, "raw_size", json_integer((json_int_t)s->raw_size));
			json_object_set_new(js, "mr_extend",
					    json_boolean(s->attributes &
							 CCT_MEASURE_TDVF_ATTR_MR_EXTEND));
			json_object_set_new(js, "page_aug",
					    json_boolean(s->attributes &
							 CCT_MEASURE_TDVF_ATTR_PAGE_AUG));
			if (s->type == CCT_MEASURE_TDVF_CFV) {
				/* TDVF measures the configuration volume into RTMR0 as one event */
				SHA384(img + s->data_offset, s->raw_size, h);
				cct_json__set_hex(js, "rtmr0_event_sha384", h, 48);
			}
			json_array_append_new(secs, js);
		}
		json_object_set_new(out, "sections", secs);
		cct_hex_encode(hex, mrtd, 48);
		json_object_set_new(tdx, "mrtd", json_pack("[s]", hex));
	}
	if (kernel) {
		if ((rc = tdx_boot(out, kernel, initrd, append, mem, json, &jerr, &err)) != CCT_OK)
			goto out;
		json_object_set_new(tdx, "rtmr1", json_pack("[O]", json_object_get(out, "rtmr1")));
		json_object_set_new(tdx, "rtmr2", json_pack("[O]", json_object_get(out, "rtmr2")));
	}
	/* printed once every value is computed: the MRTD went to stdout before the kernel was
	 * read, so a run that failed on --kernel (exit 2) still printed a value */
	if (!json && path)
		printf("%s\n", hex);
	if (!json && kernel)
		printf("rtmr1 %s\nrtmr2 %s\n", json_string_value(json_object_get(out, "rtmr1")),
		       json_string_value(json_object_get(out, "rtmr2")));
	json_incref(pol); /* moved after the values, for readability */
	json_object_del(out, "policy");
	json_object_set_new(out, "policy", pol);
	if (json)
		cct_cli_print_json(out, 0);
	else
		json_decref(out);
	out = NULL;
	rc = CCT_OK;
out:
	json_decref(out);
	out = NULL;
	json_decref(jerr);
	free(t);
	free(img);
	return finish(rc, &err, json, out);
}

int cct_cmd_measure(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (!sub || !strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		fprintf(sub ? stdout : stderr,
			"usage: cctrust measure snp|ovmf-hash|id-block|tdx ...\n%s\n%s\n"
			"  tdx: MRTD from the TDVF metadata; with --kernel the RTMR1/RTMR2 of a QEMU\n"
			"  direct kernel boot and their events (docs/launch.md: what is validated)\n%s\n",
			usage_snp, usage_tdx, measure_exit);
		return sub ? CCT_EXIT_OK : CCT_EXIT_USAGE;
	}
	if (!strcmp(sub, "snp"))
		return cmd_snp(argc - 1, argv + 1);
	if (!strcmp(sub, "ovmf-hash"))
		return cmd_ovmf_hash(argc - 1, argv + 1);
	if (!strcmp(sub, "id-block"))
		return cmd_id_block(argc - 1, argv + 1);
	if (!strcmp(sub, "tdx"))
		return cmd_tdx(argc - 1, argv + 1);
	return cct_cli_usage_error("measure: unknown subcommand '%s' (snp, ovmf-hash, id-block, tdx)",
				   sub);
}
