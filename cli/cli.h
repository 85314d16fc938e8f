/* cli.h - internal interfaces between the files of the wedge command.
 *
 * Layers: main.c dispatches; options.c turns argv into a struct wedge_config; target.c checks
 * PROGRAM and finds the shim; shm.c owns the per-slot shared memory files; runner.c spawns,
 * watches and reaps runs (single-threaded, poll-based) and output.c keeps their output
 * bounded; campaign.c decides which runs to start and classifies them; report.c, symbolize.c
 * and progress.c present the results; minimize.c is the minimizer's entry point.
 *
 * Errors: functions that can fail on bad input print "wedge: ..." themselves and return -1;
 * the caller exits with status 2 (DESIGN.md section 1).
 */
#ifndef WEDGE_CLI_H
#define WEDGE_CLI_H

#include <regex.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "wedge_protocol.h"
#include "wedge_sanitizers.h"
#include "wedge_token.h"

/* Exit statuses of run and replay: the contract. */
#define WEDGE_EXIT_PASS 0
#define WEDGE_EXIT_REPRODUCED 1
#define WEDGE_EXIT_USAGE 2

enum wedge_command { CMD_NONE = 0, CMD_RUN = 1, CMD_REPLAY = 2, CMD_MINIMIZE = 4, CMD_MERGE = 8 };

enum wedge_progress_mode { PROGRESS_AUTO, PROGRESS_ALWAYS, PROGRESS_NEVER };

#define DEFAULT_RUNS 1000u
#define DEFAULT_TIMEOUT_US 10000000ull
#define DEFAULT_OUT "wedge-out"

/* sanitizer.c: sanitizer runtimes of the program, and a sanitizer's report in a run's output */
#define SAN_ASAN (1u << WEDGE_SAN_I_ASAN)
#define SAN_HWASAN (1u << WEDGE_SAN_I_HWASAN)
#define SAN_TSAN (1u << WEDGE_SAN_I_TSAN)
#define SAN_LSAN (1u << WEDGE_SAN_I_LSAN)
#define SAN_UBSAN (1u << WEDGE_SAN_I_UBSAN)
struct san_info {
    unsigned flags;              /* SAN_* found */
    int linked_in;               /* a runtime is linked into the executable (clang's default) */
    char preload[64];            /* a shared runtime that owns malloc: preload it first */
};
void san_detect(const char *path, struct san_info *si);
const char *san_names(unsigned flags); /* "ASan+UBSan"; static buffer */
#define SAN_FRAMES 3
struct san_finding {
    char tool[40];               /* "AddressSanitizer" */
    char kind[64];               /* "heap-use-after-free", "data race", "undefined-behavior" */
    char frames[SAN_FRAMES][96]; /* first frames of its first stack, runtime frames skipped */
    unsigned nframes;
};
struct san_report {
    int found;                   /* a report's header was seen */
    int stack_done, text_done;
    struct san_finding f;
    char ubsan_line[256];        /* UBSan's "file:line: runtime error: ..." before its summary */
    char text[6144];             /* the report's lines, from its header to its SUMMARY */
    size_t len;
};
/* Feed one line (without its newline) of a run's output. */
void san_line(struct san_report *s, const char *line, size_t n);
/* "AddressSanitizer: heap-use-after-free in worker", or NULL if no report was seen. */
const char *san_summary(const struct san_report *s, char *buf, size_t len);

