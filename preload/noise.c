/* noise.c - noise mode: threads run in parallel and wedge injects seeded delays (yields,
 * spins, sleeps) and rendezvous at interception points.  One policy for every caller: the
 * wrappers (wedge_noise_point), thread start, and the memory-watch trap handler all carry
 * out their delays through wedge_noise_carry_out, under the same per-process budgets.
 *
 * Runs inside the target, also from the SIGSEGV/SIGTRAP handlers of memory watching: raw
 * system calls only, no malloc, no locks.
 */
#define _GNU_SOURCE
#include "shim.h"
#include "wedge_stream.h"

#include <sys/syscall.h>

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
            wedge_sys(SYS_sched_yield, 0, 0, 0, 0);
        break;
    case WEDGE_ACT_SPIN:
        spin(arg);
        break;
    case WEDGE_ACT_SLEEP: {
        struct timespec ts = { arg / 1000000u, (long)(arg % 1000000u) * 1000 };
        wedge_sys(SYS_nanosleep, (long)&ts, 0, 0, 0);
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

/* the real clock, not the target's (wedge's clock_gettime shifts it after an early timeout) */
static uint64_t now_us(void)
{
    return (uint64_t)wedge_clock_real(CLOCK_MONOTONIC) / 1000u;
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
                wedge_sys(SYS_sched_yield, 0, 0, 0, 0);
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
#define SPIN_BUDGET_US 20000u
static _Atomic uint64_t sleep_spent_us; /* injected sleep in this process */
static _Atomic uint64_t spin_spent_us; /* injected spinning in this process */
static _Atomic uint64_t rdv_spent_us; /* time this process waited at rendezvous */

/* Where delays are spent (issue 7).  A delay buys something only where another thread or
 * process can run in the gap.  A shell wrapper in front of the real program (a version
 * manager's shim) runs some 60 short single-threaded processes, each of which paid the whole
 * per-process budget: 4 s a run where the plain run takes 0.7 s.  So:
 *  - a process with a second thread: per-process budgets, as ever;
 *  - a single-threaded process that shares state with its run's other processes (a forked
 *    child still running its parent's program; one that locks or syncs a file, as SQLite
 *    workers do): delays at its I/O only, from one budget for all of them together in the
 *    run's shared memory (the per-process budget without it), so the cost of a run no
 *    longer grows with the number of processes;
 *  - any other single-threaded process: nothing to interleave, no delays at all.
 * Budgets of the shared class: what three processes had each, the shape of the multi-process
 * stories (job_claim_sqlite's three workers). */
#define PEER_RUN_SLEEP_US (3 * SLEEP_BUDGET_US)
#define PEER_RUN_RDV_US (3 * RDV_BUDGET_US)
enum { NOISE_ALONE, NOISE_PEERS, NOISE_THREADS };
static int shares_with_peers; /* forked child of the run, or locks/syncs files */

static int noise_class(void)
{
    /* ordinals are handed out from 1 at start and after fork: more means a second thread */
    if (atomic_load_explicit(&wedge_g.next_thread_ordinal, memory_order_relaxed) > 1)
        return NOISE_THREADS;
    return shares_with_peers ? NOISE_PEERS : NOISE_ALONE;
}

/* A single-threaded process meets the others of its run only in its I/O: the points worth a
 * delay there (its malloc calls, hundreds in a shell, are not). */
static int io_kind(unsigned kind)
{
    return kind == WEDGE_EV_READ || kind == WEDGE_EV_WRITE || kind == WEDGE_EV_FSYNC ||
           kind == WEDGE_EV_FCNTL_LOCK || kind == WEDGE_EV_FORK;
}

/* The budget of the caller's class: the process's own (mine, mine_max), or the run's shared
 * one (its rendezvous or its sleep budget) for the shared class.  *max set. */
static _Atomic uint64_t *budget_of(_Atomic uint64_t *mine, uint64_t mine_max, int peer_rdv,
                                   uint64_t *max)
{
    if (noise_class() == NOISE_PEERS && wedge_g.shm) {
        *max = peer_rdv ? PEER_RUN_RDV_US : PEER_RUN_SLEEP_US;
        return peer_rdv ? &wedge_g.shm->peer_rdv_us : &wedge_g.shm->peer_sleep_us;
    }
    *max = mine_max;
    return mine;
}

/* Charge `us` to the budget of the caller's class; returns how much of it may be spent. */
static uint32_t budget_take(_Atomic uint64_t *mine, uint64_t mine_max, int peer_rdv, uint32_t us)
{
    uint64_t max;
    _Atomic uint64_t *spent = budget_of(mine, mine_max, peer_rdv, &max);
    uint64_t before = atomic_fetch_add_explicit(spent, us, memory_order_relaxed);
    if (before >= max)
        return 0;
    return before + us > max ? (uint32_t)(max - before) : us;
}

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

/* Carry out a delay action (yield, spin, sleep) under the process's budgets and count it.
 * Returns the action done: a sleep or a spin past its budget becomes one yield (*arg
 * updated).  Signal-safe: the memory-watch trap handler calls it too. */
unsigned wedge_noise_carry_out(unsigned action, uint32_t *arg)
{
    if (action == WEDGE_ACT_NONE)
        return action;
    if (noise_class() == NOISE_ALONE) {
        *arg = 0;
        return WEDGE_ACT_NONE;
    }
    if (action == WEDGE_ACT_SLEEP) {
        /* a program making thousands of calls (SQLite) would otherwise sleep past any
         * timeout; past the budget a sleep becomes a yield */
        if (budget_take(&sleep_spent_us, SLEEP_BUDGET_US, 0, *arg) < *arg) {
            action = WEDGE_ACT_YIELD;
            *arg = 1;
        }
    }
    /* Spins had no budget: a program that makes thousands of intercepted calls spun at one
     * in two to eight of them.  CPython's threads call `threading.Lock`'s semaphore at every
     * turn: router_history_fixed.py took 29 ms plain and 215 ms a noise run, two thirds of
     * its CPU in spins (perf), and 170 to 240 ms with the sleep and rendezvous budgets at
     * 1 ms.  A spin is charged what it took (a pause's cost differs by machine), after the
     * fact: a process past SPIN_BUDGET_US yields instead (the shared class's spins, at its
     * I/O only, go to its shared sleep budget).  With it, 117 ms a run; the noise arm found
     * router_history.py (12 campaigns) and router_history (40) as fast as before (README,
     * "Spins get a budget"). */
    _Atomic uint64_t *spun = NULL;
    uint64_t t0 = 0;
    if (action == WEDGE_ACT_SPIN) {
        uint64_t max;
        spun = budget_of(&spin_spent_us, SPIN_BUDGET_US, 0, &max);
        if (atomic_load_explicit(spun, memory_order_relaxed) >= max) {
            action = WEDGE_ACT_YIELD;
            *arg = 1;
            spun = NULL;
        } else {
            t0 = now_us();
        }
    }
    wedge_delay(action, *arg);
    if (spun)
        atomic_fetch_add_explicit(spun, now_us() - t0, memory_order_relaxed);
    if (wedge_g.shm)
        atomic_fetch_add_explicit(&wedge_g.shm->injections, 1, memory_order_relaxed);
    return action;
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

unsigned wedge_noise_point(unsigned kind, uint64_t site, const void *obj, uint64_t aux)
{
    /* A sanitizer runtime calls intercepted functions with its own locks held (LeakSanitizer
     * yields while it stops the world with the allocator locked): no point there, no stack
     * (libunwind may allocate: a deadlock on that lock, measured at the exit of LSan builds). */
    if (WEDGE_UNLIKELY(wedge_sanitizer_runtime) && wedge_site_in_sanitizer(site))
        return WEDGE_ACT_NONE;
    if (kind == WEDGE_EV_MALLOC)
        wedge_note_alloc(site, obj, aux);
    /* Serial mode reaches here only from the malloc family.  Called by libc (or any system
     * library) it is no scheduling point: libc calls malloc under its own stdio locks, and a
     * thread switched out there would block the next one in the kernel.  Called by the
     * target's own code it is one (an allocation inside a check-then-link window).  Never a
     * delay: it would only cost time with the run token held. */
    if (wedge_g.serial) {
        if (!wedge_site_in_system_module(site))
            wedge_serial_point(kind, site, obj, aux);
        return WEDGE_ACT_NONE;
    }
    wedge_ensure_registered();
    if (kind == WEDGE_EV_FCNTL_LOCK || kind == WEDGE_EV_FSYNC)
        shares_with_peers = 1; /* a file another process may use at the same time */
    uint64_t index = wedge_self.index++;
    uint64_t h = wedge_decide(wedge_g.token.seed, wedge_g.proc_ordinal, wedge_self.ordinal,
                              index, site);
    uint32_t arg = 0;
    unsigned action = WEDGE_ACT_NONE;
    if (!wedge_site_allowed(site))
        action = WEDGE_ACT_NONE;
    else if (wedge_g.rendezvous_us && rdv_waiting(site))
        action = WEDGE_ACT_RENDEZVOUS; /* we may be the peer someone waits for */
    else if (!wedge_decision_allowed(index))
        action = WEDGE_ACT_NONE; /* not one of the decisions kept (minimize, a DECISIONS token) */
    else if (noise_class() == NOISE_ALONE || (noise_class() == NOISE_PEERS && !io_kind(kind)))
        action = WEDGE_ACT_NONE; /* nobody to interleave with here (see noise_class) */
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
    struct wedge_event *e = wedge_record_event(kind, site, obj, aux, action, arg, with_stack);
    wedge_note_acted(kind, site, action);
    if (action == WEDGE_ACT_RENDEZVOUS && !arg) {
        if (!rdv_release(site, h)) { /* another thread released it first */
            if (e)
                e->action = WEDGE_ACT_NONE;
            return WEDGE_ACT_NONE;
        }
    } else if (action == WEDGE_ACT_RENDEZVOUS) {
        /* A bounded budget of waiting per process: a process whose peers never come (one
         * thread, or peers blocked elsewhere) must not wait its full time at every point. */
        uint32_t may = budget_take(&rdv_spent_us, RDV_BUDGET_US, 1, arg);
        uint32_t waited = may ? rdv_wait(site, may, h) : 0;
        /* what was not waited goes back (waits mostly end early, released by a peer) */
        if (waited < may) {
            uint64_t max;
            atomic_fetch_sub_explicit(budget_of(&rdv_spent_us, RDV_BUDGET_US, 1, &max),
                                      may - waited, memory_order_relaxed);
        }
        arg = waited;
        if (e)
            e->action_arg = arg;
    } else {
        unsigned done = wedge_noise_carry_out(action, &arg);
        if (e && done != action) {
            e->action = (uint8_t)done;
            e->action_arg = arg;
        }
        return done;
    }
    if (wedge_g.shm)
        atomic_fetch_add_explicit(&wedge_g.shm->injections, 1, memory_order_relaxed);
    return action;
}

/* Delay at thread start: threads that would run one after another (each done before the next
 * is created) are made to overlap.  Drawn per run from the seed. */
void wedge_noise_thread_start(uint64_t site)
{
    if (!wedge_g.start_delay_us || !wedge_site_allowed(site) ||
        !wedge_decision_allowed(WEDGE_DECISION_START))
        return;
    uint64_t h = wedge_decide(wedge_g.token.seed, wedge_g.proc_ordinal, wedge_self.ordinal,
                              ~0ull, 0);
    uint32_t us = wedge_below(h, wedge_g.start_delay_us);
    wedge_record(WEDGE_EV_THREAD_START, site, NULL, 0, WEDGE_ACT_SLEEP, us, 0);
    wedge_delay(WEDGE_ACT_SLEEP, us);
}

void wedge_noise_init(void)
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


void wedge_noise_after_fork_child(void)
{
    wedge_noise_init();
    /* a forked child runs its parent's program beside it, on the same files */
    shares_with_peers = 1;
    /* a peer that waited at a rendezvous in the parent's own table does not exist here (the
     * run's shared table is another matter: its waiters are real) */
    for (unsigned i = 0; i < RDV_SLOTS; i++)
        atomic_store(&rdv_local[i].site, 0);
    atomic_store(&rdv_spent_us, 0);
    atomic_store(&sleep_spent_us, 0);
    atomic_store(&spin_spent_us, 0);
}
