/* forksrv.c - the fork server: start-up paid once per campaign slot, not once per run.
 *
 * With WEDGE_FORKSRV=<fd> in its environment (set by the runner, never inherited further),
 * the program is stopped at the entry of main: loaded, relocated, constructed, and still
 * single-threaded.  There the shim tells the runner HELLO over the control socket and then
 * serves: for each RUN message it forks a child that takes the run's variables (token,
 * shared memory, sites), its output pipe as stdout and stderr, its own process group, and
 * sets the run up as a fresh process would (wedge_init_forked_run) before calling the real
 * main.  The server reaps the child and reports its wait status: the runner is not its
 * parent.  AFL++'s fork server is the model (fork at a point where the program is ready).
 *
 * The server is to its runs what the runner's supervisor is to an exec'd run (cli/runner.c):
 * a child subreaper, so that every process of a run (forked children, setsid'd daemons,
 * daemons with a cleared environment) stays its descendant; when a run's main process exits
 * it kills and reaps what is left of the run before it says EXITED; and when wedge dies (its
 * parent-death signal, SIGTERM, or the control socket's EOF), even by SIGKILL, it kills and
 * reaps every process of the run under way and exits.
 *
 * The server cannot serve (it says FALLBACK and the runner execs per run) when threads exist
 * at main: a fork copies only the forking thread.  When the program's own constructors called
 * intercepted functions it serves noise runs only (HELLO says PRELUDE): in a serial run of its
 * own those calls are scheduling points, and a forked run would skip them (its trace would
 * differ from the exec'd run's).
 *
 * Runs inside the target, before main, single-threaded: libc may be used (no lock of ours
 * can be held by another thread; there is none).
 */
#define _GNU_SOURCE
#include "shim.h"
#include "wedge_proc.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

extern char **environ;

typedef int (*main_fn)(int, char **, char **);

static int ctl_fd = -1;         /* the control socket; -1: not a server */
static pid_t server_pid;        /* a process a constructor forked is no server */
static pid_t wedge_pid;         /* the server's parent: the runner */
static int sig_fd = -1;         /* the server's SIGCHLD and SIGTERM (wedge's death) */
static sigset_t run_mask;       /* the program's signal mask at main: each run starts with it */
/* The program's SIGCHLD disposition at main: each run starts with it.  The server itself must
 * not ignore SIGCHLD (a constructor may have set it so, or SA_NOCLDWAIT): the kernel would
 * reap its runs, and their wait status would be lost. */
static struct sigaction run_chld;
static main_fn real_main;
/* Calls into the shim made before main by code outside the system libraries (noted by
 * wedge_forksrv_note_call while wedge_g.prelude is set). */
#define PRELUDE_PCS 64
static const void *prelude_pcs[PRELUDE_PCS];
static unsigned n_prelude; /* distinct call sites; PRELUDE_PCS + 1: more than that */

void wedge_forksrv_init(void)
{
    const char *v = getenv(WEDGE_ENV_FORKSRV);
    if (!v || !*v)
        return;
    char *end;
    long fd = strtol(v, &end, 10);
    /* Not passed on: a program this one runs is a process of the run, not a server. */
    unsetenv(WEDGE_ENV_FORKSRV);
    if (*end || fd < 3 || fd > 1 << 20)
        return;
    ctl_fd = (int)fd;
    server_pid = getpid();
    /* The runner exec'd us with the parent-death signal SIGKILL, after checking that it was
     * still our parent: while we live, it is. */
    wedge_pid = getppid();
    wedge_g.prelude = 1;
    /* An exec before main closes the socket: the runner sees that and execs per run. */
    fcntl(ctl_fd, F_SETFD, FD_CLOEXEC);
}

void wedge_forksrv_note_call(const void *pc)
{
    /* distinct sites only: libstdc++'s start-up calls malloc many times from a few places */
    for (unsigned i = 0; i < n_prelude && i < PRELUDE_PCS; i++)
        if (prelude_pcs[i] == pc)
            return;
    if (n_prelude < PRELUDE_PCS)
        prelude_pcs[n_prelude++] = pc;
    else
        n_prelude = PRELUDE_PCS + 1;
}

