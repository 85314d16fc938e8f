/* memwatch.c - memory watching: the arena, the page table, the shim's hooks (malloc family,
 * I/O buffers, sigaction, fork), and the discovery of the target's globals.
 * The trap handlers and the policy live in memwatch_trap.c; the page life cycle is described
 * in memwatch_int.h.
 *
 * Why an arena of our own: a watched heap object must be alone on its pages, or the page
 * would also hold libc's bookkeeping and other threads' objects, and every malloc in the
 * process would trap (or fail: the kernel cannot read a protected page and returns EFAULT).
 * Only objects allocated by the target's own code (not by libc on its behalf) come here, each
 * on pages of its own, up to MW_MAX_LIVE pages; everything else goes to the real malloc.
 */
#define _GNU_SOURCE
#include "memwatch_int.h"
#include "wedge_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

struct mw_state_all mw;
struct mw_page mw_pages[MW_ARENA_PAGES];
struct mw_thread mw_threads[MW_THREADS];
struct wedge_mw_tracker mw_tracker;

static atomic_flag mw_lock_flag = ATOMIC_FLAG_INIT;

#define MW_ALL_SIGNALS (~0ull)

void mw_lock_raw(void)
{
    while (atomic_flag_test_and_set_explicit(&mw_lock_flag, memory_order_acquire))
        __asm__ volatile("pause");
}

void mw_unlock_raw(void)
{
    atomic_flag_clear_explicit(&mw_lock_flag, memory_order_release);
}

/* Under the lock every signal is blocked: a system call of libc's made there (by the target's
 * sigaction through ours, say) must not raise SIGSYS, which would kill the process blocked. */
void mw_lock(uint64_t *saved)
{
    uint64_t all = MW_ALL_SIGNALS;
    wedge_sys(SYS_rt_sigprocmask, SIG_SETMASK, (long)&all, (long)saved, 8);
    struct mw_thread *me = wedge_self.mem;
    if (me)
        me->lock_sel = mw_sel_pass();
    mw_lock_raw();
}

void mw_unlock(uint64_t saved)
{
    mw_unlock_raw();
    struct mw_thread *me = wedge_self.mem;
    if (me)
        mw_sel_restore(me->lock_sel);
    wedge_sys(SYS_rt_sigprocmask, SIG_SETMASK, (long)&saved, 0, 8);
}

/* ------------------------------------------------------------------------------------------ */
/* pages */

struct mw_page *mw_page_of(uintptr_t a)
{
    if (a >= mw.arena && a < mw.arena_end)
        return &mw_pages[(a - mw.arena) / MW_PAGE];
    if (a >= mw.glo && a < mw.ghi)
        for (uint32_t i = 0; i < mw.nranges; i++)
            if (a >= mw.ranges[i].lo && a < mw.ranges[i].hi)
                return &mw.globals[mw.ranges[i].first + (a - mw.ranges[i].lo) / MW_PAGE];
    return NULL;
}

void mw_sync_prot(struct mw_page *pg)
{
    int want = atomic_load_explicit(&mw.on, memory_order_relaxed) && !pg->pinned &&
               (pg->state == MW_LEARN || pg->state == MW_WATCH) && pg->pending == 0 &&
               pg->io == 0 && mw.hold == 0 && !mw.solo;
    if (want == pg->prot)
        return;
    long r = wedge_sys(SYS_mprotect, (long)pg->addr, MW_PAGE,
                    want ? PROT_NONE : (PROT_READ | PROT_WRITE), 0);
    if (r == 0)
        pg->prot = (uint8_t)want;
    else if (want)
        pg->state = MW_DROP; /* out of mappings (ENOMEM): watch less */
}

void mw_set_open(struct mw_page *pg)
{
    pg->state = MW_OPEN;
    pg->traps = 0;
    if (!pg->in_open && mw.nopen < MW_MAX_OPEN) {
        mw.open[mw.nopen++] = pg;
        pg->in_open = 1;
    }
    mw_sync_prot(pg);
}

