/* wedge_stats.c - exact binomial bounds for "what a clean campaign proves" (see the header). */
#include "wedge_stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* P(X <= k) for X ~ Binomial(n, p), summed in log space so that n in the millions neither
 * overflows nor underflows the terms. */
static double binom_cdf(uint64_t k, uint64_t n, double p)
{
    if (p <= 0)
        return 1;
    if (p >= 1)
        return k >= n ? 1 : 0;
    double lp = log(p), lq = log1p(-p), ln_fact_n = lgamma((double)n + 1), sum = 0;
    for (uint64_t i = 0; i <= k && i <= n; i++) {
        double lt = ln_fact_n - lgamma((double)i + 1) - lgamma((double)(n - i) + 1) +
                    (double)i * lp + (double)(n - i) * lq;
        sum += exp(lt);
    }
    return sum > 1 ? 1 : sum;
}

double wedge_stats_upper_bound(uint64_t failures, uint64_t runs, double confidence)
{
    if (runs == 0 || failures >= runs)
        return 1;
    double alpha = 1 - confidence;
    if (failures == 0)
        return -expm1(log(alpha) / (double)runs); /* 1 - alpha^(1/n), accurate for large n */
    /* The CDF falls as p grows: bisect for CDF(k; n, p) = alpha.  64 halvings reach the
     * precision of a double. */
    double lo = 0, hi = 1;
    for (int i = 0; i < 64; i++) {
        double mid = (lo + hi) / 2;
        if (binom_cdf(failures, runs, mid) > alpha)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

uint64_t wedge_stats_runs_needed(double confidence, double max_rate)
{
    if (!(confidence > 0 && confidence < 1 && max_rate > 0 && max_rate < 1))
        return 0;
    double n = ceil(log(1 - confidence) / log1p(-max_rate));
    /* ceil can land on the exact boundary, where the bound equals max_rate: one more. */
    uint64_t runs = n < 1 ? 1 : (uint64_t)n;
    while (wedge_stats_upper_bound(0, runs, confidence) >= max_rate)
        runs++;
    while (runs > 1 && wedge_stats_upper_bound(0, runs - 1, confidence) < max_rate)
        runs--;
    return runs;
}

int wedge_stats_parse_fraction(const char *s, double *out)
{
    char *end;
    if (!s || !*s)
        return -1;
    double v = strtod(s, &end);
    if (end == s)
        return -1;
    if (*end == '%') {
        v /= 100;
        end++;
    }
    if (*end || !(v > 0 && v < 1))
        return -1;
    *out = v;
    return 0;
}

void wedge_stats_format_percent(char *buf, size_t len, double fraction)
{
    double pct = fraction * 100;
    if (!(pct > 0)) {
        snprintf(buf, len, "0%%");
        return;
    }
    /* two significant digits, rounded up */
    double scale = pow(10, 1 - floor(log10(pct)));
    double up = ceil(pct * scale - 1e-9) / scale;
    snprintf(buf, len, "%.*f%%", scale > 1 ? (int)lround(log10(scale)) : 0, up);
    /* drop trailing zeros of the fraction ("0.10%" -> "0.1%", "1.0%" -> "1%") */
    char *pc = strchr(buf, '%'), *dot = strchr(buf, '.');
    if (pc && dot && dot < pc) {
        char *z = pc;
        while (z[-1] == '0')
            z--;
        if (z[-1] == '.')
            z--;
        memmove(z, pc, strlen(pc) + 1);
    }
}

void wedge_stats_format_count(char *buf, size_t len, uint64_t n)
{
    char digits[24];
    int nd = snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
    size_t o = 0;
    for (int i = 0; i < nd && o + 1 < len; i++) {
        if (i && (nd - i) % 3 == 0 && o + 2 < len)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    if (len)
        buf[o < len ? o : len - 1] = 0;
}
