/* Launch plan tests: every published sev-snp-measure SNP digest reproduced through a plan (and
 * equal to `cctrust measure snp`), the QEMU argument list parsed into its objects and checked
 * value by value (SNP with/without kernel, with ID block; TDX), policy.json loaded by the
 * cctrust.policy/v1 loader, plan refusals (unknown keys, bad values), the TOML reader's arrays,
 * and diagnose on reports carrying a chosen MEASUREMENT (7 vCPUs, another vCPU type, guest
 * features 0x21, EC2 VMM, kernel hashes off, no match). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "cct_test.h"
#include "cctrust/core.h"
#include "cctrust/launch.h"
#include "cctrust/measure.h"
#include "cctrust/policy.h"
#include "cctrust/snp.h"
#include "fixtures.h"

#define VDIR "measure/virtee-sev/"
#define OVMF_HASH "086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74"

static char dir[512];

static void copy_vector(const char *rel, const char *name)
{
	char cmd[4096];

	/* cct_test_vector_path returns a static buffer: one call per command */
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s/%s'", cct_test_vector_path(rel), dir, name);
	assert_int_equal(system(cmd), 0);
}

static void setup_dir(void)
{
	char cmd[1024];

	if (dir[0])
		return;
	snprintf(dir, sizeof(dir), "%s", cct_test_tmpdir());
	copy_vector(VDIR "ovmf_AmdSev_suffix.bin", "amdsev.fd");
	copy_vector(VDIR "ovmf_OvmfX64_suffix.bin", "ovmfx64.fd");
	copy_vector(VDIR "idblock/test_id_key.pem", "id.pem");
	copy_vector(VDIR "idblock/test_auth_key.pem", "author.pem");
	snprintf(cmd, sizeof(cmd), ": > '%s/empty'", dir);
	assert_int_equal(system(cmd), 0);
}

static void write_file(const char *name, const char *text)
{
	char path[4096];

	assert_true(snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path));
	assert_int_equal(cct_file_write(path, text, strlen(text), 0, NULL), CCT_OK);
}

static int load_plan(cct_launch_plan *p, const char *name, const char *text, cct_err *err)
{
	char path[1024];

	setup_dir();
	write_file(name, text);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return cct_launch_plan_load(p, path, err);
}

/* The value after `opt` in the argument list whose text starts with `prefix` (NULL: any). */
static const char *arg_after(const json_t *args, const char *opt, const char *prefix)
{
	size_t i;

	for (i = 0; i + 1 < json_array_size(args); i++) {
		const char *a = json_string_value(json_array_get(args, i));
		const char *v = json_string_value(json_array_get(args, i + 1));

		if (!strcmp(a, opt) && (!prefix || !strncmp(v, prefix, strlen(prefix))))
			return v;
	}
	return NULL;
}

static size_t count_opt(const json_t *args, const char *opt, const char *prefix)
{
	size_t i, n = 0;

	for (i = 0; i + 1 < json_array_size(args); i++)
		if (!strcmp(json_string_value(json_array_get(args, i)), opt) &&
		    (!prefix || !strncmp(json_string_value(json_array_get(args, i + 1)), prefix,
					 strlen(prefix))))
			n++;
	return n;
}

/* Parse a QEMU "type,key=value,..." list (",," is a literal comma) into a JSON object with
 * "_type" for the leading bare word. */
static json_t *qemu_opts(const char *s)
{
	json_t *o = json_object();
	char key[256], val[8192];
	size_t k = 0, v = 0;
	int in_val = 0, first = 1;

	assert_non_null(s);
	for (;; s++) {
		if (*s == ',' && s[1] == ',') {
			if (in_val)
				val[v++] = ',';
			else
				key[k++] = ',';
			s++;
			continue;
		}
		if (*s == ',' || !*s) {
			key[k] = 0;
			val[v] = 0;
			if (first && !in_val)
				json_object_set_new(o, "_type", json_string(key));
			else
				json_object_set_new(o, key, json_string(in_val ? val : ""));
			first = 0;
			k = v = 0;
			in_val = 0;
			if (!*s)
				break;
			continue;
		}
		if (*s == '=' && !in_val) {
			in_val = 1;
			first = 0;
			continue;
		}
		if (in_val)
			val[v++] = *s;
		else
			key[k++] = *s;
		assert_true(k < sizeof(key) && v < sizeof(val));
	}
	return o;
}

static const char *opt_val(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static json_t *build(const cct_launch_plan *p)
{
	json_t *o = NULL;
	cct_err err;
	int rc = cct_launch_plan_build(&o, p, &err);

	if (rc != CCT_OK)
		fprintf(stderr, "build: %s\n", err.msg);
	assert_int_equal(rc, CCT_OK);
	return o;
}

static const char *expected_value(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(
		json_object_get(json_object_get(json_object_get(o, "expected"), "values"), key),
		"value"));
}

static void policy_loads(const json_t *o)
{
	char *text = json_dumps(json_object_get(o, "policy"), 0);
	cct_policy *pol = NULL;
	cct_err err;
	int rc;

	assert_non_null(text);
	rc = cct_policy_load(&pol, text, strlen(text), &err);
	if (rc != CCT_OK)
		fprintf(stderr, "policy: %s\n%s\n", err.msg, text);
	assert_int_equal(rc, CCT_OK);
	cct_policy_free(pol);
	free(text);
}