struct wedge_config {
    enum wedge_command cmd;
    uint64_t runs;
    int runs_given;
    unsigned jobs;
    uint64_t seed;
    int seed_given;
    enum wedge_mode mode;
    int mode_given;
    int auto_mode;               /* --mode auto (the default of run): arms drawn per run */
    const char *arms_arg;        /* --arms LIST, NULL: the default portfolio */
    const char *strategy_arg;    /* as given, NULL: default */
    struct wedge_token proto;    /* mode, strategy, depth, opts of every run's token */
    uint64_t timeout_us;
    int timeout_given;
    uint64_t time_budget_us;     /* 0: none */
    uint64_t stop_after;         /* 0: none */
    uint8_t pass_exit[256];      /* 1: that exit status passes */
    const char *pass_exit_arg;   /* NULL: default "0" */
    regex_t fail_on;
    const char *fail_on_arg;     /* NULL: none */
    const char *out_dir;
    const char *json_path;
    const char *junit_path;
    unsigned shard_k, shard_n;   /* 1-based K of N; N = 1: no sharding */
    enum wedge_progress_mode progress;
    int baseline;
    uint32_t opts;               /* WEDGE_OPT_* from --watch / --detect */
    const char *token_arg;       /* replay/minimize */
    struct wedge_token token;
    char **argv;                 /* PROGRAM ARGS..., NULL-terminated (points into main's argv) */
    int argc;
    char *program;               /* PROGRAM resolved to a path (target.c) */
    char *shim;                  /* libwedge.so path, NULL in baseline mode */
    const char *sites;           /* replay --sites: WEDGE_SITES for the runs, NULL: all */
    const char *steps;           /* replay --steps: WEDGE_STEPS for the runs, NULL: all */
    const char *timeline_path;   /* replay --timeline: HTML page of the first replay */
    struct san_info san;         /* sanitizer runtimes of PROGRAM (target.c) */
    char *san_env;               /* ASAN_OPTIONS for the runs (wedge's defaults, then the
                                    user's), NULL: the environment's as it is */
    int fork_server;             /* 1: runs forked by a fork server where it can (forksrv.c) */
    double confidence;           /* --confidence, a fraction (default 0.95) */
    double max_rate;             /* --max-rate, a fraction; 0: none (runs from --runs) */
    const char *corpus_dir;      /* --corpus DIR, NULL: none */
};

/* options.c */
int options_parse(enum wedge_command cmd, int argc, char **argv, struct wedge_config *cfg);
void options_help(FILE *f, enum wedge_command cmd);
void options_exit_help(FILE *f);
const char *command_name(enum wedge_command cmd);
void options_free(struct wedge_config *cfg);
void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* target.c: returns 0, or prints "wedge: ..." and returns -1 */
int target_resolve(struct wedge_config *cfg);
int target_find_shim(struct wedge_config *cfg);
/* Sanitizer runtimes of cfg->program (called by target_resolve for ELF programs). */
int target_sanitizers(struct wedge_config *cfg);
int target_check_out_dir(const char *dir);

/* shm.c */
struct wedge_shm_slot {
    char path[64];
    int fd;
    struct wedge_shm_header *hdr;
    uint32_t prev_nthreads;      /* thread slots the previous run used: reset those */
};
void shm_remove_stale(void);
int shm_create(struct wedge_shm_slot *s, unsigned slot);
void shm_reset(struct wedge_shm_slot *s);
void shm_destroy(struct wedge_shm_slot *s);
void shm_destroy_all(void);      /* every slot file still linked (atexit, signals) */
int shm_janitor(pid_t pid);      /* pid is the process that cleans up after a killed wedge */

/* output capture: a bounded tail plus line-by-line matching (output.c) */
#define OUT_TAIL 8192u
#define OUT_LINE 4096u
#define OUT_LAST 512u
struct output {
    char tail[OUT_TAIL];         /* ring of the last OUT_TAIL bytes */
    uint64_t total;              /* bytes seen */
    char line[OUT_LINE];         /* current line (cut at OUT_LINE - 1 for matching) */
    size_t line_len;
    char last[OUT_LAST];         /* last non-empty line, for the failure signature */
    char match[OUT_LAST];        /* first line that matched --fail-on */
    int matched;
    const regex_t *fail_on;
    int tee_fd;                  /* >= 0: copy the output there as it streams (replay) */
    struct san_report san;       /* a sanitizer's report, if the run printed one */
};
void output_init(struct output *o, const regex_t *fail_on, int tee_fd);
void output_feed(struct output *o, const char *buf, size_t n);
void output_finish(struct output *o);
/* The last `lines` lines of the tail, linearized into a malloc'd string. */
char *output_tail_lines(const struct output *o, int lines);

/* A thread's state at the moment a run timed out (read before the kill). */
struct hang_thread {
    uint32_t state, blocked_kind;
    uint64_t blocked_obj, blocked_site;
};

