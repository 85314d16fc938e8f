/* ordering_many N: N setter threads each do `a = 1; b = -1;` on plain globals; one checker
 * thread, created last, must never see a == 1 while b is still 0.  It does when it looks
 * between some setter's two stores: a window with no call in it, which only a scheduler that
 * sees plain memory accesses (or luck on real parallel hardware) can stop a setter in.  The
 * more setters, the less likely a random schedule stops one there right when the checker
 * looks (N = 3, 5, 10, 20 in scripts/bench/finding).
 *
 * WEDGE_FIXED: each setter writes b before a, so a == 1 implies b == -1 (x86 keeps stores
 * and loads in program order, and volatile keeps the compiler from reordering them). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static volatile int a, b;

static void *setter(void *arg)
{
    (void)arg;
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
    (void)arg;
    int x = a;
    int y = b;
    return (void *)(size_t)(x == 1 && y == 0);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 3;
    if (n < 1 || n > 64) {
        fprintf(stderr, "usage: ordering_many [N setters, 1..64]\n");
        return 2;
    }
    pthread_t t[65];
    for (int i = 0; i < n; i++)
        pthread_create(&t[i], NULL, setter, NULL);
    pthread_create(&t[n], NULL, checker, NULL);
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
