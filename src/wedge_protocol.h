/* wedge_protocol.h - the one contract between the wedge CLI and libwedge.so.
 *
 * The CLI creates a shared memory file per job slot, resets it before each run and names it
 * in the target's environment (WEDGE_SHM).  The shim in every process of the run maps it and
 * writes its events there, so a crash, an abort or a SIGKILL of the target loses nothing: the
 * CLI reads the file after the run ended.
 *
 * Rules: fixed-size, no pointers (addresses are only data), every multi-writer field is an
 * atomic, layout checked by _Static_assert.  Bump WEDGE_PROTOCOL_VERSION on any change.
 */
#ifndef WEDGE_PROTOCOL_H
#define WEDGE_PROTOCOL_H

#include <stdint.h>
#include <stdatomic.h>
#include <stddef.h>

#define WEDGE_PROTOCOL_VERSION 18u
#define WEDGE_SHM_MAGIC 0x31474e5245474457ull /* "WDGERNG1" */

/* Environment protocol (the shim reads these; the CLI sets them). */
#define WEDGE_ENV_SHM "WEDGE_SHM"       /* path of the shared memory file */
#define WEDGE_ENV_TOKEN "WEDGE_TOKEN"   /* seed token of this run */
#define WEDGE_ENV_PROC "WEDGE_PROC"     /* process ordinal, set by the shim across exec */
/* What ASAN_OPTIONS starts with in a run of an ASan build, ahead of the user's own options so
 * that theirs win: a leak report at exit is no reproduction unless asked for.  Set by the CLI
 * for the program it runs (cli/target.c), by the shim for an ASan child exec'd by a run. */
#define WEDGE_ASAN_DEFAULTS "detect_leaks=0"
#define WEDGE_ENV_LOG "WEDGE_LOG"       /* 1: the shim may print diagnostics to stderr */
#define WEDGE_ENV_PRELOAD "WEDGE_PRELOAD" /* CLI: override the path of libwedge.so */
#define WEDGE_ENV_FORK_SERVER "WEDGE_FORK_SERVER" /* CLI: 0 turns the fork server off by
                                                   default (as --no-fork-server) */
#define WEDGE_ENV_SITES "WEDGE_SITES"   /* comma-separated hex sites where wedge may act;
                                           unset: everywhere (minimize narrows it down) */
#define WEDGE_ENV_STEPS "WEDGE_STEPS"   /* serial: decimal step ranges "a-b,c" where a
                                           preemption may be injected; unset: at every step
                                           (minimize narrows the decisions down) */
#define WEDGE_ENV_DECISIONS "WEDGE_DECISIONS" /* noise: the decisions wedge may take, as
                                           in a token's DECISIONS field ("1x57_2xs"); unset:
                                           every one (minimize narrows them down) */
#define WEDGE_ENV_WATCH_ALL "WEDGE_WATCH_ALL" /* 1: memory watching takes every page seen
                                           shared (up to its widest), not a seeded share of
                                           them: the CLI's explaining replays */
#define WEDGE_ENV_FORKSRV "WEDGE_FORKSRV" /* CLI: fd of a fork server's control socket: the
                                           shim stops the program at main and forks one
                                           child per run asked for (wedge_forksrv_msg) */

/* Fork server messages (SOCK_SEQPACKET, one message per datagram).  The server sends HELLO
 * at main (or FALLBACK: it cannot serve, see reason), the runner RUN with the run's
 * variables and, as SCM_RIGHTS, the write end of the run's output pipe; the server answers
 * STARTED with the child's pid, and EXITED with its wait status once reaped. */
