/* output.c - a run's output, kept bounded: the last OUT_TAIL bytes for the report, and a
 * line buffer for --fail-on matching as the output streams.  A target writing gigabytes costs
 * wedge no memory; lines longer than OUT_LINE are cut for matching only. */
#define _GNU_SOURCE
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void output_init(struct output *o, const regex_t *fail_on, int tee_fd)
{
    o->total = 0;
    o->line_len = 0;
    o->last[0] = 0;
    o->match[0] = 0;
    o->matched = 0;
    o->fail_on = fail_on;
    o->tee_fd = tee_fd;
    o->san.found = 0;
    o->san.stack_done = o->san.text_done = 0;
    o->san.f.nframes = 0;
    o->san.ubsan_line[0] = 0;
    o->san.len = 0;
    o->san.text[0] = 0;
}

/* Copy a line, cut to fit (for the signature and the report, a prefix is enough). */
static void copy_cut(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

static void end_line(struct output *o)
{
    o->line[o->line_len] = 0;
    size_t n = o->line_len;
    if (n && o->line[n - 1] == '\r')
        o->line[--n] = 0;
    int blank = 1;
    for (size_t i = 0; i < n; i++)
        if (o->line[i] != ' ' && o->line[i] != '\t') {
            blank = 0;
            break;
        }
    if (!blank)
        copy_cut(o->last, sizeof o->last, o->line, n);
    san_line(&o->san, o->line, n);
    if (o->fail_on && !o->matched && regexec(o->fail_on, o->line, 0, NULL, 0) == 0) {
        o->matched = 1;
        copy_cut(o->match, sizeof o->match, o->line, n);
    }
    o->line_len = 0;
}

void output_feed(struct output *o, const char *buf, size_t n)
{
    if (o->tee_fd >= 0) {
        size_t off = 0;
        while (off < n) {
            ssize_t w = write(o->tee_fd, buf + off, n - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break; /* the terminal went away: the run goes on */
            off += (size_t)w;
        }
    }
    for (size_t i = 0; i < n; i++) {
        char c = buf[i];
        o->tail[(o->total + i) % OUT_TAIL] = c;
        if (c == '\n')
            end_line(o);
        else if (o->line_len < OUT_LINE - 1)
            o->line[o->line_len++] = c; /* longer lines are cut for matching only */
    }
    o->total += n;
}

void output_finish(struct output *o)
{
    if (o->line_len)
        end_line(o);
}

char *output_tail_lines(const struct output *o, int lines)
{
    size_t have = o->total < OUT_TAIL ? (size_t)o->total : OUT_TAIL;
    uint64_t start = o->total - have;
    char *s = malloc(have + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < have; i++)
        s[i] = o->tail[(start + i) % OUT_TAIL];
    s[have] = 0;
    /* Keep the last `lines` lines (a final line without newline counts too). */
    size_t end = have;
    if (end && s[end - 1] == '\n')
        end--;
    size_t from = 0;
    int seen = 0;
    for (size_t i = end; i > 0; i--)
        if (s[i - 1] == '\n' && ++seen == lines) {
            from = i;
            break;
        }
    /* A tail cut mid-line starts with a fragment: drop it unless it is all we have. */
    if (from == 0 && o->total > OUT_TAIL) {
        char *nl = memchr(s, '\n', end);
        if (nl)
            from = (size_t)(nl - s) + 1;
    }
    memmove(s, s + from, have - from + 1);
    return s;
}

