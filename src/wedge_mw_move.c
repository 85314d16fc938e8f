/* wedge_mw_move.c - a trapped plain load or store carried out by the fault handler.
 *
 * Watching traps an access by protecting its page; the classic way on (lift the protection,
 * single-step the instruction, protect again) costs a second signal, and the single step's
 * debug exception is the dearest part of it in a virtual machine (perf on router_history_fixed
 * under serial.pct3.m: exc_debug_user a third of the target's samples).  The instructions that
 * make most trapped accesses of compiled code are plain moves between a register (or an
 * immediate) and memory, and compares and tests of memory against one; those the fault
 * handler carries out itself, with one access of the same width on the same address (so a
 * naturally aligned access stays single-copy atomic, as the program's relaxed atomics rely
 * on), a compare's flags computed by the same instruction on registers, and moves the program
 * counter past them.  Anything else (read-modify-writes, locked or string instructions,
 * vector moves, segment or address-size prefixes) is not decoded here and is single-stepped
 * as before.
 *
 * Registers are numbered as the instruction set numbers them (0 rax, 1 rcx, 2 rdx, 3 rbx,
 * 4 rsp, 5 rbp, 6 rsi, 7 rdi, 8..15 r8..r15); the caller maps its context to that order.
 */
#include "wedge_mw.h"

#include <string.h>

