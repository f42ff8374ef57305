/* Host GPU preparation through sysfs: list NVIDIA GPUs / NVSwitches, bind one to vfio-pci
 * (driver_override, unbind, drivers_probe) and give it back. Every path is under a root
 * directory ("/" on a host, a fake tree in tests); writes never create files (sysfs attributes
 * exist or the layout is wrong). A device whose IOMMU group holds another device still bound to
 * a host driver is refused: VFIO would hand the guest a group the host still uses. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cctrust/core.h"
#include "cctrust/launch.h"
#include "launch/launch_int.h"

#define NVIDIA_VENDOR 0x10de
#define MAX_GROUP_DEVICES 64
#define MAX_PCI_DEVICES 65536

static const char *rootdir(const char *root)
{
	return root && *root ? root : "";
}

static int read_attr(char *out, size_t size, const char *root, const char *bdf, const char *name)
{
	char path[PATH_MAX];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/%s", rootdir(root), bdf, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(out, 1, size - 1, f);
	fclose(f);
	out[n] = 0;
	while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = 0;
	return 0;
}

/* Basename of the link target of devices/BDF/<name> ("" when absent). */
static void link_base(char *out, size_t size, const char *root, const char *bdf,
		      const char *name)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;
	const char *b;

	out[0] = 0;
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/%s", rootdir(root), bdf, name);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = 0;
	b = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
	if (strlen(b) < size)
		memcpy(out, b, strlen(b) + 1);
}

static const char *kind_of(unsigned long cls)
{
	if ((cls >> 16) == 0x03)
		return "gpu";
	if ((cls >> 8) == 0x0680)
		return "nvswitch";
	return NULL;
}

/* Devices in the IOMMU group of bdf, with their drivers. */
static json_t *group_devices(const char *root, const char *group)
{
	char path[PATH_MAX];
	json_t *a = json_array();
	DIR *d;
	struct dirent *e;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/sys/kernel/iommu_groups/%s/devices", rootdir(root), group);
	d = opendir(path);
	if (!d)
		return a;
	while ((e = readdir(d)) && n < MAX_GROUP_DEVICES) {
		char drv[256];

		if (!cct_launch__bdf_valid(e->d_name))
			continue;
		link_base(drv, sizeof(drv), root, e->d_name, "driver");
		json_array_append_new(a, json_pack("{s:s,s:s?}", "bdf", e->d_name, "driver",
						   *drv ? drv : NULL));
		n++;
	}
	closedir(d);
	return a;
}

static json_t *describe(const char *root, const char *bdf)
{
	char vendor[32], device[32], cls[32], drv[256], group[64], ovr[256];
	unsigned long c;
	const char *kind;
	json_t *o;

	if (read_attr(vendor, sizeof(vendor), root, bdf, "vendor") ||
	    strtoul(vendor, NULL, 16) != NVIDIA_VENDOR ||
	    read_attr(device, sizeof(device), root, bdf, "device") ||
	    read_attr(cls, sizeof(cls), root, bdf, "class"))
		return NULL;
	c = strtoul(cls, NULL, 16);
	if (!(kind = kind_of(c)))
		return NULL;
	link_base(drv, sizeof(drv), root, bdf, "driver");
	link_base(group, sizeof(group), root, bdf, "iommu_group");
	o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s?,s:s?}", "bdf", bdf, "vendor", vendor, "device",
		      device, "class", cls, "kind", kind, "driver", *drv ? drv : NULL,
		      "iommu_group", *group ? group : NULL);
	if (!read_attr(ovr, sizeof(ovr), root, bdf, "driver_override"))
		json_object_set_new(o, "driver_override",
				    *ovr && strcmp(ovr, "(null)") ? json_string(ovr) : json_null());
	json_object_set_new(o, "group_devices",
			    *group ? group_devices(root, group) : json_array());
	/* The CC mode lives in GPU registers; NVIDIA's tool (nvidia_gpu_tools.py
	 * --query-cc-mode) reads and sets it. sysfs does not show it. */
	json_object_set_new(o, "cc_mode", json_null());
	return o;
}

