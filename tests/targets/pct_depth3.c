/* pct_depth3: an ordering bug of depth 3 (two preemptions, in a given order).
 *
 * Thread A takes lock m STEPS times; its K-th critical section opens a window (`a_open = 1`)
 * and its (K+1)-th closes it, checking on the way that nobody left a mark.  Thread B, after
 * PREP acquisitions of its own lock, leaves a mark under m if the window is open and removes it
 * in its very next critical section.  The failure needs: A preempted after its K-th unlock (B
 * runs its mark step), then B preempted right after marking (A runs its K+1-th step and finds
 * the mark).  One preemption is never enough.
 *
 * WEDGE_FIXED: B's mark and unmark happen within one critical section. */
#include <pthread.h>
#include <stdio.h>

#define STEPS 300
#define K 150
#define PREP 200

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t prep_lock = PTHREAD_MUTEX_INITIALIZER;
static int a_open, b_mark;
static int a_found_mark;
static unsigned a_work, b_work;

static void *thread_a(void *arg)
{
    for (unsigned i = 0; i < STEPS; i++) {
        pthread_mutex_lock(&m);
        a_work++;
        if (i == K) {
            a_open = 1;
        } else if (i == K + 1) {
            if (b_mark)
                a_found_mark = 1;
            a_open = 0;
        }
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
#ifdef WEDGE_FIXED
    if (a_open)
        b_mark = 1;
    b_mark = 0;
    pthread_mutex_unlock(&m);
#else
    if (a_open)
        b_mark = 1;
    pthread_mutex_unlock(&m);
    pthread_mutex_lock(&m);
    b_mark = 0;
    pthread_mutex_unlock(&m);
#endif
    for (unsigned j = 0; j < PREP; j++) {
        pthread_mutex_lock(&prep_lock);
        b_work++;
        pthread_mutex_unlock(&prep_lock);
    }
    return NULL;
}

int main(void)
{
    pthread_t a, b;
    pthread_create(&a, NULL, thread_a, NULL);
    pthread_create(&b, NULL, thread_b, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    if (a_found_mark) {
        printf("pct_depth3: A found B's mark at step %d (B ran inside A's window and was preempted)\n",
               K + 1);
        return 1;
    }
    if (a_work != STEPS || b_work != 2 * PREP) {
        printf("pct_depth3: work counters wrong (%u, %u)\n", a_work, b_work);
        return 1;
    }
    return 0;
}
