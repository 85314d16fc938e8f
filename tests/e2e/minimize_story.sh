#!/bin/bash
# minimize_story.sh WEDGE TARGETS SHIM NAME [RUN OPTIONS...]
# A serial campaign finds a token; wedge minimize brings it down to at most 3 injected
# decisions, told as numbered sentences, with a replay line (--steps) that reproduces the
# failure in at least 95 of 100 replays.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
NAME=$1
shift
PROG=$TARGETS/$NAME

run 200 "$WEDGE" run --mode serial -n 6000 --stop-after 1 --seed 3 --timeout 3s -q --json run.json --out reports "$@" -- "$PROG"
expect_rc "$NAME campaign" 1
TOKEN=$(first_token run.json)
run 200 "$WEDGE" minimize --timeout 3s "$TOKEN" -- "$PROG"
expect_rc "$NAME minimize" 1
N=$(sed -nE 's/^minimal: ([0-9]+) injected decisions? .*/\1/p' "$OUT")
if [ -n "$N" ] && [ "$N" -le 3 ] && grep -qE '^  1\. T[0-9]+ .*preempted' "$OUT" && grep -qE '^  [0-9]+\. So: ' "$OUT"; then
    pass "$NAME: $N injected decision(s), told as numbered sentences"
else
    fail "$NAME: minimize gave no story of at most 3 decisions"
    show_output
fi
REPLAY=$(sed -n 's/^replay: //p' "$OUT")
STEPS=$(echo "$REPLAY" | sed -nE 's/.*--steps ([0-9,-]+).*/\1/p')
if [ -z "$STEPS" ]; then
    fail "$NAME: no replay line with --steps"
    show_output
    e2e_finish
fi
run 300 "$WEDGE" replay --runs 100 --steps "$STEPS" --timeout 3s -q --json replay.json "$TOKEN" -- "$PROG"
expect_rc "$NAME minimized replay" 1
expect_json "$NAME minimized token reproduces >= 95 of 100" replay.json "j['reproduced'] >= 95"
e2e_finish
