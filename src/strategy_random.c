/* strategy_random.c - random walk: at each scheduling point, a uniformly random candidate.
 *
 * Good at bugs whose window is wide or met by many interleavings; poor at bugs that need one
 * thread to run a long way alone and stop at one exact place (that is what PCT is for). */
#include "strategy.h"
#include "wedge_stream.h"

struct random_state {
    uint64_t seed;
    uint64_t epoch; /* yield marks */
};
_Static_assert(sizeof(struct random_state) <= WEDGE_STRATEGY_STATE_MAX, "random state size");

static void random_init(void *state, const struct wedge_token *tok, uint64_t seed)
{
    struct random_state *s = state;
    s->seed = seed;
    s->epoch = 1;
}

static void random_thread_new(void *state, uint32_t ordinal, uint64_t *data)
{
}

static uint32_t random_choose(void *state, const struct wedge_point *p)
{
    struct random_state *s = state;
    wedge_strategy_yield_marks(&s->epoch, p);
    /* Prefer unmarked candidates; if all are marked, anyone but the yielder. */
    uint32_t idx[p->n];
    uint32_t k = wedge_strategy_eligible(s->epoch, p, idx);
    if (k == 0)
        return 0;
    uint64_t h = wedge_decide(s->seed, 0, p->self, p->step, 0x72616e64u);
    return idx[wedge_below(h, k)];
}

const struct wedge_strategy wedge_strategy_random = {
    .name = "random",
    .init = random_init,
    .thread_new = random_thread_new,
    .choose = random_choose,
};
