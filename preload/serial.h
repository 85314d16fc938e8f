/* serial.h - serial mode: one thread of the process holds the run token at a time.
 *
 * The wrappers (threads.c, sync.c, sleep.c, io.c, process.c) call these when wedge_g.serial
 * is set, already inside wedge_enter().  Each models the blocking operation so that the kernel
 * never blocks the token holder on something the model knows; each is a scheduling point
 * where the strategy (src/strategy_*.c) chooses who runs next.  Return values and errno follow
 * the POSIX function they stand for.
 */
#ifndef WEDGE_SERIAL_H
#define WEDGE_SERIAL_H

#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <time.h>

/* process start (constructor, main thread), and in a forked child */
void wedge_serial_init(void) __attribute__((visibility("hidden")));
void wedge_serial_after_fork_child(void) __attribute__((visibility("hidden")));

/* threads: the parent calls _create around the real pthread_create; the child's trampoline
 * calls _thread_begin before user code and _thread_end after it (or from pthread_exit). */
struct wedge_serial_create;
int wedge_serial_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg,
                        uint64_t site) __attribute__((visibility("hidden")));
int wedge_serial_join(pthread_t t, void **ret, const struct timespec *abstime, int try_only,
                      uint64_t site) __attribute__((visibility("hidden")));
int wedge_serial_detach(pthread_t t, uint64_t site) __attribute__((visibility("hidden")));
void wedge_serial_exit(void *ret, uint64_t site) __attribute__((visibility("hidden"), noreturn));
/* The calling thread's exit bookkeeping (trampoline, pthread_exit): wakes joiners, hands the
 * token on, and sets wedge_self.exiting so that everything after passes through. */
void wedge_serial_thread_end(uint64_t site) __attribute__((visibility("hidden")));
/* Cancellation (serial_cancel.c): pthread_cancel makes a target blocked in a modeled
 * cancellation point (or in any modeled wait, if it asked for asynchronous cancellation)
 * runnable, and the target acts on it when it holds the token; pthread_testcancel is a
 * yielding point; _set_async tells the scheduler the caller's cancellation type. */
int wedge_serial_cancel(pthread_t t, uint64_t site) __attribute__((visibility("hidden")));
void wedge_serial_testcancel(uint64_t site) __attribute__((visibility("hidden")));
void wedge_serial_set_async(int async) __attribute__((visibility("hidden")));
int wedge_serial_once(pthread_once_t *once, void (*fn)(void), uint64_t site)
    __attribute__((visibility("hidden")));

/* mutexes; abstime NULL: untimed */
int wedge_serial_mutex_lock(pthread_mutex_t *m, const struct timespec *abstime, int try_only,
                            uint64_t site) __attribute__((visibility("hidden")));
int wedge_serial_mutex_unlock(pthread_mutex_t *m, uint64_t site) __attribute__((visibility("hidden")));

/* rwlocks; write: 1 for wrlock */
int wedge_serial_rwlock_lock(pthread_rwlock_t *l, int write, const struct timespec *abstime,
                             int try_only, uint64_t site) __attribute__((visibility("hidden")));
int wedge_serial_rwlock_unlock(pthread_rwlock_t *l, uint64_t site) __attribute__((visibility("hidden")));

/* condition variables; clock: CLOCK_REALTIME for timedwait */
int wedge_serial_cond_wait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clock,
                           const struct timespec *abstime, uint64_t site)
    __attribute__((visibility("hidden")));
int wedge_serial_cond_signal(pthread_cond_t *c, int broadcast, uint64_t site)
    __attribute__((visibility("hidden")));

/* semaphores */
/* clock: abstime's; clockwait: 1 if the program called sem_clockwait (real calls alike) */
int wedge_serial_sem_wait(sem_t *s, clockid_t clock, int clockwait, const struct timespec *abstime,
                          int try_only, uint64_t site) __attribute__((visibility("hidden")));
int wedge_serial_sem_post(sem_t *s, uint64_t site) __attribute__((visibility("hidden")));