/* Whether the token's PAGES field names pg (wedge_token.h). */
int mw_listed(const struct mw_page *pg)
{
    const struct wedge_token *t = &wedge_g.token;
    uint32_t key = wedge_page_key(pg->ident);
    for (uint32_t i = 0; i < t->npages && i < WEDGE_TOKEN_PAGES; i++)
        if (t->pages[i] == key)
            return 1;
    return 0;
}

/* OPEN pages go back to LEARN: a new thread (or time) may have started sharing them.  A
 * page a PAGES field without an RF field leaves out is dropped instead: never protected, no
 * trap (with an RF field the field only adds its pages, wedge_token.h). */
void mw_rearm(void)
{
    uint32_t keep = 0;
    for (uint32_t i = 0; i < mw.nopen; i++) {
        struct mw_page *pg = mw.open[i];
        if (pg->state == MW_OPEN && wedge_g.token.npages && !wedge_g.token.nrf &&
            !mw_listed(pg))
            pg->state = MW_DROP;
        if (pg->state == MW_OPEN) {
            pg->state = MW_LEARN;
            pg->traps = 0;
            mw_sync_prot(pg);
        }
        if (pg->state == MW_OPEN || pg->state == MW_LEARN)
            mw.open[keep++] = pg; /* may come back to OPEN */
        else
            pg->in_open = 0;
    }
    mw.nopen = keep;
}

/* Counted, not timed: in serial mode the same token must re-arm at the same points. */
void mw_tick(void)
{
    if (++mw.ticks % MW_REARM_EVERY == 0)
        mw_rearm();
}

/* Every page's protection brought in line with its state and the run's (under the lock). */
static void mw_sync_all(void)
{
    for (uint32_t i = 0; i < mw.bump; i++)
        mw_sync_prot(&mw_pages[i]);
    for (uint32_t i = 0; i < mw.nglobals; i++)
        mw_sync_prot(&mw.globals[i]);
}

void mw_stop_all(void)
{
    atomic_store(&mw.on, 0);
    mw_sync_all();
    mw_sud_off();
}

struct mw_thread *mw_me(void)
{
    struct mw_thread *me = wedge_self.mem;
    if (WEDGE_LIKELY(me != NULL)) {
        me->slot = wedge_self.slot;
        return me;
    }
    uint32_t i = atomic_fetch_add(&mw.nthreads, 1);
    if (i >= MW_THREADS)
        return NULL;
    me = &mw_threads[i];
    me->idx = i;
    me->slot = wedge_self.slot;
    me->nlv = 0;
    wedge_self.mem = me;
    return me;
}

/* ------------------------------------------------------------------------------------------ */
/* which code is the target's own */

static int path_is_system(const char *path)
{
    return strncmp(path, "/lib", 4) == 0 || strncmp(path, "/usr/lib", 8) == 0 ||
           strstr(path, "libwedge") != NULL || strstr(path, "linux-vdso") != NULL ||
           strstr(path, "ld-linux") != NULL;
}

/* An allocation site is the target's own if its module is the executable or a library
 * outside the system directories.  Without the run's shared memory there is no module
 * table: nothing goes to the arena. */
static int site_is_target(uint64_t site)
{
    int mod = WEDGE_SITE_MODULE(site);
    if (!wedge_g.shm || mod < 0 || mod >= (int)WEDGE_MAX_MODULES)
        return 0;
    return !path_is_system(wedge_g.shm->modules[mod].path);
}

/* ------------------------------------------------------------------------------------------ */
/* globals: the writable PT_LOAD segments of the target's modules, without RELRO (made
 * read-only by the loader: restoring read-write there would undo it) */

