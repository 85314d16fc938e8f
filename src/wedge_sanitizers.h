/* wedge_sanitizers.h - the sanitizer runtimes wedge knows: one list for the CLI (which
 * runtimes a program needs and how to preload them, cli/sanitizer.c) and the shim (the
 * runtime an exec'd image needs first in its preload list, preload/process.c).
 *
 *   X(ID, STEM, SYMBOL, NAME, FIRST)
 *
 * STEM    the runtime's file name up to its version ("libasan.so" of "libasan.so.8"), as
 *         DT_NEEDED and LD_PRELOAD entries name it;
 * SYMBOL  a symbol the runtime defines, to find one linked into the executable (clang's
 *         default);
 * NAME    as reports print it;
 * FIRST   the runtime owns malloc and must come first in LD_PRELOAD: gcc 12's libasan refuses
 *         to start otherwise, and liblsan quietly keeps wedge's constructor from running.
 *
 * SAN_<ID> (cli/cli.h) is 1 << its position in the list. */
#ifndef WEDGE_SANITIZERS_H
#define WEDGE_SANITIZERS_H

#define WEDGE_SANITIZER_RUNTIMES(X)                                                          \
    X(ASAN, "libasan.so", "__asan_init", "ASan", 1)                                           \
    X(HWASAN, "libhwasan.so", "__hwasan_init", "HWASan", 1)                                   \
    X(TSAN, "libtsan.so", "__tsan_init", "TSan", 1)                                           \
    X(LSAN, "liblsan.so", "__lsan_init", "LSan", 1)                                           \
    X(UBSAN, "libubsan.so", "__ubsan_handle_add_overflow", "UBSan", 0)

/* clang's shared runtimes (libclang_rt.asan-x86_64.so, ...) also go first when listed */
#define WEDGE_SANITIZER_CLANG_STEM "libclang_rt."

enum wedge_sanitizer_index {
#define WEDGE_SAN_INDEX(id, stem, symbol, name, first) WEDGE_SAN_I_##id,
    WEDGE_SANITIZER_RUNTIMES(WEDGE_SAN_INDEX)
#undef WEDGE_SAN_INDEX
    WEDGE_SAN_COUNT
};

#endif