/* barriers (init/destroy recorded so that the count is known) */
int wedge_serial_barrier_init(pthread_barrier_t *b, const pthread_barrierattr_t *a, unsigned count,
                              uint64_t site) __attribute__((visibility("hidden")));
int wedge_serial_barrier_destroy(pthread_barrier_t *b, uint64_t site) __attribute__((visibility("hidden")));
int wedge_serial_barrier_wait(pthread_barrier_t *b, uint64_t site) __attribute__((visibility("hidden")));

/* spinlocks */
int wedge_serial_spin_lock(pthread_spinlock_t *s, int try_only, uint64_t site)
    __attribute__((visibility("hidden")));
int wedge_serial_spin_unlock(pthread_spinlock_t *s, uint64_t site) __attribute__((visibility("hidden")));

/* sched_yield and sleeps: sleeps advance virtual time instead of the wall clock when every
 * other thread is blocked.  clock/flags as clock_nanosleep; returns 0 or an errno value. */
int wedge_serial_yield(uint64_t site) __attribute__((visibility("hidden")));
int wedge_serial_sleep(clockid_t clock, int flags, const struct timespec *req, uint64_t site)
    __attribute__((visibility("hidden")));

/* A plain scheduling point with no blocking (trapped memory access, I/O on regular files). */
void wedge_serial_point(unsigned kind, uint64_t site, const void *obj, uint64_t aux)
    __attribute__((visibility("hidden")));

/* Reads-from constraints (the token's RF field): the index of a constraint that may hold a
 * trapped access of this kind (write or read) at site back before it executes, or -1.  From
 * the token alone: no lock, signal-safe. */
int wedge_serial_rf_match(int write, uint64_t site) __attribute__((visibility("hidden")));
/* Hold the calling thread before that access (memwatch's fault handler, before the access
 * executes): a scheduling point at which it is no candidate while constraint `which` is
 * unmet, unless every candidate is held.  Returns when it may go on.  Keeps errno. */
void wedge_serial_rf_hold(int which, int write, uint64_t site, const void *obj)
    __attribute__((visibility("hidden")));

/* Around a call that may block outside the model (read on a pipe, poll, waitpid, accept): a
 * scheduling point, then the call with the token kept (most return at once, and then the
 * schedule stays exact); one that blocks longer than a grace period loses the token to the
 * watchdog and takes it back afterwards.  Both keep errno. */
void wedge_serial_outside_begin(unsigned kind, uint64_t site, const void *obj)
    __attribute__((visibility("hidden")));
void wedge_serial_outside_end(void) __attribute__((visibility("hidden")));

/* futex(2) through syscall(): the private operations modeled (serial_futex.c), the others
 * outside the model.  Returns as the system call does (-1 and errno on error). */
long wedge_serial_futex(uint32_t *addr, int op, uint32_t val, const struct timespec *ts,
                        uint32_t *addr2, uint32_t val3, uint64_t site)
    __attribute__((visibility("hidden")));
/* 1 for the futex operations that wait (futex.c). */
int wedge_futex_is_wait(int op) __attribute__((visibility("hidden")));

/* The process reaches a scheduling point at nearly every step of its work (CPython's calls,
 * python.c): early expiries of timed waits are offered at a seeded share of points only. */
void wedge_serial_dense(void) __attribute__((visibility("hidden")));

/* Virtual time (serial_time.c's clock wrappers): 0 and the clock's virtual value in ns, or -1
 * if the clock is not virtual (CPU-time clocks) or serial mode is not running. */
int wedge_serial_now(clockid_t clock, int64_t *ns) __attribute__((visibility("hidden")));

/* Virtual time now (ns since start), and moving it forward to at least v: for calls outside
 * the model that waited for a timeout in real time (poll, select). */
int64_t wedge_serial_vtime(void) __attribute__((visibility("hidden")));
void wedge_serial_reach(int64_t v) __attribute__((visibility("hidden")));

#endif
