/* memwatch_sud.c - every system call safe while pages are watched, whoever makes it.
 *
 * The kernel does not fault into our handler: a system call given a pointer into a protected
 * page fails with EFAULT (a read into it loses the data).  The shim's wrappers open their own
 * buffers, but libc makes most system calls on its own: stdio's read into the caller's
 * buffer, stat into a global struct, nanosleep on a global timespec, getdents, futex on a
 * lock word.  Syscall user dispatch (prctl(PR_SET_SYSCALL_USER_DISPATCH), Linux 5.11) raises
 * SIGSYS for every system call made outside one code range, before the kernel runs it; our
 * range is the shim's own code.  The handler opens the pages the call's pointer arguments
 * reach (a table by system call number below; a call not in it opens every page while it
 * runs), makes the call itself from our code, and returns its result in the interrupted
 * context.  A thread's selector byte (mw_sel[], per memwatch thread) lets its calls through
 * while the shim itself works (our handlers, the lock, pthread_create).
 *
 * Why dispatch and not a seccomp filter (SECCOMP_RET_TRAP): a filter can never be removed, is
 * inherited across fork and exec (the next image, without our handler, would be killed by the
 * first trapped call) and needs no_new_privs, which changes what setuid children may do.
 * Dispatch ends at exec and is not inherited by children or threads (measured on this kernel),
 * and is switched off for good when watching stops (trap budget spent).  A run without
 * --watch mem never enables it.
 *
 * Calls whose meaning depends on the context they are made in:
 *   rt_sigreturn (a handler of the target's returning through libc's restorer): made from our
 *     code with the interrupted stack pointer, i.e. for the frame it was meant for;
 *   rt_sigprocmask: applied to the mask our handler returns to, not to the handler's;
 *   sigaltstack: the new stack also goes into the context (rt_sigreturn would restore the old);
 *   rt_sigaction of SIGSEGV, SIGTRAP, SIGSYS: remembered and chained, ours stay installed;
 *   clone/clone3 of a thread, vfork (the child would start inside this handler, on another
 *     stack): watching stops for good and the call is made again at its own place, let
 *     through; pthread_create (our wrapper) lets its calls through instead and watching goes
 *     on.  A fork-like clone is made here: both processes return through the handler.
 * No mask may block SIGSYS, SIGSEGV or SIGTRAP (a synchronous signal that arrives blocked kills
 * the process): they are taken out of every mask the target sets through a system call.
 */
#define _GNU_SOURCE
#include "memwatch_int.h"

#include <errno.h>
#include <link.h>
#include <sched.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_OFF 0
#define PR_SYS_DISPATCH_ON 1
#endif
#define SEL_ALLOW 0 /* SYSCALL_DISPATCH_FILTER_ALLOW */
#define SEL_BLOCK 1 /* SYSCALL_DISPATCH_FILTER_BLOCK */
#ifndef SYS_USER_DISPATCH
#define SYS_USER_DISPATCH 2 /* si_code of a dispatched system call */
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif

char mw_sel[MW_THREADS];

enum { SUD_NONE = 0, SUD_ON, SUD_STOPPED };

char mw_sel_pass(void)
{
    struct mw_thread *me = wedge_self.mem;
    if (!me)
        return SEL_ALLOW;
    char prev = mw_sel[me->idx];
    __atomic_store_n(&mw_sel[me->idx], SEL_ALLOW, __ATOMIC_RELAXED);
    __atomic_signal_fence(__ATOMIC_SEQ_CST); /* the kernel reads it at our next call */
    return prev;
}

void mw_sel_restore(char prev)
{
    struct mw_thread *me = wedge_self.mem;
    if (!me)
        return;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    __atomic_store_n(&mw_sel[me->idx], mw.sud == SUD_ON ? prev : SEL_ALLOW, __ATOMIC_RELAXED);
}

int wedge_mem_pass_begin(void)
{
    return mw.sud == SUD_ON ? mw_sel_pass() : -1;
}

void wedge_mem_pass_end(int prev)
{
    if (prev >= 0)
        mw_sel_restore((char)prev);
}

