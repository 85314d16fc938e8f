/* publish_flag: a writer publishes a result to a polling reader through a flag, but sets the
 * flag BEFORE writing the data.  A reader that looks between the two stores sees the flag and
 * stale data: the run fails.
 *
 * WEDGE_FIXED: data first, then a release store of the flag (the reader loads it with
 * acquire). */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>

#define ANSWER 42

#ifdef WEDGE_FIXED
static atomic_int ready;
static int data;
#else
static volatile int ready; /* volatile: the stores stay in the order written */
static volatile int data;
#endif

static void *writer(void *arg)
{
#ifdef WEDGE_FIXED
    data = ANSWER;
    atomic_store_explicit(&ready, 1, memory_order_release);
#else
    ready = 1; /* WEDGE-LINE: ready_write */
    data = ANSWER; /* WEDGE-LINE: data_write */
#endif
    return NULL;
}

static void *reader(void *arg)
{
#ifdef WEDGE_FIXED
    while (!atomic_load_explicit(&ready, memory_order_acquire))
        sched_yield();
#else
    while (!ready) /* WEDGE-LINE: ready_read */
        sched_yield();
#endif
    return (void *)(size_t)data; /* WEDGE-LINE: data_read */
}

int main(void)
{
    pthread_t r, w;
    pthread_create(&r, NULL, reader, NULL);
    pthread_create(&w, NULL, writer, NULL);
    void *seen;
    pthread_join(r, &seen);
    pthread_join(w, NULL);
    if ((int)(size_t)seen != ANSWER) {
        printf("publish_flag: reader saw ready but data %d, not %d\n", (int)(size_t)seen, ANSWER);
        return 1;
    }
    return 0;
}
