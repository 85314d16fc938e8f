/* Unit test of trapped accesses carried out by the handler (src/wedge_mw_move.c), against
 * the processor.  Every instruction below is assembled by the assembler (no hand-written
 * bytes); each is run natively from a code page of its own with a known register file and
 * flags, and carried out by wedge_mw_decode_xol/_addr/_exec (re-encoded, run on the register
 * file) on the same registers and memory; registers, flags and memory must come out the
 * same, and the decoded length must be the assembled length.
 * The instructions it must not carry out (vector, x87, string, division, register bit
 * offsets, rsp or segment addressing, control transfers) must be refused (they are stepped). */
#define _GNU_SOURCE
#include "check.h"
#include "wedge_mw.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

/* Each entry: start and end of one assembled instruction, in .rodata (never run there). */
#define INSN(text)                                                                          \
    "0: " text "\n1:\n.pushsection .data.wedge_insns,\"aw\"\n.quad 0b, 1b\n.popsection\n"

__asm__(".pushsection .data.wedge_insns,\"aw\"\n"
        ".globl moves_begin\nmoves_begin:\n"
        ".popsection\n"
        ".pushsection .rodata\n"
        INSN("movl (%rbx), %eax")
        INSN("movq 8(%rbx), %rcx")
        INSN("movw 0x22(%rbx), %dx")
        INSN("movb 3(%rbx), %al")
        INSN("movb 5(%rbx), %ah")
        INSN("movb 7(%rbx), %bh")
        INSN("movb 9(%rbx), %sil")
        INSN("movb 11(%rbx), %r9b")
        INSN("movl 0x40(%rbx,%rsi,4), %r10d")
        INSN("movq -0x10(%r13,%r9,8), %r11")
        INSN("movq 0x30(%r12), %r14")
        INSN("movl (%rbp), %r15d")
        INSN("movl 0x104(%rbx,%r9,2), %edi")
        INSN("movl 0x1010(%rip), %eax")
        INSN("movq 0x1100(%rip), %r8")
        INSN("movzbl 0x41(%rbx), %eax")
        INSN("movzwl 0x42(%rbx), %ecx")
        INSN("movzbq 0x43(%rbx), %r9")
        INSN("movsbl 0x44(%rbx), %edx")
        INSN("movswl 0x46(%rbx), %esi")
        INSN("movsbq 0x47(%rbx), %r10")
        INSN("movswq 0x48(%rbx), %r11")
        INSN("movslq 0x4c(%rbx), %r12")
        INSN("movl %eax, 0x50(%rbx)")
        INSN("movq %r15, 0x58(%rbx)")
        INSN("movw %cx, 0x60(%rbx)")
        INSN("movb %dl, 0x62(%rbx)")
        INSN("movb %dh, 0x63(%rbx)")
        INSN("movb %ch, 0x64(%rbx)")
        INSN("movb %dil, 0x65(%rbx)")
        INSN("movb %r8b, 0x66(%rbx)")
        INSN("movq %rsi, 0x68(%r13,%rsi,8)")
        INSN("movl %r9d, 0x1200(%rip)")
        INSN("movl $0x12345678, 0x70(%rbx)")
        INSN("movq $-5, 0x78(%rbx)")
        INSN("movw $0x7abc, 0x80(%rbx)")
        INSN("movb $0x9c, 0x82(%rbx)")
        INSN("movl $7, 0x200(%rbx,%rsi,1)")
        INSN("cmpl %eax, 0x10(%rbx)")
        INSN("cmpl 0x14(%rbx), %edx")
        INSN("cmpq %r8, 0x18(%rbx)")
        INSN("cmpw %cx, 0x20(%rbx)")
        INSN("cmpb %ah, 0x21(%rbx)")
        INSN("cmpb 0x22(%rbx), %sil")
        INSN("cmpl $3, 0x24(%rbx)")
        INSN("cmpl $0x12345, 0x28(%rbx)")
        INSN("cmpq $-1, 0x30(%rbx)")
        INSN("cmpb $0x85, 0x31(%rbx)")
        INSN("cmpw $0x1234, 0x32(%rbx)")
        INSN("cmpl %edx, 0x1300(%rip)")
        INSN("testl %eax, 0x34(%rbx)")
        INSN("testb %dh, 0x35(%rbx)")
        INSN("testq %r9, 0x38(%rbx)")
        INSN("testl $0x80000000, 0x3c(%rbx)")
        INSN("testb $1, 0x3d(%rbx)")
        INSN("testw $0x100, 0x3e(%rbx)")
        /* read-modify-writes, locked or not */
        INSN("addl $1, 0x90(%rbx)")
        INSN("addq $-3, 0x98(%rbx)")
        INSN("subl %ecx, 0xa0(%rbx)")
        INSN("addl 0xa4(%rbx), %edx")
        INSN("orb $0x40, 0xa8(%rbx)")
        INSN("andw $0xff0f, 0xaa(%rbx)")
        INSN("xorq %r10, 0xb0(%rbx)")
        INSN("adcl $5, 0xb8(%rbx)")
        INSN("sbbl %eax, 0xbc(%rbx)")
        INSN("incl 0xc0(%rbx)")
        INSN("decq 0xc8(%rbx)")
        INSN("incb 0xd0(%rbx)")
        INSN("notl 0xd4(%rbx)")
        INSN("negq 0xd8(%rbx)")
        INSN("lock addl $1, 0xe0(%rbx)")
        INSN("lock subq %rcx, 0xe8(%rbx)")
        INSN("lock incl 0xf0(%rbx)")
        INSN("lock decl 0x1400(%rip)")
        INSN("lock orl $0x100, 0xf4(%rbx)")
        INSN("lock cmpxchgl %edx, 0xf8(%rbx)")
        INSN("lock cmpxchgq %r9, 0x100(%rbx)")
        INSN("cmpxchgl %esi, 0x108(%rbx)")
        INSN("lock cmpxchgb %cl, 0x10c(%rbx)")
        INSN("xchgl %eax, 0x110(%rbx)")
        INSN("xchgq %rsi, 0x118(%rbx)")
        INSN("xchgb %dh, 0x11c(%rbx)")
        INSN("lock xaddl %ecx, 0x120(%rbx)")
        INSN("lock xaddq %rdi, 0x128(%r13,%rsi,8)")
        INSN("shll $3, 0x130(%rbx)")
        INSN("sarq 0x138(%rbx)")
        INSN("rolb %cl, 0x140(%rbx)")
        INSN("shrw $1, 0x142(%rbx)")
        INSN("btsl $5, 0x144(%rbx)")
        INSN("btl $33, 0x148(%rbx)")
        INSN("btrq $63, 0x150(%rbx)")
        INSN("sete 0x158(%rbx)")
        INSN("setb 0x159(%rbx)")
        INSN("cmovel 0x15c(%rbx), %eax")
        INSN("cmovneq 0x160(%rbx), %r11")
        INSN("imull 0x168(%rbx), %ecx")
        INSN("imulq $7, 0x170(%rbx), %rdx")
        INSN("imull $100000, 0x178(%rbx), %esi")
        INSN("mull 0x17c(%rbx)")
        INSN("imulq 0x180(%rbx)")
        INSN("testb $0x80, 0x188(%rbx,%r9,1)")
        INSN("movq %rdi, 0x190(%rbx)")
        INSN("movl 0x194(%rdi), %esi")
        INSN("movb %sil, 0x198(%rdi)")
        /* refused: stepped */
        INSN("movq %rax, %fs:0")
        INSN("movups (%rbx), %xmm0")
        INSN("rep movsb")
        INSN("movl %ecx, %eax")
        INSN("movl (%ebx), %eax")
        INSN("divl (%rbx)")
        INSN("idivq 8(%rbx)")
        INSN("btl %eax, (%rbx)")
        INSN("btsq %rcx, (%rbx)")
        INSN("movl 8(%rsp), %eax")
        INSN("movl %eax, 4(%rsp,%rbx,2)")
        INSN("call *(%rbx)")
        INSN("pushq (%rbx)")
        INSN("movzbw (%rbx), %ax")
        INSN(".byte 0xf0, 0x89, 0x03") /* lock movl %eax, (%rbx): #UD */
        INSN("vmovdqu (%rbx), %ymm0")
        INSN("fldl (%rbx)")
        INSN("cmpxchg16b (%rbx)")
        ".popsection\n"
        ".pushsection .data.wedge_insns,\"aw\"\n"
        ".globl moves_end\nmoves_end:\n"
        ".popsection\n");