/* runner.c: one run in flight or just finished */
struct job {
    int active;
    unsigned slot;
    uint64_t index;              /* campaign index */
    struct wedge_token tok;
    char token[WEDGE_TOKEN_MAX];
    pid_t pid;
    int out_fd;
    int exited;                  /* main process reaped */
    int status;                  /* wait status */
    int timed_out;
    int killed;                  /* killed by wedge for another reason: not classified */
    uint64_t start_us, deadline_us, end_us;
    struct output out;
    struct wedge_shm_slot *shm;
    struct hang_thread *hang;    /* WEDGE_MAX_THREADS entries, filled on timeout */
    int hang_valid;
    int via_server;              /* forked by the slot's fork server (not our child) */
    uint64_t kill_us;            /* when wedge first killed it (timeout, stop), 0: never */
};

struct runner;
struct runner_ops {
    /* Fill index/token for the next run.  Returns 1: start it, 0: nothing to start now (wait
     * for a run to finish), -1: start nothing more. */
    int (*next)(void *ctx, uint64_t *index, struct wedge_token *tok);
    /* A run finished (not killed by wedge): classify and report.  Returns -1 to abort the
     * whole campaign (usage error discovered, e.g. the shim did not attach). */
    int (*done)(void *ctx, struct job *job);
    /* Called at least every 200 ms (progress line, budgets). */
    void (*tick)(void *ctx);
};
struct runner_params {
    const struct wedge_config *cfg;
    unsigned jobs;
    int tee;                     /* copy the output of runs to stdout as it streams */
};
/* Run until next() says -1 and all runs finished, or interrupted.  Returns 0, 1 if
 * interrupted by SIGINT/SIGTERM, -1 if done() aborted or a run could not be started. */
int runner_loop(const struct runner_params *p, const struct runner_ops *ops, void *ctx);
void runner_kill_all(void);      /* stop-after: kill every running run (not classified) */
/* In a helper process forked from wedge (a run's supervisor, the shm janitor): its own process
 * group (the terminal's Ctrl-C is for wedge, which decides), the terminal's signals ignored,
 * `waited` blocked (taken with sigtimedwait), SIGTERM when wedge dies.  Then the caller checks
 * getppid() (wedge may have died before the prctl). */
void helper_process_start(const sigset_t *waited);
void helper_process_close_all(void); /* every descriptor: hold nothing of wedge's */
int runner_interrupted(void);
uint64_t now_us(void);

/* Exec the slot's fork server with ctl_fd (inherited) named in WEDGE_FORKSRV (runner.c). */
pid_t runner_spawn_server(const struct wedge_config *cfg, const struct job *j, int ctl_fd);

/* forksrv.c: the runner's side of the fork server.  forksrv_run returns 0 when the server
 * forked the run (j->pid set), 1 when the run must be exec'd (fork server off). */
int forksrv_enabled(const struct wedge_config *cfg);
void forksrv_setup(unsigned njobs);
void forksrv_shutdown(void);
int forksrv_run(const struct wedge_config *cfg, struct job *j, int out_w, const char *mark);
void forksrv_poll(struct job *j);      /* the run's EXITED, if it came */
/* A run wedge killed whose EXITED never came: stop its server (the fork server is off for the
 * rest of the campaign) and end the run as killed. */
void forksrv_abandon(struct job *j);
void forksrv_after_run(struct job *j); /* a program that execs at once: off */
int forksrv_fd(unsigned slot);
int forksrv_is_server(pid_t pid);
void forksrv_reaped(pid_t pid);
uint64_t forksrv_forked(void);         /* runs forked by a server so far */

/* outcome classification (campaign.c) */
enum outcome_kind { OUT_PASS = 0, OUT_EXIT = 1, OUT_SIGNAL = 2, OUT_HANG = 3, OUT_LOST_UPDATE = 4 };
const char *outcome_kind_name(enum outcome_kind k);
enum outcome_kind outcome_kind_from_name(const char *s); /* merge.c; unknown: OUT_EXIT */

struct outcome {
    enum outcome_kind kind;
    int code;
    int fail_on;                 /* output matched --fail-on */
    int deadlock;                /* hang found by the shim, not by the timeout */
    int sanitizer;               /* a sanitizer reported (the report is in the run's output) */
};

