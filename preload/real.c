/* real.c - the real-function table, filled once from symbols.def.
 *
 * dlsym itself may allocate (glibc's dlerror buffer): while it runs, wedge_resolving is set
 * and the malloc family answers from a bootstrap arena (malloc.c).  A lookup that returns our
 * own wrapper (possible if RTLD_NEXT finds nothing further) is treated as missing.
 */
#define _GNU_SOURCE
#include "shim.h"

#include <dlfcn.h>
#include <string.h>

struct wedge_real wedge_real;
_Atomic int wedge_resolving;
static _Atomic int resolved;


static void *self_base;

static void *lookup(const char *name, const char *version)
{
    void *p = version ? dlvsym(RTLD_NEXT, name, version) : NULL;
    if (!p)
        p = dlsym(RTLD_NEXT, name);
    Dl_info info;
    if (p && dladdr(p, &info) && info.dli_fbase == self_base)
        p = NULL; /* our own wrapper: there is no real function behind it */
    return p;
}

void wedge_resolve_all(void)
{
    if (atomic_load(&resolved))
        return;
    /* Concurrent first calls resolve twice and store the same values: benign. */
    atomic_fetch_add(&wedge_resolving, 1);
    Dl_info me;
    if (dladdr((void *)&wedge_resolve_all, &me))
        self_base = me.dli_fbase;
#define X(ret, name, params, version)                                                       \
    if (!wedge_real.name)                                                                   \
        wedge_real.name = (ret(*) params)lookup(#name, version);
#include "symbols.def"
#undef X
    atomic_fetch_sub(&wedge_resolving, 1);
    atomic_store(&resolved, 1);
}
