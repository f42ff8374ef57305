/* Guest device interfaces of the CPU TEEs (used when configfs-tsm is not available):
 *  /dev/sev-guest  SNP_GET_EXT_REPORT: the report plus the host's GHCB certificate table; the
 *                  certificate buffer is grown and the call retried when the host says it is
 *                  too small (SNP_GUEST_VMM_ERR_INVALID_LEN, required size in certs_len).
 *  /dev/tdx_guest  TDX_CMD_GET_REPORT0: the TDREPORT (a quote needs the QE: use configfs-tsm).
 * Device paths can be overridden with $CCT_SEV_GUEST_DEV / $CCT_TDX_GUEST_DEV (tests). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/sev-guest.h>

#include "attester/internal.h"
#include "cctrust/core.h"

#define SEV_CERTS_START (16u * 1024u)
#define SEV_CERTS_MAX (1u << 20)
#define SEV_TRIES 4

/* linux/tdx-guest.h (not in every distribution's kernel headers) */
struct cct_tdx_report_req {
	uint8_t reportdata[64];
	uint8_t tdreport[1024];
};
#define CCT_TDX_CMD_GET_REPORT0 _IOWR('T', 1, struct cct_tdx_report_req)

int cct_attester__sev_guest_report(uint8_t **report, size_t *report_len, uint8_t **certs,
				   size_t *certs_len, const uint8_t report_data[64], cct_err *err)
{
	const char *dev = getenv(CCT_ATTESTER_SEV_DEV_ENV);
	struct snp_ext_report_req req;
	struct snp_report_resp resp;
	struct snp_guest_request_ioctl io;
	uint8_t *buf = NULL;
	uint32_t size, status, rsize;
	size_t cap = SEV_CERTS_START;
	int fd, tries, rc = CCT_ERROR;

	*report = *certs = NULL;
	*report_len = *certs_len = 0;
	if (!dev)
		dev = "/dev/sev-guest";
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "cannot open %s: %s", dev,
				   strerror(errno));
	for (tries = 0; tries < SEV_TRIES; tries++) {
		free(buf);
		buf = aligned_alloc(4096, cap); /* the host writes whole pages */
		if (!buf) {
			rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
			goto out;
		}
		memset(buf, 0, cap);
		memset(&req, 0, sizeof(req));
		memset(&resp, 0, sizeof(resp));
		memset(&io, 0, sizeof(io));
		memcpy(req.data.user_data, report_data, 64);
		req.data.vmpl = 0;
		req.certs_address = (uint64_t)(uintptr_t)buf;
		req.certs_len = (uint32_t)cap;
		io.msg_version = 1;
		io.req_data = (uint64_t)(uintptr_t)&req;
		io.resp_data = (uint64_t)(uintptr_t)&resp;
		if (ioctl(fd, SNP_GET_EXT_REPORT, &io) == 0)
			break;
		if ((io.exitinfo2 >> SNP_GUEST_VMM_ERR_SHIFT) == SNP_GUEST_VMM_ERR_INVALID_LEN &&
		    req.certs_len > cap && req.certs_len <= SEV_CERTS_MAX) {
			cap = (req.certs_len + 4095u) & ~4095u; /* the host told us the size */
			continue;
		}
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
				 "SNP_GET_EXT_REPORT failed: %s (fw_error 0x%x, vmm_error 0x%x)",
				 strerror(errno), (unsigned)(io.exitinfo2 & 0xffffffffu),
				 (unsigned)(io.exitinfo2 >> 32));
		goto out;
	}
	if (tries == SEV_TRIES) {
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
				 "SNP_GET_EXT_REPORT: certificate buffer kept growing");
		goto out;
	}
	/* MSG_REPORT_RSP: status (4), report_size (4), reserved (24), report */
	status = (uint32_t)resp.data[0] | (uint32_t)resp.data[1] << 8 | (uint32_t)resp.data[2] << 16 |
		 (uint32_t)resp.data[3] << 24;
	rsize = (uint32_t)resp.data[4] | (uint32_t)resp.data[5] << 8 | (uint32_t)resp.data[6] << 16 |
		(uint32_t)resp.data[7] << 24;
	if (status != 0 || rsize != CCT_ATTESTER_SNP_REPORT_SIZE || 32 + rsize > sizeof(resp.data)) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
				 "SNP report response: status 0x%x, size %u", status, rsize);
		goto out;
	}
	*report = malloc(rsize);
	if (!*report) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_NONE, 0, "out of memory");
		goto out;
	}
	memcpy(*report, resp.data + 32, rsize);
	*report_len = rsize;
	size = req.certs_len <= cap ? req.certs_len : (uint32_t)cap;
	if (size && !cct_is_zero(buf, 24)) { /* an empty table starts with the zero entry */
		*certs = malloc(size);
		if (*certs) {
			memcpy(*certs, buf, size);
			*certs_len = size;
		}
	}
	rc = CCT_OK;
out:
	free(buf);
	close(fd);
	return rc;
}

int cct_attester__tdx_report(uint8_t out[1024], const uint8_t report_data[64], cct_err *err)
{
	const char *dev = getenv(CCT_ATTESTER_TDX_DEV_ENV);
	struct cct_tdx_report_req req;
	int fd, r;

	if (!dev)
		dev = "/dev/tdx_guest";
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "cannot open %s: %s", dev,
				   strerror(errno));
	memset(&req, 0, sizeof(req));
	memcpy(req.reportdata, report_data, 64);
	r = ioctl(fd, CCT_TDX_CMD_GET_REPORT0, &req);
	close(fd);
	if (r != 0)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "TDX_CMD_GET_REPORT0 failed: %s",
				   strerror(errno));
	memcpy(out, req.tdreport, 1024);
	return CCT_OK;
}
