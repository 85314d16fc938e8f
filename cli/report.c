/* report.c - what a reproduction looks like: the text report (terminal and one file per
 * reproduction), the --json and --junit campaign reports. */
#define _GNU_SOURCE
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int utf8_len(const unsigned char *p);

#define TAIL_LINES 30
#define THREAD_EVENTS 8
#define MERGED_EVENTS 16

const char *outcome_kind_name(enum outcome_kind k)
{
    switch (k) {
    case OUT_PASS: return "pass";
    case OUT_EXIT: return "exit";
    case OUT_SIGNAL: return "signal";
    case OUT_HANG: return "hang";
    case OUT_LOST_UPDATE: return "lost_update";
    }
    return "?";
}

static void format_duration(char *buf, size_t len, uint64_t us)
{
    if (us % 1000000 == 0)
        snprintf(buf, len, "%" PRIu64 "s", us / 1000000);
    else if (us % 1000 == 0)
        snprintf(buf, len, "%" PRIu64 "ms", us / 1000);
    else
        snprintf(buf, len, "%" PRIu64 "us", us);
}

/* Each line of text as "  | line". */
static void print_indented(FILE *f, const char *text)
{
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        fprintf(f, "  | %.*s\n", (int)len, line);
        line += len + (nl ? 1 : 0);
    }
}

void describe_outcome(char *buf, size_t len, const struct outcome *oc, uint64_t timeout_us)
{
    char d[32];
    switch (oc->kind) {
    case OUT_PASS:
        snprintf(buf, len, "pass");
        break;
    case OUT_EXIT:
        if (oc->sanitizer)
            snprintf(buf, len, "sanitizer report (exit status %d)", oc->code);
        else if (oc->fail_on)
            snprintf(buf, len, "output matched --fail-on (exit status %d)", oc->code);
        else
            snprintf(buf, len, "exit status %d", oc->code);
        break;
    case OUT_SIGNAL: {
        const char *abbrev = sigabbrev_np(oc->code);
        snprintf(buf, len, "killed by signal %d (SIG%s)", oc->code, abbrev ? abbrev : "?");
        break;
    }
    case OUT_HANG:
        format_duration(d, sizeof d, timeout_us);
        if (oc->deadlock)
            snprintf(buf, len, "hang: deadlock, no thread can run (found by the shim)");
        else
            snprintf(buf, len, "hang: still running after --timeout %s (killed)", d);
        break;
    case OUT_LOST_UPDATE:
        snprintf(buf, len, "lost update: a write overwrote a newer value (exit status %d)",
                 oc->code);
        break;
    }
}

/* Bytes that must not reach a terminal or a shell raw: C0 controls and DEL, and (as UTF-8)
 * C1 controls (a terminal may take U+009B as CSI), line/paragraph separators and bidi
 * overrides (they reorder what is shown); invalid UTF-8 too.  Returns how many bytes at p
 * need escaping (0: none, the character at p is printable; its length is in *len). */
static int unsafe_bytes(const unsigned char *p, int *len)
{
    if (*p < 0x20 || *p == 0x7f) {
        *len = 1;
        return 1;
    }
    int n = utf8_len(p);
    if (n == 0) {
        *len = 1;
        return 1;
    }
    *len = n;
    if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)
        return 2; /* U+0080..U+009F */
    if (n == 3 && p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9 ||
                                                   (p[2] >= 0xaa && p[2] <= 0xae) ||
                                                   p[2] == 0x8e || p[2] == 0x8f))
        return 3; /* U+2028, U+2029, U+202A..U+202E, U+200E, U+200F */
    if (n == 3 && p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
        return 3; /* U+2066..U+2069 */
    return 0;
}

/* Shell quoting for copy-paste: bare when safe; single quotes for printable text; bash's
 * $'...' when the argument holds a control byte or another character that must not be shown
 * raw (a newline would split the replay line, an ESC would drive the terminal), so that the
 * line stays one line and pasting it into bash gives back the same argv. */
