/* runner.c - spawn runs, stream their output, enforce the timeout, kill and reap.
 *
 * Single-threaded: one poll() over the runs' output pipes and a signalfd (SIGCHLD, SIGINT,
 * SIGTERM).  Each run has a supervisor process between wedge and the target (see
 * supervise()): a child subreaper that outlives wedge's death, so that every process of the
 * run (forked children, setsid'd daemons, daemons with a cleared environment) is its
 * descendant and is killed when the run ends, when wedge asks, or when wedge dies, even by
 * SIGKILL.  A run forked by the slot's fork server (forksrv.c) has the server in that role:
 * it is a child subreaper too, and kills what is left of each run, and of every run when
 * wedge dies (preload/forksrv.c).  wedge is a subreaper too, as a fallback for processes of a
 * supervisor that was killed, and reaps unknown children silently.
 */
#define _GNU_SOURCE
#include "cli.h"
#include "wedge_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* CLI-private environment mark "WEDGE_CLI_RUN=<wedge pid>.<slot>.<index>" (the shim does not
 * read it): a daemon that left the run's process group still carries it, so an orphan
 * reparented to us can be attributed to its run and killed when that run is over. */
#define RUN_MARK "WEDGE_CLI_RUN"
/* A forked run wedge killed whose server has not said EXITED after this long: the server
 * cannot see its runs end (it is stuck, or the kernel reaps them); given up on. */
#define FORKED_KILL_GRACE_US 3000000u

uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---------------------------------------------------------------------------------------- */
/* the event loop */

static struct job *jobs;
static unsigned njobs;
static int sig_fd = -1;
static volatile int interrupted;

int runner_interrupted(void)
{
    return interrupted;
}

static char *env_entry(const char *name, const char *value)
{
    char *s;
    if (asprintf(&s, "%s=%s", name, value) < 0)
        return NULL;
    return s;
}

/* The child's environment: ours without any wedge protocol variables of an outer wedge,
 * plus this run's.  Built in the parent (the child may not allocate after fork). */
