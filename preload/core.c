/* core.c - the shim's one init path, per-thread state, sites, the event ring, noise points.
 *
 * Runs inside the target: no stdio, no malloc of ours (libunwind may allocate on its first use,
 * which passes through because wedge_self.depth > 0), no locks the target could take.
 */
#define _GNU_SOURCE
#include "shim.h"
#include "wedge_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

struct wedge_global wedge_g;
__thread struct wedge_thread wedge_self WEDGE_TLS = { .slot = -1 };

/* ------------------------------------------------------------------------------------------ */
/* formatting and logging, async-signal-safe */

char *wedge_fmt_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    *p = 0;
    return p;
}

char *wedge_fmt_u64(char *p, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    *p = 0;
    return p;
}

char *wedge_fmt_hex(char *p, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = digits[v & 15];
        v >>= 4;
    } while (v);
    *p++ = '0';
    *p++ = 'x';
    while (n)
        *p++ = tmp[--n];
    *p = 0;
    return p;
}

void wedge_log(const char *a, const char *b)
{
    if (!wedge_g.log)
        return;
    char buf[512];
    char *p = wedge_fmt_str(buf, "wedge: ");
    size_t room = sizeof buf - 16;
    for (const char *s = a; s && *s && (size_t)(p - buf) < room; s++)
        *p++ = *s;
    for (const char *s = b; s && *s && (size_t)(p - buf) < room; s++)
        *p++ = *s;
    *p++ = '\n';
    syscall(SYS_write, 2, buf, (size_t)(p - buf));
}

/* ------------------------------------------------------------------------------------------ */
/* sites: module + offset.  A snapshot of the loaded modules' segments, refreshed on a miss
 * (a dlopen'ed library).  Readers use the current table without locks; a refresh builds the
 * other table and publishes it. */

#define MAX_RANGES 512
struct range {
    uintptr_t lo, hi, bias;
    int module; /* index in shm->modules, or -1 */
};
struct range_table {
    int n;
    struct range r[MAX_RANGES];
};
/* The fork gate.  libunwind and the module-table refresh take locks (libunwind's own mutex,
 * the run's module spin lock); a fork while another thread holds one would leave the child
 * waiting forever on a lock whose owner does not exist there.  fork closes the gate and waits
 * for those sections to drain; they are skipped (no stack, no refresh) while it is closed. */
static _Atomic int gate_closed;
static _Atomic int gate_users;

static int gate_enter(void)
{
    if (atomic_load(&gate_closed))
        return 0;
    atomic_fetch_add(&gate_users, 1);
    if (atomic_load(&gate_closed)) {
        atomic_fetch_sub(&gate_users, 1);
        return 0;
    }
    return 1;
}

static void gate_leave(void)
{
    atomic_fetch_sub(&gate_users, 1);
}

void wedge_fork_prepare(void)
{
    atomic_store(&gate_closed, 1);
    while (atomic_load(&gate_users))
        syscall(SYS_sched_yield);
}

void wedge_fork_done(int child)
{
    if (child)
        atomic_store(&gate_users, 0);
    atomic_store(&gate_closed, 0);
}

static struct range_table tables[2];
static _Atomic(struct range_table *) current_table;
static _Atomic int refreshing;
static char exe_path[WEDGE_MODULE_PATH];

static int module_index(const char *path)
{
    struct wedge_shm_header *h = wedge_g.shm;
    if (!h || !*path)
        return -1;
    /* Modules are shared by all processes of the run: find or append under a spin lock. */
    while (atomic_exchange_explicit(&h->module_lock, 1, memory_order_acquire))
        ;
    uint32_t n = atomic_load(&h->nmodules);
    int found = -1;
    for (uint32_t i = 0; i < n; i++)
        if (strncmp(h->modules[i].path, path, WEDGE_MODULE_PATH) == 0) {
            found = (int)i;
            break;
        }
    if (found < 0 && n < WEDGE_MAX_MODULES) {
        size_t len = strlen(path);
        if (len >= WEDGE_MODULE_PATH)
            len = WEDGE_MODULE_PATH - 1;
        memcpy(h->modules[n].path, path, len);
        h->modules[n].path[len] = 0;
        atomic_store(&h->nmodules, n + 1);
        found = (int)n;
    }
    atomic_store_explicit(&h->module_lock, 0, memory_order_release);
    return found;
}

