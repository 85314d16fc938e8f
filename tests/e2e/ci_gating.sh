#!/bin/bash
# ci_gating.sh WEDGE TARGETS SHIM SCHEMA
# Gating CI (issue 11): what a clean campaign proves (summary and JSON), --confidence and
# --max-rate, JUnit against the shipped JUnit schema (xmllint), shard reports merged into
# exactly the unsharded campaign (noise and serial), merges refused, --shard-from-env, and
# --corpus (old tokens first, no duplicates, a fixed token reported).
source "$(dirname "$0")/lib.sh"
# (campaigns pinned to --mode noise: their tokens and outcomes are compared across shards and
# corpus runs, which the default portfolio, learning per shard, does not promise)
e2e_init "$@"
shift "$E2E_ARGS_USED"
SCHEMA=$1
PY=/usr/bin/python3

# A program whose failure is a pure function of its token: noise mode's timing cannot change
# its outcome, so a sharded noise campaign must find exactly the unsharded one's failures.
# (It reads WEDGE_TOKEN, the protocol's variable, as a test fixture only.)
COIN=(/bin/sh -c 'test -n "${COIN_FIXED:-}" && exit 0; case $WEDGE_TOKEN in *[0-3]) echo "coin: lost"; exit 1;; *4) echo "coin: torn"; exit 3;; esac; exit 0')

# --- what a clean run proves
run 400 "$WEDGE" run --mode noise -n 3000 -q --seed 5eed --json clean.json --junit clean.xml -- "$TARGETS/trivial_ok"
expect_rc "clean campaign" 0
expect_output "clean: the statement" '^0 reproductions in 3,000 runs: at 95% confidence the per-run failure probability under this configuration is below 0\.1%$'
expect_json "clean: JSON statement" clean.json "j['confidence']['statement'] == '0 reproductions in 3,000 runs: at 95% confidence the per-run failure probability under this configuration is below 0.1%'"
expect_json "clean: JSON bound" clean.json "abs(j['confidence']['upper_bound'] - (1 - 0.05 ** (1 / 3000))) < 1e-8 and j['confidence']['level'] == 0.95 and j['confidence']['failures'] == 0"
expect_json "clean: shard/campaign_runs" clean.json "j['shard'] == '1/1' and j['campaign_runs'] == 3000"

run 120 "$WEDGE" run --mode noise --confidence 99% --max-rate 1% -q --seed 5eed --json gate.json -- "$TARGETS/trivial_ok"
expect_rc "--max-rate gate" 0
expect_output "--max-rate: says how many runs at start" '^gate: 459 runs: with 0 reproductions in them, the per-run failure probability is below 1% at 99% confidence'
expect_json "--max-rate: ran that many" gate.json "j['runs'] == 459 and j['confidence']['met'] is True and j['confidence']['max_rate'] == 0.01 and j['confidence']['level'] == 0.99"
run 30 "$WEDGE" run --mode noise --max-rate 1% -n 10 -- "$TARGETS/trivial_ok"
expect_rc "--max-rate with --runs" 2
expect_output "--max-rate with --runs: why" 'give --runs or --max-rate'
run 30 "$WEDGE" run --mode noise --confidence 120% -- "$TARGETS/trivial_ok"
expect_rc "--confidence 120%" 2
run 30 "$WEDGE" run --mode noise --max-rate 0 -- "$TARGETS/trivial_ok"
expect_rc "--max-rate 0" 2

# --- JUnit against the schema: one test case per campaign, a failure per group with its report
if command -v xmllint >/dev/null; then
    run 30 xmllint --noout --schema "$SCHEMA" clean.xml
    expect_rc "clean JUnit validates against $(basename "$SCHEMA")" 0
else
    fail "xmllint missing (libxml2-utils, scripts/setup)"
fi
run 120 "$WEDGE" run --mode noise -n 60 -q --seed 5eed --json coin.json --junit coin.xml --out reports -- "${COIN[@]}"
expect_rc "coin campaign" 1
if command -v xmllint >/dev/null; then
    run 30 xmllint --noout --schema "$SCHEMA" coin.xml
    expect_rc "failing JUnit validates" 0
    echo '<testsuite name="x"><testcase/></testsuite>' >nameless.xml
    run 30 xmllint --noout --schema "$SCHEMA" nameless.xml
    expect_rc "the schema rejects a test case without name" 3
fi
if $PY - coin.xml coin.json <<'PY'
import json, sys, xml.etree.ElementTree as E
root = E.parse(sys.argv[1]).getroot()
j = json.load(open(sys.argv[2]))
cases = root.findall('.//testcase')
fails = cases[0].findall('failure') if len(cases) == 1 else []
ok = (len(cases) == 1 and len(fails) == len(j['groups']) == 2
      and all('reproduction: ' in f.text and 'threads (last events' in f.text for f in fails))
sys.exit(0 if ok else 1)
PY
then pass "JUnit: one test case, a failure per group with its report"; else fail "JUnit shape"; cat coin.xml | head -30; fi

