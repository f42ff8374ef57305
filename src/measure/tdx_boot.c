/* TDX direct kernel boot (QEMU -kernel/-initrd/-append with TDVF): the RTMR1/RTMR2 events.
 *
 * What happens, from the sources (QEMU hw/i386/x86-common.c x86_load_linux, edk2
 * OvmfPkg PlatformBootManagerLib TryRunningQemuKernel / X86QemuLoadImageLib / TdTcg2Dxe, Linux
 * drivers/firmware/efi/libstub):
 *  1. QEMU patches the bzImage setup header (loader type, heap, command-line pointer, initrd
 *     address/size) before handing it to the firmware through fw_cfg;
 *  2. TDVF LoadImage()s the patched image: EV_EFI_BOOT_SERVICES_APPLICATION with its PE
 *     Authenticode SHA-384 -> RTMR1;
 *  3. ReadyToBoot: EV_EFI_ACTION "Calling EFI Application from Boot Option" and EV_SEPARATOR
 *     -> RTMR1 (one separator per RTMR in TdTcg2Dxe);
 *  4. the EFI stub measures its LoadOptions (UTF-16LE command line, " initrd=initrd" appended
 *     by OVMF when an initrd is given, NUL-terminated) as EV_EVENT_TAG into PCR 12 -> RTMR2,
 *     then the initrd it loads through LoadFile2 ("Linux initrd", PCR 9) -> RTMR2;
 *  5. ExitBootServices: EV_EFI_ACTION "Exit Boot Services Invocation" and "... Returned with
 *     Success" -> RTMR1.
 * The PE Authenticode digest is computed here from the PE headers (bounded reader) over
 * OpenSSL digests; it is compared with osslsigncode's in the tests. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cctrust/measure.h"
#include "core/rd.h"

#define MAX_PE_SECTIONS 96

typedef struct span {
	size_t off, len;
} span;

static int pe_fail(cct_err *err, int code, size_t off, const char *what)
{
	return cct_err_set(err, code, CCT_STAGE_PARSE, off, "PE image: %s", what);
}

int cct_measure_pe_authenticode(uint8_t *out, size_t *out_len, const char *digest,
				const uint8_t *pe, size_t n, cct_err *err)
{
	const EVP_MD *md = EVP_get_digestbyname(digest ? digest : "sha384");
	EVP_MD_CTX *ctx = NULL;
	cct_rd r;
	uint32_t lfanew, nrva = 0, size_of_headers, cert_off = 0, cert_size = 0;
	uint16_t nsec, opt_size, magic;
	size_t opt, checksum_off, certdir_off = 0, sec_tab, i, hashed, end;
	span secs[MAX_PE_SECTIONS];
	size_t nspan = 0;
	unsigned int dl = 0;
	int rc = CCT_ERROR;

	if (!md)
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0, "digest %s",
				   digest ? digest : "");
	if (n < 0x40 || pe[0] != 'M' || pe[1] != 'Z')
		return pe_fail(err, CCT_EFORMAT, 0, "no MZ header");
	cct_rd_init(&r, pe, n);
	r.off = 0x3c;
	lfanew = cct_rd_u32le(&r);
	if (r.err || lfanew > n - 24 || n - lfanew < 24 || memcmp(pe + lfanew, "PE\0\0", 4))
		return pe_fail(err, CCT_EFORMAT, 0x3c, "no PE signature at e_lfanew");
	r.off = lfanew + 6;
	nsec = cct_rd_u16le(&r);
	r.off = lfanew + 20;
	opt_size = cct_rd_u16le(&r);
	opt = (size_t)lfanew + 24;
	r.off = opt;
	magic = cct_rd_u16le(&r);
	if (r.err || (magic != 0x10b && magic != 0x20b))
		return pe_fail(err, CCT_EFORMAT, opt, "optional header magic is not PE32/PE32+");
	if (opt_size < (magic == 0x20b ? 112u : 96u) || opt + opt_size > n)
		return pe_fail(err, CCT_ETRUNC, opt, "optional header too short");
	r.off = opt + 60;
	size_of_headers = cct_rd_u32le(&r);
	checksum_off = opt + 64;
	r.off = opt + (magic == 0x20b ? 108 : 92);
	nrva = cct_rd_u32le(&r);
	if (nrva > 4) {
		certdir_off = opt + (magic == 0x20b ? 112 : 96) + 4 * 8;
		if (certdir_off + 8 > opt + opt_size)
			return pe_fail(err, CCT_ETRUNC, opt, "data directories outside the header");
		r.off = certdir_off;
		cert_off = cct_rd_u32le(&r);
		cert_size = cct_rd_u32le(&r);
	}
	sec_tab = opt + opt_size;
	if (r.err || size_of_headers > n || size_of_headers < checksum_off + 4 ||
	    (certdir_off && size_of_headers < certdir_off + 8))
		return pe_fail(err, CCT_EFORMAT, opt + 60, "SizeOfHeaders out of range");
	if (nsec > MAX_PE_SECTIONS)
		return pe_fail(err, CCT_ETOOBIG, lfanew + 6, "too many sections");
	if (sec_tab + (size_t)nsec * 40 > n)
		return pe_fail(err, CCT_ETRUNC, sec_tab, "section table truncated");
	for (i = 0; i < nsec; i++) {
		uint32_t raw_size, raw_ptr;

		r.off = sec_tab + i * 40 + 16;
		raw_size = cct_rd_u32le(&r);
		raw_ptr = cct_rd_u32le(&r);
		if (raw_size == 0)
			continue;
		if (raw_ptr > n || raw_size > n - raw_ptr)
			return pe_fail(err, CCT_ETRUNC, sec_tab + i * 40 + 16,
				       "section raw data outside the file");
		secs[nspan].off = raw_ptr;
		secs[nspan].len = raw_size;
		nspan++;
	}
	/* sections in file order (PointerToRawData), as the Authenticode spec says */
	for (i = 1; i < nspan; i++) {
		size_t j;

		for (j = i; j > 0 && secs[j - 1].off > secs[j].off; j--) {
			span t = secs[j];

			secs[j] = secs[j - 1];
			secs[j - 1] = t;
		}
	}
	if (!(ctx = EVP_MD_CTX_new()) || EVP_DigestInit_ex(ctx, md, NULL) != 1)
		goto crypto;
	/* headers without CheckSum and the certificate table directory entry */
	if (EVP_DigestUpdate(ctx, pe, checksum_off) != 1)
		goto crypto;
	if (certdir_off) {
		if (EVP_DigestUpdate(ctx, pe + checksum_off + 4, certdir_off - checksum_off - 4) !=
			    1 ||
		    EVP_DigestUpdate(ctx, pe + certdir_off + 8, size_of_headers - certdir_off - 8) !=
			    1)
			goto crypto;
	} else if (EVP_DigestUpdate(ctx, pe + checksum_off + 4,
				    size_of_headers - checksum_off - 4) != 1) {
		goto crypto;
	}
	hashed = size_of_headers;
	for (i = 0; i < nspan; i++) {
		if (EVP_DigestUpdate(ctx, pe + secs[i].off, secs[i].len) != 1)
			goto crypto;
		hashed += secs[i].len;
	}
	/* data after the last section, less a certificate table at the end */
	end = n;
	if (cert_size && cert_off >= hashed && cert_off <= n && cert_size <= n - cert_off)
		end = cert_off;
	if (end > hashed && EVP_DigestUpdate(ctx, pe + hashed, end - hashed) != 1)
		goto crypto;
	if (EVP_DigestFinal_ex(ctx, out, &dl) != 1)
		goto crypto;
	*out_len = dl;
	rc = CCT_OK;
	goto out;
