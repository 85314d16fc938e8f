#!/bin/bash
# memory_focus.sh WEDGE TARGETS SHIM
# Focused watching (issue 8, item 4; cli/portfolio.c "Focused watching"): the shim lists the
# pages a run saw shared, an auto campaign pools them, and the runs of the focused arm
# (serial.random.m.g, out of the default) watch only one to four of them, named in the token's
# PAGES field (w1.serial.random.m.gKEY...), as the default's rf runs watch their pairs' pages
# (what finds late_page: e2e.auto.find.late_page).
#  - job_claim_rust_fixed (many shared pages: Rust's runtime and the program's): a campaign
#    of the focused arm beside serial.random.m passes, pools the pages, runs focused runs;
#  - a focused token replays with one trace;
#  - on lost_increment (the counter's page is the one page shared), focus on that page finds
#    the lost write as watching every page does, while focus on a page no run has (key
#    00000001) protects nothing: no trap, and the race (no call in its window) never shows.
#    With an RF field beside it, the same PAGES field only adds its page: the run traps.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"

RUST=$TARGETS/job_claim_rust_fixed
LOST=$TARGETS/lost_increment
[ -x "$LOST" ] || { fail "lost_increment: target not built"; e2e_finish; }

if [ -x "$RUST" ]; then
    # the focused arm (out of the default) beside the random walk that watches what it sees
    run 400 "$WEDGE" run --arms serial.random.m,serial.random.m.g -n 64 -j 2 --seed 7 -q --json rust.json -- "$RUST"
    expect_rc "job_claim_rust_fixed: 64 runs pass" 0
    expect_json "job_claim_rust_fixed: pages pooled, runs focused" rust.json \
        "j['shared_pages'] >= 2 and j['focused_runs'] >= 1 and len(j['pages']) == min(64, j['shared_pages']) and any(a['arm'] == 'serial.random.m.g' and a['runs'] for a in j['arms'])"
    KEY=$(json rust.json "sorted(j['pages'], key=lambda p: -p['runs'])[0]['page']")
    TOKEN=w1.serial.random.m.g$KEY.00000000000000a1
    run 200 "$WEDGE" replay --runs 4 -q --json rf.json "$TOKEN" -- "$RUST"
    expect_rc "job_claim_rust_fixed: focused token $TOKEN passes" 0
    expect_json "job_claim_rust_fixed: focused replays, one trace" rf.json \
        "j['passed'] == 4 and j['same_trace'] == 4 and j['traps'] > 0"
    # the same seed watching every page: another schedule (its traps are scheduling points)
    run 200 "$WEDGE" replay --runs 2 -q --json ru.json w1.serial.random.m.00000000000000a1 -- "$RUST"
    expect_rc "job_claim_rust_fixed: unfocused token passes" 0
    expect_json "job_claim_rust_fixed: unfocused replays trap" ru.json "j['traps'] > 0"
else
    echo "SKIP part: job_claim_rust_fixed not built (no cargo)"
fi

# the page lost_increment's threads share, as a campaign pools it
run 200 "$WEDGE" run --arms serial.random.m -n 16 -j 2 --seed 3 -q --json li.json -- "$LOST"
expect_json "lost_increment: one page seen shared" li.json "j['shared_pages'] >= 1"
KEY=$(json li.json "sorted(j['pages'], key=lambda p: -p['runs'])[0]['page']")
found_focus=0 found_none=0 traps_none=0
for s in $(seq 1 30); do
    seed=$(printf '%016x' "$s")
    run 60 "$WEDGE" replay -q --json f.json "w1.serial.random.m.g$KEY.$seed" -- "$LOST"
    [ "$RC" -eq 1 ] && found_focus=$((found_focus + 1))
    run 60 "$WEDGE" replay -q --json n.json "w1.serial.random.m.g00000001.$seed" -- "$LOST"
    [ "$RC" -eq 1 ] && found_none=$((found_none + 1))
    traps_none=$((traps_none + $(json n.json "j['traps']")))
done
if [ "$found_focus" -ge 5 ]; then
    pass "lost_increment: focused on page $KEY, $found_focus of 30 seeds lose a write"
else
    fail "lost_increment: focused on page $KEY, only $found_focus of 30 seeds lose a write"
fi
if [ "$found_none" -eq 0 ] && [ "$traps_none" -eq 0 ]; then
    pass "lost_increment: focused on no page, no trap and no lost write in 30 seeds"
else
    fail "lost_increment: focused on no page, $found_none of 30 failed, $traps_none traps"
fi
# beside an RF field the PAGES field only adds pages: the run watches what it sees shared too
run 60 "$WEDGE" replay -q --json g.json "w1.serial.random.m.g00000001.rn1-2.0000000000000001" -- "$LOST"
expect_json "lost_increment: an RF token's pages add to what it watches" g.json "j['traps'] > 0"
e2e_finish