static int collect(struct dl_phdr_info *info, size_t size, void *data)
{
    struct range_table *t = data;
    const char *name = info->dlpi_name;
    if (!name || !*name)
        name = exe_path; /* the main program */
    if (strstr(name, "linux-vdso"))
        return 0;
    int mod = -2;
    for (int i = 0; i < info->dlpi_phnum && t->n < MAX_RANGES; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        if (mod == -2)
            mod = module_index(name);
        struct range *r = &t->r[t->n++];
        r->lo = info->dlpi_addr + ph->p_vaddr;
        r->hi = r->lo + ph->p_memsz;
        r->bias = info->dlpi_addr;
        r->module = mod;
    }
    return 0;
}

static void refresh_modules(void)
{
    if (!gate_enter())
        return;
    if (atomic_exchange(&refreshing, 1)) {
        gate_leave();
        return; /* someone else is at it; this lookup stays unknown */
    }
    struct range_table *cur = atomic_load(&current_table);
    struct range_table *next = cur == &tables[0] ? &tables[1] : &tables[0];
    next->n = 0;
    dl_iterate_phdr(collect, next);
    atomic_store(&current_table, next);
    atomic_store(&refreshing, 0);
    gate_leave();
}

static uint64_t lookup_site(uintptr_t pc, int may_refresh)
{
    for (int pass = 0; pass < 2; pass++) {
        struct range_table *t = atomic_load(&current_table);
        if (t)
            for (int i = 0; i < t->n; i++)
                if (pc >= t->r[i].lo && pc < t->r[i].hi)
                    return t->r[i].module >= 0 ? WEDGE_SITE(t->r[i].module, pc - t->r[i].bias)
                                               : (uint64_t)pc;
        if (!may_refresh)
            break;
        refresh_modules();
    }
    return (uint64_t)pc; /* module 0xffff: an absolute address */
}

uint64_t wedge_site_of(const void *pc)
{
    return lookup_site((uintptr_t)pc, 1);
}

uint64_t wedge_site_of_nolock(const void *pc)
{
    return lookup_site((uintptr_t)pc, 0);
}

static int site_in_system_module(uint64_t site)
{
    int mod = WEDGE_SITE_MODULE(site);
    if (!wedge_g.shm || mod < 0 || mod >= (int)WEDGE_MAX_MODULES)
        return 1;
    const char *path = wedge_g.shm->modules[mod].path;
    /* System libraries: the C library, the loader, and anything under /lib, /usr/lib. */
    return strncmp(path, "/lib", 4) == 0 || strncmp(path, "/usr/lib", 8) == 0 ||
           strstr(path, "libwedge.so") != NULL;
}

int wedge_pc_in_system_module(const void *pc)
{
    return site_in_system_module(lookup_site((uintptr_t)pc, 0));
}

/* ------------------------------------------------------------------------------------------ */
/* run state in shared memory */

void wedge_run_flag(uint32_t flag, const char *msg)
{
    struct wedge_shm_header *h = wedge_g.shm;
    if (!h)
        return;
    if (msg && !atomic_exchange(&h->message_lock, 1)) {
        size_t n = strlen(msg);
        if (n >= WEDGE_MESSAGE_LEN)
            n = WEDGE_MESSAGE_LEN - 1;
        memcpy(h->message, msg, n);
        h->message[n] = 0;
    }
    atomic_fetch_or(&h->flags, flag);
}

static struct wedge_thread_slot *my_slot(void)
{
    if (!wedge_g.shm || wedge_self.slot < 0)
        return NULL;
    return wedge_shm_slot(wedge_g.shm, (uint32_t)wedge_self.slot);
}

