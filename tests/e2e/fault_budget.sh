#!/bin/bash
# fault_budget.sh WEDGE TARGETS SHIM
# The noise confirmation step (replays of the first reproductions) keeps to --time-budget;
# --stop-after still leaves it its replays; SIGINT during it says "interrupted", writes
# "interrupted": true and keeps the results (issue 7, item 8).
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
# Fails every run, 0.5 s each: 6 tokens x 8 replays would add 12 s on 2 jobs.
SLOW='sleep 0.5; exit 3'

start=$(date +%s%N)
run 120 "$WEDGE" run --time-budget 2s -j 2 -q --json budget.json --out reports -- /bin/sh -c "$SLOW"
took=$(( ($(date +%s%N) - start) / 1000000 ))
expect_rc "failing campaign under --time-budget 2s" 1
# 2 s of budget, the runs in flight at its end (0.5 s), start-up (slow on a loaded machine):
# far below the 14 s that the confirmation took when it ignored the budget.
if [ "$took" -lt 9000 ]; then
    pass "--time-budget 2s ended in ${took} ms"
else
    fail "--time-budget 2s took ${took} ms"
    show_output
fi
expect_json "budget: stopped by it" budget.json "j['stopped'] == 'time-budget' and j['interrupted'] == False"
expect_json "budget: reproductions kept" budget.json "len(j['reproductions']) >= 2"

# --stop-after: the confirmation still runs (its 8 replays, here all failing alike).
run 120 "$WEDGE" run --mode noise --stop-after 1 -j 2 -q --json stop.json --out reports -- /bin/sh -c 'exit 3'
expect_rc "--stop-after 1" 1
expect_json "--stop-after: confirmed 8 of 8" stop.json "j['stopped'] == 'stop-after' and j['reproductions'][0]['confirmed'] == {'reproduced': 8, 'of': 8}"

# SIGINT while confirming.
"$WEDGE" run --mode noise --stop-after 1 -j 2 -q --json int.json --out reports-int -- /bin/sh -c "$SLOW" \
    >int.out 2>int.err </dev/null &
WPID=$!
for _ in $(seq 300); do
    grep -q '^confirming' int.out && break
    sleep 0.1
done
if grep -q '^confirming' int.out; then pass "confirmation started"; else fail "no confirmation step"; fi
sleep 0.3
kill -INT "$WPID"
wait "$WPID"
RC=$?; OUT=int.out; ERR=int.err
expect_rc "SIGINT during confirmation (a reproduction was found)" 1
expect_output "says interrupted" "wedge: interrupted while confirming"
expect_json "JSON: interrupted" int.json "j['interrupted'] == True and j['stopped'] == 'interrupted'"
expect_json "JSON: the reproduction kept" int.json "len(j['reproductions']) == 1 and j['reproductions'][0]['report'] is not None"
if [ -s "$(json int.json "j['reproductions'][0]['report']")" ]; then
    pass "its report file is there"
else
    fail "its report file is missing"
fi
e2e_finish