/* Every published SEV-SNP digest (QEMU and EC2 "v1") through a plan; error vectors refused. */
static void published_digests_through_plans(void **state)
{
	size_t jn, i, checked = 0, refused = 0;
	uint8_t *j = cct_test_read_vector(VDIR "expected.json", &jn);
	json_t *root = json_loadb((const char *)j, jn, 0, NULL), *v;

	(void)state;
	assert_non_null(root);
	json_array_foreach(json_object_get(root, "launch_digest_vectors"), i, v) {
		const char *mode = json_string_value(json_object_get(v, "mode"));
		const char *ovmf = json_string_value(json_object_get(v, "ovmf"));
		const char *kernel = json_string_value(json_object_get(v, "kernel"));
		const char *initrd = json_string_value(json_object_get(v, "initrd"));
		const char *append = json_string_value(json_object_get(v, "append"));
		const char *vmm = json_string_value(json_object_get(v, "vmm_type"));
		const char *oh = json_string_value(json_object_get(v, "ovmf_hash"));
		const char *want = json_string_value(json_object_get(v, "expected_launch_digest"));
		const char *werr = json_string_value(json_object_get(v, "expected_error"));
		char plan[4096];
		cct_launch_plan p;
		cct_err err;
		json_t *o = NULL;
		int rc;

		if (strcmp(mode, "SEV_SNP"))
			continue;
		if (oh && strlen(oh) != 96)
			oh = OVMF_HASH; /* "computed from the OVMF file first (expected ...)" */
		snprintf(plan, sizeof(plan),
			 "tee = \"snp\"\nfirmware = \"%s\"\n%s%s%s%s%s%s%s%svcpus = %d\n"
			 "vcpu_type = \"EPYC-v4\"\nguest_features = %lld\nvmm = \"%s\"\n%s",
			 strstr(ovmf, "AmdSev") ? "amdsev.fd" : "ovmfx64.fd",
			 kernel ? "kernel = \"empty\"\n" : "", initrd ? "initrd = \"empty\"\n" : "",
			 append ? "cmdline = \"" : "", append ? append : "", append ? "\"\n" : "",
			 oh ? "ovmf_hash = \"" : "", oh ? oh : "", oh ? "\"\n" : "",
			 (int)json_integer_value(json_object_get(v, "vcpus")),
			 (long long)json_integer_value(json_object_get(v, "guest_features")),
			 vmm && !strcmp(vmm, "EC2") ? "ec2" : "qemu",
			 vmm && !strcmp(vmm, "EC2") ? "vmm_version = 1\n" : "");
		rc = load_plan(&p, "vec.toml", plan, &err);
		if (rc != CCT_OK)
			fprintf(stderr, "%s\n%s\n", err.msg, plan);
		assert_int_equal(rc, CCT_OK);
		rc = cct_launch_plan_build(&o, &p, &err);
		if (werr || !want || strlen(want) != 96) {
			assert_int_not_equal(rc, CCT_OK);
			refused++;
		} else {
			assert_int_equal(rc, CCT_OK);
			assert_string_equal(expected_value(o, "measurement"), want);
			checked++;
		}
		json_decref(o);
		cct_launch_plan_clear(&p);
	}
	assert_true(checked >= 12);
	assert_true(refused >= 1);
	json_decref(root);
	free(j);
}

