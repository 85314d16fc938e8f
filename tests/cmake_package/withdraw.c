/* withdraw.c - N threads each withdraw the whole balance of one account if it is still there.
 * Racy: the balance is read under the lock and written under the lock, but the lock is let go
 * in between (check, then act), so two threads can both see the money.  SAMPLE_FIXED: one
 * critical section.  Exits 1 when more than one withdrawal succeeded. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int balance = 100, withdrawals;

static void *withdraw(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    int seen = balance;
#ifndef SAMPLE_FIXED
    pthread_mutex_unlock(&lock);
    pthread_mutex_lock(&lock);
#endif
    if (seen >= 100) {
        balance = seen - 100;
        withdrawals++;
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2;
    pthread_t t[16];
    if (n < 2 || n > 16)
        n = 2;
    for (int i = 0; i < n; i++)
        pthread_create(&t[i], NULL, withdraw, NULL);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    if (withdrawals > 1) {
        printf("withdraw: %d withdrawals of one balance\n", withdrawals);
        return 1;
    }
    return 0;
}