void mw_sud_off(void)
{
    if (mw.sud != SUD_ON)
        return;
    mw.sud = SUD_STOPPED;
    uint32_t n = atomic_load(&mw.nthreads);
    for (uint32_t i = 0; i < n && i < MW_THREADS; i++)
        __atomic_store_n(&mw_sel[i], SEL_ALLOW, __ATOMIC_RELAXED);
}

void mw_sud_thread(struct mw_thread *me)
{
    if (mw.sud != SUD_ON)
        return;
    mw_sel[me->idx] = SEL_BLOCK;
    long r = wedge_sys6(SYS_prctl, PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, (long)mw.sud_lo,
                     (long)(mw.sud_hi - mw.sud_lo), (long)&mw_sel[me->idx], 0);
    if (r != 0) {
        /* this thread's calls cannot be made safe: nobody's pages may stay protected */
        uint64_t m;
        mw_sel[me->idx] = SEL_ALLOW;
        mw_lock(&m);
        mw_stop_all();
        mw_unlock(m);
    }
}

/* Our code: the executable segment of the module this function is in. */
static int find_own_text(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    uintptr_t self = (uintptr_t)&find_own_text;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && self >= lo &&
            self < lo + ph->p_memsz) {
            ((uintptr_t *)data)[0] = lo;
            ((uintptr_t *)data)[1] = lo + ph->p_memsz;
            return 1;
        }
    }
    return 0;
}

void mw_sud_init(void)
{
    uintptr_t text[2] = { 0, 0 };
    struct mw_thread *me = mw_me();
    if (!mw.installed || !me)
        return;
    dl_iterate_phdr(find_own_text, text);
    if (!text[0])
        return;
    mw.sud_lo = text[0];
    mw.sud_hi = text[1];
    /* SA_NODEFER: a handler of the target's that runs while we wait in a call for it (a read
     * on a pipe) makes system calls of its own, which must not find SIGSYS blocked. */
    if (mw_install(SIGSYS, mw_on_sigsys, SA_NODEFER, 0, &mw.user[2]) != 0)
        return;
    mw_sel[me->idx] = SEL_BLOCK;
    if (wedge_sys6(SYS_prctl, PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, (long)mw.sud_lo,
                (long)(mw.sud_hi - mw.sud_lo), (long)&mw_sel[me->idx], 0) != 0) {
        /* an older kernel: only the calls our wrappers make are safe */
        mw_sel[me->idx] = SEL_ALLOW;
        REAL(sigaction)(SIGSYS, &mw.user[2], NULL);
        return;
    }
    mw.sud = SUD_ON;
}

/* ------------------------------------------------------------------------------------------ */
/* which arguments of which system call point to memory, and how much of it */

struct sud_arg {
    uint8_t arg1;   /* argument index + 1; 0: end of the list */
    uint8_t len1;   /* index + 1 of the argument that gives the length; 0: fixed */
    uint8_t mul;    /* the length argument counts elements of this size */
    uint16_t fixed; /* length when fixed */
};
struct sud_spec {
    uint8_t known;  /* 0: not in the table, open every page */
    uint8_t hold;   /* pointers to pointers (iovec, msghdr, argv): open every page */
    struct sud_arg p[5];
};

#define L(i, j) { (i) + 1, (j) + 1, 1, 0 }
#define M(i, j, m) { (i) + 1, (j) + 1, m, 0 }
#define F(i, n) { (i) + 1, 0, 1, n }
#define S(i) F(i, 4096) /* a path: the kernel reads at most PATH_MAX bytes */
#define ARGS(...) { 1, 0, { __VA_ARGS__ } }
#define NONE { 1, 0, { { 0, 0, 0, 0 } } }
#define HOLD { 1, 1, { { 0, 0, 0, 0 } } }
#define STAT 144 /* struct stat */

