/* spews_output: writes about 5 MB to stdout, then exits 0.  The runner must drain and bound
 * what it keeps (only the tail matters for reports), not buffer it all. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    char line[128];
    char buf[65536];
    size_t used = 0;
    size_t total = 0;
    for (unsigned i = 0; total < 5u * 1024 * 1024; i++) {
        int n = snprintf(line, sizeof line, "spews_output: line %u of a lot of output, padding padding\n", i);
        if (used + (size_t)n > sizeof buf) {
            if (write(1, buf, used) != (ssize_t)used)
                return 1;
            used = 0;
        }
        memcpy(buf + used, line, (size_t)n);
        used += (size_t)n;
        total += (size_t)n;
    }
    if (used && write(1, buf, used) != (ssize_t)used)
        return 1;
    return 0;
}