enum wedge_forksrv_kind {
    WEDGE_FS_HELLO = 1,
    WEDGE_FS_FALLBACK,
    WEDGE_FS_RUN,
    WEDGE_FS_STARTED,
    WEDGE_FS_EXITED,
};
enum wedge_forksrv_reason {
    WEDGE_FS_THREADS = 1,   /* threads exist at main (made by constructors) */
    WEDGE_FS_PRELUDE,       /* in HELLO: the program's constructors called intercepted
                               functions; a serial run forked after them would miss their
                               scheduling points (serial runs are exec'd) */
    WEDGE_FS_FORK_FAILED,
    WEDGE_FS_NO_WATCH,      /* the server cannot watch for wedge's death (signals, subreaper) */
};
#define WEDGE_FORKSRV_MAGIC 0x53464457u /* "WDFS" */
#define WEDGE_FORKSRV_MSG_MAX 16384u
struct wedge_forksrv_msg {
    uint32_t magic;
    uint32_t kind;      /* enum wedge_forksrv_kind */
    int32_t pid;        /* STARTED, EXITED */
    int32_t status;     /* EXITED: wait status; FALLBACK, HELLO: enum wedge_forksrv_reason */
    uint32_t env_len;   /* RUN: bytes that follow: "NAME=VALUE\0" to set, "NAME\0" to unset */
    uint32_t pad;
};
_Static_assert(sizeof(struct wedge_forksrv_msg) == 24, "wedge_forksrv_msg layout");

#define WEDGE_ENV_MW_BUDGET "WEDGE_MW_BUDGET" /* traps per run (benchmarks, diagnostics) */
/* 1: every trapped access single-stepped, none carried out by the handler (benchmarks) */
#define WEDGE_ENV_MW_STEP "WEDGE_MW_STEP"

/* Every variable of the protocol once, with what each side does with it:
 *   STRIP  the CLI drops the value it inherited before it starts a run (a stale one would
 *          attach the run to someone else's shared memory or seed);
 *   EXEC   the shim carries it into the image an exec'd program becomes, even when the program
 *          cleared its environment or passed its own (LD_PRELOAD is carried by the same code,
 *          with libwedge put back into a list that lacks it);
 *   RUN    a fork server's RUN message carries it (cli/forksrv.c), set or unset, as an exec'd
 *          run would have it: the run's own (shared memory, token), or what the CLI set on its
 *          own environment between runner loops (minimize, replay, explaining replays).
 * WEDGE_PROC is set by the shim itself across exec; WEDGE_PRELOAD is read by the CLI only. */
#define WEDGE_ENVF_STRIP 1u
#define WEDGE_ENVF_EXEC 2u
#define WEDGE_ENVF_RUN 4u
#define WEDGE_ENV_VARS(X)                                                                    \
    X(WEDGE_ENV_SHM, WEDGE_ENVF_STRIP | WEDGE_ENVF_EXEC | WEDGE_ENVF_RUN)                    \
    X(WEDGE_ENV_TOKEN, WEDGE_ENVF_STRIP | WEDGE_ENVF_EXEC | WEDGE_ENVF_RUN)                  \
    X(WEDGE_ENV_PROC, WEDGE_ENVF_STRIP)                                                      \
    X(WEDGE_ENV_LOG, WEDGE_ENVF_EXEC)                                                        \
    X(WEDGE_ENV_SITES, WEDGE_ENVF_EXEC | WEDGE_ENVF_RUN)                                     \
    X(WEDGE_ENV_STEPS, WEDGE_ENVF_EXEC | WEDGE_ENVF_RUN)                                     \
    X(WEDGE_ENV_DECISIONS, WEDGE_ENVF_EXEC | WEDGE_ENVF_RUN)                                 \
    X(WEDGE_ENV_WATCH_ALL, WEDGE_ENVF_EXEC | WEDGE_ENVF_RUN)                                 \
    X(WEDGE_ENV_MW_BUDGET, WEDGE_ENVF_EXEC)                                                  \
    X(WEDGE_ENV_MW_STEP, WEDGE_ENVF_EXEC)                                                    \
    X(WEDGE_ENV_FORKSRV, WEDGE_ENVF_STRIP)                                                   \
    X(WEDGE_ENV_FORK_SERVER, 0u)                                                             \
    X(WEDGE_ENV_PRELOAD, 0u)

#define WEDGE_MAX_THREADS 256u     /* trace slots, across all processes of one run: threads
                                      past them run and are scheduled, untraced (RING_FULL) */
#define WEDGE_SERIAL_MAX_THREADS 4096u /* serial mode: threads alive at once in one process
                                          (past it, WEDGE_RUN_LIMIT) */
