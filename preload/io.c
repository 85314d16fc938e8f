/* io.c - read/write, pread/pwrite, send/recv, fsync, fcntl locks, and the calls that wait on
 * something outside the model (poll, select, accept, waitpid).
 *
 * These are where check-then-act windows between processes live (a SELECT then an UPDATE of
 * one SQLite file from two processes).  Buffers handed to the kernel are unwatched around the
 * call (memwatch), or the kernel would fail them with EFAULT instead of trapping.
 * Serial mode: a call on a regular file is a plain scheduling point; a call that may block
 * (pipes, sockets, terminals, waits) gives the run token up and takes it back afterwards.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>

static int may_block(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return 1;
    return !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode));
}

/* Before the call: the interception point.  Returns whether the call went "outside". */
static int io_begin(unsigned kind, uint64_t site, int fd, size_t len, int blocking_kind)
{
    if (!wedge_g.serial) {
        wedge_noise_point(kind, site, NULL, ((uint64_t)(uint32_t)fd << 32) | (uint32_t)len);
        return 0;
    }
    if (blocking_kind && (fd < 0 || may_block(fd))) {
        wedge_serial_outside_begin(kind, site, NULL);
        return 1;
    }
    wedge_serial_point(kind, site, NULL, ((uint64_t)(uint32_t)fd << 32) | (uint32_t)len);
    return 0;
}

static void io_end(int outside)
{
    if (outside)
        wedge_serial_outside_end();
}

#define BUFFER_CALL(kind, fd, buf, len, blocking, call)                                      \
    do {                                                                                     \
        int outside_ = io_begin(kind, wedge_site_of(WEDGE_CALLER_PC()), fd, len, blocking);  \
        int cookie_ = wedge_g.memory ? wedge_mem_io_begin(buf, len) : 0;                     \
        r = call;                                                                            \
        int saved_ = errno;                                                                  \
        if (wedge_g.memory)                                                                  \
            wedge_mem_io_end(cookie_);                                                       \
        io_end(outside_);                                                                    \
        errno = saved_;                                                                      \
    } while (0)

WEDGE_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
    if (!wedge_enter())
        return REAL(read)(fd, buf, len);
    ssize_t r;
    BUFFER_CALL(WEDGE_EV_READ, fd, buf, len, 1, REAL(read)(fd, buf, len));
    wedge_leave();
    return r;
}

WEDGE_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
    if (!wedge_enter())
        return REAL(write)(fd, buf, len);
    ssize_t r;
    BUFFER_CALL(WEDGE_EV_WRITE, fd, buf, len, 1, REAL(write)(fd, buf, len));
    wedge_leave();
    return r;
}

WEDGE_EXPORT ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
    if (!wedge_enter())
        return REAL(pread)(fd, buf, len, off);
    ssize_t r;
    BUFFER_CALL(WEDGE_EV_READ, fd, buf, len, 0, REAL(pread)(fd, buf, len, off));
    wedge_leave();
    return r;
}

WEDGE_EXPORT ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
    if (!wedge_enter())
        return REAL(pwrite)(fd, buf, len, off);
    ssize_t r;
    BUFFER_CALL(WEDGE_EV_WRITE, fd, buf, len, 0, REAL(pwrite)(fd, buf, len, off));
    wedge_leave();
    return r;
}

WEDGE_EXPORT ssize_t pread64(int fd, void *buf, size_t len, off_t off)
{
    if (!wedge_enter())
        return REAL(pread64)(fd, buf, len, off);
    ssize_t r;
    BUFFER_CALL(WEDGE_EV_READ, fd, buf, len, 0, REAL(pread64)(fd, buf, len, off));
    wedge_leave();
    return r;
}

WEDGE_EXPORT ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
    if (!wedge_enter())
        return REAL(pwrite64)(fd, buf, len, off);
    ssize_t r;
    BUFFER_CALL(WEDGE_EV_WRITE, fd, buf, len, 0, REAL(pwrite64)(fd, buf, len, off));
    wedge_leave();
    return r;
}