int cct_launch_host_gpu_list(json_t **out, const char *root, cct_err *err)
{
	char path[PATH_MAX];
	DIR *d;
	struct dirent *e;
	json_t *a;
	char **names = NULL, **grown;
	size_t n = 0, cap = 0, i, j;

	*out = NULL;
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices", rootdir(root));
	d = opendir(path);
	if (!d)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "%s: %s", path,
				   strerror(errno));
	while ((e = readdir(d)) && n < MAX_PCI_DEVICES) {
		if (!cct_launch__bdf_valid(e->d_name))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			if (!(grown = realloc(names, cap * sizeof(*names))))
				break;
			names = grown;
		}
		if ((names[n] = strdup(e->d_name)))
			n++;
	}
	closedir(d);
	for (i = 1; i < n; i++) /* sorted output */
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char *t = names[j];

			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	a = json_array();
	for (i = 0; i < n; i++) {
		json_t *o = describe(root, names[i]);

		if (o)
			json_array_append_new(a, o);
		free(names[i]);
	}
	free(names);
	*out = a;
	return CCT_OK;
}

static int do_write(json_t *actions, const char *root, const char *rel, const char *value,
		    int dry_run, cct_err *err)
{
	char path[PATH_MAX];
	int fd;
	ssize_t w;
	size_t n = strlen(value);

	snprintf(path, sizeof(path), "%s/sys/%s", rootdir(root), rel);
	json_array_append_new(actions, json_pack("{s:s,s:s}", "path", path + strlen(rootdir(root)),
						 "value", value));
	if (dry_run)
		return CCT_OK;
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "write %s: %s", path,
				   strerror(errno));
	w = write(fd, value, n);
	if (close(fd) != 0 || w != (ssize_t)n)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "write %s failed", path);
	return CCT_OK;
}

/* need_group: bind (VFIO passes whole groups through); restore gives the device back to the
 * host, which needs no IOMMU group (one booted without the IOMMU still has to be restored). */
static int check_device(json_t **dev, const char *root, const char *bdf, int need_group,
			cct_err *err)
{
	if (!cct_launch__bdf_valid(bdf))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "'%.32s' is not a PCI address (0000:01:00.0)", bdf);
	*dev = describe(root, bdf);
	if (!*dev)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
				   "%s is not an NVIDIA GPU or NVSwitch (or does not exist)", bdf);
	if (need_group && !json_string_value(json_object_get(*dev, "iommu_group"))) {
		json_decref(*dev);
		*dev = NULL;
		return cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0,
				   "%s has no IOMMU group: enable the IOMMU (amd_iommu=on / "
				   "intel_iommu=on) before passing it through",
				   bdf);
	}
	return CCT_OK;
}

/* Move device bdf to vfio-pci (to_vfio) or back to its host driver: driver_override set to
 * "vfio-pci" or cleared (an empty line), the current driver unbound, the bus reprobed. *out
 * lists the actions (not taken with dry_run); nothing to do when the device is already there.
 * dev (check_device's) is released; *out too on failure. */