static int add_module_globals(struct dl_phdr_info *info, size_t size, void *data)
{
    const char *name = info->dlpi_name;
    if (name && *name && path_is_system(name))
        return 0;
    if ((!name || !*name) && *(int *)data)
        return 0; /* only the first nameless entry is the executable */
    if (!name || !*name)
        *(int *)data = 1;
    uintptr_t rlo = 0, rhi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_GNU_RELRO) {
            rlo = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
            rhi = rlo + info->dlpi_phdr[i].p_memsz;
        }
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
            continue;
        uintptr_t lo = (info->dlpi_addr + ph->p_vaddr) & ~(uintptr_t)(MW_PAGE - 1);
        uintptr_t hi = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + MW_PAGE - 1) &
                       ~(uintptr_t)(MW_PAGE - 1);
        if (rhi > lo && rlo < hi) /* skip RELRO's pages (it starts the segment) */
            lo = (rhi + MW_PAGE - 1) & ~(uintptr_t)(MW_PAGE - 1);
        while (lo < hi && mw.nranges < MW_MAX_RANGES && mw.nglobals < MW_MAX_GLOBAL) {
            uint32_t n = (uint32_t)((hi - lo) / MW_PAGE);
            if (n > MW_MAX_GLOBAL - mw.nglobals)
                n = MW_MAX_GLOBAL - mw.nglobals;
            struct mw_range *r = &mw.ranges[mw.nranges++];
            r->lo = lo;
            r->hi = lo + (uintptr_t)n * MW_PAGE;
            r->first = mw.nglobals;
            for (uint32_t k = 0; k < n; k++) {
                struct mw_page *pg = &mw.globals[mw.nglobals++];
                memset(pg, 0, sizeof *pg);
                pg->addr = lo + (uintptr_t)k * MW_PAGE;
                pg->is_global = 1;
                mw_set_open(pg);
            }
            if (mw.glo == 0 || r->lo < mw.glo)
                mw.glo = r->lo;
            if (r->hi > mw.ghi)
                mw.ghi = r->hi;
            lo = hi;
        }
    }
    return 0;
}

void mw_find_globals(void)
{
    int seen_exe = 0;
    dl_iterate_phdr(add_module_globals, &seen_exe);
    /* after the walk: a site lookup may itself walk the modules */
    for (uint32_t i = 0; i < mw.nglobals; i++)
        mw.globals[i].ident = wedge_site_of((const void *)mw.globals[i].addr);
}

/* ------------------------------------------------------------------------------------------ */
/* hooks called by the rest of the shim */

