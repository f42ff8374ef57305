/* cctrust model: not built yet (stub; the area's issue replaces this file). */
#include "cli.h"

int cct_cmd_model(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cct_cli_usage_error("'model' is not implemented in this build");
}