#define WEDGE_RING_EVENTS 128u     /* per-thread ring, power of two */
#define WEDGE_MAX_MODULES 96u
#define WEDGE_MAX_PROCS 64u
#define WEDGE_STACK_DEPTH 6u
#define WEDGE_MODULE_PATH 200u
#define WEDGE_MESSAGE_LEN 512u
#define WEDGE_MAX_ACTED 128u
#define WEDGE_MAX_DECISIONS 64u
#define WEDGE_MAX_ALLOCS 256u     /* the target's own last allocations (heap blocks by name) */
#define WEDGE_MAX_LAST 256u       /* last accesses kept per (location, thread, kind) */
#define WEDGE_MAX_FRAMES 64u      /* stack frames whose objects were handed to other threads */
#define WEDGE_LAST_DROPPED 2u     /* header.last_used: the table was full for some event */
#define WEDGE_COV_WORDS 1024u     /* schedule coverage bitmap: 65,536 bits */
#define WEDGE_RF_PAIRS 128u       /* distinct reads-from pairs kept per run (power of two) */
#define WEDGE_RF_PAIR_ATOMIC 0x1u /* wedge_rf_pair.flags: the write was an atomic (locked)
                                     instruction, a compare-and-swap (cli/portfolio.c) */
#define WEDGE_FUTEX_WORDS 64u     /* distinct futex words kept per run (power of two) */
#define WEDGE_SHARED_PAGES 64u    /* distinct pages seen shared kept per run (power of two) */

/* A site is module + offset, stable under ASLR: (module index + 1) << 48 | offset.
 * Module index 0xffff / value 0 means unknown. */
#define WEDGE_SITE(mod, off) ((((uint64_t)(mod) + 1u) << 48) | ((uint64_t)(off) & 0xffffffffffffull))
#define WEDGE_SITE_MODULE(site) ((int)((site) >> 48) - 1)
#define WEDGE_SITE_OFFSET(site) ((site) & 0xffffffffffffull)

/* What happened at an interception point (event.kind). */
enum wedge_event_kind {
    WEDGE_EV_NONE = 0,
    WEDGE_EV_THREAD_START,
    WEDGE_EV_THREAD_EXIT,
    WEDGE_EV_CREATE,
    WEDGE_EV_JOIN,
    WEDGE_EV_DETACH,
    WEDGE_EV_MUTEX_LOCK,
    WEDGE_EV_MUTEX_TRYLOCK,
    WEDGE_EV_MUTEX_UNLOCK,
    WEDGE_EV_RWLOCK_RDLOCK,
    WEDGE_EV_RWLOCK_WRLOCK,
    WEDGE_EV_RWLOCK_UNLOCK,
    WEDGE_EV_COND_WAIT,
    WEDGE_EV_COND_SIGNAL,
    WEDGE_EV_COND_BROADCAST,
    WEDGE_EV_SEM_WAIT,
    WEDGE_EV_SEM_POST,
    WEDGE_EV_BARRIER_WAIT,
    WEDGE_EV_SPIN_LOCK,
    WEDGE_EV_SPIN_UNLOCK,
    WEDGE_EV_ONCE,
    WEDGE_EV_YIELD,
    WEDGE_EV_SLEEP,
    WEDGE_EV_MALLOC,
    WEDGE_EV_FREE,
    WEDGE_EV_READ,       /* read/pread/recv */
    WEDGE_EV_WRITE,      /* write/pwrite/send */
    WEDGE_EV_FSYNC,
    WEDGE_EV_FCNTL_LOCK,
    WEDGE_EV_FORK,
    WEDGE_EV_EXEC,
    WEDGE_EV_MEM_READ,   /* trapped plain read of watched memory */
    WEDGE_EV_MEM_WRITE,  /* trapped plain write of watched memory */
    WEDGE_EV_LOST_UPDATE,
    WEDGE_EV_WAKE,       /* serial: a blocked thread became runnable */
    WEDGE_EV_BLOCKING_CALL, /* serial: gave the token up around a call outside the model */
    WEDGE_EV_CANCEL,     /* pthread_cancel (obj: the target's pthread_t) */
    WEDGE_EV_TESTCANCEL, /* pthread_testcancel */
    WEDGE_EV_FUTEX_WAIT, /* syscall(SYS_futex, FUTEX_WAIT...) through libc (aux: value) */
    WEDGE_EV_FUTEX_WAKE, /* syscall(SYS_futex, FUTEX_WAKE/REQUEUE...) (aux: count) */
    WEDGE_EV_PY_CALL,    /* serial: a CPython function call (python.c; aux: 0 Python, 4 built-in) */
    WEDGE_EV_RF_HOLD,    /* serial: a trapped access held back before it executes by a token's
                            reads-from constraint (aux: the access's kind, MEM_READ/WRITE) */
    WEDGE_EV_RF_LOCK_HOLD, /* serial: held before taking a lock, at a reads-from constraint's
                              hold point (site: the lock call's; aux: the lock's event kind) */
    WEDGE_EV_KIND_COUNT
};

