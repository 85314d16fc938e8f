/* serial_internal.h - the serial scheduler's state, shared by serial*.c only.
 *
 * One thread of the process holds the run token at a time (S.current).  Every thread the
 * scheduler knows has a record in S.t[]; the token moves only under S.lock (a raw futex lock:
 * never a pthread lock, which would be intercepted and could be the target's).  A thread
 * without the token parks on its own futex word until it is handed the token.
 *
 * Time: sleeps and timed waits run in virtual time (S.vtime, nanoseconds since start); it
 * advances only when nothing else can run (or a sleeper is woken early by the strategy), so
 * a 1 s timed wait costs no wall time and the same token sees the same clock.
 */
#ifndef WEDGE_SERIAL_INTERNAL_H
#define WEDGE_SERIAL_INTERNAL_H

#include "shim.h"
#include "strategy.h"

#define SERIAL_MAX_THREADS ((int)WEDGE_SERIAL_MAX_THREADS)
#define SERIAL_NONE (-1)

enum sthread_state {
    T_FREE = 0,
    T_STARTING,  /* slot reserved by pthread_create, kernel thread not created yet */
    T_NEW,       /* created, waits for its first turn: a candidate */
    T_RUNNABLE,  /* a candidate (or the token holder) */
    T_BLOCKED,   /* in a modeled wait: wait_obj, maybe a deadline */
    T_SLEEPING,  /* in a sleep until deadline; the strategy may wake it early */
    T_OUTSIDE,   /* in a call outside the model, without the token */
    T_LOST,      /* the watchdog took its token while it ran: it runs untracked */
    T_EXITED,    /* finished; the slot waits for join (or is freed if detached) */
};

enum { W_NONE = 0, W_WOKEN, W_TIMEOUT, W_CANCEL /* woken by pthread_cancel */ };

struct sthread {
    _Atomic uint32_t park;      /* futex word: bumped when handed the token */
    int state;                  /* enum sthread_state */
    uint32_t ordinal;
    unsigned wait_kind;
    const void *wait_obj;
    uint64_t wait_site;
    uint64_t wait_seq;          /* order of blocking: FIFO for cond_signal */
    int timed;
    int64_t deadline;           /* virtual ns */
    int woke;                   /* W_* */
    int in_call;                /* holder in a short outside call (read/write), token kept */
    int wd_lost;                /* the watchdog moved its token: say so at its next event */
    int has_pt, detached;
    int cancel_async;           /* asked for asynchronous cancellation: any wait ends on a cancel */
    int32_t tid;
    uint64_t cond_waits;        /* condition waits so far: index of the spurious-wakeup stream */
    pthread_t pt;
    void *(*fn)(void *);
    void *arg;
    uint32_t stack_size; /* its pthread_attr's, 0: the default (names stack slots) */
    int rf_hold;                /* held before a trapped access by constraint rf_hold - 1; 0: not */
    int rf_at_lock;             /* held at its hold point (a lock acquisition), not an access */
    uint64_t rf_obj;            /* the held read's object (wedge_obj_key), for negate(0, R) */
    uint64_t rf_since;          /* S.points when it was held */
    uint64_t rf_reads;          /* S.rf_reads of its constraint when it was held (each) */
    uint64_t words[WEDGE_STRATEGY_THREAD_WORDS];
};

/* Objects written by trapped writes of this process, by stable name (wedge_obj_key), for
 * negate(0, R) (a read held until its object was written): open addressing, lossy when full
 * (an object not found counts as written, so a full table only releases a held read early). */
#define SERIAL_RF_OBJS 1024

struct serial_state {
    _Atomic uint32_t lock;
    _Atomic int current;        /* slot holding the token, SERIAL_NONE */
    int ready;
    int hi;                     /* slots in use are below hi */
    uint64_t step;              /* decisions among two or more candidates */
    uint64_t points;            /* every scheduling point: the watchdog's sign of progress */
    uint64_t hash;
    uint64_t wait_seq;
    _Atomic int64_t vtime;      /* virtual ns since start */
    int64_t base_real, base_mono;
    int64_t free_since;         /* real monotonic ns when the token went free */
    _Atomic uint32_t wd_word;   /* watchdog futex: bumped to wake it */
    int wd_started, wd_quit;
    int rf_met[WEDGE_TOKEN_RF]; /* constraint i is dropped (a hold lasted too long) */
    uint32_t rf_by[WEDGE_TOKEN_RF][2]; /* ordinals + 1 of the first two threads that
                                          executed constraint i's releasing access */
    uint64_t rf_reads[WEDGE_TOKEN_RF]; /* reads at an each constraint's read site so far */
    uint32_t rf_nobjs;
    uint64_t rf_objs[SERIAL_RF_OBJS];
    const struct wedge_strategy *strat;
    _Alignas(16) unsigned char strat_state[WEDGE_STRATEGY_STATE_MAX];
    /* pick()'s candidates: here, not on the stack (threads may have small stacks) */
    struct wedge_cand cand[SERIAL_MAX_THREADS];
    int cand_slot[SERIAL_MAX_THREADS];
    struct sthread t[SERIAL_MAX_THREADS];
};

extern struct serial_state S WEDGE_HIDDEN;

WEDGE_HIDDEN void serial_lock(void);
WEDGE_HIDDEN void serial_unlock(void);
WEDGE_HIDDEN struct sthread *serial_me(void);
WEDGE_HIDDEN void serial_ensure_token(struct sthread *self);
WEDGE_HIDDEN void serial_reschedule(struct sthread *self, unsigned kind, int yield, uint64_t site,
                                    const void *obj, uint64_t aux);
WEDGE_HIDDEN void serial_sched_point(unsigned kind, uint64_t site, const void *obj, uint64_t aux,
                                     int yield);
WEDGE_HIDDEN int serial_block(struct sthread *self, unsigned kind, const void *obj, uint64_t site,
                              int timed, int64_t deadline);
WEDGE_HIDDEN int serial_sleep_until(struct sthread *self, int64_t deadline, uint64_t site);
WEDGE_HIDDEN void serial_wake_obj(const void *obj, int all);
WEDGE_HIDDEN void serial_wake_some(const void *obj, int n);
WEDGE_HIDDEN int serial_sleep_for_real(struct sthread *self, int64_t deadline);
/* An absolute time on a virtual clock as the kernel's clock sees it (for real timed calls). */
WEDGE_HIDDEN void serial_real_abstime(clockid_t clock, const struct timespec *abstime,
                                      struct timespec *out);
WEDGE_HIDDEN int64_t serial_real_ns(clockid_t clock);
/* Virtual deadline (ns since start) of an absolute time on clock; -1 if abstime is invalid. */
WEDGE_HIDDEN int64_t serial_deadline(clockid_t clock, const struct timespec *abstime);

WEDGE_HIDDEN struct sthread *serial_find_thread(pthread_t pt);
/* A cancellation point, token held, lock not held: glibc's own pthread_testcancel acts on a
 * pending request (cleanup handlers, then the trampoline's handler ends the thread); returns
 * if there is none or cancellation is disabled. */
WEDGE_HIDDEN void serial_cancel_point(void);
/* Wake the modeled futex waiters whose word no longer holds the value they waited on (a
 * waker the shim could not see); lock held.  Returns how many (serial_futex.c). */
WEDGE_HIDDEN int serial_futex_stale(void);

static inline int serial_index(const struct sthread *t) { return (int)(t - S.t); }

#endif