static void shell_quote(FILE *f, const char *s)
{
    int safe = *s != 0, special = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        int len;
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%",
                    *p))
            safe = 0;
        if (unsafe_bytes(p, &len))
            special = 1;
        p += len;
    }
    if (safe) {
        fputs(s, f);
        return;
    }
    if (!special) {
        fputc('\'', f);
        for (const char *p = s; *p; p++) {
            if (*p == '\'')
                fputs("'\\''", f);
            else
                fputc(*p, f);
        }
        fputc('\'', f);
        return;
    }
    /* Inside $'...' backslash and the quote are escapes, and '!' is written \x21 so that an
     * interactive shell's history expansion cannot touch it.  \xHH takes at most two hex
     * digits, so a hex digit after it is read as itself. */
    fputs("$'", f);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        int len;
        int bad = unsafe_bytes(p, &len);
        if (bad) {
            for (int k = 0; k < len; k++)
                fprintf(f, "\\x%02x", p[k]);
        } else if (*p == '\\' || *p == '\'') {
            fputc('\\', f);
            fputc(*p, f);
        } else if (*p == '!') {
            fputs("\\x21", f);
        } else {
            fwrite(p, 1, (size_t)len, f);
        }
        p += len;
    }
    fputc('\'', f);
}

char *shell_quote_command(const struct wedge_config *cfg, const char *token)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    if (!f)
        return NULL;
    if (cfg->baseline) {
        /* a baseline run has no token: its replay is the plain command */
    } else {
        fprintf(f, "wedge replay ");
        shell_quote(f, token);
        if (cfg->pass_exit_arg) {
            fputs(" --pass-exit ", f);
            shell_quote(f, cfg->pass_exit_arg);
        }
        if (cfg->sites)
            fprintf(f, " --sites %s", cfg->sites);
        if (cfg->steps)
            fprintf(f, " --steps %s", cfg->steps);
        if (cfg->fail_on_arg) {
            fputs(" --fail-on ", f);
            shell_quote(f, cfg->fail_on_arg);
        }
        if (cfg->timeout_given && cfg->timeout_us != DEFAULT_TIMEOUT_US) {
            char d[32];
            format_duration(d, sizeof d, cfg->timeout_us);
            fprintf(f, " --timeout %s", d);
        }
        fputs(" --", f);
    }
    for (int i = 0; i < cfg->argc; i++) {
        if (i || !cfg->baseline)
            fputc(' ', f);
        shell_quote(f, cfg->argv[i]);
    }
    if (fclose(f) != 0) { /* out of memory: a cut text is no report */
        free(s);
        return NULL;
    }
    return s;
}

/* Memory-access sites are the faulting instruction itself; every other site is a return
 * address from a call into the shim. */
static int site_is_return(unsigned kind)
{
    /* thread_start's site is the start routine itself, not a return address */
    return kind != WEDGE_EV_MEM_READ && kind != WEDGE_EV_MEM_WRITE &&
           kind != WEDGE_EV_LOST_UPDATE && kind != WEDGE_EV_THREAD_START &&
           kind != WEDGE_EV_RF_HOLD;
}

static const char *state_name(uint32_t s)
{
    switch (s) {
    case WEDGE_TS_FREE: return "unused";
    case WEDGE_TS_RUNNING: return "running";
    case WEDGE_TS_BLOCKED: return "blocked";
    case WEDGE_TS_OUTSIDE: return "in a call outside the model";
    case WEDGE_TS_EXITED: return "exited";
    }
    return "?";
}

/* indent NULL: one line, no stack (the merged interleaving) */
static void print_event(FILE *f, const struct wedge_shm_header *h, const struct wedge_event *e,
                        const char *indent)
{
    fprintf(f, "%s", wedge_event_kind_name(e->kind));
    if (e->obj)
        fprintf(f, " 0x%" PRIx64, e->obj);
    if (e->aux && (e->kind == WEDGE_EV_MALLOC || e->kind == WEDGE_EV_READ ||
                   e->kind == WEDGE_EV_WRITE))
        fprintf(f, " (%" PRIu64 ")", e->aux);
    if (e->site)
        fprintf(f, " at %s", symbolize(h, e->site, site_is_return(e->kind)));
    switch (e->action) {
    case WEDGE_ACT_NONE:
        break;
    case WEDGE_ACT_YIELD:
        fprintf(f, " -> yield x%u", e->action_arg);
        break;
    case WEDGE_ACT_SPIN:
        fprintf(f, " -> spin %u", e->action_arg);
        break;
    case WEDGE_ACT_SLEEP:
        fprintf(f, " -> sleep %uus", e->action_arg);
        break;
    case WEDGE_ACT_PREEMPT:
        fprintf(f, " -> preempt to thread %u", e->action_arg);
        break;
    default:
        fprintf(f, " -> %s %u", wedge_action_name(e->action), e->action_arg);
        break;
    }
    fputc('\n', f);
    if (!indent)
        return;
    unsigned ns = e->nstack < WEDGE_STACK_DEPTH ? e->nstack : WEDGE_STACK_DEPTH;
    for (unsigned k = 0; k < ns; k++)
        fprintf(f, "%s    #%u %s\n", indent, k, symbolize(h, e->stack[k], 1));
}