void wedge_thread_register(uint32_t ordinal)
{
    if (wedge_self.registered)
        return;
    wedge_self.registered = 1;
    wedge_self.ordinal = ordinal;
    wedge_self.index = 0;
    wedge_self.slot = -1;
    struct wedge_shm_header *h = wedge_g.shm;
    if (!h)
        return;
    uint32_t i = atomic_fetch_add(&h->nthreads, 1);
    if (i >= WEDGE_MAX_THREADS) {
        wedge_run_flag(WEDGE_RUN_RING_FULL, NULL);
        return;
    }
    struct wedge_thread_slot *s = wedge_shm_slot(h, i);
    s->proc = wedge_g.proc_index;
    s->ordinal = ordinal;
    s->tid = (int32_t)syscall(SYS_gettid);
    atomic_store(&s->head, 0);
    atomic_store(&s->state, WEDGE_TS_RUNNING);
    s->blocked_kind = 0;
    s->blocked_obj = 0;
    s->blocked_site = 0;
    atomic_store_explicit(&s->used, 1, memory_order_release);
    wedge_self.slot = (int32_t)i;
}

static void ensure_registered(void)
{
    if (WEDGE_UNLIKELY(!wedge_self.registered))
        /* a thread the shim did not see created (made before init, or by raw clone) */
        wedge_thread_register(atomic_fetch_add(&wedge_g.next_thread_ordinal, 1));
}

void wedge_set_blocked(unsigned kind, const void *obj, uint64_t site)
{
    ensure_registered();
    struct wedge_thread_slot *s = my_slot();
    if (!s)
        return;
    s->blocked_kind = (uint16_t)kind;
    s->blocked_obj = (uint64_t)(uintptr_t)obj;
    s->blocked_site = site;
    atomic_store_explicit(&s->state, WEDGE_TS_BLOCKED, memory_order_release);
}

void wedge_set_running(void)
{
    struct wedge_thread_slot *s = my_slot();
    if (s)
        atomic_store_explicit(&s->state, WEDGE_TS_RUNNING, memory_order_release);
}

void wedge_set_exited(void)
{
    struct wedge_thread_slot *s = my_slot();
    if (s)
        atomic_store_explicit(&s->state, WEDGE_TS_EXITED, memory_order_release);
}

/* A short stack of sites, innermost first, skipping the shim's own frames. */
static unsigned capture_stack(uint64_t *out, unsigned max)
{
    void *pcs[WEDGE_STACK_DEPTH + 6];
    if (!gate_enter())
        return 0;
    int n = unw_backtrace(pcs, (int)(sizeof pcs / sizeof pcs[0]));
    gate_leave();
    unsigned k = 0;
    for (int i = 0; i < n && k < max; i++) {
        uint64_t site = lookup_site((uintptr_t)pcs[i], 0);
        int mod = WEDGE_SITE_MODULE(site);
        if (wedge_g.shm && mod >= 0 && mod < (int)WEDGE_MAX_MODULES &&
            strstr(wedge_g.shm->modules[mod].path, "libwedge.so"))
            continue;
        /* a return address points after the call: step back into the call instruction */
        out[k++] = i == 0 ? site : site - 1;
    }
    return k;
}

static struct wedge_event *record_event(unsigned kind, uint64_t site, const void *obj,
                                        uint64_t aux, unsigned action, uint32_t action_arg,
                                        int with_stack)
{
    ensure_registered();
    struct wedge_thread_slot *s = my_slot();
    if (!s)
        return NULL;
    uint64_t head = atomic_load_explicit(&s->head, memory_order_relaxed);
    struct wedge_event *e = &s->ring[head % WEDGE_RING_EVENTS];
    e->seq = 0; /* a reader after a crash sees a torn entry as empty */
    e->site = site;
    e->obj = (uint64_t)(uintptr_t)obj;
    e->aux = aux;
    e->kind = (uint16_t)kind;
    e->action = (uint8_t)action;
    e->action_arg = action_arg;
    e->nstack = with_stack ? (uint8_t)capture_stack(e->stack, WEDGE_STACK_DEPTH) : 0;
    e->seq = atomic_fetch_add_explicit(&wedge_g.shm->seq, 1, memory_order_relaxed) + 1;
    atomic_store_explicit(&s->head, head + 1, memory_order_release);
    return e;
}

