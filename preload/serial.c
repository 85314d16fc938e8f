/* serial.c - serial mode: the scheduler core, threads, the watchdog (DESIGN.md section 3).
 *
 * One thread of the process holds the run token at a time.  Every interception point calls
 * serial_sched_point(): the strategy (src/strategy_*.c) chooses among the candidates, and if
 * it chooses another thread the token moves and the caller parks on its futex word.  Modeled
 * waits (serial_sync.c) take the waiter out of the candidates instead of blocking in the
 * kernel.  When no thread can run: virtual time jumps to the nearest deadline, or, with none,
 * the run is a deadlock and ends at once with what each thread waits on.
 *
 * Exactness: the schedule depends only on the token's seed and the program's own behaviour,
 * as long as no thread runs without the token.  Two things break that and set
 * WEDGE_RUN_NOT_EXACT: the watchdog taking the token from a holder that reached no point for a
 * time slice (a spin loop on an atomic), and a call outside the model that blocked long enough
 * for the token to move on.
 *
 * Rules: raw futex system calls only (the pthread functions are ours to intercept), no malloc
 * (static tables), wedge_serial_point stays async-signal-safe (memwatch calls it from SIGTRAP).
 */
#define _GNU_SOURCE
#include "serial_internal.h"
#include "wedge_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>

struct serial_state S;

/* Watchdog: a holder that reaches no scheduling point while it uses this much CPU loses the
 * token (a spin loop on an atomic).  CPU time, not wall time: on a loaded machine a holder
 * may wait for a CPU for longer than that, and taking its token then would only break
 * exactness.  A holder blocked in the kernel on something the model does not know (it uses
 * no CPU) loses it after BLOCKED_NS of wall time; one in a call outside the model (read on a
 * pipe, poll, waitpid) after the shorter GRACE_NS. */
#define SLICE_NS (10 * 1000000LL)
#define BLOCKED_NS (200 * 1000000LL)
#define GRACE_NS (2 * 1000000LL)
#define WD_TICK_NS (1 * 1000000LL)

/* ------------------------------------------------------------------------------------------ */
/* futexes and the scheduler lock */

static long futex(_Atomic uint32_t *w, int op, uint32_t val, const struct timespec *ts)
{
    return wedge_sys6(SYS_futex, (long)w, op | FUTEX_PRIVATE_FLAG, val, (long)ts, 0, 0);
}

/* Drepper's three-state mutex (0 free, 1 locked, 2 locked with waiters). */
void serial_lock(void)
{
    uint32_t c = 0;
    if (atomic_compare_exchange_strong(&S.lock, &c, 1))
        return;
    if (c != 2)
        c = atomic_exchange(&S.lock, 2);
    while (c != 0) {
        futex(&S.lock, FUTEX_WAIT, 2, NULL);
        c = atomic_exchange(&S.lock, 2);
    }
}

void serial_unlock(void)
{
    if (atomic_fetch_sub(&S.lock, 1) != 1) {
        atomic_store(&S.lock, 0);
        futex(&S.lock, FUTEX_WAKE, 1, NULL);
    }
}

int64_t serial_real_ns(clockid_t clock)
{
    struct timespec ts;
    wedge_sys(SYS_clock_gettime, clock, (long)&ts, 0, 0);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ------------------------------------------------------------------------------------------ */
/* virtual time */

static int64_t clock_base(clockid_t clock)
{
    switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_TAI:
        return S.base_real;
    default:
        return S.base_mono;
    }
}

static int virtual_clock(clockid_t clock)
{
    return clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE || clock == CLOCK_TAI ||
           clock == CLOCK_MONOTONIC || clock == CLOCK_MONOTONIC_COARSE ||
           clock == CLOCK_MONOTONIC_RAW || clock == CLOCK_BOOTTIME;
}

int64_t serial_deadline(clockid_t clock, const struct timespec *abstime)
{
    if (abstime->tv_nsec < 0 || abstime->tv_nsec >= 1000000000L || abstime->tv_sec < 0)
        return -1;
    int64_t ns = (int64_t)abstime->tv_sec * 1000000000LL + abstime->tv_nsec;
    int64_t d = ns - clock_base(clock);
    return d < 0 ? 0 : d;
}

void serial_real_abstime(clockid_t clock, const struct timespec *abstime, struct timespec *out)
{
    *out = *abstime;
    if (!S.ready || !virtual_clock(clock))
        return;
    int64_t d = serial_deadline(clock, abstime);
    if (d < 0)
        return; /* invalid: let the real call say EINVAL */
    int64_t real = serial_real_ns(clock) + (d - atomic_load(&S.vtime));
    out->tv_sec = (time_t)(real / 1000000000LL);
    out->tv_nsec = (long)(real % 1000000000LL);
}