static const struct sud_spec specs[] = {
    [SYS_read] = ARGS(L(1, 2)), [SYS_write] = ARGS(L(1, 2)), [SYS_open] = ARGS(S(0)),
    [SYS_close] = NONE, [SYS_stat] = ARGS(S(0), F(1, STAT)), [SYS_fstat] = ARGS(F(1, STAT)),
    [SYS_lstat] = ARGS(S(0), F(1, STAT)), [SYS_poll] = ARGS(M(0, 1, 8)), [SYS_lseek] = NONE,
    [SYS_mmap] = NONE, [SYS_mprotect] = NONE, [SYS_munmap] = NONE, [SYS_brk] = NONE,
    [SYS_rt_sigaction] = ARGS(F(1, 32), F(2, 32)), [SYS_rt_sigprocmask] = ARGS(F(1, 8), F(2, 8)),
    [SYS_ioctl] = ARGS(F(2, 256)), [SYS_pread64] = ARGS(L(1, 2)), [SYS_pwrite64] = ARGS(L(1, 2)),
    [SYS_readv] = HOLD, [SYS_writev] = HOLD, [SYS_access] = ARGS(S(0)), [SYS_pipe] = ARGS(F(0, 8)),
    [SYS_select] = ARGS(F(1, 128), F(2, 128), F(3, 128), F(4, 16)), [SYS_sched_yield] = NONE,
    [SYS_mremap] = NONE, [SYS_msync] = NONE, [SYS_madvise] = NONE, [SYS_dup] = NONE,
    [SYS_dup2] = NONE, [SYS_pause] = NONE, [SYS_nanosleep] = ARGS(F(0, 16), F(1, 16)),
    [SYS_getitimer] = ARGS(F(1, 32)), [SYS_alarm] = NONE, [SYS_setitimer] = ARGS(F(1, 32), F(2, 32)),
    [SYS_getpid] = NONE, [SYS_sendfile] = ARGS(F(2, 8)), [SYS_socket] = NONE,
    [SYS_connect] = ARGS(L(1, 2)), [SYS_accept] = ARGS(F(1, 128), F(2, 4)),
    [SYS_sendto] = ARGS(L(1, 2), L(4, 5)), [SYS_recvfrom] = ARGS(L(1, 2), F(4, 128), F(5, 4)),
    [SYS_sendmsg] = HOLD, [SYS_recvmsg] = HOLD, [SYS_shutdown] = NONE, [SYS_bind] = ARGS(L(1, 2)),
    [SYS_listen] = NONE, [SYS_getsockname] = ARGS(F(1, 128), F(2, 4)),
    [SYS_getpeername] = ARGS(F(1, 128), F(2, 4)), [SYS_socketpair] = ARGS(F(3, 8)),
    [SYS_setsockopt] = ARGS(L(3, 4)), [SYS_getsockopt] = ARGS(F(3, 256), F(4, 4)),
    [SYS_wait4] = ARGS(F(1, 4), F(3, 144)), [SYS_kill] = NONE, [SYS_uname] = ARGS(F(0, 390)),
    [SYS_fcntl] = ARGS(F(2, 32)), [SYS_flock] = NONE, [SYS_fsync] = NONE, [SYS_fdatasync] = NONE,
    [SYS_truncate] = ARGS(S(0)), [SYS_ftruncate] = NONE, [SYS_getdents] = ARGS(L(1, 2)),
    [SYS_getcwd] = ARGS(L(0, 1)), [SYS_chdir] = ARGS(S(0)), [SYS_fchdir] = NONE,
    [SYS_rename] = ARGS(S(0), S(1)), [SYS_mkdir] = ARGS(S(0)), [SYS_rmdir] = ARGS(S(0)),
    [SYS_creat] = ARGS(S(0)), [SYS_link] = ARGS(S(0), S(1)), [SYS_unlink] = ARGS(S(0)),
    [SYS_symlink] = ARGS(S(0), S(1)), [SYS_readlink] = ARGS(S(0), L(1, 2)),
    [SYS_chmod] = ARGS(S(0)), [SYS_fchmod] = NONE, [SYS_chown] = ARGS(S(0)), [SYS_fchown] = NONE,
    [SYS_lchown] = ARGS(S(0)), [SYS_umask] = NONE, [SYS_gettimeofday] = ARGS(F(0, 16), F(1, 8)),
    [SYS_getrlimit] = ARGS(F(1, 16)), [SYS_getrusage] = ARGS(F(1, 144)),
    [SYS_sysinfo] = ARGS(F(0, 112)), [SYS_times] = ARGS(F(0, 32)), [SYS_getuid] = NONE,
    [SYS_getgid] = NONE, [SYS_setuid] = NONE, [SYS_setgid] = NONE, [SYS_geteuid] = NONE,
    [SYS_getegid] = NONE, [SYS_setpgid] = NONE, [SYS_getppid] = NONE, [SYS_getpgrp] = NONE,
    [SYS_setsid] = NONE, [SYS_getgroups] = ARGS(M(1, 0, 4)), [SYS_getpgid] = NONE,
    [SYS_getsid] = NONE, [SYS_rt_sigpending] = ARGS(F(0, 8)),
    [SYS_rt_sigtimedwait] = ARGS(F(0, 8), F(1, 128), F(2, 16)), [SYS_rt_sigsuspend] = ARGS(F(0, 8)),
    [SYS_sigaltstack] = ARGS(F(0, 24), F(1, 24)), [SYS_statfs] = ARGS(S(0), F(1, 120)),
    [SYS_fstatfs] = ARGS(F(1, 120)), [SYS_getpriority] = NONE, [SYS_setpriority] = NONE,
    [SYS_sched_getparam] = ARGS(F(1, 4)), [SYS_sched_setscheduler] = ARGS(F(2, 4)),
    [SYS_sched_getscheduler] = NONE, [SYS_sched_get_priority_max] = NONE,
    [SYS_sched_get_priority_min] = NONE, [SYS_mlock] = NONE, [SYS_munlock] = NONE,
    [SYS_prctl] = ARGS(F(1, 16), F(2, 16), F(3, 16), F(4, 16)), [SYS_arch_prctl] = ARGS(F(1, 8)),
    [SYS_setrlimit] = ARGS(F(1, 16)), [SYS_sync] = NONE, [SYS_gettid] = NONE, [SYS_tkill] = NONE,
    [SYS_time] = ARGS(F(0, 8)), [SYS_futex] = ARGS(F(0, 4), F(3, 16), F(4, 4)),
    [SYS_sched_setaffinity] = ARGS(L(2, 1)), [SYS_sched_getaffinity] = ARGS(L(2, 1)),
    [SYS_getdents64] = ARGS(L(1, 2)), [SYS_set_tid_address] = ARGS(F(0, 4)),
    [SYS_restart_syscall] = NONE, [SYS_fadvise64] = NONE, [SYS_timer_create] = ARGS(F(1, 64), F(2, 4)),
    [SYS_timer_settime] = ARGS(F(2, 32), F(3, 32)), [SYS_timer_gettime] = ARGS(F(1, 32)),
    [SYS_timer_getoverrun] = NONE, [SYS_timer_delete] = NONE, [SYS_clock_gettime] = ARGS(F(1, 16)),
    [SYS_clock_getres] = ARGS(F(1, 16)), [SYS_clock_nanosleep] = ARGS(F(2, 16), F(3, 16)),
    [SYS_epoll_wait] = ARGS(M(1, 2, 12)), [SYS_epoll_ctl] = ARGS(F(3, 12)), [SYS_tgkill] = NONE,
    [SYS_waitid] = ARGS(F(2, 128), F(4, 144)), [SYS_inotify_add_watch] = ARGS(S(1)),
    [SYS_inotify_rm_watch] = NONE, [SYS_openat] = ARGS(S(1)), [SYS_mkdirat] = ARGS(S(1)),
    [SYS_fchownat] = ARGS(S(1)), [SYS_newfstatat] = ARGS(S(1), F(2, STAT)),
    [SYS_unlinkat] = ARGS(S(1)), [SYS_renameat] = ARGS(S(1), S(3)), [SYS_linkat] = ARGS(S(1), S(3)),
    [SYS_symlinkat] = ARGS(S(0), S(2)), [SYS_readlinkat] = ARGS(S(1), L(2, 3)),
    [SYS_fchmodat] = ARGS(S(1)), [SYS_faccessat] = ARGS(S(1)),
    [SYS_pselect6] = ARGS(F(1, 128), F(2, 128), F(3, 128), F(4, 16), F(5, 16)),
    [SYS_ppoll] = ARGS(M(0, 1, 8), F(2, 16), F(3, 8)), [SYS_set_robust_list] = ARGS(F(0, 24)),
    [SYS_splice] = ARGS(F(1, 8), F(3, 8)), [SYS_tee] = NONE, [SYS_sync_file_range] = NONE,
    [SYS_utimensat] = ARGS(S(1), F(2, 32)), [SYS_epoll_pwait] = ARGS(M(1, 2, 12), F(4, 8)),
    [SYS_timerfd_create] = NONE, [SYS_eventfd] = NONE, [SYS_fallocate] = NONE,
    [SYS_timerfd_settime] = ARGS(F(2, 32), F(3, 32)), [SYS_timerfd_gettime] = ARGS(F(1, 32)),
    [SYS_accept4] = ARGS(F(1, 128), F(2, 4)), [SYS_signalfd4] = ARGS(F(1, 8)),
    [SYS_eventfd2] = NONE, [SYS_epoll_create1] = NONE, [SYS_dup3] = NONE, [SYS_pipe2] = ARGS(F(0, 8)),
    [SYS_inotify_init1] = NONE, [SYS_prlimit64] = ARGS(F(2, 16), F(3, 16)), [SYS_syncfs] = NONE,
    [SYS_getcpu] = ARGS(F(0, 4), F(1, 4)), [SYS_renameat2] = ARGS(S(1), S(3)),
    [SYS_getrandom] = ARGS(L(0, 1)), [SYS_memfd_create] = ARGS(S(0)), [SYS_membarrier] = NONE,
    [SYS_copy_file_range] = ARGS(F(1, 8), F(3, 8)), [SYS_statx] = ARGS(S(1), F(4, 256)),
    [SYS_rseq] = ARGS(F(0, 32)), [SYS_close_range] = NONE, [SYS_openat2] = ARGS(S(1), F(2, 24)),
    [SYS_faccessat2] = ARGS(S(1)), [SYS_sched_getattr] = ARGS(F(1, 56)),
    [SYS_sched_setattr] = ARGS(F(1, 56)), [SYS_mlock2] = NONE, [SYS_pidfd_open] = NONE,
    [SYS_exit] = NONE, [SYS_exit_group] = NONE,
};
#define NSPECS (sizeof specs / sizeof specs[0])

