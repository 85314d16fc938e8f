/* Unit test of the trapped-move emulation (src/wedge_mw_move.c), against the processor.
 * Every instruction below is assembled by the assembler (no hand-written bytes); each is run
 * natively from a code page of its own with a known register file, and carried out by
 * wedge_mw_decode_move/_addr/_exec on the same register file and memory; registers and
 * memory must come out the same, and the decoded length must be the assembled length.
 * Instructions that are neither plain moves nor compares or tests of memory must be refused
 * (they are single-stepped). */
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
        INSN("movq %rax, %fs:0") /* not a plain move: refused */
        INSN("addl $1, (%rbx)")
        INSN("lock incl (%rbx)")
        INSN("subl $3, (%rbx)")
        INSN("notl (%rbx)")
        INSN("movups (%rbx), %xmm0")
        INSN("rep movsb")
        INSN("xchgl %eax, (%rbx)")
        INSN("movl %ecx, %eax")
        INSN("movl (%ebx), %eax")
        ".popsection\n"
        ".pushsection .data.wedge_insns,\"aw\"\n"
        ".globl moves_end\nmoves_end:\n"
        ".popsection\n");
extern const uint64_t moves_begin[], moves_end[];
#define N_MOVES 56 /* the first N_MOVES entries are moves; the rest must be refused */

/* Run code with every general register but rsp loaded from r[0..15] (instruction-set order)
 * and the flags from r[16], and store them back. */
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
    size_t n = (size_t)(moves_end - moves_begin) / 2;
    CHECK(n == N_MOVES + 10);
    static uint8_t saved[2 * PAGE];
    for (size_t k = 0; k < n; k++) {
        const uint8_t *s = (const uint8_t *)moves_begin[2 * k];
        size_t len = (size_t)(moves_begin[2 * k + 1] - moves_begin[2 * k]);
        struct wedge_mw_move m;
        int rc = wedge_mw_decode_move(s, len, &m);
        if (k >= N_MOVES) {
            if (rc != -1)
                fprintf(stderr, "entry %zu: decoded as a move\n", k);
            CHECK(rc == -1);
            continue;
        }
        CHECK(rc == 0 && m.len == len);
        if (rc != 0 || m.len != len) {
            fprintf(stderr, "entry %zu: rc %d len %u of %zu\n", k, rc, m.len, len);
            continue;
        }
        /* truncated bytes are refused, never read past */
        struct wedge_mw_move t;
        CHECK(wedge_mw_decode_move(s, len - 1, &t) == -1);

        uint64_t rn[17], re[17];
        memcpy(code, s, len);
        code[len] = 0xc3; /* ret */
        fill(data, rn, (uintptr_t)data);
        run_native(rn, code);
        memcpy(saved, data, sizeof saved);
        fill(data, re, (uintptr_t)data);
        uint64_t a = wedge_mw_move_addr(&m, re, (uint64_t)(uintptr_t)code);
        CHECK(a >= (uintptr_t)data && a + m.size <= (uintptr_t)data + 2 * PAGE);
        if (a < (uintptr_t)data || a + m.size > (uintptr_t)data + 2 * PAGE)
            continue;
        wedge_mw_move_exec(&m, re, &re[16], a);
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