WEDGE_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    if (!wedge_enter())
        return REAL(send)(fd, buf, len, flags);
    ssize_t r;
    BUFFER_CALL(WEDGE_EV_WRITE, fd, buf, len, 1, REAL(send)(fd, buf, len, flags));
    wedge_leave();
    return r;
}

WEDGE_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    if (!wedge_enter())
        return REAL(recv)(fd, buf, len, flags);
    ssize_t r;
    BUFFER_CALL(WEDGE_EV_READ, fd, buf, len, 1, REAL(recv)(fd, buf, len, flags));
    wedge_leave();
    return r;
}

WEDGE_EXPORT int fsync(int fd)
{
    if (!wedge_enter())
        return REAL(fsync)(fd);
    int r;
    BUFFER_CALL(WEDGE_EV_FSYNC, fd, NULL, 0, 0, REAL(fsync)(fd));
    wedge_leave();
    return r;
}

WEDGE_EXPORT int fdatasync(int fd)
{
    if (!wedge_enter())
        return REAL(fdatasync)(fd);
    int r;
    BUFFER_CALL(WEDGE_EV_FSYNC, fd, NULL, 0, 0, REAL(fdatasync)(fd));
    wedge_leave();
    return r;
}

/* fcntl: only record locks are interception points; every argument of fcntl is an int or a
 * pointer, which the x86-64 ABI passes the same way, so one word carries it through. */
static int is_lock_cmd(int cmd)
{
    return cmd == F_SETLK || cmd == F_SETLKW || cmd == F_GETLK || cmd == F_OFD_SETLK ||
           cmd == F_OFD_SETLKW || cmd == F_OFD_GETLK;
}

static int fcntl_common(int (*real)(int, int, ...), int fd, int cmd, void *arg, const void *pc)
{
    if (!is_lock_cmd(cmd) || !wedge_enter())
        return real(fd, cmd, arg);
    int blocking = cmd == F_SETLKW || cmd == F_OFD_SETLKW;
    int r;
    uint64_t site = wedge_site_of(pc);
    int outside = 0;
    if (wedge_g.serial) {
        if (blocking) {
            wedge_serial_outside_begin(WEDGE_EV_FCNTL_LOCK, site, NULL);
            outside = 1;
        } else {
            wedge_serial_point(WEDGE_EV_FCNTL_LOCK, site, NULL, (uint64_t)fd);
        }
    } else {
        wedge_noise_point(WEDGE_EV_FCNTL_LOCK, site, NULL, (uint64_t)fd);
        if (blocking)
            wedge_set_blocked(WEDGE_EV_FCNTL_LOCK, NULL, site);
    }
    r = real(fd, cmd, arg);
    int saved = errno;
    if (outside)
        wedge_serial_outside_end();
    else if (blocking)
        wedge_set_running();
    wedge_leave();
    errno = saved;
    return r;
}

WEDGE_EXPORT int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_common(REAL(fcntl), fd, cmd, arg, WEDGE_CALLER_PC());
}

WEDGE_EXPORT int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_common(REAL(fcntl64) ? REAL(fcntl64) : REAL(fcntl), fd, cmd, arg,
                        WEDGE_CALLER_PC());
}

/* ---- calls that wait on the outside world ---- */

#define OUTSIDE_CALL(kind, call)                                                             \
    do {                                                                                     \
        uint64_t site_ = wedge_site_of(WEDGE_CALLER_PC());                                   \
        if (wedge_g.serial) {                                                                \
            wedge_serial_outside_begin(kind, site_, NULL);                                   \
            r = call;                                                                        \
            int saved_ = errno;                                                              \
            wedge_serial_outside_end();                                                      \
            errno = saved_;                                                                  \
        } else {                                                                             \
            wedge_set_blocked(kind, NULL, site_);                                            \
            r = call;                                                                        \
            wedge_set_running();                                                             \
        }                                                                                    \
    } while (0)

