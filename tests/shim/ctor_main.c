/* Checks that the work done in ctor_lib's constructor completed under the shim. */
#include <stdio.h>

extern int ctor_lib_count;

int main(void)
{
    if (ctor_lib_count != 200) {
        printf("constructor count %d != 200\n", ctor_lib_count);
        return 1;
    }
    return 0;
}
