/* wedge_mw_move.c - a trapped access carried out by the fault handler, out of line.
 *
 * Watching traps an access by protecting its page; the classic way on (lift the protection,
 * single-step the instruction, protect again) costs a second signal, and the single step's
 * debug exception is the dearest part of it in a virtual machine (perf on router_history_fixed
 * under serial.pct3.m: exc_debug_user a third of the target's samples).  Most trapped
 * instructions of compiled code take one memory operand through a ModRM byte and touch only
 * general registers and flags besides: moves, compares and tests, the arithmetic
 * read-modify-writes (`addl $1, x`, `lock addl`, `lock cmpxchg`, `xchg`, `xadd`), shifts,
 * setcc, cmovcc.  Such an instruction is carried out here by the processor itself: the same
 * opcode, prefixes and immediate, its memory operand re-encoded as `[rsi]` or `[rdi]` holding
 * the effective address, run with the interrupted context's registers and flags loaded and
 * stored back (wedge_mw_xol_run).  The access is the instruction's own (its width, its
 * atomicity, its lock), only its address is computed here.
 *
 * Not carried out (single-stepped as before): vector and x87 instructions (their registers
 * are not loaded), string instructions, anything addressing through rsp or with a segment,
 * address-size or rep prefix, division (a divide error inside the handler would be fatal),
 * bit tests with a register offset (their access is not at the operand's address), control
 * transfers, and every opcode not listed below.
 *
 * Registers are numbered as the instruction set numbers them (0 rax, 1 rcx, 2 rdx, 3 rbx,
 * 4 rsp, 5 rbp, 6 rsi, 7 rdi, 8..15 r8..r15), the flags in ctx[16].
 */
#include "wedge_mw.h"

#include <string.h>

/* Operand classes of the opcodes carried out: what the instruction does to memory and the
 * size of its immediate. */
enum { R = 1, W = 2, RW = 3 };
enum { I0 = 0, I8 = 1, IZ = 2 /* imm32, or imm16 with 66 */ };

struct op_info {
    uint8_t mem;      /* R, W, RW, or 0: not carried out */
    uint8_t imm;      /* I0, I8, IZ */
    uint8_t byte_op;  /* the operand is 8 bits */
    uint8_t size;     /* bytes read, where not the operand size (movzx, movsx, movsxd) */
};

/* One-byte opcodes with a ModRM memory operand, by the ModRM reg field where it selects the
 * operation (group opcodes). */
static int one_byte(uint8_t op, unsigned reg, struct op_info *o)
{
    memset(o, 0, sizeof *o);
    if (op < 0x40 && (op & 7) < 4) { /* add or adc sbb and sub xor cmp */
        int cmp = (op & 0xf8) == 0x38;
        o->byte_op = !(op & 1);
        o->mem = (op & 2) || cmp ? R : RW; /* op&2: the register is the destination */
        return 1;
    }
    switch (op) {
    case 0x63: o->mem = R; o->size = 4; return 1; /* movsxd (REX.W checked by the caller) */
    case 0x69: o->mem = R; o->imm = IZ; return 1; /* imul r, m, imm */
    case 0x6b: o->mem = R; o->imm = I8; return 1;
    case 0x80: case 0x81: case 0x83:
        o->mem = reg == 7 ? R : RW;
        o->imm = op == 0x81 ? IZ : I8;
        o->byte_op = op == 0x80;
        return 1;
    case 0x84: case 0x85: o->mem = R; o->byte_op = op == 0x84; return 1;
    case 0x86: case 0x87: o->mem = RW; o->byte_op = op == 0x86; return 1; /* xchg: locked */
    case 0x88: case 0x89: o->mem = W; o->byte_op = op == 0x88; return 1;
    case 0x8a: case 0x8b: o->mem = R; o->byte_op = op == 0x8a; return 1;
    case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3:
        if (reg == 6)
            return 0; /* no such shift */
        o->mem = RW;
        o->imm = op <= 0xc1 ? I8 : I0;
        o->byte_op = !(op & 1);
        return 1;
    case 0xc6: case 0xc7:
        if (reg != 0)
            return 0;
        o->mem = W;
        o->imm = op == 0xc6 ? I8 : IZ;
        o->byte_op = op == 0xc6;
        return 1;
    case 0xf6: case 0xf7:
        if (reg >= 6)
            return 0; /* div, idiv */
        o->mem = reg <= 1 ? R : reg <= 3 ? RW : R; /* test; not, neg; mul, imul */
        o->imm = reg <= 1 ? (op == 0xf6 ? I8 : IZ) : I0;
        o->byte_op = op == 0xf6;
        return 1;
    case 0xfe: case 0xff:
        if (reg > 1)
            return 0; /* call, jmp, push */
        o->mem = RW;
        o->byte_op = op == 0xfe;
        return 1;
    }
    return 0;
}

