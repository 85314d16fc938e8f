/* io_buffers_ok: a correct multithreaded program whose shared heap buffers and globals travel
 * through system calls: a producer fills a heap buffer and write()s it to a pipe; a consumer
 * read()s it into a shared heap buffer, memcpy()s it into a global array and write()s it to a
 * file; main pread()s the file back, compares, and printf()s a checksum.  With memory watching
 * these buffers may sit on protected pages: a system call given such a pointer must still work
 * (no EFAULT).  Output is deterministic; exit 0. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK 512
#define CHUNKS 8

static int pipefd[2];
static int filefd = -1;
static unsigned char global_copy[CHUNK * CHUNKS];
static unsigned char *shared_in; /* heap, written by the consumer */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned chunks_done;

static int write_all(int fd, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static void *producer(void *arg)
{
    unsigned char *buf = malloc(CHUNK);
    if (!buf)
        return (void *)1;
    for (unsigned c = 0; c < CHUNKS; c++) {
        for (unsigned i = 0; i < CHUNK; i++)
            buf[i] = (unsigned char)(c * 31 + i * 7);
        if (write_all(pipefd[1], buf, CHUNK) != 0) {
            free(buf);
            return (void *)1;
        }
    }
    free(buf);
    close(pipefd[1]);
    return NULL;
}

static void *consumer(void *arg)
{
    for (unsigned c = 0; c < CHUNKS; c++) {
        pthread_mutex_lock(&lock);
        int bad = read_all(pipefd[0], shared_in, CHUNK) != 0;
        if (!bad) {
            memcpy(global_copy + c * CHUNK, shared_in, CHUNK);
            bad = write_all(filefd, shared_in, CHUNK) != 0;
            chunks_done++;
        }
        pthread_mutex_unlock(&lock);
        if (bad)
            return (void *)1;
    }
    return NULL;
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/io_buffers_ok.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    filefd = mkstemp(path);
    if (filefd < 0 || pipe(pipefd) != 0) {
        perror("io_buffers_ok: setup");
        return 2;
    }
    unlink(path);
    shared_in = malloc(CHUNK);
    unsigned char *back = malloc(CHUNK * CHUNKS);
    if (!shared_in || !back)
        return 2;

    pthread_t p, c;
    pthread_create(&p, NULL, producer, NULL);
    pthread_create(&c, NULL, consumer, NULL);
    void *rp, *rc;
    pthread_join(p, &rp);
    pthread_join(c, &rc);
    if (rp || rc) {
        printf("io_buffers_ok: I/O failed: %s\n", strerror(errno));
        return 1;
    }
    ssize_t got = pread(filefd, back, CHUNK * CHUNKS, 0);
    if (got != CHUNK * CHUNKS || memcmp(back, global_copy, CHUNK * CHUNKS) != 0) {
        printf("io_buffers_ok: file content differs (%zd bytes)\n", got);
        return 1;
    }
    unsigned long sum = 0;
    for (unsigned i = 0; i < CHUNK * CHUNKS; i++) {
        unsigned char want = (unsigned char)((i / CHUNK) * 31 + (i % CHUNK) * 7);
        if (global_copy[i] != want) {
            printf("io_buffers_ok: byte %u is %u, want %u\n", i, global_copy[i], want);
            return 1;
        }
        sum = sum * 31 + global_copy[i];
    }
    printf("io_buffers_ok: %u chunks, checksum %lx\n", chunks_done, sum);
    close(filefd);
    close(pipefd[0]);
    free(shared_in);
    free(back);
    return 0;
}
