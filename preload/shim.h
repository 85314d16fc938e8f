/* shim.h - internal API of libwedge.so, shared by the files of preload/.
 *
 * Rules for every file here (the shim runs inside someone else's process):
 *  - no malloc, no stdio, no locks the target could also take; real functions only via REAL();
 *  - every wrapper starts with WEDGE_ENTER/wedge_enter() and ends with wedge_leave(): nested
 *    intercepted calls made while the shim works pass straight through;
 *  - wrappers work before the constructor ran (wedge_init is called lazily) and during dlsym;
 *  - signal handlers use only async-signal-safe calls;
 *  - nothing is printed unless WEDGE_LOG=1, and then only on stderr, prefixed "wedge: ".
 */
#ifndef WEDGE_SHIM_H
#define WEDGE_SHIM_H

#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "wedge_protocol.h"
#include "wedge_token.h"

#define WEDGE_HIDDEN __attribute__((visibility("hidden")))
#define WEDGE_EXPORT __attribute__((visibility("default")))
#define WEDGE_TLS __attribute__((tls_model("initial-exec")))
#define WEDGE_LIKELY(x) __builtin_expect(!!(x), 1)
#define WEDGE_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- system calls ----
 * The shim's one way to make a system call: the instruction itself.  Not libc's syscall(),
 * which is wedge's own wrapper (futex.c), and not libc's named wrappers, some of which are
 * wedge's too (clock_gettime, nanosleep) and all of which, under system call user dispatch,
 * run outside the shim's code and would be dispatched to memwatch_sud.c.  The result is the
 * kernel's (-errno on failure); errno is untouched; usable in signal handlers.
 * tests/shim/rules.sh checks that no shim file calls syscall() but futex.c. */
static inline long wedge_sys(long n, long a, long b, long c, long d)
{
    long r;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
                     : "rcx", "r11", "memory");
    return r;
}

/* The same with six arguments. */
static inline long wedge_sys6(long n, long a, long b, long c, long d, long e, long f)
{
    long r;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
                     "r"(r9) : "rcx", "r11", "memory");
    return r;
}

/* ---- real functions (real.c) ---- */
struct wedge_real {
#define X(ret, name, params, version) ret(*name) params;
#include "symbols.def"
#undef X
};
extern struct wedge_real wedge_real WEDGE_HIDDEN;
#define REAL(name) (wedge_real.name ? wedge_real.name : (wedge_resolve_all(), wedge_real.name))
WEDGE_HIDDEN void wedge_resolve_all(void);
/* Nonzero while dlsym runs: allocations go to the bootstrap arena (malloc.c). */
extern _Atomic int wedge_resolving WEDGE_HIDDEN;

/* ---- process-wide state (core.c; the noise parameters are noise.c's) ---- */
struct wedge_global {
    _Atomic int init_state;        /* 0 not yet, 1 in progress, 2 done */
    int passive;                   /* init done and no token: every wrapper passes through */
    int prelude;                   /* a fork server before main: note calls (forksrv.c) */
    int active;                    /* a valid token was given: inject */
    int serial;                    /* token.mode == serial */
    int memory;                    /* token.opts & WEDGE_OPT_MEMORY */
    int log;                       /* WEDGE_LOG=1 */
    struct wedge_token token;
    struct wedge_shm_header *shm;  /* NULL without WEDGE_SHM: no trace, still injects */
    uint32_t proc_index;           /* our entry in shm->procs */
    uint32_t proc_ordinal;         /* process ordinal in decision streams */
    _Atomic uint32_t next_thread_ordinal;
    _Atomic uint32_t forks;        /* children forked by this process, for their ordinals */
    /* noise parameters, drawn once per process from the seed */
    uint32_t inject_shift;         /* inject at a point with probability 1/2^shift */
    uint32_t max_sleep_us;
    uint32_t start_delay_us;       /* extra delay at thread start, to make threads overlap */
    uint32_t rendezvous_us;        /* longest wait for a peer at a rendezvous; 0: none */
    uint32_t rendezvous_pick;      /* injections of kind >= this (of 8) are rendezvous */
};
extern struct wedge_global wedge_g WEDGE_HIDDEN;

