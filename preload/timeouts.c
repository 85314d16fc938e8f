/* timeouts.c - time as a scheduling decision in noise mode: short timed waits that expire
 * early at seeded moments, and the clock skew that keeps the program's clocks consistent.
 *
 * Why: some hand-offs happen only when a timed wait expires.  CPython 3.11's GIL waiter waits
 * 5 ms on a condition variable and only then asks the holder to drop the GIL; a thread whose
 * whole task list takes less than that is never interrupted, so a check-then-act window in
 * Python code never overlaps another thread's (0 of 100 runs under every mode before this).
 * Making that wait expire early, at a seeded fraction of its time, switches the GIL at seeded
 * eval-breaker checks.
 *
 * The rule that keeps it correct: a program never sees a timeout fire before its deadline by
 * its own clock, and never sees a clock go backwards.  So when a wait is made to expire early,
 * every clock of the run (realtime and monotonic alike, one offset: they advance at the same
 * rate) moves forward to the wait's deadline, as if the machine had been slow.  The offset
 * only grows; it lives in the run's shared memory so that the processes of a run agree (a
 * child reading a parent's timestamp never sees it in its future).  Absolute deadlines the
 * program hands to real timed calls are moved back by the offset before the kernel sees them.
 *
 * Bounded: only waits with at most EARLY_MAX_NS left may expire early, and the offset grows by
 * at most SKEW_BUDGET_NS per run, so that real timeouts (a database busy timeout waiting on
 * another process, a watchdog in the program) keep their meaning.
 *
 * Serial mode has virtual time instead (serial.c): there "this timed wait times out now" is a
 * candidate the strategy may choose for the modeled waits; only the seeded early expiry of
 * calls outside the model (poll, select) is decided here.
 */
#define _GNU_SOURCE
#include "shim.h"
#include "wedge_stream.h"

#include <sys/syscall.h>

/* the same limit as serial.c's for modeled waits */
#define EARLY_MAX_NS (50 * 1000000LL)
#define SKEW_BUDGET_NS (2000 * 1000000LL)

static _Atomic int64_t skew_local;
static __thread uint64_t early_index WEDGE_TLS; /* this thread's timed waits so far */

static _Atomic int64_t *skew_word(void)
{
    return wedge_g.shm ? &wedge_g.shm->clock_skew_ns : &skew_local;
}

int wedge_clock_skewed(clockid_t clock)
{
    return clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE || clock == CLOCK_TAI ||
           clock == CLOCK_MONOTONIC || clock == CLOCK_MONOTONIC_COARSE ||
           clock == CLOCK_MONOTONIC_RAW || clock == CLOCK_BOOTTIME;
}

int64_t wedge_clock_skew(void)
{
    if (atomic_load_explicit(&wedge_g.init_state, memory_order_acquire) != 2 || wedge_g.serial ||
        !wedge_g.active)
        return 0;
    return atomic_load_explicit(skew_word(), memory_order_acquire);
}