/* report.c */
struct repro {
    uint64_t run;
    char token[WEDGE_TOKEN_MAX];
    struct outcome oc;
    uint64_t signature;
    uint64_t trace_hash;
    uint64_t steps;
    int exact;
    unsigned group;
    int confirmed;               /* noise: of CONFIRM_RUNS replays, how many failed alike; -1 */
    struct san_finding san;      /* oc.sanitizer: the sanitizer's finding */
    char *replay;                /* command line */
    char *report_path;           /* NULL: the report file could not be written */
    const char *report_error;    /* why (strerror), when report_path is NULL */
    char *last_line;
    char *conclusion_json;       /* the structured conclusion, NULL: none */
    char *conclusion_line;       /* its one-line form, NULL or "": none */
};
struct group {
    uint64_t signature;
    unsigned count;
    size_t first;                /* index into the reproduction list */
};
char *shell_quote_command(const struct wedge_config *cfg, const char *token);
/* The text report of a finished run; malloc'd. */
char *report_text(const struct wedge_config *cfg, const struct job *job,
                  const struct outcome *oc, const char *replay, const char *conclusion);
void report_json_str(FILE *f, const char *s);
#define WEDGE_JSON_SCHEMA 2 /* 2: reproductions carry a structured "conclusion" */
/* A JSON file of another command's own (minimize): opened with the usage error on failure,
 * closed with every write checked (-1: not written, said). */
FILE *report_json_open(const char *path);
int report_json_close(FILE *f, const char *path);
/* 0, or -1 with errno set and nothing written (a file of that name already there is left as
 * it was); `say`: print "wedge: cannot write report PATH: ERROR". */
int report_write_file(const char *dir, const char *name, const char *text, char **path_out,
                      int say);
void describe_outcome(char *buf, size_t len, const struct outcome *oc, uint64_t timeout_us);

struct summary {
    const struct wedge_config *cfg;
    uint64_t runs_done, runs_requested, passed;
    struct repro *repros;
    size_t nrepros;
    struct group *groups;
    size_t ngroups;
    double elapsed_s;
    size_t reports_kept;         /* report files written whole under --out */
    int interrupted;
    const char *stopped;         /* why the campaign ended early, NULL: it did not */
    /* replay */
    uint64_t same_trace;         /* serial replays with the trace hash of the first exact one */
    uint64_t first_trace_hash;
    uint64_t replay_traps;       /* trapped accesses of all replays (memory watching) */
    uint64_t inexact;            /* serial replays the run itself marked not exactly replayable
                                    (the watchdog moved the token: a loaded machine, a spin) */
    unsigned outcome_counts[5];
    const struct corpus *corpus; /* --corpus: what its replay found, NULL: none (corpus.c) */
    unsigned merged_from;        /* wedge merge: how many shard reports, 0: a campaign */
    const struct portfolio *pf;  /* --mode auto, else NULL */
};
int report_json(const char *path, const struct summary *s);
int report_junit(const char *path, const struct summary *s);

/* symbolize.c: "function (file:line)" or "module+0xoff"; returned string is owned by the
 * cache.  `is_return`: the site is a return address (look up the call instruction). */
const char *symbolize(const struct wedge_shm_header *h, uint64_t site, int is_return);
void symbolize_shutdown(void);
int symbolize_owns(pid_t pid);   /* pid is one of our addr2line helpers */
/* A data address by name: a variable of a module's DWARF (with member and index, "hist.len",
 * "jobs[2].claimed") or its symbol table.  Returns 0 if found; else -1 and name "0x...". */
struct data_name {
    int found;
    char name[256];
    char module[WEDGE_MODULE_PATH + 1];
    const char *storage;         /* "global", "static", "heap", "stack" */
    uint64_t size;               /* bytes of the part named (heap: of the block) */
    uint64_t block_site;         /* heap: the allocation's call site */
    uint64_t block_offset;       /* heap: offset of the address in the block */
    uint32_t block_thread;       /* heap: the allocating thread's slot */
    char block_type[128];        /* heap: the type it was allocated as ("struct stats"), or "" */
    char block_member[128];      /* heap: the member of that type at the offset ("hits"), or "" */
    uint32_t stack_thread;       /* stack: the slot of the thread whose stack holds it */
    char function[128];          /* stack: the function whose frame holds it, "" if unknown
                                    (the owner handed none of that frame's addresses over) */
    char frame_at[160];          /* stack: that frame's pc, "main (stack_locks.c:49)" */
    char declared[160];          /* stack: where the local variable named is declared
                                    ("stack_locks.c:46"), "" if the name is no variable */
    int local;                   /* stack: name is a local variable of function's frame */
};
/* How a report prints a data name: a variable in backquotes ("`hist.len`", "`a` in main's
 * frame (stack_locks.c:46)"), a heap block or an unnamed stack slot as words ("a heap block
 * ...").  Returns buf. */