/* What wedge did there (event.action). */
enum wedge_action {
    WEDGE_ACT_NONE = 0,
    WEDGE_ACT_YIELD,     /* sched_yield injected (arg: count) */
    WEDGE_ACT_SPIN,      /* busy spin injected (arg: iterations) */
    WEDGE_ACT_SLEEP,     /* sleep injected (arg: microseconds) */
    WEDGE_ACT_PREEMPT,   /* serial: token handed to another thread (arg: its ordinal) */
    WEDGE_ACT_WATCHDOG,  /* serial: watchdog took the token away */
    WEDGE_ACT_RENDEZVOUS, /* noise: waited here for another thread to reach the same site
                             (arg: microseconds waited; 0: released by a peer at once) */
};

struct wedge_event {
    uint64_t seq;        /* global order within the run, 1-based; 0: empty */
    uint64_t site;       /* WEDGE_SITE of the call site in the target */
    uint64_t obj;        /* address of the object (mutex, memory location, ...) */
    uint64_t aux;        /* kind specific: size, fd, byte count, thread ordinal */
    uint16_t kind;       /* enum wedge_event_kind */
    uint8_t action;      /* enum wedge_action */
    uint8_t nstack;      /* valid entries of stack[] */
    uint32_t action_arg;
    uint64_t stack[WEDGE_STACK_DEPTH]; /* sites, innermost first, at injection points */
    uint64_t reserved;
};
_Static_assert(sizeof(struct wedge_event) == 96, "wedge_event layout");

enum wedge_thread_state {
    WEDGE_TS_FREE = 0,
    WEDGE_TS_RUNNING,
    WEDGE_TS_BLOCKED,    /* waiting in a modeled operation, see blocked_* */
    WEDGE_TS_OUTSIDE,    /* in a call outside the model (serial) */
    WEDGE_TS_EXITED,
};

struct wedge_thread_slot {
    _Atomic uint32_t used;      /* 1 once claimed */
    uint32_t proc;              /* index into procs[] */
    uint32_t ordinal;           /* thread ordinal within its process, 0 = main */
    int32_t tid;                /* kernel thread id */
    _Atomic uint64_t head;      /* events written so far; ring index = head % RING */
    _Atomic uint32_t state;     /* enum wedge_thread_state */
    uint16_t blocked_kind;      /* enum wedge_event_kind of the blocking operation */
    uint16_t pad0;
    uint64_t blocked_obj;
    uint64_t blocked_site;
    uint64_t stack_top;         /* above the thread's frames (a created thread: just above its
                                   start routine's; the main thread: __libc_stack_end), 0 if
                                   unknown: names stack slots */
    uint32_t stack_size;        /* bytes its stack may reach below stack_top */
    uint32_t pad1;
    struct wedge_event ring[WEDGE_RING_EVENTS];
};
_Static_assert(offsetof(struct wedge_thread_slot, ring) == 64, "wedge_thread_slot layout");

struct wedge_module {
    char path[WEDGE_MODULE_PATH];
    uint64_t bias;      /* load bias in the process that registered it: names data addresses */
};
_Static_assert(sizeof(struct wedge_module) == 208, "wedge_module layout");

struct wedge_proc {
    int32_t pid;
    int32_t parent;     /* index of the parent proc, -1 for the first */
    uint32_t ordinal;   /* process ordinal used in decision streams */
    uint32_t flags;     /* WEDGE_PROC_* */
};

#define WEDGE_PROC_EXITED 1u
#define WEDGE_PROC_EXECED 2u

