/* shim_check - runs one program under libwedge.so with a fresh run memory, the way the CLI
 * does, and checks what the shim left there.  Tests the shim on its own, without the CLI.
 *
 *   shim_check SHIM TOKEN [--exit N] [--kind NAME]... [--min-threads N] [--min-procs N]
 *              [--flag NAME]... -- PROGRAM [ARGS...]
 *
 * Prints what it found and "N passed, N failed"; exits 1 on any failed expectation.
 */
#define _GNU_SOURCE
#include "wedge_protocol.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static int passed, failed;

static void expect(int ok, const char *what)
{
    printf("%s: %s\n", ok ? "PASS" : "FAIL", what);
    ok ? passed++ : failed++;
}

static int kind_by_name(const char *name)
{
    for (unsigned k = 0; k < WEDGE_EV_KIND_COUNT; k++)
        if (strcmp(wedge_event_kind_name(k), name) == 0)
            return (int)k;
    return -1;
}

static uint32_t flag_by_name(const char *name)
{
    static const struct { const char *n; uint32_t f; } t[] = {
        { "attached", WEDGE_RUN_ATTACHED }, { "forked", WEDGE_RUN_FORKED },
        { "execed", WEDGE_RUN_EXECED },     { "deadlock", WEDGE_RUN_DEADLOCK },
        { "not_exact", WEDGE_RUN_NOT_EXACT },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].n, name) == 0)
            return t[i].f;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: shim_check SHIM TOKEN [expectations] -- PROGRAM [ARGS]\n");
        return 2;
    }
    const char *shim = argv[1], *token = argv[2];
    int want_exit = 0, min_threads = 1, min_procs = 1, nkinds = 0;
    int kinds[32];
    uint32_t flags = WEDGE_RUN_ATTACHED;
    int i = 3;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (!strcmp(argv[i], "--exit") && i + 1 < argc)
            want_exit = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--min-threads") && i + 1 < argc)
            min_threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--min-procs") && i + 1 < argc)
            min_procs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--kind") && i + 1 < argc && nkinds < 32) {
            kinds[nkinds] = kind_by_name(argv[++i]);
            if (kinds[nkinds] < 0) {
                fprintf(stderr, "unknown kind %s\n", argv[i]);
                return 2;
            }
            nkinds++;
        } else if (!strcmp(argv[i], "--flag") && i + 1 < argc) {
            uint32_t f = flag_by_name(argv[++i]);
            if (!f) {
                fprintf(stderr, "unknown flag %s\n", argv[i]);
                return 2;
            }
            flags |= f;
        } else {
            fprintf(stderr, "bad argument %s\n", argv[i]);
            return 2;
        }
    }
    if (i + 1 >= argc) {
        fprintf(stderr, "missing -- PROGRAM\n");
        return 2;
    }
    char **prog = argv + i + 1;

    char path[64];
    snprintf(path, sizeof path, "/dev/shm/wedge-check.%d", (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || ftruncate(fd, (off_t)WEDGE_SHM_SIZE) != 0) {
        perror(path);
        return 2;
    }
    struct wedge_shm_header *h =
        mmap(NULL, WEDGE_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (h == MAP_FAILED) {
        perror("mmap");
        unlink(path);
        return 2;
    }
    h->magic = WEDGE_SHM_MAGIC;
    h->version = WEDGE_PROTOCOL_VERSION;
    h->header_size = (uint32_t)sizeof *h;
    h->max_threads = WEDGE_MAX_THREADS;
    h->ring_events = WEDGE_RING_EVENTS;

    pid_t pid = fork();
    if (pid == 0) {
        setenv("LD_PRELOAD", shim, 1);
        setenv(WEDGE_ENV_SHM, path, 1);
        setenv(WEDGE_ENV_TOKEN, token, 1);
        execvp(prog[0], prog);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    unlink(path);

    char what[256];
    if (WIFEXITED(st))
        snprintf(what, sizeof what, "exit status %d (want %d)", WEXITSTATUS(st), want_exit);
    else
        snprintf(what, sizeof what, "killed by signal %d (want exit %d)", WTERMSIG(st), want_exit);
    expect(WIFEXITED(st) && WEXITSTATUS(st) == want_exit, what);
    snprintf(what, sizeof what, "run flags 0x%x include 0x%x", atomic_load(&h->flags), flags);
    expect((atomic_load(&h->flags) & flags) == flags, what);
    uint32_t nt = atomic_load(&h->nthreads), np = atomic_load(&h->nprocs);
    snprintf(what, sizeof what, "%u thread slots (want >= %d)", nt, min_threads);
    expect(nt >= (uint32_t)min_threads, what);
    snprintf(what, sizeof what, "%u processes (want >= %d)", np, min_procs);
    expect(np >= (uint32_t)min_procs, what);

    /* events by kind, and the global order must be unique across threads */
    unsigned count[WEDGE_EV_KIND_COUNT] = { 0 };
    uint64_t total = 0, bad_seq = 0, maxseq = atomic_load(&h->seq);
    for (uint32_t t = 0; t < nt && t < WEDGE_MAX_THREADS; t++) {
        struct wedge_thread_slot *s = wedge_shm_slot(h, t);
        uint64_t head = atomic_load(&s->head);
        uint64_t first = head > WEDGE_RING_EVENTS ? head - WEDGE_RING_EVENTS : 0;
        for (uint64_t k = first; k < head; k++) {
            struct wedge_event *e = &s->ring[k % WEDGE_RING_EVENTS];
            if (e->seq == 0 || e->seq > maxseq)
                bad_seq++;
            if (e->kind < WEDGE_EV_KIND_COUNT)
                count[e->kind]++;
            total++;
        }
    }
    snprintf(what, sizeof what, "%llu events recorded, all with a valid order (%llu bad)",
             (unsigned long long)total, (unsigned long long)bad_seq);
    expect(total > 0 && bad_seq == 0, what);
    for (int k = 0; k < nkinds; k++) {
        snprintf(what, sizeof what, "%u %s events", count[kinds[k]],
                 wedge_event_kind_name((unsigned)kinds[k]));
        expect(count[kinds[k]] > 0, what);
    }
    munmap(h, WEDGE_SHM_SIZE);
    printf("shim_check: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
