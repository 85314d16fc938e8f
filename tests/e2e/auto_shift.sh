#!/bin/bash
# auto_shift.sh WEDGE TARGETS SHIM NAME ARG ARMS WINNER RUNS
# The bandit shifts: on a program only one arm of the portfolio finds, that arm's share of
# the last half of the runs (from the run_arms of the JSON) is well above its share on the
# program's fixed twin with the same arms and seed, where no arm finds anything (the
# control: what priors, floor and coverage alone give it), while every other arm keeps
# running.
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
NAME=$1
ARG=$2
ARMS=$3
WINNER=$4
RUNS=$5
SEED=${SHIFT_SEED:-5bf7}

run 280 "$WEDGE" run --arms "$ARMS" --seed "$SEED" -n "$RUNS" -j 2 -q --json s.json --out rs -- "$TARGETS/$NAME" $ARG
expect_rc "$NAME campaign found it" 1
expect_json "only $WINNER reproduced" s.json "all(r['arm'] == '$WINNER' for r in j['reproductions'])"
run 280 "$WEDGE" run --arms "$ARMS" --seed "$SEED" -n "$RUNS" -j 2 -q --json c.json --out rc -- "$TARGETS/${NAME}_fixed" $ARG
expect_rc "${NAME}_fixed control campaign" 0
SHARE="(lambda xs: sum(1 for x in xs if x == '$WINNER') / max(len(xs), 1))(j['run_arms'][len(j['run_arms']) // 2:])"
S=$(json s.json "$SHARE")
C=$(json c.json "$SHARE")
echo "  $WINNER's share of the last half of the runs: $S on $NAME, $C on ${NAME}_fixed"
if python3 -c "import sys; s, c = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if s > c + 0.2 and s > 0.5 else 1)" "$S" "$C" 2>/dev/null; then
    pass "$WINNER's share rose where it finds the bug ($S against $C)"
else
    fail "$WINNER's share did not rise enough: $S on $NAME against $C on the control"
fi
expect_json "every arm still ran" s.json "all(a['runs'] > 0 for a in j['arms'])"
e2e_finish
