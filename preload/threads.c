/* threads.c - pthread_create/join/detach/exit/once.
 *
 * pthread_create goes through a trampoline that registers the new thread (ordinal, trace
 * slot) before user code runs, so that its first event already carries its identity.
 */
#include "shim.h"

#include <errno.h>
#include <stdlib.h>

struct start {
    void *(*fn)(void *);
    void *arg;
    uint32_t ordinal;
    uint32_t stack_size; /* the attribute's, 0: the default */
};

static void thread_done(void)
{
    wedge_record(WEDGE_EV_THREAD_EXIT, 0, NULL, 0, WEDGE_ACT_NONE, 0, 0);
    wedge_set_exited();
    if (wedge_g.memory)
        wedge_mem_thread_exit();
    /* TLS destructors and the C library's own exit work run after this: pass them through */
    wedge_self.exiting = 1;
}

/* A cancelled thread unwinds through the trampoline and never returns to it. */
static void trampoline_unwound(void *p)
{
    (void)p;
    if (wedge_g.active && !wedge_self.exiting) {
        wedge_self.depth = 1;
        thread_done();
        wedge_self.depth = 0;
    }
}

static void *trampoline(void *p)
{
    struct start st = *(struct start *)p;
    REAL(free)(p);
    wedge_thread_register(st.ordinal);
    wedge_thread_stack_size(st.stack_size);
    if (wedge_g.active) {
        wedge_self.depth++;
        if (wedge_g.memory)
            wedge_mem_thread_start();
        wedge_noise_thread_start(wedge_site_of((const void *)st.fn));
        wedge_self.depth--;
    }
    void *ret;
    pthread_cleanup_push(trampoline_unwound, NULL);
    ret = st.fn(st.arg);
    pthread_cleanup_pop(0);
    if (wedge_g.active && !wedge_self.exiting) {
        wedge_self.depth++;
        thread_done();
        wedge_self.depth--;
    }
    return ret;
}

static int create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg,
                  uint64_t site)
{
    wedge_note_stack_frame(arg);
    if (wedge_g.serial) {
        wedge_py_attach();
        wedge_mem_live_threads(1); /* (nothing without watching) */
        int r = wedge_serial_create(t, attr, fn, arg, site);
        if (r)
            wedge_mem_live_threads(-1);
        return r;
    }
    struct start *st = REAL(malloc)(sizeof *st);
    if (!st)
        return EAGAIN;
    st->fn = fn;
    st->arg = arg;
    st->ordinal = atomic_fetch_add(&wedge_g.next_thread_ordinal, 1);
    st->stack_size = wedge_attr_stack_size(attr);
    wedge_noise_point(WEDGE_EV_CREATE, site, NULL, st->ordinal);
    int r = REAL(pthread_create)(t, attr, trampoline, st);
    if (r)
        REAL(free)(st);
    return r;
}

WEDGE_EXPORT int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
                                void *arg)
{
    if (!wedge_enter())
        return REAL(pthread_create)(t, attr, fn, arg);
    uint64_t site = wedge_site_of(WEDGE_CALLER_PC());
    int io_t = 0, io_attr = 0, pass = -1;
    if (wedge_g.memory) {
        /* glibc reads *attr and writes *t with every signal blocked (around clone): on a
         * watched page that would fault with SIGSEGV blocked, which kills.  Its system calls
         * are let through (memwatch_sud.c: the thread must not start in our handler). */
        io_t = wedge_mem_io_begin(t, sizeof *t);
        io_attr = attr ? wedge_mem_io_begin(attr, sizeof *attr) : 0;
        pass = wedge_mem_pass_begin();
    }
    int r = create(t, attr, fn, arg, site);
    if (wedge_g.memory) {
        wedge_mem_pass_end(pass);
        wedge_mem_io_end(io_attr);
        wedge_mem_io_end(io_t);
    }
    wedge_leave();
    return r;
}

static int join(pthread_t t, void **ret, const struct timespec *abstime, int try_only,
                uint64_t site)
{
    int r;
    if (wedge_g.serial)
        return wedge_serial_join(t, ret, abstime, try_only, site);
    wedge_noise_point(WEDGE_EV_JOIN, site, (void *)t, 0);
    wedge_set_blocked(WEDGE_EV_JOIN, (void *)t, site);
    if (try_only)
        r = REAL(pthread_tryjoin_np)(t, ret);
    else if (abstime)
        r = REAL(pthread_timedjoin_np)(t, ret, abstime);
    else
        r = REAL(pthread_join)(t, ret);
    wedge_set_running();
    return r;
}

WEDGE_EXPORT int pthread_join(pthread_t t, void **ret)
{
    if (!wedge_enter())
        return REAL(pthread_join)(t, ret);
    int r = join(t, ret, NULL, 0, wedge_site_of(WEDGE_CALLER_PC()));
    wedge_leave();
    return r;
}