struct merged {
    struct wedge_event ev;
    uint32_t slot;
};

static int by_seq(const void *a, const void *b)
{
    uint64_t x = ((const struct merged *)a)->ev.seq, y = ((const struct merged *)b)->ev.seq;
    return x < y ? -1 : x > y;
}

static void thread_label(char *buf, size_t len, const struct wedge_shm_header *h, uint32_t i)
{
    const struct wedge_thread_slot *t = wedge_shm_slot((struct wedge_shm_header *)h, i);
    uint32_t p = t->proc;
    int pid = p < WEDGE_MAX_PROCS ? h->procs[p].pid : 0;
    snprintf(buf, len, "T%u (pid %d, thread %u)", i, pid, t->ordinal);
}

static void print_interleaving(FILE *f, const struct job *job)
{
    const struct wedge_shm_header *h = job->shm->hdr;
    uint32_t n = atomic_load(&h->nthreads);
    if (n > WEDGE_MAX_THREADS)
        n = WEDGE_MAX_THREADS;
    if (n == 0) {
        fputs("threads: none recorded\n", f);
        return;
    }
    fputs("threads (last events of each, oldest first):\n", f);
    size_t nmerged = 0;
    struct merged *all = calloc((size_t)n * WEDGE_RING_EVENTS, sizeof *all);
    char label[80];
    for (uint32_t i = 0; i < n; i++) {
        struct wedge_thread_slot *t = wedge_shm_slot((struct wedge_shm_header *)h, i);
        if (!atomic_load(&t->used))
            continue;
        uint32_t state = atomic_load(&t->state);
        uint32_t bkind = t->blocked_kind;
        uint64_t bobj = t->blocked_obj, bsite = t->blocked_site;
        if (job->hang_valid) { /* the state at the moment of the timeout, before the kill */
            state = job->hang[i].state;
            bkind = job->hang[i].blocked_kind;
            bobj = job->hang[i].blocked_obj;
            bsite = job->hang[i].blocked_site;
        }
        thread_label(label, sizeof label, h, i);
        fprintf(f, "  %s: %s", label, state_name(state));
        if (state == WEDGE_TS_BLOCKED || state == WEDGE_TS_OUTSIDE) {
            fprintf(f, " in %s", wedge_event_kind_name(bkind));
            if (bobj)
                fprintf(f, " on 0x%" PRIx64, bobj);
            if (bsite)
                fprintf(f, " at %s", symbolize(h, bsite, 1));
        }
        fputc('\n', f);
        uint64_t head = atomic_load(&t->head);
        uint64_t have = head < WEDGE_RING_EVENTS ? head : WEDGE_RING_EVENTS;
        uint64_t show = have < THREAD_EVENTS ? have : THREAD_EVENTS;
        for (uint64_t k = show; k > 0; k--) {
            const struct wedge_event *e = &t->ring[(head - k) % WEDGE_RING_EVENTS];
            fprintf(f, "    ");
            print_event(f, h, e, "    ");
        }
        if (all)
            for (uint64_t k = 1; k <= have; k++) {
                const struct wedge_event *e = &t->ring[(head - k) % WEDGE_RING_EVENTS];
                if (e->seq)
                    all[nmerged++] = (struct merged){ *e, i };
            }
    }
    if (all && nmerged) {
        qsort(all, nmerged, sizeof *all, by_seq);
        size_t from = nmerged > MERGED_EVENTS ? nmerged - MERGED_EVENTS : 0;
        fprintf(f, "interleaving (last %zu events of the run, in order):\n", nmerged - from);
        for (size_t k = from; k < nmerged; k++) {
            fprintf(f, "  %6" PRIu64 "  T%-3u ", all[k].ev.seq, all[k].slot);
            print_event(f, h, &all[k].ev, NULL);
        }
    }
    free(all);
}

/* The shim writes sites into its messages as raw numbers ("at 0x10000000012bc"): print
 * those that name a known module symbolized, the rest as they are. */
static void print_message(FILE *f, const struct wedge_shm_header *h, const char *msg)
{
    uint32_t nmod = atomic_load(&h->nmodules);
    const char *p = msg;
    while (*p) {
        if (strncmp(p, "at 0x", 5) == 0) {
            char *end;
            uint64_t v = strtoull(p + 3, &end, 16);
            int mod = WEDGE_SITE_MODULE(v);
            if (end > p + 5 && mod >= 0 && (uint32_t)mod < nmod) {
                fprintf(f, "at %s", symbolize(h, v, 1));
                p = end;
                continue;
            }
        }
        fputc(*p++, f);
    }
}

