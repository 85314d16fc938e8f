#!/bin/bash
# minimize_story.sh WEDGE TARGETS SHIM NAME [RUN OPTIONS...]
# A serial campaign finds a token; wedge minimize brings it down to at most 3 injected
# decisions, told as numbered sentences, ending in a new token (the original with the kept
# steps) that reproduces the failure in at least 95 of 100 replays with nothing else.
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
run 200 "$WEDGE" minimize --timeout 3s --json min.json "$TOKEN" -- "$PROG"
expect_rc "$NAME minimize" 1
N=$(sed -nE 's/^minimal: ([0-9]+) injected decisions? .*/\1/p' "$OUT")
if [ -n "$N" ] && [ "$N" -le 3 ] && grep -qE '^  1\. T[0-9]+ .*preempted' "$OUT" && grep -qE '^  [0-9]+\. So: ' "$OUT"; then
    pass "$NAME: $N injected decision(s), told as numbered sentences"
else
    fail "$NAME: minimize gave no story of at most 3 decisions"
    show_output
fi
# The story ends in a new token that carries the kept steps: replayed with nothing else, it
# must reproduce; minimize --json gives the same token.
NEWTOKEN=$(sed -n 's/^token: //p' "$OUT")
JTOKEN=$(json min.json "(j.get('minimized') or {}).get('token') or ''")
STEPS=$(json min.json "(j.get('minimized') or {}).get('steps') or ''")
if [[ "$NEWTOKEN" =~ ^w1\.serial\..*\.s[0-9_-]+\.[0-9a-f]{16}$ ]] && [ "$NEWTOKEN" = "$JTOKEN" ] &&
   grep -qF "replay: wedge replay $NEWTOKEN " "$OUT"; then
    pass "$NAME: minimized token $NEWTOKEN (story, replay line and --json agree)"
else
    fail "$NAME: no minimized token in the story and --json (story '$NEWTOKEN', json '$JTOKEN')"
    show_output
    e2e_finish
fi
run 300 "$WEDGE" replay --runs 100 --timeout 3s -q --json replay.json "$NEWTOKEN" -- "$PROG"
expect_rc "$NAME minimized token replay" 1
expect_json "$NAME minimized token reproduces >= 95 of 100" replay.json "j['reproduced'] >= 95"
# --steps on the original token still makes the same schedule
run 120 "$WEDGE" replay --runs 5 --steps "$STEPS" --timeout 3s -q --json steps.json "$TOKEN" -- "$PROG"
expect_rc "$NAME --steps replay" 1
expect_json "$NAME --steps on the original token reproduces 5 of 5" steps.json "j['reproduced'] == 5"
e2e_finish