int wedge_serial_now(clockid_t clock, int64_t *ns)
{
    if (!S.ready || !virtual_clock(clock))
        return -1;
    /* Every read moves time on by a microsecond, so that a loop waiting for the clock to
     * pass a value terminates, and the values depend only on the schedule. */
    int64_t v = atomic_fetch_add(&S.vtime, 1000) + 1000;
    *ns = clock_base(clock) + v;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* the thread table */

static int alloc_slot(void)
{
    for (int i = 0; i < SERIAL_MAX_THREADS; i++)
        if (S.t[i].state == T_FREE) {
            struct sthread *t = &S.t[i];
            uint32_t park = atomic_load(&t->park);
            memset(t, 0, sizeof *t);
            atomic_store(&t->park, park + 1);
            if (i >= S.hi)
                S.hi = i + 1;
            return i;
        }
    return SERIAL_NONE;
}

/* The thread table is full and nothing can free a slot: a limit of wedge, not a failure of the
 * program (the CLI counts the run as passed and says why). */
static __attribute__((noreturn)) void limit_reached(void)
{
    char msg[128];
    char *p = wedge_fmt_str(msg, "wedge limit: more than ");
    p = wedge_fmt_u64(p, WEDGE_SERIAL_MAX_THREADS);
    wedge_fmt_str(p, " threads alive at once in one process in serial mode");
    wedge_run_flag(WEDGE_RUN_LIMIT | WEDGE_RUN_SHIM_ERROR, msg);
    wedge_log(msg, NULL);
    wedge_sys(SYS_kill, wedge_sys(SYS_getpid, 0, 0, 0, 0), SIGKILL, 0, 0);
    for (;;)
        wedge_sys(SYS_pause, 0, 0, 0, 0);
}

/* A slot becomes free (lock held): a creator waiting for one may go on. */
static void free_slot(struct sthread *t)
{
    t->state = T_FREE;
    serial_wake_obj(S.t, 1);
}

/* The calling thread's record.  A thread the scheduler did not see created (made before init
 * or by a raw clone) is adopted as running without the token: its next point waits for it. */
struct sthread *serial_me(void)
{
    struct sthread *t = wedge_self.serial;
    if (WEDGE_LIKELY(t != NULL))
        return t;
    if (!wedge_self.registered)
        wedge_thread_register(atomic_fetch_add(&wedge_g.next_thread_ordinal, 1));
    serial_lock();
    int i = alloc_slot();
    if (i == SERIAL_NONE) {
        serial_unlock();
        limit_reached();
    }
    t = &S.t[i];
    t->ordinal = wedge_self.ordinal;
    t->tid = (int32_t)wedge_sys(SYS_gettid, 0, 0, 0, 0);
    t->state = T_LOST;
    t->has_pt = 1;
    t->pt = pthread_self();
    S.strat->thread_new(S.strat_state, t->ordinal, t->words);
    serial_unlock();
    wedge_self.serial = t;
    return t;
}

/* ------------------------------------------------------------------------------------------ */
/* choosing and handing over */

static void not_exact(const char *why)
{
    static _Atomic int said;
    if (atomic_exchange(&said, 1))
        return;
    wedge_run_flag(WEDGE_RUN_NOT_EXACT, NULL);
    wedge_log("serial: run not exactly replayable: ", why);
}

static const char *kind_name(unsigned kind)
{
    const char *n = wedge_event_kind_name(kind);
    return n ? n : "?";
}

/* No thread can run and nobody can come back: report who waits on what, end the run. */
static __attribute__((noreturn)) void deadlock(void)
{
    for (int i = 0; i < S.hi; i++)
        if (S.t[i].state == T_BLOCKED && S.t[i].wait_obj == (const void *)S.t)
            limit_reached(); /* a creator waits for a slot that never frees */
    char msg[WEDGE_MESSAGE_LEN];
    char *p = wedge_fmt_str(msg, "deadlock: no runnable thread;");
    char *end = msg + sizeof msg - 96;
    for (int i = 0; i < S.hi && p < end; i++) {
        struct sthread *t = &S.t[i];
        if (t->state != T_BLOCKED)
            continue;
        p = wedge_fmt_str(p, " thread ");
        p = wedge_fmt_u64(p, t->ordinal);
        p = wedge_fmt_str(p, " waits in ");
        p = wedge_fmt_str(p, kind_name(t->wait_kind));
        if (t->wait_kind == WEDGE_EV_JOIN) {
            /* wait_obj is the joined thread's record: name the thread */
            p = wedge_fmt_str(p, " on thread ");
            p = wedge_fmt_u64(p, ((const struct sthread *)t->wait_obj)->ordinal);
        } else {
            p = wedge_fmt_str(p, " on ");
            p = wedge_fmt_hex(p, (uint64_t)(uintptr_t)t->wait_obj);
        }
        p = wedge_fmt_str(p, " at ");
        p = wedge_fmt_hex(p, t->wait_site);
        p = wedge_fmt_str(p, ";");
    }
    wedge_run_flag(WEDGE_RUN_DEADLOCK, msg);
    wedge_log(msg, NULL);
    wedge_sys(SYS_kill, wedge_sys(SYS_getpid, 0, 0, 0, 0), SIGKILL, 0, 0);
    for (;;)
        wedge_sys(SYS_pause, 0, 0, 0, 0);
}

static void wake_deadlines(int64_t upto)
{
    for (int i = 0; i < S.hi; i++) {
        struct sthread *t = &S.t[i];
        if ((t->state == T_SLEEPING || (t->state == T_BLOCKED && t->timed)) &&
            t->deadline <= upto) {
            t->state = T_RUNNABLE;
            t->woke = W_TIMEOUT;
        }
    }
}

/* The smallest deadline of a sleeper or timed waiter, or -1. */
static int64_t min_deadline(void)
{
    int64_t best = -1;
    for (int i = 0; i < S.hi; i++) {
        struct sthread *t = &S.t[i];
        if ((t->state == T_SLEEPING || (t->state == T_BLOCKED && t->timed)) &&
            (best < 0 || t->deadline < best))
            best = t->deadline;
    }
    return best;
}

static void advance_to(int64_t d)
{
    int64_t v = atomic_load(&S.vtime);
    if (d > v)
        atomic_store(&S.vtime, d);
}

/* Time as a scheduling decision: a timed wait with at most EARLY_MAX_NS of virtual time left
 * may be chosen like a sleeper, and then times out now, virtual time moving to its deadline
 * (so its clock shows the deadline met).  What makes CPython's GIL change hands at seeded
 * points: its waiter's 5 ms timed wait expiring is what asks the holder to drop it.  Longer
 * waits keep their time (a timeout of seconds is a program's real limit, not a hand-off). */
#define EARLY_MAX_NS (50 * 1000000LL)

static int early_candidate(const struct sthread *t, int offered)
{
    return offered && t->state == T_BLOCKED && t->timed &&
           t->deadline - atomic_load(&S.vtime) <= EARLY_MAX_NS;
}

/* At what share of points the early expiries are offered: all (0), or 1 in 2^early_shift in
 * a process whose every step of work is a point (a CPython one, python.c).  There, offering
 * the GIL waiter's timeout at every point switched the GIL at nearly every Python call:
 * router_history.py took 9 s a run offered at 1 point in 16, 3.5 s at 1 in 32, 0.9 s at 1
 * in 64 (against 0.2 s natively), and was found in every run down to 1 in 512, in half of
 * them at 1 in 1024 (measured, 6 to 16 runs each). */
static uint32_t early_shift;

void wedge_serial_dense(void)
{
    serial_lock();
    if (!early_shift)
        early_shift = 7 + (uint32_t)(wedge_mix(wedge_g.token.seed ^ 0x64656e7365ull,
                                               wedge_g.proc_ordinal) & 7);
    serial_unlock();
}

static int early_offered(void)
{
    return !early_shift || (wedge_mix(wedge_g.token.seed ^ 0x6f6666657265ull, S.points) &
                            ((1ull << early_shift) - 1)) == 0;
}

static int collect(struct wedge_cand *c, int *slot, int self)
{
    /* sleepers and timed waiters whose time has come (virtual time moved past it) */
    wake_deadlines(atomic_load(&S.vtime));
    int n = 0, runnable = 0;
    for (int i = 0; i < S.hi; i++)
        if (S.t[i].state == T_RUNNABLE || S.t[i].state == T_NEW)
            runnable++;
    int offered = early_offered();
    for (int i = 0; i < S.hi; i++) {
        struct sthread *t = &S.t[i];
        uint32_t flags = 0;
        if (t->state == T_SLEEPING || early_candidate(t, offered)) {
            /* a sleeper may wake early only while someone else could run instead */
            if (!runnable)
                continue;
            flags = WEDGE_CAND_SLEEPING;
        } else if (t->state != T_RUNNABLE && t->state != T_NEW) {
            continue;
        }
        if (i == self)
            flags |= WEDGE_CAND_SELF;
        /* candidates in ascending ordinal order (slots are reused, ordinals are not) */
        int k = n++;
        while (k > 0 && c[k - 1].ordinal > t->ordinal) {
            c[k] = c[k - 1];
            slot[k] = slot[k - 1];
            k--;
        }
        c[k] = (struct wedge_cand){ t->ordinal, flags, t->words };
        slot[k] = i;
    }
    return n;
}

/* ------------------------------------------------------------------------------------------ */
/* reads-from constraints (the token's RF field, wedge_token.h) */

static int rf_written(uint64_t o)
{
    for (uint32_t i = 0; i < SERIAL_RF_OBJS; i++) {
        uint64_t v = S.rf_objs[(wedge_mix(o, 0x72666f) + i) & (SERIAL_RF_OBJS - 1)];
        if (v == o)
            return 1;
        if (v == 0)
            return 0;
    }
    return 1;
}

/* A trapped access executed by the thread of ordinal `me` (lock held): the constraints it
 * releases, for threads other than itself (a pair is between two threads: two threads that
 * run the same code, each reading then writing, hold each other's write until the other one
 * read, which is the lost update; its own read would release a thread at once). */
static void rf_executed(unsigned kind, uint64_t site, const void *obj, uint32_t me)
{
    const struct wedge_token *tok = &wedge_g.token;
    for (uint32_t i = 0; i < tok->nrf; i++) {
        const struct wedge_rf_constraint *c = &tok->rf[i];
        int hit = (c->kind == WEDGE_RF_NEGATE && c->write_site && kind == WEDGE_EV_MEM_READ &&
                   site == c->read_site) ||
                  (c->kind == WEDGE_RF_PIN && kind == WEDGE_EV_MEM_WRITE &&
                   site == c->write_site);
        if (c->kind == WEDGE_RF_EACH) {
            /* a write held by it waits for a read after its hold began (its thread is held,
             * so the read is another thread's) */
            S.rf_reads[i] += kind == WEDGE_EV_MEM_READ && site == c->read_site;
            continue;
        }
        uint32_t *by = S.rf_by[i];
        if (hit && by[0] != me + 1 && by[1] != me + 1) {
            if (!by[0])
                by[0] = me + 1;
            else if (!by[1])
                by[1] = me + 1;
        }
    }
    if (kind != WEDGE_EV_MEM_WRITE || !obj || S.rf_nobjs >= SERIAL_RF_OBJS / 2)
        return;
    uint64_t o = wedge_obj_key(obj);
    for (uint32_t i = 0; i < SERIAL_RF_OBJS; i++) {
        uint64_t *v = &S.rf_objs[(wedge_mix(o, 0x72666f) + i) & (SERIAL_RF_OBJS - 1)];
        if (*v == o)
            return;
        if (*v == 0) {
            *v = o;
            S.rf_nobjs++;
            return;
        }
    }
}

/* How long a hold may last: scheduling points of the process since the thread was held.
 * A constraint the program cannot meet while others spin (publish_flag_fixed: the data write
 * held until the reader reads data, which it does only once the flag after that write is
 * set; the reader polls with sched_yield, so it is never held and the "all held" rule never
 * comes) would otherwise stall the run until its timeout: a hang, a false failure.  Past
 * this many points the constraint is dropped for the rest of the run (a count of points, so
 * the run stays a function of its token).  ordering_many's holds last a few dozen. */
#define RF_HOLD_POINTS 256u
/* At a hold point the held thread holds no lock (it waits before taking one), so the others
 * run their critical sections meanwhile; what it waits for may lie a long stretch of their
 * work away (pct_depth3: B held at its first lock while A runs its 100 steps to its window,
 * 4 or more points a step). */
#define RF_LOCK_HOLD_POINTS 4096u

static int rf_blocked(const struct sthread *t)
{
    if (!t->rf_hold)
        return 0;
    int i = t->rf_hold - 1;
    if (S.rf_met[i])
        return 0;
    if (S.points - t->rf_since > (t->rf_at_lock ? RF_LOCK_HOLD_POINTS : RF_HOLD_POINTS)) {
        S.rf_met[i] = 1;
        return 0;
    }
    const struct wedge_rf_constraint *c = &wedge_g.token.rf[i];
    if (c->kind == WEDGE_RF_NEGATE && c->write_site == 0)
        return !rf_written(t->rf_obj);
    if (c->kind == WEDGE_RF_EACH)
        return S.rf_reads[i] == t->rf_reads;
    uint32_t me = t->ordinal + 1;
    return !((S.rf_by[i][0] && S.rf_by[i][0] != me) || (S.rf_by[i][1] && S.rf_by[i][1] != me));
}

/* Drop the held candidates (lock held); all of them held: keep them all, the constraint
 * yields at this point rather than stall the run. */
static int rf_filter(struct wedge_cand *c, int *slot, int n)
{
    int m = 0;
    for (int k = 0; k < n; k++)
        m += !rf_blocked(&S.t[slot[k]]);
    if (m == 0 || m == n)
        return n;
    m = 0;
    for (int k = 0; k < n; k++)
        if (!rf_blocked(&S.t[slot[k]])) {
            c[m] = c[k];
            slot[m++] = slot[k];
        }
    return m;
}

int wedge_serial_rf_match(int write, uint64_t site)
{
    const struct wedge_token *tok = &wedge_g.token;
    for (uint32_t i = 0; i < tok->nrf; i++) {
        const struct wedge_rf_constraint *c = &tok->rf[i];
        int holds_write = (c->kind == WEDGE_RF_NEGATE && c->write_site) ||
                          c->kind == WEDGE_RF_EACH;
        if (holds_write ? write && site == c->write_site : !write && site == c->read_site)
            return (int)i;
    }
    return -1;
}

/* Hold t by constraint i, at a lock call or before an access of the object named obj_key
 * (lock held).  Returns 1 if the constraint holds it now (rf_hold_wait next), else 0. */
static int rf_hold_start(struct sthread *t, int i, int at_lock, uint64_t obj_key)
{
    t->rf_hold = i + 1;
    t->rf_at_lock = at_lock;
    t->rf_obj = obj_key;
    t->rf_since = S.points;
    t->rf_reads = S.rf_reads[i];
    if (rf_blocked(t))
        return 1;
    t->rf_hold = 0;
    return 0;
}

/* The held thread's point of its own (lock held on entry and on return): it runs on once the
 * scheduler picks it, released (rf_filter). */
static void rf_hold_wait(struct sthread *self, unsigned kind, uint64_t site, const void *obj,
                         uint64_t aux)
{
    serial_reschedule(self, kind, 0, site, obj, aux);
    serial_lock();
    self->rf_hold = 0;
}

void wedge_serial_rf_hold(int which, int write, uint64_t site, const void *obj)
{
    int saved = errno;
    struct sthread *self = serial_me();
    serial_lock();
    serial_ensure_token(self);
    if (rf_hold_start(self, which, 0, wedge_obj_key(obj)))
        rf_hold_wait(self, WEDGE_EV_RF_HOLD, site, obj,
                     write ? WEDGE_EV_MEM_WRITE : WEDGE_EV_MEM_READ);
    serial_unlock();
    errno = saved;
}

static int others_may_return(void)
{
    for (int i = 0; i < S.hi; i++)
        if (S.t[i].state == T_OUTSIDE || S.t[i].state == T_LOST || S.t[i].state == T_STARTING)
            return 1;
    return 0;
}

static int any_blocked(void)
{
    for (int i = 0; i < S.hi; i++)
        if (S.t[i].state == T_BLOCKED)
            return 1;
    return 0;
}

/* Choose who runs next (lock held).  self: the slot at the point or SERIAL_NONE.  Returns a
 * slot, or SERIAL_NONE when nobody can run now but someone outside may come back. */
static int pick(int self, unsigned kind, int yield)
{
    struct wedge_cand *c = S.cand;
    int *slot = S.cand_slot;
    int n = collect(c, slot, self);
    if (n == 0) {
        if (others_may_return())
            return SERIAL_NONE; /* the watchdog advances time if they stay out */
        int64_t d = min_deadline();
        if (d >= 0) {
            advance_to(d);
            wake_deadlines(atomic_load(&S.vtime));
            n = collect(c, slot, self);
        } else if (any_blocked() && serial_futex_stale() > 0) {
            n = collect(c, slot, self);
        } else if (any_blocked()) {
            deadlock();
        } else {
            return SERIAL_NONE; /* every thread has exited */
        }
    }
    if (wedge_g.token.nrf && n > 1)
        n = rf_filter(c, slot, n);
    struct sthread *st = self >= 0 ? &S.t[self] : NULL;
    uint32_t k = 0;
    if (n > 1) {
        /* a decision: only these count as steps (PCT's change points index them) */
        struct wedge_point p = { S.step, st ? st->ordinal : WEDGE_NO_THREAD,
                                 st ? st->words : NULL, kind, yield, (uint32_t)n, c };
        k = S.strat->choose(S.strat_state, &p);
        if (k >= (uint32_t)n)
            k = 0;
        S.step++;
    }
    S.points++;
    int next = slot[k];
    struct sthread *t = &S.t[next];
    if (t->state == T_SLEEPING || t->state == T_BLOCKED) {
        /* woken early (a sleeper, or a short timed wait that times out now): as if the
         * others had been slow, time has passed */
        advance_to(t->deadline);
        t->woke = W_TIMEOUT;
        if (t->state == T_BLOCKED && wedge_g.shm)
            atomic_fetch_or(&wedge_g.shm->flags, WEDGE_RUN_EARLY_TIMEOUT);
    }
    t->state = T_RUNNABLE;
    uint64_t rec[2] = { ((uint64_t)(st ? st->ordinal : 0xffffffffu) << 32) | kind, t->ordinal };
    S.hash = wedge_mix(S.hash ^ rec[0], rec[1]);
    if (wedge_g.shm && wedge_g.proc_index == 0) {
        atomic_store_explicit(&wedge_g.shm->steps, S.step, memory_order_relaxed);
        atomic_store_explicit(&wedge_g.shm->trace_hash, S.hash, memory_order_relaxed);
    }
    return next;
}

static void hand_to(int next)
{
    atomic_store(&S.current, next);
    if (next == SERIAL_NONE) {
        S.free_since = serial_real_ns(CLOCK_MONOTONIC);
        return;
    }
    struct sthread *t = &S.t[next];
    atomic_fetch_add(&t->park, 1);
    futex(&t->park, FUTEX_WAKE, 1, NULL);
}

/* Park until the token is ours (lock not held). */
static void wait_token(struct sthread *self)
{
    int me = serial_index(self);
    for (;;) {
        uint32_t seen = atomic_load(&self->park);
        if (atomic_load(&S.current) == me)
            return;
        futex(&self->park, FUTEX_WAIT, seen, NULL);
    }
}

/* Lock held on entry and on return; on return the caller holds the token.  A thread arriving
 * without it (the watchdog moved it, it comes back from outside, it was adopted) waits. */
void serial_ensure_token(struct sthread *self)
{
    int me = serial_index(self);
    if (atomic_load(&S.current) == me)
        return;
    if (self->state == T_NEW || self->state == T_STARTING) {
        /* a new thread before its first turn (its creator may still be inside
         * pthread_create): the strategy chooses when it runs */
        serial_unlock();
        wait_token(self);
        serial_lock();
        return;
    }
    self->state = T_RUNNABLE;
    int cur = atomic_load(&S.current);
    if (cur == SERIAL_NONE) {
        /* nobody ran meanwhile: taking the token back changes no schedule */
        atomic_store(&S.current, me);
        return;
    }
    /* someone else runs: when we get the token back depends on time */
    not_exact("a thread came back while another held the token (after a call outside the model, a watchdog preemption, or unknown to the scheduler)");
    serial_unlock();
    wait_token(self);
    serial_lock();
}

/* A decision at a point (lock held on entry, released on return).  self->state says what the
 * caller becomes: T_RUNNABLE (a plain point), T_BLOCKED / T_SLEEPING (waits), T_EXITED or
 * T_OUTSIDE (gone: does not wait).  Returns when the caller holds the token again, if it
 * waits. */
void serial_reschedule(struct sthread *self, unsigned kind, int yield, uint64_t site,
                       const void *obj, uint64_t aux)
{
    int me = serial_index(self);
    int waits = self->state == T_RUNNABLE || self->state == T_BLOCKED ||
                self->state == T_SLEEPING;
    int runnable = self->state == T_RUNNABLE;
    int next = pick(me, kind, yield);
    /* WEDGE_SITES (minimize, replay --sites): where wedge may not act, a running thread keeps
     * the token.  The strategy is still asked, so that its state (PCT's steps and change
     * points) moves as in the unrestricted run and the other decisions stay the same. */
    /* WEDGE_STEPS the same by decision: S.step - 1 is the index of the decision just made */
    if (runnable && !yield && next != me &&
        (!wedge_site_allowed(site) || !wedge_step_allowed(S.step - 1)))
        next = me;
    int preempt = runnable && next != me;
    unsigned action = WEDGE_ACT_NONE;
    if (self->wd_lost) {
        action = WEDGE_ACT_WATCHDOG;
        self->wd_lost = 0;
    } else if (preempt) {
        action = WEDGE_ACT_PREEMPT;
    }
    uint32_t next_ordinal = next >= 0 ? S.t[next].ordinal : 0xffffffffu;
    if (preempt && wedge_g.shm)
        atomic_fetch_add_explicit(&wedge_g.shm->injections, 1, memory_order_relaxed);
    /* recorded before the token moves, so that the ring's order is the schedule's */
    wedge_record(kind, site, obj, aux, action, next_ordinal, preempt);
    if (next != me)
        hand_to(next);
    serial_unlock();
    if (waits && next != me)
        wait_token(self);
}

/* Lock operations, for the hold points of reads-from constraints (wedge_token.h): 1 an
 * acquisition (its point comes before the lock is taken), -1 a release (a condition wait
 * too: what follows it is not the critical section its acquisition began), 0 neither. */
static int lock_op(unsigned kind)
{
    switch (kind) {
    case WEDGE_EV_MUTEX_LOCK:
    case WEDGE_EV_MUTEX_TRYLOCK:
    case WEDGE_EV_RWLOCK_RDLOCK:
    case WEDGE_EV_RWLOCK_WRLOCK:
    case WEDGE_EV_SPIN_LOCK:
        return 1;
    case WEDGE_EV_MUTEX_UNLOCK:
    case WEDGE_EV_RWLOCK_UNLOCK:
    case WEDGE_EV_SPIN_UNLOCK:
    case WEDGE_EV_COND_WAIT:
        return -1;
    default:
        return 0;
    }
}

/* An acquisition that is a constraint's hold point (lock held): the thread is held here, not
 * at the access inside the critical section, where the threads it must wait for would wait
 * for its lock (every candidate held: the constraint yields, rf_filter).  Returns 1 if held. */
static int rf_hold_at_lock(struct sthread *self)
{
    const struct wedge_token *tok = &wedge_g.token;
    for (uint32_t i = 0; i < tok->nrf; i++) {
        const struct wedge_rf_constraint *c = &tok->rf[i];
        if (c->hold_thread == self->ordinal + 1 && c->hold_n == wedge_self.acq_n &&
            !S.rf_met[i] && rf_hold_start(self, (int)i, 1, c->obj_key))
            return 1;
    }
    return 0;
}

void serial_sched_point(unsigned kind, uint64_t site, const void *obj, uint64_t aux, int yield)
{
    /* the futex calls may set errno; the target's must survive a point (memwatch calls this
     * from a signal handler, between any two instructions) */
    int saved = errno;
    struct sthread *self = serial_me();
    serial_lock();
    serial_ensure_token(self);
    int held = 0, op = lock_op(kind);
    if (op > 0)
        wedge_self.acq_n++;
    if (op)
        wedge_self.in_cs = op > 0;
    if (WEDGE_UNLIKELY(wedge_g.token.nrf)) {
        if (kind == WEDGE_EV_MEM_READ || kind == WEDGE_EV_MEM_WRITE)
            rf_executed(kind, site, obj, self->ordinal); /* its point comes after it */
        else if (op > 0)
            held = rf_hold_at_lock(self);
    }
    /* a point of its own, as an access's hold: the lock's point below stays the same event
     * as in a run without the constraint */
    if (held)
        rf_hold_wait(self, WEDGE_EV_RF_LOCK_HOLD, site, obj, kind);
    serial_reschedule(self, kind, yield, site, obj, aux);
    errno = saved;
}

/* Wait in the model (lock held on entry, released on return).  Returns W_WOKEN or W_TIMEOUT. */
int serial_block(struct sthread *self, unsigned kind, const void *obj, uint64_t site, int timed,
                 int64_t deadline)
{
    serial_ensure_token(self); /* callers hold it already; a safety net against two runners */
    self->state = T_BLOCKED;
    self->wait_kind = kind;
    self->wait_obj = obj;
    self->wait_site = site;
    self->wait_seq = ++S.wait_seq;
    self->timed = timed;
    self->deadline = deadline;
    self->woke = W_NONE;
    wedge_set_blocked(kind, obj, site);
    serial_reschedule(self, kind, 0, site, obj, 1);
    wedge_set_running();
    self->wait_obj = NULL;
    if (self->woke == W_CANCEL) {
        /* a condition wait takes its mutex back before the cleanup handlers run (POSIX):
         * it acts itself; any other wait acts here, and with cancellation disabled the
         * wake-up is spurious (callers wait again) */
        if (kind == WEDGE_EV_COND_WAIT)
            return W_CANCEL;
        serial_cancel_point();
    }
    return self->woke == W_TIMEOUT ? W_TIMEOUT : W_WOKEN;
}

int serial_sleep_until(struct sthread *self, int64_t deadline, uint64_t site)
{
again:
    self->state = T_SLEEPING;
    self->wait_kind = WEDGE_EV_SLEEP;
    self->wait_obj = NULL;
    self->wait_site = site;
    self->timed = 1;
    self->deadline = deadline;
    self->woke = W_NONE;
    wedge_set_blocked(WEDGE_EV_SLEEP, NULL, site);
    serial_reschedule(self, WEDGE_EV_SLEEP, 1, site, NULL,
                      (uint64_t)(deadline - atomic_load(&S.vtime)) / 1000u);
    wedge_set_running();
    if (self->woke == W_CANCEL) {
        serial_cancel_point();
        /* cancellation disabled: sleep on until the deadline */
        serial_lock();
        serial_ensure_token(self);
        if (atomic_load(&S.vtime) < deadline)
            goto again;
        serial_unlock();
    }
    return 0;
}

/* Make the waiters on obj runnable (lock held): all, or the one that waited longest. */
void serial_wake_obj(const void *obj, int all)
{
    struct sthread *first = NULL;
    for (int i = 0; i < S.hi; i++) {
        struct sthread *t = &S.t[i];
        if (t->state != T_BLOCKED || t->wait_obj != obj)
            continue;
        if (all) {
            t->state = T_RUNNABLE;
            t->woke = W_WOKEN;
        } else if (!first || t->wait_seq < first->wait_seq) {
            first = t;
        }
    }
    if (first) {
        first->state = T_RUNNABLE;
        first->woke = W_WOKEN;
    }
}

/* Make at most n of the waiters on obj runnable (lock held): all if n or fewer wait, else the n
 * that waited longest. */
void serial_wake_some(const void *obj, int n)
{
    int waiting = 0;
    for (int i = 0; i < S.hi; i++)
        waiting += S.t[i].state == T_BLOCKED && S.t[i].wait_obj == obj;
    if (waiting <= n) {
        serial_wake_obj(obj, 1);
        return;
    }
    while (n-- > 0)
        serial_wake_obj(obj, 0);
}

/* A sleep with nobody else of this process able to run, in a run of several processes: what
 * the sleeper waits for may be another process (a lock on a shared file, a child's work), and
 * that takes real time.  Jumping virtual time ahead would let a retry loop with a deadline
 * (SQLite's busy timeout) give up in microseconds.  So sleep for real, keeping the token
 * (nobody here needs it), and move virtual time by as much.  Lock held on entry; returns 1
 * (lock released) if it slept, 0 (lock still held) if the sleep is for the model. */
int serial_sleep_for_real(struct sthread *self, int64_t deadline)
{
    if (!wedge_g.shm || atomic_load(&wedge_g.shm->nprocs) < 2)
        return 0;
    int me = serial_index(self);
    for (int i = 0; i < S.hi; i++)
        if (i != me && (S.t[i].state == T_RUNNABLE || S.t[i].state == T_NEW ||
                        S.t[i].state == T_SLEEPING || S.t[i].state == T_OUTSIDE ||
                        S.t[i].state == T_LOST || (S.t[i].state == T_BLOCKED && S.t[i].timed)))
            return 0;
    int64_t ns = deadline - atomic_load(&S.vtime);
    self->in_call = 1;
    serial_unlock();
    struct timespec ts = { (time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL) };
    while (wedge_sys(SYS_nanosleep, (long)&ts, (long)&ts, 0, 0) == -EINTR)
        ;
    serial_lock();
    self->in_call = 0;
    advance_to(deadline);
    serial_ensure_token(self);
    serial_unlock();
    return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* the watchdog */

static int has_candidates_besides(int slot)
{
    for (int i = 0; i < S.hi; i++)
        if (i != slot && (S.t[i].state == T_RUNNABLE || S.t[i].state == T_NEW))
            return 1;
    return 0;
}

static int live_threads(void)
{
    int n = 0;
    for (int i = 0; i < S.hi; i++)
        if (S.t[i].state != T_FREE && S.t[i].state != T_EXITED)
            n++;
    return n;
}

/* CPU time used by a thread of this process (Linux: the per-thread CPU clock id). */
static int64_t thread_cpu_ns(int32_t tid)
{
    struct timespec ts;
    clockid_t id = (clockid_t)((~(unsigned)tid << 3) | 6u); /* MAKE_THREAD_CPUCLOCK(tid, SCHED) */
    if (wedge_sys(SYS_clock_gettime, id, (long)&ts, 0, 0) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* /proc/self/task/TID/NAME into buf (NUL-terminated); 0 if it could not be read. */
static int read_task_file(int32_t tid, const char *name, char *buf, size_t size)
{
    if (tid <= 0)
        return 0;
    char path[64];
    char *p = wedge_fmt_str(path, "/proc/self/task/");
    p = wedge_fmt_u64(p, (uint64_t)tid);
    p = wedge_fmt_str(p, "/");
    wedge_fmt_str(p, name);
    long fd = wedge_sys(SYS_openat, AT_FDCWD, (long)path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    long n = wedge_sys(SYS_read, fd, (long)buf, (long)(size - 1), 0);
    wedge_sys(SYS_close, fd, 0, 0, 0);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    return 1;
}

/* 1 if the thread sleeps in the kernel (state S or D in /proc), 0 if it runs or waits for a
 * CPU (R), or is not known yet. */
static int thread_sleeps(int32_t tid)
{
    char buf[256];
    if (!read_task_file(tid, "stat", buf, sizeof buf))
        return 0;
    /* "tid (comm) S ...": the state follows the last ')' (comm may hold parentheses) */
    char *close_paren = NULL;
    for (char *q = buf; *q; q++)
        if (*q == ')')
            close_paren = q;
    if (!close_paren || close_paren[1] != ' ')
        return 0;
    char st = close_paren[2];
    return st == 'S' || st == 'D';
}

/* 1 if the thread sleeps in a futex system call (/proc's syscall file names the call it is
 * in): one made without libc's syscall(), which the model never saw (Go, libgomp's barriers,
 * a lock of libc's own held by a thread outside the model). */
static int thread_in_futex(int32_t tid)
{
    char buf[32];
    if (!read_task_file(tid, "syscall", buf, sizeof buf))
        return 0;
    long nr = 0;
    for (char *q = buf; *q >= '0' && *q <= '9'; q++)
        nr = nr * 10 + (*q - '0');
    return buf[0] >= '0' && buf[0] <= '9' && nr == SYS_futex;
}

static void *watchdog(void *arg)
{
    /* anything this thread calls passes straight through the shim */
    wedge_self.exiting = 1;
    sigset_t all;
    sigfillset(&all);
    wedge_sys(SYS_rt_sigprocmask, SIG_BLOCK, (long)&all, 0, sizeof(uint64_t));
    uint64_t last_step = ~0ull;
    int last_holder = SERIAL_NONE;
    int64_t still_since = 0, cpu_since = 0;
    for (;;) {
        struct timespec tick = { 0, WD_TICK_NS };
        uint32_t seen = atomic_load(&S.wd_word);
        futex(&S.wd_word, FUTEX_WAIT, seen, &tick);
        serial_lock();
        if (S.wd_quit) {
            S.wd_started = 0;
            serial_unlock();
            return NULL;
        }
        int64_t now = serial_real_ns(CLOCK_MONOTONIC);
        int cur = atomic_load(&S.current);
        if (cur == SERIAL_NONE) {
            /* the token is free while threads are outside: their sleepers' and timed
             * waiters' deadlines come in real time */
            last_holder = SERIAL_NONE;
            int64_t d = min_deadline();
            if (d >= 0 && now - S.free_since >= d - atomic_load(&S.vtime)) {
                not_exact("deadlines reached in real time while threads were outside the model");
                advance_to(d);
                wake_deadlines(atomic_load(&S.vtime));
                hand_to(pick(SERIAL_NONE, WEDGE_EV_NONE, 0));
            }
            serial_unlock();
            continue;
        }
        struct sthread *h = &S.t[cur];
        if (S.points != last_step || cur != last_holder) {
            last_step = S.points;
            last_holder = cur;
            still_since = now;
            cpu_since = thread_cpu_ns(h->tid);
            serial_unlock();
            continue;
        }
        int64_t still = now - still_since;
        /* waiting for a CPU is not being stuck: only a holder asleep in the kernel, or one
         * that burned a slice of CPU without a point, loses the token */
        int stuck = h->in_call ? still >= GRACE_NS && thread_sleeps(h->tid)
                               : (still >= BLOCKED_NS && thread_sleeps(h->tid)) ||
                                     (still >= SLICE_NS && thread_cpu_ns(h->tid) - cpu_since >= SLICE_NS);
        int64_t d = min_deadline();
        int others = has_candidates_besides(cur);
        /* a sleeper's time comes in real time while the holder is stuck */
        int timer_due = d >= 0 && still >= d - atomic_load(&S.vtime);
        if (stuck && (others || timer_due)) {
            if (!h->in_call && thread_in_futex(h->tid))
                wedge_run_flag(WEDGE_RUN_UNSEEN_FUTEX,
                               "serial: a thread slept in a futex wait made without libc's "
                               "syscall() (a raw system call wedge cannot see): the watchdog "
                               "moved the token on");
            h->state = h->in_call ? T_OUTSIDE : T_LOST;
            h->wd_lost = 1;
            not_exact(h->in_call ? "watchdog: a call outside the model blocked"
                                 : "watchdog: the holder reached no scheduling point for a time slice");
            if (!others) {
                advance_to(d);
                wake_deadlines(atomic_load(&S.vtime));
            }
            hand_to(pick(SERIAL_NONE, WEDGE_EV_NONE, 0));
            last_holder = SERIAL_NONE;
        }
        serial_unlock();
    }
}

static void start_watchdog(void)
{
    if (S.wd_started)
        return;
    S.wd_started = 1;
    S.wd_quit = 0;
    pthread_t t;
    if (REAL(pthread_create)(&t, NULL, watchdog, NULL) == 0)
        REAL(pthread_detach)(t);
    else
        S.wd_started = 0;
}

/* ------------------------------------------------------------------------------------------ */
/* threads */

/* A thread cancelled (or ended by pthread_exit) unwinds through the trampoline after its own
 * cleanup handlers ran, and never returns to it: end it here as if its routine had returned,
 * so that its joiners wake and the token moves on.  wedge_serial_exit has done so already. */
static void trampoline_unwound(void *p)
{
    (void)p;
    if (wedge_self.exiting)
        return;
    wedge_self.depth = 1; /* unwound out of the middle of a wrapper, maybe */
    wedge_serial_thread_end(0);
    wedge_self.depth = 0;
}

static void *trampoline(void *p)
{
    struct sthread *t = p;
    wedge_thread_register(t->ordinal);
    wedge_thread_stack_size(t->stack_size);
    wedge_self.serial = t;
    wedge_self.depth++;
    serial_lock();
    t->tid = (int32_t)wedge_sys(SYS_gettid, 0, 0, 0, 0);
    serial_ensure_token(t);
    serial_unlock();
    /* with the token: memwatch numbers threads and re-arms pages in the order they start,
     * which must not depend on how fast the kernel started each of them */
    if (wedge_g.memory)
        wedge_mem_thread_start();
    wedge_record(WEDGE_EV_THREAD_START, 0, NULL, 0, WEDGE_ACT_NONE, 0, 0);
    void *(*fn)(void *) = t->fn;
    void *arg = t->arg;
    wedge_self.depth--;
    void *ret;
    pthread_cleanup_push(trampoline_unwound, NULL);
    ret = fn(arg);
    pthread_cleanup_pop(0);
    if (!wedge_self.exiting) {
        wedge_self.depth++;
        wedge_serial_thread_end(0);
        wedge_self.depth--;
    }
    return ret;
}

/* The calling thread is done: wake its joiners, hand the token on, pass everything after
 * this (TLS destructors, the C library's exit work) straight through. */
void wedge_serial_thread_end(uint64_t site)
{
    struct sthread *self = serial_me();
    wedge_mem_live_threads(-1); /* before the token moves: at the same point every replay */
    serial_lock();
    serial_ensure_token(self);
    serial_wake_obj(self, 1);
    if (self->detached)
        free_slot(self);
    else
        self->state = T_EXITED;
    wedge_set_exited();
    if (live_threads() == 0 && S.wd_started) {
        S.wd_quit = 1;
        atomic_fetch_add(&S.wd_word, 1);
        futex(&S.wd_word, FUTEX_WAKE, 1, NULL);
    }
    wedge_self.serial = NULL;
    wedge_self.exiting = 1;
    /* after the token moves, the slot may be reused: self is not touched again */
    serial_reschedule(self, WEDGE_EV_THREAD_EXIT, 0, site, NULL, 0);
}

/* The process's scheduler starts over with the calling thread as its only thread, holding
 * the token (at process start, and in a forked child). */
static void adopt_first_thread(void)
{
    S.strat->init(S.strat_state, &wedge_g.token,
                  wedge_mix(wedge_g.token.seed, 0x73657269616c0000ull ^ wedge_g.proc_ordinal));
    int i = alloc_slot();
    struct sthread *t = &S.t[i];
    t->state = T_RUNNABLE;
    t->ordinal = wedge_self.ordinal;
    t->tid = (int32_t)wedge_sys(SYS_gettid, 0, 0, 0, 0);
    t->has_pt = 1;
    t->pt = pthread_self();
    S.strat->thread_new(S.strat_state, t->ordinal, t->words);
    wedge_self.serial = t;
    atomic_store(&S.current, i);
}

void wedge_serial_init(void)
{
    S.base_real = serial_real_ns(CLOCK_REALTIME);
    S.base_mono = serial_real_ns(CLOCK_MONOTONIC);
    atomic_store(&S.vtime, 0);
    S.strat = wedge_strategy_of(wedge_g.token.strategy);
    adopt_first_thread();
    S.ready = 1;
}

void wedge_serial_after_fork_child(void)
{
    /* Only the forking thread survives, and no lock holder or watchdog with it. */
    atomic_store(&S.lock, 0);
    for (int i = 0; i < SERIAL_MAX_THREADS; i++)
        S.t[i].state = T_FREE;
    S.hi = 0;
    S.step = 0;
    S.points = 0;
    S.hash = 0;
    S.wd_started = 0;
    S.wd_quit = 0;
    adopt_first_thread();
}

int wedge_serial_create(pthread_t *tp, const pthread_attr_t *attr, void *(*fn)(void *), void *arg,
                        uint64_t site)
{
    struct sthread *self = serial_me();
    serial_lock();
    serial_ensure_token(self);
    int i;
    while ((i = alloc_slot()) == SERIAL_NONE) {
        /* the table is full: wait in the model until a thread's slot frees (its join, or a
         * detached thread's end) rather than fail the program with EAGAIN */
        serial_block(self, WEDGE_EV_CREATE, S.t, site, 0, 0);
        serial_lock();
        serial_ensure_token(self);
    }
    struct sthread *t = &S.t[i];
    t->state = T_STARTING;
    t->fn = fn;
    t->stack_size = wedge_attr_stack_size(attr);
    t->arg = arg;
    /* deterministic: only the token holder creates threads */
    t->ordinal = atomic_fetch_add(&wedge_g.next_thread_ordinal, 1);
    S.strat->thread_new(S.strat_state, t->ordinal, t->words);
    start_watchdog();
    serial_unlock();

    int r = REAL(pthread_create)(tp, attr, trampoline, t);
    serial_lock();
    if (r != 0) {
        free_slot(t);
        serial_unlock();
        return r;
    }
    int detach = PTHREAD_CREATE_JOINABLE;
    if (attr)
        pthread_attr_getdetachstate(attr, &detach);
    t->detached = detach == PTHREAD_CREATE_DETACHED;
    t->pt = *tp;
    t->has_pt = 1;
    if (t->state == T_STARTING)
        t->state = T_NEW;
    /* the kernel may have been slow to clone: the watchdog may have moved our token */
    serial_ensure_token(self);
    /* the point after the creation: the child may run first */
    serial_reschedule(self, WEDGE_EV_CREATE, 0, site, NULL, t->ordinal);
    return 0;
}

struct sthread *serial_find_thread(pthread_t pt)
{
    for (int i = 0; i < S.hi; i++) {
        struct sthread *t = &S.t[i];
        if (t->state != T_FREE && t->state != T_STARTING && t->has_pt && pthread_equal(t->pt, pt))
            return t;
    }
    return NULL;
}

int wedge_serial_join(pthread_t pt, void **ret, const struct timespec *abstime, int try_only,
                      uint64_t site)
{
    serial_sched_point(WEDGE_EV_JOIN, site, (void *)pt, 0, 0);
    if (!try_only)
        serial_cancel_point();
    struct sthread *self = serial_me();
    int64_t deadline = 0;
    if (abstime && (deadline = serial_deadline(CLOCK_REALTIME, abstime)) < 0)
        return EINVAL;
    serial_lock();
    serial_ensure_token(self);
    struct sthread *t = serial_find_thread(pt);
    if (!t) {
        /* a thread the scheduler does not know: wait for it outside the model */
        serial_unlock();
        struct timespec real;
        if (abstime)
            serial_real_abstime(CLOCK_REALTIME, abstime, &real);
        wedge_serial_outside_begin(WEDGE_EV_JOIN, site, (void *)pt);
        int r = try_only ? REAL(pthread_tryjoin_np)(pt, ret)
                : abstime ? REAL(pthread_timedjoin_np)(pt, ret, &real)
                          : REAL(pthread_join)(pt, ret);
        wedge_serial_outside_end();
        return r;
    }
    if (t == self) {
        serial_unlock();
        return EDEADLK;
    }
    if (t->detached) {
        serial_unlock();
        return EINVAL;
    }
    while (t->state != T_EXITED) {
        serial_ensure_token(self);
        if (try_only) {
            serial_unlock();
            return EBUSY;
        }
        if (abstime && atomic_load(&S.vtime) >= deadline) {
            serial_unlock();
            return ETIMEDOUT;
        }
        serial_block(self, WEDGE_EV_JOIN, t, site, abstime != NULL, deadline);
        serial_lock();
    }
    free_slot(t);
    serial_unlock();
    /* the thread has handed the token on; the real join waits for its last few steps */
    return REAL(pthread_join)(pt, ret);
}

int wedge_serial_detach(pthread_t pt, uint64_t site)
{
    serial_sched_point(WEDGE_EV_DETACH, site, (void *)pt, 0, 0);
    serial_lock();
    struct sthread *t = serial_find_thread(pt);
    if (t) {
        if (t->state == T_EXITED)
            free_slot(t);
        else
            t->detached = 1;
    }
    serial_unlock();
    return REAL(pthread_detach)(pt);
}

void wedge_serial_exit(void *ret, uint64_t site)
{
    wedge_serial_thread_end(site);
    REAL(pthread_exit)(ret);
    __builtin_unreachable();
}

/* ------------------------------------------------------------------------------------------ */
/* plain points and calls outside the model */

void wedge_serial_point(unsigned kind, uint64_t site, const void *obj, uint64_t aux)
{
    serial_sched_point(kind, site, obj, aux, 0);
}

/* Outside calls keep the token: most return at once (a write to a pipe, a read with data
 * waiting), and then nothing about the schedule depended on time.  One that blocks longer than
 * the grace period loses the token to the watchdog, and takes it back afterwards. */
void wedge_serial_outside_begin(unsigned kind, uint64_t site, const void *obj)
{
    serial_sched_point(kind, site, obj, 0, 0);
    struct sthread *self = serial_me();
    serial_lock();
    self->in_call = 1;
    serial_unlock();
}

void wedge_serial_outside_end(void)
{
    int saved = errno;
    struct sthread *self = serial_me();
    serial_lock();
    self->in_call = 0;
    int lost = self->wd_lost;
    if (atomic_load(&S.current) != serial_index(self)) {
        serial_ensure_token(self);
        wedge_set_running();
    }
    self->wd_lost = 0;
    serial_unlock();
    if (lost)
        wedge_record(WEDGE_EV_BLOCKING_CALL, 0, NULL, 0, WEDGE_ACT_WATCHDOG, 0, 0);
    errno = saved;
}