/* The reads-from constraints of the run's token, in words: what the campaign steered this
 * run toward.  A constraint's hold may have happened long before the failure, out of the
 * interleaving's last events, and the racing pair the conclusion names may be a later one
 * (steal_deque: the exit flag read after the job that ran twice), so the report says where the
 * run was pushed.  Sites as the rest of the report names them. */
static void print_constraints(FILE *f, const struct wedge_shm_header *h, const struct wedge_token *t)
{
    if (!t->nrf)
        return;
    fputs("steered: this run's token held threads at reads-from constraints (the campaign's "
          "push):\n", f);
    for (uint32_t i = 0; i < t->nrf && i < WEDGE_TOKEN_RF; i++) {
        const struct wedge_rf_constraint *c = &t->rf[i];
        char w[512], r[512];
        snprintf(w, sizeof w, "%s", c->write_site ? symbolize(h, c->write_site, 0) : "");
        snprintf(r, sizeof r, "%s", symbolize(h, c->read_site, 0));
        if (c->kind == WEDGE_RF_PIN)
            fprintf(f, "  %u. the read at %s held until the write at %s ran (it reads that "
                       "write)\n", i + 1, r, w);
        else if (c->kind == WEDGE_RF_EACH)
            fprintf(f, "  %u. every write at %s held until a read at %s ran (the read sees the "
                       "value before each)\n", i + 1, w, r);
        else if (c->write_site)
            fprintf(f, "  %u. the write at %s held until the read at %s ran (the read sees the "
                       "value before it)\n", i + 1, w, r);
        else
            fprintf(f, "  %u. the read at %s held until its object was written (it does not "
                       "read the initial value)\n", i + 1, r);
        if (c->hold_thread)
            fprintf(f, "     held at T%u's lock call %u, before it took the lock (the access "
                       "is inside that critical section)\n", c->hold_thread - 1, c->hold_n);
    }
}

char *report_text(const struct wedge_config *cfg, const struct job *job,
                  const struct outcome *oc, const char *replay, const char *conclusion)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    if (!f)
        return NULL;
    char desc[256];
    describe_outcome(desc, sizeof desc, oc, cfg->timeout_us);
    if (cfg->baseline)
        fprintf(f, "reproduction: baseline run %" PRIu64 " (without the shim)\n", job->index);
    else
        fprintf(f, "reproduction: %s (run %" PRIu64 ")\n", job->token, job->index);
    fprintf(f, "replay:  %s\n", replay ? replay : "?");
    fprintf(f, "outcome: %s\n", desc);
    if (oc->fail_on)
        fprintf(f, "matched: %s\n", job->out.match);
    if (conclusion && *conclusion)
        fputs(conclusion, f); /* the conclusion first: what raced, before the details */
    if (oc->sanitizer) {
        char sum[256];
        fprintf(f, "finding: %s\n", san_summary(&job->out.san, sum, sizeof sum));
        fputs("sanitizer report:\n", f);
        print_indented(f, job->out.san.text);
    }
    const struct wedge_shm_header *h = job->shm ? job->shm->hdr : NULL;
    if (h) {
        uint32_t flags = atomic_load(&h->flags);
        char msg[WEDGE_MESSAGE_LEN + 1];
        memcpy(msg, h->message, WEDGE_MESSAGE_LEN);
        msg[WEDGE_MESSAGE_LEN] = 0;
        if (msg[0]) {
            fputs("shim:    ", f);
            print_message(f, h, msg);
            fputc('\n', f);
        }
        if (flags & WEDGE_RUN_LOST_UPDATE) {
            const struct wedge_lost_update *l = &h->lost_update;
            fprintf(f, "lost update of 0x%" PRIx64 ":\n", l->addr);
            fprintf(f, "  T%u read it      at %s\n", l->thread_a, symbolize(h, l->read_site, 0));
            fprintf(f, "  T%u wrote it     at %s\n", l->thread_b,
                    symbolize(h, l->other_write_site, 0));
            fprintf(f, "  T%u overwrote it at %s (from its stale read)\n", l->thread_a,
                    symbolize(h, l->overwrite_site, 0));
        }
        if (job->tok.mode == WEDGE_MODE_SERIAL)
            fprintf(f, "trace:   hash %016" PRIx64 ", %" PRIu64 " scheduling points%s\n",
                    (uint64_t)atomic_load(&h->trace_hash), (uint64_t)atomic_load(&h->steps),
                    (flags & WEDGE_RUN_NOT_EXACT)
                        ? " (not exactly replayable: a watchdog preemption or a call outside "
                          "the model)"
                        : "");
        fprintf(f, "stats:   %" PRIu64 " injections, %" PRIu64 " trapped accesses, %u threads, "
                   "%u processes\n",
                (uint64_t)atomic_load(&h->injections), (uint64_t)atomic_load(&h->traps),
                atomic_load(&h->nthreads), atomic_load(&h->nprocs));
        print_constraints(f, h, &job->tok);
        if (flags & WEDGE_RUN_RING_FULL)
            fputs("note:    more threads than trace slots: some threads went untraced\n", f);
        if (flags & WEDGE_RUN_UNSEEN_FUTEX)
            fputs("note:    a thread waited in a futex system call made without libc's syscall() "
                  "(raw instruction): wedge could not model it; the watchdog moved on\n", f);
        if (flags & WEDGE_RUN_EARLY_TIMEOUT)
            fputs("note:    timed waits expired early at seeded moments (the clocks were moved "
                  "forward to their deadlines)\n", f);
    }
    char *tail = output_tail_lines(&job->out, TAIL_LINES);
    if (tail && *tail) {
        fprintf(f, "output (last %d lines):\n", TAIL_LINES);
        print_indented(f, tail);
    } else {
        fputs("output: (none)\n", f);
    }
    free(tail);
    if (h)
        print_interleaving(f, job);
    if (fclose(f) != 0) { /* out of memory: a cut text is no report */
        free(s);
        return NULL;
    }
    return s;
}