/* SNP, direct boot, init-data, GPUs, disks: every object of the QEMU line parsed and checked. */
static void snp_plan_qemu_args(void **state)
{
	cct_launch_plan p;
	cct_err err;
	json_t *o, *args, *sev, *mach, *mem, *x;
	uint8_t *hd = NULL, ld[48];
	size_t hn = 0, n;
	char *out = NULL, hex[97];
	const char *init = "algorithm = \"sha384\"\nversion = \"0.1.0\"\n[data]\nmodel = "
			   "\"m@1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n";
	uint8_t want[48];
	unsigned int dl = 0;
	cct_measure_snp_opts mo;
	uint8_t *fw;
	size_t fwn;

	(void)state;
	setup_dir();
	write_file("init.toml", init);
	assert_int_equal(load_plan(&p, "snp.toml",
				   "# an SNP guest with two GPUs\n"
				   "tee = \"snp\"\nfirmware = \"amdsev.fd\"\nkernel = \"empty\"\n"
				   "initrd = \"empty\"\ncmdline = \"console=ttyS0 loglevel=7\"\n"
				   "vcpus = 4\nvcpu_type = \"EPYC-Milan\"\nmemory = \"64G\"\n"
				   "vmm = \"qemu\"\nguest_features = \"0x1\"\npolicy = \"0x30000\"\n"
				   "gpus = [\"0000:01:00.0\",\n  \"0000:41:00.0\", # second\n]\n"
				   "init_data = \"init.toml\"\n"
				   "models = [\"m@1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]\n"
				   "[disks.root]\nfile = \"root,1.qcow2\"\nformat = \"qcow2\"\n"
				   "[disks.model]\nfile = \"model.img\"\n"
				   "verity_root = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n",
				   &err),
			 CCT_OK);
	o = build(&p);
	args = json_object_get(o, "qemu_args");
	mach = qemu_opts(arg_after(args, "-machine", NULL));
	assert_string_equal(opt_val(mach, "_type"), "q35");
	assert_string_equal(opt_val(mach, "confidential-guest-support"), "sev0");
	mem = qemu_opts(arg_after(args, "-object", "memory-backend-memfd"));
	assert_string_equal(opt_val(mem, "id"), opt_val(mach, "memory-backend"));
	assert_string_equal(opt_val(mem, "size"), "64G");
	assert_int_equal(count_opt(args, "-object", "sev-snp-guest"), 1);
	sev = qemu_opts(arg_after(args, "-object", "sev-snp-guest"));
	assert_string_equal(opt_val(sev, "id"), "sev0");
	assert_string_equal(opt_val(sev, "policy"), "0x30000");
	assert_string_equal(opt_val(sev, "kernel-hashes"), "on");
	assert_null(json_object_get(sev, "id-block"));
	/* host-data = first 32 bytes of SHA-384(init.toml) */
	assert_int_equal(cct_b64_decode(&hd, &hn, opt_val(sev, "host-data"),
					strlen(opt_val(sev, "host-data")), NULL),
			 CCT_OK);
	assert_int_equal(hn, 32);
	EVP_Digest(init, strlen(init), want, &dl, EVP_sha384(), NULL);
	assert_memory_equal(hd, want, 32);
	free(hd);
	assert_string_equal(arg_after(args, "-cpu", NULL), "EPYC-Milan");
	assert_string_equal(arg_after(args, "-smp", NULL), "4");
	assert_string_equal(arg_after(args, "-m", NULL), "64G");
	assert_non_null(strstr(arg_after(args, "-bios", NULL), "/amdsev.fd"));
	assert_non_null(strstr(arg_after(args, "-kernel", NULL), "/empty"));
	assert_string_equal(arg_after(args, "-append", NULL), "console=ttyS0 loglevel=7");
	/* one root port + vfio-pci per GPU */
	assert_int_equal(count_opt(args, "-device", "vfio-pci"), 2);
	x = qemu_opts(arg_after(args, "-device", "vfio-pci,host=0000:41:00.0"));
	assert_string_equal(opt_val(x, "host"), "0000:41:00.0");
	assert_non_null(arg_after(args, "-device", "pcie-root-port,id=rp1"));
	assert_string_equal(opt_val(x, "bus"), "rp1");
	json_decref(x);
	x = qemu_opts(arg_after(args, "-drive", "file=/"));
	assert_non_null(strstr(opt_val(x, "file"), "root,1.qcow2")); /* ',,' escaped */
	assert_string_equal(opt_val(x, "format"), "qcow2");
	json_decref(x);
	x = qemu_opts(arg_after(args, "-device", "virtio-blk-pci,drive=disk-model"));
	assert_string_equal(opt_val(x, "serial"), "model");
	json_decref(x);
	assert_int_equal(count_opt(args, "-drive", NULL), 2);
	{
		size_t i;
		json_t *a;
		int ro = 0;

		json_array_foreach(args, i, a) {
			json_t *d;

			if (strncmp(json_string_value(a), "file=", 5))
				continue;
			d = qemu_opts(json_string_value(a));
			if (strstr(opt_val(d, "file"), "model.img"))
				ro = !strcmp(opt_val(d, "readonly") ? opt_val(d, "readonly") : "", "on");
			json_decref(d);
		}
		assert_true(ro); /* the verity-protected model disk is read-only */
	}
	/* expected measurement = cctrust measure snp (library and CLI) */
	fw = cct_test_read_vector(VDIR "ovmf_AmdSev_suffix.bin", &fwn);
	memset(&mo, 0, sizeof(mo));
	mo.ovmf = fw;
	mo.ovmf_size = fwn;
	mo.has_kernel = 1;
	mo.kernel = (const uint8_t *)"";
	mo.initrd = (const uint8_t *)"";
	mo.append = "console=ttyS0 loglevel=7";
	mo.vcpus = 4;
	assert_int_equal(cct_measure_vcpu_sig(&mo.vcpu_sig, "EPYC-Milan"), CCT_OK);
	mo.guest_features = 1;
	assert_int_equal(cct_measure_launch_digest(ld, &n, &mo, &err), CCT_OK);
	cct_hex_encode(hex, ld, 48);
	assert_string_equal(expected_value(o, "measurement"), hex);
	assert_int_equal(cct_test_cli(&out,
				      "measure snp --ovmf '%s/amdsev.fd' --kernel '%s/empty' "
				      "--initrd '%s/empty' --append 'console=ttyS0 loglevel=7' "
				      "--vcpus 4 --vcpu-type EPYC-Milan --json",
				      dir, dir, dir),
			 0);
	assert_non_null(strstr(out, hex));
	free(out);
	free(fw);
	cct_hex_encode(hex, want, 32);
	assert_string_equal(expected_value(o, "host_data"), hex);
	/* policy: pins exactly these values and loads */
	x = json_object_get(json_object_get(o, "policy"), "snp");
	assert_string_equal(json_string_value(json_array_get(json_object_get(x, "measurements"), 0)),
			    expected_value(o, "measurement"));
	assert_string_equal(json_string_value(json_object_get(x, "host_data")), hex);
	x = json_object_get(json_object_get(o, "policy"), "gpu");
	assert_int_equal(json_integer_value(json_object_get(x, "count")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(x, "cc_mode"), 0)),
			    "on");
	assert_non_null(json_object_get(json_object_get(o, "policy"), "model"));
	policy_loads(o);
	json_decref(mach);
	json_decref(mem);
	json_decref(sev);
	json_decref(o);
	cct_launch_plan_clear(&p);
}

/* Without a kernel: no kernel-hashes, no -kernel; published digest; TDX-only keys refused. */
static void snp_plan_without_kernel(void **state)
{
	cct_launch_plan p;
	cct_err err;
	json_t *o, *sev;

	(void)state;
	assert_int_equal(load_plan(&p, "nk.toml",
				   "tee = \"snp\"\nfirmware = \"ovmfx64.fd\"\nvcpus = 1\n", &err),
			 CCT_OK);
	o = build(&p);
	assert_string_equal(expected_value(o, "measurement"),
			    "da0296de8193586a5512078dcd719eccecbd87e2b825ad4148c44f665dc87df21e5b49e21523a9ad993afdb6a30b4005");
	sev = qemu_opts(arg_after(json_object_get(o, "qemu_args"), "-object", "sev-snp-guest"));
	assert_null(json_object_get(sev, "kernel-hashes"));
	assert_null(json_object_get(sev, "host-data"));
	assert_null(arg_after(json_object_get(o, "qemu_args"), "-kernel", NULL));
	assert_null(arg_after(json_object_get(o, "qemu_args"), "-device", "vfio-pci"));
	/* no init-data: HOST_DATA is QEMU's zero default, pinned */
	assert_string_equal(expected_value(o, "host_data"),
			    "0000000000000000000000000000000000000000000000000000000000000000");
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_object_get(o, "policy"), "gpu"), "count")),
			 0);
	policy_loads(o);
	json_decref(sev);
	json_decref(o);
	cct_launch_plan_clear(&p);
}

/* ID block: id-block / id-auth decode to what SNP_LAUNCH_FINISH needs, signatures verify, key
 * digests equal the published ones, policy requires them. */
