/* transfer_ring [N]: N accounts in a ring (default 4), one thread per account moving money
 * to the next account a few times, each account under its own lock, and an auditor that
 * locks every account (in order) and checks the total.  A transfer takes the money out
 * under the source's lock, releases it, and only then puts it in under the destination's:
 * money in flight is on no account, and an auditor that looks then sees money missing.
 *
 * WEDGE_FIXED: a transfer holds both locks (in index order, so that transfers round the ring
 * cannot deadlock) while it moves the money. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define MAXN 64
#define START 100
#define ROUNDS 3

static int n;
static int acct[MAXN];
static pthread_mutex_t lock[MAXN];
static int bad_total = -1;

static void transfer(int from, int to, int amount)
{
#ifdef WEDGE_FIXED
    int lo = from < to ? from : to, hi = from < to ? to : from;
    pthread_mutex_lock(&lock[lo]);
    pthread_mutex_lock(&lock[hi]);
    if (acct[from] >= amount) {
        acct[from] -= amount;
        acct[to] += amount;
    }
    pthread_mutex_unlock(&lock[hi]);
    pthread_mutex_unlock(&lock[lo]);
#else
    pthread_mutex_lock(&lock[from]);
    int ok = acct[from] >= amount;
    if (ok)
        acct[from] -= amount;
    pthread_mutex_unlock(&lock[from]);
    if (ok) {
        pthread_mutex_lock(&lock[to]);
        acct[to] += amount;
        pthread_mutex_unlock(&lock[to]);
    }
#endif
}

static void *mover(void *arg)
{
    int i = (int)(size_t)arg;
    for (int r = 0; r < ROUNDS; r++)
        transfer(i, (i + 1) % n, 10 + r);
    return NULL;
}

static void *auditor(void *arg)
{
    (void)arg;
    for (int r = 0; r < ROUNDS; r++) {
        int total = 0;
        for (int i = 0; i < n; i++)
            pthread_mutex_lock(&lock[i]);
        for (int i = 0; i < n; i++)
            total += acct[i];
        for (int i = n - 1; i >= 0; i--)
            pthread_mutex_unlock(&lock[i]);
        if (total != n * START && bad_total < 0)
            bad_total = total;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    n = argc > 1 ? atoi(argv[1]) : 4;
    if (n < 2 || n > MAXN) {
        fprintf(stderr, "usage: transfer_ring [N accounts, 2..%d]\n", MAXN);
        return 2;
    }
    for (int i = 0; i < n; i++) {
        acct[i] = START;
        pthread_mutex_init(&lock[i], NULL);
    }
    pthread_t t[MAXN], a;
    pthread_create(&a, NULL, auditor, NULL);
    for (int i = 0; i < n; i++)
        pthread_create(&t[i], NULL, mover, (void *)(size_t)i);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    pthread_join(a, NULL);
    if (bad_total >= 0) {
        printf("transfer_ring: auditor saw a total of %d, not %d\n", bad_total, n * START);
        return 1;
    }
    return 0;
}