const char *data_name_text(const struct data_name *d, char *buf, size_t len);
/* whole: an object used whole (a lock): at a variable's start, name the variable, not its
 * first member */
int symbolize_data(const struct wedge_shm_header *h, uint64_t addr, int whole,
                   struct data_name *out);

const char *path_base_name(const char *path); /* after the last '/' */

/* dwarf.c (elfutils): NULL / -1 when the module has no usable debug info or symbols */
int dwarf_available(void);
char *dwarf_describe_code(const char *path, uint64_t off);
int dwarf_describe_data(const char *path, uint64_t off, int whole, char *buf, size_t len,
                        uint64_t *size, int *external);
int dwarf_module_contains(const char *path, uint64_t off); /* off inside its loaded extent */
/* A stack address by the frame that holds it: the function at pc `off` of module `path`, and
 * its local variable (with member and index) that covers `addr`, where DWARF locates it
 * (DW_OP_fbreg off a frame base of the CFA, gcc's; or of the stack or frame pointer,
 * clang's).  `frame` is the shim's record of the frame.  0 if the function is known
 * (variable "" if no local covers the address), -1 if not. */
struct dw_local {
    char function[128];
    char variable[256];
    char declared[160];          /* "file.c:LINE" of the variable's declaration, or "" */
    uint64_t size;               /* bytes of the part named */
};
int dwarf_describe_local(const char *path, uint64_t off, const struct wedge_frame *frame,
                         uint64_t addr, int whole, struct dw_local *out);
/* The type a heap block was allocated as, from the allocation's call at pc `off`: the pointee
 * type of the one pointer variable declared on the call's line in the calling function
 * (`struct stats *s = calloc(1, sizeof *s)`), and the member at `block_off` ("hits",
 * "[2].next"; "" at a type's start or inside a scalar).  0 if found, else -1 (type ""). */
int dwarf_alloc_type(const char *path, uint64_t off, uint64_t block_off, char *type,
                     size_t tlen, char *member, size_t mlen);
void dwarf_shutdown(void);

/* progress.c */
void progress_init(enum wedge_progress_mode mode);
void progress_update(uint64_t done, uint64_t asked, uint64_t repros, double elapsed_s,
                     double budget_left_s);
void progress_clear(void);       /* before any other output */
void progress_done(void);

/* minimize.c */
int cmd_minimize(struct wedge_config *cfg);

/* portfolio.c: --mode auto.  Runs are numbered q = 0.. within the shard. */
struct portfolio;
struct portfolio *portfolio_new(const struct wedge_config *cfg, uint64_t runs);
void portfolio_free(struct portfolio *p);
int portfolio_check_arms(const char *list);  /* 0, or -1 with a message */
unsigned portfolio_narms(const struct portfolio *p);
/* Mode, strategy and options of run q's token: 1, or 0 if its arm is not drawn yet (wait for
 * earlier runs to finish). */