int wedge_mw_decode_move(const uint8_t *c, size_t avail, struct wedge_mw_move *m)
{
    memset(m, 0, sizeof *m);
    size_t i = 0;
    int p66 = 0, rex = 0;
    for (; i < avail && i < 4; i++) {
        uint8_t b = c[i];
        if (b == 0x66)
            p66 = 1;
        else if (b == 0x2e || b == 0x36 || b == 0x3e || b == 0x26)
            ; /* null segments in 64-bit mode */
        else
            break; /* lock, rep, fs/gs, address size: not a plain move */
    }
    if (i < avail && (c[i] & 0xf0) == 0x40)
        rex = c[i++];
    if (i >= avail)
        return -1;
    int w = (rex & 8) != 0, r = (rex & 4) != 0, x = (rex & 2) != 0, b = (rex & 1) != 0;
    uint8_t op = c[i++];
    uint32_t os = w ? 8u : p66 ? 2u : 4u, immsize = 0;
    switch (op) {
    case 0x88: m->kind = WEDGE_MW_STORE; m->size = 1; break;
    case 0x89: m->kind = WEDGE_MW_STORE; m->size = os; break;
    case 0x8a: m->kind = WEDGE_MW_LOAD; m->size = 1; m->dsize = 1; break;
    case 0x8b: m->kind = WEDGE_MW_LOAD; m->size = os; m->dsize = os; break;
    case 0xc6: m->kind = WEDGE_MW_STORE_IMM; m->size = 1; immsize = 1; break;
    case 0xc7: m->kind = WEDGE_MW_STORE_IMM; m->size = os; immsize = os == 8 ? 4 : os; break;
    case 0x63: /* movsxd r64, m32 (without REX.W it is a plain 32-bit move: left alone) */
        if (!w || p66)
            return -1;
        m->kind = WEDGE_MW_LOAD; m->size = 4; m->dsize = 8; m->sign = 1;
        break;
    case 0x38: case 0x39: case 0x3a: case 0x3b: /* cmp r/m, r and cmp r, r/m */
        m->kind = WEDGE_MW_CMP; m->size = (op & 1) ? os : 1; m->rev = (op & 2) != 0;
        break;
    case 0x84: case 0x85:
        m->kind = WEDGE_MW_TEST; m->size = (op & 1) ? os : 1;
        break;
    case 0x80: case 0x81: case 0x83: /* only /7, cmp r/m, imm (the rest write memory) */
        m->kind = WEDGE_MW_CMP_IMM; m->size = op == 0x80 ? 1 : os;
        immsize = op == 0x81 ? (os == 8 ? 4 : os) : 1;
        break;
    case 0xf6: case 0xf7: /* only /0, test r/m, imm */
        m->kind = WEDGE_MW_TEST_IMM; m->size = op == 0xf6 ? 1 : os;
        immsize = op == 0xf7 ? (os == 8 ? 4 : os) : 1;
        break;
    case 0x0f: {
        if (i >= avail || p66)
            return -1;
        uint8_t op2 = c[i++];
        if (op2 != 0xb6 && op2 != 0xb7 && op2 != 0xbe && op2 != 0xbf)
            return -1;
        m->kind = WEDGE_MW_LOAD;
        m->size = (op2 & 1) ? 2 : 1;
        m->dsize = w ? 8 : 4;
        m->sign = (op2 & 8) != 0;
        break;
    }
    default:
        return -1;
    }
    if (i >= avail)
        return -1;
    uint8_t modrm = c[i++];
    unsigned mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
    if (mod == 3)
        return -1; /* a register operand: no memory access */
    if ((m->kind == WEDGE_MW_STORE_IMM || m->kind == WEDGE_MW_TEST_IMM) && reg != 0)
        return -1;
    if (m->kind == WEDGE_MW_CMP_IMM && reg != 7)
        return -1;
    m->reg = (uint8_t)(reg | (r << 3));
    /* 8-bit registers 4..7 without any REX prefix are ah, ch, dh, bh */
    m->high8 = m->size == 1 && !immsize && !rex && reg >= 4 &&
               !(m->kind == WEDGE_MW_LOAD && m->dsize > 1);
    if (m->high8)
        m->reg = (uint8_t)(reg - 4);
    m->base = -1;
    m->index = -1;
    m->scale = 1;
    if (rm == 4) {
        if (i >= avail)
            return -1;
        uint8_t sib = c[i++];
        unsigned ss = sib >> 6, idx = ((sib >> 3) & 7) | (unsigned)(x << 3), bs = sib & 7;
        m->scale = (uint8_t)(1u << ss);
        if (idx != 4)
            m->index = (int8_t)idx;
        if (bs == 5 && mod == 0) { /* no base: disp32 */
            if (i + 4 > avail)
                return -1;
            int32_t d;
            memcpy(&d, c + i, 4);
            m->disp = d;
            i += 4;
        } else {
            m->base = (int8_t)(bs | (unsigned)(b << 3));
        }
    } else if (rm == 5 && mod == 0) {
        m->rip = 1;
        if (i + 4 > avail)
            return -1;
        int32_t d;
        memcpy(&d, c + i, 4);
        m->disp = d;
        i += 4;
    } else {
        m->base = (int8_t)(rm | (unsigned)(b << 3));
    }
    if (mod == 1) {
        if (i + 1 > avail)
            return -1;
        m->disp = (int8_t)c[i++];
    } else if (mod == 2) {
        if (i + 4 > avail)
            return -1;
        int32_t d;
        memcpy(&d, c + i, 4);
        m->disp = d;
        i += 4;
    }
    if (immsize) { /* sign-extended to 64 bits; the access's width truncates it */
        if (i + immsize > avail)
            return -1;
        if (immsize == 1)
            m->imm = (int8_t)c[i];
        else if (immsize == 2) {
            int16_t v;
            memcpy(&v, c + i, 2);
            m->imm = v;
        } else {
            int32_t v;
            memcpy(&v, c + i, 4);
            m->imm = v;
        }
        i += immsize;
    }
    /* a load into rsp, or addressing through it while loading it: not worth the thought */
    if (m->kind == WEDGE_MW_LOAD && m->reg == 4 && !m->high8)
        return -1;
    m->len = (uint8_t)i;
    return 0;
}

uint64_t wedge_mw_move_addr(const struct wedge_mw_move *m, const uint64_t regs[16], uint64_t pc)
{
    uint64_t a = (uint64_t)(int64_t)m->disp;
    if (m->rip)
        return pc + m->len + a;
    if (m->base >= 0)
        a += regs[m->base];
    if (m->index >= 0)
        a += regs[m->index] * m->scale;
    return a;
}

/* One access of exactly the instruction's width (never split, never widened). */
static uint64_t load_n(uint64_t a, uint32_t n)
{
    uint64_t v = 0;
    switch (n) {
    case 1: { uint8_t t; __asm__ volatile("movb (%1), %0" : "=q"(t) : "r"(a) : "memory"); v = t; break; }
    case 2: { uint16_t t; __asm__ volatile("movw (%1), %0" : "=r"(t) : "r"(a) : "memory"); v = t; break; }
    case 4: { uint32_t t; __asm__ volatile("movl (%1), %0" : "=r"(t) : "r"(a) : "memory"); v = t; break; }
    default: __asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(a) : "memory"); break;
    }
    return v;
}