/* Remove what a failed write left: a file that exists is a whole report.  Only a regular
 * file (--json /dev/stdout or a FIFO is not ours to remove). */
static void unlink_partial(int fd, const char *path)
{
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        unlink(path);
}

int report_write_file(const char *dir, const char *name, const char *text, char **path_out,
                      int say)
{
    *path_out = NULL;
    char *path, *tmp;
    if (asprintf(&path, "%s/%s.txt", dir, name) < 0)
        return -1;
    /* Written under a hidden name and renamed into place: a report file that exists is whole,
     * even if wedge is killed while writing, and rewriting one (explained by later replays)
     * keeps the old one if the new one does not fit. */
    if (asprintf(&tmp, "%s/.%s.txt.partial", dir, name) < 0) {
        free(path);
        return -1;
    }
    /* open/write/close right away: a Ctrl-C or a crash of wedge later loses nothing */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int e = fd < 0 ? errno : 0;
    size_t len = strlen(text), off = 0;
    while (fd >= 0 && off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            e = w < 0 ? errno : ENOSPC;
            break;
        }
        off += (size_t)w;
    }
    /* NFS and others report a failed write-back only at close */
    if (fd >= 0 && close(fd) != 0 && !e)
        e = errno;
    if (!e && rename(tmp, path) != 0)
        e = errno;
    if (e) {
        if (fd >= 0)
            unlink(tmp);
        if (say)
            usage_error("cannot write report %s: %s", path, strerror(e));
        free(path);
        free(tmp);
        errno = e;
        return -1;
    }
    free(tmp);
    *path_out = path;
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* JSON and JUnit */

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if the bytes there are not valid
 * UTF-8.  Program output is arbitrary bytes (and our cuts may split a character); the JSON
 * and XML reports must stay valid, so invalid bytes are replaced. */
static int utf8_len(const unsigned char *p)
{
    int n;
    unsigned min;
    unsigned cp;
    if (p[0] < 0x80)
        return 1;
    if ((p[0] & 0xe0) == 0xc0) {
        n = 2;
        min = 0x80;
        cp = p[0] & 0x1f;
    } else if ((p[0] & 0xf0) == 0xe0) {
        n = 3;
        min = 0x800;
        cp = p[0] & 0x0f;
    } else if ((p[0] & 0xf8) == 0xf0) {
        n = 4;
        min = 0x10000;
        cp = p[0] & 0x07;
    } else {
        return 0;
    }
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void report_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20) {
                fprintf(f, "\\u%04x", *p);
            } else {
                int n = utf8_len(p);
                if (n == 0) {
                    fputs("\\ufffd", f);
                } else {
                    fwrite(p, 1, (size_t)n, f);
                    p += n - 1;
                }
            }
        }
    }
    fputc('"', f);
}

static FILE *open_report(const char *path)
{
    FILE *f = fopen(path, "we");
    if (!f)
        usage_error("cannot write %s: %s", path, strerror(errno));
    return f;
}