int portfolio_token(struct portfolio *p, uint64_t q, struct wedge_token *tok);
void portfolio_done(struct portfolio *p, uint64_t q, const struct job *j, int failed);
void portfolio_arm_of_token(const char *token, char *buf, size_t len);
void portfolio_print(const struct portfolio *p, FILE *f);
void portfolio_json(const struct portfolio *p, FILE *f);
/* conclude.c: what the interleaving of a failed run says, said first */
enum conclusion_kind {
    CONC_NONE = 0, CONC_LOST_UPDATE, CONC_CHECK_THEN_ACT, CONC_RACING_PAIR, CONC_DEADLOCK,
    CONC_HANG, CONC_CRASH
};
struct conc_access {
    const char *role;            /* "read", "interfering write", "stale write", ... */
    uint32_t slot;               /* thread slot (T<slot> in reports) */
    unsigned kind;               /* enum wedge_event_kind */
    int mem;                     /* a trapped access: site is the instruction itself */
    uint64_t seq, site, obj;
    unsigned nstack;
    uint64_t stack[WEDGE_STACK_DEPTH];
};
#define CONC_MAX_LOCKS 8
struct conc_lock {
    uint64_t lock;
    uint32_t holder, waiter;
    struct conc_access acquired; /* the holder's lock call */
    uint64_t wait_site;
    unsigned wait_kind;
};
struct conclusion {
    enum conclusion_kind kind;
    uint64_t addr;               /* the object of the accesses */
    struct conc_access acc[3];
    int nacc;
    struct conc_lock locks[CONC_MAX_LOCKS];
    unsigned nlocks;
    int has_crash;
    struct conc_access crash;
    char source[256];            /* "" : this run; else which replay explained it */
};
void conclude(const struct job *job, const struct outcome *oc, struct conclusion *c);
/* Every recorded event of a run, all threads merged, oldest first (malloc'd; NULL if out of
 * memory) */
struct run_event {
    struct wedge_event e;
    uint32_t slot;
    uint32_t kept;               /* 1: from the last-access table, no longer in its ring */
};
struct run_event *run_events(const struct wedge_shm_header *h, size_t *n);
uint64_t conclusion_signature(const struct conclusion *c); /* 0: no pair to key on */
const char *conclusion_kind_name(enum conclusion_kind k);
void conclusion_print(FILE *f, const struct wedge_shm_header *h, const struct conclusion *c);
void conclusion_line(char *buf, size_t len, const struct wedge_shm_header *h,
                     const struct conclusion *c);
char *conclusion_json(const struct wedge_shm_header *h, const struct conclusion *c);
/* The conclusion rendered while its run's memory is still there (malloc'd strings). */
struct explained {
    struct conclusion c;
    char *text, *json, *line;
};
void explain_job(const struct job *job, const struct outcome *oc, const char *source,
                 struct explained *x);
void explained_free(struct explained *x);
/* explain.c: replay TOKEN a few times with memory watching (bounded); 0 and *out filled if a
 * replay explained it (out->c.source says which), else -1 */
int explain_by_replays(const struct wedge_config *cfg, const char *token, uint64_t alike,
                       struct explained *out);
uint64_t explain_alike_signature(const struct job *j, const struct outcome *oc);

/* timeline.c: the HTML page of a finished run (0, or -1 with the error printed) */
int timeline_write(const char *path, const struct wedge_config *cfg, const struct job *job,
                   const struct outcome *oc, const struct conclusion *c);
/* gate.c: what a campaign proves (the confidence statement, --max-rate) */
void gate_statement(char *buf, size_t len, const struct wedge_config *cfg, uint64_t failures,
                    uint64_t runs);
void gate_json(FILE *f, const struct summary *s);
void gate_announce(const struct wedge_config *cfg); /* --max-rate: the run count, at start */

/* corpus.c: --corpus DIR (see corpus.c for the layout) */
struct corpus;
int corpus_load(const struct wedge_config *cfg, struct corpus **out); /* 0, or -1 printed */
int corpus_replay(const struct wedge_config *cfg, struct corpus *c);  /* runner_loop's rc */
void corpus_add(const struct wedge_config *cfg, struct corpus *c, const struct summary *s);
size_t corpus_still_failing(const struct corpus *c);
void corpus_print(const struct corpus *c);
void corpus_json(FILE *f, const struct corpus *c);
void corpus_free(struct corpus *c);
struct json;
/* merge: add a shard report's "corpus" section (NULL: none) to *c, created on first use */
int corpus_absorb_json(struct corpus **c, const struct json *section);

/* merge.c */
int cmd_merge(struct wedge_config *cfg);
void summary_print_groups(const struct summary *s); /* campaign.c: the summary's group list */

/* campaign.c */
int cmd_run(struct wedge_config *cfg);
int cmd_replay(struct wedge_config *cfg);
/* Shared with minimize: the checks before any run (0 or -1, message printed), a finished
 * run's outcome, and its failure signature. */
int campaign_prepare(struct wedge_config *cfg);
void campaign_classify(const struct wedge_config *cfg, const struct job *j, struct outcome *oc);
uint64_t campaign_signature(const struct job *j, const struct outcome *oc);

#endif