void wedge_mem_init(void)
{
    if (mw.installed)
        return;
    const char *b = getenv(WEDGE_ENV_MW_BUDGET); /* benchmarks and diagnostics only */
    const char *all = getenv(WEDGE_ENV_WATCH_ALL);
    mw.explaining = all && all[0] == '1';
    /* a token with reads-from constraints: every shared page, so that the accesses its
     * constraints name trap (a seeded share would leave them unwatched in some runs) */
    mw.watch_all = mw.explaining || wedge_g.token.nrf;
    /* an explaining replay also keeps pages one thread uses alone in LEARN for longer
     * (MW_LEARN_SOLO_TRAPS): more traps in all */
    mw.budget = b && *b ? strtoull(b, NULL, 10) : mw.explaining ? 16000 : 4000;
    mw.page_budget = mw.budget / 2 + 1;
    mw.learn_traps = mw.explaining ? MW_LEARN_SOLO_TRAPS : MW_LEARN_TRAPS;
    /* per run, the seed decides how many shared pages are watched at once */
    uint64_t h = wedge_mix(wedge_g.token.seed, 0x6d656d7761746368ull);
    static const uint32_t widths[] = { 2, 4, 8, 8 };
    mw.max_watch = widths[h & 3];
    if (mw.watch_all)
        mw.max_watch = widths[3];
    mw.lost_update = (wedge_g.token.opts & WEDGE_OPT_LOST_UPDATE) != 0;
    wedge_mw_tracker_reset(&mw_tracker);
    void *a = mmap(NULL, (size_t)MW_ARENA_PAGES * MW_PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (a == MAP_FAILED)
        a = NULL;
    if (a) {
        mw.arena = (uintptr_t)a;
        mw.arena_end = mw.arena + (uintptr_t)MW_ARENA_PAGES * MW_PAGE;
    }
    mw.memfd = (int)wedge_sys(SYS_open, (long)"/proc/self/mem", O_RDONLY | O_CLOEXEC, 0, 0);
    /* where a trapped instruction is carried out, re-encoded (memwatch_trap.c); without it
     * (WEDGE_MW_STEP=1, or a system that refuses writable code) every access is stepped */
    const char *step = getenv(WEDGE_ENV_MW_STEP);
    void *x = step && step[0] == '1' ? MAP_FAILED
                                     : mmap(NULL, MW_PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
                                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mw.xol = x == MAP_FAILED ? NULL : (uint8_t *)x;
    mw.live_threads = 1;
    mw.solo = wedge_g.serial;
    atomic_store(&mw.on, 1);
    mw_find_globals();
    mw_install_handlers();
    if (!mw.installed) {
        atomic_store(&mw.on, 0);
        wedge_log("memory watching off: cannot install the fault handlers", NULL);
        return;
    }
    mw_me();
    mw_sud_init();
    wedge_log(mw.sud ? "memory watching on (system calls dispatched)" : "memory watching on",
              NULL);
}

/* A serial-mode process with one live thread has nobody its accesses could race with: its
 * pages stay open (no trap, no single step) until a second thread is made, and open again
 * when it is alone once more.  Counted by the token holder (the creating thread before the
 * clone, the ending thread before it hands the token on), so the same token protects at the
 * same points.  The pages keep their states meanwhile: LEARN and WATCH pages are protected
 * again as they were.  (Noise mode keeps trapping: its delays at a lone thread's accesses are
 * no use either, but a thread's end there is not ordered with the others' accesses.) */
void wedge_mem_live_threads(int delta)
{
    if (!mw.installed || !wedge_g.serial || !atomic_load(&mw.on))
        return;
    uint64_t m;
    mw_lock(&m);
    if (delta < 0 && mw.live_threads == 0)
        delta = 0;
    mw.live_threads = (uint32_t)((int)mw.live_threads + delta);
    int solo = mw.live_threads <= 1;
    if (solo != mw.solo) {
        mw.solo = solo;
        mw_sync_all();
    }
    mw_unlock(m);
}

void wedge_mem_thread_start(void)
{
    if (!atomic_load(&mw.on))
        return;
    uint64_t m;
    mw_lock(&m);
    struct mw_thread *me = mw_me();
    if (me)
        mw_rearm();
    else
        mw_stop_all(); /* no selector for this thread: its system calls could not be made safe */
    mw_unlock(m);
    if (me)
        mw_sud_thread(me);
}

void wedge_mem_after_fork_child(void)
{
    /* The child has one thread: nobody is stepping any page, the lock may have been held by
     * a thread that does not exist here.  Watching stops in a child (it usually execs, and
     * the kernel must be able to read argv and the environment). */
    atomic_flag_clear(&mw_lock_flag);
    for (uint32_t i = 0; i < mw.bump; i++)
        mw_pages[i].pending = mw_pages[i].io = 0;
    for (uint32_t i = 0; i < mw.nglobals; i++)
        mw.globals[i].pending = mw.globals[i].io = 0;
    struct mw_thread *me = wedge_self.mem;
    if (me)
        me->nlv = 0;
    if (mw.memfd >= 0)
        wedge_sys(SYS_close, mw.memfd, 0, 0, 0);
    mw.memfd = -1; /* it shows the parent's memory */
    mw_stop_all();
}

void wedge_mem_stop(void)
{
    if (!mw.installed)
        return;
    uint64_t m;
    mw_lock(&m);
    mw_stop_all();
    mw_unlock(m);
}

/* Where in the arena an object's allocation site stands: its n-th allocation. */
#define MW_SITES 512u
static struct {
    uint64_t site;
    uint32_t count;
} site_counts[MW_SITES];

static uint32_t site_order(uint64_t site)
{
    uint32_t h = (uint32_t)(wedge_mix(site, 1) & (MW_SITES - 1));
    for (uint32_t k = 0; k < 16; k++) {
        uint32_t i = (h + k) & (MW_SITES - 1);
        if (site_counts[i].site == site || site_counts[i].site == 0) {
            site_counts[i].site = site;
            return site_counts[i].count++;
        }
    }
    return 0xffffffffu;
}

void *wedge_mem_alloc(size_t size, size_t align, uint64_t site)
{
    if (!atomic_load_explicit(&mw.on, memory_order_relaxed) || !mw.arena || align > MW_PAGE ||
        size > (size_t)MW_MAX_OBJ_PAGES * MW_PAGE || !site_is_target(site))
        return NULL;
    uint32_t n = size ? (uint32_t)((size + MW_PAGE - 1) / MW_PAGE) : 1u;
    uint64_t m;
    mw_lock(&m);
    uint32_t first;
    if (mw.live + n > MW_MAX_LIVE) {
        mw_unlock(m);
        return NULL;
    }
    if (mw.free_head[n]) {
        first = mw.free_head[n] - 1;
        mw.free_head[n] = mw_pages[first].next_free;
    } else if (mw.bump + n <= MW_ARENA_PAGES) {
        first = mw.bump;
        mw.bump += n;
    } else {
        mw_unlock(m);
        return NULL;
    }
    mw.live += n;
    struct mw_thread *me = mw_me();
    uint64_t obj = wedge_mix(site, site_order(site));
    for (uint32_t k = 0; k < n; k++) {
        struct mw_page *pg = &mw_pages[first + k];
        pg->addr = mw.arena + (uintptr_t)(first + k) * MW_PAGE;
        pg->ident = wedge_mix(obj, k);
        pg->threads = me ? 1ull << (me->idx & 63) : 0;
        pg->obj_pages = k == 0 ? n : 0;
        pg->next_free = 0;
        pg->pinned = 0;
        mw_set_open(pg); /* its allocator initializes it without traps */
    }
    mw_tick();
    mw_unlock(m);
    return (void *)(mw.arena + (uintptr_t)first * MW_PAGE);
}

int wedge_mem_owns(const void *p)
{
    return (uintptr_t)p >= mw.arena && (uintptr_t)p < mw.arena_end;
}

uint64_t wedge_mem_ident(const void *p)
{
    if (!wedge_mem_owns(p))
        return 0;
    uintptr_t a = (uintptr_t)p;
    return wedge_mix(mw_page_of(a)->ident, a & (MW_PAGE - 1)) | 1u;
}

uint32_t wedge_mem_page_key(const void *p)
{
    struct mw_page *pg = mw_page_of((uintptr_t)p);
    return pg ? wedge_page_key(pg->ident) : 0;
}

void wedge_mem_free(void *p)
{
    uintptr_t a = (uintptr_t)p;
    if (!wedge_mem_owns(p) || (a & (MW_PAGE - 1)))
        return;
    uint32_t first = (uint32_t)((a - mw.arena) / MW_PAGE);
    uint64_t m;
    mw_lock(&m);
    uint32_t n = mw_pages[first].obj_pages;
    if (n == 0 || n > MW_MAX_OBJ_PAGES) { /* not an object start: a double free, say */
        mw_unlock(m);
        return;
    }
    for (uint32_t k = 0; k < n; k++) {
        struct mw_page *pg = &mw_pages[first + k];
        if (pg->state == MW_WATCH && mw.nwatch)
            mw.nwatch--;
        pg->state = MW_OFF;
        pg->threads = 0;
        mw_sync_prot(pg);
    }
    mw_pages[first].obj_pages = 0;
    mw_pages[first].next_free = mw.free_head[n];
    mw.free_head[n] = first + 1;
    mw.live -= n;
    mw_tick();
    mw_unlock(m);
}

size_t wedge_mem_usable_size(const void *p)
{
    uintptr_t a = (uintptr_t)p;
    if (!wedge_mem_owns(p))
        return 0;
    uint32_t first = (uint32_t)((a - mw.arena) / MW_PAGE);
    return (size_t)mw_pages[first].obj_pages * MW_PAGE - (a & (MW_PAGE - 1));
}

int wedge_mem_lock_pollable(pthread_mutex_t *m)
{
    uintptr_t a = (uintptr_t)m;
    if (!mw.installed || !mw.explaining || !atomic_load(&mw.on) || mw.memfd < 0 ||
        ((a + sizeof *m - 1) ^ a) & ~(uintptr_t)(MW_PAGE - 1))
        return 0;
    /* OPEN too: a page re-armed (a thread starting) while this thread waited in the kernel
     * would stay open for the whole wait, the new thread's first accesses unseen */
    struct mw_page *pg = mw_page_of(a);
    if (!pg || (pg->state != MW_LEARN && pg->state != MW_WATCH && pg->state != MW_OPEN))
        return 0;
    /* a mutex this thread holds already (recursive, error-checking: EDEADLK) takes the real
     * call, which answers at once; the owner read without a trap */
    int owner = 0;
    return wedge_sys(SYS_pread64, mw.memfd, (long)&owner, sizeof owner,
                  (long)(a + offsetof(pthread_mutex_t, __data.__owner))) == sizeof owner &&
           owner != (int)wedge_sys(SYS_gettid, 0, 0, 0, 0);
}

int wedge_mem_lock_poll(pthread_mutex_t *m, int *r)
{
    uintptr_t a = (uintptr_t)m;
    for (unsigned i = 0;; i++) {
        /* the lock word read without a trap: each trylock's trap opens the page for the
         * single step, and a waiter trapping all the time would keep it open for the holder */
        int word = 1;
        if (i == 0 || wedge_sys(SYS_pread64, mw.memfd, (long)&word, sizeof word,
                             (long)(a + offsetof(pthread_mutex_t, __data.__lock))) !=
                          sizeof word || word == 0) {
            int x = REAL(pthread_mutex_trylock)(m);
            if (x != EBUSY) {
                *r = x;
                return 0;
            }
        }
        if (!atomic_load(&mw.on)) /* the budget ran out: a blocking wait is safe again */
            return -1;
        if (i < 8) {
            wedge_sys(SYS_sched_yield, 0, 0, 0, 0);
        } else {
            struct timespec ts = { 0, 20000 };
            wedge_sys(SYS_nanosleep, (long)&ts, 0, 0, 0);
        }
    }
}

/* Whether [p, p+len) may be on a protected page: an unlocked look (a page protected right
 * after it makes the access trap, as without the look). */
static int mw_may_trap(const void *p, size_t len)
{
    uintptr_t lo = (uintptr_t)p, hi = lo + len;
    if (!mw.installed || mw.solo || !atomic_load_explicit(&mw.on, memory_order_relaxed) ||
        hi < lo)
        return 0;
    for (uintptr_t a = lo & ~(uintptr_t)(MW_PAGE - 1); a < hi; a += MW_PAGE) {
        struct mw_page *pg = mw_page_of(a);
        if (pg && (__atomic_load_n(&pg->prot, __ATOMIC_RELAXED) ||
                   __atomic_load_n(&pg->state, __ATOMIC_RELAXED) == MW_LEARN ||
                   __atomic_load_n(&pg->state, __ATOMIC_RELAXED) == MW_WATCH))
            return 1;
    }
    return 0;
}

int wedge_mem_lib_begin(const void *obj, size_t len)
{
    return mw_may_trap(obj, len) ? wedge_mem_io_begin(obj, len) : 0;
}

/* (a plain copy where no page of the range may trap: most of a run's calls, and no system
 * call for them) */
void wedge_mem_peek(void *dst, const void *src, size_t len)
{
    if (!mw_may_trap(src, len) || mw.memfd < 0 ||
        wedge_sys(SYS_pread64, mw.memfd, (long)dst, (long)len, (long)src) != (long)len)
        memcpy(dst, src, len);
}

/* A buffer handed to the kernel: its watched pages are opened for the duration of the call
 * (the kernel would fail with EFAULT instead of faulting into our handler). */
int wedge_mem_io_begin(const void *buf, size_t len)
{
    uintptr_t lo = (uintptr_t)buf, hi = lo + len;
    if (!mw.installed || len == 0 || hi < lo)
        return 0;
    int in_arena = lo < mw.arena_end && hi > mw.arena;
    int in_globals = lo < mw.ghi && hi > mw.glo;
    if (!in_arena && !in_globals)
        return 0;
    uint64_t m;
    mw_lock(&m);
    struct mw_thread *me = mw_me();
    int cookie = 0;
    for (int k = 0; me && k < 4; k++)
        if (me->io[k].hi == 0) {
            me->io[k].lo = lo;
            me->io[k].hi = hi;
            cookie = k + 1;
            break;
        }
    for (uintptr_t a = lo & ~(uintptr_t)(MW_PAGE - 1); a < hi; a += MW_PAGE) {
        struct mw_page *pg = mw_page_of(a);
        if (!pg)
            continue;
        if (cookie) {
            pg->io++;
        } else if (pg->state == MW_LEARN || pg->state == MW_WATCH) {
            pg->state = MW_DROP; /* no room to remember the call: stop watching the page */
        }
        mw_sync_prot(pg);
    }
    mw_unlock(m);
    return cookie;
}

void wedge_mem_io_end(int cookie)
{
    if (cookie <= 0 || cookie > 4)
        return;
    uint64_t m;
    mw_lock(&m);
    struct mw_thread *me = mw_me();
    if (me) {
        uintptr_t lo = me->io[cookie - 1].lo, hi = me->io[cookie - 1].hi;
        me->io[cookie - 1].lo = me->io[cookie - 1].hi = 0;
        for (uintptr_t a = lo & ~(uintptr_t)(MW_PAGE - 1); a < hi; a += MW_PAGE) {
            struct mw_page *pg = mw_page_of(a);
            if (pg && pg->io) {
                pg->io--;
                mw_sync_prot(pg);
            }
        }
    }
    mw_unlock(m);
}

/* ------------------------------------------------------------------------------------------ */
/* the target's signal dispositions */

int wedge_mem_sigaction(int sig, const struct sigaction *act, struct sigaction *old, int *rc)
{
    if (!mw.installed)
        return 0;
    if (sig == SIGSEGV || sig == SIGTRAP) {
        /* ours stay installed; the target's is remembered and chained for faults that are
         * not ours (memwatch_trap.c) */
        struct sigaction *u = &mw.user[sig == SIGTRAP];
        uint64_t m;
        mw_lock(&m);
        if (old)
            *old = *u;
        if (act)
            *u = *act;
        mw_unlock(m);
        *rc = 0;
        return 1;
    }
    if (!act)
        return 0;
    /* A handler that blocks everything must not block our traps: a synchronous SIGSEGV that
     * arrives blocked kills the process. */
    struct sigaction a = *act;
    sigdelset(&a.sa_mask, SIGSEGV);
    sigdelset(&a.sa_mask, SIGTRAP);
    *rc = REAL(sigaction)(sig, &a, old);
    return 1;
}

/* The same for the thread's signal mask: worker threads often block every signal.  The sets
 * go through our stack: the target's may sit on a watched page, which the kernel cannot read
 * or write (EFAULT). */
static const sigset_t *unblock_traps(int how, const sigset_t *set, sigset_t *copy)
{
    if (!set || atomic_load(&wedge_g.init_state) != 2 || !mw.installed)
        return set;
    *copy = *set;
    if (how != SIG_UNBLOCK) {
        sigdelset(copy, SIGSEGV);
        sigdelset(copy, SIGTRAP);
    }
    return copy;
}

WEDGE_EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
    sigset_t copy, prev;
    int r = REAL(sigprocmask)(how, unblock_traps(how, set, &copy), old ? &prev : NULL);
    if (r == 0 && old)
        *old = prev;
    return r;
}

WEDGE_EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
    sigset_t copy, prev;
    int r = REAL(pthread_sigmask)(how, unblock_traps(how, set, &copy), old ? &prev : NULL);
    if (r == 0 && old)
        *old = prev;
    return r;
}

