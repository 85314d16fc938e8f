#!/bin/bash
# auto_find.sh WEDGE TARGETS SHIM [--arms LIST] NAME RUNS SEED [PROGRAM ARGS...]
# The default (--mode auto; or its arms LIST alone) finds a bug shape of issue 8 within RUNS
# runs (a campaign size
# scripts/bench/finding shows safe: its median is far below), and the token it reports
# replays: 10 of 10 with the same trace hash when it is an exact serial token, at least once
# in 10 otherwise.
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
ARMS=()
if [ "$1" = --arms ]; then
    ARMS=(--arms "$2")
    shift 2
fi
NAME=$1
RUNS=$2
SEED=$3
shift 3
PROG=$TARGETS/$NAME
[ -x "$PROG" ] || { fail "$NAME: target not built ($PROG)"; e2e_finish; }

run 250 "$WEDGE" run "${ARMS[@]}" -n "$RUNS" --stop-after 1 --seed "$SEED" -q --json run.json --out reports -- "$PROG" "$@"
expect_rc "the default ${ARMS[*]} on $NAME $*" 1
expect_json "mode auto" run.json "j['mode'] == 'auto'"
expect_token "$NAME" run.json
echo "  (at run $(json run.json "j['reproductions'][0]['run']") by $(json run.json "j['reproductions'][0]['arm']"))"
run 200 "$WEDGE" replay --runs 10 -j 2 --json rep.json "$TOKEN" -- "$PROG" "$@"
expect_rc "replay $TOKEN" 1
if [ "$(json run.json "j['reproductions'][0]['exact']")" = true ]; then
    expect_json "an exact token: 10 of 10 reproduced, same trace" rep.json "j['reproduced'] == 10 and j['same_trace'] == 10"
else
    expect_json "reproduced at least once in 10" rep.json "j['reproduced'] >= 1"
fi
e2e_finish