/* Note a site where wedge acted, once per run (a short scan: the set stays small). */
static void note_acted(unsigned kind, uint64_t site, unsigned action)
{
    struct wedge_shm_header *h = wedge_g.shm;
    if (!h || !site)
        return;
    uint32_t n = atomic_load_explicit(&h->n_acted, memory_order_acquire);
    if (n > WEDGE_MAX_ACTED)
        n = WEDGE_MAX_ACTED;
    for (uint32_t i = 0; i < n; i++)
        if (atomic_load_explicit(&h->acted[i].site, memory_order_relaxed) == site)
            return;
    uint32_t i = atomic_fetch_add(&h->n_acted, 1);
    if (i >= WEDGE_MAX_ACTED)
        return;
    h->acted[i].kind = kind;
    h->acted[i].action = action;
    atomic_store_explicit(&h->acted[i].site, site, memory_order_release);
}

void wedge_record(unsigned kind, uint64_t site, const void *obj, uint64_t aux, unsigned action,
                  uint32_t action_arg, int with_stack)
{
    record_event(kind, site, obj, aux, action, action_arg, with_stack);
    if (action != WEDGE_ACT_NONE)
        note_acted(kind, site, action);
}

/* ------------------------------------------------------------------------------------------ */
/* noise mode */

static void spin(uint32_t n)
{
    for (volatile uint32_t i = 0; i < n; i++)
        __asm__ volatile("pause");
}

void wedge_delay(unsigned action, uint32_t arg)
{
    switch (action) {
    case WEDGE_ACT_YIELD:
        for (uint32_t i = 0; i < arg; i++)
            syscall(SYS_sched_yield);
        break;
    case WEDGE_ACT_SPIN:
        spin(arg);
        break;
    case WEDGE_ACT_SLEEP: {
        struct timespec ts = { arg / 1000000u, (long)(arg % 1000000u) * 1000 };
        syscall(SYS_nanosleep, &ts, NULL);
        break;
    }
    }
}

/* Rendezvous: a thread stops at a site and spins until another thread reaches the same site,
 * then both go on together.  Two threads running the same code from the same point at the
 * same moment on two cores is what makes a window of a few instructions between a read and
 * the store that depends on it (n = len; ...; len = n + 1) overlap: sleeping and yielding
 * only shuffle whole slices.
 *
 * The releaser spins a seeded 0-7 pauses before it goes on, the waiter leaves as soon as it
 * sees the release (one cache-line transfer later): over a run the offset of the pair sweeps
 * across the window.  Measured on router_history through the CLI: this plain release 12-30%
 * of runs; a hand-shake that first waits for the waiter to acknowledge, the same; both
 * leaving at a named time-stamp-counter moment, 1%. */
#define RDV_SLOTS WEDGE_RENDEZVOUS_SLOTS
enum { RDV_WAITING = 0, RDV_RELEASED = 1, RDV_ACKED = 2, RDV_CLOSED = 3 };
/* The slots live in the run's shared memory, so that the processes of a run meet too (two
 * workers at the same SELECT); without it, in our own memory. */
static struct wedge_rendezvous rdv_local[RDV_SLOTS] __attribute__((aligned(64)));

