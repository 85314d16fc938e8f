/* Unit tests of memory watching's pure logic (src/wedge_mw_*): the access-width decoder and
 * the check-then-act / stale-write tracker. */
#include "check.h"
#include "wedge_mw.h"

#include <stdlib.h>
#include <string.h>

static struct wedge_mw_insn dec(const char *hex)
{
    uint8_t b[16];
    size_t n = 0;
    for (const char *p = hex; p[0] && p[1] && n < sizeof b;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        char two[3] = { p[0], p[1], 0 };
        b[n++] = (uint8_t)strtoul(two, NULL, 16);
        p += 2;
    }
    struct wedge_mw_insn in;
    wedge_mw_decode(b, n, &in);
    return in;
}

static void decoder(void)
{
    /* plain loads and stores gcc emits for `n = len; len = n + 1;` */
    CHECK(dec("8b 05 10 20 00 00").size == 4);         /* mov eax, [rip+x] */
    CHECK(dec("89 05 10 20 00 00").size == 4);         /* mov [rip+x], eax */
    CHECK(dec("48 8b 05 10 20 00 00").size == 8);      /* mov rax, [rip+x] */
    CHECK(dec("66 89 05 10 20 00 00").size == 2);      /* mov [rip+x], ax */
    CHECK(dec("88 05 10 20 00 00").size == 1);
    CHECK(dec("0f b6 05 10 20 00 00").size == 1);      /* movzx eax, byte [x] */
    CHECK(dec("c7 05 10 20 00 00 01 00 00 00").size == 4); /* mov dword [x], 1 */
    CHECK(dec("8b 05 10 20 00 00").rmw == 0);
    /* read-modify-write: one instruction, never a stale overwrite */
    struct wedge_mw_insn in = dec("83 05 10 20 00 00 01"); /* add dword [x], 1 */
    CHECK(in.size == 4 && in.rmw == 1 && in.atomic == 0);
    CHECK(dec("83 3d 10 20 00 00 01").rmw == 0);       /* cmp dword [x], 1 */
    CHECK(dec("ff 05 10 20 00 00").rmw == 1);          /* inc dword [x] */
    CHECK(dec("39 05 10 20 00 00").rmw == 0);          /* cmp [x], eax */
    CHECK(dec("01 05 10 20 00 00").rmw == 1);          /* add [x], eax */
    CHECK(dec("03 05 10 20 00 00").rmw == 0);          /* add eax, [x] */
    /* atomics */
    in = dec("f0 0f c1 05 10 20 00 00");               /* lock xadd [x], eax */
    CHECK(in.atomic == 1 && in.rmw == 1 && in.size == 4);
    in = dec("f0 48 0f b1 15 10 20 00 00");            /* lock cmpxchg [x], rdx */
    CHECK(in.atomic == 1 && in.size == 8);
    in = dec("87 05 10 20 00 00");                     /* xchg [x], eax */
    CHECK(in.atomic == 1);
    CHECK(dec("f0 83 05 10 20 00 00 01").atomic == 1); /* lock add */
    /* string operations (memcpy/memset with rep) */
    in = dec("f3 a4");
    CHECK(in.string == 1 && in.rep == 1 && in.size == 1 && in.len == 2);
    in = dec("f3 48 ab");
    CHECK(in.string == 1 && in.rep == 1 && in.size == 8 && in.len == 3);
    /* vector moves */
    CHECK(dec("c5 fe 6f 06").size == 32);              /* vmovdqu ymm0, [rsi] */
    CHECK(dec("c5 fa 6f 06").size == 16);              /* vmovdqu xmm0, [rsi] */
    CHECK(dec("f3 0f 6f 06").size == 16);              /* movdqu xmm0, [rsi] */
    CHECK(dec("f2 0f 10 06").size == 8);               /* movsd */
    /* GOT reads through PLT stubs */
    in = dec("ff 25 e2 2f 00 00");                     /* jmp [rip+0x2fe2] */
    CHECK(in.got_jump == 1 && in.len == 6 && in.disp == 0x2fe2);
    in = dec("f2 ff 25 e2 2f 00 00");                  /* bnd jmp [rip+...] */
    CHECK(in.got_jump == 1 && in.len == 7);
    in = dec("ff 15 f0 ff ff ff");                     /* call [rip-16] */
    CHECK(in.got_jump == 2 && in.disp == -16);
    CHECK(dec("ff 20").got_jump == 0);                 /* jmp [rax] */
    /* unknown */
    struct wedge_mw_insn u;
    uint8_t nop[] = { 0x90 };
    CHECK(wedge_mw_decode(nop, 1, &u) == -1 && u.size == 0);
    CHECK(wedge_mw_decode(nop, 0, &u) == -1);
}

static struct wedge_mw_tracker tr;

