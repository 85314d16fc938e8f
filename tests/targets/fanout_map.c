/* fanout_map: a worker thread aggregates results into a shared chained hash map; half-way it
 * fires a request whose completion callback runs on a completion thread (woken through a
 * condition variable) and inserts its own results into the same map with no lock.
 *
 * insert() reads a bucket's head, allocates the node, then links it at the head: when both
 * threads insert into one bucket at once, one node is lost.  Natively the completion thread
 * wakes up long after the worker's short batch is done, so a plain rerun almost never fails.
 *
 * Consistency check: every key present exactly once, chain lengths add up to the count.
 * WEDGE_FIXED: a mutex on both write sites. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define BUCKETS 8
#define WORKER_KEYS 24
#define CALLBACK_KEYS 8

struct node { unsigned key; unsigned value; struct node *next; };

static struct { struct node *bucket[BUCKETS]; unsigned count; } map;
#ifdef WEDGE_FIXED
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;
#define MAP_LOCK() pthread_mutex_lock(&map_lock)
#define MAP_UNLOCK() pthread_mutex_unlock(&map_lock)
#else
#define MAP_LOCK() ((void)0)
#define MAP_UNLOCK() ((void)0)
#endif

static pthread_mutex_t req_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t req_cond = PTHREAD_COND_INITIALIZER;
static int request_fired;

static void insert(unsigned key, unsigned value)
{
    MAP_LOCK();
    unsigned b = (key * 2654435761u) % BUCKETS;
    struct node *head = map.bucket[b]; /* WEDGE-LINE: bucket_read */
    for (struct node *n = head; n; n = n->next)
        if (n->key == key) {
            n->value += value;
            MAP_UNLOCK();
            return;
        }
    struct node *n = malloc(sizeof *n);
    if (!n)
        abort();
    n->key = key;
    n->value = value;
    n->next = head;
    map.bucket[b] = n; /* WEDGE-LINE: bucket_write */
    map.count++; /* WEDGE-LINE: count_rmw */
    MAP_UNLOCK();
}

/* The completion callback: runs on the completion thread once the request was fired. */
static void on_complete(void)
{
    for (unsigned k = 0; k < CALLBACK_KEYS; k++)
        insert(1000 + k, k);
}

static void *completion_thread(void *arg)
{
    pthread_mutex_lock(&req_lock);
    while (!request_fired)
        pthread_cond_wait(&req_cond, &req_lock);
    pthread_mutex_unlock(&req_lock);
    on_complete();
    return NULL;
}

static void *worker(void *arg)
{
    for (unsigned k = 0; k < WORKER_KEYS; k++) {
        if (k == WORKER_KEYS / 2) {
            pthread_mutex_lock(&req_lock);
            request_fired = 1;
            pthread_cond_signal(&req_cond);
            pthread_mutex_unlock(&req_lock);
        }
        insert(k, k * 3);
    }
    return NULL;
}

int main(void)
{
    pthread_t c, w;
    pthread_create(&c, NULL, completion_thread, NULL);
    pthread_create(&w, NULL, worker, NULL);
    pthread_join(w, NULL);
    pthread_join(c, NULL);

    unsigned chained = 0, missing = 0, dup = 0;
    for (unsigned b = 0; b < BUCKETS; b++)
        for (struct node *n = map.bucket[b]; n; n = n->next)
            chained++;
    for (unsigned i = 0; i < WORKER_KEYS + CALLBACK_KEYS; i++) {
        unsigned key = i < WORKER_KEYS ? i : 1000 + (i - WORKER_KEYS);
        unsigned found = 0;
        for (unsigned b = 0; b < BUCKETS; b++)
            for (struct node *n = map.bucket[b]; n; n = n->next)
                found += n->key == key;
        missing += found == 0;
        dup += found > 1;
    }
    if (missing || dup || chained != map.count || map.count != WORKER_KEYS + CALLBACK_KEYS) {
        printf("fanout_map: map inconsistent: count %u, chained %u, expected %u (%u keys missing, %u twice)\n",
               map.count, chained, WORKER_KEYS + CALLBACK_KEYS, missing, dup);
        return 1;
    }
    return 0;
}
