#!/bin/bash
# minimize_noise.sh WEDGE TARGETS SHIM NAME
# A noise campaign finds a token; wedge minimize narrows it down to the sites where wedge must
# act, then to the fewest decisions (by process, thread and the thread's draw index), and ends
# in a new token with a DECISIONS field that reproduces the failure by itself.  Noise replay
# is statistical: the token must reproduce in some of 40 replays (it does in about 60%).
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
NAME=$1
shift
PROG=$TARGETS/$NAME

run 200 "$WEDGE" run --mode noise -n 600 --stop-after 1 --seed 3 --timeout 3s -q --json run.json --out reports "$@" -- "$PROG"
expect_rc "$NAME campaign" 1
TOKEN=$(first_token run.json)
# a trial is 20 replays, so a run of minimize may stop at the sites (a subset that fails
# about as often as the bar, missed by chance): up to 3 runs of it
for try in 1 2 3; do
    run 300 "$WEDGE" minimize --timeout 3s --json min.json "$TOKEN" -- "$PROG"
    [ "$(json min.json "(j.get('minimized') or {}).get('by')")" = decisions ] && break
done
expect_rc "$NAME minimize" 1
expect_json "$NAME minimized by decisions" min.json "j['minimized']['by'] == 'decisions' and 1 <= j['minimized']['kept'] <= 3"
NEWTOKEN=$(json min.json "(j.get('minimized') or {}).get('token') or ''")
if [[ "$NEWTOKEN" =~ ^w1\.noise\..*\.d[0-9px_s]+\.[0-9a-f]{16}$ ]] && grep -qF "token: $NEWTOKEN" "$OUT" &&
   grep -qE '^  1\. T[0-9]+ reached .*; wedge ' "$OUT"; then
    pass "$NAME: minimized noise token $NEWTOKEN, told as numbered sentences"
else
    fail "$NAME: no minimized noise token with a story (json '$NEWTOKEN')"
    show_output
    e2e_finish
fi
run 300 "$WEDGE" replay --runs 40 --timeout 3s -q --json replay.json "$NEWTOKEN" -- "$PROG"
expect_json "$NAME minimized noise token reproduces" replay.json "j['reproduced'] >= 2"
e2e_finish