/* The kernel writes signal frames on the alternate signal stack, and a thread's stack is
 * written by everyone's calls: on a protected page the kernel cannot deliver the signal and
 * kills the process.  Such ranges are pinned open for the rest of the run. */
void mw_pin_range(const void *p, size_t len)
{
    uintptr_t lo = (uintptr_t)p, hi = lo + len;
    if (!mw.installed || !len || hi < lo || !((lo < mw.arena_end && hi > mw.arena) ||
                                              (lo < mw.ghi && hi > mw.glo)))
        return;
    uint64_t m;
    mw_lock(&m);
    for (uintptr_t a = lo & ~(uintptr_t)(MW_PAGE - 1); a < hi; a += MW_PAGE) {
        struct mw_page *pg = mw_page_of(a);
        if (pg) {
            pg->pinned = 1;
            mw_sync_prot(pg);
        }
    }
    mw_unlock(m);
}

/* This thread's alternate signal stack of ours (mapped when first needed, NULL: none), and
 * the program's own that it stands for (what the program is told it has).  Ours is in place
 * when the kernel's current stack is it: no flag of its own to keep in step. */
static __thread struct {
    void *ours;
    stack_t theirs;
} mw_alt WEDGE_TLS;

/* Rust gives every thread an alternate signal stack of SIGSTKSZ bytes for its stack-overflow
 * handler, and memwatch's SIGSEGV handler, SA_ONSTACK so that a genuine overflow still
 * reaches that handler on a usable stack, runs there too: a reads-from hold taken in it (a
 * scheduling point, memwatch_trap.c) overflowed such a stack, so holds were skipped there
 * and constrained runs of Rust programs held nothing.  A trapped access carried out by the
 * handler (memwatch_trap.c) takes its interception point there too, and on such a stack is
 * stepped instead.  So in every run that watches memory a smaller stack is replaced by one
 * of ours of MW_ALTSTACK bytes; the program is told its own, and gets it back when its
 * thread ends (wedge_mem_thread_exit).  Raw system calls: libc's would come back through
 * system call dispatch. */