/* ------------------------------------------------------------------------------------------ */
/* the handler */

/* rt_sigreturn for the frame at sp, from our code (our asm: no stack frame of its own) */
__asm__(".text\n"
        ".globl wedge_mw_sigreturn_at\n"
        ".hidden wedge_mw_sigreturn_at\n"
        ".type wedge_mw_sigreturn_at,@function\n"
        "wedge_mw_sigreturn_at:\n"
        "    movq %rdi, %rsp\n"
        "    movq $15, %rax\n"
        "    syscall\n"
        "    hlt\n"
        ".size wedge_mw_sigreturn_at, .-wedge_mw_sigreturn_at\n");
extern void wedge_mw_sigreturn_at(uintptr_t sp) WEDGE_HIDDEN __attribute__((noreturn));

struct ksigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};

static int in_ours(uintptr_t lo, size_t len)
{
    uintptr_t hi = lo + len < lo ? UINTPTR_MAX : lo + len;
    return (lo < mw.arena_end && hi > mw.arena) || (lo < mw.ghi && hi > mw.glo);
}

/* Opened already by this thread's own wrapper (read, write, ...: wedge_mem_io_begin), which
 * keeps it open until the call returns: nothing to do, and no lock to take. */
static int opened_by_me(uintptr_t lo, size_t len)
{
    struct mw_thread *me = wedge_self.mem;
    uintptr_t hi = lo + len < lo ? UINTPTR_MAX : lo + len;
    for (int k = 0; me && k < 4; k++)
        if (me->io[k].hi && lo >= me->io[k].lo && hi <= me->io[k].hi)
            return 1;
    return 0;
}

