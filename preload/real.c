/* real.c - the real-function table, filled once from symbols.def.
 *
 * dlsym itself may allocate (glibc's dlerror buffer): while it runs, wedge_resolving is set
 * and the malloc family answers from a bootstrap arena (malloc.c).  A lookup that returns our
 * own wrapper (possible if RTLD_NEXT finds nothing further) is treated as missing.
 */
#define _GNU_SOURCE
#include "shim.h"

#include <dlfcn.h>
#include <link.h>
#include <string.h>

struct wedge_real wedge_real;
_Atomic int wedge_resolving;
static _Atomic int resolved;


/* Our own loaded segments.  Found once: dladdr per symbol scans symbol tables and was 97%
 * of the shim's start-up (7 M instructions of 7.3 M, callgrind, issue 12). */
static uintptr_t self_lo, self_hi;

static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
    if ((void *)info->dlpi_addr != data)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (!self_lo || lo < self_lo)
            self_lo = lo;
        if (hi > self_hi)
            self_hi = hi;
    }
    return 1;
}

static void *lookup(const char *name, const char *version)
{
    void *p = version ? dlvsym(RTLD_NEXT, name, version) : NULL;
    if (!p)
        p = dlsym(RTLD_NEXT, name);
    if (p && (uintptr_t)p >= self_lo && (uintptr_t)p < self_hi)
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
    if (!self_hi && dladdr((void *)&wedge_resolve_all, &me))
        dl_iterate_phdr(find_self, me.dli_fbase);
#define X(ret, name, params, version)                                                       \
    if (!wedge_real.name)                                                                   \
        wedge_real.name = (ret(*) params)lookup(#name, version);
#include "symbols.def"
#undef X
    atomic_fetch_sub(&wedge_resolving, 1);
    atomic_store(&resolved, 1);
}
