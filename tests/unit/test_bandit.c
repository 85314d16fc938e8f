/* Unit tests of the campaign's bandit (src/wedge_bandit.c): draws are deterministic, the floor
 * gives every arm an equal share of the time (runs in inverse proportion to cost), the
 * exploiting draws go by reward per unit of cost, not per run, pooled misses keep a
 * dear arm with a high prior from holding the time when nothing pays, and a run share gives
 * an arm its share of the runs whatever it costs. */
#include "check.h"
#include "wedge_bandit.h"
#include "wedge_stream.h"

#include <string.h>

#define DRAWS 40000u

/* Runs drawn per arm over DRAWS hashes. */
static void count_draws(const struct wedge_bandit *b, unsigned *n)
{
    memset(n, 0, sizeof(unsigned) * b->narms);
    for (uint64_t i = 0; i < DRAWS; i++)
        n[wedge_bandit_draw(b, wedge_mix(0x7465737431ull, i))]++;
}

/* Two arms of priors pr, pooled misses, the second 10x the cost of the first, the first with
 * 200 misses: a dear arm the exploiting draws pass over. */
static void cheap_and_dear(struct wedge_bandit *b, const double *pr)
{
    wedge_bandit_init(b, 2, pr, 0.0);
    wedge_bandit_pool(b, 1.0);
    wedge_bandit_cost(b, 0, 1.0);
    wedge_bandit_cost(b, 1, 10.0);
    for (int r = 0; r < 200; r++)
        wedge_bandit_update(b, 0, 0);
}