extern const uint64_t moves_begin[], moves_end[];
#define N_MOVES 104 /* the first N_MOVES entries are moves; the rest must be refused */

/* Run code with every general register but rsp loaded from r[0..15] (instruction-set order)
 * and the flags from r[16], and store them back.  The test's own, written apart from the
 * library's wedge_mw_xol_run: a register-order mistake shared by the native run and the
 * carried-out one would otherwise pass unseen. */
void run_native(uint64_t *r, void *code);
__asm__(".text\n.globl run_native\n.type run_native,@function\nrun_native:\n"
        "push %rbx\npush %rbp\npush %r12\npush %r13\npush %r14\npush %r15\n"
        "push %rdi\npush %rsi\n"
        "pushq 128(%rdi)\npopfq\n"
        "mov 0(%rdi), %rax\nmov 8(%rdi), %rcx\nmov 16(%rdi), %rdx\nmov 24(%rdi), %rbx\n"
        "mov 40(%rdi), %rbp\nmov 48(%rdi), %rsi\nmov 64(%rdi), %r8\nmov 72(%rdi), %r9\n"
        "mov 80(%rdi), %r10\nmov 88(%rdi), %r11\nmov 96(%rdi), %r12\nmov 104(%rdi), %r13\n"
        "mov 112(%rdi), %r14\nmov 120(%rdi), %r15\nmov 56(%rdi), %rdi\n"
        "call *(%rsp)\n"
        "pushfq\npush %rdi\nmov 24(%rsp), %rdi\n"
        "mov %rax, 0(%rdi)\nmov %rcx, 8(%rdi)\nmov %rdx, 16(%rdi)\nmov %rbx, 24(%rdi)\n"
        "mov %rbp, 40(%rdi)\nmov %rsi, 48(%rdi)\nmov %r8, 64(%rdi)\nmov %r9, 72(%rdi)\n"
        "mov %r10, 80(%rdi)\nmov %r11, 88(%rdi)\nmov %r12, 96(%rdi)\nmov %r13, 104(%rdi)\n"
        "mov %r14, 112(%rdi)\nmov %r15, 120(%rdi)\npop %rax\nmov %rax, 56(%rdi)\n"
        "pop %rax\nmov %rax, 128(%rdi)\n"
        "add $16, %rsp\n"
        "pop %r15\npop %r14\npop %r13\npop %r12\npop %rbp\npop %rbx\nret\n"
        ".size run_native, .-run_native\n");