static void sync_all(void)
{
    for (uint32_t i = 0; i < mw.bump; i++)
        mw_sync_prot(&mw_pages[i]);
    for (uint32_t i = 0; i < mw.nglobals; i++)
        mw_sync_prot(&mw.globals[i]);
}

static long raw6(long nr, const long *a)
{
    return wedge_sys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static uint64_t get_mask(const void *p)
{
    uint64_t m;
    memcpy(&m, p, sizeof m);
    return m;
}

static void put_mask(void *p, uint64_t m)
{
    memcpy(p, &m, sizeof m);
}

/* A call with a temporary mask (a[i]): never one that blocks our signals. */
static long with_mask(long nr, long *a, int i)
{
    uint64_t m;
    if (a[i] && a[i + 1] == 8) {
        m = get_mask((const void *)a[i]) & ~MW_OUR_SIGNALS;
        a[i] = (long)&m;
    }
    return raw6(nr, a);
}

static long do_sigprocmask(const long *a, ucontext_t *uc)
{
    if (a[3] != 8)
        return -EINVAL;
    uint64_t old = get_mask(&uc->uc_sigmask), m = old;
    if (a[1]) {
        uint64_t set = get_mask((const void *)a[1]);
        if (a[0] == SIG_BLOCK)
            m |= set;
        else if (a[0] == SIG_UNBLOCK)
            m &= ~set;
        else if (a[0] == SIG_SETMASK)
            m = set;
        else
            return -EINVAL;
        m &= ~(MW_OUR_SIGNALS | MW_SIGBIT(SIGKILL) | MW_SIGBIT(SIGSTOP));
    }
    if (a[2])
        put_mask((void *)a[2], old);
    put_mask(&uc->uc_sigmask, m);
    return 0;
}

static long do_sigaction(long *a)
{
    int sig = (int)a[0];
    int which = sig == SIGSEGV ? 0 : sig == SIGTRAP ? 1 : sig == SIGSYS ? 2 : -1;
    if (which < 0) {
        struct ksigaction k;
        if (a[1]) {
            memcpy(&k, (const void *)a[1], sizeof k);
            k.mask &= ~MW_OUR_SIGNALS;
            a[1] = (long)&k;
        }
        return raw6(SYS_rt_sigaction, a);
    }
    if (a[3] != 8)
        return -EINVAL;
    /* ours stay; the target's is kept for mw_chain, as wedge_mem_sigaction does */
    uint64_t m;
    mw_lock(&m);
    struct sigaction *u = &mw.user[which];
    if (a[2]) {
        struct ksigaction o = { (void *)u->sa_handler, (unsigned long)(unsigned)u->sa_flags,
                                (void *)u->sa_restorer, get_mask(&u->sa_mask) };
        memcpy((void *)a[2], &o, sizeof o);
    }
    if (a[1]) {
        struct ksigaction k;
        memcpy(&k, (const void *)a[1], sizeof k);
        memset(u, 0, sizeof *u);
        u->sa_handler = (void (*)(int))k.handler;
        u->sa_flags = (int)k.flags;
        u->sa_restorer = (void (*)(void))k.restorer;
        put_mask(&u->sa_mask, k.mask);
    }
    mw_unlock(m);
    return 0;
}

static long do_sigaltstack(const long *a, ucontext_t *uc)
{
    long r = wedge_sys(SYS_sigaltstack, a[0], a[1], 0, 0);
    if (r == 0 && a[0]) {
        stack_t cur;
        if (wedge_sys(SYS_sigaltstack, 0, (long)&cur, 0, 0) == 0)
            uc->uc_stack = cur; /* rt_sigreturn restores the stack of the context */
        const stack_t *ss = (const stack_t *)a[0];
        if (!(ss->ss_flags & SS_DISABLE))
            mw_pin_range(ss->ss_sp, ss->ss_size); /* the kernel writes frames there */
    }
    return r;
}

/* The call itself, its pointer arguments opened. */
static long perform(long nr, long *a, ucontext_t *uc)
{
    switch (nr) {
    case SYS_rt_sigprocmask:
        return do_sigprocmask(a, uc);
    case SYS_rt_sigaction:
        return do_sigaction(a);
    case SYS_sigaltstack:
        return do_sigaltstack(a, uc);
    case SYS_rt_sigsuspend:
        return with_mask(nr, a, 0);
    case SYS_ppoll:
        return with_mask(nr, a, 3);
    case SYS_epoll_pwait:
        return with_mask(nr, a, 4);
    default:
        return raw6(nr, a);
    }
}

/* Watching stops for good and the call is made again where it was made, let through. */
static void reissue(ucontext_t *uc, long nr)
{
    uint64_t m;
    mw_lock(&m);
    if (atomic_load(&mw.on))
        wedge_log("memory watching off: a thread or vfork child made without pthread_create",
                  NULL);
    mw_stop_all();
    mw_unlock(m);
    uc->uc_mcontext.gregs[REG_RIP] -= 2; /* the syscall instruction */
    uc->uc_mcontext.gregs[REG_RAX] = nr;
}

static int fork_like(unsigned long flags, unsigned long stack)
{
    return !(flags & CLONE_VM) && !(flags & CLONE_VFORK) && stack == 0;
}

#define MAX_OPEN 5

void mw_on_sigsys(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    if (si->si_code != SYS_USER_DISPATCH) {
        mw_chain(2, sig, si, uc); /* seccomp's, or sent by someone */
        return;
    }
    int saved = errno;
    greg_t *g = uc->uc_mcontext.gregs;
    long nr = si->si_syscall;
    long a[6] = { g[REG_RDI], g[REG_RSI], g[REG_RDX], g[REG_R10], g[REG_R8], g[REG_R9] };
    long r;
    switch (nr) {
    case SYS_rt_sigreturn: {
        /* a handler returning through libc's restorer: the frame is at the stack pointer */
        ucontext_t *frame = (ucontext_t *)g[REG_RSP];
        put_mask(&frame->uc_sigmask, get_mask(&frame->uc_sigmask) & ~MW_OUR_SIGNALS);
        wedge_mw_sigreturn_at((uintptr_t)g[REG_RSP]);
    }
    case SYS_execve:
    case SYS_execveat: {
        uint64_t m; /* argv and envp point anywhere: nothing stays protected */
        mw_lock(&m);
        mw_stop_all();
        mw_unlock(m);
        g[REG_RAX] = raw6(nr, a);
        errno = saved;
        return;
    }
    case SYS_fork:
        g[REG_RAX] = raw6(nr, a);
        errno = saved;
        return;
    case SYS_clone:
    case SYS_clone3:
    case SYS_vfork: {
        int ok = 0;
        if (nr == SYS_clone)
            ok = fork_like((unsigned long)a[0], (unsigned long)a[1]);
        else if (nr == SYS_clone3 && a[0] && (unsigned long)a[1] >= 48)
            ok = fork_like(((const unsigned long *)a[0])[0], ((const unsigned long *)a[0])[5]);
        if (ok)
            g[REG_RAX] = raw6(nr, a); /* the child returns through here, as the parent */
        else
            reissue(uc, nr);
        errno = saved;
        return;
    }
    default:
        break;
    }

    const struct sud_spec *sp = nr >= 0 && (size_t)nr < NSPECS && specs[nr].known ? &specs[nr]
                                                                                  : NULL;
    int hold = !sp || sp->hold;
    uintptr_t lo[MAX_OPEN];
    size_t len[MAX_OPEN];
    int n = 0;
    for (int k = 0; !hold && k < MAX_OPEN && sp->p[k].arg1; k++) {
        const struct sud_arg *p = &sp->p[k];
        uintptr_t ptr = (uintptr_t)a[p->arg1 - 1];
        size_t l = p->len1 ? (size_t)a[p->len1 - 1] * p->mul : p->fixed;
        if (ptr && l && in_ours(ptr, l) && !opened_by_me(ptr, l)) {
            lo[n] = ptr;
            len[n++] = l;
        }
    }
    if (!atomic_load_explicit(&mw.on, memory_order_relaxed))
        hold = n = 0; /* nothing is protected any more */
    if (!hold && n == 0) {
        r = perform(nr, a, uc);
    } else {
        uint64_t m;
        mw_lock(&m);
        if (hold) {
            mw.hold++;
            sync_all();
        }
        for (int k = 0; k < n; k++)
            mw_open_range(lo[k], len[k], 1);
        mw_unlock(m);
        r = perform(nr, a, uc);
        mw_lock(&m);
        for (int k = 0; k < n; k++)
            mw_open_range(lo[k], len[k], -1);
        if (hold) {
            mw.hold--;
            sync_all();
        }
        mw_unlock(m);
    }
    g[REG_RAX] = r;
    errno = saved;
}
