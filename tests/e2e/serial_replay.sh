#!/bin/bash
# serial_replay.sh WEDGE TARGETS SHIM NAME RUNS [RUN OPTIONS...]
# Replay fidelity in serial mode: a reproduction found by a serial campaign replays exactly,
# 100 times out of 100, with the same trace hash every time.
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
NAME=$1
RUNS=$2
shift 2
PROG=$TARGETS/$NAME

run 300 "$WEDGE" run --mode serial -n "$RUNS" --stop-after 1 -q --json run.json --out reports "$@" -- "$PROG"
expect_rc "$NAME serial campaign $*" 1
expect_token "$NAME: serial" run.json '^w1\.serial\.'
run 200 "$WEDGE" replay --runs 100 --json replay.json "$TOKEN" -- "$PROG"
expect_rc "$NAME replay x100" 1
expect_json "$NAME replay runs" replay.json "j['runs'] == 100"
expect_json "$NAME reproduced 100 of 100" replay.json "j['reproduced'] == 100"
expect_json "$NAME same trace 100 of 100" replay.json "j['same_trace'] == 100"
e2e_finish