/* ---- per-thread state (core.c) ---- */
struct wedge_thread {
    int32_t slot;          /* index of our shm thread slot, -1 if none */
    uint32_t ordinal;      /* thread ordinal within the process, 0 = main */
    uint64_t index;        /* per-thread event counter: the decision stream's position */
    int depth;             /* > 0 while inside the shim: nested calls pass through */
    int registered;        /* slot and ordinal assigned */
    int exiting;           /* thread is past its exit point: no more scheduling */
    void *serial;          /* serial.c's per-thread record */
    void *mem;             /* memwatch.c's per-thread record */
    int cancel_async;      /* the program asked for asynchronous cancellation (threads.c) */
    int mem_atomic;        /* the trapped access whose point runs is atomic (memwatch_trap.c;
                              coverage.c flags its reads-from pairs) */
    /* serial mode: lock acquisitions made so far (the N of a reads-from hold point,
     * wedge_token.h), and whether the last lock operation was one (an access now runs inside
     * a critical section entered at acquisition acq_n; serial.c) */
    uint32_t acq_n;
    int in_cs;
};
extern __thread struct wedge_thread wedge_self WEDGE_TLS WEDGE_HIDDEN;

WEDGE_HIDDEN void wedge_init(void);

/* The hottest wrappers are one indirect jump through this table (issue 12: the idle shim at
 * most 1.1x native): to the real function while the shim is passive, to the wrapper's body
 * (defined beside the wrapper) otherwise, and before init.  The body is reached by a tail
 * jump, so its __builtin_return_address(0) is the wrapper's caller, as a site must be (the
 * shim is always built -O2, which makes `return wedge_hot.f(...)` a jump).  Only
 * wedge_set_passive switches it. */
struct wedge_hot {
    int (*pthread_mutex_lock)(pthread_mutex_t *);
    int (*pthread_mutex_unlock)(pthread_mutex_t *);
    void *(*malloc)(size_t);
    void *(*calloc)(size_t, size_t);
};
extern struct wedge_hot wedge_hot WEDGE_HIDDEN;
WEDGE_HIDDEN int wedge_mutex_lock_body(pthread_mutex_t *m);
WEDGE_HIDDEN int wedge_mutex_unlock_body(pthread_mutex_t *m);
WEDGE_HIDDEN void *wedge_malloc_body(size_t size);
WEDGE_HIDDEN void *wedge_calloc_body(size_t n, size_t size);
/* Set wedge_g.passive (init done and nothing to do: every wrapper passes through) and the
 * hot table with it. */
WEDGE_HIDDEN void wedge_set_passive(int passive);

/* Define a wrapper whose idle path (the shim passive: resolved, nothing to do) is a load, a
 * predicted branch and a tail call to the real function, before any prologue; the block that
 * follows the macro is the wrapper's body, in a function of the same signature that the
 * wrapper reaches by a tail jump (so its WEDGE_CALLER_PC() is still the wrapper's caller; see
 * struct wedge_hot).  WEDGE_WRAPPER(int, sem_post, (sem_t *s), s) { ...body... } */
#define WEDGE_WRAPPER(ret, name, params, ...)                                                \
    static ret name##_body params;                                                           \
    WEDGE_EXPORT ret name params                                                             \
    {                                                                                        \
        if (WEDGE_LIKELY(wedge_g.passive))                                                   \
            return wedge_real.name(__VA_ARGS__);                                             \
        return name##_body(__VA_ARGS__);                                                     \
    }                                                                                        \
    static __attribute__((noinline)) ret name##_body params
/* forksrv.c: the fork server.  wedge_forksrv_init reads WEDGE_FORKSRV at init (and drops it
 * from the environment; wedge_g.prelude is 1 in a server until main, where it serves);
 * wedge_forksrv_note_call notes a call into the shim made before main from pc. */
WEDGE_HIDDEN void wedge_forksrv_init(void);
WEDGE_HIDDEN void wedge_forksrv_note_call(const void *pc);
/* In a server's child: set up the run from the variables the runner sent (core.c). */
WEDGE_HIDDEN void wedge_init_forked_run(void);
/* Load libunwind now (normally done on the first stack taken); not signal-safe. */
WEDGE_HIDDEN void wedge_unwinder_load(void);

/* Asynchronous cancellation (threads.c): while a thread that asked for it is inside the shim,
 * its real cancellation type is deferred, so that a cancellation never unwinds it out of the
 * middle of wedge's work (holding the scheduler lock, parked for the run token, writing the
 * ring); leaving the shim restores it, and glibc then acts on a request that came meanwhile. */
WEDGE_HIDDEN void wedge_cancel_hold(void);
WEDGE_HIDDEN void wedge_cancel_release(void);

