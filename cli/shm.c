/* shm.c - the shared memory file of each job slot (see wedge_protocol.h).
 *
 * One file per slot, reused run after run: creating 3 MB of tmpfs per run would cost more
 * than the run.  Names are "wedge.PID.SLOT.RANDOM", created with O_EXCL (a clash, e.g. a
 * stale file of an earlier wedge that had our pid in another container, is retried under a
 * new name), and wedge holds an flock on each of its files while it lives: a file nobody
 * holds locked is stale (its wedge died by SIGKILL or crashed, in any pid namespace) and is
 * removed by the next wedge.  Files of the older "wedge.PID.SLOT" form carry no lock: they
 * are removed when no process has that pid.
 */
#define _GNU_SOURCE
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SHM_DIR "/dev/shm"
#define MAX_TRACKED 1024

/* Paths of the files we created, for removal on every exit path (atexit, fatal signals).
 * Plain static storage: the signal path may not allocate. */
static char tracked[MAX_TRACKED][64];
static volatile sig_atomic_t ntracked;

/* A file of the locked form is stale if we can take its lock.  Holding it while we unlink
 * is what makes this safe: a creator checks, once it holds its own lock, that its file is
 * still linked (shm_create), so a file taken in the moment between its creation and its
 * lock is retried, never lost. */
static void remove_if_unlocked(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
        unlink(path);
    close(fd);
}

void shm_remove_stale(void)
{
    DIR *d = opendir(SHM_DIR);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        int pid;
        unsigned slot, rnd;
        char tail;
        char path[300];
        snprintf(path, sizeof path, "%s/%s", SHM_DIR, e->d_name);
        int nf = sscanf(e->d_name, "wedge.%d.%u.%8x%c", &pid, &slot, &rnd, &tail);
        if (nf == 3 && pid > 0) {
            remove_if_unlocked(path);
            continue;
        }
        if (sscanf(e->d_name, "wedge.%d.%u%c", &pid, &slot, &tail) != 2 || pid <= 0)
            continue;
        if (pid == getpid())
            continue; /* not ours (we never make this form), but not provably stale either */
        if (kill(pid, 0) == 0 || errno != ESRCH)
            continue; /* alive (or not ours to judge): leave it */
        unlink(path);
    }
    closedir(d);
}

/* Create, lock and check one new file; -1 with errno set (EEXIST: try another name). */
static int create_locked(char *path, size_t len, unsigned slot)
{
    uint32_t rnd = 0;
    if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd)
        rnd = (uint32_t)now_us() ^ (uint32_t)rand();
    snprintf(path, len, SHM_DIR "/wedge.%d.%u.%08x", (int)getpid(), slot, rnd);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    struct stat st;
    if (flock(fd, LOCK_EX) != 0 || fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        unlink(path);
        errno = e;
        return -1;
    }
    if (st.st_nlink == 0) { /* another wedge's stale sweep took it before our lock */
        close(fd);
        errno = EEXIST;
        return -1;
    }
    return fd;
}

static pid_t janitor;

/* 1 if a file of wedge `pid` (of the locked form) is still there. */
static int files_left(pid_t pid)
{
    DIR *d = opendir(SHM_DIR);
    if (!d)
        return 0;
    char prefix[32];
    int n = snprintf(prefix, sizeof prefix, "wedge.%d.", (int)pid);
    int left = 0;
    struct dirent *e;
    while ((e = readdir(d)) && !left)
        left = strncmp(e->d_name, prefix, (size_t)n) == 0;
    closedir(d);
    return left;
}

int shm_janitor(pid_t pid)
{
    return janitor > 0 && pid == janitor;
}

/* wedge killed by SIGKILL cannot remove its files; a process of its own, started before the
 * first file, waits for wedge's death (its parent-death signal) and then removes every stale
 * file, ours among them: their locks died with wedge.  It holds none of wedge's descriptors
 * (a copy would keep the locks alive).  A fork of single-threaded wedge that never exit()s. */
static void start_janitor(void)
{
    pid_t wedge = getpid();
    janitor = fork();
    if (janitor != 0)
        return; /* fork failure: the next wedge removes the files */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    helper_process_start(&set);
    helper_process_close_all();
    while (getppid() == wedge) {
        siginfo_t si;
        struct timespec t = { 1, 0 }; /* a missed signal is caught by the getppid check */
        sigtimedwait(&set, &si, &t);
    }
    /* A process forked by wedge that dies with it (a supervisor before its munmap, a helper)
     * may still map a file for a moment, and a mapping keeps the file's lock: try again, for
     * up to 5 s (e2e.fault.sigkill without the fork server saw a file left under load). */
    for (int i = 0; i < 250; i++) {
        shm_remove_stale();
        if (!files_left(wedge))
            break;
        struct timespec pause = { 0, 20 * 1000 * 1000 };
        nanosleep(&pause, NULL);
    }
    _exit(0);
}