#define PAGE 4096

static void fill(uint8_t *data, uint64_t *r, uintptr_t base)
{
    for (int k = 0; k < 2 * PAGE; k++)
        data[k] = (uint8_t)(k * 37 + 0x85); /* bytes with the top bit set among them */
    for (int i = 0; i < 16; i++)
        r[i] = 0x0123456789abcdefull * (uint64_t)(i + 1) ^ ((uint64_t)i << 56);
    r[3] = base + 0x100;  /* rbx */
    r[5] = base + 0x300;  /* rbp */
    r[6] = 3;             /* rsi: an index */
    r[9] = 5;             /* r9: an index */
    r[7] = base + 0x900;  /* rdi */
    r[12] = base + 0x500; /* r12 */
    r[13] = base + 0x700; /* r13 */
    r[4] = 0;             /* rsp: not used, not compared */
    r[16] = 0x202 | 0x0c5; /* IF, and some arithmetic flags set (CF PF ZF SF) */
}

int main(void)
{
    uint8_t *page = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(page != MAP_FAILED);
    if (page == MAP_FAILED)
        return check_report("test_mw_move");
    uint8_t *code = page, *data = page + PAGE;
    static uint8_t xolbuf[64];
    uint8_t *xol = mmap(NULL, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(xol != MAP_FAILED);
    if (xol == MAP_FAILED)
        xol = xolbuf; /* (not reached: the page above is executable) */
    size_t n = (size_t)(moves_end - moves_begin) / 2;
    CHECK(n == N_MOVES + 18);
    static uint8_t saved[2 * PAGE];
    for (size_t k = 0; k < n; k++) {
        const uint8_t *s = (const uint8_t *)moves_begin[2 * k];
        size_t len = (size_t)(moves_begin[2 * k + 1] - moves_begin[2 * k]);
        struct wedge_mw_xol m;
        int rc = wedge_mw_decode_xol(s, len, &m);
        if (k >= N_MOVES) {
            if (rc != -1)
                fprintf(stderr, "entry %zu: decoded as carried out\n", k);
            CHECK(rc == -1);
            continue;
        }
        CHECK(rc == 0 && m.len == len);
        if (rc != 0 || m.len != len) {
            fprintf(stderr, "entry %zu: rc %d len %u of %zu\n", k, rc, m.len, len);
            continue;
        }
        /* truncated bytes are refused, never read past */
        struct wedge_mw_xol t;
        CHECK(wedge_mw_decode_xol(s, len - 1, &t) == -1);

        uint64_t rn[17], re[17];
        memcpy(code, s, len);
        code[len] = 0xc3; /* ret */
        fill(data, rn, (uintptr_t)data);
        run_native(rn, code);
        memcpy(saved, data, sizeof saved);
        fill(data, re, (uintptr_t)data);
        uint64_t a = wedge_mw_xol_addr(&m, re, (uint64_t)(uintptr_t)code);
        CHECK(a >= (uintptr_t)data && a + m.size <= (uintptr_t)data + 2 * PAGE);
        if (a < (uintptr_t)data || a + m.size > (uintptr_t)data + 2 * PAGE)
            continue;
        wedge_mw_xol_exec(&m, re, a, xol);
        int same = memcmp(saved, data, sizeof saved) == 0;
        for (int i = 0; i < 17; i++)
            if (i != 4 && rn[i] != re[i]) {
                fprintf(stderr, "entry %zu: register %d native %016llx emulated %016llx\n", k,
                        i, (unsigned long long)rn[i], (unsigned long long)re[i]);
                same = 0;
            }
        if (memcmp(saved, data, sizeof saved) != 0)
            fprintf(stderr, "entry %zu: memory differs\n", k);
        CHECK(same);
    }
    munmap(page, 3 * PAGE);
    return check_report("test_mw_move");
}