/* Run flags (header.flags), set by the shim. */
#define WEDGE_RUN_ATTACHED      0x0001u /* the shim loaded in at least one process */
#define WEDGE_RUN_NOT_EXACT     0x0002u /* serial: watchdog or outside call broke exactness */
#define WEDGE_RUN_DEADLOCK      0x0004u /* serial: no runnable thread; message says who waits */
#define WEDGE_RUN_LOST_UPDATE   0x0008u /* memory: stale-write oracle fired; see lost_update */
#define WEDGE_RUN_FORKED        0x0010u
#define WEDGE_RUN_EXECED        0x0020u
#define WEDGE_RUN_SHIM_ERROR    0x0040u /* message says what went wrong inside the shim */
#define WEDGE_RUN_RING_FULL     0x0080u /* more threads than slots: some went untraced */
#define WEDGE_RUN_LIMIT         0x0100u /* a limit of wedge ended the run (message says which):
                                           it says nothing about the program, never a failure */
#define WEDGE_RUN_UNSEEN_FUTEX  0x0200u /* serial: a thread slept in a futex system call made
                                           without libc's syscall() (a raw instruction): the
                                           watchdog moved the token; wedge could not model it */
#define WEDGE_RUN_EARLY_TIMEOUT 0x0400u /* a timed wait was made to expire early (the clocks
                                           were moved forward to its deadline) */

struct wedge_lost_update {
    uint64_t addr;
    uint64_t read_site, other_write_site, overwrite_site; /* A's read, B's write, A's write */
    uint32_t thread_a, thread_b;                          /* slot indices */
};

/* A rendezvous slot (noise mode): a thread waits at `site` for a peer of any process of the
 * run to reach the same site; see preload/core.c. */
#define WEDGE_RENDEZVOUS_SLOTS 16u
struct wedge_rendezvous {
    _Atomic uint64_t site;
    _Atomic uint32_t state;
    uint32_t pad[13];
};
_Static_assert(sizeof(struct wedge_rendezvous) == 64, "wedge_rendezvous layout");

#define WEDGE_MAX_MODULE_BIASES 128u

