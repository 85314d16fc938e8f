/* wedge_mw.h - the pure logic of memory watching, kept apart from the signal machinery so
 * that it can be unit-tested without a target:
 *
 *  - an x86-64 instruction decoder just large enough to tell, for the instruction that trapped
 *    on a watched page, how wide the access is and whether it also read the location in the
 *    same instruction (read-modify-write, atomic);
 *  - the access tracker: check-then-act pairs (a read of a location followed, in the same
 *    thread, by a write to it) and the stale-write oracle (A read X, B wrote X, A wrote X).
 *
 * Nothing here allocates, locks or makes system calls: the shim calls it from its SIGTRAP
 * handler under its own lock.
 */
#ifndef WEDGE_MW_H
#define WEDGE_MW_H

#include <stddef.h>
#include <stdint.h>

/* ---- decoder ---- */

struct wedge_mw_insn {
    uint32_t size;    /* bytes accessed, 0 if unknown */
    uint8_t rmw;      /* the instruction reads and writes the location (add [m], inc [m], ...) */
    uint8_t atomic;   /* lock prefix, xchg with memory, cmpxchg, xadd */
    uint8_t string;   /* movs/stos/lods/cmps/scas; rep: with a rep prefix */
    uint8_t rep;
    uint8_t got_jump; /* jmp/call qword [rip+disp32]: 1 jmp, 2 call (PLT and -fno-plt calls) */
    uint8_t len;      /* instruction length where known (got_jump, string), else 0 */
    int32_t disp;     /* got_jump: the rip-relative displacement */
};

/* Decode the instruction at code[0..avail).  Returns 0, or -1 if it is not understood (size 0). */
int wedge_mw_decode(const uint8_t *code, size_t avail, struct wedge_mw_insn *out);

/* An instruction with one memory operand carried out by the fault handler instead of
 * single-stepped (wedge_mw_move.c): re-encoded with the operand as [areg]. */
struct wedge_mw_xol {
    uint8_t len;      /* the original instruction's length */
    uint8_t size;     /* bytes accessed: 1, 2, 4, 8 */
    uint8_t reads, writes; /* what it does to memory */
    uint8_t reg;      /* its ModRM reg field (with REX.R) */
    uint8_t areg;     /* the register the re-encoded instruction addresses through: 6 or 7 */
    uint8_t rip;      /* rip-relative */
    uint8_t scale;
    int8_t base, index; /* -1: none */
    int32_t disp;
    uint8_t ncode;    /* the re-encoded instruction */
    uint8_t code[16];
};

/* Decode the instruction at code[0..avail).  Returns 0 if it is one the handler carries
 * out, -1 otherwise. */
int wedge_mw_decode_xol(const uint8_t *code, size_t avail, struct wedge_mw_xol *out);
/* Its effective address, with the registers in instruction-set order and pc its address. */
uint64_t wedge_mw_xol_addr(const struct wedge_mw_xol *x, const uint64_t regs[16], uint64_t pc);
/* Carry it out at addr on the context ctx (16 registers, then the flags): buf is executable
 * memory of at least 32 bytes, used by one caller at a time. */
void wedge_mw_xol_exec(const struct wedge_mw_xol *x, uint64_t ctx[17], uint64_t addr,
                       uint8_t *buf);
/* The trampoline under it: ctx's registers and flags loaded, code called, both stored back. */
void wedge_mw_xol_run(uint64_t ctx[17], const void *code);

/* ---- tracker ---- */

#define WEDGE_MW_THREADS 256u /* thread indices 0..255 */
#define WEDGE_MW_READS 8u     /* recent reads remembered per thread */
#define WEDGE_MW_LOCS 2048u   /* locations with a known last writer (power of two) */
#define WEDGE_MW_PAIRS 128u   /* distinct check-then-act pairs */

struct wedge_mw_read {
    uint64_t addr;
    uint64_t site;
    uint64_t clock;   /* tracker clock when the read happened */
};

struct wedge_mw_loc {
    uint64_t addr;    /* 0: empty */
    uint64_t clock;   /* clock of the last write */
    uint64_t site;    /* site of the last write */
    uint32_t writer;  /* thread index of the last writer */
    uint32_t pad;
};

struct wedge_mw_pair {
    uint64_t read_site, write_site;
    uint32_t hits;    /* times seen */
    uint32_t aimed;   /* times an injection was aimed after its read (the shim counts) */
};

struct wedge_mw_tracker {
    uint64_t clock;
    uint32_t npairs;
    uint32_t pad;
    struct wedge_mw_loc locs[WEDGE_MW_LOCS];
    struct wedge_mw_pair pairs[WEDGE_MW_PAIRS];
    struct {
        struct wedge_mw_read r[WEDGE_MW_READS];
        uint32_t next;
    } th[WEDGE_MW_THREADS];
};

/* What a write found. */
struct wedge_mw_verdict {
    int pair;               /* index of the check-then-act pair this write closes, or -1 */
    int lost;               /* 1: stale write (lost update) */
    uint64_t read_site;     /* lost: A's read */
    uint64_t other_site;    /* lost: B's write */
    uint32_t other_thread;  /* lost: B */
};

void wedge_mw_tracker_reset(struct wedge_mw_tracker *t);

/* A plain read of [addr, addr+size) by thread `th` at `site`. */
void wedge_mw_on_read(struct wedge_mw_tracker *t, uint32_t th, uint64_t addr, uint64_t site);

/* A write by thread `th` at `site`.  rmw: the same instruction read the location first, so
 * the value it writes is never stale.  Fills v. */
void wedge_mw_on_write(struct wedge_mw_tracker *t, uint32_t th, uint64_t addr, uint64_t site,
                       int rmw, struct wedge_mw_verdict *v);

/* The pair whose read is at `site`, or -1. */
int wedge_mw_pair_of_read(const struct wedge_mw_tracker *t, uint64_t site);

#endif
