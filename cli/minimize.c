/* minimize.c - `wedge minimize`: its own entry point so that the minimizer can be built here
 * without touching the campaign code.  Options and TOKEN are already parsed and checked. */
#include "cli.h"

int cmd_minimize(struct wedge_config *cfg)
{
    (void)cfg;
    usage_error("minimize is not built yet in 0.1");
    return WEDGE_EXIT_USAGE;
}