/* Enter the shim from a wrapper.  Returns 1 if the wrapper should do wedge's work (and must
 * then call wedge_leave), 0 if it must pass straight to the real function. */
/* always_inline: __builtin_return_address(0) below must be the wrapper's caller, also at -O0 */
static inline __attribute__((always_inline)) int wedge_enter(void)
{
    /* The idle path (no token): one load and a predicted branch before the real function
     * (issue 12; tests/targets/call_cost measures it). */
    if (WEDGE_LIKELY(wedge_g.passive))
        return 0;
    if (WEDGE_UNLIKELY(atomic_load_explicit(&wedge_g.init_state, memory_order_acquire) != 2)) {
        if (wedge_resolving || atomic_load(&wedge_g.init_state) == 1)
            return 0;
        wedge_init();
        if (atomic_load(&wedge_g.init_state) != 2)
            return 0;
    }
    if (wedge_self.depth || wedge_self.exiting)
        return 0;
    if (!wedge_g.active) {
        if (WEDGE_UNLIKELY(wedge_g.prelude)) /* inlined: the wrapper's caller */
            wedge_forksrv_note_call(__builtin_return_address(0));
        return 0;
    }
    if (WEDGE_UNLIKELY(wedge_self.cancel_async))
        wedge_cancel_hold();
    wedge_self.depth++;
    return 1;
}
static inline void wedge_leave(void)
{
    if (--wedge_self.depth == 0 && WEDGE_UNLIKELY(wedge_self.cancel_async))
        wedge_cancel_release(); /* may act on a pending cancellation: does not return then */
}

/* The site of the wrapper's caller.  Must be used in the wrapper itself (not a helper). */
#define WEDGE_CALLER_PC() ((const void *)__builtin_return_address(0))
WEDGE_HIDDEN uint64_t wedge_site_of(const void *pc);
/* The same without refreshing the module table on a miss: safe in a signal handler. */
WEDGE_HIDDEN uint64_t wedge_site_of_nolock(const void *pc);
/* 1 if pc lies in libc, the loader, the shim or another system library (or is unknown):
 * never a place to schedule (it may hold libc-internal locks). Signal-safe. */
WEDGE_HIDDEN int wedge_pc_in_system_module(const void *pc);

/* 1 if the site (module + offset) lies in a system library or is unknown. Signal-safe. */
WEDGE_HIDDEN int wedge_site_in_system_module(uint64_t site);
/* 1 if the site lies in a sanitizer runtime (libasan.so, liblsan.so...). Signal-safe. */
WEDGE_HIDDEN int wedge_site_in_sanitizer(uint64_t site);
WEDGE_HIDDEN int wedge_site_in_shim(uint64_t site);
/* sites.c: the executable's path and the first module table (init); after fork. */
WEDGE_HIDDEN void wedge_sites_init(void);
WEDGE_HIDDEN void wedge_sites_after_fork_child(void);
/* Parse WEDGE_SITES (hex sites, comma-separated); malformed lists allow nothing. */
WEDGE_HIDDEN void wedge_sites_parse_allowed(const char *s);
WEDGE_HIDDEN void wedge_steps_parse_allowed(const char *s);
WEDGE_HIDDEN void wedge_decisions_parse_allowed(const char *s);
WEDGE_HIDDEN int wedge_decision_allowed(uint64_t index); /* noise: this thread's draw index */
WEDGE_HIDDEN void wedge_note_alloc(uint64_t site, const void *p, uint64_t size);
/* p handed to another thread: log the caller's stack frame holding it, if it is on its stack */
WEDGE_HIDDEN void wedge_note_stack_frame(const void *p);
WEDGE_HIDDEN void wedge_steps_from_token(const struct wedge_token *t); /* its STEPS field */
/* The fork gate (sites.c): 1 if the caller may enter a section that takes locks a forked
 * child could never get (stack unwinding, module refresh); then wedge_gate_leave after. */
WEDGE_HIDDEN int wedge_gate_enter(void);
WEDGE_HIDDEN void wedge_gate_leave(void);

/* Register the calling thread (slot, ordinal) if not yet: done lazily at its first event. */
WEDGE_HIDDEN void wedge_thread_register(uint32_t ordinal);
/* a created thread's stack size (0: glibc's default), for naming stack slots */
WEDGE_HIDDEN uint32_t wedge_attr_stack_size(const pthread_attr_t *attr);
WEDGE_HIDDEN void wedge_thread_stack_size(uint32_t size);
static inline void wedge_ensure_registered(void)
{
    if (WEDGE_UNLIKELY(!wedge_self.registered))
        /* a thread the shim did not see created (made before init, or by raw clone) */
        wedge_thread_register(atomic_fetch_add(&wedge_g.next_thread_ordinal, 1));
}