int main(void)
{
    const double prior[3] = { 0.5, 0.5, 0.5 };
    struct wedge_bandit b;
    unsigned n[3];

    /* No cost reported: alike arms share the runs about evenly. */
    wedge_bandit_init(&b, 3, prior, 0.25);
    CHECK(wedge_bandit_arm_cost(&b, 0) == 1.0);
    count_draws(&b, n);
    for (unsigned k = 0; k < 3; k++)
        CHECK(n[k] > DRAWS / 4 && n[k] < DRAWS / 2);

    /* Same state, same hash: same arm. */
    CHECK(wedge_bandit_draw(&b, 42) == wedge_bandit_draw(&b, 42));

    /* Arm 0 costs 1, arm 1 costs 10, arm 2 has no cost yet: it is taken to cost as much as
     * the dearest (10), so that a guess draws no run to it (the caller gives it its first). */
    wedge_bandit_cost(&b, 0, 1.0);
    wedge_bandit_cost(&b, 1, 10.0);
    wedge_bandit_cost(&b, 1, 10.0);
    CHECK(wedge_bandit_arm_cost(&b, 1) == 10.0);
    CHECK(wedge_bandit_arm_cost(&b, 2) == 10.0);
    wedge_bandit_cost(&b, 2, 0.0); /* ignored: no cost is free */
    CHECK(wedge_bandit_arm_cost(&b, 2) == 10.0);

    /* Equal reward rates: the cheap arm gets most runs, the dear ones the fewest, yet some. */
    count_draws(&b, n);
    CHECK(n[0] > 2 * n[1] && n[0] > 2 * n[2]);
    CHECK(n[1] > 0 && n[2] > 0);
    /* A prior cost stands for an arm's cost until its own is reported. */
    wedge_bandit_prior_cost(&b, 2, 2.0);
    CHECK(wedge_bandit_arm_cost(&b, 2) == 2.0);
    wedge_bandit_cost(&b, 2, 3.0);
    CHECK(wedge_bandit_arm_cost(&b, 2) == 3.0);
    count_draws(&b, n);
    CHECK(n[0] > n[2] && n[2] > n[1]);
    CHECK(n[0] > DRAWS / 2);

    /* Floor only: equal time shares, so runs in inverse proportion to cost (1 : 1/10 :
     * 1/sqrt 10 = 0.704 : 0.070 : 0.223). */
    struct wedge_bandit f;
    wedge_bandit_init(&f, 3, prior, 1.0);
    wedge_bandit_cost(&f, 0, 1.0);
    wedge_bandit_cost(&f, 1, 10.0);
    wedge_bandit_cost(&f, 2, 3.16227766);
    count_draws(&f, n);
    CHECK(n[0] > DRAWS * 0.68 && n[0] < DRAWS * 0.73);
    CHECK(n[1] > DRAWS * 0.06 && n[1] < DRAWS * 0.08);
    CHECK(n[2] > DRAWS * 0.20 && n[2] < DRAWS * 0.25);

    /* Reward per unit of cost: arm 1 is 10x dearer but rewarded every run, arm 0 never; the
     * exploiting draws go to arm 1 (rate ~0.9 per 10 against ~0.016 per 1; arm 2 never either). */
    for (int r = 0; r < 300; r++) {
        wedge_bandit_update(&b, 0, 0);
        wedge_bandit_update(&b, 2, 0);
    }
    for (int r = 0; r < 60; r++)
        wedge_bandit_update(&b, 1, 1.0);
    count_draws(&b, n);
    CHECK(n[1] > n[0]);
    /* ... and the floor still gives arm 0 its share */
    CHECK(n[0] > DRAWS / 20);

    /* Pooled misses.  Arm 0 costs 1 with a low prior, arm 1 costs 10 with a high one (a
     * watching arm); nothing pays.  Without pooling, misses pile up on the arm that runs most
     * (the cheap one) while the dear one keeps its prior: the exploiting draws give the dear
     * arm a large share of the time.  With the misses pooled, both rates fall together, and
     * the time goes to the arm of the best prior per unit of cost. */
    const double pr2[2] = { 0.3, 0.8 };
    double share[2];
    for (int pooled = 0; pooled < 2; pooled++) {
        struct wedge_bandit q;
        wedge_bandit_init(&q, 2, pr2, 0.0);
        wedge_bandit_pool(&q, pooled ? 1.0 : 0.0);
        CHECK(q.pool_weight == (pooled ? 1.0 : 0.0));
        wedge_bandit_cost(&q, 0, 1.0);
        wedge_bandit_cost(&q, 1, 10.0);
        for (int r = 0; r < 200; r++)
            wedge_bandit_update(&q, 0, 0);
        for (int r = 0; r < 5; r++)
            wedge_bandit_update(&q, 1, 0);
        count_draws(&q, n);
        share[pooled] = 10.0 * n[1] / (10.0 * n[1] + n[0]); /* the dear arm's share of time */
    }
    CHECK(share[0] > 0.9);  /* 0.998 when written */
    CHECK(share[1] < 0.3);  /* 0.21 */
    /* ... and an arm's own rewards still lift it alone: the dear arm reproducing in 15 of
     * its 20 runs (a reproduction rewards 4 in cli/portfolio.c) wins the exploiting draws
     * despite the cheap arm's 200 misses in the pool. */
    struct wedge_bandit q;
    cheap_and_dear(&q, pr2);
    for (int r = 0; r < 15; r++)
        wedge_bandit_update(&q, 1, 4.0);
    for (int r = 0; r < 5; r++)
        wedge_bandit_update(&q, 1, 0);
    count_draws(&q, n);
    CHECK(n[1] > n[0]);
    /* decay discounts the pool with the rest of the evidence */
    double before = q.pool;
    wedge_bandit_decay(&q, 0.5);
    CHECK(q.pool == before * 0.5);

    /* Run shares: a dear arm the exploiting draws pass over (10x the cost, same prior, no
     * floor) gets its share of the runs, in runs, whatever it costs; the rest go as before. */
    struct wedge_bandit s;
    cheap_and_dear(&s, pr2);
    struct wedge_bandit s0 = s;
    count_draws(&s, n);
    CHECK(n[1] < DRAWS / 20);
    wedge_bandit_share(&s, 1, 0.25);
    count_draws(&s, n);
    CHECK(n[1] > DRAWS * 0.24 && n[1] < DRAWS * 0.30);
    /* a draw that falls through the share is the draw of the bandit without it */
    unsigned same = 1;
    for (uint64_t i = 0; i < 1000; i++) {
        uint64_t h = wedge_mix(0x7368ull, i);
        unsigned k = wedge_bandit_draw(&s, h);
        same &= k == 1 || k == wedge_bandit_draw(&s0, h);
    }
    CHECK(same);
    /* share 0 again: exactly the draws of a bandit never given one */
    wedge_bandit_share(&s, 1, 0.0);
    for (uint64_t i = 0; i < 1000; i++)
        same &= wedge_bandit_draw(&s, i) == wedge_bandit_draw(&s0, i);
    CHECK(same);
    /* shares over 1 together are scaled down to the whole of the runs */
    wedge_bandit_share(&s, 0, 3.0);
    wedge_bandit_share(&s, 1, 1.0);
    count_draws(&s, n);
    CHECK(n[0] + n[1] == DRAWS && n[1] > DRAWS * 0.45 && n[1] < DRAWS * 0.55);

    /* A one-armed bandit always draws its arm. */
    struct wedge_bandit one;
    wedge_bandit_init(&one, 1, prior, 0.25);
    CHECK(wedge_bandit_draw(&one, 7) == 0);
    return check_report("test_bandit");
}
