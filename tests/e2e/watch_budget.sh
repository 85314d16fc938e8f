#!/bin/bash
# watch_budget.sh WEDGE TARGETS SHIM NAME RUNS ARMS MAX_TRAPS
# A watched run's cost stays bounded on a program of many threads: the fixed twin NAME_fixed
# passes RUNS runs of the watching ARMS, each arm's traps per run (from the JSON) stay under
# MAX_TRAPS, and NAME itself is still found by those arms.
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
NAME=$1
RUNS=$2
ARMS=$3
MAX=$4

run 200 "$WEDGE" run -n "$RUNS" -j 2 --seed 5eed -q --arms "$ARMS" --timeout 10s --json t.json --out rt -- "$TARGETS/${NAME}_fixed"
expect_rc "${NAME}_fixed x$RUNS under $ARMS" 0
expect_json "${NAME}_fixed all runs finished" t.json "j['runs'] == $RUNS"
echo "  traps per run: $(json t.json "', '.join('%s %.0f' % (a['arm'], a['traps'] / max(a['runs'], 1)) for a in j['arms'])")"
expect_json "traps per run under $MAX" t.json "all(a['runs'] > 0 and a['traps'] / a['runs'] < $MAX for a in j['arms'])"
run 200 "$WEDGE" run -n 40 -j 2 --seed 5eed -q --arms "$ARMS" --stop-after 1 --timeout 10s --json f.json --out rf -- "$TARGETS/$NAME"
expect_rc "$NAME still found by $ARMS" 1
e2e_finish