static void snp_plan_id_block(void **state)
{
	cct_launch_plan p;
	cct_err err;
	json_t *o, *sev, *snp;
	uint8_t *idb = NULL, *auth = NULL, *idk, *auk, ld[48], dg[48];
	size_t n = 0, an = 0, kn, akn;
	char hex[97];

	(void)state;
	assert_int_equal(load_plan(&p, "idb.toml",
				   "tee = \"snp\"\nfirmware = \"amdsev.fd\"\novmf_hash = \"" OVMF_HASH
				   "\"\nkernel = \"empty\"\nvcpus = 2\npolicy = 0x30000\n"
				   "[id_block]\nid_key = \"id.pem\"\nauthor_key = \"author.pem\"\n"
				   "family_id = \"00112233445566778899aabbccddeeff\"\n"
				   "image_id = \"ffeeddccbbaa99887766554433221100\"\nguest_svn = 3\n",
				   &err),
			 CCT_OK);
	o = build(&p);
	sev = qemu_opts(arg_after(json_object_get(o, "qemu_args"), "-object", "sev-snp-guest"));
	assert_string_equal(opt_val(sev, "author-key-enabled"), "on");
	assert_int_equal(cct_b64_decode(&idb, &n, opt_val(sev, "id-block"),
					strlen(opt_val(sev, "id-block")), NULL),
			 CCT_OK);
	assert_int_equal(n, CCT_MEASURE_ID_BLOCK_SIZE);
	assert_int_equal(cct_hex_decode_fixed(ld, 48, expected_value(o, "measurement"), NULL),
			 CCT_OK);
	assert_memory_equal(idb, ld, 48);  /* LD */
	assert_int_equal(idb[0x30], 0x00); /* FAMILY_ID */
	assert_int_equal(idb[0x31], 0x11);
	assert_int_equal(idb[0x40], 0xff); /* IMAGE_ID */
	assert_int_equal(idb[0x50], 1);    /* VERSION */
	assert_int_equal(idb[0x54], 3);    /* GUEST_SVN */
	assert_int_equal(idb[0x5a], 0x03); /* POLICY 0x30000 */
	assert_int_equal(cct_b64_decode(&auth, &an, opt_val(sev, "id-auth"),
					strlen(opt_val(sev, "id-auth")), NULL),
			 CCT_OK);
	assert_int_equal(an, CCT_MEASURE_ID_AUTH_SIZE);
	idk = cct_test_read_vector(VDIR "idblock/test_id_key.pem", &kn);
	auk = cct_test_read_vector(VDIR "idblock/test_auth_key.pem", &akn);
	/* ID_AUTH_INFO: ID block signature at 0x40, author signature at 0x680 */
	assert_int_equal(cct_measure_snp_sig_verify(auth + 0x40, idb, n, idk, kn, &err), CCT_OK);
	assert_int_equal(cct_measure_snp_sig_verify(auth + 0x680, auth + 0x240, 0x404, auk, akn,
						    &err),
			 CCT_OK);
	/* published key digests (EXPECTED.md, base64) */
	{
		uint8_t *pub = NULL;
		size_t pn = 0;

		assert_int_equal(cct_b64_decode(&pub, &pn, "WfssaG36T+9J84M5qndckAUcKNVzg93DuvO160sUlt87DbvcuuX+J2d6ZEggdz/i", 64, NULL), CCT_OK);
		cct_hex_encode(hex, pub, 48);
		assert_string_equal(expected_value(o, "id_key_digest"), hex);
		free(pub);
		assert_int_equal(cct_b64_decode(&pub, &pn, "7tgRafsMteDsNHlPEo/U4MSkb2fGWhrfqB/LJLzAiMJyNpt//D6ytq9qQoShs2xf", 64, NULL), CCT_OK);
		cct_hex_encode(hex, pub, 48);
		assert_string_equal(expected_value(o, "author_key_digest"), hex);
		free(pub);
	}
	assert_int_equal(cct_measure_key_digest(dg, idk, kn, &err), CCT_OK);
	snp = json_object_get(json_object_get(o, "policy"), "snp");
	assert_true(json_is_true(json_object_get(snp, "require_id_block")));
	assert_true(json_is_true(json_object_get(snp, "require_author_key")));
	cct_hex_encode(hex, dg, 48);
	assert_string_equal(json_string_value(json_array_get(json_object_get(snp, "id_key_digests"),
							     0)),
			    hex);
	assert_string_equal(json_string_value(json_object_get(snp, "family_id")),
			    "00112233445566778899aabbccddeeff");
	policy_loads(o);
	free(idb);
	free(auth);
	free(idk);
	free(auk);
	json_decref(sev);
	json_decref(o);
	cct_launch_plan_clear(&p);
}

static void tdx_plan(void **state)
{
	uint8_t img[TDVF_SIZE], *cfg = NULL;
	char path[1200], *out = NULL;
	cct_launch_plan p;
	cct_err err;
	json_t *o, *args, *tdx, *mach, *cli, *vals;
	const char *init = "algorithm = \"sha384\"\nversion = \"0.1.0\"\n[data]\nk = \"v\"\n";
	uint8_t want[48];
	unsigned int dl = 0;
	size_t n = 0;

	(void)state;
	setup_dir();
	make_tdvf(img);
	snprintf(path, sizeof(path), "%s/tdvf.fd", dir);
	assert_int_equal(cct_file_write(path, img, sizeof(img), 0, NULL), CCT_OK);
	write_file("tinit.toml", init);
	assert_int_equal(load_plan(&p, "tdx.toml",
				   "tee = \"tdx\"\nfirmware = \"tdvf.fd\"\nvcpus = 8\nmemory = \"32G\"\n"
				   "gpus = [\"0000:17:00.0\"]\ninit_data = \"tinit.toml\"\n"
				   "[tdx]\nmrowner = \"" OVMF_HASH "\"\n",
				   &err),
			 CCT_OK);
	o = build(&p);
	args = json_object_get(o, "qemu_args");
	mach = qemu_opts(arg_after(args, "-machine", NULL));
	assert_string_equal(opt_val(mach, "confidential-guest-support"), "tdx0");
	assert_string_equal(opt_val(mach, "kernel-irqchip"), "split");
	tdx = qemu_opts(arg_after(args, "-object", "tdx-guest"));
	assert_string_equal(opt_val(tdx, "id"), "tdx0");
	assert_int_equal(cct_b64_decode(&cfg, &n, opt_val(tdx, "mrconfigid"),
					strlen(opt_val(tdx, "mrconfigid")), NULL),
			 CCT_OK);
	assert_int_equal(n, 48);
	EVP_Digest(init, strlen(init), want, &dl, EVP_sha384(), NULL);
	assert_memory_equal(cfg, want, 48);
	free(cfg);
	assert_non_null(opt_val(tdx, "mrowner"));
	assert_non_null(arg_after(args, "-device", "vfio-pci,host=0000:17:00.0"));
	assert_null(arg_after(args, "-object", "sev-snp-guest"));
	/* MRTD = cctrust measure tdx */
	assert_int_equal(cct_test_cli(&out, "measure tdx --tdvf '%s' --json", path), 0);
	cli = json_loads(out, 0, NULL);
	assert_non_null(cli);
	assert_string_equal(expected_value(o, "mrtd"),
			    json_string_value(json_object_get(cli, "mrtd")));
	vals = json_object_get(json_object_get(o, "expected"), "values");
	assert_true(json_is_false(json_object_get(json_object_get(vals, "rtmr0"), "derived")));
	assert_true(json_is_false(json_object_get(json_object_get(vals, "rtmr3"), "derived")));
	assert_true(json_is_true(json_object_get(json_object_get(vals, "mrconfigid"), "derived")));
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(json_object_get(o, "policy"), "tdx"), "mrowner")),
			    OVMF_HASH);
	policy_loads(o);
	json_decref(cli);
	free(out);
	json_decref(tdx);
	json_decref(mach);
	json_decref(o);
	cct_launch_plan_clear(&p);
}

