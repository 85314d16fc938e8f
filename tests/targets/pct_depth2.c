/* pct_depth2: an ordering bug of depth 2 (one preemption at one exact place).
 *
 * Thread A takes lock m STEPS times.  In its K-th critical section it opens a transient state
 * (`open = 1`: a half-updated index, say) and closes it in its next one.  Thread B first does
 * its own PREP lock acquisitions on another lock, then checks the state once under m.  B's
 * check fails only if it runs between A's K-th unlock and A's next lock: one preemption of A
 * at exactly that point.  Natively B starts long after A passed K, so it never fails.
 *
 * WEDGE_FIXED: A opens and closes the state within one critical section. */
#include <pthread.h>
#include <stdio.h>

#define STEPS 200
#define K 100
#define PREP 100

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t prep_lock = PTHREAD_MUTEX_INITIALIZER;
static int open_state;
static unsigned a_work, b_work;
static int b_saw_open;

static void *thread_a(void *arg)
{
    for (unsigned i = 0; i < STEPS; i++) {
        pthread_mutex_lock(&m);
        a_work++;
#ifdef WEDGE_FIXED
        if (i == K) {
            /* the transient state is opened and closed while m is held: nobody can see it */
            open_state = 1;
            open_state = 0;
        }
#else
        if (i == K)
            open_state = 1; /* WEDGE-LINE: open_set */
        else if (i == K + 1)
            open_state = 0; /* WEDGE-LINE: open_clear */
#endif
        pthread_mutex_unlock(&m);
    }
    return NULL;
}

static void *thread_b(void *arg)
{
    for (unsigned j = 0; j < PREP; j++) {
        pthread_mutex_lock(&prep_lock);
        b_work++;
        pthread_mutex_unlock(&prep_lock);
    }
    pthread_mutex_lock(&m);
    if (open_state) /* WEDGE-LINE: open_check */
        b_saw_open = 1;
    pthread_mutex_unlock(&m);
    return NULL;
}

int main(void)
{
    pthread_t a, b;
    pthread_create(&a, NULL, thread_a, NULL);
    pthread_create(&b, NULL, thread_b, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    if (b_saw_open) {
        printf("pct_depth2: B observed A's half-done state between A's step %d and %d\n", K, K + 1);
        return 1;
    }
    if (a_work != STEPS || b_work != PREP) {
        printf("pct_depth2: work counters wrong (%u, %u)\n", a_work, b_work);
        return 1;
    }
    return 0;
}
