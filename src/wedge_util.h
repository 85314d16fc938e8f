/* wedge_util.h - small parsers shared by the CLI and the tests. */
#ifndef WEDGE_UTIL_H
#define WEDGE_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* "500ms", "10s", "2m", "1h", "250us"; a bare number is seconds.  Returns 0 and the duration
 * in microseconds, or -EINVAL with a reason in err. */
int wedge_parse_duration(const char *s, uint64_t *usec, char *err, size_t errlen);

/* Decimal unsigned integer in [min, max].  Returns 0 or -EINVAL. */
int wedge_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* 64-bit seed: 1 to 16 hex digits, optionally with 0x.  Returns 0 or -EINVAL. */
int wedge_parse_seed(const char *s, uint64_t *out);

/* Failure signature: a stable hash of an outcome and a normalized line of output (digits and
 * hex runs folded, so "count 4798 != 4800" and "count 4799 != 4800" group together). */
uint64_t wedge_failure_signature(int kind, int code, const char *line, uint64_t extra);

/* Fold digits in a line for signature purposes, into out (always NUL-terminated). */
void wedge_normalize_line(const char *line, char *out, size_t outlen);

/* The median of v[0..n) (the mean of the middle two when n is even), 0 when n is 0; v is left
 * as it was.  For the few values a calibration takes (n <= WEDGE_MEDIAN_MAX; more are cut). */
#define WEDGE_MEDIAN_MAX 64u
uint64_t wedge_median_u64(const uint64_t *v, unsigned n);

#endif
