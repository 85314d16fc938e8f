#!/bin/bash
# story.sh WEDGE TARGETS SHIM NAME [RUN OPTIONS...]
# A buggy story target: a campaign finds it and reports a token, and replaying the token
# reproduces the failure in at least half of 20 replays.
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
NAME=$1
shift
PROG=$TARGETS/$NAME
[ -x "$PROG" ] || { fail "$NAME: target not built ($PROG)"; e2e_finish; }

run 300 "$WEDGE" run -n 2000 --stop-after 3 -q --json run.json --out reports "$@" -- "$PROG"
expect_rc "$NAME campaign" 1
expect_output "$NAME campaign names a token" 'w1\.[a-z]+\.'
expect_token "$NAME" run.json
expect_json "$NAME reproductions" run.json "1 <= len(j['reproductions']) <= 3"
if [ -d reports ] && [ -n "$(ls -A reports)" ]; then
    pass "$NAME: reports written under --out"
else
    fail "$NAME: nothing written under --out reports/"
fi

run 200 "$WEDGE" replay --runs 20 --json replay.json "$TOKEN" -- "$PROG"
expect_rc "$NAME replay" 1
expect_json "$NAME replay runs" replay.json "j['runs'] == 20"
expect_json "$NAME replay reproduces >= 10 of 20" replay.json "j['reproduced'] >= 10"
expect_output "$NAME replay prints its tally" 'reproduced [0-9]+ of 20'
e2e_finish