WEDGE_EXPORT int pthread_timedjoin_np(pthread_t t, void **ret, const struct timespec *abstime)
{
    if (!wedge_enter())
        return REAL(pthread_timedjoin_np)(t, ret, abstime);
    int r = join(t, ret, abstime, 0, wedge_site_of(WEDGE_CALLER_PC()));
    wedge_leave();
    return r;
}

WEDGE_EXPORT int pthread_tryjoin_np(pthread_t t, void **ret)
{
    if (!wedge_enter())
        return REAL(pthread_tryjoin_np)(t, ret);
    int r = join(t, ret, NULL, 1, wedge_site_of(WEDGE_CALLER_PC()));
    wedge_leave();
    return r;
}

WEDGE_EXPORT int pthread_detach(pthread_t t)
{
    if (!wedge_enter())
        return REAL(pthread_detach)(t);
    uint64_t site = wedge_site_of(WEDGE_CALLER_PC());
    int r;
    if (wedge_g.serial) {
        r = wedge_serial_detach(t, site);
    } else {
        wedge_noise_point(WEDGE_EV_DETACH, site, (void *)t, 0);
        r = REAL(pthread_detach)(t);
    }
    wedge_leave();
    return r;
}

WEDGE_EXPORT void pthread_exit(void *ret)
{
    if (wedge_enter()) {
        uint64_t site = wedge_site_of(WEDGE_CALLER_PC());
        if (wedge_g.serial)
            wedge_serial_exit(ret, site); /* does not return */
        thread_done();
        wedge_leave();
    }
    REAL(pthread_exit)(ret);
    __builtin_unreachable();
}

WEDGE_EXPORT int pthread_once(pthread_once_t *once, void (*fn)(void))
{
    if (!wedge_enter())
        return REAL(pthread_once)(once, fn);
    uint64_t site = wedge_site_of(WEDGE_CALLER_PC());
    int r;
    if (wedge_g.serial) {
        r = wedge_serial_once(once, fn, site);
    } else {
        wedge_noise_point(WEDGE_EV_ONCE, site, once, 0);
        /* fn runs user code: let its calls be interception points again */
        wedge_leave();
        /* memwatch: a waiter futex-waits on the once word; open its page for the call */
        int mw = wedge_g.memory ? wedge_mem_io_begin(once, sizeof *once) : 0;
        r = REAL(pthread_once)(once, fn);
        if (mw)
            wedge_mem_io_end(mw);
        return r;
    }
    wedge_leave();
    return r;
}

/* ---- cancellation ---- */

void wedge_cancel_hold(void)
{
    REAL(pthread_setcanceltype)(PTHREAD_CANCEL_DEFERRED, NULL);
}

void wedge_cancel_release(void)
{
    /* glibc acts here on a request that came while the thread was inside the shim */
    REAL(pthread_setcanceltype)(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
}

WEDGE_EXPORT int pthread_cancel(pthread_t t)
{
    if (!wedge_enter())
        return REAL(pthread_cancel)(t);
    uint64_t site = wedge_site_of(WEDGE_CALLER_PC());
    int r;
    if (wedge_g.serial) {
        r = wedge_serial_cancel(t, site);
    } else {
        wedge_noise_point(WEDGE_EV_CANCEL, site, (void *)t, 0);
        r = REAL(pthread_cancel)(t);
    }
    /* a thread cancelling itself asynchronously unwinds here, outside the shim */
    wedge_leave();
    return r;
}

WEDGE_EXPORT void pthread_testcancel(void)
{
    if (!wedge_enter()) {
        REAL(pthread_testcancel)();
        return;
    }
    uint64_t site = wedge_site_of(WEDGE_CALLER_PC());
    if (wedge_g.serial)
        wedge_serial_testcancel(site);
    else
        wedge_noise_point(WEDGE_EV_TESTCANCEL, site, NULL, 0);
    wedge_leave();
    /* outside the shim: the cleanup handlers the unwinding runs are scheduled as usual */
    REAL(pthread_testcancel)();
}

WEDGE_EXPORT int pthread_setcanceltype(int type, int *oldtype)
{
    if (!wedge_enter())
        return REAL(pthread_setcanceltype)(type, oldtype);
    if (type != PTHREAD_CANCEL_DEFERRED && type != PTHREAD_CANCEL_ASYNCHRONOUS) {
        wedge_leave();
        return EINVAL;
    }
    /* the program's type, not the one the shim holds while inside (wedge_cancel_hold) */
    if (oldtype)
        *oldtype = wedge_self.cancel_async ? PTHREAD_CANCEL_ASYNCHRONOUS : PTHREAD_CANCEL_DEFERRED;
    int async = type == PTHREAD_CANCEL_ASYNCHRONOUS;
    if (wedge_g.serial)
        wedge_serial_set_async(async);
    wedge_self.cancel_async = async;
    /* the real type is deferred now; wedge_leave sets asynchronous (and acts) if asked */
    REAL(pthread_setcanceltype)(PTHREAD_CANCEL_DEFERRED, NULL);
    wedge_leave();
    return 0;
}