static void plan_refusals(void **state)
{
	static const char *bad[] = {
		"tee = \"snp\"\nfirmware = \"amdsev.fd\"\nvcpus = 4\nvcpu = 4\n",          /* typo */
		"tee = \"sev\"\nfirmware = \"amdsev.fd\"\nvcpus = 4\n",                    /* tee */
		"tee = \"snp\"\nvcpus = 4\n",                                              /* firmware */
		"tee = \"snp\"\nfirmware = \"amdsev.fd\"\n",                               /* vcpus */
		"tee = \"snp\"\nfirmware = \"amdsev.fd\"\nvcpus = 257\n",
		"tee = \"snp\"\nfirmware = \"amdsev.fd\"\nvcpus = 4\nvcpu_type = \"Zen9\"\n",
		"tee = \"snp\"\nfirmware = \"amdsev.fd\"\nvcpus = 4\ngpus = [\"01:00.0\"]\n",
		"tee = \"snp\"\nfirmware = \"amdsev.fd\"\nvcpus = 4\ngpus = \"0000:01:00.0\"\n",
		"tee = \"snp\"\nfirmware = \"amdsev.fd\"\nvcpus = 4\nvmm = \"xen\"\n",
		"tee = \"snp\"\nfirmware = \"amdsev.fd\"\nvcpus = 4\nguest_features = \"0xzz\"\n",
		"tee = \"snp\"\nfirmware = \"amdsev.fd\"\nvcpus = 4\ncmdline = \"x\"\n",     /* no kernel */
		"tee = \"snp\"\nfirmware = \"amdsev.fd\"\nvcpus = 4\nmemory = \"lots\"\n",
		"tee = \"snp\"\nfirmware = \"amdsev.fd\"\nvcpus = 4\nmodels = [\"m\"]\n",
		"tee = \"snp\"\nfirmware = \"amdsev.fd\"\nvcpus = 4\n[tdx]\ndebug = true\n",
		"tee = \"tdx\"\nfirmware = \"amdsev.fd\"\nvcpus = 4\npolicy = \"0x30000\"\n",
		"tee = \"snp\"\nfirmware = \"amdsev.fd\"\nvcpus = 4\n[disks.a]\nformat = \"raw\"\n",
		"tee = \"snp\"\nfirmware = \"amdsev.fd\"\nvcpus = 4\n[disks.a]\nfile = \"x\"\nsize = 1\n",
		"tee = \"snp\"\nfirmware = \"amdsev.fd\"\nvcpus = 4\ngpus = [\"0000:01:00.0\"\n",
		"tee = \"snp\"\nfirmware = \"amdsev.fd\"\nvcpus = 4\n[id_block]\nimage_id = \"00\"\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cct_launch_plan p;
		cct_err err;

		if (load_plan(&p, "bad.toml", bad[i], &err) == CCT_OK) {
			fprintf(stderr, "accepted bad plan %zu:\n%s", i, bad[i]);
			fail();
		}
		assert_true(strlen(err.msg) > 0);
	}
}

/* Wrong types, duplicates and sizes QEMU would get unchecked are refused, the key named (with
 * the range): vcpus = "4" was read as 4, a GPU listed twice became two vfio-pci devices and
 * gpu.count = 2, memory = "0" and "99999999999T" went to QEMU as they were. */
