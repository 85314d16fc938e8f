/* ordering_many N [altstack]: N setter threads each do `a = 1; b = -1;` on plain globals; one checker
 * thread, created last, must never see a == 1 while b is still 0.  It does when it looks
 * between some setter's two stores: a window with no call in it, which only a scheduler that
 * sees plain memory accesses (or luck on real parallel hardware) can stop a setter in.  The
 * more setters, the less likely a random schedule stops one there right when the checker
 * looks (N = 3, 5, 10, 20 in scripts/bench/finding).
 *
 * altstack: every thread runs on a small alternate signal stack with a SIGSEGV handler
 * (SA_ONSTACK) for stack overflows, as every Rust thread does: wedge's fault handler for
 * watched pages then runs on that stack.
 *
 * WEDGE_FIXED: each setter writes b before a, so a == 1 implies b == -1 (x86 keeps stores
 * and loads in program order, and volatile keeps the compiler from reordering them). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static volatile int a, b;

/* A stack overflow's handler, as Rust's: back to the default action, and the fault again. */
static void on_overflow(int sig, siginfo_t *si, void *ctx)
{
    (void)si;
    (void)ctx;
    signal(sig, SIG_DFL);
}

/* This thread's alternate signal stack: SIGSTKSZ bytes, Rust's size.  (The flag comes as the
 * thread's argument, not in a global: a global read by every thread would add a reads-from
 * pair of its own to the program's.) */
static void small_altstack(int use_altstack)
{
    if (!use_altstack)
        return;
    stack_t ss = { .ss_size = SIGSTKSZ };
    ss.ss_sp = mmap(NULL, ss.ss_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ss.ss_sp == MAP_FAILED || sigaltstack(&ss, NULL) != 0) {
        perror("ordering_many: sigaltstack");
        exit(2);
    }
}

static void *setter(void *arg)
{
    small_altstack(arg != NULL);
#ifdef WEDGE_FIXED
    b = -1;
    a = 1;
#else
    a = 1;
    b = -1;
#endif
    return NULL;
}

static void *checker(void *arg)
{
    small_altstack(arg != NULL);
    int x = a;
    int y = b;
    return (void *)(size_t)(x == 1 && y == 0);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 3;
    int use_altstack = argc > 2 && strcmp(argv[2], "altstack") == 0;
    if (n < 1 || n > 64 || (argc > 2 && !use_altstack)) {
        fprintf(stderr, "usage: ordering_many [N setters, 1..64 [altstack]]\n");
        return 2;
    }
    if (use_altstack) {
        struct sigaction sa = { .sa_sigaction = on_overflow, .sa_flags = SA_SIGINFO | SA_ONSTACK };
        sigaction(SIGSEGV, &sa, NULL);
        small_altstack(1);
    }
    pthread_t t[65];
    for (int i = 0; i < n; i++)
        pthread_create(&t[i], NULL, setter, use_altstack ? &t[i] : NULL);
    pthread_create(&t[n], NULL, checker, use_altstack ? &t[n] : NULL);
    void *bad;
    pthread_join(t[n], &bad);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    if (bad) {
        printf("ordering_many: checker saw a == 1 and b == 0 (%d setters)\n", n);
        return 1;
    }
    return 0;
}