/* Schedule coverage (coverage.c): note an event on obj in header.cov.  Signal-safe. */
WEDGE_HIDDEN void wedge_cov_note(unsigned kind, uint64_t site, const void *obj);
/* An object's name that does not move under ASLR (coverage.c): what reads-from pairs and
 * hold points name an object by. */
WEDGE_HIDDEN uint64_t wedge_obj_key(const void *obj);
/* Note a futex word the program named in header.futex_key (coverage.c).  Signal-safe. */
WEDGE_HIDDEN void wedge_futex_note(const void *addr);
/* Add key (non-zero) to a set of the run's shared memory: open addressing over size slots (a
 * power of two), each key once, claimed by a compare-and-swap (a run's threads and processes
 * share it); a new key counts in *count (if not NULL), one that finds no slot in a few probes
 * in *dropped.  No allocation, no lock: safe in a signal handler (coverage.c). */
WEDGE_HIDDEN void wedge_shm_set_add(_Atomic uint64_t *set, uint32_t size, uint64_t key,
                                    _Atomic uint32_t *count, _Atomic uint32_t *dropped);

/* Append an event to the calling thread's ring.  with_stack: capture a short stack. */
WEDGE_HIDDEN void wedge_record(unsigned kind, uint64_t site, const void *obj, uint64_t aux,
                               unsigned action, uint32_t action_arg, int with_stack);
/* The same, returning the ring entry (NULL without a slot) so that the caller can fill in
 * what it did after acting; it must then call wedge_note_acted itself if it acted. */
WEDGE_HIDDEN struct wedge_event *wedge_record_event(unsigned kind, uint64_t site,
                                                    const void *obj, uint64_t aux,
                                                    unsigned action, uint32_t action_arg,
                                                    int with_stack);
/* Note a site where wedge acted (the run's list of acted sites, for minimize). */
WEDGE_HIDDEN void wedge_note_acted(unsigned kind, uint64_t site, unsigned action);

/* An interception point in noise mode: advance the thread's stream, maybe inject a delay,
 * record the event.  Returns the action taken. */
WEDGE_HIDDEN unsigned wedge_noise_point(unsigned kind, uint64_t site, const void *obj,
                                        uint64_t aux);
/* The noise decision for a stream value h: action and its argument (no side effects). */
WEDGE_HIDDEN unsigned wedge_noise_decide(uint64_t h, uint32_t *arg);
/* Carry out a delay action (raw system calls: async-signal-safe). */
WEDGE_HIDDEN void wedge_delay(unsigned action, uint32_t arg);
/* Carry out a delay action under the process's budgets and count the injection; returns the
 * action done (a sleep past the budget becomes a yield, *arg updated). Signal-safe. */
WEDGE_HIDDEN unsigned wedge_noise_carry_out(unsigned action, uint32_t *arg);
/* noise.c: this process's temperament, drawn from the seed (init); reset after fork. */
WEDGE_HIDDEN void wedge_noise_init(void);
WEDGE_HIDDEN void wedge_noise_after_fork_child(void);
/* At the start of a new thread in noise mode: the per-run start delay.  site: the thread's
 * start routine (so that minimize can tell whether the delay matters). */
WEDGE_HIDDEN void wedge_noise_thread_start(uint64_t site);

/* 1 if wedge may act at this site (WEDGE_SITES restricts where, for minimize). */
WEDGE_HIDDEN int wedge_site_allowed(uint64_t site);
WEDGE_HIDDEN int wedge_step_allowed(uint64_t step); /* serial decision index */

/* Thread blocked / running state for hang reports. */
WEDGE_HIDDEN void wedge_set_blocked(unsigned kind, const void *obj, uint64_t site);
WEDGE_HIDDEN void wedge_set_running(void);
WEDGE_HIDDEN void wedge_set_exited(void);

/* Set a run flag and, if msg, the run message (first writer wins). */
WEDGE_HIDDEN void wedge_run_flag(uint32_t flag, const char *msg);