static int two_byte(uint8_t op2, unsigned reg, struct op_info *o)
{
    memset(o, 0, sizeof *o);
    if (op2 >= 0x40 && op2 <= 0x4f) { o->mem = R; return 1; }  /* cmovcc: always loads */
    if (op2 >= 0x90 && op2 <= 0x9f) { o->mem = W; o->byte_op = 1; return 1; } /* setcc */
    switch (op2) {
    case 0xaf: o->mem = R; return 1; /* imul r, m */
    case 0xb0: case 0xb1: o->mem = RW; o->byte_op = op2 == 0xb0; return 1; /* cmpxchg */
    case 0xc0: case 0xc1: o->mem = RW; o->byte_op = op2 == 0xc0; return 1; /* xadd */
    case 0xb6: case 0xbe: o->mem = R; o->size = 1; return 1; /* movzx, movsx from 8 bits */
    case 0xb7: case 0xbf: o->mem = R; o->size = 2; return 1; /* from 16 */
    case 0xba: /* bt, bts, btr, btc m, imm8 (the offset is taken modulo the width) */
        if (reg < 4)
            return 0;
        o->mem = reg == 4 ? R : RW;
        o->imm = I8;
        return 1;
    }
    return 0;
}

int wedge_mw_decode_xol(const uint8_t *c, size_t avail, struct wedge_mw_xol *x)
{
    memset(x, 0, sizeof *x);
    size_t i = 0;
    int p66 = 0, lock = 0, rex = 0;
    for (; i < avail && i < 4; i++) {
        uint8_t b = c[i];
        if (b == 0x66)
            p66 = 1;
        else if (b == 0xf0)
            lock = 1;
        else if (b == 0x2e || b == 0x36 || b == 0x3e || b == 0x26)
            ; /* null segments in 64-bit mode */
        else
            break; /* rep, fs/gs, address size: not carried out */
    }
    if (i >= avail)
        return -1;
    if ((c[i] & 0xf0) == 0x40)
        rex = c[i++];
    if (i >= avail)
        return -1;
    size_t opstart = i;
    uint8_t op = c[i++], op2 = 0;
    if (op == 0x0f) {
        if (i >= avail)
            return -1;
        op2 = c[i++];
    }
    if (i >= avail)
        return -1;
    uint8_t modrm = c[i++];
    unsigned mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
    struct op_info o;
    if (mod == 3 || !(op == 0x0f ? two_byte(op2, reg, &o) : one_byte(op, reg, &o)))
        return -1; /* a register operand, or not an instruction carried out */
    int w = (rex & 8) != 0;
    if (op == 0x63 && !w)
        return -1;
    /* lock only on a read-modify-write (the processor refuses it elsewhere) */
    if (lock && o.mem != RW)
        return -1;
    if (op == 0x0f && o.size && p66)
        return -1; /* movzx/movsx to a 16-bit register: rare, left to the step */
    uint32_t os = w ? 8u : p66 ? 2u : 4u;
    x->size = (uint8_t)(o.size ? o.size : o.byte_op ? 1 : os);
    x->reads = (o.mem & R) != 0;
    x->writes = (o.mem & W) != 0;
    x->reg = (uint8_t)(reg | ((rex & 4) ? 8u : 0u));
    x->base = -1;
    x->index = -1;
    x->scale = 1;
    size_t ndisp = mod == 1 ? 1 : mod == 2 ? 4 : 0;
    if (rm == 4) { /* SIB */
        if (i >= avail)
            return -1;
        uint8_t sib = c[i++];
        unsigned idx = ((sib >> 3) & 7) | ((rex & 2) ? 8u : 0u), bs = sib & 7;
        x->scale = (uint8_t)(1u << (sib >> 6));
        if (idx != 4)
            x->index = (int8_t)idx;
        if (bs == 5 && mod == 0)
            ndisp = 4; /* no base: disp32 */
        else
            x->base = (int8_t)(bs | ((rex & 1) ? 8u : 0u));
    } else if (rm == 5 && mod == 0) {
        x->rip = 1; /* rip + disp32 */
        ndisp = 4;
    } else {
        x->base = (int8_t)(rm | ((rex & 1) ? 8u : 0u));
    }
    if (i + ndisp > avail)
        return -1;
    if (ndisp == 1)
        x->disp = (int8_t)c[i];
    else if (ndisp == 4)
        memcpy(&x->disp, c + i, 4);
    i += ndisp;
    if (x->base == 4 || x->index == 4)
        return -1; /* through rsp: the handler runs on another stack */
    size_t nimm = o.imm == I8 ? 1 : o.imm == IZ ? (os == 2 ? 2 : 4) : 0;
    if (i + nimm > avail)
        return -1;
    /* the address register: one the instruction does not name (none of those carried out
     * uses rsi or rdi implicitly) */
    x->areg = x->reg == 6 ? 7 : 6;
    /* re-encoded: prefixes, REX without X and B (kept if there was one: it decides whether
     * 8-bit registers 4..7 are spl..dil or ah..bh), opcode, ModRM [areg], immediate */
    size_t n = 0;
    if (p66)
        x->code[n++] = 0x66;
    if (lock)
        x->code[n++] = 0xf0;
    if (rex)
        x->code[n++] = (uint8_t)(rex & ~3);
    for (size_t k = opstart; k < opstart + (op == 0x0f ? 2u : 1u); k++)
        x->code[n++] = c[k];
    x->code[n++] = (uint8_t)((reg << 3) | x->areg);
    memcpy(x->code + n, c + i, nimm);
    n += nimm;
    x->ncode = (uint8_t)n;
    x->len = (uint8_t)(i + nimm);
    return 0;
}

