/* watched_ops_ok - a correct program whose threads do every kind of memory operation on
 * shared pages: loads and stores of 8 to 64 bits, sign and zero extension, read-modify-writes
 * (add, sub, xor, or, and, shifts, increments), compares and tests of memory, setcc, cmov,
 * multiplication, and atomics (fetch-add, compare-exchange loops, exchange).  Under memory
 * watching each of them traps and is carried out by wedge's fault handler (or stepped); any
 * register, flag or memory wrongly restored shows as a wrong result: exit 1.
 *
 * Each thread works on its own slot of a global array and of a heap array (both shared
 * pages, no data race), and on shared atomic counters; main recomputes every slot on its own
 * stack (not watched) and checks.  Built at -O1 and at -O2 (watched_ops_ok_o2): different
 * instruction forms (memory-operand arithmetic at -O2).  The barrier in each step keeps the
 * compiler from holding a slot in registers across steps. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 4
#define STEPS 400

struct slot {
    int8_t b;
    int16_t h;
    int32_t w;
    int64_t q;
    uint32_t u;
    uint8_t flag;
    uint16_t uh;
    int64_t acc;
};

static struct slot global_slots[THREADS];
static struct slot *heap_slots;
static int64_t shared_add;     /* __atomic_fetch_add */
static int32_t shared_cas;     /* compare-exchange loop */
static uint32_t shared_bits;   /* __atomic_fetch_or */
static int32_t shared_xchg;    /* exchanged, then restored */

#define BARRIER() __asm__ volatile("" ::: "memory")

static void step(struct slot *s, uint32_t i)
{
    s->b = (int8_t)(s->b + (int8_t)i);
    BARRIER();
    s->h = (int16_t)(s->h - (int16_t)(3 * i));
    BARRIER();
    s->w ^= (int32_t)(i * 2654435761u);
    BARRIER();
    s->q = s->q * 7 + i;
    BARRIER();
    s->u <<= 1;
    BARRIER();
    s->u |= i & 1;
    BARRIER();
    if (i % 3 == 0)
        s->u >>= 1;
    BARRIER();
    s->uh += (uint16_t)(s->b & 0x7f);
    BARRIER();
    if (s->w > s->h)
        s->acc += s->b;
    else
        s->acc -= s->h;
    BARRIER();
    s->flag = (s->q & 0x20) != 0;
    BARRIER();
    s->acc += (s->u & (1u << 5)) ? 1 : 2;
    BARRIER();
    s->acc = s->acc > 1000000 ? s->acc - 999 : s->acc;
    BARRIER();
    s->acc += s->flag ? s->uh : -(int64_t)s->b;
    BARRIER();
    s->w++;
    BARRIER();
    s->q--;
    BARRIER();
    s->acc *= 3;
    BARRIER();
    s->acc &= 0xffffffffffll;
    BARRIER();
}

static void *worker(void *arg)
{
    uint32_t id = (uint32_t)(uintptr_t)arg;
    for (uint32_t i = 0; i < STEPS; i++) {
        step(&global_slots[id], i + id);
        step(&heap_slots[id], 2 * i + id);
        __atomic_fetch_add(&shared_add, 1, __ATOMIC_SEQ_CST);
        int32_t old = __atomic_load_n(&shared_cas, __ATOMIC_RELAXED);
        while (!__atomic_compare_exchange_n(&shared_cas, &old, old + 2, 0, __ATOMIC_SEQ_CST,
                                            __ATOMIC_RELAXED))
            ;
        __atomic_fetch_or(&shared_bits, 1u << (id * 8 + i % 8), __ATOMIC_SEQ_CST);
        __atomic_exchange_n(&shared_xchg, (int32_t)id, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

static int same(const struct slot *a, const struct slot *b)
{
    return a->b == b->b && a->h == b->h && a->w == b->w && a->q == b->q && a->u == b->u &&
           a->flag == b->flag && a->uh == b->uh && a->acc == b->acc;
}

int main(void)
{
    heap_slots = calloc(THREADS, sizeof *heap_slots);
    if (!heap_slots)
        return 2;
    pthread_t t[THREADS];
    for (uint32_t k = 0; k < THREADS; k++)
        if (pthread_create(&t[k], NULL, worker, (void *)(uintptr_t)k) != 0)
            return 2;
    for (uint32_t k = 0; k < THREADS; k++)
        pthread_join(t[k], NULL);
    int bad = 0;
    for (uint32_t k = 0; k < THREADS; k++) {
        struct slot g = { 0 }, h = { 0 };
        for (uint32_t i = 0; i < STEPS; i++) {
            step(&g, i + k);
            step(&h, 2 * i + k);
        }
        if (!same(&g, &global_slots[k]) || !same(&h, &heap_slots[k])) {
            fprintf(stderr, "watched_ops_ok: slot %u differs (acc %lld / %lld)\n", k,
                    (long long)global_slots[k].acc, (long long)g.acc);
            bad = 1;
        }
    }
    if (shared_add != THREADS * STEPS || shared_cas != 2 * THREADS * STEPS ||
        shared_bits != 0xffffffffu || shared_xchg < 0 || shared_xchg >= THREADS) {
        fprintf(stderr, "watched_ops_ok: shared counters %lld %d %08x %d\n",
                (long long)shared_add, shared_cas, shared_bits, shared_xchg);
        bad = 1;
    }
    free(heap_slots);
    return bad;
}
