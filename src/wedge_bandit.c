/* wedge_bandit.c - discounted Thompson sampling with a floor share (wedge_bandit.h). */
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

unsigned wedge_bandit_draw(const struct wedge_bandit *b, uint64_t h)
{
    if (b->narms <= 1)
        return 0;
    uint64_t i = 0;
    if (uniform(h, &i) < b->floor)
        return wedge_below(wedge_mix(h, 0x666c6f6f72ull), b->narms);
    unsigned best = 0;
    double best_v = -1;
    for (unsigned k = 0; k < b->narms; k++) {
        const struct wedge_bandit_arm *a = &b->arm[k];
        double v = wedge_beta_sample(a->alpha0 + a->alpha, a->beta0 + a->beta,
                                     wedge_mix(h, 0x61726d00ull + k));
        if (v > best_v) {
            best_v = v;
            best = k;
        }
    }
    return best;
}

void wedge_bandit_update(struct wedge_bandit *b, unsigned arm, double reward)
{
    if (arm >= b->narms)
        return;
    if (reward > 0)
        b->arm[arm].alpha += reward;
    else
        b->arm[arm].beta += 1.0;
}

void wedge_bandit_decay(struct wedge_bandit *b, double factor)
{
    for (unsigned k = 0; k < b->narms; k++) {
        b->arm[k].alpha *= factor;
        b->arm[k].beta *= factor;
    }
}
