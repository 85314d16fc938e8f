#!/bin/bash
# memory_cheap.sh WEDGE TARGETS SHIM RUNS MAX_TRAPS
# Cheaper watching (issue 8): watched_locks_ok, whose locks and counters share watched pages,
# passes RUNS runs of every watching arm and of the default, and each serial watching arm's
# traps per run stay under MAX_TRAPS (libc's trylocks and unlocks on a watched page are made
# with the page opened, and a serial process with one live thread protects nothing).
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
RUNS=$1
MAX=$2
PROG=$TARGETS/watched_locks_ok

run 200 "$WEDGE" run -n "$RUNS" -j 2 --seed 5eed -q --arms serial.random.m,serial.pct3.m,serial.pos.m,noise.random.m --timeout 10s --json t.json --out rt -- "$PROG"
expect_rc "watched_locks_ok x$RUNS under the watching arms" 0
expect_json "watched_locks_ok all runs finished" t.json "j['runs'] == $RUNS"
echo "  traps per run: $(json t.json "', '.join('%s %.0f' % (a['arm'], a['traps'] / max(a['runs'], 1)) for a in j['arms'])")"
expect_json "serial traps per run under $MAX" t.json "all(a['runs'] > 0 and a['traps'] / a['runs'] < $MAX for a in j['arms'] if a['arm'].startswith('serial'))"
for opts in "--mode serial --watch mem" "--mode noise --watch mem" ""; do
    run 200 "$WEDGE" run -n "$RUNS" -j 2 --seed 5eed -q --timeout 10s --json m.json --out rm $opts -- "$PROG"
    expect_rc "watched_locks_ok x$RUNS ${opts:-(default)}" 0
done
e2e_finish
