#!/bin/bash
# memory_syscalls.sh WEDGE TARGETS SHIM RUNS
# Watching memory never fails a correct program whose system calls libc makes on watched
# buffers (stdio's fread/fwrite, stat, nanosleep, getdents64: issue 7, item 1): every run
# passes in serial and in noise mode with --watch mem, and the shim says that it dispatches
# system calls (syscall user dispatch) rather than leaving them to fail with EFAULT.
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
RUNS=${1:-30}
PROG=$TARGETS/stdio_watched_ok
SHIM=${WEDGE_PRELOAD:-}

if [ -n "$SHIM" ]; then
    for mode in serial noise; do
        run 60 env LD_PRELOAD="$SHIM" WEDGE_LOG=1 WEDGE_TOKEN="w1.$mode.random.m.00000000000000a1" "$PROG"
        expect_rc "stdio_watched_ok alone under the shim ($mode, watching)" 0
        expect_output "$mode: system calls are dispatched" "memory watching on \(system calls dispatched\)"
        if grep -q "memory watching off" "$ERR"; then
            fail "$mode: watching was switched off during the run"
            show_output
        fi
    done
fi
for mode in serial noise; do
    run 240 "$WEDGE" run --mode "$mode" --watch mem -n "$RUNS" --seed 5ca1 --timeout 20s -q \
        --json "$mode.json" --out reports -- "$PROG"
    expect_rc "stdio_watched_ok --mode $mode --watch mem" 0
    expect_json "$mode: all $RUNS runs pass" "$mode.json" "j['runs'] == $RUNS and j['reproductions'] == []"
done
e2e_finish