int64_t wedge_clock_real(clockid_t clock)
{
    struct timespec ts;
    wedge_sys(SYS_clock_gettime, clock, (long)&ts, 0, 0);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t wedge_clock_now(clockid_t clock)
{
    return wedge_clock_real(clock) + (wedge_clock_skewed(clock) ? wedge_clock_skew() : 0);
}

int64_t wedge_ts_ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

struct timespec wedge_ns_ts(int64_t ns)
{
    if (ns < 0)
        ns = 0;
    return (struct timespec){ (time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL) };
}

const struct timespec *wedge_abstime_real(clockid_t clock, const struct timespec *abstime,
                                          struct timespec *out)
{
    int64_t skew;
    if (!abstime || abstime->tv_nsec < 0 || abstime->tv_nsec >= 1000000000L ||
        !wedge_clock_skewed(clock) || (skew = wedge_clock_skew()) == 0)
        return abstime; /* invalid times go to the real call as they are: it says EINVAL */
    *out = wedge_ns_ts(wedge_ts_ns(abstime) - skew);
    return out;
}

void wedge_clock_reach(clockid_t clock, int64_t deadline)
{
    if (!wedge_clock_skewed(clock))
        return;
    _Atomic int64_t *w = skew_word();
    int64_t need = deadline - wedge_clock_real(clock);
    int64_t cur = atomic_load(w);
    while (need > cur && !atomic_compare_exchange_weak(w, &cur, need))
        ;
    if (need > 0 && wedge_g.shm)
        atomic_fetch_or(&wedge_g.shm->flags, WEDGE_RUN_EARLY_TIMEOUT);
}

/* One temperament per process, drawn from the seed: how often a short timed wait expires
 * early (always in half the processes, else one in 2 or 4; never in one process of eight,
 * so that runs where timeouts take their full time stay in the mix).  A Python run makes
 * only a few dozen GIL waits: rarer early expiries than these left the GIL with whoever
 * held it first. */
static uint32_t early_shift(void)
{
    static const uint32_t shifts[8] = { 0, 0, 0, 0, 1, 1, 2, 32 };
    uint64_t h = wedge_mix(wedge_g.token.seed ^ 0x6561726c79ull, wedge_g.proc_ordinal);
    return shifts[h & 7];
}

/* The object of this thread's last wait that expired early, until a wait of it ends another
 * way.  A waiter that loops on a timed wait until something changes (CPython's take_gil sets
 * the drop request and waits again) would otherwise expire early again and again, moving the
 * clocks 5 ms a time for nothing and spending the budget in a millisecond: one early expiry
 * per wait episode, then the wait takes its time (or is woken). */
static __thread const void *early_obj WEDGE_TLS;

void wedge_early_done(const void *obj, int expired_early)
{
    early_obj = expired_early ? obj : NULL;
}

int64_t wedge_early_wait(uint64_t site, const void *obj, int64_t remaining)
{
    if (!wedge_g.active || remaining <= 0 || remaining > EARLY_MAX_NS ||
        !wedge_site_allowed(site) || (obj && obj == early_obj))
        return -1;
    if (!wedge_g.serial &&
        atomic_load_explicit(skew_word(), memory_order_relaxed) + remaining > SKEW_BUDGET_NS)
        return -1;
    wedge_ensure_registered();
    uint64_t h = wedge_decide(wedge_g.token.seed ^ 0x74696d656f7574ull, wedge_g.proc_ordinal,
                              wedge_self.ordinal, early_index++, site);
    uint32_t shift = early_shift();
    if (shift >= 32 || ((uint32_t)h & ((1u << shift) - 1)) != 0)
        return -1;
    /* wait a seeded fraction of the time left, on a log scale: none, or 1/32, 1/64 ... 1/2^19
     * of it.  Log, not linear: the work a timeout interrupts may take microseconds (a Python
     * thread's whole task list took 0.3 ms while its peer's GIL wait was 5 ms; a linear draw
     * in steps of 1/16 came after it every time).  Measured on router_history.py, 40 runs:
     * 1/2 ... 1/2^15, 1 failure; 1/32 ... 1/2^19, 3.  Serial mode: no wait; the call is
     * outside the model, and waiting would only make the schedule depend on time. */
    uint32_t s = (uint32_t)(h >> 32) & 15;
    return wedge_g.serial || s == 0 ? 0 : remaining >> (s + 4);
}

const struct timespec *wedge_timed_abstime(uint64_t site, const void *obj, clockid_t clock,
                                           const struct timespec *abstime, struct timespec *out,
                                           int64_t *early)
{
    *early = -1;
    if (abstime->tv_nsec >= 0 && abstime->tv_nsec < 1000000000L &&
        (*early = wedge_early_wait(site, obj, wedge_ts_ns(abstime) - wedge_clock_now(clock))) >= 0) {
        *out = wedge_ns_ts(wedge_clock_real(clock) + *early);
        return out;
    }
    return wedge_abstime_real(clock, abstime, out);
}

void wedge_timed_end(const void *obj, clockid_t clock, const struct timespec *abstime,
                     int64_t early, int timed_out)
{
    if (timed_out && early >= 0)
        wedge_clock_reach(clock, wedge_ts_ns(abstime));
    wedge_early_done(obj, timed_out && early >= 0);
}