static struct wedge_rendezvous *rdv_slot(uint64_t site)
{
    struct wedge_rendezvous *table = wedge_g.shm ? wedge_g.shm->rendezvous : rdv_local;
    return &table[(site ^ (site >> 17) ^ (site >> 31)) % RDV_SLOTS];
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Spin until *word != value or max_us passed, yielding the core now and then so that the
 * thread we wait for can run even when every core is taken.  Returns the last value seen. */
static uint32_t spin_while(_Atomic uint32_t *word, uint32_t value, uint32_t max_us)
{
    uint64_t start = 0;
    for (uint32_t n = 1;; n++) {
        uint32_t v = atomic_load_explicit(word, memory_order_acquire);
        if (v != value)
            return v;
        __asm__ volatile("pause");
        if ((n & 255) == 0) {
            uint64_t t = now_us();
            if (!start)
                start = t;
            else if (t - start >= max_us)
                return value;
            if ((n & 4095) == 0)
                syscall(SYS_sched_yield);
        }
    }
}

/* 1 if a thread waits for a peer at `site` (a cheap look, no claim). */
static int rdv_waiting(uint64_t site)
{
    return atomic_load_explicit(&rdv_slot(site)->site, memory_order_relaxed) == site;
}


/* A thread at `site` releases a peer waiting there.  Returns 1 if it did. */
static int rdv_release(uint64_t site, uint64_t h)
{
    struct wedge_rendezvous *r = rdv_slot(site);
    if (!rdv_waiting(site))
        return 0;
    uint32_t expected = RDV_WAITING;
    if (!atomic_compare_exchange_strong(&r->state, &expected, RDV_RELEASED))
        return 0; /* someone else released it, or the waiter gave up */
    spin((uint32_t)(h >> 48) & 7); /* 0-7 pauses: sweeps the offset across the window */
    return 1;
}

/* Wait at `site` for a peer, at most max_us.  Returns the microseconds waited. */
#define RDV_BUDGET_US 20000u
#define SLEEP_BUDGET_US 150000u
static _Atomic uint64_t sleep_spent_us; /* injected sleep in this process */
static _Atomic uint64_t rdv_spent_us; /* time this process waited at rendezvous */

static uint32_t rdv_wait(uint64_t site, uint32_t max_us, uint64_t h)
{
    struct wedge_rendezvous *r = rdv_slot(site);
    uint64_t free_ = 0;
    if (!atomic_compare_exchange_strong(&r->site, &free_, site))
        return 0; /* the slot is busy: no wait */
    atomic_store(&r->state, RDV_WAITING);
    uint64_t start = now_us();
    uint32_t v = spin_while(&r->state, RDV_WAITING, max_us);
    if (v == RDV_WAITING)
        v = atomic_exchange(&r->state, RDV_CLOSED); /* give up, unless released just now */
    atomic_store(&r->site, 0);
    if (v == RDV_RELEASED) {
        (void)h;
    }
    return (uint32_t)(now_us() - start);
}

unsigned wedge_noise_decide(uint64_t h, uint32_t *arg)
{
    uint32_t mask = (1u << wedge_g.inject_shift) - 1;
    if ((uint32_t)h & mask)
        return WEDGE_ACT_NONE;
    uint32_t pick = (uint32_t)(h >> 16) & 7;
    uint32_t amount = (uint32_t)(h >> 32);
    if (pick >= wedge_g.rendezvous_pick && wedge_g.rendezvous_us) {
        *arg = wedge_g.rendezvous_us;
        return WEDGE_ACT_RENDEZVOUS;
    }
    if (pick < 2) {
        *arg = 1 + amount % 3;
        return WEDGE_ACT_YIELD;
    }
    if (pick < 4) {
        *arg = 200 + amount % 20000;
        return WEDGE_ACT_SPIN;
    }
    *arg = 1 + amount % wedge_g.max_sleep_us;
    return WEDGE_ACT_SLEEP;
}

/* Sites where wedge may act (WEDGE_SITES, set by `wedge minimize` and `replay --sites`):
 * an empty list allows every site. */
#define MAX_ALLOWED_SITES 64
static uint64_t allowed_sites[MAX_ALLOWED_SITES];
static int n_allowed_sites;

static void parse_allowed_sites(const char *s)
{
    while (s && *s && n_allowed_sites < MAX_ALLOWED_SITES) {
        char *end;
        uint64_t v = strtoull(s, &end, 16);
        if (end == s)
            break;
        allowed_sites[n_allowed_sites++] = v;
        s = *end == ',' ? end + 1 : end;
    }
    if (n_allowed_sites == 0 && s && *s)
        allowed_sites[n_allowed_sites++] = ~0ull; /* malformed: allow nothing, never crash */
}

int wedge_site_allowed(uint64_t site)
{
    if (WEDGE_LIKELY(n_allowed_sites == 0))
        return 1;
    for (int i = 0; i < n_allowed_sites; i++)
        if (allowed_sites[i] == site)
            return 1;
    return 0;
}

unsigned wedge_noise_point(unsigned kind, uint64_t site, const void *obj, uint64_t aux)
{
    /* Serial mode reaches here only from the malloc family.  Called by libc (or any system
     * library) it is no scheduling point: libc calls malloc under its own stdio locks, and a
     * thread switched out there would block the next one in the kernel.  Called by the
     * target's own code it is one (an allocation inside a check-then-link window).  Never a
     * delay: it would only cost time with the run token held. */
    if (wedge_g.serial) {
        if (!site_in_system_module(site))
            wedge_serial_point(kind, site, obj, aux);
        return WEDGE_ACT_NONE;
    }
    ensure_registered();
    uint64_t h = wedge_decide(wedge_g.token.seed, wedge_g.proc_ordinal, wedge_self.ordinal,
                              wedge_self.index++, site);
    uint32_t arg = 0;
    unsigned action = WEDGE_ACT_NONE;
    if (!wedge_site_allowed(site))
        action = WEDGE_ACT_NONE;
    else if (wedge_g.rendezvous_us && rdv_waiting(site))
        action = WEDGE_ACT_RENDEZVOUS; /* we may be the peer someone waits for */
    else
        action = wedge_noise_decide(h, &arg);
    /* The malloc family is chatty: record it only where wedge acted, so that the ring keeps
     * the synchronization history. */
    int quiet = kind == WEDGE_EV_MALLOC || kind == WEDGE_EV_FREE;
    if (action == WEDGE_ACT_NONE) {
        if (!quiet)
            wedge_record(kind, site, obj, aux, action, arg, 0);
        return action;
    }
    /* Record (with its stack: microseconds of unwinding) before acting, so that after a
     * rendezvous both threads go on at once; the time waited is filled in afterwards. */
    /* Unwinding costs microseconds and takes libunwind's and the loader's locks, which
     * serializes the threads it should let overlap (router_history: 30% of runs failed
     * without stacks, 12% with a stack at every action).  Take stacks only where the thread
     * is about to wait anyway: before a sleep or a rendezvous wait. */
    int with_stack = action == WEDGE_ACT_SLEEP || (action == WEDGE_ACT_RENDEZVOUS && arg);
    struct wedge_event *e = record_event(kind, site, obj, aux, action, arg, with_stack);
    note_acted(kind, site, action);
    if (action == WEDGE_ACT_RENDEZVOUS && !arg) {
        if (!rdv_release(site, h)) { /* another thread released it first */
            if (e)
                e->action = WEDGE_ACT_NONE;
            return WEDGE_ACT_NONE;
        }
    } else if (action == WEDGE_ACT_RENDEZVOUS) {
        /* A bounded budget of waiting per process: a process whose peers never come (one
         * thread, or peers blocked elsewhere) must not wait its full time at every point. */
        uint64_t spent = atomic_load_explicit(&rdv_spent_us, memory_order_relaxed);
        if (spent >= RDV_BUDGET_US)
            arg = 0;
        else
            arg = rdv_wait(site, arg < RDV_BUDGET_US - spent ? arg : (uint32_t)(RDV_BUDGET_US - spent), h);
        atomic_fetch_add_explicit(&rdv_spent_us, arg, memory_order_relaxed);
        if (e)
            e->action_arg = arg;
    } else {
        if (action == WEDGE_ACT_SLEEP) {
            /* bounded too: a program making thousands of calls (SQLite) would otherwise
             * sleep past any timeout; past the budget a sleep becomes a yield */
            if (atomic_fetch_add_explicit(&sleep_spent_us, arg, memory_order_relaxed) + arg >
                SLEEP_BUDGET_US) {
                action = WEDGE_ACT_YIELD;
                arg = 1;
                if (e) {
                    e->action = (uint8_t)action;
                    e->action_arg = arg;
                }
            }
        }
        wedge_delay(action, arg);
    }
    if (wedge_g.shm)
        atomic_fetch_add_explicit(&wedge_g.shm->injections, 1, memory_order_relaxed);
    return action;
}

/* Delay at thread start: threads that would run one after another (each done before the next
 * is created) are made to overlap.  Drawn per run from the seed. */
void wedge_noise_thread_start(uint64_t site)
{
    if (!wedge_g.start_delay_us || !wedge_site_allowed(site))
        return;
    uint64_t h = wedge_decide(wedge_g.token.seed, wedge_g.proc_ordinal, wedge_self.ordinal,
                              ~0ull, 0);
    uint32_t us = wedge_below(h, wedge_g.start_delay_us);
    wedge_record(WEDGE_EV_THREAD_START, site, NULL, 0, WEDGE_ACT_SLEEP, us, 0);
    wedge_delay(WEDGE_ACT_SLEEP, us);
}

static void noise_parameters(void)
{
    /* One run, one temperament: how often to inject, how long to sleep, whether to pile
     * threads up at start.  Variety across runs is what finds different windows. */
    /* Rendezvous (see rdv_wait) is what overlaps windows of a few instructions; sleeps and
     * yields are what reorder longer stretches.  Three runs in four are "overlap" runs
     * (frequent rendezvous, threads piled up at start), one in four a "reorder" run (rarer,
     * longer sleeps).  A token of a failure keeps its temperament, so it fails again on
     * replay about as often as its temperament makes that failure happen. */
    uint64_t h = wedge_mix(wedge_g.token.seed, 0x6e6f697365ull);
    if ((h & 3) != 3) {
        static const uint32_t shifts[] = { 1, 1, 2, 3 };
        static const uint32_t waits[] = { 500, 1000, 2000, 4000 };
        static const uint32_t starts[] = { 500, 2000, 2000, 5000 };
        wedge_g.inject_shift = shifts[(h >> 8) & 3];
        wedge_g.rendezvous_us = waits[(h >> 16) & 3];
        wedge_g.rendezvous_pick = (h >> 24) & 1 ? 0 : 2;
        wedge_g.start_delay_us = starts[(h >> 32) & 3];
        wedge_g.max_sleep_us = 50;
    } else {
        static const uint32_t shifts[] = { 2, 3, 4, 6 };
        static const uint32_t sleeps[] = { 200, 1000, 5000, 20000 };
        static const uint32_t starts[] = { 0, 500, 2000, 5000 };
        wedge_g.inject_shift = shifts[(h >> 8) & 3];
        wedge_g.max_sleep_us = sleeps[(h >> 16) & 3];
        wedge_g.start_delay_us = starts[(h >> 32) & 3];
        wedge_g.rendezvous_us = (h >> 24) & 1 ? 2000 : 500;
        wedge_g.rendezvous_pick = (h >> 25) & 1 ? 4 : 6;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* init */

static void attach_shm(const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        wedge_log("cannot open shared memory ", path);
        return;
    }
    void *p = mmap(NULL, WEDGE_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        wedge_log("cannot map shared memory ", path);
        return;
    }
    struct wedge_shm_header *h = p;
    if (h->magic != WEDGE_SHM_MAGIC || h->version != WEDGE_PROTOCOL_VERSION ||
        h->max_threads != WEDGE_MAX_THREADS || h->ring_events != WEDGE_RING_EVENTS) {
        wedge_log("shared memory of another protocol version: ", path);
        munmap(p, WEDGE_SHM_SIZE);
        return;
    }
    wedge_g.shm = h;
}

/* Our entry in the run's process table; the CLI kills every pid listed there at the end. */
static void register_proc(int32_t parent)
{
    struct wedge_shm_header *h = wedge_g.shm;
    if (!h)
        return;
    uint32_t i = atomic_fetch_add(&h->nprocs, 1);
    if (i >= WEDGE_MAX_PROCS) {
        wedge_g.proc_index = WEDGE_MAX_PROCS - 1; /* shared, untidy but bounded */
        return;
    }
    h->procs[i].pid = (int32_t)getpid();
    h->procs[i].parent = parent;
    h->procs[i].ordinal = wedge_g.proc_ordinal;
    h->procs[i].flags = 0;
    wedge_g.proc_index = i;
}

void wedge_init(void)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong(&wedge_g.init_state, &expected, 1)) {
        /* another thread initializes: wait for it (init is short and never blocks) */
        while (atomic_load(&wedge_g.init_state) == 1)
            syscall(SYS_sched_yield);
        return;
    }
    wedge_resolve_all();
    const char *log = getenv(WEDGE_ENV_LOG);
    wedge_g.log = log && log[0] == '1';
    ssize_t n = readlink("/proc/self/exe", exe_path, sizeof exe_path - 1);
    exe_path[n > 0 ? n : 0] = 0;