static char **child_env(const struct wedge_config *cfg, const struct job *j, int srv_fd)
{
    size_t n = 0;
    for (char **e = environ; *e; e++)
        n++;
    char **env = calloc(n + 6, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    const char *old_preload = NULL;
    for (char **e = environ; *e; e++) {
        if (strncmp(*e, "LD_PRELOAD=", 11) == 0) {
            old_preload = *e + 11;
            if (!cfg->baseline)
                continue;
        }
        if (cfg->san_env && strncmp(*e, "ASAN_OPTIONS=", 13) == 0)
            continue; /* cfg->san_env is the user's ASAN_OPTIONS with wedge's defaults first */
        int strip = strncmp(*e, RUN_MARK "=", sizeof RUN_MARK) == 0;
#define X(name, flags)                                                                       \
    strip |= ((flags) & WEDGE_ENVF_STRIP) && strncmp(*e, name "=", sizeof name) == 0;
        WEDGE_ENV_VARS(X)
#undef X
        if (strip)
            continue;
        env[k++] = *e;
    }
    if (cfg->san_env)
        env[k++] = cfg->san_env; /* not freed per run: it belongs to cfg */
    /* Our own mark, in baseline runs too: it tells which run an orphan belongs to. */
    char *mark;
    /* A fork server's mark names no run: what it forks belongs to the slot's current run. */
    if ((srv_fd >= 0 ? asprintf(&mark, RUN_MARK "=%d.%u.server", (int)getpid(), j->slot)
                     : asprintf(&mark, RUN_MARK "=%d.%u.%" PRIu64, (int)getpid(), j->slot,
                                j->index)) < 0) {
        free(env);
        return NULL;
    }
    env[k++] = mark;
    if (!cfg->baseline) {
        char *pre;
        /* A sanitizer runtime that owns malloc must come first (sanitizer.c says why). */
        const char *first = cfg->san.preload[0] ? cfg->san.preload : NULL;
        if (asprintf(&pre, "LD_PRELOAD=%s%s%s%s%s", first ? first : "", first ? ":" : "",
                     cfg->shim, old_preload && *old_preload ? ":" : "",
                     old_preload ? old_preload : "") < 0)
            pre = NULL;
        env[k++] = pre;
        if (srv_fd >= 0) { /* the server has no run: SHM and TOKEN come with each RUN */
            char fd[16];
            snprintf(fd, sizeof fd, "%d", srv_fd);
            env[k++] = env_entry(WEDGE_ENV_FORKSRV, fd);
        } else {
            env[k++] = env_entry(WEDGE_ENV_SHM, j->shm->path);
            env[k++] = env_entry(WEDGE_ENV_TOKEN, j->token);
        }
        size_t own = srv_fd >= 0 ? 3 : 4; /* mark, LD_PRELOAD and ours */
        for (size_t i = k - own + 1; i < k; i++)
            if (!env[i]) {
                for (size_t f = k - own; f < k; f++)
                    free(env[f]);
                free(env);
                return NULL;
            }
    }
    env[k] = NULL;
    return env;
}

/* Our entries are the mark and what follows it (the inherited ones never hold a mark). */
static void free_child_env(const struct wedge_config *cfg, char **env)
{
    if (!env)
        return;
    size_t k = 0;
    while (env[k] && strncmp(env[k], RUN_MARK "=", sizeof RUN_MARK) != 0)
        k++;
    for (; env[k]; k++)
        free(env[k]);
    free(env);
}

/* Runs in the child between vfork and exec (supervise()): system calls only, no memory the
 * supervisor uses is written (its errno aside), never returns. */
static void __attribute__((noreturn))
child_exec(const struct wedge_config *cfg, char **env, int out_w, int err_w, pid_t parent,
           int keep_fd)
{
    setpgid(0, 0);
    if (keep_fd >= 0) /* a fork server's control socket: it must survive the exec */
        fcntl(keep_fd, F_SETFD, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) /* the supervisor died before the prctl: do not run alone */
        _exit(127);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        dup2(devnull, 0);
        if (devnull > 2)
            close(devnull);
    }
    dup2(out_w, 1);
    dup2(out_w, 2);
    if (out_w > 2)
        close(out_w);
    /* wedge ignores SIGPIPE and blocks SIGCHLD/SIGINT/SIGTERM: the target must not inherit
     * that (ignored dispositions and the mask survive execve). */
    struct sigaction dfl = { .sa_handler = SIG_DFL };
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            sigaction(s, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* Address randomization off, as gdb runs a program: the same token must give the same
     * run, and a program may behave by its addresses (CPython hashes an object by its
     * address: a set's order, and with it the run, changed with the layout; a serial replay
     * of router_history.py gave one of two traces, 12,366 or 9,003 steps, by which fork
     * server, of which layout, ran it: 2 of 12 replays of 4 at -j 2 saw both, none of 16
     * with randomization off).  Where it is refused (a seccomp filter), runs keep it.
     * Native reruns (--baseline) keep it as the program would run. */
    if (!cfg->baseline) {
        int pers = personality(0xffffffff);
        if (pers != -1)
            personality((unsigned long)pers | ADDR_NO_RANDOMIZE);
    }
    execve(cfg->program, cfg->argv, env);
    int e = errno;
    ssize_t w = write(err_w, &e, sizeof e);
    (void)w;
    _exit(127);
}

void helper_process_start(const sigset_t *waited)
{
    setpgid(0, 0);
    sigprocmask(SIG_BLOCK, waited, NULL);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGTSTP, SIG_IGN);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
}

void helper_process_close_all(void)
{
    if (close_range(0, ~0u, 0) != 0)
        for (int fd = 0; fd < 1024; fd++)
            close(fd);
}

