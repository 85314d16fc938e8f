/* strategy_pos.c - POS, partial order sampling (Yuan, Yang, Gu: CAV 2018).
 *
 * Every pending event gets a random priority, and the thread whose event has the highest
 * priority runs.  After an event executes, the events that race with it get fresh
 * priorities; the others keep theirs.  Unlike a random walk, a thread with a high priority
 * runs a long way alone (so deep orderings stay likely), and unlike PCT there is no depth to
 * guess: the probability of any partial order of racing events is bounded from below
 * independently of the run's length.
 *
 * The scheduler does not show a strategy the pending events of other threads, only the
 * thread at the point and the kind of its event.  So the priority lives with the thread
 * (data[0]) and is redrawn when its own event is a racing one (a synchronization operation
 * or a trapped memory access: everything but allocation and thread bookkeeping, which
 * touch no shared state of the program).  This is the "a random priority per event,
 * re-drawn after each racing event" of the paper, as seen from one side of each race.
 *
 * Priorities only decide among candidates; yields and sleeps put their thread behind the
 * others for a round (strategy.h), so that busy-waits let the threads they wait for run.
 *
 * Seen from one side, a waiting thread's priority is redrawn only when it runs, while a thread
 * that loops through racing events without ever blocking (a timed wait that times out again
 * and again) redraws its own at each: a waiting thread of priority p then waits about 1/p
 * decisions, whose mean over p is unbounded.  futex_cond_ok's producers waited out a consumer
 * timing out its 2 ms waits for more than a million points (1 of 2,000 default runs hung).
 * So a candidate whose priority is POS_AGE decisions old draws a new one, as if one of the
 * racing events it waited behind had redrawn it; the wait is bounded, and a deep ordering
 * within the first POS_AGE decisions of a thread's wait is unchanged. */
#define POS_AGE 1024u
#include "strategy.h"
#include "wedge_protocol.h"
#include "wedge_stream.h"

struct pos_state {
    uint64_t seed;
    uint64_t epoch; /* yield marks */
};
_Static_assert(sizeof(struct pos_state) <= WEDGE_STRATEGY_STATE_MAX, "pos state size");

static void pos_init(void *state, const struct wedge_token *tok, uint64_t seed)
{
    struct pos_state *s = state;
    (void)tok;
    s->seed = seed;
    s->epoch = 1;
}

/* 1 + 63 random bits: never 0, so that a drawn priority is told from a zeroed word. */
static uint64_t pos_draw(const struct pos_state *s, uint32_t ordinal, uint64_t step)
{
    return (wedge_decide(s->seed, 0, ordinal, step, 0x706f73u) >> 1) | 1u;
}

/* data[0] the priority, data[1] the yield mark (strategy.c), data[2] the decision at which
 * the priority was drawn */
static void pos_thread_new(void *state, uint32_t ordinal, uint64_t *data)
{
    struct pos_state *s = state;
    data[0] = pos_draw(s, ordinal, UINT64_MAX);
    data[2] = 0;
}

int wedge_pos_racing(unsigned kind)
{
    switch (kind) {
    case WEDGE_EV_NONE:
    case WEDGE_EV_THREAD_START:
    case WEDGE_EV_MALLOC:
    case WEDGE_EV_FREE:
    case WEDGE_EV_WAKE:
        return 0;
    default:
        return 1;
    }
}

static uint32_t pos_choose(void *state, const struct wedge_point *p)
{
    struct pos_state *s = state;
    if (p->self_data && wedge_pos_racing(p->kind)) {
        p->self_data[0] = pos_draw(s, p->self, p->step);
        p->self_data[2] = p->step;
    }
    for (uint32_t i = 0; i < p->n; i++) {
        uint64_t *d = p->c[i].data;
        if (d && p->step - d[2] > POS_AGE) {
            d[0] = pos_draw(s, p->c[i].ordinal, p->step);
            d[2] = p->step;
        }
    }
    wedge_strategy_yield_marks(&s->epoch, p);
    return wedge_strategy_highest(s->epoch, p);
}

const struct wedge_strategy wedge_strategy_pos = {
    .name = "pos",
    .init = pos_init,
    .thread_new = pos_thread_new,
    .choose = pos_choose,
};
