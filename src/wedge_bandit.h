/* wedge_bandit.h - the campaign's multi-armed bandit: which arm (mode, strategy, watching)
 * the next run gets.
 *
 * Discounted Thompson sampling over Beta posteriors, with a floor share: a run draws its arm
 * uniformly with probability `floor`, else from the posteriors (the arm whose sampled
 * reward rate is highest).  Rewards are added per run; wedge_bandit_decay() discounts the
 * evidence gathered so far (new schedule coverage dries up as a campaign goes on, so old
 * successes must weigh less than recent ones).  Pure and deterministic: a draw depends only
 * on the state and the 64-bit hash it is given, never on time.
 */
#ifndef WEDGE_BANDIT_H
#define WEDGE_BANDIT_H

#include <stdint.h>

#define WEDGE_BANDIT_MAX_ARMS 32u

struct wedge_bandit_arm {
    double alpha0, beta0;   /* prior pseudo-counts */
    double alpha, beta;     /* evidence: rewards, misses (discounted) */
};

struct wedge_bandit {
    unsigned narms;
    double floor;           /* share of runs drawn uniformly, 0..1 */
    struct wedge_bandit_arm arm[WEDGE_BANDIT_MAX_ARMS];
};

/* prior[i]: the reward rate expected of arm i before any evidence (0..1), weighing 8 runs. */
void wedge_bandit_init(struct wedge_bandit *b, unsigned narms, const double *prior, double floor);
/* The arm of a run whose draw hash is h. */
unsigned wedge_bandit_draw(const struct wedge_bandit *b, uint64_t h);
/* A run of `arm` ended: reward > 0 (new coverage, a reproduction) or 0 (nothing new). */
void wedge_bandit_update(struct wedge_bandit *b, unsigned arm, double reward);
/* Multiply the evidence of every arm by factor (0..1]. */
void wedge_bandit_decay(struct wedge_bandit *b, double factor);
/* A draw from Beta(a, b), a, b >= 1, from the stream of h (exposed for the unit test). */
double wedge_beta_sample(double a, double b, uint64_t h);

#endif
