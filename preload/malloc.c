/* malloc.c - the malloc family: object identity and interception points.
 *
 * During symbol resolution (dlsym may allocate) the real malloc is not known yet: those
 * allocations come from a small static bootstrap arena and are never freed.  With memory
 * watching on, memwatch may place an object in its own page-aligned arena.
 */
#include "shim.h"

#include <errno.h>
#include <string.h>

#define BOOT_SIZE (64 * 1024)
static char boot_arena[BOOT_SIZE] __attribute__((aligned(64)));
static _Atomic size_t boot_used;

static void *boot_alloc(size_t n, size_t align)
{
    if (align < 16)
        align = 16;
    for (;;) {
        size_t old = atomic_load(&boot_used);
        size_t start = (old + align - 1) & ~(align - 1);
        if (start + n > BOOT_SIZE)
            return NULL;
        if (atomic_compare_exchange_weak(&boot_used, &old, start + n))
            return boot_arena + start;
    }
}

static int in_boot(const void *p)
{
    return (const char *)p >= boot_arena && (const char *)p < boot_arena + BOOT_SIZE;
}

/* Passive: nothing is watched, and a block that is not the boot arena's is the real allocator's.
 * One unsigned compare covers both ends of the arena. */
static inline int passive_and_real(const void *p)
{
    return WEDGE_LIKELY(wedge_g.passive) &&
           (uintptr_t)p - (uintptr_t)boot_arena >= (uintptr_t)BOOT_SIZE;
}

/* 1 if the real allocator is not there yet (we are inside dlsym). */
static int bootstrapping(void)
{
    if (WEDGE_LIKELY(wedge_real.malloc != NULL))
        return 0;
    if (atomic_load(&wedge_resolving))
        return 1;
    wedge_resolve_all();
    return wedge_real.malloc == NULL;
}

static void *alloc(size_t size, size_t align, uint64_t site)
{
    void *p = NULL;
    if (wedge_g.memory)
        p = wedge_mem_alloc(size, align, site);
    if (!p) {
        if (align <= 16) {
            p = wedge_real.malloc(size);
        } else if (wedge_real.posix_memalign(&p, align, size)) {
            p = NULL;
        }
    }
    wedge_noise_point(WEDGE_EV_MALLOC, site, p, size);
    return p;
}

static void release(void *p, uint64_t site)
{
    if (wedge_g.memory && wedge_mem_owns(p))
        wedge_mem_free(p);
    else
        wedge_real.free(p);
}

/* Reached by a tail jump from the wrapper (wedge_hot): the return address is its caller's. */
void *wedge_malloc_body(size_t size)
{
    if (bootstrapping())
        return boot_alloc(size, 16);
    if (!wedge_enter())
        return wedge_real.malloc(size);
    void *p = alloc(size, 0, wedge_site_of(WEDGE_CALLER_PC()));
    wedge_leave();
    return p;
}

WEDGE_EXPORT void *malloc(size_t size)
{
    return wedge_hot.malloc(size);
}

WEDGE_EXPORT void *calloc(size_t n, size_t size)
{
    return wedge_hot.calloc(n, size);
}

void *wedge_calloc_body(size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    if (bootstrapping())
        return boot_alloc(total, 16); /* static storage: already zero */
    if (!wedge_enter())
        return wedge_real.calloc(n, size);
    uint64_t site = wedge_site_of(WEDGE_CALLER_PC());
    void *p;
    if (wedge_g.memory && (p = wedge_mem_alloc(total, 0, site)) != NULL) {
        memset(p, 0, total);
        wedge_noise_point(WEDGE_EV_MALLOC, site, p, total);
    } else {
        p = wedge_real.calloc(n, size);
        wedge_noise_point(WEDGE_EV_MALLOC, site, p, total);
    }
    wedge_leave();
    return p;
}

static __attribute__((noinline)) void free_body(void *p, const void *pc)
{
    if (!p || in_boot(p))
        return;
    if (bootstrapping())
        return; /* cannot happen for memory we did not hand out; be safe */
    if (!wedge_enter()) {
        if (wedge_g.memory && wedge_mem_owns(p))
            wedge_mem_free(p);
        else
            wedge_real.free(p);
        return;
    }
    uint64_t site = wedge_site_of(pc);
    wedge_noise_point(WEDGE_EV_FREE, site, p, 0);
    release(p, site);
    wedge_leave();
}

WEDGE_EXPORT void free(void *p)
{
    /* a block of the boot arena (dlsym's) may be freed by libc later */
    if (passive_and_real(p))
        return wedge_real.free(p);
    free_body(p, WEDGE_CALLER_PC());
}

static size_t usable(void *p)
{
    if (in_boot(p))
        return BOOT_SIZE - (size_t)((char *)p - boot_arena); /* an upper bound: copy is capped */
    if (wedge_g.memory && wedge_mem_owns(p))
        return wedge_mem_usable_size(p);
    return wedge_real.malloc_usable_size(p);
}

static void *realloc_body(void *old, size_t size);

WEDGE_EXPORT void *realloc(void *old, size_t size)
{
    if (passive_and_real(old))
        return wedge_real.realloc(old, size);
    return realloc_body(old, size); /* a tail jump: its WEDGE_CALLER_PC() is our caller's */
}

static __attribute__((noinline)) void *realloc_body(void *old, size_t size)
{
    if (bootstrapping()) {
        void *p = boot_alloc(size, 16);
        if (p && old)
            memmove(p, old, size); /* old is a boot block too */
        return p;
    }
    int ours = old && (in_boot(old) || (wedge_g.memory && wedge_mem_owns(old)));
    if (!ours && !wedge_enter())
        return wedge_real.realloc(old, size);
    if (!ours) {
        uint64_t site = wedge_site_of(WEDGE_CALLER_PC());
        void *p = NULL;
        if (!old && wedge_g.memory)
            p = wedge_mem_alloc(size, 0, site);
        if (!p)
            p = wedge_real.realloc(old, size);
        wedge_noise_point(WEDGE_EV_MALLOC, site, p, size);
        wedge_leave();
        return p;
    }
    /* an object of ours (boot arena or watched arena): move it into the real heap */
    if (size == 0) {
        free(old);
        return NULL;
    }
    void *p = wedge_real.malloc(size);
    if (!p)
        return NULL;
    size_t n = usable(old);
    memcpy(p, old, n < size ? n : size);
    if (!in_boot(old))
        wedge_mem_free(old);
    return p;
}

static void *aligned(size_t align, size_t size, const void *pc)
{
    if (bootstrapping())
        return boot_alloc(size, align);
    if (!wedge_enter()) {
        void *p = NULL;
        return wedge_real.posix_memalign(&p, align, size) ? NULL : p;
    }
    void *p = alloc(size, align, wedge_site_of(pc));
    wedge_leave();
    return p;
}

WEDGE_EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    void *p = aligned(align, size, WEDGE_CALLER_PC());
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

WEDGE_EXPORT void *memalign(size_t align, size_t size)
{
    if (align & (align - 1)) {
        errno = EINVAL;
        return NULL;
    }
    return aligned(align < 16 ? 16 : align, size, WEDGE_CALLER_PC());
}

WEDGE_EXPORT void *aligned_alloc(size_t align, size_t size)
{
    return memalign(align, size);
}

WEDGE_EXPORT size_t malloc_usable_size(void *p)
{
    if (!p)
        return 0;
    if (bootstrapping())
        return 0;
    return usable(p);
}
