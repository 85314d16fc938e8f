/* lock_order: two threads take two locks in opposite orders (a transfer between two accounts,
 * each side locking its own account first).  If each takes its first lock before the other
 * takes its second, both wait forever: a lock-order deadlock.  Natively the threads rarely
 * overlap (each holds its locks for a few instructions), so a plain rerun almost never hangs;
 * a scheduler that preempts between the two acquisitions makes it hang.
 *
 * The marker comments name the acquisition lines for the tests (tests/e2e/conclusion.sh).
 *
 * WEDGE_FIXED: both threads take the locks in the same order (by address). */
#include <pthread.h>
#include <stdio.h>

#define ROUNDS 20

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static int balance_a = 1000, balance_b = 1000;

static void *a_to_b(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&lock_a); /* WEDGE-LINE: a_first */
        pthread_mutex_lock(&lock_b); /* WEDGE-LINE: a_second */
        balance_a -= 1;
        balance_b += 1;
        pthread_mutex_unlock(&lock_b);
        pthread_mutex_unlock(&lock_a);
    }
    return NULL;
}

static void *b_to_a(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
#ifdef WEDGE_FIXED
        pthread_mutex_lock(&lock_a);
        pthread_mutex_lock(&lock_b);
#else
        pthread_mutex_lock(&lock_b); /* WEDGE-LINE: b_first */
        pthread_mutex_lock(&lock_a); /* WEDGE-LINE: b_second */
#endif
        balance_b -= 1;
        balance_a += 1;
        pthread_mutex_unlock(&lock_a);
        pthread_mutex_unlock(&lock_b);
    }
    return NULL;
}

int main(void)
{
    pthread_t x, y;
    pthread_create(&x, NULL, a_to_b, NULL);
    pthread_create(&y, NULL, b_to_a, NULL);
    pthread_join(x, NULL);
    pthread_join(y, NULL);
    if (balance_a + balance_b != 2000) {
        printf("lock_order: money lost: %d + %d\n", balance_a, balance_b);
        return 1;
    }
    return 0;
}