static int mw_alt_swaps(void)
{
    return atomic_load(&wedge_g.init_state) == 2 && wedge_g.memory && !wedge_self.exiting;
}

/* The kernel's current alternate stack into cur; 1 if it is ours. */
static int mw_alt_current(stack_t *cur)
{
    return wedge_sys(SYS_sigaltstack, 0, (long)cur, 0, 0) == 0 && mw_alt.ours &&
           cur->ss_sp == mw_alt.ours && !(cur->ss_flags & SS_DISABLE);
}

static int mw_altstack(const stack_t *ss, stack_t *old)
{
    stack_t cur = { 0 };
    int swapped = mw_alt_current(&cur);
    stack_t told = cur;
    if (swapped) {
        told = mw_alt.theirs;
        told.ss_flags = cur.ss_flags;
    }
    if (ss) {
        /* (below 2 KiB, the kernel's MINSIGSTKSZ on x86-64, the kernel refuses the program's
         * stack: so it shall, not take ours) */
        int ours = !(ss->ss_flags & SS_DISABLE) && ss->ss_size >= 2048 &&
                   ss->ss_size < MW_ALTSTACK && !(cur.ss_flags & SS_ONSTACK);
        if (ours && !mw_alt.ours) {
            long m = wedge_sys6(SYS_mmap, 0, MW_ALTSTACK, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
            if (m < 0 && m > -4096)
                ours = 0; /* the program's own stack, as without us */
            else
                mw_alt.ours = (void *)m;
        }
        stack_t mine = { .ss_sp = mw_alt.ours, .ss_size = MW_ALTSTACK, .ss_flags = ss->ss_flags };
        long r = wedge_sys(SYS_sigaltstack, (long)(ours ? &mine : ss), 0, 0, 0);
        if (r != 0) {
            errno = (int)-r;
            return -1;
        }
        if (ours)
            mw_alt.theirs = *ss;
    }
    if (old)
        *old = told;
    return 0;
}

void wedge_mem_thread_exit(void)
{
    stack_t cur = { 0 };
    if (!mw_alt.ours)
        return;
    int swapped = mw_alt_current(&cur);
    if ((cur.ss_flags & SS_ONSTACK) ||
        (swapped && wedge_sys(SYS_sigaltstack, (long)&mw_alt.theirs, 0, 0, 0) != 0))
        return;
    wedge_sys(SYS_munmap, (long)mw_alt.ours, MW_ALTSTACK, 0, 0);
    mw_alt.ours = NULL;
}

WEDGE_EXPORT int sigaltstack(const stack_t *ss, stack_t *old)
{
    if (ss && !(ss->ss_flags & SS_DISABLE) && atomic_load(&wedge_g.init_state) == 2 &&
        wedge_g.memory)
        mw_pin_range(ss->ss_sp, ss->ss_size);
    if (mw_alt_swaps() || mw_alt.ours)
        return mw_altstack(ss, old);
    return REAL(sigaltstack)(ss, old);
}

WEDGE_EXPORT int pthread_attr_setstack(pthread_attr_t *attr, void *stack, size_t size)
{
    if (atomic_load(&wedge_g.init_state) == 2 && wedge_g.memory)
        mw_pin_range(stack, size);
    return REAL(pthread_attr_setstack)(attr, stack, size);
}
