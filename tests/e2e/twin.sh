#!/bin/bash
# twin.sh WEDGE TARGETS SHIM NAME RUNS [RUN OPTIONS...] [-- TARGET ARGS...]
#   (E2E_LIMIT: seconds for the campaign, 280)
# The false-positive guard: a fixed twin (or a correct program) never fails under wedge.
# A TARGET ARG @NAME stands for the path of the target NAME (a wrapper's program).
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
NAME=$1
RUNS=$2
shift 2
PROG=$TARGETS/$NAME
[ -x "$PROG" ] || { fail "$NAME: target not built ($PROG)"; e2e_finish; }
OPTS=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    OPTS+=("$1")
    shift
done
[ $# -gt 0 ] && shift
ARGS=()
for a in "$@"; do
    case $a in @*) ARGS+=("$TARGETS/${a#@}") ;; *) ARGS+=("$a") ;; esac
done

start=$(date +%s.%N)
run "${E2E_LIMIT:-280}" "$WEDGE" run -n "$RUNS" -q --json run.json --out reports "${OPTS[@]}" -- "$PROG" "${ARGS[@]}"
end=$(date +%s.%N)
echo "  ($RUNS runs of $NAME ${ARGS[*]} ${OPTS[*]} took $(python3 -c "print(round($end - $start, 1))") s)"
expect_rc "$NAME ${ARGS[*]} x$RUNS ${OPTS[*]}" 0
expect_json "$NAME no reproduction" run.json "j['reproductions'] == []"
expect_json "$NAME all runs finished" run.json "j['runs'] == $RUNS"
e2e_finish
