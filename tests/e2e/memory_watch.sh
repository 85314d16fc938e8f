#!/bin/bash
# memory_watch.sh WEDGE TARGETS SHIM NAME [RUN OPTIONS...]
# A race with no call inside its window (plain loads and stores of shared memory): a serial
# campaign that watches memory finds it, and the token replays it.
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
NAME=$1
shift
PROG=$TARGETS/$NAME

run 300 "$WEDGE" run --mode serial --watch mem -n 2000 --stop-after 1 -q --json run.json --out reports "$@" -- "$PROG"
expect_rc "$NAME --watch mem" 1
expect_token "$NAME: memory-watch" run.json '^w1\.serial\.[a-z0-9-]+\.[a-z]*m[a-z]*\.[0-9a-f]{16}$'
run 200 "$WEDGE" replay --runs 20 --json replay.json "$TOKEN" -- "$PROG"
expect_rc "$NAME replay" 1
expect_json "$NAME replay reproduces >= 10 of 20" replay.json "j['reproduced'] >= 10"
e2e_finish