/* The run's supervisor: wedge forks it, it forks the target and waits.  A child subreaper,
 * so every process of the run stays its descendant (an orphan is reparented to it, not to
 * init); it ends the run as a whole: when the target's main process exits, when wedge asks
 * (SIGTERM: timeout, --stop-after, interrupt), and when wedge dies (the parent-death signal
 * is SIGTERM too: wedge killed by SIGKILL must leave nothing of its runs alive).  Then it
 * exits as the main process did, so that wedge classifies the run from its status.  A fork
 * of single-threaded wedge: it may allocate and use stdio for reading, but must never exit()
 * (that would flush wedge's stdout buffer a second time). */
static void __attribute__((noreturn))
supervise(const struct wedge_config *cfg, char **env, int out_w, int err_w, pid_t wedge)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    helper_process_start(&set);
    if (getppid() != wedge) /* wedge died before the prctl */
        _exit(127);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    pid_t self = getpid();
    /* vfork: this process only waits for the exec, and child_exec makes system calls only and
     * never returns; a fork would copy the page tables for nothing (measured on 1000 runs of
     * trivial_ok: 2.1-2.6 s of CPU with fork, 1.9-2.0 s with vfork, 1.8-2.2 s before the
     * supervisor existed). */
    pid_t t = vfork();
    if (t == 0)
        child_exec(cfg, env, out_w, err_w, self, -1);
    if (t < 0) {
        int e = errno;
        ssize_t w = write(err_w, &e, sizeof e);
        (void)w;
        _exit(127);
    }
    setpgid(t, t); /* whichever runs first, the target's group exists before a kill */
    /* Hold nothing of wedge's: the pipes must close when the run's processes are gone, and
     * a mapping of a shared memory file would keep wedge's lock on it (shm.c) alive. */
    helper_process_close_all();
    for (unsigned i = 0; i < njobs; i++)
        if (jobs[i].shm && jobs[i].shm->hdr)
            munmap(jobs[i].shm->hdr, WEDGE_SHM_SIZE);

    int status = 0, ended = 0, stopping = 0;
    struct timespec tick = { 0, 5 * 1000 * 1000 };
    uint64_t give_up = 0;
    for (;;) {
        int st;
        pid_t p;
        while ((p = waitpid(-1, &st, WNOHANG)) > 0)
            if (p == t) {
                status = st;
                ended = 1;
            }
        if (ended || stopping) {
            if (p < 0 && errno == ECHILD)
                break; /* nothing of the run is left */
            /* A process that will not die (stuck in the kernel; no /proc children files):
             * after 10 s its run is over anyway, and what is left is handed to wedge, a
             * subreaper that sweeps it up. */
            if (!give_up)
                give_up = now_us() + 10000000;
            else if (ended && now_us() > give_up)
                break;
            /* The group only while its leader is ours: after the reap its id could be
             * reused; every member is a descendant anyway. */
            if (!ended)
                kill(-t, SIGKILL);
            wedge_kill_descendants(self);
        }
        siginfo_t si;
        if (sigtimedwait(&set, &si, ended || stopping ? &tick : NULL) == SIGTERM)
            stopping = 1;
    }
    if (WIFEXITED(status) || !ended)
        _exit(ended ? WEXITSTATUS(status) : 127);
    /* Die of the same signal, without a core dump of our own. */
    int sig = WTERMSIG(status);
    struct rlimit nocore = { 0, 0 };
    setrlimit(RLIMIT_CORE, &nocore);
    signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    sigprocmask(SIG_UNBLOCK, &one, NULL);
    kill(self, sig);
    _exit(128 + sig);
}

/* fork, and exec the program in the child; errno of a failed fork is kept. */
static pid_t fork_exec(const struct wedge_config *cfg, char **env, int out_w, int err_w,
                       int keep_fd)
{
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0)
        child_exec(cfg, env, out_w, err_w, parent, keep_fd);
    return pid;
}