crypto:
	rc = cct_err_set(err, CCT_ERROR, CCT_STAGE_NONE, 0, "digest failed");
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

static void st16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void st32(uint8_t *p, uint32_t v)
{
	st16(p, (uint16_t)v);
	st16(p + 2, (uint16_t)(v >> 16));
}
static uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t ld32(const uint8_t *p) { return (uint32_t)ld16(p) | (uint32_t)ld16(p + 2) << 16; }

int cct_measure_qemu_kernel_patch(uint8_t *k, size_t n, uint64_t ram_size, size_t initrd_size,
				  const char *cmdline, cct_err *err)
{
	uint32_t protocol = 0, real_addr, cmdline_addr, initrd_max;
	uint64_t lowmem, below_4g;
	const uint64_t acpi_data_size = 0x20000 + 0x8000; /* pc/q35 machine types >= 2.x */
	const char *vga;

	if (n < 0x250)
		return cct_err_set(err, CCT_ETRUNC, CCT_STAGE_PARSE, n,
				   "kernel image shorter than the x86 setup header");
	if (ld32(k + 0x202) == 0x53726448) /* "HdrS" */
		protocol = ld16(k + 0x206);
	if (protocol < 0x200 || !(k[0x211] & 0x01)) {
		real_addr = 0x90000;
		cmdline_addr = 0x9a000 - (uint32_t)(cmdline ? strlen(cmdline) + 1 : 1);
	} else if (protocol < 0x202) {
		real_addr = 0x90000;
		cmdline_addr = 0x9a000 - (uint32_t)(cmdline ? strlen(cmdline) + 1 : 1);
	} else {
		real_addr = 0x10000;
		cmdline_addr = 0x20000;
	}
	if (protocol >= 0x20c && (ld16(k + 0x236) & 0x2)) /* XLF_CAN_BE_LOADED_ABOVE_4G */
		initrd_max = UINT32_MAX;
	else if (protocol >= 0x203)
		initrd_max = ld32(k + 0x22c);
	else
		initrd_max = 0x37ffffff;
	lowmem = ram_size >= 0xb0000000ull ? 0x80000000ull : 0xb0000000ull; /* q35 */
	below_4g = ram_size >= lowmem ? lowmem : ram_size;
	if (below_4g <= acpi_data_size)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "memory size too small");
	if (initrd_max >= below_4g - acpi_data_size)
		initrd_max = (uint32_t)(below_4g - acpi_data_size - 1);
	if (protocol >= 0x202) {
		st32(k + 0x228, cmdline_addr);
	} else {
		st16(k + 0x20, 0xA33F);
		st16(k + 0x22, (uint16_t)(cmdline_addr - real_addr));
	}
	if (cmdline && (vga = strstr(cmdline, "vga="))) {
		const char *v = vga + 4;
		uint16_t mode;

		if (!strncmp(v, "normal", 6))
			mode = 0xffff;
		else if (!strncmp(v, "ext", 3))
			mode = 0xfffe;
		else if (!strncmp(v, "ask", 3))
			mode = 0xfffd;
		else
			mode = (uint16_t)strtol(v, NULL, 0);
		st16(k + 0x1fa, mode);
	}
	if (protocol >= 0x200)
		k[0x210] = 0xB0;
	if (protocol >= 0x201) {
		k[0x211] |= 0x80;
		st16(k + 0x224, (uint16_t)(cmdline_addr - real_addr - 0x200));
	}
	if (initrd_size) {
		uint32_t addr;

		if (initrd_size >= initrd_max)
			return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
					   "initrd larger than the memory below the kernel's limit");
		addr = (uint32_t)((initrd_max - initrd_size) & ~(uint32_t)4095);
		st32(k + 0x218, addr);
		st32(k + 0x21c, (uint32_t)initrd_size);
	}
	return CCT_OK;
}