static void pairs_and_lost_updates(void)
{
    struct wedge_mw_verdict v;
    const uint64_t LEN = 0x1000, R = 0x10, W = 0x20, BW = 0x30;

    /* one thread: read then write of len is a pair, never a lost update */
    wedge_mw_tracker_reset(&tr);
    wedge_mw_on_read(&tr, 0, LEN, R);
    wedge_mw_on_write(&tr, 0, LEN, W, 0, &v);
    CHECK(v.pair == 0 && v.lost == 0);
    CHECK(tr.npairs == 1 && tr.pairs[0].read_site == R && tr.pairs[0].write_site == W);
    CHECK(wedge_mw_pair_of_read(&tr, R) == 0);
    CHECK(wedge_mw_pair_of_read(&tr, W) == -1);
    /* the same pair again is not a new pair */
    wedge_mw_on_read(&tr, 0, LEN, R);
    wedge_mw_on_write(&tr, 0, LEN, W, 0, &v);
    CHECK(v.pair == 0 && tr.npairs == 1 && tr.pairs[0].hits == 2);
    /* a write with no read before it closes no pair */
    wedge_mw_on_write(&tr, 0, LEN, W, 0, &v);
    CHECK(v.pair == -1 && v.lost == 0);

    /* the lost update: A reads, B writes, A writes */
    wedge_mw_tracker_reset(&tr);
    wedge_mw_on_read(&tr, 1, LEN, R);
    wedge_mw_on_read(&tr, 2, LEN, R);
    wedge_mw_on_write(&tr, 2, LEN, BW, 0, &v);
    CHECK(v.lost == 0);
    wedge_mw_on_write(&tr, 1, LEN, W, 0, &v);
    CHECK(v.lost == 1 && v.read_site == R && v.other_site == BW && v.other_thread == 2);

    /* serialized (a lock around each read-write): no lost update */
    wedge_mw_tracker_reset(&tr);
    for (int i = 0; i < 10; i++) {
        uint32_t th = (uint32_t)(i & 1);
        wedge_mw_on_read(&tr, th, LEN, R);
        wedge_mw_on_write(&tr, th, LEN, W, 0, &v);
        CHECK(v.lost == 0);
    }

    /* A re-reads after B's write (double-checked): fresh, no lost update */
    wedge_mw_tracker_reset(&tr);
    wedge_mw_on_read(&tr, 1, LEN, R);
    wedge_mw_on_write(&tr, 2, LEN, BW, 0, &v);
    wedge_mw_on_read(&tr, 1, LEN, R + 1);
    wedge_mw_on_write(&tr, 1, LEN, W, 0, &v);
    CHECK(v.lost == 0 && v.pair >= 0);

    /* an atomic read-modify-write after B's write is never stale (failed CAS loops) */
    wedge_mw_tracker_reset(&tr);
    wedge_mw_on_read(&tr, 1, LEN, R);
    wedge_mw_on_write(&tr, 2, LEN, BW, 1, &v);
    wedge_mw_on_write(&tr, 1, LEN, W, 1, &v);
    CHECK(v.lost == 0);

    /* B writing a neighbour does not make A's write stale */
    wedge_mw_tracker_reset(&tr);
    wedge_mw_on_read(&tr, 1, LEN, R);
    wedge_mw_on_write(&tr, 2, LEN + 4, BW, 0, &v);
    wedge_mw_on_write(&tr, 1, LEN, W, 0, &v);
    CHECK(v.lost == 0);

    /* A's own write in between consumes the read: the next write needs a new read */
    wedge_mw_tracker_reset(&tr);
    wedge_mw_on_read(&tr, 1, LEN, R);
    wedge_mw_on_write(&tr, 1, LEN, W, 0, &v);
    wedge_mw_on_write(&tr, 2, LEN, BW, 0, &v);
    wedge_mw_on_write(&tr, 1, LEN, W, 0, &v);
    CHECK(v.lost == 0);

    /* many locations: the table forgets, it never invents */
    wedge_mw_tracker_reset(&tr);
    wedge_mw_on_read(&tr, 1, LEN, R);
    for (uint64_t a = 0; a < 4 * WEDGE_MW_LOCS; a++)
        wedge_mw_on_write(&tr, 3, 0x100000 + a * 8, BW, 0, &v);
    wedge_mw_on_write(&tr, 1, LEN, W, 0, &v);
    CHECK(v.lost == 0);

    /* out-of-range thread indices are ignored */
    wedge_mw_on_read(&tr, WEDGE_MW_THREADS, LEN, R);
    wedge_mw_on_write(&tr, WEDGE_MW_THREADS, LEN, W, 0, &v);
    CHECK(v.pair == -1 && v.lost == 0);
}

int main(void)
{
    decoder();
    pairs_and_lost_updates();
    return check_report("test_memwatch");
}