static int send_msg(uint32_t kind, int32_t pid, int32_t status)
{
    struct wedge_forksrv_msg m = { .magic = WEDGE_FORKSRV_MAGIC, .kind = kind, .pid = pid,
                                   .status = status };
    ssize_t r;
    do
        r = send(ctl_fd, &m, sizeof m, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    return r == (ssize_t)sizeof m ? 0 : -1;
}

static int count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* 1 if some call before main came from the program's own code (not a system library). */
static int prelude_in_program(void)
{
    if (n_prelude > PRELUDE_PCS) {
        wedge_log("fork server: calls into the shim before main from many places", NULL);
        return 1;
    }
    for (unsigned i = 0; i < n_prelude; i++) {
        Dl_info info;
        if (!dladdr(prelude_pcs[i], &info) || !info.dli_fname) {
            wedge_log("fork server: a call before main from unknown code", NULL);
            return 1;
        }
        const char *f = info.dli_fname;
        if (strncmp(f, "/lib", 4) != 0 && strncmp(f, "/usr/lib", 8) != 0 &&
            !strstr(f, "libwedge.so")) {
            char at[200];
            char *p = wedge_fmt_str(at, f);
            p = wedge_fmt_str(p, "+");
            wedge_fmt_hex(p, (uint64_t)((uintptr_t)prelude_pcs[i] - (uintptr_t)info.dli_fbase));
            wedge_log("fork server: a call into the shim before main from ", at);
            return 1;
        }
    }
    return 0;
}

/* The run's variables, "NAME=VALUE" to set and "NAME" to unset. */
static void apply_env(char *buf, size_t len)
{
    for (size_t off = 0; off < len;) {
        char *e = buf + off;
        size_t n = strnlen(e, len - off);
        if (off + n >= len)
            break; /* not terminated: malformed, stop */
        char *eq = strchr(e, '=');
        if (eq) {
            *eq = 0;
            setenv(e, eq + 1, 1);
        } else {
            unsetenv(e);
        }
        off += n + 1;
    }
}

/* Receive one RUN request: its variables into buf, its output fd.  0 on EOF (the runner is
 * done with us), -1 on error, else the variables' length + 1. */
static ssize_t recv_run(char *buf, size_t cap, int *out_fd)
{
    struct wedge_forksrv_msg m;
    struct iovec iov[2] = { { &m, sizeof m }, { buf, cap } };
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2, .msg_control = cbuf,
                         .msg_controllen = sizeof cbuf };
    ssize_t r;
    do
        r = recvmsg(ctl_fd, &mh, MSG_CMSG_CLOEXEC);
    while (r < 0 && errno == EINTR);
    if (r <= 0)
        return r;
    *out_fd = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
            memcpy(out_fd, CMSG_DATA(c), sizeof(int));
    if ((size_t)r < sizeof m || m.magic != WEDGE_FORKSRV_MAGIC || m.kind != WEDGE_FS_RUN ||
        m.env_len != (size_t)r - sizeof m || *out_fd < 0) {
        if (*out_fd >= 0)
            close(*out_fd);
        return -1;
    }
    return (ssize_t)m.env_len + 1;
}

/* The forked child: become the run's process, then return to call main. */
static void become_run(int out_fd, char *env, size_t env_len)
{
    close(ctl_fd);
    ctl_fd = -1;
    close(sig_fd);
    sig_fd = -1;
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* the server gone (it never leaves a run alive): stop */
    if (getppid() != server_pid) /* it died before the prctl */
        _exit(127);
    REAL(sigaction)(SIGCHLD, &run_chld, NULL);
    sigprocmask(SIG_SETMASK, &run_mask, NULL);
    dup2(out_fd, 1);
    dup2(out_fd, 2);
    if (out_fd > 2)
        close(out_fd);
    apply_env(env, env_len);
    wedge_exec_env_recapture();
    wedge_init_forked_run();
}

/* What wait_event saw. */
#define EV_GONE 1 /* wedge's death signal (SIGTERM) */
#define EV_CTL 2  /* the control socket is readable: a request, or wedge's EOF */

/* Wait for a signal (SIGCHLD, or SIGTERM: wedge died) or the control socket, at most ms
 * (-1: no limit); returns what came (EV_*, 0: a SIGCHLD or the time). */
static int wait_event(int ms)
{
    struct pollfd p[2] = { { .fd = sig_fd, .events = POLLIN }, { .fd = ctl_fd, .events = POLLIN } };
    int r = poll(p, 2, ms);
    int ev = r > 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)) ? EV_CTL : 0;
    struct signalfd_siginfo si;
    while (read(sig_fd, &si, sizeof si) == (ssize_t)sizeof si)
        if (si.ssi_signo == SIGTERM)
            ev |= EV_GONE;
    return ev;
}

