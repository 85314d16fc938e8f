/* serial_cancel.c - serial mode: thread cancellation.
 *
 * glibc keeps the request and does the unwinding (cleanup handlers, thread-specific data,
 * PTHREAD_CANCELED for the joiner); the model only has to let the target get there.  A target
 * waiting in the model is parked on its futex word inside the shim, never in a glibc
 * cancellation point, so glibc alone would leave it waiting for ever (the run a deadlock).
 * So pthread_cancel, after glibc's, makes a target blocked in a modeled cancellation point
 * (pthread_cond_wait, pthread_join, sem_wait, the sleeps; any modeled wait if it asked for
 * asynchronous cancellation) runnable; when the strategy gives it the token it calls glibc's
 * pthread_testcancel (serial_cancel_point), with the mutex of a condition wait taken back
 * first.  The thread's end is the trampoline's cleanup handler (serial.c), which hands the
 * token on.  Every modeled cancellation point also calls serial_cancel_point on entry, so a
 * request made while the target ran is acted on where POSIX says.
 *
 * Asynchronous cancellation: a target running user code without the token (the watchdog took
 * it from a spin loop) gets glibc's signal and unwinds at once; one parked in the shim has its
 * real type deferred there (wedge_cancel_hold) and acts when it leaves the shim.
 */
#define _GNU_SOURCE
#include "serial_internal.h"

void serial_cancel_point(void)
{
    /* the cleanup handlers are the program's code: their calls are scheduling points again
     * (an unlock in a handler must wake the model's waiters) */
    int depth = wedge_self.depth;
    wedge_self.depth = 0;
    REAL(pthread_testcancel)();
    wedge_self.depth = depth;
}

/* The waits that are cancellation points (POSIX 2.9.5.2); sleeps are T_SLEEPING. */
static int cancellation_wait(unsigned kind)
{
    return kind == WEDGE_EV_COND_WAIT || kind == WEDGE_EV_JOIN || kind == WEDGE_EV_SEM_WAIT;
}

int wedge_serial_cancel(pthread_t pt, uint64_t site)
{
    serial_sched_point(WEDGE_EV_CANCEL, site, (const void *)pt, 0, 0);
    int r = REAL(pthread_cancel)(pt);
    if (r)
        return r;
    struct sthread *self = serial_me();
    serial_lock();
    struct sthread *t = serial_find_thread(pt);
    if (t && t != self &&
        (t->state == T_SLEEPING ||
         (t->state == T_BLOCKED && (t->cancel_async || cancellation_wait(t->wait_kind))))) {
        /* it acts when it next runs; with cancellation disabled the wake-up is spurious */
        t->state = T_RUNNABLE;
        t->woke = W_CANCEL;
    }
    serial_unlock();
    return 0;
}

void wedge_serial_testcancel(uint64_t site)
{
    /* a yielding point: a thread polling for its cancellation lets the canceller run */
    serial_sched_point(WEDGE_EV_TESTCANCEL, site, NULL, 0, 1);
}

void wedge_serial_set_async(int async)
{
    struct sthread *self = serial_me();
    serial_lock();
    self->cancel_async = async;
    serial_unlock();
}
