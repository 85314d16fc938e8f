/* wedge_mw_decode.c - how wide is the memory access of the instruction that trapped?
 *
 * A page fault tells the address and whether the access was a write, not its width nor
 * whether the instruction also read the location.  The width makes the trace readable and
 * lets pairs match exactly; "also read" matters to the stale-write oracle: `add [len], 1` or
 * `lock cmpxchg` writes a value computed from what the same instruction read, so it can never
 * be a stale overwrite.  Only the instructions compilers emit for plain loads and stores of
 * scalars, read-modify-writes, atomics, string operations and the common SSE/AVX moves are
 * known; anything else decodes as size 0, which callers treat as "unknown".
 */
#include "wedge_mw.h"

#include <string.h>

/* Operand size of a general-purpose instruction: 66 prefix 2, REX.W 8, else 4. */
static uint32_t osize(int p66, int rexw)
{
    return rexw ? 8u : p66 ? 2u : 4u;
}

int wedge_mw_decode(const uint8_t *c, size_t avail, struct wedge_mw_insn *o)
{
    memset(o, 0, sizeof *o);
    size_t i = 0;
    int p66 = 0, lock = 0, rep = 0, f2 = 0, f3 = 0, rexw = 0;
    /* legacy prefixes, in any order */
    for (; i < avail && i < 14; i++) {
        uint8_t b = c[i];
        if (b == 0x66)
            p66 = 1;
        else if (b == 0xf0)
            lock = 1;
        else if (b == 0xf2)
            f2 = rep = 1;
        else if (b == 0xf3)
            f3 = rep = 1;
        else if (b == 0x2e || b == 0x36 || b == 0x3e || b == 0x26 || b == 0x64 || b == 0x65 ||
                 b == 0x67)
            ;
        else
            break;
    }
    if (i < avail && (c[i] & 0xf0) == 0x40) { /* REX */
        rexw = (c[i] & 8) != 0;
        i++;
    }
    if (i >= avail)
        return -1;
    uint8_t op = c[i++];
    uint8_t modrm = i < avail ? c[i] : 0;
    unsigned reg = (modrm >> 3) & 7;
    uint32_t os = osize(p66, rexw);
    o->atomic = (uint8_t)lock;

    /* VEX-encoded moves (AVX memcpy/memset): width from VEX.L */
    if (op == 0xc5 || op == 0xc4) {
        if (op == 0xc5 && i < avail) {
            o->size = (c[i] & 4) ? 32 : 16;
            return 0;
        }
        if (op == 0xc4 && i + 1 < avail) {
            o->size = (c[i + 1] & 4) ? 32 : 16;
            return 0;
        }
        return -1;
    }
    if (op == 0x62) { /* EVEX: width depends on too much; 64 is the common case in memcpy */
        o->size = 64;
        return 0;
    }

    if (op < 0x40 && (op & 7) < 4) { /* add/or/adc/sbb/and/sub/xor/cmp r/m forms */
        int is_cmp = (op & 0xf8) == 0x38;
        o->size = (op & 1) ? os : 1;
        /* op&2 == 0: the destination is r/m (read-modify-write, except cmp) */
        o->rmw = (uint8_t)(!(op & 2) && !is_cmp);
        return 0;
    }
    switch (op) {
    case 0x63: /* movsxd r64, r/m32 */
        o->size = 4;
        return 0;
    case 0x69: case 0x6b: /* imul r, r/m, imm */
        o->size = os;
        return 0;
    case 0x80: case 0x81: case 0x83:
        o->size = op == 0x80 ? 1 : os;
        o->rmw = reg != 7; /* /7 is cmp */
        return 0;
    case 0x84: case 0x85: /* test */
        o->size = op == 0x84 ? 1 : os;
        return 0;
    case 0x86: case 0x87: /* xchg with memory is always locked */
        o->size = op == 0x86 ? 1 : os;
        o->rmw = o->atomic = 1;
        return 0;
    case 0x88: case 0x8a:
        o->size = 1;
        return 0;
    case 0x89: case 0x8b:
        o->size = os;
        return 0;
    case 0x8f: /* pop r/m64 */
        o->size = 8;
        return 0;
    case 0xa4: case 0xa5: case 0xa6: case 0xa7: case 0xaa: case 0xab: case 0xac: case 0xad:
    case 0xae: case 0xaf:
        o->size = (op & 1) ? os : 1;
        o->string = 1;
        o->rep = (uint8_t)rep;
        o->len = (uint8_t)i;
        return 0;
    case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3: /* shifts, rotates */
        o->size = (op & 1) ? os : 1;
        o->rmw = 1;
        return 0;
    case 0xc6: case 0xc7:
        o->size = op == 0xc6 ? 1 : os;
        return 0;
    case 0xf6: case 0xf7:
        o->size = op == 0xf6 ? 1 : os;
        o->rmw = reg == 2 || reg == 3; /* not, neg */
        return 0;
    case 0xfe:
        o->size = 1;
        o->rmw = reg <= 1; /* inc, dec */
        return 0;
    case 0xff:
        if (reg <= 1) {
            o->size = os;
            o->rmw = 1;
            return 0;
        }
        o->size = 8; /* call, jmp, push through memory */
        if ((reg == 2 || reg == 4) && modrm == (uint8_t)((reg << 3) | 5) && i + 5 <= avail) {
            /* [rip+disp32]: the way PLT stubs and -fno-plt calls read the GOT */
            o->got_jump = reg == 4 ? 1 : 2;
            o->len = (uint8_t)(i + 5);
            int32_t d;
            memcpy(&d, c + i + 1, 4);
            o->disp = d;
        }
        return 0;
    case 0x0f:
        break;
    default:
        return -1;
    }

    /* two-byte opcodes */
    if (i >= avail)
        return -1;
    uint8_t op2 = c[i++];
    modrm = i < avail ? c[i] : 0;
    reg = (modrm >> 3) & 7;
    if (op2 >= 0x40 && op2 <= 0x4f) { /* cmovcc */
        o->size = os;
        return 0;
    }
    if (op2 >= 0x90 && op2 <= 0x9f) { /* setcc */
        o->size = 1;
        return 0;
    }
    switch (op2) {
    case 0xb6: case 0xbe: /* movzx/movsx from 8 bits */
        o->size = 1;
        return 0;
    case 0xb7: case 0xbf:
        o->size = 2;
        return 0;
    case 0xb0: case 0xb1: /* cmpxchg */
        o->size = op2 == 0xb0 ? 1 : os;
        o->rmw = 1;
        o->atomic = 1;
        return 0;
    case 0xc0: case 0xc1: /* xadd */
        o->size = op2 == 0xc0 ? 1 : os;
        o->rmw = 1;
        o->atomic = 1;
        return 0;
    case 0xc7: /* cmpxchg8b/16b */
        if (reg == 1) {
            o->size = rexw ? 16 : 8;
            o->rmw = o->atomic = 1;
            return 0;
        }
        return -1;
    case 0xa3: case 0xbb: case 0xb3: case 0xab: case 0xba: /* bt, btc, btr, bts */
        o->size = os;
        o->rmw = op2 != 0xa3 && !(op2 == 0xba && reg == 4);
        return 0;
    case 0x10: case 0x11: /* movups/movupd/movss/movsd */
        o->size = f3 ? 4 : f2 ? 8 : 16;
        return 0;
    case 0x12: case 0x13: case 0x16: case 0x17: /* movlps/movhps/movlpd/movhpd */
        o->size = 8;
        return 0;
    case 0x28: case 0x29: case 0x6f: case 0x7f: case 0xe7: case 0x2b: /* aligned/unaligned 128 */
        o->size = 16;
        return 0;
    case 0x6e: /* movd/movq xmm, r/m */
        o->size = rexw ? 8 : 4;
        return 0;
    case 0x7e: /* f3: movq xmm, m64; else movd/movq r/m, xmm */
        o->size = f3 ? 8 : rexw ? 8 : 4;
        return 0;
    case 0xd6: /* movq m64, xmm */
        o->size = 8;
        return 0;
    case 0xc3: /* movnti */
        o->size = os;
        return 0;
    }
    return -1;
}
