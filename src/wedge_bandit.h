/* wedge_bandit.h - the campaign's multi-armed bandit: which arm (mode, strategy, watching)
 * the next run gets.
 *
 * Discounted Thompson sampling over Beta posteriors of the reward per run, weighed by what a
 * run of each arm costs, with a floor share of the campaign's time: a run draws its arm with
 * probability `floor` from the floor (each arm an equal share of time, so an arm is drawn in
 * inverse proportion to its cost per run), else the arm whose sampled reward rate per unit
 * of cost is highest.  Costs are what the caller reports (wedge_bandit_cost: microseconds,
 * or any unit, as long as it is one unit); an arm with no cost reported yet is taken to cost
 * as much as the dearest (all alike before any), or as the caller's prior cost of it:
 * the caller makes sure it is tried.  Rewards are added per run;
 * wedge_bandit_decay() discounts the evidence gathered so far (new schedule coverage dries
 * up as a campaign goes on, so old successes must weigh less than recent ones).  Costs are
 * not discounted: what a run of one arm costs on one program does not drift.
 *
 * Pooled misses (wedge_bandit_pool): a run that earned nothing is evidence against every arm,
 * not only its own, weighed by the pool weight.  Without it, misses pile up only on the arms
 * that run most (the cheap ones), while an arm drawn rarely (a dear one) keeps its prior
 * against few misses; with evidence discounted, the prior never washes out, and on a program
 * where nothing pays the exploiting draws spread the time over the arms by prior (a default
 * at 3x the cheapest arm's cost per run, router_history_fixed).  With the misses pooled, the
 * arms' reward rates fall together when nothing pays, their ratios stay those of their priors
 * and of their own rewards, and the time goes to the arm of the best prior per unit of cost;
 * the floor still gives every arm its share.  An arm's own rewards still lift it alone.
 *
 * Run shares (wedge_bandit_share): an arm can be given a fixed share of the runs, drawn
 * first; the rest of the runs are drawn as above.  With no share set the draws are those of
 * a bandit without them (no value of the hash is spent on them).
 * Pure and
 * deterministic: a draw depends only on the state and the 64-bit hash it is given, never on
 * the clock (a caller that wants deterministic draws reports deterministic costs).
 */
#ifndef WEDGE_BANDIT_H
#define WEDGE_BANDIT_H

#include <stdint.h>

#define WEDGE_BANDIT_MAX_ARMS 32u

struct wedge_bandit_arm {
    double alpha0, beta0;   /* prior pseudo-counts */
    double alpha, beta;     /* evidence: rewards, misses (discounted) */
    double cost_sum;        /* costs reported for its runs */
    double cost_runs;       /* runs they are of */
    double cost0;           /* cost taken before any is reported (0: the dearest known) */
    double share;           /* share of the runs it is drawn for before any other draw */
};

struct wedge_bandit {
    unsigned narms;
    double floor;           /* share of runs drawn uniformly, 0..1 */
    double pool_weight;     /* weight of the other arms' misses in an arm's evidence, 0..1 */
    double pool;            /* misses of all arms (discounted) */
    struct wedge_bandit_arm arm[WEDGE_BANDIT_MAX_ARMS];
};

/* prior[i]: the reward rate expected of arm i before any evidence (0..1), weighing 8 runs. */
void wedge_bandit_init(struct wedge_bandit *b, unsigned narms, const double *prior, double floor);
/* Weigh every other arm's misses into each arm's evidence by w (0: none, the default). */
void wedge_bandit_pool(struct wedge_bandit *b, double w);
/* Give `arm` `share` (0..1) of the runs, drawn before the floor and the exploiting draws
 * (0: none, the default; the shares of all arms together are capped at 1).  A share in runs,
 * not in time: for an arm whose value the rewards cannot show before it pays (the caller's
 * reason), whatever it costs. */
void wedge_bandit_share(struct wedge_bandit *b, unsigned arm, double share);
/* The arm of a run whose draw hash is h. */
unsigned wedge_bandit_draw(const struct wedge_bandit *b, uint64_t h);
/* A run of `arm` ended: reward > 0 (new coverage, a reproduction) or 0 (nothing new). */
void wedge_bandit_update(struct wedge_bandit *b, unsigned arm, double reward);
/* A run of `arm` cost `cost` (> 0; the unit is the caller's, one for all arms). */
void wedge_bandit_cost(struct wedge_bandit *b, unsigned arm, double cost);
/* Take `arm` to cost `cost` until a cost of its own is reported (a lower bound the caller
 * knows, as its model's fixed part: optimistic, so that an arm whose first run is still
 * out is not passed over for the arms known to be dear). */
void wedge_bandit_prior_cost(struct wedge_bandit *b, unsigned arm, double cost);
/* The cost per run of `arm` the draws go by (1 when no arm has a cost yet). */
double wedge_bandit_arm_cost(const struct wedge_bandit *b, unsigned arm);
/* Multiply the evidence of every arm by factor (0..1]. */
void wedge_bandit_decay(struct wedge_bandit *b, double factor);
/* A draw from Beta(a, b), a, b >= 1, from the stream of h (exposed for the unit test). */
double wedge_beta_sample(double a, double b, uint64_t h);

#endif
