/* wrong_lock: an account shared by two kinds of withdrawers, each checking the balance and
 * then taking the money inside a critical section, but under different locks: the ATM path
 * holds atm_lock, the online path holds web_lock.  Each critical section looks right; they
 * do not exclude each other.  Two withdrawals that both pass the check before either takes
 * the money overdraw the account.  The check-then-act window holds no call.
 *
 * WEDGE_FIXED: both paths take the account's one lock. */
#include <pthread.h>
#include <stdio.h>

#define START 100
#define AMOUNT 60

static pthread_mutex_t atm_lock = PTHREAD_MUTEX_INITIALIZER;
#ifdef WEDGE_FIXED
#define web_lock atm_lock
#else
static pthread_mutex_t web_lock = PTHREAD_MUTEX_INITIALIZER;
#endif
static volatile int balance = START;
static int paid;

static void withdraw(pthread_mutex_t *lock)
{
    pthread_mutex_lock(lock);
    if (balance >= AMOUNT) {
        balance = balance - AMOUNT;
        paid += AMOUNT;
    }
    pthread_mutex_unlock(lock);
}

static void *atm(void *arg)
{
    (void)arg;
    withdraw(&atm_lock);
    return NULL;
}

static void *web(void *arg)
{
    (void)arg;
    withdraw(&web_lock);
    return NULL;
}

int main(void)
{
    pthread_t a, w;
    pthread_create(&a, NULL, atm, NULL);
    pthread_create(&w, NULL, web, NULL);
    pthread_join(a, NULL);
    pthread_join(w, NULL);
    if (balance < 0) {
        printf("wrong_lock: balance %d after withdrawals of %d from %d\n", balance, AMOUNT, START);
        return 1;
    }
    return 0;
}