pid_t runner_spawn_server(const struct wedge_config *cfg, const struct job *j, int ctl_fd)
{
    char **env = child_env(cfg, j, ctl_fd);
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (!env || devnull < 0) {
        free_child_env(cfg, env);
        if (devnull >= 0)
            close(devnull);
        return -1;
    }
    pid_t pid = fork_exec(cfg, env, devnull, -1, ctl_fd);
    free_child_env(cfg, env);
    close(devnull);
    if (pid > 0)
        setpgid(pid, pid);
    return pid;
}

static void job_started(const struct wedge_config *cfg, struct job *j, pid_t pid, int out_fd)
{
    j->pid = pid;
    j->out_fd = out_fd;
    fcntl(j->out_fd, F_SETFL, O_NONBLOCK);
    j->exited = 0;
    j->status = 0;
    j->timed_out = 0;
    j->killed = 0;
    j->kill_us = 0;
    j->hang_valid = 0;
    j->start_us = now_us();
    j->deadline_us = j->start_us + cfg->timeout_us;
    j->active = 1;
}

static int start_job(const struct wedge_config *cfg, struct job *j)
{
    int outp[2], errp[2];
    if (pipe2(outp, O_CLOEXEC) != 0) {
        usage_error("cannot start %s: pipe: %s", cfg->argv[0], strerror(errno));
        return -1;
    }
    j->via_server = 0;
    if (j->shm && forksrv_enabled(cfg)) {
        char mark[96];
        snprintf(mark, sizeof mark, RUN_MARK "=%d.%u.%" PRIu64, (int)getpid(), j->slot,
                 j->index);
        if (forksrv_run(cfg, j, outp[1], mark) == 0) {
            close(outp[1]);
            job_started(cfg, j, j->pid, outp[0]);
            return 0;
        }
    }
    if (pipe2(errp, O_CLOEXEC) != 0) {
        usage_error("cannot start %s: pipe: %s", cfg->argv[0], strerror(errno));
        close(outp[0]);
        close(outp[1]);
        return -1;
    }
    char **env = child_env(cfg, j, -1);
    if (!env) {
        usage_error("cannot start %s: out of memory", cfg->argv[0]);
        close(outp[0]);
        close(outp[1]);
        close(errp[0]);
        close(errp[1]);
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0)
        supervise(cfg, env, outp[1], errp[1], parent);
    int fork_errno = errno;
    free_child_env(cfg, env);
    close(outp[1]);
    close(errp[1]);
    if (pid < 0) {
        close(outp[0]);
        close(errp[0]);
        usage_error("cannot start %s: fork: %s", cfg->argv[0], strerror(fork_errno));
        return -1;
    }
    /* The exec-error pipe closes on a successful execve (CLOEXEC): this read returns 0 then. */
    int e = 0;
    ssize_t r;
    do
        r = read(errp[0], &e, sizeof e);
    while (r < 0 && errno == EINTR);
    close(errp[0]);
    job_started(cfg, j, pid, outp[0]);
    if (r == (ssize_t)sizeof e) {
        usage_error("cannot execute %s: %s", cfg->program, strerror(e));
        return -2; /* the child exits 127; it is reaped by the loop */
    }
    return 0;
}

/* Read what is in the pipe, at most max_reads chunks: a target writing without pause must
 * not keep the loop from its other runs' timeouts. */
