/* memwatch.h - watching plain reads and writes of shared data by page protection.
 *
 * Active when wedge_g.memory is set.  Heap objects chosen for watching are allocated from
 * memwatch's own page-aligned arena (apart from libc-internal objects); the target's
 * globals are watched in place.  A trapped access is single-stepped, the page is protected
 * again, and the access becomes an interception point right after it.
 */
#ifndef WEDGE_MEMWATCH_H
#define WEDGE_MEMWATCH_H

#include <stddef.h>
#include <signal.h>
#include <stdint.h>

#define WEDGE_MW_HIDDEN __attribute__((visibility("hidden")))

void wedge_mem_init(void) WEDGE_MW_HIDDEN;              /* process start, after core init */
void wedge_mem_after_fork_child(void) WEDGE_MW_HIDDEN;
void wedge_mem_thread_start(void) WEDGE_MW_HIDDEN;      /* first event of a new thread */
void wedge_mem_thread_exit(void) WEDGE_MW_HIDDEN;       /* past its last event */
/* Serial mode: a thread of the target is about to be made (+1; -1 if that failed) or has
 * ended (-1), called by the token holder.  With one live thread no page is protected. */
void wedge_mem_live_threads(int delta) WEDGE_MW_HIDDEN;
/* Before exec: unwatch everything (the kernel must read argv and envp). */
void wedge_mem_stop(void) WEDGE_MW_HIDDEN;

/* malloc family: return non-NULL if memwatch allocated the object itself (watched arena). */
void *wedge_mem_alloc(size_t size, size_t align, uint64_t site) WEDGE_MW_HIDDEN;
int wedge_mem_owns(const void *p) WEDGE_MW_HIDDEN;     /* p came from wedge_mem_alloc */
/* An address of wedge_mem_alloc's arena by what does not move under ASLR: its block's
 * allocation site and order, and its offset in the block's page; 0 for any other address. */
uint64_t wedge_mem_ident(const void *p) WEDGE_MW_HIDDEN;
/* The key of the watchable page holding p (wedge_page_key, a token's PAGES field names pages
 * by it); 0 if p is on no page memwatch may protect. */
uint32_t wedge_mem_page_key(const void *p) WEDGE_MW_HIDDEN;
void wedge_mem_free(void *p) WEDGE_MW_HIDDEN;
size_t wedge_mem_usable_size(const void *p) WEDGE_MW_HIDDEN;

/* Around system calls given a buffer: the range must not be protected while the kernel
 * touches it.  Returns a cookie for _io_end. */
int wedge_mem_io_begin(const void *buf, size_t len) WEDGE_MW_HIDDEN;
void wedge_mem_io_end(int cookie) WEDGE_MW_HIDDEN;
/* Around a call of libc's that cannot block (a trylock, an unlock, a post) made by the shim on
 * an object of the target's: the object's watched pages are opened for it, as for a buffer
 * (0 if none is protected: no system call at all).  Each such call trapped a handful of
 * times on the lock word (trylock 5, unlock 5: each a SIGSEGV, a SIGTRAP and two mprotect
 * calls), and libc's accesses to a lock word say nothing about the program's data.  Ended
 * by wedge_mem_io_end. */
int wedge_mem_lib_begin(const void *obj, size_t len) WEDGE_MW_HIDDEN;
#define WEDGE_MEM_LIB_CALL(obj, expr)                                                       \
    __extension__({                                                                         \
        uintptr_t mw_o_ = (uintptr_t)(obj); /* a spinlock is volatile */                    \
        int mw_lib_ = wedge_mem_lib_begin((const void *)mw_o_, sizeof *(obj));              \
        __typeof__(expr) mw_r_ = (expr);                                                    \
        wedge_mem_io_end(mw_lib_);                                                          \
        mw_r_;                                                                              \
    })
/* A copy of len bytes of the target's at src, read by the shim without a trap (a mutex's
 * kind, a condition variable's clock): through /proc/self/mem where the range may be
 * watched. */
void wedge_mem_peek(void *dst, const void *src, size_t len) WEDGE_MW_HIDDEN;

/* An explaining replay (WEDGE_WATCH_ALL) taking a mutex that lies on a page memwatch may
 * watch (_pollable: 1 if so): by trylock and short sleeps, never waiting in the kernel with
 * the page opened for the futex (which would let the holder's accesses to the page go unseen
 * for the whole wait).  0 with *r set, or -1 (watching stopped meanwhile): make the usual
 * blocking call. */
int wedge_mem_lock_pollable(pthread_mutex_t *m) WEDGE_MW_HIDDEN;
int wedge_mem_lock_poll(pthread_mutex_t *m, int *r) WEDGE_MW_HIDDEN;

/* Around pthread_create: the calling thread's system calls are let through (a thread made
 * from inside our SIGSYS handler would start there, on its own stack).  Returns what
 * wedge_mem_pass_end restores. */
int wedge_mem_pass_begin(void) WEDGE_MW_HIDDEN;
void wedge_mem_pass_end(int prev) WEDGE_MW_HIDDEN;

/* sigaction/signal wrappers: the target's SIGSEGV/SIGTRAP handlers are chained. Return 1 if
 * memwatch handled the call (result in *rc), 0 to pass it to the real function. */
int wedge_mem_sigaction(int sig, const struct sigaction *act, struct sigaction *old, int *rc)
    WEDGE_MW_HIDDEN;

#endif
