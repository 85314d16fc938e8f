/* steal_deque: a work-stealing deque (Chase-Lev, on plain ints with a compare-and-swap on
 * top).  The owner pushes ITEMS jobs at the bottom and pops them back; a thief steals from
 * the top at the same time.  Each job must be run exactly once.  The owner's pop takes the
 * last remaining job without the compare-and-swap that settles the race with a thief that
 * read the same top: both take it, and the job runs twice.  The window lies between plain
 * reads and writes of top and bottom: no call in it.
 *
 * WEDGE_FIXED: the owner settles the last job with a compare-and-swap on top, as the thief
 * does. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

#define ITEMS 16
#define EMPTY (-1)

static volatile int top, bottom;
static int buf[ITEMS];
static int ran[ITEMS];
static pthread_mutex_t ran_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int owner_done;

static void run_job(int x)
{
    pthread_mutex_lock(&ran_lock);
    ran[x]++;
    pthread_mutex_unlock(&ran_lock);
}

static void push(int x)
{
    int b = bottom;
    buf[b] = x;
    bottom = b + 1;
}

static int pop(void)
{
    int b = bottom - 1;
    bottom = b;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    int t = top;
    if (t > b) {
        bottom = t;
        return EMPTY;
    }
    int x = buf[b];
    if (t == b) {
        /* the last job: a thief may be taking it right now */
#ifdef WEDGE_FIXED
        if (!__sync_bool_compare_and_swap(&top, t, t + 1))
            x = EMPTY;
#else
        top = t + 1;
#endif
        bottom = t + 1;
    }
    return x;
}

static int steal(void)
{
    int t = top;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    int b = bottom;
    if (t >= b)
        return EMPTY;
    int x = buf[t];
    if (!__sync_bool_compare_and_swap(&top, t, t + 1))
        return EMPTY;
    return x;
}

static void *owner(void *arg)
{
    (void)arg;
    for (int round = 0; round < ITEMS / 4; round++) {
        for (int k = 0; k < 4; k++)
            push(round * 4 + k);
        int x;
        while ((x = pop()) != EMPTY)
            run_job(x);
    }
    owner_done = 1;
    return NULL;
}

static void *thief(void *arg)
{
    (void)arg;
    while (!owner_done) {
        int x = steal();
        if (x != EMPTY)
            run_job(x);
        else
            sched_yield();
    }
    return NULL;
}

int main(void)
{
    pthread_t o, t;
    pthread_create(&t, NULL, thief, NULL);
    pthread_create(&o, NULL, owner, NULL);
    pthread_join(o, NULL);
    pthread_join(t, NULL);
    for (int i = 0; i < ITEMS; i++)
        if (ran[i] != 1) {
            printf("steal_deque: job %d ran %d times\n", i, ran[i]);
            return 1;
        }
    return 0;
}