/* poll and select with a timeout: a short one may expire early (timeouts.c), and one that
 * expired leaves the program's clock past it: in noise mode by moving the run's clocks if it
 * was cut short, in serial mode by moving virtual time (the real wait took wall time that
 * virtual time did not see).  tmo: the timeout in ns, -1 for none.  Returns the ns to wait
 * for real instead, or -1. */
struct timed_call {
    int64_t tmo, early, start;
    const void *obj; /* the call site stands for the object waited on */
};

static struct timed_call timed_begin(uint64_t site, int64_t tmo)
{
    struct timed_call tc = { tmo, -1, 0, (const void *)(uintptr_t)site };
    if (tmo <= 0)
        return tc;
    tc.early = wedge_early_wait(site, tc.obj, tmo);
    tc.start = wedge_g.serial ? wedge_serial_vtime() : wedge_clock_now(CLOCK_MONOTONIC);
    return tc;
}

static void timed_end(const struct timed_call *tc, int timed_out)
{
    if (tc->tmo <= 0)
        return;
    wedge_early_done(tc->obj, timed_out && tc->early >= 0);
    if (!timed_out)
        return;
    if (wedge_g.serial)
        wedge_serial_reach(tc->start + tc->tmo);
    else if (tc->early >= 0)
        wedge_clock_reach(CLOCK_MONOTONIC, tc->start + tc->tmo);
}

WEDGE_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    if (!wedge_enter())
        return REAL(poll)(fds, n, timeout);
    int r;
    struct timed_call tc = timed_begin(wedge_site_of(WEDGE_CALLER_PC()),
                                       timeout > 0 ? (int64_t)timeout * 1000000 : -1);
    int t = tc.early >= 0 ? (int)(tc.early / 1000000) : timeout;
    OUTSIDE_CALL(WEDGE_EV_BLOCKING_CALL, REAL(poll)(fds, n, t));
    timed_end(&tc, r == 0);
    wedge_leave();
    return r;
}

WEDGE_EXPORT int select(int n, fd_set *r_, fd_set *w, fd_set *e, struct timeval *tv)
{
    if (!wedge_enter())
        return REAL(select)(n, r_, w, e, tv);
    int r;
    int64_t tmo = tv && tv->tv_sec >= 0 && tv->tv_usec >= 0
                      ? (int64_t)tv->tv_sec * 1000000000LL + (int64_t)tv->tv_usec * 1000
                      : -1;
    struct timed_call tc = timed_begin(wedge_site_of(WEDGE_CALLER_PC()), tmo);
    if (tc.early >= 0) {
        /* Linux updates the timeval to the time not slept: report none left */
        struct timeval cut = { (time_t)(tc.early / 1000000000LL),
                               (suseconds_t)(tc.early % 1000000000LL / 1000) };
        OUTSIDE_CALL(WEDGE_EV_BLOCKING_CALL, REAL(select)(n, r_, w, e, &cut));
        if (r == 0)
            *tv = (struct timeval){ 0, 0 };
    } else {
        OUTSIDE_CALL(WEDGE_EV_BLOCKING_CALL, REAL(select)(n, r_, w, e, tv));
    }
    timed_end(&tc, r == 0);
    wedge_leave();
    return r;
}

/* epoll_wait, epoll_pwait (timeout in ms) and epoll_pwait2 (a timespec): as poll.  The kernel
 * writes the events array: not on a watched page (memwatch). */
enum { EP_WAIT, EP_PWAIT, EP_PWAIT2 };