static void store_n(uint64_t a, uint32_t n, uint64_t v)
{
    switch (n) {
    case 1: { uint8_t t = (uint8_t)v; __asm__ volatile("movb %0, (%1)" : : "q"(t), "r"(a) : "memory"); break; }
    case 2: { uint16_t t = (uint16_t)v; __asm__ volatile("movw %0, (%1)" : : "r"(t), "r"(a) : "memory"); break; }
    case 4: { uint32_t t = (uint32_t)v; __asm__ volatile("movl %0, (%1)" : : "r"(t), "r"(a) : "memory"); break; }
    default: __asm__ volatile("movq %0, (%1)" : : "r"(v), "r"(a) : "memory"); break;
    }
}

/* The arithmetic flags (CF PF AF ZF SF OF, in RFLAGS' layout) of `a - b` (cmp) or `a & b`
 * (test) at width n, computed by that instruction (lahf and seto: no stack, no red zone). */
#define MW_FLAGS_OF(insn, suffix, constraint, type)                                         \
    do {                                                                                   \
        type x = (type)a, y = (type)b;                                                     \
        __asm__(insn suffix " %2, %1\n\tlahf\n\tseto %%al\n\tmovzwl %%ax, %0"            \
                : "=r"(out) : constraint(x), constraint(y) : "rax", "cc");                 \
    } while (0)

static uint64_t flags_of(int test, uint32_t n, uint64_t a, uint64_t b)
{
    uint32_t out = 0;
    if (test) {
        switch (n) {
        case 1: MW_FLAGS_OF("test", "b", "q", uint8_t); break;
        case 2: MW_FLAGS_OF("test", "w", "r", uint16_t); break;
        case 4: MW_FLAGS_OF("test", "l", "r", uint32_t); break;
        default: MW_FLAGS_OF("test", "q", "r", uint64_t); break;
        }
    } else {
        switch (n) {
        case 1: MW_FLAGS_OF("cmp", "b", "q", uint8_t); break;
        case 2: MW_FLAGS_OF("cmp", "w", "r", uint16_t); break;
        case 4: MW_FLAGS_OF("cmp", "l", "r", uint32_t); break;
        default: MW_FLAGS_OF("cmp", "q", "r", uint64_t); break;
        }
    }
    /* (AT&T `cmp %2, %1` sets the flags of %1 - %2: of x - y) */
    return (uint64_t)(((out >> 8) & 0xd5u) | ((out & 1u) << 11));
}

void wedge_mw_move_exec(const struct wedge_mw_move *m, uint64_t regs[16], uint64_t *rflags,
                        uint64_t addr)
{
    if (m->kind == WEDGE_MW_LOAD) {
        uint64_t v = load_n(addr, m->size);
        if (m->sign && m->size < 8) {
            unsigned sh = 64 - 8 * m->size;
            v = (uint64_t)((int64_t)(v << sh) >> sh);
        }
        uint64_t *d = &regs[m->reg];
        if (m->high8)
            *d = (*d & ~0xff00ull) | ((v & 0xff) << 8);
        else if (m->dsize == 1)
            *d = (*d & ~0xffull) | (v & 0xff);
        else if (m->dsize == 2)
            *d = (*d & ~0xffffull) | (v & 0xffff);
        else if (m->dsize == 4)
            *d = v & 0xffffffffull; /* a 32-bit destination clears the upper half */
        else
            *d = v;
        return;
    }
    int imm = m->kind == WEDGE_MW_STORE_IMM || m->kind == WEDGE_MW_CMP_IMM ||
              m->kind == WEDGE_MW_TEST_IMM;
    uint64_t v = imm ? (uint64_t)m->imm : m->high8 ? regs[m->reg] >> 8 : regs[m->reg];
    if (m->kind == WEDGE_MW_STORE || m->kind == WEDGE_MW_STORE_IMM) {
        store_n(addr, m->size, v);
        return;
    }
    uint64_t mem = load_n(addr, m->size);
    int test = m->kind == WEDGE_MW_TEST || m->kind == WEDGE_MW_TEST_IMM;
    /* cmp m, r and cmp m, imm: the flags of mem - v; cmp r, m: of v - mem */
    uint64_t f = m->rev ? flags_of(test, m->size, v, mem) : flags_of(test, m->size, mem, v);
    *rflags = (*rflags & ~(uint64_t)0x8d5) | f;
}
