/* sanitizer.c - wedge inside a sanitizer build (ASan, LSan; TSan builds are refused by the CLI).
 *
 * A sanitizer runtime owns the malloc family and insists on coming first in the preload
 * list (the CLI puts it there: LD_PRELOAD=libasan.so.8:libwedge.so).  The program's malloc
 * calls then bind to the sanitizer's, and wedge's malloc wrappers (malloc.c) are never
 * reached: no interception points at allocations, no watched heap arena.  The sanitizer's
 * allocator hooks (__sanitizer_install_malloc_and_free_hooks, sanitizer_common, in every
 * runtime that owns malloc) give the points back: they run in the allocating thread, after
 * an allocation and before a free, with no allocator lock held.  Their site is the first
 * frame of the caller outside the sanitizer runtime and the system libraries, taken from a
 * short backtrace (the hook itself sits three or four frames deep inside the runtime).
 *
 * What changes under a sanitizer: allocations and frees are still points (and in serial
 * mode scheduling points when made by the program's own code); memory watching covers the
 * program's globals but not its heap (the sanitizer's allocator places objects, with its
 * own headers and redzones beside them, so wedge cannot give an object pages of its own).
 */
#define _GNU_SOURCE
#include "shim.h"

#include <dlfcn.h>
#include <string.h>

typedef int (*install_hooks_fn)(void (*)(const volatile void *, size_t),
                                void (*)(const volatile void *));

int wedge_sanitizer_runtime; /* 1: a sanitizer runtime owns malloc in this process */

/* The first site of the stack that lies in the program (not the shim, the sanitizer
 * runtime or a system library); the innermost non-shim frame if there is none. */
static uint64_t caller_site(void)
{
    uint64_t sites[WEDGE_STACK_DEPTH + 4];
    unsigned n = wedge_stack_sites(sites, sizeof sites / sizeof sites[0]);
    for (unsigned i = 0; i < n; i++)
        if (!wedge_site_in_system_module(sites[i]))
            return sites[i];
    /* all in libraries (malloc from inside printf): the frame that called the runtime */
    for (unsigned i = 0; i < n; i++)
        if (!wedge_site_in_sanitizer(sites[i]))
            return sites[i];
    return n ? sites[n - 1] : 0;
}

static void on_malloc(const volatile void *p, size_t size)
{
    if (!wedge_enter())
        return;
    wedge_noise_point(WEDGE_EV_MALLOC, caller_site(), (const void *)p, size);
    wedge_leave();
}

static void on_free(const volatile void *p)
{
    if (!p || !wedge_enter())
        return;
    wedge_noise_point(WEDGE_EV_FREE, caller_site(), (const void *)p, 0);
    wedge_leave();
}

void wedge_sanitizer_init(void)
{
    /* Whose malloc does the program get?  Ours unless a runtime earlier in the search order
     * (a preloaded sanitizer, or one linked statically into the executable) defines it. */
    void *first = dlsym(RTLD_DEFAULT, "malloc");
    Dl_info them, us;
    /* (not &malloc: from inside the shim that is the first definition too) */
    if (!first || !dladdr(first, &them) || !dladdr((void *)&wedge_sanitizer_init, &us) ||
        them.dli_fbase == us.dli_fbase)
        return;
    install_hooks_fn install =
        (install_hooks_fn)dlsym(RTLD_DEFAULT, "__sanitizer_install_malloc_and_free_hooks");
    if (!install)
        return; /* another allocator (jemalloc, tcmalloc): its calls are not points */
    wedge_sanitizer_runtime = 1;
    if (!install(on_malloc, on_free))
        wedge_log("the sanitizer refused wedge's allocator hooks: no allocation points", NULL);
}