int shm_create(struct wedge_shm_slot *s, unsigned slot)
{
    if (!janitor)
        start_janitor();
    memset(s, 0, sizeof *s);
    s->fd = -1;
    int fd = -1;
    for (int attempt = 0; attempt < 16 && fd < 0; attempt++) {
        fd = create_locked(s->path, sizeof s->path, slot);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        usage_error("cannot create %s: %s", s->path, strerror(errno));
        return -1;
    }
    if (ntracked < MAX_TRACKED) {
        memcpy(tracked[ntracked], s->path, sizeof s->path);
        ntracked++;
    }
    if (ftruncate(fd, (off_t)WEDGE_SHM_SIZE) != 0) {
        usage_error("cannot size %s: %s", s->path, strerror(errno));
        close(fd);
        return -1;
    }
    void *p = mmap(NULL, WEDGE_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        usage_error("cannot map %s: %s", s->path, strerror(errno));
        close(fd);
        return -1;
    }
    s->fd = fd;
    s->hdr = p;
    /* A fresh file is all zeros: every thread slot is already clean. */
    s->prev_nthreads = 0;
    shm_reset(s);
    return 0;
}

void shm_reset(struct wedge_shm_slot *s)
{
    struct wedge_shm_header *h = s->hdr;
    /* Only what the previous run could have touched: the header and its thread slots.
     * Ring contents need no clearing: a slot's head says which entries are valid. */
    uint32_t prev = s->prev_nthreads;
    if (prev > WEDGE_MAX_THREADS)
        prev = WEDGE_MAX_THREADS;
    for (uint32_t i = 0; i < prev; i++) {
        struct wedge_thread_slot *t = wedge_shm_slot(h, i);
        atomic_store(&t->used, 0);
        atomic_store(&t->head, 0);
        atomic_store(&t->state, WEDGE_TS_FREE);
    }
    /* The header's big tables only as far as the previous run filled them (a whole-header
     * memset was two thirds of the runner's instructions per run, issue 12); what lies
     * between them and the end of the header's fields is cleared whole. */
    uint32_t nprocs = atomic_load(&h->nprocs), nmodules = atomic_load(&h->nmodules);
    if (nprocs > WEDGE_MAX_PROCS)
        nprocs = WEDGE_MAX_PROCS;
    if (nmodules > WEDGE_MAX_MODULES)
        nmodules = WEDGE_MAX_MODULES;
    /* the side tables past the header's fields: as far as the last run used them */
    uint32_t nallocs = atomic_load(&h->n_allocs);
    if (nallocs > WEDGE_MAX_ALLOCS)
        nallocs = WEDGE_MAX_ALLOCS;
    memset(h->allocs, 0, nallocs * sizeof h->allocs[0]);
    uint32_t nframes = atomic_load(&h->n_frames);
    if (nframes > WEDGE_MAX_FRAMES)
        nframes = WEDGE_MAX_FRAMES;
    memset(h->frames, 0, nframes * sizeof h->frames[0]);
    if (atomic_load(&h->last_used))
        memset(h->last, 0, sizeof h->last);
    memset(h, 0, offsetof(struct wedge_shm_header, procs));
    memset(h->procs, 0, nprocs * sizeof h->procs[0]);
    memset(h->modules, 0, nmodules * sizeof h->modules[0]);
    memset(&h->rendezvous, 0,
           offsetof(struct wedge_shm_header, pad) - offsetof(struct wedge_shm_header, rendezvous));
    h->magic = WEDGE_SHM_MAGIC;
    h->version = WEDGE_PROTOCOL_VERSION;
    h->header_size = (uint32_t)WEDGE_SHM_HEADER_SIZE;
    h->max_threads = WEDGE_MAX_THREADS;
    h->ring_events = WEDGE_RING_EVENTS;
    s->prev_nthreads = 0;
}

void shm_destroy(struct wedge_shm_slot *s)
{
    if (s->hdr)
        munmap(s->hdr, WEDGE_SHM_SIZE);
    if (s->fd >= 0)
        close(s->fd);
    if (s->path[0])
        unlink(s->path);
    s->hdr = NULL;
    s->fd = -1;
}

/* async-signal-safe: only unlink */
void shm_destroy_all(void)
{
    for (int i = 0; i < ntracked; i++)
        if (tracked[i][0])
            unlink(tracked[i]);
}
