/* wedge_bandit.c - discounted, cost-weighed Thompson sampling with a floor share of time
 * (wedge_bandit.h). */
#include "wedge_bandit.h"
#include "wedge_stream.h"

#include <math.h>
#include <string.h>

#define PRIOR_WEIGHT 8.0

/* Uniform in (0, 1) from the i-th value of the stream h. */
static double uniform(uint64_t h, uint64_t *i)
{
    uint64_t v = wedge_mix(h, (*i)++);
    return ((double)(v >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double normal(uint64_t h, uint64_t *i)
{
    double u1 = uniform(h, i), u2 = uniform(h, i);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Marsaglia and Tsang (2000), for shape a >= 1. */
static double gamma_sample(double a, uint64_t h, uint64_t *i)
{
    double d = a - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (int tries = 0; tries < 64; tries++) {
        double x = normal(h, i), v = 1.0 + c * x;
        if (v <= 0)
            continue;
        v = v * v * v;
        double u = uniform(h, i);
        if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
            return d * v;
    }
    return d; /* practically never: the mode */
}

double wedge_beta_sample(double a, double b, uint64_t h)
{
    uint64_t i = 0;
    double x = gamma_sample(a < 1 ? 1 : a, h, &i);
    double y = gamma_sample(b < 1 ? 1 : b, wedge_mix(h, 0x79), &i);
    return x + y > 0 ? x / (x + y) : 0.5;
}

void wedge_bandit_init(struct wedge_bandit *b, unsigned narms, const double *prior, double floor)
{
    memset(b, 0, sizeof *b);
    b->narms = narms > WEDGE_BANDIT_MAX_ARMS ? WEDGE_BANDIT_MAX_ARMS : narms;
    b->floor = floor;
    for (unsigned k = 0; k < b->narms; k++) {
        double p = prior ? prior[k] : 0.5;
        if (p < 0.01)
            p = 0.01;
        if (p > 0.99)
            p = 0.99;
        b->arm[k].alpha0 = 1.0 + PRIOR_WEIGHT * p;
        b->arm[k].beta0 = 1.0 + PRIOR_WEIGHT * (1.0 - p);
    }
}

/* What an arm with no cost reported yet is taken to cost: the dearest cost known (1 when
 * none is).  Pessimistic: an arm is not drawn for many runs on a guess.  Taken as the
 * cheapest known instead, every dear arm not yet finished drew most of the next epoch's
 * runs (the watching arms of fanout_map_fixed, 15x dearer per run, 17 of its first 80 runs);
 * the caller gives an arm its first run (cli/portfolio.c), so that its cost is learned (a
 * cheap arm never drawn in the first runs once stayed unknown and undrawn for 40 runs,
 * router_history.py). */
static double known_cost(const struct wedge_bandit *b)
{
    double most = 0;
    for (unsigned k = 0; k < b->narms; k++)
        if (b->arm[k].cost_runs > 0) {
            double c = b->arm[k].cost_sum / b->arm[k].cost_runs;
            if (c > most)
                most = c;
        }
    return most > 0 ? most : 1.0;
}

void wedge_bandit_prior_cost(struct wedge_bandit *b, unsigned arm, double cost)
{
    if (arm < b->narms && cost > 0)
        b->arm[arm].cost0 = cost;
}

/* An arm's cost per run: its mean, else its prior cost, else `unknown` */
static double cost_of(const struct wedge_bandit_arm *a, double unknown)
{
    return a->cost_runs > 0 ? a->cost_sum / a->cost_runs : a->cost0 > 0 ? a->cost0 : unknown;
}

double wedge_bandit_arm_cost(const struct wedge_bandit *b, unsigned arm)
{
    return cost_of(&b->arm[arm], known_cost(b));
}

void wedge_bandit_pool(struct wedge_bandit *b, double w)
{
    b->pool_weight = w < 0 ? 0 : w > 1 ? 1 : w;
}

void wedge_bandit_share(struct wedge_bandit *b, unsigned arm, double share)
{
    if (arm < b->narms)
        b->arm[arm].share = share > 0 ? (share < 1 ? share : 1) : 0;
}

unsigned wedge_bandit_draw(const struct wedge_bandit *b, uint64_t h)
{
    if (b->narms <= 1)
        return 0;
    double shares = 0;
    for (unsigned k = 0; k < b->narms; k++)
        shares += b->arm[k].share;
    if (shares > 0) {
        /* its own stream of the hash, so that the draws below are those of a bandit without
         * shares whenever this one falls through */
        uint64_t j = 0;
        double u = uniform(wedge_mix(h, 0x7368617265ull), &j) * (shares > 1 ? shares : 1);
        for (unsigned k = 0; k < b->narms; k++) {
            u -= b->arm[k].share;
            if (b->arm[k].share > 0 && u < 0)
                return k;
        }
    }
    double cost[WEDGE_BANDIT_MAX_ARMS], unknown = known_cost(b), inv_sum = 0;
    for (unsigned k = 0; k < b->narms; k++) {
        cost[k] = cost_of(&b->arm[k], unknown);
        if (!(cost[k] > 0))
            cost[k] = unknown > 0 ? unknown : 1.0;
        inv_sum += 1.0 / cost[k];
    }
    uint64_t i = 0;
    if (uniform(h, &i) < b->floor) {
        /* the floor: every arm an equal share of the time, so runs in inverse proportion to
         * their cost (an arm 10x dearer per run keeps its floor share of the time in a
         * tenth of the runs) */
        double u = uniform(wedge_mix(h, 0x666c6f6f72ull), &i) * inv_sum;
        for (unsigned k = 0; k < b->narms; k++) {
            u -= 1.0 / cost[k];
            if (u <= 0)
                return k;
        }
        return b->narms - 1;
    }
    unsigned best = 0;
    double best_v = -1;
    for (unsigned k = 0; k < b->narms; k++) {
        const struct wedge_bandit_arm *a = &b->arm[k];
        double others = b->pool - a->beta;
        double v = wedge_beta_sample(a->alpha0 + a->alpha,
                                     a->beta0 + a->beta + b->pool_weight * (others > 0 ? others : 0),
                                     wedge_mix(h, 0x61726d00ull + k)) / cost[k];
        if (v > best_v) {
            best_v = v;
            best = k;
        }
    }
    return best;
}

void wedge_bandit_cost(struct wedge_bandit *b, unsigned arm, double cost)
{
    if (arm >= b->narms || !(cost > 0))
        return;
    b->arm[arm].cost_sum += cost;
    b->arm[arm].cost_runs += 1.0;
}

void wedge_bandit_update(struct wedge_bandit *b, unsigned arm, double reward)
{
    if (arm >= b->narms)
        return;
    if (reward > 0)
        b->arm[arm].alpha += reward;
    else {
        b->arm[arm].beta += 1.0;
        b->pool += 1.0;
    }
}

void wedge_bandit_decay(struct wedge_bandit *b, double factor)
{
    for (unsigned k = 0; k < b->narms; k++) {
        b->arm[k].alpha *= factor;
        b->arm[k].beta *= factor;
    }
    b->pool *= factor;
}
