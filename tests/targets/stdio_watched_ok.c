/* stdio_watched_ok: a correct program whose system calls are made by libc on buffers that
 * memory watching protects (issue 7, item 1).  Two threads pipe data through stdio: the
 * producer fwrite()s 64 KiB chunks from a global buffer, the consumer fread()s them into a
 * heap buffer (glibc reads and writes such large requests directly, with the caller's
 * buffer); under a mutex both stat() into a global struct stat, nanosleep() on a global
 * timespec, getdents64() into a global buffer, and do the same on a heap object they share.
 * None of these calls goes through a wrapper of wedge's: without making every system call safe,
 * the kernel fails them with EFAULT on a watched page.  Exits 0 when everything checks out,
 * 1 with the failed call's error otherwise. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 65536
#define CHUNKS 6

static unsigned char out_buf[CHUNK];
static struct stat st_global;
static struct timespec nap_global = { 0, 100000 };
static char dents_global[4096];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int calls; /* shared under mu: makes the globals' page shared */

struct shared {
    struct stat st;
    struct timespec nap;
    char dents[2048];
};
static struct shared *sh;
static int fds[2];
static const char *dir = "/";

static void die(const char *what)
{
    printf("stdio_watched_ok: %s: %s\n", what, strerror(errno));
    fflush(stdout);
    _exit(1);
}

/* The calls libc makes on our memory, under the lock (both threads touch these pages). */
static void chores(void)
{
    pthread_mutex_lock(&mu);
    calls++;
    if (stat(dir, &st_global) != 0 || !S_ISDIR(st_global.st_mode))
        die("stat into a global");
    if (stat(dir, &sh->st) != 0 || !S_ISDIR(sh->st.st_mode))
        die("stat into the heap");
    if (nanosleep(&nap_global, NULL) != 0)
        die("nanosleep on a global");
    if (nanosleep(&sh->nap, NULL) != 0)
        die("nanosleep on the heap");
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        die("open");
    if (getdents64(fd, dents_global, sizeof dents_global) <= 0)
        die("getdents64 into a global");
    lseek(fd, 0, SEEK_SET);
    if (getdents64(fd, sh->dents, sizeof sh->dents) <= 0)
        die("getdents64 into the heap");
    close(fd);
    pthread_mutex_unlock(&mu);
}

static void *producer(void *arg)
{
    (void)arg;
    FILE *f = fdopen(fds[1], "w");
    if (!f)
        die("fdopen");
    for (int c = 0; c < CHUNKS; c++) {
        for (int i = 0; i < CHUNK; i++)
            out_buf[i] = (unsigned char)(i * 7 + c);
        if (fwrite(out_buf, 1, CHUNK, f) != CHUNK)
            die("fwrite from a global");
        chores();
    }
    if (fclose(f) != 0)
        die("fclose");
    return NULL;
}

int main(void)
{
    sh = malloc(sizeof *sh);
    if (!sh)
        return 2;
    memset(sh, 0, sizeof *sh);
    sh->nap.tv_nsec = 100000;
    unsigned char *in = malloc(CHUNK);
    if (!in || pipe(fds) != 0)
        return 2;
    pthread_t t;
    if (pthread_create(&t, NULL, producer, NULL) != 0)
        return 2;
    FILE *f = fdopen(fds[0], "r");
    if (!f)
        die("fdopen");
    for (int c = 0; c < CHUNKS; c++) {
        if (fread(in, 1, CHUNK, f) != CHUNK)
            die(ferror(f) ? "fread into the heap" : "fread: short");
        for (int i = 0; i < CHUNK; i++)
            if (in[i] != (unsigned char)(i * 7 + c)) {
                printf("stdio_watched_ok: chunk %d byte %d wrong\n", c, i);
                return 1;
            }
        chores();
    }
    pthread_join(t, NULL);
    fclose(f);
    pthread_mutex_lock(&mu);
    int n = calls;
    pthread_mutex_unlock(&mu);
    if (n != 2 * CHUNKS) {
        printf("stdio_watched_ok: %d chores, expected %d\n", n, 2 * CHUNKS);
        return 1;
    }
    free(in);
    free(sh);
    return 0;
}