/* Every write is checked here: a full disk shows at the flush, or as the stream's error. */
static int close_report(FILE *f, const char *path)
{
    int e = 0;
    if (fflush(f) != 0)
        e = errno;
    else if (ferror(f))
        e = EIO;
    if (e)
        unlink_partial(fileno(f), path);
    if (fclose(f) != 0 && !e)
        e = errno;
    if (e) {
        usage_error("cannot write %s: %s", path, strerror(e));
        return -1;
    }
    return 0;
}

FILE *report_json_open(const char *path)
{
    return open_report(path);
}

int report_json_close(FILE *f, const char *path)
{
    return close_report(f, path);
}

static void json_strategy(FILE *f, const struct wedge_token *t)
{
    char buf[32];
    if (t->strategy == WEDGE_STRAT_PCT)
        snprintf(buf, sizeof buf, "pct:%u", t->depth);
    else
        snprintf(buf, sizeof buf, "%s", wedge_strategy_name(t->strategy));
    report_json_str(f, buf);
}

int report_json(const char *path, const struct summary *s)
{
    const struct wedge_config *cfg = s->cfg;
    FILE *f = open_report(path);
    if (!f)
        return -1;
    fprintf(f, "{\n  \"version\": ");
    report_json_str(f, WEDGE_VERSION);
    /* the layout of this report (README "JSON report"): bumped when a field changes meaning */
    fprintf(f, ",\n  \"schema_version\": %d", WEDGE_JSON_SCHEMA);
    fprintf(f, ",\n  \"command\": ");
    report_json_str(f, command_name(cfg->cmd));
    if (cfg->cmd != CMD_REPLAY) {
        fprintf(f, ",\n  \"seed\": \"%016" PRIx64 "\"", cfg->seed);
    } else {
        fprintf(f, ",\n  \"token\": ");
        report_json_str(f, cfg->token_arg);
        fprintf(f, ",\n  \"seed\": \"%016" PRIx64 "\"", cfg->token.seed);
    }
    fprintf(f, ",\n  \"mode\": ");
    report_json_str(f, cfg->baseline ? "baseline" : cfg->auto_mode ? "auto"
                                                  : wedge_mode_name(cfg->proto.mode));
    fprintf(f, ",\n  \"strategy\": ");
    if (cfg->auto_mode)
        report_json_str(f, "auto");
    else
        json_strategy(f, &cfg->proto);
    fprintf(f, ",\n  \"program\": [");
    for (int i = 0; i < cfg->argc; i++) {
        if (i)
            fputs(", ", f);
        report_json_str(f, cfg->argv[i]);
    }
    fprintf(f, "],\n  \"runs\": %" PRIu64 ",\n  \"runs_requested\": %" PRIu64
               ",\n  \"passed\": %" PRIu64,
            s->runs_done, s->runs_requested, s->passed);
    fprintf(f, ",\n  \"forked_runs\": %" PRIu64, forksrv_forked()); /* by a fork server */
    if (cfg->cmd != CMD_REPLAY) {
        /* what wedge merge checks and needs: the shard (also "1/1"), the campaign's whole
         * run count, the options that shape tokens and outcomes */
        fprintf(f, ",\n  \"shard\": \"%u/%u\"", cfg->shard_k, cfg->shard_n);
        fprintf(f, ",\n  \"campaign_runs\": %" PRIu64 ",\n  \"watch\": %s,\n  \"detect\": %s"
                   ",\n  \"timeout_us\": %" PRIu64,
                cfg->runs, cfg->opts & WEDGE_OPT_MEMORY ? "\"mem\"" : "null",
                cfg->opts & WEDGE_OPT_LOST_UPDATE ? "\"lost-update\"" : "null", cfg->timeout_us);
        if (s->merged_from)
            fprintf(f, ",\n  \"merged_from\": %u", s->merged_from);
        gate_json(f, s);
        if (s->corpus)
            corpus_json(f, s->corpus);
    }
    if (cfg->cmd == CMD_REPLAY) {
        fprintf(f, ",\n  \"reproduced\": %zu,\n  \"traps\": %" PRIu64, s->nrepros, s->replay_traps);
        if (cfg->proto.mode == WEDGE_MODE_SERIAL)
            fprintf(f, ",\n  \"same_trace\": %" PRIu64 ", \"inexact\": %" PRIu64
                       ", \"trace_hash\": \"%016" PRIx64 "\"", s->same_trace, s->inexact,
                    s->same_trace ? s->first_trace_hash : 0);
        fprintf(f, ",\n  \"outcomes\": {");
        int first = 1;
        for (int k = 0; k < 5; k++) {
            if (!s->outcome_counts[k])
                continue;
            fprintf(f, "%s\"%s\": %u", first ? "" : ", ", outcome_kind_name((enum outcome_kind)k),
                    s->outcome_counts[k]);
            first = 0;
        }
        fputc('}', f);
    }
    fprintf(f, ",\n  \"reports_kept\": %zu, \"reports_lost\": %zu", s->reports_kept,
            s->nrepros - s->reports_kept);
    fprintf(f, ",\n  \"interrupted\": %s", s->interrupted ? "true" : "false");
    fprintf(f, ",\n  \"stopped\": ");
    if (s->stopped)
        report_json_str(f, s->stopped);
    else
        fputs("null", f);
    fprintf(f, ",\n  \"elapsed_s\": %.3f", s->elapsed_s);
    fprintf(f, ",\n  \"reproductions\": [");
    for (size_t i = 0; i < s->nrepros; i++) {
        const struct repro *r = &s->repros[i];
        fprintf(f, "%s\n    {\"token\": ", i ? "," : "");
        report_json_str(f, r->token);
        fprintf(f, ", \"run\": %" PRIu64 ", \"outcome\": {\"kind\": \"%s\", \"code\": %d",
                r->run, outcome_kind_name(r->oc.kind), r->oc.code);
        if (r->oc.kind == OUT_HANG)
            fprintf(f, ", \"reason\": \"%s\"", r->oc.deadlock ? "deadlock" : "timeout");
        if (r->oc.fail_on)
            fputs(", \"fail_on\": true", f);
        if (r->oc.sanitizer) {
            fputs(", \"sanitizer\": {\"tool\": ", f);
            report_json_str(f, r->san.tool);
            fputs(", \"finding\": ", f);
            report_json_str(f, r->san.kind);
            fputs(", \"frames\": [", f);
            for (unsigned k = 0; k < r->san.nframes; k++) {
                fputs(k ? ", " : "", f);
                report_json_str(f, r->san.frames[k]);
            }
            fputs("]}", f);
        }
        fprintf(f, "}, \"replay\": ");
        report_json_str(f, r->replay);
        fprintf(f, ", \"signature\": \"%016" PRIx64 "\", \"group\": %u, \"report\": ", r->signature,
                r->group + 1);
        if (r->report_path) {
            report_json_str(f, r->report_path);
        } else { /* the file could not be written: say so, and why */
            fputs("null, \"report_error\": ", f);
            report_json_str(f, r->report_error ? r->report_error : "not written");
        }
        fprintf(f, ", \"last_line\": ");
        report_json_str(f, r->last_line);
        if (r->confirmed >= 0)
            fprintf(f, ", \"confirmed\": {\"reproduced\": %d, \"of\": 8}", r->confirmed);
        fprintf(f, ", \"trace_hash\": \"%016" PRIx64 "\", \"steps\": %" PRIu64 ", \"exact\": %s",
                r->trace_hash, r->steps, r->exact ? "true" : "false");
        fprintf(f, ", \"conclusion\": %s", r->conclusion_json ? r->conclusion_json : "null");
        if (s->pf) {
            char arm[WEDGE_TOKEN_MAX];
            portfolio_arm_of_token(r->token, arm, sizeof arm);
            fprintf(f, ", \"arm\": ");
            report_json_str(f, arm);
        }
        fputc('}', f);
    }
    fprintf(f, "%s],\n  \"groups\": [", s->nrepros ? "\n  " : "");
    for (size_t g = 0; g < s->ngroups; g++) {
        const struct group *gr = &s->groups[g];
        const struct repro *r = &s->repros[gr->first];
        fprintf(f, "%s\n    {\"signature\": \"%016" PRIx64 "\", \"count\": %u, \"kind\": \"%s\", "
                   "\"code\": %d, \"first_token\": ",
                g ? "," : "", gr->signature, gr->count, outcome_kind_name(r->oc.kind), r->oc.code);
        report_json_str(f, r->token);
        fprintf(f, ", \"replay\": ");
        report_json_str(f, r->replay);
        fprintf(f, ", \"last_line\": ");
        report_json_str(f, r->last_line);
        fputc('}', f);
    }
    fprintf(f, "%s]", s->ngroups ? "\n  " : "");
    if (s->pf)
        portfolio_json(s->pf, f);
    fprintf(f, "\n}\n");
    return close_report(f, path);
}

