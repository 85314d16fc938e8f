/* serial.c - placeholder: serial mode not built yet (issue 3); everything passes through. */
#include "shim.h"
#include <errno.h>

void wedge_serial_init(void) {}
void wedge_serial_after_fork_child(void) {}
int wedge_serial_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg,
                        uint64_t site) { return EINVAL; }
int wedge_serial_join(pthread_t t, void **ret, const struct timespec *abstime, int try_only,
                      uint64_t site) { return REAL(pthread_join)(t, ret); }
int wedge_serial_detach(pthread_t t, uint64_t site) { return REAL(pthread_detach)(t); }
void wedge_serial_exit(void *ret, uint64_t site) { REAL(pthread_exit)(ret); __builtin_unreachable(); }
int wedge_serial_once(pthread_once_t *once, void (*fn)(void), uint64_t site) { return REAL(pthread_once)(once, fn); }
int wedge_serial_mutex_lock(pthread_mutex_t *m, const struct timespec *abstime, int try_only,
                            uint64_t site) { return try_only ? REAL(pthread_mutex_trylock)(m) : REAL(pthread_mutex_lock)(m); }
int wedge_serial_mutex_unlock(pthread_mutex_t *m, uint64_t site) { return REAL(pthread_mutex_unlock)(m); }
int wedge_serial_rwlock_lock(pthread_rwlock_t *l, int write, const struct timespec *abstime,
                             int try_only, uint64_t site) { return write ? REAL(pthread_rwlock_wrlock)(l) : REAL(pthread_rwlock_rdlock)(l); }
int wedge_serial_rwlock_unlock(pthread_rwlock_t *l, uint64_t site) { return REAL(pthread_rwlock_unlock)(l); }
int wedge_serial_cond_wait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clock,
                           const struct timespec *abstime, uint64_t site)
{ return abstime ? REAL(pthread_cond_timedwait)(c, m, abstime) : REAL(pthread_cond_wait)(c, m); }
int wedge_serial_cond_signal(pthread_cond_t *c, int broadcast, uint64_t site)
{ return broadcast ? REAL(pthread_cond_broadcast)(c) : REAL(pthread_cond_signal)(c); }
int wedge_serial_sem_wait(sem_t *s, const struct timespec *abstime, int try_only, uint64_t site) { return REAL(sem_wait)(s); }
int wedge_serial_sem_post(sem_t *s, uint64_t site) { return REAL(sem_post)(s); }
int wedge_serial_barrier_init(pthread_barrier_t *b, const pthread_barrierattr_t *a, unsigned count,
                              uint64_t site) { return REAL(pthread_barrier_init)(b, a, count); }
int wedge_serial_barrier_destroy(pthread_barrier_t *b, uint64_t site) { return REAL(pthread_barrier_destroy)(b); }
int wedge_serial_barrier_wait(pthread_barrier_t *b, uint64_t site) { return REAL(pthread_barrier_wait)(b); }
int wedge_serial_spin_lock(pthread_spinlock_t *s, int try_only, uint64_t site) { return REAL(pthread_spin_lock)(s); }
int wedge_serial_spin_unlock(pthread_spinlock_t *s, uint64_t site) { return REAL(pthread_spin_unlock)(s); }
int wedge_serial_yield(uint64_t site) { return REAL(sched_yield)(); }
int wedge_serial_sleep(clockid_t clock, int flags, const struct timespec *req, uint64_t site)
{ return REAL(clock_nanosleep)(clock, flags, req, NULL); }
void wedge_serial_point(unsigned kind, uint64_t site, const void *obj, uint64_t aux) {}
void wedge_serial_outside_begin(unsigned kind, uint64_t site, const void *obj) {}
void wedge_serial_outside_end(void) {}