int cct_measure_tdx_event_digest(uint8_t out[48], cct_measure_tdx_event_form form,
				 const uint8_t *data, size_t n)
{
	static const char *const prefixes[] = { "kernel_cmdline: ", "grub_cmd: ",
						"grub_kernel_cmdline ", "grub_cmd " };
	size_t i, k;
	uint8_t *u = NULL;
	unsigned int dl = 0;
	int ok;

	switch (form) {
	case CCT_MEASURE_TDX_EV_DATA:
		return EVP_Digest(data, n, out, &dl, EVP_sha384(), NULL) == 1 ? CCT_OK : CCT_ERROR;
	case CCT_MEASURE_TDX_EV_GRUB_STRING:
		/* GRUB's EV_IPL: "<prefix><text>\0" logged, <text> measured */
		for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
			size_t pl = strlen(prefixes[i]);

			if (n >= pl && !memcmp(data, prefixes[i], pl)) {
				data += pl;
				n -= pl;
				break;
			}
		}
		if (n && data[n - 1] == 0)
			n--;
		return EVP_Digest(data, n, out, &dl, EVP_sha384(), NULL) == 1 ? CCT_OK : CCT_ERROR;
	case CCT_MEASURE_TDX_EV_LOAD_OPTIONS:
		/* ASCII command line -> UTF-16LE + NUL (OVMF's LoadOptions) */
		if (n > (SIZE_MAX - 2) / 2 || !(u = malloc(2 * n + 2)))
			return CCT_ENOMEM;
		for (k = 0; k < n; k++) {
			u[2 * k] = data[k];
			u[2 * k + 1] = 0;
		}
		u[2 * n] = u[2 * n + 1] = 0;
		ok = EVP_Digest(u, 2 * n + 2, out, &dl, EVP_sha384(), NULL) == 1;
		free(u);
		return ok ? CCT_OK : CCT_ERROR;
	}
	return CCT_EINVAL;
}

