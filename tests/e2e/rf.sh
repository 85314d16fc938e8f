#!/bin/bash
# rf.sh WEDGE TARGETS SHIM
# Reads-from constraints (issue 8, the token's RF field, cli/portfolio.c): on ordering_many
# (N setters do `a = 1; b = -1;`, a checker created last must not see a == 1 && b == 0) the
# rf arm alone finds N=10, the default finds N=20 (POS, PCT and random walk with watching
# need more than 100 runs there: README, Issue 8 reads-from constraints); a found rf token
# replays exactly; a malformed RF field is a one-line usage error.
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
PROG=$TARGETS/ordering_many

# The rf arm pinned: its runs derive constraints from the pool of the runs before them.
run 120 "$WEDGE" run --arms serial.pos.m.rf --seed 5eed -n 100 --stop-after 1 -q --json a.json --out ra -- "$PROG" 10
expect_rc "serial.pos.m.rf on ordering_many 10" 1
expect_json "found by serial.pos.m.rf, its token with a constraint" a.json \
    "j['reproductions'][0]['arm'] == 'serial.pos.m.rf' and any(k in j['reproductions'][0]['token'] for k in ('.rn', '.re', '.rp')) and j['reproductions'][0]['exact']"
expect_json "the JSON counts pooled pairs and constrained runs" a.json "j['rf_pairs'] > 0 and j['rf_runs'] > 0"

# The same with a small alternate signal stack on every thread, as Rust gives them: memwatch's
# fault handler, where a hold is taken, runs on it (before the shim put a larger stack of its
# own in place, holds were skipped there and this campaign found nothing in 100 runs).
run 120 "$WEDGE" run --arms serial.pos.m.rf --seed 5eed -n 100 --stop-after 1 -q --json alt.json --out ralt -- "$PROG" 10 altstack
expect_rc "serial.pos.m.rf on ordering_many 10 with alternate signal stacks" 1

# The default (scripts/bench/finding: a median of a few runs on N=20; 300 is the margin).
run 200 "$WEDGE" run --seed 3 -n 300 --stop-after 1 -q --json d.json --out rd -- "$PROG" 20
expect_rc "the default on ordering_many 20" 1
echo "  (found at run $(json d.json "min(r['run'] for r in j['reproductions'])") by $(json d.json "j['reproductions'][0]['arm']"))"

# The token replays exactly: 100 of 100, the same trace hash.
T=$(json a.json "j['reproductions'][0]['token']")
run 200 "$WEDGE" replay --runs 100 -j 2 --json rep.json "$T" -- "$PROG" 10
expect_rc "replay $T" 1
expect_json "100 of 100 reproduced with the same trace hash" rep.json "j['reproduced'] == 100 and j['same_trace'] == 100"

# Hold points: pct_depth3's reads are under a lock, so its constraints hold a thread at the lock
# call that begins the critical section ("@TxN" in the token).  The rf arm pinned finds it
# (12 seeds, 2026-12-02: at most 34 runs, median 6; without hold points none in 100 runs)
# and its token replays exactly.
P3=$TARGETS/pct_depth3
run 120 "$WEDGE" run --arms serial.random.m.rf --seed 5eed -n 100 --stop-after 1 -q --json h.json --out rh -- "$P3"
expect_rc "serial.random.m.rf on pct_depth3" 1
expect_token "pct_depth3 by a constraint with a hold point" h.json '^w1\.serial\.random\.m(\.g[0-9a-f_]+)?\.r[a-z0-9_-]+@[0-9a-f]+x[0-9a-f]+[a-z0-9_@-]*\.[0-9a-f]{16}$'
run 200 "$WEDGE" replay --runs 100 -j 2 --json hrep.json "$TOKEN" -- "$P3"
expect_rc "replay $TOKEN" 1
expect_json "100 of 100 reproduced with the same trace hash" hrep.json "j['reproduced'] == 100 and j['same_trace'] == 100"
# Its report says where the campaign pushed the run: the constraint with its sites and the
# lock call it held at (the hold may lie long before the failure's last events).
if grep -q '^steered: ' rh/*.txt && grep -qE '^     held at T[0-9]+.s lock call [0-9]+' rh/*.txt &&
    grep -A1 '^steered: ' rh/*.txt | grep -q 'pct_depth3\.c:'; then
    pass "the report names the constraint, its sites and its hold point"
else
    fail "the report of $TOKEN has no steered: section with sites and a hold point"
    cat rh/*.txt | head -40
fi

# A malformed RF field: exit 2, one line that says what is wrong.
bad_rf() {
    run 30 "$WEDGE" replay "$1" -- "$PROG" 10
    expect_rc "token $1" 2
    if [ "$(wc -l < "$ERR")" -eq 1 ] && grep -qE "$2" "$ERR"; then
        pass "token $1: one line: $(cat "$ERR")"
    else
        fail "token $1: expected one line matching '$2'"
        show_output
    fi
}
bad_rf w1.serial.pos.m.rx1183-1199.00000000000000a1 "does not start with n"
bad_rf w1.serial.pos.m.rn1183.00000000000000a1 "is not nWRITE-READ"
bad_rf w1.serial.pos.m.rp0-1199.00000000000000a1 "pin needs a write site"
bad_rf w1.serial.pos.m.re0-1199.00000000000000a1 "each needs a write site"
bad_rf w1.noise.random.rn1183-1199.00000000000000a1 "needs serial mode"
bad_rf w1.serial.pos.m.rn1183-1199@2.00000000000000a1 "hold point is not"
bad_rf w1.serial.pos.m.rn0-1199@2x1.00000000000000a1 "needs its object"
e2e_finish