static int epoll_timed(int which, int ep, struct epoll_event *ev, int max, int ms,
                       const struct timespec *ts, const sigset_t *mask, uint64_t site)
{
    int64_t tmo = which != EP_PWAIT2 ? (ms > 0 ? (int64_t)ms * 1000000 : -1)
                  : ts && ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000L
                      ? wedge_ts_ns(ts)
                      : -1;
    struct timed_call tc = timed_begin(site, tmo);
    struct timespec cut;
    if (tc.early >= 0) {
        ms = (int)(tc.early / 1000000);
        cut = wedge_ns_ts(tc.early);
        ts = &cut;
    }
    if (wedge_g.serial) {
        wedge_serial_outside_begin(WEDGE_EV_BLOCKING_CALL, site, NULL);
    } else {
        wedge_noise_point(WEDGE_EV_BLOCKING_CALL, site, NULL, (uint64_t)(uint32_t)ep);
        wedge_set_blocked(WEDGE_EV_BLOCKING_CALL, NULL, site);
    }
    int mw = wedge_g.memory && ev && max > 0 ? wedge_mem_io_begin(ev, (size_t)max * sizeof *ev) : 0;
    int r;
    if (which == EP_WAIT)
        r = REAL(epoll_wait)(ep, ev, max, ms);
    else if (which == EP_PWAIT)
        r = REAL(epoll_pwait)(ep, ev, max, ms, mask);
    else if (REAL(epoll_pwait2))
        r = REAL(epoll_pwait2)(ep, ev, max, ts, mask);
    else {
        r = -1; /* a C library without it: what a call to its own would say */
        errno = ENOSYS;
    }
    int saved = errno;
    if (mw)
        wedge_mem_io_end(mw);
    if (wedge_g.serial)
        wedge_serial_outside_end();
    else
        wedge_set_running();
    timed_end(&tc, r == 0);
    errno = saved;
    return r;
}

WEDGE_EXPORT int epoll_wait(int ep, struct epoll_event *ev, int max, int ms)
{
    if (!wedge_enter())
        return REAL(epoll_wait)(ep, ev, max, ms);
    int r = epoll_timed(EP_WAIT, ep, ev, max, ms, NULL, NULL, wedge_site_of(WEDGE_CALLER_PC()));
    wedge_leave();
    return r;
}

WEDGE_EXPORT int epoll_pwait(int ep, struct epoll_event *ev, int max, int ms, const sigset_t *mask)
{
    if (!wedge_enter())
        return REAL(epoll_pwait)(ep, ev, max, ms, mask);
    int r = epoll_timed(EP_PWAIT, ep, ev, max, ms, NULL, mask, wedge_site_of(WEDGE_CALLER_PC()));
    wedge_leave();
    return r;
}

WEDGE_EXPORT int epoll_pwait2(int ep, struct epoll_event *ev, int max, const struct timespec *ts,
                              const sigset_t *mask)
{
    if (!wedge_enter()) {
        if (!REAL(epoll_pwait2)) {
            errno = ENOSYS;
            return -1;
        }
        return REAL(epoll_pwait2)(ep, ev, max, ts, mask);
    }
    int r = epoll_timed(EP_PWAIT2, ep, ev, max, 0, ts, mask, wedge_site_of(WEDGE_CALLER_PC()));
    wedge_leave();
    return r;
}

WEDGE_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    if (!wedge_enter())
        return REAL(accept)(fd, addr, len);
    int r;
    OUTSIDE_CALL(WEDGE_EV_BLOCKING_CALL, REAL(accept)(fd, addr, len));
    wedge_leave();
    return r;
}

WEDGE_EXPORT pid_t waitpid(pid_t pid, int *status, int options)
{
    if (!wedge_enter())
        return REAL(waitpid)(pid, status, options);
    pid_t r;
    OUTSIDE_CALL(WEDGE_EV_BLOCKING_CALL, REAL(waitpid)(pid, status, options));
    wedge_leave();
    return r;
}

WEDGE_EXPORT pid_t wait(int *status)
{
    if (!wedge_enter())
        return REAL(wait)(status);
    pid_t r;
    OUTSIDE_CALL(WEDGE_EV_BLOCKING_CALL, REAL(wait)(status));
    wedge_leave();
    return r;
}
