/* shm.c - the shared memory file of each job slot (see wedge_protocol.h).
 *
 * One file per slot, reused run after run: creating 3 MB of tmpfs per run would cost more
 * than the run.  Files are named after our pid so that a wedge that died without cleaning up
 * (SIGKILL, crash) is recognized and its files removed by the next wedge.
 */
#define _GNU_SOURCE
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SHM_DIR "/dev/shm"
#define MAX_TRACKED 1024

/* Paths of the files we created, for removal on every exit path (atexit, fatal signals).
 * Plain static storage: the signal path may not allocate. */
static char tracked[MAX_TRACKED][64];
static volatile sig_atomic_t ntracked;

void shm_remove_stale(void)
{
    DIR *d = opendir(SHM_DIR);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        int pid;
        unsigned slot;
        char tail;
        if (sscanf(e->d_name, "wedge.%d.%u%c", &pid, &slot, &tail) != 2 || pid <= 0)
            continue;
        if (pid == getpid())
            continue;
        if (kill(pid, 0) == 0 || errno != ESRCH)
            continue; /* alive (or not ours to judge): leave it */
        char path[300];
        snprintf(path, sizeof path, "%s/%s", SHM_DIR, e->d_name);
        unlink(path);
    }
    closedir(d);
}

int shm_create(struct wedge_shm_slot *s, unsigned slot)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    snprintf(s->path, sizeof s->path, SHM_DIR "/wedge.%d.%u", (int)getpid(), slot);
    int fd = open(s->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
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
    memset(h, 0, sizeof *h);
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