static void extend(uint8_t mr[48], const uint8_t d[48])
{
	uint8_t buf[96];
	unsigned int dl = 0;

	memcpy(buf, mr, 48);
	memcpy(buf + 48, d, 48);
	EVP_Digest(buf, sizeof(buf), mr, &dl, EVP_sha384(), NULL);
}

static void add_event(cct_measure_tdx_boot *b, uint32_t rtmr, uint32_t type, const char *desc,
		      const uint8_t d[48])
{
	cct_measure_tdx_boot_event *e;

	if (b->count >= CCT_MEASURE_TDX_BOOT_MAX_EVENTS)
		return;
	e = &b->events[b->count++];
	e->rtmr = rtmr;
	e->event_type = type;
	e->description = desc;
	memcpy(e->sha384, d, 48);
	extend(b->rtmr[rtmr], d);
}

#define EV_SEPARATOR 0x4u
#define EV_EVENT_TAG 0x6u
#define EV_EFI_ACTION 0x80000007u
#define EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003u

int cct_measure_tdx_direct_boot(cct_measure_tdx_boot *b, const uint8_t *kernel, size_t kn,
				const uint8_t *initrd, size_t in, const char *cmdline,
				uint64_t ram_size, cct_err *err)
{
	static const char calling[] = "Calling EFI Application from Boot Option";
	static const char exit_inv[] = "Exit Boot Services Invocation";
	static const char exit_ok[] = "Exit Boot Services Returned with Success";
	static const uint8_t sep[4] = { 0 };
	uint8_t *k = NULL, d[64];
	size_t dl = 0, opts_len;
	char *opts = NULL;
	int rc;

	memset(b, 0, sizeof(*b));
	if (!kernel || kn == 0)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0, "no kernel");
	if (!(k = malloc(kn)))
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
	memcpy(k, kernel, kn);
	if ((rc = cct_measure_qemu_kernel_patch(k, kn, ram_size, initrd ? in : 0, cmdline, err)))
		goto out;
	if ((rc = cct_measure_pe_authenticode(d, &dl, "sha384", k, kn, err)) != CCT_OK)
		goto out;
	memcpy(b->kernel_authenticode, d, 48);
	add_event(b, 1, EV_EFI_BOOT_SERVICES_APPLICATION, "kernel (PE Authenticode, QEMU-patched "
							  "setup header)",
		  d);
	cct_measure_tdx_event_digest(d, CCT_MEASURE_TDX_EV_DATA, (const uint8_t *)calling,
				     sizeof(calling) - 1);
	add_event(b, 1, EV_EFI_ACTION, calling, d);
	cct_measure_tdx_event_digest(d, CCT_MEASURE_TDX_EV_DATA, sep, sizeof(sep));
	add_event(b, 1, EV_SEPARATOR, "separator", d);
	/* RTMR2: the EFI stub's LoadOptions, then the initrd */
	opts_len = (cmdline ? strlen(cmdline) : 0) + (initrd ? strlen(" initrd=initrd") : 0);
	if (opts_len) {
		if (!(opts = malloc(opts_len + 1))) {
			rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
			goto out;
		}
		opts[0] = 0;
		if (cmdline)
			strcat(opts, cmdline);
		if (initrd)
			strcat(opts, " initrd=initrd");
		if ((rc = cct_measure_tdx_event_digest(d, CCT_MEASURE_TDX_EV_LOAD_OPTIONS,
						       (const uint8_t *)opts, opts_len)))
			goto out;
		add_event(b, 2, EV_EVENT_TAG, "LOADED_IMAGE::LoadOptions (UTF-16LE command line)", d);
	}
	if (initrd) {
		cct_measure_tdx_event_digest(d, CCT_MEASURE_TDX_EV_DATA, initrd, in);
		add_event(b, 2, EV_EVENT_TAG, "Linux initrd", d);
	}
	cct_measure_tdx_event_digest(d, CCT_MEASURE_TDX_EV_DATA, (const uint8_t *)exit_inv,
				     sizeof(exit_inv) - 1);
	add_event(b, 1, EV_EFI_ACTION, exit_inv, d);
	cct_measure_tdx_event_digest(d, CCT_MEASURE_TDX_EV_DATA, (const uint8_t *)exit_ok,
				     sizeof(exit_ok) - 1);
	add_event(b, 1, EV_EFI_ACTION, exit_ok, d);
	rc = CCT_OK;
out:
	free(k);
	free(opts);
	return rc;
}
