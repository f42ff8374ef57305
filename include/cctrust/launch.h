/* cctrust launch: one TOML launch plan describing a confidential VM (docs/launch.md), from which
 * the QEMU argument list, the launch script, the expected reference values and the
 * cctrust.policy/v1 policy pinning them are derived in one step, and against which evidence is
 * diagnosed (which plan variation reproduces a report's measurement).
 *
 * Host GPU preparation (vfio-pci binding through sysfs) lives here too: it is the host half of
 * the same launch. */
#ifndef CCTRUST_LAUNCH_H
#define CCTRUST_LAUNCH_H

#include <jansson.h>

#include "common.h"
#include "errors.h"
#include "measure.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CCT_LAUNCH_MAX_PLAN (256u * 1024u)  /**< largest plan file */
#define CCT_LAUNCH_MAX_GPUS 16
#define CCT_LAUNCH_MAX_DISKS 16
#define CCT_LAUNCH_MAX_MODELS 8
#define CCT_LAUNCH_MAX_VCPUS 256             /**< plan cap (and the diagnose search range) */
#define CCT_LAUNCH_MAX_KERNEL (1024u * 1024u * 1024u)

typedef enum { CCT_LAUNCH_SNP = 1, CCT_LAUNCH_TDX = 2 } cct_launch_tee;

typedef struct cct_launch_disk {
	char *name;      /**< table name ([disks.NAME]) */
	char *file;      /**< resolved path */
	char *format;    /**< "raw" (default) or "qcow2" */
	int readonly;
	char *verity_root; /**< dm-verity root hash (hex) of a model disk, or NULL */
} cct_launch_disk;

/** A parsed launch plan. Paths are resolved against the plan file's directory. */
typedef struct cct_launch_plan {
	char *path;              /**< the plan file */
	char *name;              /**< "name" or the plan's file name without .toml */
	cct_launch_tee tee;
	char *firmware;
	char *kernel, *initrd, *cmdline;   /**< NULL when absent */
	int kernel_hashes;       /**< SNP: 1 when a kernel is given (default), "kernel_hashes" */
	uint32_t vcpus;
	char *vcpu_type;         /**< SNP (default "EPYC-v4") */
	uint32_t vcpu_sig;
	char *memory;            /**< QEMU size string ("64G") */
	cct_measure_vmm vmm;
	int vmm_version;
	uint64_t guest_features; /**< SNP (default 0x1) */
	uint64_t policy;         /**< SNP guest policy (default 0x30000) */
	char *ovmf_hash;         /**< optional precomputed SNP OVMF page digest (hex) */
	size_t gpu_count;
	char *gpus[CCT_LAUNCH_MAX_GPUS];
	char *init_data;         /**< init-data TOML file, or NULL */
	size_t disk_count;
	cct_launch_disk disks[CCT_LAUNCH_MAX_DISKS];
	size_t model_count;
	char *models[CCT_LAUNCH_MAX_MODELS]; /**< "name@revision:verity-root-hex" */
	/* SNP ID block inputs ([id_block]) */
	char *id_key, *author_key;
	uint8_t family_id[16], image_id[16];
	uint32_t guest_svn;
	/* TDX ([tdx]) */
	char *mrowner, *mrownerconfig;     /**< hex48 or NULL */
	int tdx_debug;
	int sept_ve_disable;     /**< default 1 */
	int tdx_two_pass;
	/* QEMU */
	char *qemu;              /**< binary (default "qemu-system-x86_64") */
	size_t extra_arg_count;
	char **extra_args;       /**< [qemu] extra_args, appended verbatim */
} cct_launch_plan;

/** Parse a plan (TOML text); base_dir resolves relative paths (NULL: as given).
 *  Unknown keys are refused (a typo must not silently change a launch). Errors EFORMAT/EINVAL
 *  name the key, stage INPUT. */
CCT_EXTERN int cct_launch_plan_parse(cct_launch_plan *out, const char *text, size_t len,
				     const char *base_dir, cct_err *err);
/** Read and parse a plan file. */
CCT_EXTERN int cct_launch_plan_load(cct_launch_plan *out, const char *path, cct_err *err);
CCT_EXTERN void cct_launch_plan_clear(cct_launch_plan *p);

/** Everything `cctrust launch plan` writes, as JSON: {"qemu_args": [..], "launch_sh": "..",
 *  "expected": {..}, "policy": {..}}. Reads the firmware, kernel, initrd, init-data and ID keys. */
CCT_EXTERN int cct_launch_plan_build(json_t **out, const cct_launch_plan *p, cct_err *err);

/** The QEMU argument list alone (JSON array of strings, argv[1..]). */
CCT_EXTERN int cct_launch_qemu_args(json_t **out, const cct_launch_plan *p, cct_err *err);

/** Diagnose evidence (raw SNP report, TDX quote, or KBS attest request) against a plan.
 *  *out: {"matches": bool, "tee", "evidence": {..}, "expected": {..}, "fields": {..},
 *  "explained_by": {..} | null, "searched": n, "elapsed_ms": n, "message"}.
 *  Returns CCT_OK when the evidence matches the plan, CCT_EMEASUREMENT when not (with *out
 *  explaining), another error when the inputs cannot be read. */
CCT_EXTERN int cct_launch_diagnose(json_t **out, const cct_launch_plan *p, const uint8_t *evidence,
				   size_t n, cct_err *err);

/* ---- Host GPU preparation (sysfs) ---- */

/** List NVIDIA GPUs / NVSwitches under ROOT/sys/bus/pci/devices (root "" or NULL = "/"):
 *  [{"bdf","vendor","device","class","kind","driver","iommu_group","group_devices",
 *    "cc_mode"?}]. */
CCT_EXTERN int cct_launch_host_gpu_list(json_t **out, const char *root, cct_err *err);
/** Bind bdf to vfio-pci (driver_override, unbind, drivers_probe). Refuses (EPOLICY) when its
 *  IOMMU group holds another device bound to a host driver other than vfio-pci / pcieport.
 *  dry_run: nothing written. *out: {"bdf","actions":[{"path","value"}],"previous_driver"}. */
CCT_EXTERN int cct_launch_host_gpu_bind(json_t **out, const char *root, const char *bdf,
					int dry_run, cct_err *err);
/** Give bdf back to its host driver (clear driver_override, unbind from vfio-pci,
 *  drivers_probe). */
CCT_EXTERN int cct_launch_host_gpu_restore(json_t **out, const char *root, const char *bdf,
					   int dry_run, cct_err *err);

#ifdef __cplusplus
}
#endif
#endif
