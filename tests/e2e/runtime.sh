#!/bin/bash
# runtime.sh WEDGE TARGETS SHIM KIND NAME RUNS [RUN OPTIONS...] [-- PROGRAM ARGS...]
# Programs beyond pthread calls (issue 10): futex-based locks, Rust, Python.
#   KIND story: a campaign of at most RUNS runs finds the failure (exit 1, a token) and the
#               token reproduces it at least once in 10 replays;
#   KIND find:  the campaign finds it; no replay check (a noise token of a story whose failure
#               shows in a few runs in 100 replays at about that rate: 10 replays may all pass);
#   KIND exact: the same, in serial mode, and the token replays 10 of 10 with the same trace
#               hash (single-process programs: a run of several processes is not exact),
#               but for replays that say they are not exact (at most 3);
#   KIND twin:  RUNS runs, none fails.
# NAME is a program in TARGETS, or a .py file in the source tree's tests/targets, run with
# /usr/bin/python3 (CPython 3.11 on Debian 12; `python3` on PATH may be a pyenv shim).  A target
# that could not be built (no rustc) or no /usr/bin/python3: skipped, saying why.
source "$(dirname "$0")/lib.sh"
SRC_TARGETS=$(cd "$(dirname "$0")/../targets" && pwd)
e2e_init "$@"
shift "$E2E_ARGS_USED"
KIND=$1
NAME=$2
RUNS=$3
shift 3
RUN_OPTS=()
PROG_ARGS=()
while [ $# -gt 0 ]; do
    if [ "$1" = -- ]; then
        shift
        PROG_ARGS=("$@")
        break
    fi
    RUN_OPTS+=("$1")
    shift
done
set -- "${RUN_OPTS[@]}"
case $NAME in
*.py)
    [ -x /usr/bin/python3 ] || skip_test "/usr/bin/python3 not installed: $NAME not run"
    CMD=(/usr/bin/python3 "$SRC_TARGETS/$NAME")
    ;;
*)
    if [ ! -x "$TARGETS/$NAME" ]; then
        case $NAME in
        *rust*) skip_test "$NAME not built: no rustc (scripts/setup installs Debian's rustc)" ;;
        *) fail "$NAME: target not built ($TARGETS/$NAME)"; e2e_finish ;;
        esac
    fi
    CMD=("$TARGETS/$NAME")
    ;;
esac
CMD+=("${PROG_ARGS[@]}")

if [ "$KIND" = twin ]; then
    run "${E2E_LIMIT:-200}" "$WEDGE" run -n "$RUNS" -q --json run.json --out reports "$@" -- "${CMD[@]}"
    expect_rc "$NAME x$RUNS $*" 0
    expect_json "$NAME no reproduction" run.json "j['reproductions'] == []"
    expect_json "$NAME all runs finished" run.json "j['runs'] == $RUNS"
    e2e_finish
fi

run "${E2E_LIMIT:-200}" "$WEDGE" run -n "$RUNS" --stop-after 1 -q --json run.json --out reports "$@" -- "${CMD[@]}"
expect_rc "$NAME campaign $*" 1
expect_token "$NAME" run.json
[ "$KIND" = find ] && e2e_finish
# the token carries the mode; the other run options (--timeout) apply to replay too
REPLAY_OPTS=()
skip_next=0
for a in "$@"; do
    if [ $skip_next = 1 ]; then skip_next=0; continue; fi
    if [ "$a" = --mode ]; then skip_next=1; continue; fi
    REPLAY_OPTS+=("$a")
done
run 200 "$WEDGE" replay --runs 10 --json replay.json "${REPLAY_OPTS[@]}" "$TOKEN" -- "${CMD[@]}"
expect_rc "$NAME replay x10" 1
if [ "$KIND" = exact ]; then
    # A replay the watchdog broke says so (not exact: an interpreter's read or write outside
    # the model slept past its grace period on a loaded machine); every other replay must
    # have the same trace and fail, and at most 3 of 10 may be broken so.
    echo "  (replays not exact: $(json replay.json "j['inexact']"))"
    expect_json "$NAME at most 3 of 10 replays not exact" replay.json "j['inexact'] <= 3"
    expect_json "$NAME reproduced by every exact replay" replay.json "j['reproduced'] >= 10 - j['inexact']"
    expect_json "$NAME same trace in every exact replay" replay.json "j['same_trace'] == 10 - j['inexact']"
else
    expect_json "$NAME reproduced at least once in 10" replay.json "j['reproduced'] >= 1"
fi
e2e_finish
