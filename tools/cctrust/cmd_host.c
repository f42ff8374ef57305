/* cctrust host: host-side preparation of confidential GPU VMs (docs/launch.md).
 *   host gpu list                 NVIDIA GPUs / NVSwitches: driver, IOMMU group, group members
 *   host gpu bind BDF             driver_override=vfio-pci, unbind, drivers_probe
 *   host gpu restore BDF          clear driver_override, unbind vfio-pci, drivers_probe */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cctrust/launch.h"
#include "cli.h"

static const char host_usage[] =
	"usage: cctrust host gpu list [--sysfs-root DIR] [--json]\n"
	"       cctrust host gpu bind BDF [--dry-run] [--sysfs-root DIR] [--json]\n"
	"       cctrust host gpu restore BDF [--dry-run] [--sysfs-root DIR] [--json]\n"
	"\n"
	"list: NVIDIA GPUs and NVSwitches with their driver, IOMMU group and the group's other\n"
	"  devices. The CC mode is not in sysfs: query and set it with NVIDIA's tool\n"
	"  (nvidia_gpu_tools.py --query-cc-mode / --set-cc-mode=on --reset-after-cc-mode-switch).\n"
	"bind: hand BDF (0000:01:00.0) to vfio-pci: writes vfio-pci to driver_override, unbinds the\n"
	"  current driver, asks drivers_probe. Refused (exit 1) when the IOMMU group holds another\n"
	"  device still bound to a host driver (other than vfio-pci / pcieport). A failed unbind\n"
	"  puts driver_override back.\n"
	"restore: give BDF back to its host driver (clears driver_override, unbinds vfio-pci,\n"
	"  drivers_probe); on its host driver with an override left (a failed bind): clears it.\n"
	"Every write is printed. bind/restore need root unless --dry-run (shows the writes only)\n"
	"or --sysfs-root DIR (a sysfs tree under DIR, e.g. a test fixture; empty: usage error).\n"
	"\n"
	"exit status: 0 done, 1 refused, 2 usage error or unreadable sysfs\n";

int cct_cmd_host(int argc, char **argv)
{
	static const struct option lo[] = { { "json", no_argument, NULL, 'j' },
					     { "dry-run", no_argument, NULL, 'd' },
					     { "sysfs-root", required_argument, NULL, 'r' },
					     { "help", no_argument, NULL, 'h' },
					     { NULL, 0, NULL, 0 } };
	const char *root = NULL, *bdf = NULL, *op;
	int json = 0, dry = 0, ch, rc;
	json_t *o = NULL;
	cct_err err;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(host_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CCT_EXIT_USAGE : CCT_EXIT_OK;
	}
	if (strcmp(argv[1], "gpu") || argc < 3)
		return cct_cli_usage_error("%s", host_usage);
	op = argv[2];
	if (!strcmp(op, "--help") || !strcmp(op, "-h")) {
		fputs(host_usage, stdout);
		return CCT_EXIT_OK;
	}
	cct_cli_getopt_begin();
	while ((ch = cct_cli_getopt(argc - 2, argv + 2, "h", lo)) != -1) {
		switch (ch) {
		case 'j': json = 1; break;
		case 'd':
			/* list writes nothing: a --dry-run there is refused, not ignored */
			if (!strcmp(op, "list"))
				return cct_cli_usage_error("host gpu list: --dry-run does not apply to "
							   "it (cctrust host --help lists each "
							   "subcommand's options)");
			dry = 1;
			break;
		case 'r':
			/* an empty root would be the real /sys (an unset variable in a script) */
			if (!*optarg)
				return cct_cli_usage_error("host gpu %s: --sysfs-root is empty (the "
							   "host's own sysfs is used without the "
							   "option)", op);
			root = optarg;
			break;
		case 'h': fputs(host_usage, stdout); return CCT_EXIT_OK;
		default: fputs(host_usage, stderr); return CCT_EXIT_USAGE;
		}
	}
	if (strcmp(op, "list") && optind == argc - 3)
		bdf = argv[2 + optind];
	else if (optind != argc - 2)
		return cct_cli_usage_error("host gpu %s: unexpected arguments\n%s", op, host_usage);
	if (!strcmp(op, "list")) {
		rc = cct_launch_host_gpu_list(&o, root, &err);
	} else if (!strcmp(op, "bind") || !strcmp(op, "restore")) {
		if (!bdf)
			return cct_cli_usage_error("host gpu %s: BDF required\n%s", op, host_usage);
		if (!dry && !root && geteuid() != 0)
			return cct_cli_usage_error("host gpu %s: root required (or --dry-run)", op);
		rc = !strcmp(op, "bind") ? cct_launch_host_gpu_bind(&o, root, bdf, dry, &err)
					 : cct_launch_host_gpu_restore(&o, root, bdf, dry, &err);
	} else {
		return cct_cli_usage_error("host gpu: unknown operation '%s'\n%s", op, host_usage);
	}
	if (rc != CCT_OK) {
		if (json) {
			json_t *e = json_object();

			json_object_set_new(e, "error", cct_cli_error_json(rc, &err));
			cct_cli_print_json(e, 0);
		} else {
			fprintf(stderr, "cctrust host gpu %s: %s\n", op, err.msg);
		}
		return rc == CCT_EPOLICY ? CCT_EXIT_REJECT : CCT_EXIT_USAGE;
	}
	if (json) {
		cct_cli_print_json(o, 0);
		return CCT_EXIT_OK;
	}
	if (!strcmp(op, "list")) {
		size_t k;
		json_t *d;

		printf("%-13s %-8s %-7s %-12s %-6s %s\n", "BDF", "KIND", "DEVICE", "DRIVER", "GROUP",
		       "GROUP MEMBERS");
		json_array_foreach(o, k, d) {
			const char *drv = json_string_value(json_object_get(d, "driver"));
			const char *grp = json_string_value(json_object_get(d, "iommu_group"));
			size_t j;
			json_t *m;

			printf("%-13s %-8s %-7s %-12s %-6s",
			       json_string_value(json_object_get(d, "bdf")),
			       json_string_value(json_object_get(d, "kind")),
			       json_string_value(json_object_get(d, "device")), drv ? drv : "-",
			       grp ? grp : "-");
			json_array_foreach(json_object_get(d, "group_devices"), j, m) {
				const char *md = json_string_value(json_object_get(m, "driver"));

				printf(" %s(%s)", json_string_value(json_object_get(m, "bdf")),
				       md ? md : "-");
			}
			printf("\n");
		}
	} else {
		size_t k;
		json_t *a;
		const char *msg = json_string_value(json_object_get(o, "message"));

		if (msg)
			printf("%s: %s\n", bdf, msg);
		json_array_foreach(json_object_get(o, "actions"), k, a) {
			const char *v = json_string_value(json_object_get(a, "value"));

			printf("%s%s <- %s\n", dry ? "would write " : "wrote ",
			       json_string_value(json_object_get(a, "path")),
			       !strcmp(v, "\n") ? "(empty line)" : v);
		}
	}
	json_decref(o);
	return CCT_EXIT_OK;
}
