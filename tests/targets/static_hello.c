/* static_hello: linked with -static, so LD_PRELOAD cannot reach it; wedge must refuse it
 * as bad input instead of reporting thousands of clean runs. */
#include <stdio.h>

int main(void)
{
    puts("static_hello: hello");
    return 0;
}
