/* forksrv.c - the runner's side of the fork server (the shim's side: preload/forksrv.c).
 *
 * One server per job slot: the target exec'd once with WEDGE_FORKSRV naming its end of a
 * SOCK_SEQPACKET socket pair; it stops at main and says HELLO.  Each run of the slot is then
 * a RUN message (the run's variables, its output pipe as SCM_RIGHTS), answered by STARTED
 * (the child's pid: its process group, for the group kill) and, when the server reaped it,
 * EXITED (its wait status).  Whatever makes a server unusable - a script, threads or shim
 * calls before main, an exec before main, a program that execs at once, a server that dies -
 * turns the fork server off for the rest of the campaign, said once on stderr; the runs then
 * exec one process each, as with --no-fork-server.
 */
#define _GNU_SOURCE
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

struct server {
    pid_t pid;      /* 0: not started */
    int fd;         /* our end of the control socket, -1: none */
};

/* The program's constructors called into the shim: serial runs are exec'd (their scheduling
 * points there would be missing from a forked run); noise runs still use the servers. */
static int noise_only;

static struct server *servers;
static unsigned nservers;
static int off;                 /* fallen back for the rest of the campaign */
static int decided;             /* off, or the first server said HELLO */
static uint64_t forked;         /* runs forked by servers, for the JSON report */

uint64_t forksrv_forked(void)
{
    return forked;
}

/* How long a server may take to reach main: the loader and constructors of a big program. */
#define HELLO_TIMEOUT_MS 10000

static void turn_off(const char *why)
{
    if (!off)
        fprintf(stderr, "wedge: fork server off (%s): one exec per run\n", why);
    off = 1;
    decided = 1;
}

static int is_script(const char *path)
{
    char head[2] = { 0 };
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, head, sizeof head);
    close(fd);
    return n == 2 && head[0] == '#' && head[1] == '!';
}

int forksrv_enabled(const struct wedge_config *cfg)
{
    if (off || cfg->baseline || !cfg->fork_server)
        return 0;
    if (!decided && is_script(cfg->program)) {
        turn_off("a #! script: its interpreter does the work");
        return 0;
    }
    return 1;
}

void forksrv_setup(unsigned njobs)
{
    servers = calloc(njobs, sizeof *servers);
    nservers = servers ? njobs : 0;
    for (unsigned i = 0; i < nservers; i++)
        servers[i].fd = -1;
}

static void stop_server(struct server *s)
{
    if (s->fd >= 0)
        close(s->fd); /* the server exits when it reads EOF */
    s->fd = -1;
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    s->pid = 0;
}

void forksrv_shutdown(void)
{
    for (unsigned i = 0; i < nservers; i++)
        stop_server(&servers[i]);
    free(servers);
    servers = NULL;
    nservers = 0;
}

void forksrv_reaped(pid_t pid)
{
    for (unsigned i = 0; i < nservers; i++)
        if (servers[i].pid == pid)
            servers[i].pid = -1; /* never kill that pid again: it may be reused */
}

int forksrv_is_server(pid_t pid)
{
    for (unsigned i = 0; i < nservers; i++)
        if (servers[i].pid == pid)
            return 1;
    return 0;
}

int forksrv_fd(unsigned slot)
{
    return slot < nservers ? servers[slot].fd : -1;
}

/* Receive one message, waiting at most ms (-1: no wait).  1 got one, 0 none yet, -1 EOF or
 * error. */
static int recv_msg(int fd, struct wedge_forksrv_msg *m, int ms)
{
    if (ms >= 0) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r;
        do
            r = poll(&p, 1, ms);
        while (r < 0 && errno == EINTR);
        if (r == 0)
            return 0;
    }
    ssize_t n;
    do
        n = recv(fd, m, sizeof *m, MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
    if (n != (ssize_t)sizeof *m || m->magic != WEDGE_FORKSRV_MAGIC)
        return -1;
    return 1;
}

static const char *reason_text(int reason)
{
    switch (reason) {
    case WEDGE_FS_THREADS:
        return "threads exist before main";
    case WEDGE_FS_PRELUDE:
        return "the program's constructors call into the shim before main";
    case WEDGE_FS_FORK_FAILED:
        return "fork failed in the server";
    case WEDGE_FS_NO_WATCH:
        return "the server cannot watch for wedge's end (signal or subreaper setup failed)";
    default:
        return "the server cannot serve";
    }
}

/* Start the slot's server and wait for its HELLO.  0 ready, 1 fall back. */
static int start_server(const struct wedge_config *cfg, struct job *j, struct server *s)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        turn_off("socketpair failed");
        return 1;
    }
    pid_t pid = runner_spawn_server(cfg, j, sv[1]);
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        turn_off("cannot start the server");
        return 1;
    }
    s->pid = pid;
    s->fd = sv[0];
    struct wedge_forksrv_msg m;
    int r = recv_msg(s->fd, &m, HELLO_TIMEOUT_MS);
    if (r == 1 && m.kind == WEDGE_FS_HELLO) {
        decided = 1;
        if (m.status == WEDGE_FS_PRELUDE && !noise_only) {
            noise_only = 1;
            fprintf(stderr, "wedge: fork server for noise runs only (%s): serial runs exec "
                            "one process each\n", reason_text(WEDGE_FS_PRELUDE));
        }
        return 0;
    }
    stop_server(s);
    if (r == 1 && m.kind == WEDGE_FS_FALLBACK)
        turn_off(reason_text(m.status));
    else if (r == 0)
        turn_off("the program did not reach main in 10 s");
    else
        turn_off("the program exec'd or exited before main");
    return 1;
}