uint64_t wedge_mw_xol_addr(const struct wedge_mw_xol *x, const uint64_t regs[16], uint64_t pc)
{
    uint64_t a = (uint64_t)(int64_t)x->disp;
    if (x->rip)
        return pc + x->len + a;
    if (x->base >= 0)
        a += regs[x->base];
    if (x->index >= 0)
        a += regs[x->index] * x->scale;
    return a;
}

/* Load every general register but rsp from ctx[0..15] and the flags from ctx[16], call code
 * (the instruction and a ret), store them back; the direction flag cleared again for the C
 * caller.  Callee-saved registers of the caller are preserved. */
__asm__(".text\n"
        ".globl wedge_mw_xol_run\n"
        ".hidden wedge_mw_xol_run\n"
        ".type wedge_mw_xol_run,@function\n"
        "wedge_mw_xol_run:\n"
        "    push %rbx\n    push %rbp\n    push %r12\n    push %r13\n    push %r14\n"
        "    push %r15\n    push %rdi\n    push %rsi\n"
        "    pushq 128(%rdi)\n    popfq\n"
        "    mov 0(%rdi), %rax\n    mov 8(%rdi), %rcx\n    mov 16(%rdi), %rdx\n"
        "    mov 24(%rdi), %rbx\n    mov 40(%rdi), %rbp\n    mov 48(%rdi), %rsi\n"
        "    mov 64(%rdi), %r8\n    mov 72(%rdi), %r9\n    mov 80(%rdi), %r10\n"
        "    mov 88(%rdi), %r11\n    mov 96(%rdi), %r12\n    mov 104(%rdi), %r13\n"
        "    mov 112(%rdi), %r14\n    mov 120(%rdi), %r15\n    mov 56(%rdi), %rdi\n"
        "    call *(%rsp)\n"
        "    pushfq\n    push %rdi\n    mov 24(%rsp), %rdi\n"
        "    mov %rax, 0(%rdi)\n    mov %rcx, 8(%rdi)\n    mov %rdx, 16(%rdi)\n"
        "    mov %rbx, 24(%rdi)\n    mov %rbp, 40(%rdi)\n    mov %rsi, 48(%rdi)\n"
        "    mov %r8, 64(%rdi)\n    mov %r9, 72(%rdi)\n    mov %r10, 80(%rdi)\n"
        "    mov %r11, 88(%rdi)\n    mov %r12, 96(%rdi)\n    mov %r13, 104(%rdi)\n"
        "    mov %r14, 112(%rdi)\n    mov %r15, 120(%rdi)\n"
        "    pop %rax\n    mov %rax, 56(%rdi)\n    pop %rax\n    mov %rax, 128(%rdi)\n"
        "    cld\n    add $16, %rsp\n"
        "    pop %r15\n    pop %r14\n    pop %r13\n    pop %r12\n    pop %rbp\n    pop %rbx\n"
        "    ret\n"
        ".size wedge_mw_xol_run, .-wedge_mw_xol_run\n");

void wedge_mw_xol_exec(const struct wedge_mw_xol *x, uint64_t ctx[17], uint64_t addr,
                       uint8_t *buf)
{
    memcpy(buf, x->code, x->ncode);
    buf[x->ncode] = 0xc3; /* ret */
    uint64_t saved = ctx[x->areg];
    ctx[x->areg] = addr;
    ctx[16] &= ~(uint64_t)0x100; /* never the trap flag */
    wedge_mw_xol_run(ctx, buf);
    ctx[x->areg] = saved;
}
