/* stack_locks: lock_order's deadlock with the locks on main's stack (issue 9: stack slots
 * named in reports).  Two accounts live in main's frame, each with its own mutex; two threads
 * transfer between them, each locking its source account first.  If each takes its first lock
 * before the other takes its second, both wait forever.  A report names the locks by where
 * they live: `a.lock` and `b.lock` in main's frame, not bare addresses.  The threads get
 * their arguments from transfer_both's frame, which main called with the accounts' addresses:
 * at pthread_create the shim records the frame that holds the argument and its callers'.
 *
 * WEDGE_FIXED: both threads lock the account at the lower address first. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define ROUNDS 20

struct account {
    pthread_mutex_t lock;
    int balance;
};

struct transfer {
    struct account *from, *to;
};

static void *run_transfers(void *arg)
{
    struct transfer *t = arg;
    struct account *first = t->from, *second = t->to;
#ifdef WEDGE_FIXED
    if ((uintptr_t)second < (uintptr_t)first) {
        first = t->to;
        second = t->from;
    }
#endif
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&first->lock);
        pthread_mutex_lock(&second->lock);
        t->from->balance -= 1;
        t->to->balance += 1;
        pthread_mutex_unlock(&second->lock);
        pthread_mutex_unlock(&first->lock);
    }
    return NULL;
}

/* Both transfers, run from a frame of their own: the argument handed to each thread lies in
 * this frame, the accounts (and their locks) in the caller's, main's (noinline: one frame
 * each, as a larger program would have them). */
static __attribute__((noinline)) void transfer_both(struct account *a, struct account *b)
{
    struct transfer ab = { a, b }, ba = { b, a };
    pthread_t x, y;
    pthread_create(&x, NULL, run_transfers, &ab); /* WEDGE-LINE: create_ab */
    pthread_create(&y, NULL, run_transfers, &ba); /* WEDGE-LINE: create_ba */
    pthread_join(x, NULL);
    pthread_join(y, NULL);
}

int main(void)
{
    struct account a = { PTHREAD_MUTEX_INITIALIZER, 1000 }; /* WEDGE-LINE: account_a */
    struct account b = { PTHREAD_MUTEX_INITIALIZER, 1000 }; /* WEDGE-LINE: account_b */
    transfer_both(&a, &b); /* WEDGE-LINE: transfer_both */
    if (a.balance + b.balance != 2000) {
        printf("stack_locks: money lost: %d + %d\n", a.balance, b.balance);
        return 1;
    }
    return 0;
}