static int append(char *buf, size_t *len, const char *name, const char *value)
{
    int n = value ? snprintf(buf + *len, WEDGE_FORKSRV_MSG_MAX - *len, "%s=%s", name, value)
                  : snprintf(buf + *len, WEDGE_FORKSRV_MSG_MAX - *len, "%s", name);
    if (n < 0 || *len + (size_t)n + 1 > WEDGE_FORKSRV_MSG_MAX)
        return -1;
    *len += (size_t)n + 1;
    return 0;
}

/* The value of a per-run variable for run j (NULL: unset). */
static const char *run_value(const char *name, const struct job *j)
{
    if (strcmp(name, WEDGE_ENV_SHM) == 0)
        return j->shm->path;
    if (strcmp(name, WEDGE_ENV_TOKEN) == 0)
        return j->token;
    return getenv(name);
}

int forksrv_run(const struct wedge_config *cfg, struct job *j, int out_w, const char *mark)
{
    if (j->slot >= nservers)
        return 1;
    struct server *s = &servers[j->slot];
    if (s->fd < 0 && start_server(cfg, j, s) != 0)
        return 1;
    if (noise_only && j->tok.mode == WEDGE_MODE_SERIAL)
        return 1;
    /* The run's variables, as an exec'd run would have them in its environment. */
    static char buf[sizeof(struct wedge_forksrv_msg) + WEDGE_FORKSRV_MSG_MAX];
    char *env = buf + sizeof(struct wedge_forksrv_msg);
    size_t len = 0;
    const char *eq = strchr(mark, '=');
    char mark_name[64];
    snprintf(mark_name, sizeof mark_name, "%.*s", (int)(eq - mark), mark);
    /* and the protocol's per-run variables (WEDGE_ENVF_RUN): the run's own, or set or unset
     * as they are now on our environment */
    int err = append(env, &len, mark_name, eq + 1);
#define X(name, flags)                                                                       \
    if (!err && ((flags) & WEDGE_ENVF_RUN))                                                   \
        err = append(env, &len, name, run_value(name, j));
    WEDGE_ENV_VARS(X)
#undef X
    if (err) {
        turn_off("the run's variables are too long");
        return 1;
    }
    struct wedge_forksrv_msg m = { .magic = WEDGE_FORKSRV_MAGIC, .kind = WEDGE_FS_RUN,
                                   .env_len = (uint32_t)len };
    memcpy(buf, &m, sizeof m);
    struct iovec iov = { buf, sizeof m + len };
    char cbuf[CMSG_SPACE(sizeof(int))];
    memset(cbuf, 0, sizeof cbuf);
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof cbuf };
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &out_w, sizeof(int));
    ssize_t n;
    do
        n = sendmsg(s->fd, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    struct wedge_forksrv_msg r = { 0 };
    if (n != (ssize_t)iov.iov_len || recv_msg(s->fd, &r, HELLO_TIMEOUT_MS) != 1 ||
        r.kind != WEDGE_FS_STARTED || r.pid <= 0) {
        stop_server(s);
        turn_off(n == (ssize_t)iov.iov_len && r.kind == WEDGE_FS_FALLBACK ? reason_text(r.status)
                                                                          : "the server died");
        return 1;
    }
    j->pid = r.pid;
    j->via_server = 1;
    forked++;
    return 0;
}

void forksrv_poll(struct job *j)
{
    if (!j->via_server || j->exited || j->slot >= nservers || servers[j->slot].fd < 0)
        return;
    struct server *s = &servers[j->slot];
    struct wedge_forksrv_msg m;
    int r = recv_msg(s->fd, &m, -1);
    if (r == 0)
        return;
    if (r == 1 && m.kind == WEDGE_FS_EXITED && m.pid == j->pid) {
        j->exited = 1;
        j->status = m.status;
        j->end_us = now_us();
        return;
    }
    /* The server is gone (or talks nonsense): the run's end is unknown, so it is not
     * classified; its child dies with it (parent-death signal). */
    stop_server(s);
    j->exited = 1;
    j->killed = 1;
    j->end_us = now_us();
    turn_off("the server died");
}

void forksrv_abandon(struct job *j)
{
    if (!j->via_server || j->exited)
        return;
    if (j->slot < nservers)
        stop_server(&servers[j->slot]);
    j->exited = 1;
    j->status = SIGKILL; /* the wait status of a process killed by SIGKILL */
    j->end_us = now_us();
    turn_off("the server did not report the end of a run wedge killed");
}

void forksrv_after_run(struct job *j)
{
    if (!j->via_server || off)
        return;
    /* The main process exec'd (the new image registered again under the same pid): the
     * fork server saves nothing for such a program, its runs pay the exec anyway. */
    struct wedge_shm_header *h = j->shm ? j->shm->hdr : NULL;
    if (!h || !(atomic_load(&h->flags) & WEDGE_RUN_EXECED))
        return;
    uint32_t n = atomic_load(&h->nprocs);
    if (n > WEDGE_MAX_PROCS)
        n = WEDGE_MAX_PROCS;
    for (uint32_t i = 1; i < n; i++)
        if (h->procs[i].pid == h->procs[0].pid) {
            turn_off("the program execs at once"); /* idle servers wait for the shutdown */
            return;
        }
}