struct wedge_shm_header {
    uint64_t magic;
    uint32_t version;
    uint32_t header_size;
    uint32_t max_threads;
    uint32_t ring_events;
    _Atomic uint32_t flags;        /* WEDGE_RUN_* */
    _Atomic uint32_t nthreads;     /* thread slots claimed */
    _Atomic uint32_t nprocs;
    _Atomic uint32_t nmodules;
    _Atomic uint64_t seq;          /* global event counter */
    _Atomic uint64_t injections;   /* delays or preemptions injected */
    _Atomic uint64_t traps;        /* trapped memory accesses */
    _Atomic uint64_t steps;        /* serial: scheduling points of the first process */
    _Atomic uint64_t trace_hash;   /* serial: hash over the decisions of the first process */
    _Atomic uint64_t peer_sleep_us; /* noise: injected sleep and rendezvous waits of the run's */
    _Atomic uint64_t peer_rdv_us;   /*  single-threaded processes, against one run budget */
    _Atomic uint32_t module_lock;  /* spin lock for appending to modules[] */
    _Atomic uint32_t message_lock;
    char message[WEDGE_MESSAGE_LEN]; /* deadlock description, shim error */
    struct wedge_lost_update lost_update;
    struct wedge_proc procs[WEDGE_MAX_PROCS];
    struct wedge_module modules[WEDGE_MAX_MODULES];
    struct wedge_rendezvous rendezvous[WEDGE_RENDEZVOUS_SLOTS];
    /* every distinct site where wedge acted in the run (minimize starts from these; the
     * rings keep only each thread's last events) */
    _Atomic uint32_t n_acted;
    uint32_t pad_acted;
    struct wedge_acted { _Atomic uint64_t site; uint32_t kind, action; } acted[WEDGE_MAX_ACTED];
    /* the run's first injected decisions, in order (the rings keep only each thread's last
     * events; minimize tells the story of a short schedule from these) */
    _Atomic uint32_t n_decisions;
    uint32_t pad_decisions;
    struct wedge_decision {
        uint64_t seq, site, obj;
        uint32_t slot;
        uint16_t kind;
        uint8_t action, pad;
        uint32_t action_arg;
        uint32_t index;            /* noise: the thread's decision index (WEDGE_DECISION_START:
                                      its start delay), as in a token's DECISIONS field */
    } decisions[WEDGE_MAX_DECISIONS];
    /* noise: how far every clock of the run was moved forward (ns) by timed waits made to
     * expire early (preload/timeouts.c); only grows */
    _Atomic int64_t clock_skew_ns;
    /* Schedule coverage: one bit per hashed ordered pair of conflicting sites seen in the
     * run (a write and a later access to the same object by another thread, or two
     * synchronization operations on one object by two threads; preload/coverage.c).  The
     * campaign rewards the arm of a run that set a bit no earlier run set (cli/portfolio.c). */
    _Atomic uint64_t cov[WEDGE_COV_WORDS];
    /* A module's load bias in a process other than the one that registered it, where the two
     * differ (a second exec of the same program): data addresses of that process are named
     * with it.  Appended under module_lock. */
    _Atomic uint32_t n_module_biases;
    uint32_t pad_biases;
    struct wedge_module_bias { uint32_t module, proc; uint64_t bias; } module_biases[WEDGE_MAX_MODULE_BIASES];
    /* Reads-from pairs: each distinct (write site -> read site) a trapped read of the run saw,
     * the write by another thread, or write site 0: the read saw no write of the run to its
     * object (the initial value).  Hashed on the pair, open addressing; lossy when full
     * (rf_dropped counts pairs that found no entry).  Sites only, never addresses, so the
     * campaign can pool them across runs and derive constraints for later runs' tokens
     * (cli/portfolio.c, the token's RF field). */
    _Atomic uint32_t n_rf;
    _Atomic uint32_t rf_dropped;
    struct wedge_rf_pair {
        _Atomic uint64_t key;      /* wedge_mix of the two sites | 1; 0: free */
        uint64_t write_site, read_site;
        uint32_t write_thread, read_thread; /* thread ordinals (first seen) */
        uint32_t flags;            /* WEDGE_RF_PAIR_* (first seen) */
        /* Serial mode: the lock acquisitions the writer and the reader had made when each
         * access ran inside a critical section (the N of a hold point, wedge_token.h), 0
         * when it ran outside one; the key of the page the read was on (wedge_page_key, 0:
         * none); and the read object's stable name (coverage.c) */
        uint32_t write_acq, read_acq, page;
        uint64_t obj_key;          /* the object's stable name (coverage.c) */
    } rf[WEDGE_RF_PAIRS];
    /* Futex words: the stable name (coverage.c) of each distinct address the program's
     * futex calls named (preload/futex.c), so the campaign can tell a lock's word, whose
     * compare-and-swap is a lock taken, from lock-free data (cli/portfolio.c, "Lock-free
     * code").  Hashed, open addressing on the key; lossy when full (futex_dropped). */
    _Atomic uint32_t n_futex;
    _Atomic uint32_t futex_dropped;
    _Atomic uint64_t futex_key[WEDGE_FUTEX_WORDS]; /* 0: free */
    /* Watched pages a second thread touched (preload/memwatch_trap.c, choose): each distinct
     * page's key once (wedge_page_key of its stable identity, as a token's PAGES field names
     * it, wedge_token.h), so the campaign can focus later runs' watching on pages earlier
     * runs saw shared (cli/portfolio.c, "Focused watching").  Hashed, open addressing; lossy
     * when full (shared_pages_dropped). */
    _Atomic uint32_t n_shared_pages;
    _Atomic uint32_t shared_pages_dropped;
    _Atomic uint64_t shared_page[WEDGE_SHARED_PAGES]; /* 0: free (keys fit 32 bits) */
    /* of them, the pages the run chose to watch (the campaign focuses on the others first) */
    _Atomic uint64_t watched_page[WEDGE_SHARED_PAGES]; /* 0: free */
    /* how many allocations were logged in allocs[] (a ring), and whether last[] was written:
     * the runner clears those tables only as far as they were used */
    _Atomic uint32_t n_allocs;
    _Atomic uint32_t last_used;    /* 1: written; | WEDGE_LAST_DROPPED: an event did not fit */
    _Atomic uint32_t n_frames;     /* frames logged in frames[] (a ring) */
    _Atomic uint32_t traps_stepped; /* of traps: accesses single-stepped (the rest were
                                      carried out by the handler, memwatch_trap.c) */
    uint8_t pad[4096 - 8 - 40 * WEDGE_MAX_DECISIONS - 8 - 8 - 8];
    /* The target's own allocations (made by code outside the system libraries), the last
     * WEDGE_MAX_ALLOCS of them: a conclusion names a heap address by the block that held it
     * (the latest allocation before the access that covers it), its site and offset. */
    struct wedge_alloc {
        _Atomic uint64_t seq;      /* the run's event counter at the allocation; 0: empty */
        uint64_t addr, site;
        uint32_t size, slot;
    } allocs[WEDGE_MAX_ALLOCS];
    /* The last two memory accesses of each kind by each thread to each watched location, and
     * joins
     * (hashed, open addressing on key): they survive the wrap of the 128-event rings, so
     * that a long run's racing accesses (pct_depth2: the write was 400 events before the
     * failure) are still there for its conclusion.  Written only by the thread of the key. */
    struct wedge_last {
        _Atomic uint64_t key;      /* wedge_mix of (obj, slot, kind); 0: free */
        uint32_t slot, pad;
        struct wedge_event ev[2];  /* [0] the latest, [1] the one before */
    } last[WEDGE_MAX_LAST];
    /* Stack frames that held an object whose address a thread handed to another (the argument
     * of pthread_create pointing into the creating thread's own stack), the last
     * WEDGE_MAX_FRAMES of them: a thread cannot unwind another's stack, so the owner records
     * its frame when it hands the address over, and a conclusion names a stack address by the
     * function of the frame that covers it and the DWARF local variable at its offset from the
     * frame's CFA (cli/dwarf.c). */
    struct wedge_frame {
        _Atomic uint64_t seq;      /* the run's event counter at the record; 0: empty */
        uint64_t site;             /* the frame's pc (a return address stepped back into its
                                      call) */
        uint64_t sp, cfa;          /* the frame: [sp, cfa) */
        uint64_t fp;               /* its frame pointer register (x86-64: rbp), 0 if unknown:
                                      clang's -O0 frame base */
        uint32_t slot, pad;        /* the thread whose stack it is */
    } frames[WEDGE_MAX_FRAMES];
};
_Static_assert(sizeof(struct wedge_frame) == 48, "wedge_frame layout");
_Static_assert(sizeof(struct wedge_alloc) == 32, "wedge_alloc layout");
_Static_assert(sizeof(struct wedge_last) == 208, "wedge_last layout");