static void plan_refusals_name_the_key(void **state)
{
	static const struct {
		const char *toml, *want[2];
	} bad[] = {
		{ "vcpus = \"4\"\n", { "vcpus", "got a string" } },
		{ "vcpus = true\n", { "vcpus", "got a boolean" } },
		{ "vcpus = 0\n", { "vcpus", "1..256" } },
		{ "vcpus = 257\n", { "vcpus", "1..256" } },
		{ "vcpus = 1\nvmm_version = \"1\"\n", { "vmm_version", "0..2" } },
		{ "vcpus = 1\nvmm_version = 3\n", { "vmm_version", "0..2" } },
		/* EC2's older VMSA with another VMM: nothing read it (the QEMU MEASUREMENT) */
		{ "vcpus = 1\nvmm_version = 1\n", { "vmm_version", "needs vmm = \"ec2\"" } },
		{ "vcpus = 1\nvmm = \"gce\"\nvmm_version = 1\n", { "vmm_version", "EC2" } },
		{ "vcpus = 1\ngpus = [\"0000:01:00.0\", \"0000:01:00.0\"]\n",
		  { "gpus", "0000:01:00.0 is listed twice" } },
		{ "vcpus = 1\nmemory = \"0\"\n", { "memory", "64M..64T" } },
		{ "vcpus = 1\nmemory = \"99999999999T\"\n", { "memory", "64M..64T" } },
		{ "vcpus = 1\nmemory = \"65T\"\n", { "memory", "64M..64T" } },
		{ "vcpus = 1\nguest_features = true\n", { "guest_features", "got a boolean" } },
		/* bit 17 clear: SNP_LAUNCH_START refuses it (and the verifier any report with it) */
		{ "vcpus = 1\npolicy = \"0x10000\"\n", { "policy", "bit 17 is reserved" } },
		{ "vcpus = 1\npolicy = 0\n", { "policy", "must be 1" } },
		{ "vcpus = 1\n[id_block]\nid_key = \"k.pem\"\nguest_svn = \"3\"\n",
		  { "guest_svn", "got a string" } },
		/* a control character names its key (was "control character in QEMU argument 23") */
		{ "vcpus = 1\nkernel = \"empty\"\ncmdline = \"a\\nb\"\n",
		  { "cmdline: control character 0x0a", "character 2" } },
		{ "vcpus = 1\n[qemu]\nextra_args = [\"-x\", \"a\\tb\"]\n",
		  { "qemu.extra_args: control character 0x09", "one argument per line" } },
		{ "vcpus = 1\nname = \"a\\u007fb\"\n", { "name: control character 0x7f", "per line" } },
	};
	const char *base = "tee = \"snp\"\nfirmware = \"amdsev.fd\"\novmf_hash = \"" OVMF_HASH "\"\n";
	char text[1024];
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cct_launch_plan p;
		cct_err err;

		snprintf(text, sizeof(text), "%s%s", base, bad[i].toml);
		memset(&err, 0, sizeof(err));
		if (load_plan(&p, "bad.toml", text, &err) == CCT_OK) {
			cct_launch_plan_clear(&p);
			fail_msg("accepted bad plan %zu:\n%s", i, bad[i].toml);
		}
		assert_int_equal(cct_code_is_input(err.code), 1);
		for (k = 0; k < 2; k++)
			if (!strstr(err.msg, bad[i].want[k]))
				fail_msg("plan %zu: no '%s' in '%s'", i, bad[i].want[k], err.msg);
	}
	/* the documented forms still load: hex strings for guest_features/policy, sizes */
	snprintf(text, sizeof(text), "%svcpus = 4\nmemory = \"64M\"\nguest_features = \"0x21\"\n"
		 "policy = 0x30000\ngpus = [\"0000:01:00.0\", \"0000:02:00.0\"]\n", base);
	{
		cct_launch_plan p;
		cct_err err;

		assert_int_equal(load_plan(&p, "good.toml", text, &err), CCT_OK);
		assert_int_equal(p.gpu_count, 2);
		assert_int_equal(p.guest_features, 0x21);
		cct_launch_plan_clear(&p);
	}
}

/* A TOML syntax error in the plan is the plan's own: it said "init-data TOML line 5", which sent
 * the user to the init_data = file; an error in that file still says init-data. */
/* SNP's VMM type, VMSA version and kernel-hashes switch in a TDX plan: refused, the key named
 * (they were accepted and ignored: nothing in a TDX launch reads them) */
static void tdx_plan_refuses_snp_keys(void **state)
{
	static const char *const keys[] = { "vmm = \"ec2\"\n", "vmm_version = 2\n",
					    "kernel_hashes = false\n" };
	static const char *const names[] = { "vmm: ", "vmm_version: ", "kernel_hashes: " };
	char text[1024];
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		cct_launch_plan p;
		cct_err err;

		snprintf(text, sizeof(text), "tee = \"tdx\"\nfirmware = \"empty\"\nvcpus = 2\n%s",
			 keys[i]);
		memset(&err, 0, sizeof(err));
		if (load_plan(&p, "tdxsnp.toml", text, &err) == CCT_OK) {
			cct_launch_plan_clear(&p);
			fail_msg("TDX plan with %s accepted", keys[i]);
		}
		if (!strstr(err.msg, names[i]) || !strstr(err.msg, "TDX plan"))
			fail_msg("%s: key not named: %s", keys[i], err.msg);
	}
}

static void plan_toml_errors_name_the_plan(void **state)
{
	static const struct {
		const char *toml, *want;
	} bad[] = {
		{ "vcpus = 1\nvcpus = 2\n", "duplicate key \"vcpus\"" },
		{ "vcpus = 1\nname = \"a\n", "newline" },
		{ "vcpus = 1\nname = \"\xff\"\n", "UTF-8" },
	};
	const char *base = "tee = \"snp\"\nfirmware = \"amdsev.fd\"\novmf_hash = \"" OVMF_HASH "\"\n";
	char text[1024];
	size_t i;

	(void)state;
	setup_dir();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cct_launch_plan p;
		cct_err err;

		snprintf(text, sizeof(text), "%s%s", base, bad[i].toml);
		memset(&err, 0, sizeof(err));
		if (load_plan(&p, "bad.toml", text, &err) == CCT_OK) {
			cct_launch_plan_clear(&p);
			fail_msg("accepted bad plan %zu:\n%s", i, bad[i].toml);
		}
		if (strncmp(err.msg, "launch plan TOML line 5: ", 25) || !strstr(err.msg, bad[i].want))
			fail_msg("plan %zu: want 'launch plan TOML line 5: ...%s...', got '%s'", i,
				 bad[i].want, err.msg);
	}
}

/* A control character that reaches a QEMU argument by another way than a plan key (here the
 * plan's own directory, which relative paths are joined with) names the QEMU option and shows
 * the argument escaped, and the CLI's message ends its line. */
static void control_character_names_the_argument(void **state)
{
	char sub[1024], cmd[4096], *out = NULL;
	size_t n;
	int rc;

	(void)state;
	setup_dir();
	snprintf(sub, sizeof(sub), "%s/nl\ndir", dir);
	mkdir(sub, 0755);
	snprintf(cmd, sizeof(cmd), "cp '%s/amdsev.fd' '%s/amdsev.fd'", dir, sub);
	assert_int_equal(system(cmd), 0);
	write_file("nl\ndir/p.toml", "tee = \"snp\"\nfirmware = \"amdsev.fd\"\novmf_hash = \""
		   OVMF_HASH "\"\nvcpus = 1\n");
	rc = cct_test_cli(&out, "launch plan '%s/p.toml' -o '%s/nl-out' 2>&1 >/dev/null", sub,
			  dir);
	assert_int_equal(rc, 2);
	if (!strstr(out, "(the value of -bios)") || !strstr(out, "nl\\x0adir/amdsev.fd"))
		fail_msg("argument not named: %s", out);
	n = strlen(out);
	assert_true(n > 0 && out[n - 1] == '\n');
	free(out);
}