    const char *tok = getenv(WEDGE_ENV_TOKEN);
    if (tok && *tok) {
        char err[160];
        if (wedge_token_parse(tok, &wedge_g.token, err, sizeof err) == 0) {
            wedge_g.active = 1;
            wedge_g.serial = wedge_g.token.mode == WEDGE_MODE_SERIAL;
            wedge_g.memory = (wedge_g.token.opts & WEDGE_OPT_MEMORY) != 0;
        } else {
            wedge_log("bad WEDGE_TOKEN, passing through: ", err);
        }
    }
    parse_allowed_sites(getenv(WEDGE_ENV_SITES));
    const char *shm = getenv(WEDGE_ENV_SHM);
    if (shm && *shm)
        attach_shm(shm);
    const char *proc = getenv(WEDGE_ENV_PROC);
    if (wedge_g.shm) {
        register_proc(-1);
        wedge_g.proc_ordinal = wedge_g.proc_index;
    }
    if (proc && *proc)
        wedge_g.proc_ordinal = (uint32_t)strtoul(proc, NULL, 10);

    refresh_modules();
    noise_parameters();
    atomic_store(&wedge_g.next_thread_ordinal, 1);
    if (wedge_g.shm)
        wedge_run_flag(WEDGE_RUN_ATTACHED, NULL);
    wedge_thread_register(0);
    atomic_store_explicit(&wedge_g.init_state, 2, memory_order_release);