static void drain(struct job *j, int max_reads)
{
    char buf[16384];
    while (j->out_fd >= 0 && max_reads-- > 0) {
        ssize_t n = read(j->out_fd, buf, sizeof buf);
        if (n > 0) {
            output_feed(&j->out, buf, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0) { /* every writer closed: nothing more will come */
            close(j->out_fd);
            j->out_fd = -1;
        }
        break; /* EAGAIN: a daemon may still hold the pipe; we stop at the main exit */
    }
}

/* End the run: its supervisor kills every process of it, then exits (supervise()). */
static void kill_run(struct job *j)
{
    if (!j->kill_us)
        j->kill_us = now_us();
    if (j->via_server) {
        /* A run forked by a fork server: the server ends what is left of it once its main
         * process is gone, but takes no orders, so kill its process group and every process
         * the shim recorded (a daemon may have left the group); the group id stays reserved
         * while members remain, so kill(-pid) is safe after the server's reap. */
        if (j->pid > 0) {
            kill(-j->pid, SIGKILL);
            if (!j->exited)
                kill(j->pid, SIGKILL);
        }
        struct wedge_shm_header *h = j->shm ? j->shm->hdr : NULL;
        uint32_t n = h ? atomic_load(&h->nprocs) : 0;
        if (n > WEDGE_MAX_PROCS)
            n = WEDGE_MAX_PROCS;
        for (uint32_t i = 0; i < n; i++) {
            pid_t p = h->procs[i].pid;
            if (p > 1 && p != getpid() && !(h->procs[i].flags & WEDGE_PROC_EXITED))
                kill(p, SIGKILL);
        }
        return;
    }
    if (j->pid > 0 && !j->exited)
        kill(j->pid, SIGTERM);
}

static void snapshot_hang(struct job *j)
{
    struct wedge_shm_header *h = j->shm ? j->shm->hdr : NULL;
    if (!h || !j->hang)
        return;
    uint32_t n = atomic_load(&h->nthreads);
    if (n > WEDGE_MAX_THREADS)
        n = WEDGE_MAX_THREADS;
    for (uint32_t i = 0; i < n; i++) {
        struct wedge_thread_slot *t = wedge_shm_slot(h, i);
        j->hang[i].state = atomic_load(&t->state);
        j->hang[i].blocked_kind = t->blocked_kind;
        j->hang[i].blocked_obj = t->blocked_obj;
        j->hang[i].blocked_site = t->blocked_site;
    }
    j->hang_valid = 1;
}

static void reap(void)
{
    for (;;) {
        int st;
        pid_t p = waitpid(-1, &st, WNOHANG);
        if (p <= 0)
            break;
        forksrv_reaped(p);
        for (unsigned i = 0; i < njobs; i++)
            if (jobs[i].active && jobs[i].pid == p && !jobs[i].exited && !jobs[i].via_server) {
                jobs[i].exited = 1;
                jobs[i].status = st;
                jobs[i].end_us = now_us();
            }
        /* anything else: an orphan reparented to us, or a helper: reaped silently */
    }
}

/* Which run an orphan child belongs to, from its environment: 1 found, 0 not ours. */
static int orphan_run(pid_t pid, unsigned *slot, uint64_t *index)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    static char buf[65536];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    char want[64];
    int wl = snprintf(want, sizeof want, RUN_MARK "=%d.", (int)getpid());
    for (char *e = buf; e < buf + n; e += strlen(e) + 1)
        if (strncmp(e, want, (size_t)wl) == 0) {
            int k = sscanf(e + wl, "%u.%" SCNu64, slot, index);
            if (k == 1 && strstr(e + wl, ".server") && *slot < njobs) {
                /* forked by the slot's server (environment of the server's exec): it belongs
                 * to the slot's current run, or to none */
                *index = jobs[*slot].active ? jobs[*slot].index : UINT64_MAX;
                return 1;
            }
            return k == 2;
        }
    return 0;
}

/* Kill our children (orphans reparented to us, the subreaper) whose run is over; all of
 * them when `all`.  Returns how many were killed. */
static int sweep_orphans(int all)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    int killed = 0;
    int pid;
    while (fscanf(f, "%d", &pid) == 1) {
        int is_main = 0;
        for (unsigned i = 0; i < njobs; i++)
            if (jobs[i].active && jobs[i].pid == pid)
                is_main = 1;
        if (is_main || forksrv_is_server(pid))
            continue;
        unsigned slot;
        uint64_t index;
        if (!orphan_run(pid, &slot, &index))
            continue; /* not a run's process (an addr2line helper) */
        if (!all && slot < njobs && jobs[slot].active && !jobs[slot].exited &&
            jobs[slot].index == index)
            continue; /* its run is still going */
        kill(pid, SIGKILL);
        killed++;
    }
    fclose(f);
    return killed;
}