/* Diagnostics on stderr when WEDGE_LOG=1 (async-signal-safe, no stdio). */
WEDGE_HIDDEN void wedge_log(const char *a, const char *b);
/* Small async-signal-safe formatting helpers. */
WEDGE_HIDDEN char *wedge_fmt_u64(char *p, uint64_t v);
WEDGE_HIDDEN char *wedge_fmt_hex(char *p, uint64_t v);
WEDGE_HIDDEN char *wedge_fmt_str(char *p, const char *s);

/* Around the real fork: wait until no thread is inside a section that takes a lock a child
 * could never get (stack unwinding, module refresh); reopen after. */
WEDGE_HIDDEN void wedge_fork_prepare(void);
WEDGE_HIDDEN void wedge_fork_done(int child);

/* process.c: take the run's variables again for exec (a run forked by the fork server). */
WEDGE_HIDDEN void wedge_exec_env_recapture(void);

/* fork bookkeeping: called in the child after fork returned 0, with its process ordinal. */
WEDGE_HIDDEN void wedge_after_fork_child(uint32_t child_ordinal);

/* A short stack of sites (innermost first, the shim's own frames skipped); 0 if it cannot be
 * taken now (a fork in progress). Not signal-safe (libunwind). */
WEDGE_HIDDEN unsigned wedge_stack_sites(uint64_t *out, unsigned max);

/* sanitizer.c: when a sanitizer runtime owns malloc (ASan, TSan, LSan first in the preload
 * list), wedge's malloc wrappers are not reached: install the runtime's allocator hooks as
 * interception points instead.  Called once from init in active runs. */
WEDGE_HIDDEN void wedge_sanitizer_init(void);
extern int wedge_sanitizer_runtime WEDGE_HIDDEN;
/* ---- time as a scheduling decision in noise mode (timeouts.c) ---- */
/* 1 for the clocks the skew (and serial virtual time) applies to: not the CPU-time clocks. */
WEDGE_HIDDEN int wedge_clock_skewed(clockid_t clock);
/* How far the run's clocks were moved forward, ns (0 in serial mode or before init). */
WEDGE_HIDDEN int64_t wedge_clock_skew(void);
/* The kernel's clock, ns (raw system call). */
WEDGE_HIDDEN int64_t wedge_clock_real(clockid_t clock);
/* The clock as the program sees it, ns (noise mode; serial mode reads virtual time). */
WEDGE_HIDDEN int64_t wedge_clock_now(clockid_t clock);
WEDGE_HIDDEN int64_t wedge_ts_ns(const struct timespec *ts);
WEDGE_HIDDEN struct timespec wedge_ns_ts(int64_t ns);
/* The program's absolute time on clock as the kernel's clock sees it: abstime itself when no
 * skew applies (or it is invalid), else *out filled and returned. */
WEDGE_HIDDEN const struct timespec *wedge_abstime_real(clockid_t clock,
                                                       const struct timespec *abstime,
                                                       struct timespec *out);
/* A timed wait at site with `remaining` ns to its deadline: -1 to let it take its time, or the
 * ns to wait for real before it expires early (seeded; bounded; always 0 in serial mode, where
 * only calls outside the model ask). */
WEDGE_HIDDEN int64_t wedge_early_wait(uint64_t site, const void *obj, int64_t remaining);
/* After a timed wait on obj that asked wedge_early_wait: whether it expired early (then the
 * thread's next wait on obj takes its time). */
WEDGE_HIDDEN void wedge_early_done(const void *obj, int expired_early);
/* A wait expired early: move the run's clocks forward so that clock shows its deadline. */
WEDGE_HIDDEN void wedge_clock_reach(clockid_t clock, int64_t deadline);
/* Noise mode, a wait on obj until abstime (valid or not) on clock: the absolute time to give
 * the real call, *out filled if it differs: the deadline on the kernel's clock, or an earlier
 * moment if this wait expires early (*early >= 0, else -1).  After the call, wedge_timed_end
 * with whether it timed out: the clocks then show the deadline passed. */
WEDGE_HIDDEN const struct timespec *wedge_timed_abstime(uint64_t site, const void *obj,
                                                        clockid_t clock,
                                                        const struct timespec *abstime,
                                                        struct timespec *out, int64_t *early);
WEDGE_HIDDEN void wedge_timed_end(const void *obj, clockid_t clock, const struct timespec *abstime,
                                  int64_t early, int timed_out);

/* python.c: in serial mode, CPython's function calls become scheduling points (a profile
 * function); called at thread creation, which CPython makes holding its GIL. */
WEDGE_HIDDEN void wedge_py_attach(void);

#include "serial.h"
#include "memwatch.h"

#endif