static int rebind(json_t **out, json_t *dev, const char *root, const char *bdf, int to_vfio,
		  int dry_run, cct_err *err)
{
	const char *drv = json_string_value(json_object_get(dev, "driver"));
	const char *ovr = json_string_value(json_object_get(dev, "driver_override"));
	int on_vfio = drv && !strcmp(drv, "vfio-pci");
	int on_host = drv && !on_vfio; /* bound to a host driver */
	json_t *actions = json_array();
	char rel[PATH_MAX], ovr_rel[PATH_MAX];
	cct_err first; /* a failed write, before what was undone is added */
	int rc;

	*out = json_pack("{s:s,s:s?,s:o,s:b}", "bdf", bdf, "previous_driver", drv, "actions",
			 actions, "dry_run", dry_run);
	/* restore: a host driver with no override left is done; one with an override left (a bind
	 * that failed half way) only needs the override cleared */
	if (to_vfio ? on_vfio : on_host && !ovr) {
		json_object_set_new(*out, "message",
				    json_string(to_vfio ? "already bound to vfio-pci"
							: "already bound to a host driver"));
		json_decref(dev);
		return CCT_OK;
	}
	snprintf(ovr_rel, sizeof(ovr_rel), "bus/pci/devices/%s/driver_override", bdf);
	if ((rc = do_write(actions, root, ovr_rel, to_vfio ? "vfio-pci" : "\n", dry_run, err)) !=
	    CCT_OK)
		goto out;
	if (!to_vfio && on_host) /* still on its host driver: nothing to unbind or probe */
		goto out;
	if (drv) {
		snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver/unbind", bdf);
		if ((rc = do_write(actions, root, rel, bdf, dry_run, &first)) != CCT_OK) {
			json_t *undo = json_array();
			cct_err e;
			int u;

			/* still on its driver: put the override back as it was, so that no later
			 * probe hands the device to another driver */
			u = do_write(undo, root, ovr_rel, ovr ? ovr : "\n", 0, &e);
			json_decref(undo);
			if (u == CCT_OK)
				cct_err_set(err, rc, CCT_STAGE_INPUT, 0,
					    "%s; driver_override put back to %s", first.msg,
					    ovr ? ovr : "(none)");
			else
				cct_err_set(err, rc, CCT_STAGE_INPUT, 0,
					    "%s; driver_override left at %s (%s): cctrust host gpu "
					    "restore %s clears it",
					    first.msg, to_vfio ? "vfio-pci" : "(none)", e.msg, bdf);
			goto out;
		}
	}
	if ((rc = do_write(actions, root, "bus/pci/drivers_probe", bdf, dry_run, &first)) !=
	    CCT_OK)
		cct_err_set(err, rc, CCT_STAGE_INPUT, 0,
			    "%s; %s is left without a driver: cctrust host gpu restore %s gives it "
			    "back to its host driver",
			    first.msg, bdf, bdf);
out:
	json_decref(dev);
	if (rc != CCT_OK) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

/* A device of IOMMU group other than bdf still bound to a host driver (not vfio-pci /
 * pcieport), looking at every member (the listing's group_devices stops at
 * MAX_GROUP_DEVICES): 1 found (ob, od set), 0 none, -1 the group cannot be read. */
static int group_host_bound(const char *root, const char *group, const char *bdf, char ob[16],
			    char od[256])
{
	char path[PATH_MAX];
	struct dirent *e;
	int found = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/sys/kernel/iommu_groups/%s/devices", rootdir(root), group);
	if (!(d = opendir(path)))
		return -1;
	while (!found && (e = readdir(d))) {
		if (!cct_launch__bdf_valid(e->d_name) || !strcmp(e->d_name, bdf))
			continue;
		link_base(od, 256, root, e->d_name, "driver");
		if (*od && strcmp(od, "vfio-pci") && strcmp(od, "pcieport")) {
			memcpy(ob, e->d_name, 13); /* a valid BDF: 12 characters */
			found = 1;
		}
	}
	closedir(d);
	return found;
}

int cct_launch_host_gpu_bind(json_t **out, const char *root, const char *bdf, int dry_run,
			     cct_err *err)
{
	json_t *dev = NULL;
	const char *group;
	char ob[16], od[256];
	int rc, r;

	*out = NULL;
	if ((rc = check_device(&dev, root, bdf, 1, err)) != CCT_OK)
		return rc;
	group = json_string_value(json_object_get(dev, "iommu_group"));
	r = group_host_bound(root, group, bdf, ob, od);
	if (r != 0) {
		rc = r < 0 ? cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
					 "refused: the devices of IOMMU group %s cannot be read "
					 "(%s/sys/kernel/iommu_groups/%s/devices)",
					 group, rootdir(root), group)
			   : cct_err_set(err, CCT_EPOLICY, CCT_STAGE_POLICY, 0,
					 "refused: IOMMU group %s also holds %s, bound to host driver "
					 "%s; bind every device of the group to vfio-pci (or unbind "
					 "it) first",
					 group, ob, od);
		json_decref(dev);
		return rc;
	}
	return rebind(out, dev, root, bdf, 1, dry_run, err);
}

int cct_launch_host_gpu_restore(json_t **out, const char *root, const char *bdf, int dry_run,
				cct_err *err)
{
	json_t *dev = NULL;
	int rc;

	*out = NULL;
	if ((rc = check_device(&dev, root, bdf, 0, err)) != CCT_OK)
		return rc;
	return rebind(out, dev, root, bdf, 0, dry_run, err);
}
