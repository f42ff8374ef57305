#include "cli.h"
int cct_cmd_snp(int argc, char **argv) { (void)argc; (void)argv; return 2; }