# --- merge: shards joined equal the unsharded campaign
# same_campaign A B: runs, tokens (with their run indices), groups and counts are equal.
same_campaign() {
    $PY - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
def key(j):
    return (j['runs'], j['runs_requested'], j['passed'], j['seed'], j['mode'], j['campaign_runs'],
            sorted((r['run'], r['token'], r['signature']) for r in j['reproductions']),
            sorted((g['signature'], g['count']) for g in j['groups']),
            j['confidence']['statement'])
ka, kb = key(a), key(b)
if ka != kb:
    for x, y in zip(ka, kb):
        if x != y:
            print("  differ: %r vs %r" % (x, y))
    sys.exit(1)
print("  %d runs, %d reproductions in %d groups" % (a['runs'], len(a['reproductions']), len(a['groups'])))
PY
}

# shard_and_merge WHAT N RUNS ARGS... -- PROGRAM...: the unsharded campaign, then N shards as
# separate processes, then merge; compare.
shard_and_merge() {
    local what=$1 n=$2 runs=$3
    shift 3
    local opts=() k
    while [ "$1" != "--" ]; do opts+=("$1"); shift; done
    shift
    run 300 "$WEDGE" run -n "$runs" -q --seed a11ce "${opts[@]}" --out "$what.out" --json "$what.all.json" -- "$@"
    local whole=$RC
    local shards=()
    for k in $(seq "$n"); do
        run 300 "$WEDGE" run -n "$runs" -q --seed a11ce --shard "$k/$n" "${opts[@]}" --out "$what.out" --json "$what.$k.json" -- "$@"
        shards+=("$what.$k.json")
    done
    run 60 "$WEDGE" merge --json "$what.merged.json" --junit "$what.merged.xml" "${shards[@]}"
    if [ "$RC" -eq "$whole" ]; then pass "$what: merge exit $RC = unsharded campaign's"; else fail "$what: merge exit $RC, campaign $whole"; show_output; fi
    if same_campaign "$what.all.json" "$what.merged.json"; then
        pass "$what: $n shards merged = the unsharded campaign (tokens, groups, counts)"
    else
        fail "$what: merged report differs from the unsharded campaign"
    fi
    if command -v xmllint >/dev/null; then
        run 30 xmllint --noout --schema "$SCHEMA" "$what.merged.xml"
        expect_rc "$what: merged JUnit validates" 0
    fi
}
# (noise and serial: the default portfolio learns from each shard's own runs, so its shards
# merge, but each run's arm depends on its shard; that is checked below)
shard_and_merge noise 3 90 --mode noise -- "${COIN[@]}"
# serial mode is exact per token; pct:3 also exercises the calibration runs every shard repeats
shard_and_merge serial 3 300 --mode serial --strategy pct:3 -- "$TARGETS/pct_depth3"
expect_json "serial: the campaign found something to compare" serial.all.json "len(j['reproductions']) >= 3"
shard_and_merge clean 2 200 --mode noise -- "$TARGETS/trivial_ok"
# the default (auto) mode: shards merge into one campaign of all their runs
for k in 1 2; do
    run 300 "$WEDGE" run -n 120 -q --seed a11ce --shard "$k/2" --json "auto.$k.json" -- "${COIN[@]}"
done
run 60 "$WEDGE" merge --json auto.merged.json auto.1.json auto.2.json
expect_json "auto: shards merged" auto.merged.json \
    "j['mode'] == 'auto' and j['runs'] == 120 and j['merged_from'] == 2"

# --- merges refused: one line, exit 2
refuse() {
    local what=$1 why=$2
    shift 2
    run 60 "$WEDGE" merge "$@"
    expect_rc "merge refuses $what" 2
    expect_output "merge refuses $what: says why" "$why"
    if [ "$(wc -l <"$ERR")" -eq 1 ]; then pass "merge refuses $what: one line"; else fail "merge refuses $what: $(wc -l <"$ERR") lines"; fi
}
run 60 "$WEDGE" run --mode noise -n 90 -q --seed a11cf --shard 3/3 --json other-seed.json -- "${COIN[@]}"
run 60 "$WEDGE" run --mode noise -n 91 -q --seed a11ce --shard 3/3 --json other-runs.json -- "${COIN[@]}"
run 60 "$WEDGE" run -n 90 -q --seed a11ce --shard 3/3 --mode serial --json other-mode.json -- "${COIN[@]}"
run 60 "$WEDGE" run --mode noise -n 90 -q --seed a11ce --shard 3/3 --json other-prog.json -- "$TARGETS/trivial_ok"
refuse "another seed" 'seed' noise.1.json noise.2.json other-seed.json
refuse "another run count" 'campaign_runs' noise.1.json noise.2.json other-runs.json
refuse "another mode" 'mode' noise.1.json noise.2.json other-mode.json
refuse "another program" 'program' noise.1.json noise.2.json other-prog.json
refuse "a missing shard" 'shard 3/3 is missing' noise.1.json noise.2.json
refuse "a repeated shard" 'given twice' noise.1.json noise.2.json noise.2.json
refuse "a file that is not a report" 'not JSON' noise.1.json "$TARGETS/trivial_ok"
refuse "no such file" 'cannot read' noise.1.json nosuch.json
run 30 "$WEDGE" merge
expect_rc "merge without reports" 2

