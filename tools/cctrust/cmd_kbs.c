/* cctrust kbs: not built yet (stub; the area's issue replaces this file). */
#include "cli.h"

int cct_cmd_kbs(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cct_cli_usage_error("'kbs' is not implemented in this build");
}