_Static_assert(sizeof(struct wedge_decision) == 40, "wedge_decision layout");
_Static_assert(sizeof(struct wedge_module_bias) == 16, "wedge_module_bias layout");
_Static_assert(sizeof(struct wedge_rf_pair) == 56, "wedge_rf_pair layout");
_Static_assert((WEDGE_FUTEX_WORDS & (WEDGE_FUTEX_WORDS - 1u)) == 0, "futex_key: a power of two");
_Static_assert(offsetof(struct wedge_shm_header, futex_key) % 8 == 0, "futex_key alignment");
_Static_assert(offsetof(struct wedge_shm_header, futex_key) <
                   offsetof(struct wedge_shm_header, pad),
               "futex_key: inside what shm_reset clears whole");
_Static_assert((WEDGE_SHARED_PAGES & (WEDGE_SHARED_PAGES - 1u)) == 0,
               "shared_page: a power of two");
_Static_assert(offsetof(struct wedge_shm_header, shared_page) <
                   offsetof(struct wedge_shm_header, pad),
               "shared_page: inside what shm_reset clears whole");

/* The file: header, then max_threads slots, each aligned to 64 bytes. */
#define WEDGE_SHM_HEADER_SIZE ((sizeof(struct wedge_shm_header) + 4095u) & ~(size_t)4095u)
#define WEDGE_SHM_SIZE (WEDGE_SHM_HEADER_SIZE + (size_t)WEDGE_MAX_THREADS * sizeof(struct wedge_thread_slot))

static inline struct wedge_thread_slot *wedge_shm_slot(struct wedge_shm_header *h, uint32_t i)
{
    return (struct wedge_thread_slot *)((char *)h + WEDGE_SHM_HEADER_SIZE) + i;
}

const char *wedge_event_kind_name(unsigned kind);
const char *wedge_action_name(unsigned action);

#endif