/* Kill every process under the server (what is left of the run) and reap it.  A process that
 * will not die (stuck in the kernel) is given up on after about 10 s, as the supervisor does:
 * wedge, a subreaper too, sweeps it up if it still lives. */
static void end_run_processes(void)
{
    for (int round = 0; round < 2000; round++) {
        pid_t p;
        while ((p = waitpid(-1, NULL, WNOHANG)) > 0)
            ;
        if (p < 0 && errno == ECHILD)
            return;
        wedge_kill_descendants(server_pid);
        wait_event(5);
    }
}

/* wedge is gone: nothing of its runs may outlive it. */
static void __attribute__((noreturn)) runner_gone(void)
{
    end_run_processes();
    _exit(0);
}

/* Wait for the run's main process; the run's other processes die with it.  Its wait status. */
static int wait_run(pid_t pid)
{
    for (;;) {
        int st;
        pid_t p;
        while ((p = waitpid(-1, &st, WNOHANG)) > 0)
            if (p == pid) {
                end_run_processes();
                return st;
            }
        /* no request comes during a run: the socket readable is wedge's EOF */
        if (wait_event(-1))
            runner_gone();
    }
}

/* Serve runs until the runner closes the socket; returns only in a child. */
static void serve(void)
{
    static char env[WEDGE_FORKSRV_MSG_MAX];
    for (;;) {
        int out_fd;
        int ev;
        while (!(ev = wait_event(-1)))
            ;
        if (ev & EV_GONE)
            runner_gone();
        ssize_t r = recv_run(env, sizeof env, &out_fd);
        if (r <= 0)
            runner_gone(); /* the runner is done (or gone) */
        size_t env_len = (size_t)r - 1;
        pid_t pid = REAL(fork)();
        if (pid == 0) {
            become_run(out_fd, env, env_len);
            return;
        }
        close(out_fd);
        if (pid < 0) {
            send_msg(WEDGE_FS_FALLBACK, 0, WEDGE_FS_FORK_FAILED);
            continue;
        }
        setpgid(pid, pid); /* also here: the group exists before the runner may kill it */
        if (send_msg(WEDGE_FS_STARTED, pid, 0) != 0)
            runner_gone();
        int st = wait_run(pid);
        if (send_msg(WEDGE_FS_EXITED, pid, st) != 0)
            runner_gone();
    }
}

/* Become the runs' subreaper and watch for wedge's death.  0, or -1 if wedge is already gone
 * (or the signals cannot be watched: then no run must start). */
static int watch_runner(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &set, &run_mask) != 0)
        return -1;
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    if (REAL(sigaction)(SIGCHLD, &dfl, &run_chld) != 0)
        return -1;
    sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sig_fd < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
        return -1;
    /* SIGTERM (blocked, read from sig_fd) instead of the exec's SIGKILL, so that the server
     * outlives wedge long enough to end its runs; checked after the change, so that a death
     * before it is seen too (it killed us then). */
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != wedge_pid)
        return -1;
    return 0;
}

static int server_main(int argc, char **argv, char **envp)
{
    wedge_g.prelude = 0;
    wedge_set_passive(1); /* the server itself runs nothing of a run */
    if (getpid() != server_pid) { /* forked by a constructor: the server is its parent */
        close(ctl_fd);
        ctl_fd = -1;
        return real_main(argc, argv, envp);
    }
    if (count_threads() != 1) {
        send_msg(WEDGE_FS_FALLBACK, 0, WEDGE_FS_THREADS);
        _exit(0);
    }
    if (watch_runner() != 0) {
        send_msg(WEDGE_FS_FALLBACK, 0, WEDGE_FS_NO_WATCH); /* wedge gone: nobody reads it */
        _exit(0);
    }
    /* Loaded once here, the unwinder costs the runs nothing (they inherit it). */
    wedge_unwinder_load();
    if (send_msg(WEDGE_FS_HELLO, (int32_t)getpid(), prelude_in_program() ? WEDGE_FS_PRELUDE : 0))
        _exit(0);
    serve();
    return real_main(argc, argv, environ);
}

WEDGE_EXPORT int __libc_start_main(main_fn main, int argc, char **argv, void (*init)(void),
                                   void (*fini)(void), void (*rtld_fini)(void), void *stack_end)
{
    if (atomic_load(&wedge_g.init_state) != 2)
        wedge_init();
    if (ctl_fd >= 0) {
        real_main = main;
        main = server_main;
    }
    return REAL(__libc_start_main)(main, argc, argv, init, fini, rtld_fini, stack_end);
}
