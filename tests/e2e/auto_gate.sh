#!/bin/bash
# auto_gate.sh WEDGE TARGETS SHIM NAME SEED RUNS EXPECT
# The rf share's gate (cli/portfolio.c, "Lock-free code") on one default campaign at -j 1:
# EXPECT, a condition on its JSON `j` (shut on a program whose compare-and-swaps are its
# locks' futex words, open on lock-free data).
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
NAME=$1
SEED=$2
RUNS=$3
EXPECT=$4
PROG=$TARGETS/$NAME
if [ ! -x "$PROG" ]; then
    case $NAME in job_claim_rust*) skip_test "$NAME not built (no rustc)" ;; esac
    fail "$NAME: target not built ($PROG)"
    e2e_finish
fi
run 250 "$WEDGE" run --seed "$SEED" -n "$RUNS" -j 1 -q --json a.json --out ra -- "$PROG"
expect_json "$NAME: every run ran" a.json "j['runs'] == $RUNS"
expect_json "$NAME: $EXPECT" a.json "$EXPECT"
e2e_finish