/* Diagnose a report carrying the MEASUREMENT of a variation (the simulator's report layout
 * through the library): the variation is named. */
static void diagnose_variations(void **state)
{
	static const struct {
		const char *toml;
		const char *key;
		const char *want; /* JSON of explained_by */
	} vars[] = {
		{ "vcpus = 7\n", "vcpus", "{\"vcpus\": 7}" },
		{ "vcpus = 4\nvcpu_type = \"EPYC-Genoa\"\n", "vcpu_type",
		  "{\"vcpu_type\": \"EPYC-Genoa\", \"vcpu_sig\": \"0x00a10f10\"}" },
		{ "vcpus = 4\nguest_features = \"0x21\"\n", "guest_features",
		  "{\"guest_features\": \"0x21\"}" },
		{ "vcpus = 4\nvmm = \"ec2\"\n", "vmm", "{\"vmm\": \"ec2\"}" },
		{ "vcpus = 4\nkernel_hashes = false\n", "kernel_hashes",
		  "{\"kernel_hashes\": false}" },
		{ "vcpus = 12\nguest_features = \"0x21\"\n", "vcpus",
		  "{\"vcpus\": 12, \"guest_features\": \"0x21\"}" },
	};
	const char *base = "tee = \"snp\"\nfirmware = \"amdsev.fd\"\novmf_hash = \"" OVMF_HASH
			   "\"\nkernel = \"empty\"\ninitrd = \"empty\"\ncmdline = \"console=ttyS0\"\n";
	char text[2048];
	cct_launch_plan plan, var;
	cct_err err;
	size_t i;
	uint8_t rep[CCT_SNP_REPORT_SIZE];

	(void)state;
	snprintf(text, sizeof(text), "%svcpus = 4\n", base);
	assert_int_equal(load_plan(&plan, "diag.toml", text, &err), CCT_OK);
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		json_t *o = NULL, *ve, *want;
		const char *m;

		snprintf(text, sizeof(text), "%s%s", base, vars[i].toml);
		assert_int_equal(load_plan(&var, "var.toml", text, &err), CCT_OK);
		ve = build(&var);
		m = expected_value(ve, "measurement");
		/* a v2 report: version 2, signature algo 1, MEASUREMENT at 0x90 */
		memset(rep, 0, sizeof(rep));
		rep[0] = 2;
		rep[0x08] = 0x00; rep[0x0a] = 0x03; /* policy 0x30000 */
		rep[0x34] = 1;
		assert_int_equal(cct_hex_decode_fixed(rep + 0x90, 48, m, NULL), CCT_OK);
		assert_int_equal(cct_launch_diagnose(&o, &plan, rep, sizeof(rep), &err),
				 CCT_EMEASUREMENT);
		assert_non_null(o);
		assert_true(json_is_false(json_object_get(o, "matches")));
		want = json_loads(vars[i].want, 0, NULL);
		assert_non_null(want);
		if (!json_equal(want, json_object_get(o, "explained_by"))) {
			char *s = json_dumps(o, JSON_INDENT(1));

			fprintf(stderr, "variation %zu: %s\n", i, s);
			free(s);
			fail();
		}
		/* the field is reported; its bound (5 s on a 4 MiB OVMF) is bench/launch.sh's to
		 * measure, not a test's: a timed assertion fails on a slow or sanitized build */
		assert_true(json_is_integer(json_object_get(o, "elapsed_ms")));
		assert_true(json_integer_value(json_object_get(o, "elapsed_ms")) >= 0);
		json_decref(want);
		json_decref(o);
		json_decref(ve);
		cct_launch_plan_clear(&var);
	}
	/* the plan's own value matches (exit 0), an unrelated value is explained by nothing */
	{
		json_t *o = NULL, *pe = build(&plan);

		memset(rep, 0, sizeof(rep));
		rep[0] = 2;
		rep[0x0a] = 0x03;
		rep[0x34] = 1;
		assert_int_equal(cct_hex_decode_fixed(rep + 0x90, 48,
						      expected_value(pe, "measurement"), NULL),
				 CCT_OK);
		assert_int_equal(cct_launch_diagnose(&o, &plan, rep, sizeof(rep), &err), CCT_OK);
		assert_true(json_is_true(json_object_get(o, "matches")));
		json_decref(o);
		rep[0x90] ^= 1;
		rep[0x0a] = 0x07; /* policy differs too */
		assert_int_equal(cct_launch_diagnose(&o, &plan, rep, sizeof(rep), &err),
				 CCT_EMEASUREMENT);
		assert_true(json_is_null(json_object_get(o, "explained_by")));
		assert_true(json_is_false(json_object_get(
			json_object_get(json_object_get(o, "fields"), "policy"), "match")));
		assert_true(json_is_true(json_object_get(
			json_object_get(json_object_get(o, "fields"), "host_data"), "match")));
		assert_non_null(strstr(json_string_value(json_object_get(o, "message")),
				       "host_data"));
		json_decref(o);
		json_decref(pe);
	}
	cct_launch_plan_clear(&plan);
}

/* launch plan -o DIR never overwrites one of the plan's inputs: a plan named DIR/policy.json,
 * firmware = "qemu.args", [id_block] id_key = "expected.json" with -o . each exited 0 and
 * destroyed the input. Refused (exit 2, the input and the output named), nothing written. */
