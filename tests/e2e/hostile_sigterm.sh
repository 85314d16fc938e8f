#!/bin/bash
# hostile_sigterm.sh WEDGE TARGETS SHIM
# A target that blocks SIGTERM and sleeps forever: each run is a hang after --timeout, the
# campaign ends in bounded time, and afterwards none of its processes is left.
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
PROG=$(unique_copy ignores_sigterm_forever) || { fail "copy target"; e2e_finish; }

start=$(date +%s)
run 120 "$WEDGE" run --timeout 300ms -n 4 -j 2 -q --json run.json --out reports -- "$PROG"
took=$(($(date +%s) - start))
expect_rc "hang campaign" 1
expect_json "hang outcome" run.json "len(j['reproductions']) >= 1 and all(r['outcome']['kind'] == 'hang' for r in j['reproductions'])"
expect_json "all 4 runs counted" run.json "j['runs'] == 4"
if [ "$took" -le 30 ]; then
    pass "4 hung runs of 300ms ended in ${took}s"
else
    fail "4 hung runs of 300ms took ${took}s"
fi
no_process_left "after the hang campaign" "$PROG"
e2e_finish
