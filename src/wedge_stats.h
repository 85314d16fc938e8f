/* wedge_stats.h - what a campaign's counts prove about the per-run failure probability.
 *
 * A campaign of n independent runs with k failures bounds the per-run failure probability p
 * from above with the exact binomial (Clopper-Pearson) one-sided bound: the largest p for
 * which seeing k or fewer failures still has probability at least 1 - confidence.  For k = 0
 * that is 1 - (1 - confidence)^(1/n) (about 3/n at 95%: the rule of three).
 * Pure functions, no allocation; confidence and rates are fractions in (0, 1).
 */
#ifndef WEDGE_STATS_H
#define WEDGE_STATS_H

#include <stddef.h>
#include <stdint.h>

/* The one-sided upper bound on p after `failures` of `runs` (runs >= 1); 1.0 when
 * failures >= runs. */
double wedge_stats_upper_bound(uint64_t failures, uint64_t runs, double confidence);

/* The fewest runs that, all passing, put the bound strictly below max_rate:
 * ceil(ln(1 - confidence) / ln(1 - max_rate)).  0 if the arguments are out of range. */
uint64_t wedge_stats_runs_needed(double confidence, double max_rate);

/* A fraction or percentage as the user writes it: "0.95", "95%", "0.1%".  Returns 0 and the
 * fraction, or -1 when it is not a number strictly between 0 and 1. */
int wedge_stats_parse_fraction(const char *s, double *out);

/* "0.1%" style, the bound rounded *up* to two significant digits so that "below X" stays
 * true; writes at most len bytes. */
void wedge_stats_format_percent(char *buf, size_t len, double fraction);

/* "1,234,567" */
void wedge_stats_format_count(char *buf, size_t len, uint64_t n);

#endif
