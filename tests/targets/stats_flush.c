/* stats_flush: a bug that only a timeout can open.  A worker counts the items it handles in
 * `pending` with a plain read, some work, and a write; a flusher thread moves `pending` into
 * `total` each time its short timed wait ends (a 40 ms housekeeping tick), and once more when
 * the worker says it is done.  A flush between the worker's read and its write counts the
 * flushed items twice.
 *
 * Natively the worker's whole run takes well under the tick, so the flusher's first wake is
 * the "done" wake-up and the bug almost never shows; under wedge a short timed wait may expire
 * early at a seeded moment (preload/timeouts.c, serial mode's "times out now").
 *
 *   stats_flush epoll   the tick is epoll_wait(40 ms) on an eventfd the worker writes when done
 *   stats_flush sem     the tick is sem_timedwait(now + 40 ms) on a semaphore it posts
 *   stats_flush clock   the tick is sem_clockwait(CLOCK_MONOTONIC, now + 40 ms)
 *
 * With -DWEDGE_FIXED (stats_flush_fixed) the worker's update and the flush hold one mutex. */
#define _GNU_SOURCE /* sem_clockwait */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define ITEMS 60
#define TICK_MS 40

static long pending, total;
static enum { EPOLL, SEM, CLOCK } how;
static int evfd, epfd;
static sem_t done_sem;

#ifdef WEDGE_FIXED
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
#endif

static void lock_fixed(void)
{
#ifdef WEDGE_FIXED
    pthread_mutex_lock(&lock);
#endif
}

static void unlock_fixed(void)
{
#ifdef WEDGE_FIXED
    pthread_mutex_unlock(&lock);
#endif
}

/* a few microseconds of work per item, with a system call in it (a log line to nowhere) */
static void handle(int item, int log)
{
    volatile unsigned h = (unsigned)item;
    for (int k = 0; k < 200; k++)
        h = h * 2654435761u + (unsigned)k;
    char line[16];
    int n = snprintf(line, sizeof line, "%u\n", h);
    if (write(log, line, (size_t)n) != n)
        perror("stats_flush: log");
}

static void *worker(void *arg)
{
    int log = (int)(intptr_t)arg;
    for (int i = 0; i < ITEMS; i++) {
        lock_fixed();
        long n = pending;
        handle(i, log);
        pending = n + 1;
        unlock_fixed();
    }
    if (how == EPOLL) {
        uint64_t one = 1;
        if (write(evfd, &one, sizeof one) != sizeof one)
            perror("stats_flush: write");
    } else {
        sem_post(&done_sem);
    }
    return NULL;
}

static struct timespec after_ms(clockid_t c, int ms)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    ts.tv_nsec += (long)ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    return ts;
}

/* 1 when the worker is done, 0 on a tick */
static int tick(void)
{
    if (how == EPOLL) {
        struct epoll_event ev;
        return epoll_wait(epfd, &ev, 1, TICK_MS) == 1;
    }
    struct timespec dl = after_ms(how == SEM ? CLOCK_REALTIME : CLOCK_MONOTONIC, TICK_MS);
    int r = how == SEM ? sem_timedwait(&done_sem, &dl)
                       : sem_clockwait(&done_sem, CLOCK_MONOTONIC, &dl);
    return r == 0;
}

static void *flusher(void *arg)
{
    (void)arg;
    for (;;) {
        int done = tick();
        lock_fixed();
        total += pending;
        pending = 0;
        unlock_fixed();
        if (done)
            return NULL;
    }
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "epoll";
    if (strcmp(mode, "epoll") == 0)
        how = EPOLL;
    else if (strcmp(mode, "sem") == 0)
        how = SEM;
    else if (strcmp(mode, "clock") == 0)
        how = CLOCK;
    else {
        fprintf(stderr, "usage: stats_flush [epoll|sem|clock]\n");
        return 2;
    }
    evfd = eventfd(0, EFD_CLOEXEC);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event want = { .events = EPOLLIN };
    if (evfd < 0 || epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, evfd, &want) != 0 ||
        sem_init(&done_sem, 0, 0) != 0) {
        perror("stats_flush: set-up");
        return 2;
    }
    int log = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (log < 0) {
        perror("stats_flush: /dev/null");
        return 2;
    }
    pthread_t w, f;
    pthread_create(&f, NULL, flusher, NULL);
    pthread_create(&w, NULL, worker, (void *)(intptr_t)log);
    pthread_join(w, NULL);
    pthread_join(f, NULL);
    close(log);
    if (total != ITEMS) {
        printf("stats_flush: counted %ld items of %d (a flush inside an update)\n", total, ITEMS);
        return 1;
    }
    return 0;
}
