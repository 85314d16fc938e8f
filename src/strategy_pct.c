/* strategy_pct.c - PCT, probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010).
 *
 * Every thread gets a random priority when it is created; at each point the highest-priority
 * candidate runs.  d-1 change points are drawn over the run's expected length L: at the
 * step of the i-th, the thread at the point drops to priority d-i, below every initial
 * priority (so a later change point puts its thread below an earlier one's, as in the paper).
 * A bug of depth d (d ordering constraints) is found with probability >= 1/(n * L^(d-1)).
 *
 * Steps are the scheduler's decisions among two or more candidates (a point where only one
 * thread can run is no place for a change point), counted the same way in header.steps,
 * from which the runner learns L.
 *
 * One deviation, for half of the runs (a seeded coin): the main thread starts above every
 * other thread.  Tests typically create all their workers and then join; when a worker
 * outranks main, it runs to its end before the next worker exists, and the run exercises no
 * interleaving at all.  The other half keeps plain PCT, where a child may run before its
 * creator goes on (bugs of initialization order).
 *
 * L comes from the token (the runner learns it from the first runs of a campaign); without it
 * WEDGE_PCT_DEFAULT_LENGTH.  Priorities only decide among candidates; a yield or a sleep puts
 * its thread behind the others until someone else progresses (strategy.h), or a busy-wait on
 * sched_yield by the highest thread would never let the thread it waits for run. */
#include "strategy.h"
#include "wedge_stream.h"

#define PCT_MAX_CHANGES 64u
/* Strict priorities are unfair: a high thread polling a flag under a lock (no yield) would
 * starve the low thread that sets it, forever.  Past this many times the expected length
 * (and at least PCT_FAIR_MIN steps) the run is long past its change points: choose at random,
 * which is fair with probability 1. */
#define PCT_FAIR_FACTOR 8u
#define PCT_FAIR_MIN 20000u
/* Without a known length, change points fall in [2^e - 1, 2^(e+1) - 1) for e uniform below
 * this: steps 0 to 4094. */
#define PCT_UNKNOWN_SCALES 12u

struct pct_state {
    uint64_t seed;
    uint64_t epoch;
    uint32_t nchange;
    uint32_t next;                      /* first change point not yet passed */
    uint64_t fair_after;                /* step from which choices are random */
    int main_first;                     /* this run: the main thread starts on top */
    uint64_t change[PCT_MAX_CHANGES];   /* steps, ascending */
};
_Static_assert(sizeof(struct pct_state) <= WEDGE_STRATEGY_STATE_MAX, "pct state size");

/* Initial priorities sit above 2^62; change-point priorities are d-1..1. */
#define PCT_BASE (1ull << 62)

static void pct_init(void *state, const struct wedge_token *tok, uint64_t seed)
{
    struct pct_state *s = state;
    s->seed = seed;
    s->epoch = 1;
    s->next = 0;
    s->main_first = (int)(wedge_mix(seed, 0x6d61696eu) & 1);
    uint32_t d = tok->depth ? tok->depth : 1;
    s->nchange = d - 1 < PCT_MAX_CHANGES ? d - 1 : PCT_MAX_CHANGES;
    uint32_t len = tok->length ? tok->length : WEDGE_PCT_DEFAULT_LENGTH;
    s->fair_after = (uint64_t)len * PCT_FAIR_FACTOR;
    if (s->fair_after < PCT_FAIR_MIN)
        s->fair_after = PCT_FAIR_MIN;
    for (uint32_t i = 0; i < s->nchange; i++) {
        uint64_t h = wedge_mix(seed, 0x70637400u + i);
        uint64_t v;
        if (tok->length) {
            v = wedge_below(h, len);
        } else {
            /* length unknown (the runner's first runs): a program may take 20 steps or
             * 20,000; spread change points evenly over the scales (a power of two, then
             * uniform within it) instead of over 0..WEDGE_PCT_DEFAULT_LENGTH, where a short
             * run would hardly ever meet one */
            uint32_t e = wedge_below(h, PCT_UNKNOWN_SCALES);
            uint32_t lo = (1u << e) - 1u;
            v = lo + wedge_below(h * 0x9e3779b97f4a7c15ull, 1u << e);
        }
        /* insertion sort: at most 63 entries */
        uint32_t j = i;
        while (j > 0 && s->change[j - 1] > v) {
            s->change[j] = s->change[j - 1];
            j--;
        }
        s->change[j] = v;
    }
}

static void pct_thread_new(void *state, uint32_t ordinal, uint64_t *data)
{
    struct pct_state *s = state;
    data[0] = PCT_BASE | (wedge_mix(s->seed, 0x7072696f00000000ull | ordinal) >> 2);
    if (ordinal == 0 && s->main_first)
        data[0] = ~0ull;
}

static uint32_t pct_choose(void *state, const struct wedge_point *p)
{
    struct pct_state *s = state;
    /* change points at or before this step (several may share a step) */
    while (s->next < s->nchange && s->change[s->next] <= p->step) {
        if (p->self_data)
            p->self_data[0] = s->nchange - s->next;
        s->next++;
    }
    wedge_strategy_yield_marks(&s->epoch, p);
    if (p->step >= s->fair_after) {
        uint32_t idx[p->n];
        uint32_t k = wedge_strategy_eligible(s->epoch, p, idx);
        uint64_t h = wedge_decide(s->seed, 0, p->self, p->step, 0x66616972u);
        return k ? idx[wedge_below(h, k)] : 0;
    }
    return wedge_strategy_highest(s->epoch, p);
}

const struct wedge_strategy wedge_strategy_pct = {
    .name = "pct",
    .init = pct_init,
    .thread_new = pct_thread_new,
    .choose = pct_choose,
};
