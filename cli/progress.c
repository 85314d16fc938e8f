/* progress.c - one live status line on stderr, only where a human watches (a terminal),
 * erased before any other output so that reports never interleave with it. */
#define _GNU_SOURCE
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int enabled;
static int shown;

void progress_init(enum wedge_progress_mode mode)
{
    enabled = mode == PROGRESS_ALWAYS || (mode == PROGRESS_AUTO && isatty(2));
    shown = 0;
}

void progress_clear(void)
{
    if (!shown)
        return;
    fflush(stdout);
    fputs("\r\033[K", stderr);
    fflush(stderr);
    shown = 0;
}

void progress_update(uint64_t done, uint64_t asked, uint64_t repros, double elapsed_s,
                     double budget_left_s)
{
    if (!enabled)
        return;
    double rate = elapsed_s > 0 ? (double)done / elapsed_s : 0;
    char left[48] = "";
    if (rate > 0 && done < asked) {
        double t = (double)(asked - done) / rate;
        if (budget_left_s >= 0 && budget_left_s < t)
            t = budget_left_s;
        if (t >= 120)
            snprintf(left, sizeof left, ", ~%.0fm left", t / 60);
        else
            snprintf(left, sizeof left, ", ~%.0fs left", t);
    }
    fflush(stdout);
    fprintf(stderr, "\r\033[K[wedge] %llu/%llu runs, %llu reproduction%s, %.1f runs/s%s",
            (unsigned long long)done, (unsigned long long)asked, (unsigned long long)repros,
            repros == 1 ? "" : "s", rate, left);
    fflush(stderr);
    shown = 1;
}

void progress_done(void)
{
    progress_clear();
    enabled = 0;
}
