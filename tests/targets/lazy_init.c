/* lazy_init: several threads use a lazily built object: `if (!p) p = make();`.  make() counts
 * its constructions; two threads that both see p == NULL build it twice (a leaked second
 * registry, a double registration): the run fails.
 *
 * WEDGE_FIXED: pthread_once. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#define THREADS 4

struct registry { unsigned entries[8]; };

static struct registry *volatile reg;
static atomic_int constructions;
#ifdef WEDGE_FIXED
static pthread_once_t reg_once = PTHREAD_ONCE_INIT;
#endif

/* Registries come from a static pool rather than malloc: the first malloc of a thread creates
 * its arena (tens of microseconds), which would hold the window open natively. */
static struct registry pool[THREADS];

static struct registry *make(void)
{
    struct registry *r = &pool[atomic_fetch_add(&constructions, 1) % THREADS];
    for (unsigned i = 0; i < 8; i++)
        r->entries[i] = i;
    return r;
}

#ifdef WEDGE_FIXED
static void make_once(void) { reg = make(); }
#endif

static void *user(void *arg)
{
#ifdef WEDGE_FIXED
    pthread_once(&reg_once, make_once);
#else
    if (!reg) /* WEDGE-LINE: reg_check */
        reg = make(); /* WEDGE-LINE: reg_set */
#endif
    return (void *)(size_t)reg->entries[7];
}

int main(void)
{
    pthread_t th[THREADS];
    for (unsigned i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, user, NULL);
    for (unsigned i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    int n = atomic_load(&constructions);
    if (n != 1) {
        printf("lazy_init: registry constructed %d times\n", n);
        return 1;
    }
    return 0;
}