static void plan_outputs_never_overwrite_inputs(void **state)
{
	static const struct {
		const char *plan_name, *victim, *plan, *want;
	} cases[] = {
		{ "policy.json", "policy.json", "", "the plan file" },
		{ "p.toml", "qemu.args", "", "firmware =" },
		{ "p.toml", "expected.json", "[id_block]\nid_key = \"expected.json\"\n",
		  "[id_block] id_key =" },
		{ "p.toml", "launch.sh", "init_data = \"launch.sh\"\n", "init_data =" },
		{ "p.toml", "policy.json", "[disks.d]\nfile = \"policy.json\"\n", "[disks] file =" },
	};
	static const char *const outputs[] = { "qemu.args", "launch.sh", "expected.json",
					       "policy.json" };
	char sub[600], cmd[8192], plan[2048], path[1200], *out = NULL;
	size_t i, k, n = 0, vn = 0;
	uint8_t *before, *after;
	int rc;

	(void)state;
	setup_dir();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(sub, sizeof(sub), "%s/ow", dir);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir '%s' && cp '%s/amdsev.fd' "
			 "'%s/fw.fd' && cp '%s/id.pem' '%s/id.pem'", sub, sub, dir, sub, dir, sub);
		assert_int_equal(system(cmd), 0);
		snprintf(plan, sizeof(plan), "tee = \"snp\"\nfirmware = \"%s\"\novmf_hash = \""
			 OVMF_HASH "\"\nvcpus = 1\n%s",
			 !strcmp(cases[i].victim, "qemu.args") ? "qemu.args" : "fw.fd",
			 cases[i].plan);
		snprintf(path, sizeof(path), "ow/%s", cases[i].plan_name);
		write_file(path, plan);
		if (strcmp(cases[i].plan_name, cases[i].victim)) { /* the victim: a copy of a key */
			snprintf(cmd, sizeof(cmd), "cp '%s/id.pem' '%s/%s'", sub, sub,
				 cases[i].victim);
			assert_int_equal(system(cmd), 0);
		}
		snprintf(path, sizeof(path), "%s/%s", sub, cases[i].victim);
		before = cct_test_read_file(path, &vn);
		assert_non_null(before);
		rc = cct_test_cli(&out, "launch plan '%s/%s' -o '%s' 2>&1", sub, cases[i].plan_name,
				  sub);
		if (rc != 2 || !strstr(out, cases[i].want) || !strstr(out, cases[i].victim) ||
		    !strstr(out, "-o "))
			fail_msg("%s over %s: exit %d, want 2 naming both:\n%s", cases[i].victim,
				 cases[i].want, rc, out);
		free(out);
		after = cct_test_read_file(path, &n);
		assert_non_null(after);
		assert_int_equal(n, vn);
		assert_memory_equal(after, before, n);
		free(before);
		free(after);
		for (k = 0; k < 4; k++) { /* nothing else written either */
			if (!strcmp(outputs[k], cases[i].victim))
				continue;
			snprintf(path, sizeof(path), "%s/%s", sub, outputs[k]);
			assert_null(cct_test_read_file(path, &n));
		}
	}
	/* the same plan with another -o DIR writes its four files */
	rc = cct_test_cli(&out, "launch plan '%s/p.toml' -o '%s/out' >/dev/null 2>&1", sub, sub);
	assert_int_equal(rc, 0);
	free(out);
}

/* An output that cannot be written (a directory where launch.sh goes, an -o that is a file) is
 * refused before the first file is written: qemu.args was written, then the run failed on
 * launch.sh and exited 2 with half the outputs in place. */
static void plan_refusal_writes_no_output(void **state)
{
	char sub[600], cmd[2048], path[1200], *out = NULL;
	size_t n;
	int rc;

	(void)state;
	setup_dir();
	write_file("wr.toml", "tee = \"snp\"\nfirmware = \"amdsev.fd\"\novmf_hash = \"" OVMF_HASH
		   "\"\nvcpus = 1\n");
	snprintf(sub, sizeof(sub), "%s/wr-out", dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s/launch.sh'", sub, sub);
	assert_int_equal(system(cmd), 0);
	rc = cct_test_cli(&out, "launch plan '%s/wr.toml' -o '%s' 2>&1", dir, sub);
	if (rc != 2 || !strstr(out, "launch.sh is a directory") || !strstr(out, "nothing written"))
		fail_msg("exit %d, want 2 naming launch.sh:\n%s", rc, out);
	free(out);
	snprintf(path, sizeof(path), "%s/qemu.args", sub);
	if (cct_test_read_file(path, &n))
		fail_msg("%s written by a refused run", path);
	/* -o with --json: refused (--json writes no file; the -o DIR was ignored) */
	rc = cct_test_cli(&out, "launch plan '%s/wr.toml' --json -o '%s/wr-json'", dir, dir);
	if (rc != 2 || !strstr(out, "does not apply with --json") || !strstr(out, "\"error\""))
		fail_msg("--json -o: exit %d:\n%s", rc, out);
	free(out);
	/* -o naming a regular file: the option is named */
	rc = cct_test_cli(&out, "launch plan '%s/wr.toml' -o '%s/empty' 2>&1", dir, dir);
	if (rc != 2 || !strstr(out, "-o ") || !strstr(out, "not a directory"))
		fail_msg("-o FILE: exit %d:\n%s", rc, out);
	free(out);
}

/* launch diagnose with an argument missing answered with the launch plan usage line first. */
static void diagnose_usage_is_its_own(void **state)
{
	char *out = NULL;
	int rc;

	(void)state;
	setup_dir();
	rc = cct_test_cli(&out, "launch diagnose '%s/amdsev.fd' 2>&1", dir);
	assert_int_equal(rc, 2);
	if (!strstr(out, "launch diagnose: missing argument") ||
	    !strstr(out, "usage: cctrust launch diagnose PLAN.toml EVIDENCE") ||
	    strstr(out, "launch plan"))
		fail_msg("diagnose usage: %s", out);
	free(out);
	rc = cct_test_cli(&out, "launch diagnose a b c 2>&1");
	assert_int_equal(rc, 2);
	assert_non_null(strstr(out, "unexpected argument"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(published_digests_through_plans),
		cmocka_unit_test(snp_plan_qemu_args),
		cmocka_unit_test(snp_plan_without_kernel),
		cmocka_unit_test(snp_plan_id_block),
		cmocka_unit_test(tdx_plan),
		cmocka_unit_test(plan_refusals),
		cmocka_unit_test(plan_refusals_name_the_key),
		cmocka_unit_test(plan_toml_errors_name_the_plan),
		cmocka_unit_test(tdx_plan_refuses_snp_keys),
		cmocka_unit_test(control_character_names_the_argument),
		cmocka_unit_test(plan_outputs_never_overwrite_inputs),
		cmocka_unit_test(plan_refusal_writes_no_output),
		cmocka_unit_test(diagnose_usage_is_its_own),
		cmocka_unit_test(diagnose_variations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
