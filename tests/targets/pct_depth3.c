/* pct_depth3: an ordering bug of depth 3 (two preemptions, in a given order).
 *
 * Threads A and B each take lock m STEPS times.  A keeps a window open during its steps
 * [OPEN, CLOSE) and at step CLOSE commits, checking that no half-done work of B is visible.
 * B notes at its first step whether it started inside A's window; if it did, its steps
 * [OPEN, CLOSE) leave a half-done state visible.  The failure needs A preempted inside its
 * window (B starts), then B preempted inside its half-done stretch (A commits and sees it):
 * two preemptions, in that order.  A single preemption never fails: B then either starts
 * outside the window or runs to its end before A commits.  Natively B starts after A is done.
 *
 * WEDGE_FIXED: B's half-done state is set and cleared within one critical section. */
#include <pthread.h>
#include <stdio.h>

#define STEPS 300
#define OPEN 100
#define CLOSE 200

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static int a_open, b_inside, b_half;
static int a_found_half;
static unsigned a_work, b_work;

static void *thread_a(void *arg)
{
    for (unsigned i = 0; i < STEPS; i++) {
        pthread_mutex_lock(&m);
        a_work++;
        if (i == OPEN) {
            a_open = 1; /* WEDGE-LINE: a_open_set */
        } else if (i == CLOSE) {
            if (b_half) /* WEDGE-LINE: b_half_check */
                a_found_half = 1;
            a_open = 0; /* WEDGE-LINE: a_open_clear */
        }
        pthread_mutex_unlock(&m);
    }
    return NULL;
}

static void *thread_b(void *arg)
{
    for (unsigned j = 0; j < STEPS; j++) {
        pthread_mutex_lock(&m);
        b_work++;
        if (j == 0 && a_open) /* WEDGE-LINE: a_open_check */
            b_inside = 1;
#ifdef WEDGE_FIXED
        if (j == OPEN && b_inside) {
            b_half = 1; /* the half-done stretch, now inside one critical section */
            b_half = 0;
        }
#else
        if (j == OPEN && b_inside)
            b_half = 1; /* WEDGE-LINE: b_half_set */
        else if (j == CLOSE)
            b_half = 0; /* WEDGE-LINE: b_half_clear */
#endif
        pthread_mutex_unlock(&m);
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
    if (a_found_half) {
        printf("pct_depth3: A committed at step %d while B's work was half done\n", CLOSE);
        return 1;
    }
    if (a_work != STEPS || b_work != STEPS) {
        printf("pct_depth3: work counters wrong (%u, %u)\n", a_work, b_work);
        return 1;
    }
    return 0;
}
