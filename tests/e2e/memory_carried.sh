#!/bin/bash
# memory_carried.sh WEDGE TARGETS SHIM NAME
# Trapped accesses are carried out by the fault handler, not single-stepped (memwatch_trap.c,
# src/wedge_mw_move.c): on a program whose threads do every kind of memory operation on
# shared pages (watched_ops_ok and its -O2 build), watched serial and noise runs all pass
# and step almost none of their traps; with WEDGE_MW_STEP=1 the same runs step every trap
# and pass too (the two paths side by side), and a serial run's trace is the same either
# way (the same token replayed both ways: one trace hash).
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
NAME=$1
PROG=$TARGETS/$NAME
[ -x "$PROG" ] || { fail "$NAME: target not built ($PROG)"; e2e_finish; }

for arm in serial.random.m noise.random.m serial.pos.m.rf; do
    run 200 "$WEDGE" run --arms "$arm" -n 40 --seed 9 -q --json "c-$arm.json" -- "$PROG"
    expect_rc "$NAME $arm: 40 runs pass" 0
    expect_json "$NAME $arm: traps carried out" "c-$arm.json" \
        "[(a['traps'], a['traps_stepped']) for a in j['arms'] if a['runs']] and all(t > 1000 * 40 and s * 50 < t for t, s in [(a['traps'], a['traps_stepped']) for a in j['arms'] if a['runs']])"
done
WEDGE_MW_STEP=1 run 300 "$WEDGE" run --arms serial.random.m -n 20 --seed 9 -q --json s.json -- "$PROG"
expect_rc "$NAME stepped: 20 runs pass" 0
expect_json "$NAME stepped: every trap stepped" s.json \
    "all(a['traps'] > 0 and a['traps_stepped'] * 100 >= a['traps'] * 99 for a in j['arms'] if a['runs'])"
# one serial token, replayed carried out and stepped: the same trace
TOKEN=w1.serial.random.m.00000000000000a1
run 200 "$WEDGE" replay --runs 4 -q --json r1.json "$TOKEN" -- "$PROG"
WEDGE_MW_STEP=1 run 200 "$WEDGE" replay --runs 4 -q --json r2.json "$TOKEN" -- "$PROG"
expect_json "$NAME replay carried out: passes, one trace" r1.json "j['reproduced'] == 0 and j['passed'] == 4 and j['same_trace'] == 4"
expect_json "$NAME replay stepped: passes, one trace" r2.json "j['reproduced'] == 0 and j['passed'] == 4 and j['same_trace'] == 4"
expect_same_json "$NAME: the same trace carried out and stepped" r1.json r2.json "j.get('trace_hash', '')"
e2e_finish