    if (wedge_g.active) {
        wedge_self.depth++;
        if (wedge_g.memory)
            wedge_mem_init();
        if (wedge_g.serial)
            wedge_serial_init();
        wedge_self.depth--;
    }
}

void wedge_after_fork_child(uint32_t child_ordinal)
{
    int32_t parent = (int32_t)wedge_g.proc_index;
    wedge_g.proc_ordinal = child_ordinal;
    register_proc(parent);
    wedge_run_flag(WEDGE_RUN_FORKED, NULL);
    noise_parameters();
    atomic_store(&wedge_g.next_thread_ordinal, 1);
    atomic_store(&wedge_g.forks, 0);
    atomic_store(&refreshing, 0);
    /* a peer that waited at a rendezvous in the parent's own table does not exist here (the
     * run's shared table is another matter: its waiters are real) */
    for (unsigned i = 0; i < RDV_SLOTS; i++)
        atomic_store(&rdv_local[i].site, 0);
    atomic_store(&rdv_spent_us, 0);
    atomic_store(&sleep_spent_us, 0);
    /* the forking thread is the child's only thread: it becomes its main thread */
    wedge_self.registered = 0;
    wedge_thread_register(0);
    if (wedge_g.memory)
        wedge_mem_after_fork_child();
    if (wedge_g.serial)
        wedge_serial_after_fork_child();
}

__attribute__((constructor(101))) static void wedge_constructor(void)
{
    if (atomic_load(&wedge_g.init_state) == 0)
        wedge_init();
}
