#!/bin/bash
# auto_shift.sh WEDGE TARGETS SHIM NAME ARG ARMS WINNER RUNS
# The bandit shifts: on a program only one arm of the portfolio finds, that arm's share of
# the runs rises as the campaign goes on (from the run_arms of the JSON), well above the
# share the floor gives it, while every other arm keeps running.
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
NAME=$1
ARG=$2
ARMS=$3
WINNER=$4
RUNS=$5
PROG=$TARGETS/$NAME

run 280 "$WEDGE" run --arms "$ARMS" --seed "${SHIFT_SEED:-5bf7}" -n "$RUNS" -j 2 -q --json s.json --out rs -- "$PROG" $ARG
expect_rc "$NAME campaign found it" 1
expect_json "only $WINNER reproduced" s.json "all(r['arm'] == '$WINNER' for r in j['reproductions'])"
SHARE="lambda xs: sum(1 for x in xs if x == '$WINNER') / max(len(xs), 1)"
Q="($SHARE)(j['run_arms'][:len(j['run_arms']) // 10]), ($SHARE)(j['run_arms'][len(j['run_arms']) // 2:])"
echo "  $WINNER's share of runs, first tenth and last half: $(json s.json "$Q")"
expect_json "$WINNER's share rises from the first tenth to the last half, past half the runs" s.json "(lambda a, b: b > a + 0.15 and b > 0.5)($Q)"
expect_json "every arm still ran" s.json "all(a['runs'] > 0 for a in j['arms'])"
e2e_finish
