#!/bin/bash
# serial_determinism.sh WEDGE TARGETS SHIM NAME SEED RUNS [RUN OPTIONS...]
# Two serial campaigns with the same --seed find the same failing runs with the same tokens,
# whatever the parallelism of each.
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
NAME=$1
SEED=$2
RUNS=$3
shift 3
PROG=$TARGETS/$NAME

run 250 "$WEDGE" run --mode serial --seed "$SEED" -n "$RUNS" -j 2 -q --json a.json --out ra "$@" -- "$PROG"
RC_A=$RC
run 250 "$WEDGE" run --mode serial --seed "$SEED" -n "$RUNS" -j 1 -q --json b.json --out rb "$@" -- "$PROG"
RC_B=$RC
if [ "$RC_A" -eq 1 ] && [ "$RC_B" -eq 1 ]; then
    pass "both campaigns reproduced (exit 1)"
else
    fail "campaign exits $RC_A and $RC_B, expected 1 and 1 (the comparison needs failures)"
fi
N=$(json a.json "len(j['reproductions'])")
expect_same_json "same $N failing runs and tokens in both campaigns" a.json b.json \
    "sorted((r['run'], r['token']) for r in j['reproductions'])"
e2e_finish