static void xml_str(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            /* XML 1.0 allows no control characters besides tab, newline, return */
            if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') {
                fputc('?', f);
            } else {
                int n = utf8_len(p);
                if (n == 0) {
                    fputc('?', f);
                } else {
                    fwrite(p, 1, (size_t)n, f);
                    p += n - 1;
                }
            }
        }
    }
}

/* The text of a reproduction's report file for the JUnit failure body, NULL when it cannot
 * be read (a merged report names files on the shards' machines).  Capped: a dashboard shows
 * the report, it does not archive it. */
static char *read_report_file(const char *path)
{
    if (!path || !*path)
        return NULL;
    FILE *rf = fopen(path, "r");
    if (!rf)
        return NULL;
    size_t cap = 65536;
    char *buf = malloc(cap + 1);
    size_t n = buf ? fread(buf, 1, cap, rf) : 0;
    fclose(rf);
    if (buf)
        buf[n] = 0;
    return buf;
}

/* One test case per campaign (the program under this configuration), one <failure> per
 * failure group with its report; the schema is tests/junit/junit-10.xsd (the Ant/Jenkins
 * shape most CI dashboards read). */
int report_junit(const char *path, const struct summary *s)
{
    FILE *f = open_report(path);
    if (!f)
        return -1;
    const struct wedge_config *cfg = s->cfg;
    const char *mode = cfg->baseline ? "baseline" : cfg->auto_mode ? "auto"
                                     : wedge_mode_name(cfg->proto.mode);
    char statement[320];
    gate_statement(statement, sizeof statement, cfg, s->nrepros, s->runs_done);
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    fprintf(f, "<testsuite name=\"wedge\" tests=\"1\" failures=\"%d\" errors=\"0\" "
               "time=\"%.3f\">\n",
            s->ngroups ? 1 : 0, s->elapsed_s);
    fprintf(f, "  <properties>\n    <property name=\"seed\" value=\"%016" PRIx64 "\"/>\n"
               "    <property name=\"runs\" value=\"%" PRIu64 "\"/>\n"
               "    <property name=\"mode\" value=\"%s\"/>\n"
               "    <property name=\"shard\" value=\"%u/%u\"/>\n"
               "    <property name=\"confidence\" value=\"",
            cfg->seed, s->runs_done, mode, cfg->shard_k, cfg->shard_n);
    xml_str(f, statement);
    fputs("\"/>\n  </properties>\n", f);
    /* CI dashboards show classname as a dotted path: the program's base name reads best. */
    const char *slash = strrchr(cfg->argv[0], '/');
    const char *prog = slash ? slash + 1 : cfg->argv[0];
    fprintf(f, "  <testcase classname=\"wedge.");
    xml_str(f, prog);
    fprintf(f, "\" name=\"");
    xml_str(f, prog);
    fprintf(f, ": %" PRIu64 " runs, mode %s\" time=\"%.3f\">\n", s->runs_done, mode,
            s->elapsed_s);
    for (size_t g = 0; g < s->ngroups; g++) {
        const struct group *gr = &s->groups[g];
        const struct repro *r = &s->repros[gr->first];
        char desc[256];
        describe_outcome(desc, sizeof desc, &r->oc, cfg->timeout_us);
        fprintf(f, "    <failure message=\"failure group %zu: ", g + 1);
        xml_str(f, desc);
        fprintf(f, " in %u of %" PRIu64 " runs", gr->count, s->runs_done);
        if (r->last_line && *r->last_line) {
            char cut[101];
            snprintf(cut, sizeof cut, "%s", r->last_line);
            fputs(": ", f);
            xml_str(f, cut);
        }
        fprintf(f, "\" type=\"%s\">", outcome_kind_name(r->oc.kind));
        fprintf(f, "first token: ");
        xml_str(f, r->token);
        fprintf(f, "\nreplay: ");
        xml_str(f, r->replay);
        fprintf(f, "\nlast output line: ");
        xml_str(f, r->last_line);
        fprintf(f, "\nreport: ");
        xml_str(f, r->report_path ? r->report_path : "(could not be written)");
        char *text = r->report_path ? read_report_file(r->report_path) : NULL;
        if (text) {
            fputs("\n\n", f);
            xml_str(f, text);
            free(text);
        }
        fprintf(f, "\n</failure>\n");
    }
    fputs("    <system-out>", f);
    xml_str(f, statement);
    fputs("</system-out>\n  </testcase>\n</testsuite>\n</testsuites>\n", f);
    return close_report(f, path);
}
