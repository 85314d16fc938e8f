/* wedge_util.c - see wedge_util.h. */
#include "wedge_util.h"
#include "wedge_stream.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

int wedge_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!s || !*s)
        return -EINVAL;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -EINVAL;
        v = v * 10 + d;
    }
    if (v < min || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

int wedge_parse_duration(const char *s, uint64_t *usec, char *err, size_t errlen)
{
    if (!s || !*s)
        return fail(err, errlen, "empty duration");
    const char *p = s;
    uint64_t whole = 0, frac = 0, fscale = 1;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
        if (whole > UINT64_MAX / 10 - 10)
            return fail(err, errlen, "duration '%s' is too large", s);
        whole = whole * 10 + (uint64_t)(*p++ - '0');
        digits++;
    }
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') {
            if (fscale < 1000000000ull) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                fscale *= 10;
            }
            p++;
            digits++;
        }
    }
    if (!digits)
        return fail(err, errlen, "duration '%s' must start with a number (e.g. 500ms, 10s, 2m)", s);
    uint64_t unit;
    if (*p == 0 || strcmp(p, "s") == 0)
        unit = 1000000ull;
    else if (strcmp(p, "ms") == 0)
        unit = 1000ull;
    else if (strcmp(p, "us") == 0)
        unit = 1ull;
    else if (strcmp(p, "m") == 0 || strcmp(p, "min") == 0)
        unit = 60000000ull;
    else if (strcmp(p, "h") == 0)
        unit = 3600000000ull;
    else
        return fail(err, errlen, "duration '%s': unknown unit '%s' (use us, ms, s, m or h)", s, p);
    if (whole > UINT64_MAX / unit / 2)
        return fail(err, errlen, "duration '%s' is too large", s);
    uint64_t v = whole * unit + frac * unit / fscale;
    if (v == 0)
        return fail(err, errlen, "duration '%s' must be greater than zero", s);
    *usec = v;
    return 0;
}

int wedge_parse_seed(const char *s, uint64_t *out)
{
    if (!s)
        return -EINVAL;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    size_t n = strlen(s);
    if (n == 0 || n > 16)
        return -EINVAL;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (!isxdigit(c))
            return -EINVAL;
        v = v << 4 | (uint64_t)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
    }
    *out = v;
    return 0;
}

void wedge_normalize_line(const char *line, char *out, size_t outlen)
{
    size_t o = 0;
    if (!outlen)
        return;
    for (const char *p = line ? line : ""; *p && o + 1 < outlen; p++) {
        if (isdigit((unsigned char)*p) ||
            (*p == '0' && (p[1] == 'x'))) {
            out[o++] = '#';
            while (isxdigit((unsigned char)p[1]) || p[1] == 'x')
                p++;
        } else if (*p == '\n' || *p == '\r') {
            break;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = 0;
}

uint64_t wedge_failure_signature(int kind, int code, const char *line, uint64_t extra)
{
    char norm[512];
    wedge_normalize_line(line, norm, sizeof norm);
    uint64_t h = wedge_mix((uint64_t)(unsigned)kind << 32 | (uint32_t)code, extra);
    return XXH64(norm, strlen(norm), h);
}

uint64_t wedge_median_u64(const uint64_t *v, unsigned n)
{
    uint64_t s[WEDGE_MEDIAN_MAX];
    if (n > WEDGE_MEDIAN_MAX)
        n = WEDGE_MEDIAN_MAX;
    if (!n)
        return 0;
    for (unsigned i = 0; i < n; i++) { /* insertion sort of a copy: n is small */
        unsigned j = i;
        for (; j > 0 && s[j - 1] > v[i]; j--)
            s[j] = s[j - 1];
        s[j] = v[i];
    }
    return n % 2 ? s[n / 2] : s[n / 2 - 1] / 2 + s[n / 2] / 2 + (s[n / 2 - 1] & s[n / 2] & 1);
}
