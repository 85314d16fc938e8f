#!/bin/bash
# auto_determinism.sh WEDGE TARGETS SHIM NAME SEED RUNS [PROGRAM ARG [ARMS [JOBS [EXPECT]]]]
# --mode auto learns from its runs in epochs, never in completion order: with deterministic
# runs (serial arms on a single-process program) the same --seed gives the same arm for every
# run and the same failing tokens at -j 1 and -j 2; every serial token it found replays with
# the same trace hash; and with noise arms in the mix the arms of the first epochs (drawn
# before any feedback) are still the same.  JOBS: a third campaign at -j JOBS gives the same
# arms and failing tokens too (an rf run's lag grows past 2 for that: cli/portfolio.c rf_lag).
# ARG `-`: the program takes no argument (to give ARMS after it).  EXPECT: a condition on the
# first campaign's JSON `j` (that the case under test arose in it).
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
NAME=$1
SEED=$2
RUNS=$3
ARG=${4:-}
[ "$ARG" = - ] && ARG=
PROG=$TARGETS/$NAME
ARMS=${5:-serial.random,serial.pct2,serial.pct3,serial.pos,serial.random.m,serial.pct3.m,serial.pos.m}
JOBS=${6:-}
EXPECT=${7:-}

run 250 "$WEDGE" run --arms "$ARMS" --seed "$SEED" -n "$RUNS" -j 2 -q --json a.json --out ra -- "$PROG" $ARG
RC_A=$RC
run 250 "$WEDGE" run --arms "$ARMS" --seed "$SEED" -n "$RUNS" -j 1 -q --json b.json --out rb -- "$PROG" $ARG
RC_B=$RC
if [ "$RC_A" -eq 1 ] && [ "$RC_B" -eq 1 ]; then
    pass "both campaigns reproduced (exit 1)"
else
    fail "campaign exits $RC_A and $RC_B, expected 1 and 1 (the comparison needs failures)"
fi
expect_json "mode auto" a.json "j['mode'] == 'auto'"
expect_json "every run's arm listed" a.json "len(j['run_arms']) == $RUNS"
expect_json "more than one arm ran" a.json "len(set(j['run_arms'])) >= 3"
[ -n "$EXPECT" ] && expect_json "the case under test arose" a.json "$EXPECT"
ARMSEQ="','.join(j['run_arms'])"
if [ "$(json a.json "$ARMSEQ")" = "$(json b.json "$ARMSEQ")" ]; then
    pass "same arm for every run at -j 2 and -j 1"
else
    fail "the arms of the runs differ between -j 2 and -j 1"
fi
N=$(json a.json "len(j['reproductions'])")
LIST="sorted((r['run'], r['token'], r['arm']) for r in j['reproductions'])"
expect_same_json "same $N failing runs, tokens and arms in both campaigns" a.json b.json "$LIST"
if [ -n "$JOBS" ]; then
    run 250 "$WEDGE" run --arms "$ARMS" --seed "$SEED" -n "$RUNS" -j "$JOBS" -q --json d.json --out rd -- "$PROG" $ARG
    expect_same_json "same arms at -j $JOBS as at -j 1" d.json b.json "$ARMSEQ"
    expect_same_json "same failing tokens at -j $JOBS as at -j 1" d.json b.json "$LIST"
fi
expect_json "each token is its arm's" a.json "all(r['token'].startswith('w1.' + r['arm'].split('.')[0] + '.' + r['arm'].split('.')[1].rstrip('0123456789')) for r in j['reproductions'])"
expect_json "per-arm reproductions add up" a.json "sum(a['reproductions'] for a in j['arms']) == len(j['reproductions'])"

# The serial tokens auto found replay exactly: one token of each arm that found something.
TOKENS=$(json a.json "' '.join({r['arm']: r['token'] for r in j['reproductions'] if r['exact']}.values())")
for T in $TOKENS; do
    run 120 "$WEDGE" replay --runs 10 -j 2 --json rep.json "$T" -- "$PROG" $ARG
    expect_rc "replay $T" 1
    expect_json "replay $T: 10 of 10 reproduced, same trace" rep.json "j['reproduced'] == 10 and j['same_trace'] == 10"
done

# With noise arms (the default portfolio) the first two epochs' arms are drawn before any
# feedback: the same for the same seed, whatever happened in the runs.
run 250 "$WEDGE" run --seed "$SEED" -n 16 -j 2 -q --json c.json --out rc -- "$PROG" $ARG
run 250 "$WEDGE" run --seed "$SEED" -n 16 -j 1 -q --json d.json --out rd -- "$PROG" $ARG
if [ "$(json c.json "$ARMSEQ")" = "$(json d.json "$ARMSEQ")" ] && [ -n "$(json c.json "$ARMSEQ")" ]; then
    pass "default portfolio: same arms for the runs drawn before feedback"
else
    fail "default portfolio: the first 16 runs' arms differ"
fi
e2e_finish
