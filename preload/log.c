/* log.c - async-signal-safe formatting and the shim's diagnostics (stderr, WEDGE_LOG=1 only).
 *
 * Runs inside the target, also in signal handlers: no stdio, no malloc, raw write(2).
 */
#define _GNU_SOURCE
#include "shim.h"

#include <sys/syscall.h>

char *wedge_fmt_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    *p = 0;
    return p;
}

char *wedge_fmt_u64(char *p, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    *p = 0;
    return p;
}

char *wedge_fmt_hex(char *p, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = digits[v & 15];
        v >>= 4;
    } while (v);
    *p++ = '0';
    *p++ = 'x';
    while (n)
        *p++ = tmp[--n];
    *p = 0;
    return p;
}

void wedge_log(const char *a, const char *b)
{
    if (!wedge_g.log)
        return;
    char buf[512];
    char *p = wedge_fmt_str(buf, "wedge: ");
    size_t room = sizeof buf - 16;
    for (const char *s = a; s && *s && (size_t)(p - buf) < room; s++)
        *p++ = *s;
    for (const char *s = b; s && *s && (size_t)(p - buf) < room; s++)
        *p++ = *s;
    *p++ = '\n';
    wedge_sys(SYS_write, 2, (long)buf, (long)(p - buf), 0);
}