/* At the end: every child that is not a symbolizer helper is a leftover of some run (maybe
 * already dying, with no environment left to read): kill it and wait for it. */
static int final_sweep(void)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    int n = 0, pid;
    while (fscanf(f, "%d", &pid) == 1) {
        if (symbolize_owns(pid) || shm_janitor(pid))
            continue;
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        n++;
    }
    fclose(f);
    return n;
}

void runner_kill_all(void)
{
    for (unsigned i = 0; i < njobs; i++)
        if (jobs[i].active && !jobs[i].killed) {
            jobs[i].killed = 1;
            kill_run(&jobs[i]);
        }
}

static void setup_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    if (sig_fd < 0)
        sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
}

static void read_signals(void)
{
    struct signalfd_siginfo si;
    while (read(sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM || si.ssi_signo == SIGHUP)
            interrupted = 1;
    }
}

int runner_loop(const struct runner_params *p, const struct runner_ops *ops, void *ctx)
{
    const struct wedge_config *cfg = p->cfg;
    setup_signals();
    njobs = p->jobs;
    jobs = calloc(njobs, sizeof *jobs);
    struct wedge_shm_slot *slots = calloc(njobs, sizeof *slots);
    struct pollfd *pfd = calloc(2 * njobs + 1, sizeof *pfd);
    if (!jobs || !slots || !pfd)
        return -1;
    int rc = 0;
    for (unsigned i = 0; i < njobs; i++) {
        jobs[i].slot = i;
        jobs[i].out_fd = -1;
        if (!cfg->baseline) {
            if (shm_create(&slots[i], i) != 0) {
                rc = -1;
                goto out;
            }
            jobs[i].shm = &slots[i];
            jobs[i].hang = calloc(WEDGE_MAX_THREADS, sizeof *jobs[i].hang);
            if (!jobs[i].hang) {
                rc = -1;
                goto out;
            }
        }
    }

    forksrv_setup(njobs);
    int starting = 1, aborted = 0;
    uint64_t last_tick = 0;
    for (;;) {
        read_signals();
        reap();
        for (unsigned i = 0; i < njobs; i++)
            if (jobs[i].active && jobs[i].via_server)
                forksrv_poll(&jobs[i]);
        if (interrupted && !aborted) {
            aborted = 1;
            starting = 0;
            runner_kill_all();
        }

        /* Finish runs whose main process is gone. */
        int finished = 0;
        for (unsigned i = 0; i < njobs; i++) {
            struct job *j = &jobs[i];
            if (!j->active || !j->exited)
                continue;
            /* Kill first: with every writer gone the drain ends; what the run wrote before it
             * ended stays in the pipe. */
            kill_run(j);
            drain(j, 256);
            if (j->out_fd >= 0) {
                close(j->out_fd);
                j->out_fd = -1;
            }
            output_finish(&j->out);
            j->active = 0;
            finished = 1;
            if (!j->killed && !aborted && ops->done(ctx, j) < 0) {
                aborted = 1;
                starting = 0;
                rc = -1;
                runner_kill_all();
            }
            forksrv_after_run(j);
            if (j->shm) {
                uint32_t used = atomic_load(&j->shm->hdr->nthreads);
                j->shm->prev_nthreads = used > WEDGE_MAX_THREADS ? WEDGE_MAX_THREADS : used;
            }
        }

        if (finished)
            sweep_orphans(0);

        /* Start runs into free slots. */
        while (starting) {
            struct job *free_job = NULL;
            for (unsigned i = 0; i < njobs; i++)
                if (!jobs[i].active) {
                    free_job = &jobs[i];
                    break;
                }
            if (!free_job)
                break;
            uint64_t index;
            struct wedge_token tok;
            int want = ops->next(ctx, &index, &tok);
            if (want < 0)
                starting = 0;
            if (want <= 0)
                break;
            free_job->index = index;
            free_job->tok = tok;
            if (wedge_token_format(&tok, free_job->token, sizeof free_job->token) < 0)
                snprintf(free_job->token, sizeof free_job->token, "?");
            if (free_job->shm)
                shm_reset(free_job->shm);
            output_init(&free_job->out, cfg->fail_on_arg ? &cfg->fail_on : NULL,
                        p->tee ? 1 : -1);
            int s = start_job(cfg, free_job);
            if (s < 0) { /* start_job said why */
                if (s == -2)
                    free_job->killed = 1;
                aborted = 1;
                starting = 0;
                rc = -1;
                runner_kill_all();
            }
        }

        int active = 0;
        for (unsigned i = 0; i < njobs; i++)
            active += jobs[i].active;
        if (!active && !starting)
            break;

        /* Timeouts. */
        uint64_t now = now_us();
        uint64_t wake = now + 200000;
        for (unsigned i = 0; i < njobs; i++) {
            struct job *j = &jobs[i];
            if (!j->active || j->exited)
                continue;
            if (!j->timed_out && !j->killed && now >= j->deadline_us) {
                /* Read what each thread waits on while the run still stands, then kill. */
                snapshot_hang(j);
                j->timed_out = 1;
                kill_run(j);
            } else if (!j->timed_out && j->deadline_us < wake) {
                wake = j->deadline_us;
            }
            if (j->via_server && j->kill_us && now >= j->kill_us + FORKED_KILL_GRACE_US)
                forksrv_abandon(j); /* killed, and its server never said it ended */
        }
        if (now - last_tick >= 200000 || now < last_tick) {
            last_tick = now;
            sweep_orphans(0);
            if (ops->tick)
                ops->tick(ctx);
        }

        /* Wait for output, a signal, or the next deadline. */
        nfds_t n = 0;
        pfd[n++] = (struct pollfd){ .fd = sig_fd, .events = POLLIN };
        struct job *polled[njobs ? njobs : 1];
        for (unsigned i = 0; i < njobs; i++)
            if (jobs[i].active && !jobs[i].exited && jobs[i].out_fd >= 0) {
                polled[n - 1] = &jobs[i];
                pfd[n++] = (struct pollfd){ .fd = jobs[i].out_fd, .events = POLLIN };
            }
        nfds_t nout = n;
        /* a forked run's end comes as the server's EXITED, not as SIGCHLD */
        for (unsigned i = 0; i < njobs; i++)
            if (jobs[i].active && !jobs[i].exited && jobs[i].via_server &&
                forksrv_fd(i) >= 0)
                pfd[n++] = (struct pollfd){ .fd = forksrv_fd(i), .events = POLLIN };
        int ms = wake > now ? (int)((wake - now + 999) / 1000) : 0;
        int pr = poll(pfd, n, ms);
        if (pr < 0 && errno != EINTR)
            break;
        for (nfds_t k = 1; k < nout && pr > 0; k++)
            if (pfd[k].revents)
                drain(polled[k - 1], 16);
    }

out:
    for (unsigned i = 0; i < njobs; i++) {
        if (jobs[i].active) { /* only on setup errors: make sure nothing stays behind */
            kill_run(&jobs[i]);
            if (jobs[i].pid > 0)
                waitpid(jobs[i].pid, NULL, 0);
        }
        if (jobs[i].out_fd >= 0)
            close(jobs[i].out_fd);
        if (slots[i].hdr)
            shm_destroy(&slots[i]);
        free(jobs[i].hang);
    }
    forksrv_shutdown();
    /* Nothing of any run may outlive wedge, not even as a zombie handed to init: kill what
     * is left, and reap it; killing a process hands its children to us, hence the rounds. */
    for (int round = 0; round < 100; round++) {
        reap();
        if (final_sweep() == 0)
            break;
    }
    free(slots);
    free(jobs);
    free(pfd);
    jobs = NULL;
    njobs = 0;
    if (rc == 0 && interrupted)
        rc = 1;
    return rc;
}