# --- --shard-from-env: Kubernetes Indexed Jobs (JOB_COMPLETION_INDEX is 0-based)
run 60 env JOB_COMPLETION_INDEX=1 "$WEDGE" run --mode noise -n 90 -q --seed a11ce --shard-from-env 3 --json env2.json -- "${COIN[@]}"
expect_json "--shard-from-env 3 with index 1 is shard 2/3" env2.json "j['shard'] == '2/3'"
if $PY -c 'import json,sys; a,b=(json.load(open(p)) for p in sys.argv[1:]); sys.exit(0 if sorted(r["token"] for r in a["reproductions"]) == sorted(r["token"] for r in b["reproductions"]) else 1)' env2.json noise.2.json; then
    pass "--shard-from-env runs shard 2/3's tokens"
else
    fail "--shard-from-env tokens differ from --shard 2/3"
fi
run 30 env -u JOB_COMPLETION_INDEX "$WEDGE" run --mode noise -n 9 --shard-from-env 3 -- "$TARGETS/trivial_ok"
expect_rc "--shard-from-env without JOB_COMPLETION_INDEX" 2
run 30 env JOB_COMPLETION_INDEX=3 "$WEDGE" run --mode noise -n 9 --shard-from-env 3 -- "$TARGETS/trivial_ok"
expect_rc "--shard-from-env index out of range" 2

# --- --corpus
run 120 "$WEDGE" run --mode noise -n 40 -q --seed c0 --corpus corpus --json c1.json -- "${COIN[@]}"
expect_rc "corpus: first campaign" 1
ntok=$(ls corpus/*.token 2>/dev/null | wc -l)
expect_json "corpus: each new group's best token added" c1.json "len(j['corpus']['added']) == len(j['groups']) == $ntok == 2 and all(j['groups'][g]['first_token'] in j['corpus']['added'] for g in range(2))"
run 120 "$WEDGE" run --mode noise -n 40 -q --seed c1 --corpus corpus --json c2.json -- "${COIN[@]}"
expect_rc "corpus: second campaign" 1
if head -n 1 "$OUT" | grep -q . && sed -n '1,3p' "$OUT" | grep -q "^corpus corpus: replaying 2 kept tokens first"; then
    pass "corpus: the kept tokens replay first"
else
    fail "corpus: no replay of kept tokens before the campaign"; show_output
fi
expect_json "corpus: kept tokens still reproduce" c2.json "sorted(j['corpus']['still_reproducing']) == sorted(j['corpus']['replayed'][i]['token'] for i in range(2)) and all(e['runs'] == 5 and e['reproduced'] == 5 for e in j['corpus']['replayed'])"
expect_json "corpus: no duplicates (same failures, new seeds)" c2.json "j['corpus']['added'] == [] and len(j['groups']) == 2"
if [ "$(ls corpus/*.token | wc -l)" -eq 2 ]; then pass "corpus: still 2 files"; else fail "corpus: $(ls corpus) "; fi
# the fix: the kept tokens no longer reproduce, and say so
run 120 env COIN_FIXED=1 "$WEDGE" run --mode noise -n 40 -q --seed c2 --corpus corpus --json c3.json -- "${COIN[@]}"
expect_rc "corpus: fixed program" 0
expect_output "corpus: fixed in the summary" '^  fixed \(0 of 5 replays failed\): w1\.noise'
expect_json "corpus: fixed in the JSON" c3.json "len(j['corpus']['fixed']) == 2 and j['corpus']['still_reproducing'] == [] and all(e['status'] == 'fixed' for e in j['corpus']['replayed'])"
# a kept token that still fails fails the campaign even when the new seeds are clean: find a
# seed whose one run passes (the coin is deterministic per token), then add the corpus
clean_seed=""
for s in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
    if "$WEDGE" run --mode noise -n 1 -q --seed "$s" -- "${COIN[@]}" >/dev/null 2>&1; then clean_seed=$s; break; fi
done
run 120 "$WEDGE" run --mode noise -n 1 -q --seed "${clean_seed:-1}" --corpus corpus --json c4.json -- "${COIN[@]}"
expect_rc "corpus: kept tokens that still fail fail a campaign whose new run passed" 1
expect_json "corpus: ... and the new run passed" c4.json "j['reproductions'] == [] and len(j['corpus']['still_reproducing']) == 2"
echo "w1.noise.random.bad" > corpus/broken.token
run 30 "$WEDGE" run --mode noise -n 2 --corpus corpus -- "$TARGETS/trivial_ok"
expect_rc "corpus: a malformed token file" 2
expect_output "corpus: says which file" 'broken.token'
run 30 "$WEDGE" run --mode noise -n 2 --baseline --corpus corpus -- "$TARGETS/trivial_ok"
expect_rc "corpus: --baseline has no tokens to keep" 2
e2e_finish
