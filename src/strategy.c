/* strategy.c - the strategy table and the yield marks shared by strategies (strategy.h). */
#include "strategy.h"

const struct wedge_strategy *wedge_strategy_of(enum wedge_strategy_id id)
{
#define WEDGE_STRATEGY_CASE(sid, var)                                                         \
    if (id == sid)                                                                            \
        return &var;
    WEDGE_STRATEGY_LIST(WEDGE_STRATEGY_CASE)
#undef WEDGE_STRATEGY_CASE
    return &wedge_strategy_random;
}

void wedge_strategy_yield_marks(uint64_t *epoch, const struct wedge_point *p)
{
    if (p->yield && p->self_data)
        p->self_data[1] = *epoch;
    /* once every candidate has yielded, each has let the others run: start a new round */
    for (uint32_t i = 0; i < p->n; i++)
        if (!wedge_strategy_marked(*epoch, &p->c[i]))
            return;
    ++*epoch;
    /* the yielder itself still goes last in the new round, if anyone else can run */
    if (p->yield && p->self_data && p->n > 1)
        p->self_data[1] = *epoch;
}

int wedge_strategy_marked(uint64_t epoch, const struct wedge_cand *c)
{
    return c->data && c->data[1] == epoch;
}

uint32_t wedge_strategy_eligible(uint64_t epoch, const struct wedge_point *p, uint32_t *idx)
{
    int pass_marked = 0, pass_self = 0;
    for (uint32_t i = 0; i < p->n; i++)
        if (!wedge_strategy_marked(epoch, &p->c[i]))
            pass_marked = 1;
    if (!pass_marked)
        for (uint32_t i = 0; i < p->n; i++)
            if (!(p->c[i].flags & WEDGE_CAND_SELF))
                pass_self = 1;
    uint32_t k = 0;
    for (uint32_t i = 0; i < p->n; i++)
        if (!(pass_marked && wedge_strategy_marked(epoch, &p->c[i])) &&
            !(pass_self && (p->c[i].flags & WEDGE_CAND_SELF)))
            idx[k++] = i;
    return k;
}

uint32_t wedge_strategy_highest(uint64_t epoch, const struct wedge_point *p)
{
    uint32_t idx[p->n];
    uint32_t k = wedge_strategy_eligible(epoch, p, idx);
    uint32_t best = k ? idx[0] : 0;
    /* ties (practically never) go to the lower ordinal: candidates are in order */
    for (uint32_t j = 1; j < k; j++)
        if (p->c[idx[j]].data[0] > p->c[best].data[0])
            best = idx[j];
    return best;
}
