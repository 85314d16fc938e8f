#!/bin/bash
# json_contract.sh WEDGE TARGETS SHIM
# The --json reports carry the contract's fields with the contract's types (DESIGN.md 1).
source "$(dirname "$0")/lib.sh"
e2e_init "$@"

# A campaign that reproduces: job_claim fails often under wedge (and sometimes natively).
run 300 "$WEDGE" run -n 400 --stop-after 2 --seed 5eed -q --json fail.json --out reports -- "$TARGETS/job_claim"
expect_rc "failing campaign" 1
expect_json "version" fail.json "'version' in j"
expect_json "seed" fail.json "'seed' in j and str(j['seed']) != ''"
expect_json "seed is the one given" fail.json "'5eed' in str(j['seed']).lower() or j['seed'] == 0x5eed"
expect_json "mode" fail.json "j['mode'] == 'auto'"
expect_json "runs" fail.json "isinstance(j['runs'], int) and 1 <= j['runs'] <= 400"
expect_json "reproductions" fail.json "isinstance(j['reproductions'], list) and 1 <= len(j['reproductions']) <= 2"
expect_json "token" fail.json "all(r['token'].startswith(('w1.noise.', 'w1.serial.')) for r in j['reproductions'])"
# auto mode: each reproduction names its arm (its token without version, PCT length and seed),
# and the arms' runs add up to the campaign's
expect_json "arm of each reproduction" fail.json "all(r['token'].startswith('w1.' + r['arm'].split('.')[0]) and r['arm'] in [a['arm'] for a in j['arms']] for r in j['reproductions'])"
expect_json "runs per arm" fail.json "sum(a['runs'] for a in j['arms']) == j['runs'] and sum(a['reproductions'] for a in j['arms']) >= len(j['reproductions'])"
expect_json "arm of each run" fail.json "len(j['run_arms']) >= j['runs'] and set(j['run_arms']) <= set(a['arm'] for a in j['arms'])"
expect_json "run index" fail.json "all(isinstance(r['run'], int) and 0 <= r['run'] < j['runs'] + 1 for r in j['reproductions'])"
expect_json "outcome.kind" fail.json "all(r['outcome']['kind'] in ('exit', 'signal', 'hang', 'lost_update') for r in j['reproductions'])"
expect_json "outcome.code" fail.json "all(r['outcome']['kind'] != 'exit' or r['outcome']['code'] == 1 for r in j['reproductions'])"
expect_json "replay command" fail.json "all(r['token'] in r['replay'] and 'job_claim' in r['replay'] and 'replay' in r['replay'] for r in j['reproductions'])"

# The replay command of the report works as printed.
REPLAY=$(json fail.json "j['reproductions'][0]['replay']")
TOKEN=$(first_token fail.json)
run 120 "$WEDGE" replay --runs 5 --json replay.json "$TOKEN" -- "$TARGETS/job_claim"
if [ "$RC" -eq 0 ] || [ "$RC" -eq 1 ]; then pass "replay exit $RC"; else fail "replay exit $RC"; show_output; fi
expect_json "replay runs" replay.json "j['runs'] == 5"
expect_json "replay reproduced" replay.json "isinstance(j['reproduced'], int) and 0 <= j['reproduced'] <= 5"
echo "  (report's replay command: $REPLAY)"

# A campaign with no failure.
run 120 "$WEDGE" run -n 20 -q --json pass.json --out reports -- "$TARGETS/trivial_ok"
expect_rc "passing campaign" 0
expect_json "passing: runs" pass.json "j['runs'] == 20"
expect_json "passing: no reproductions" pass.json "j['reproductions'] == []"

# Same --seed, same campaign seed reported; a random seed is printed so it can be repeated.
run 120 "$WEDGE" run -n 3 -q --json a.json -- "$TARGETS/trivial_ok"
run 120 "$WEDGE" run -n 3 -q --json b.json -- "$TARGETS/trivial_ok"
if [ "$(json a.json "j['seed']")" != "$(json b.json "j['seed']")" ]; then
    pass "default seed is random"
else
    fail "two campaigns without --seed used the same seed"
fi

# JUnit XML for CI dashboards.
run 120 "$WEDGE" run -n 5 -q --junit junit.xml -- "$TARGETS/trivial_ok"
expect_rc "junit campaign" 0
if python3 -c "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); sys.exit(0 if r.tag in ('testsuite', 'testsuites') else 1)" junit.xml 2>/dev/null; then
    pass "--junit writes a testsuite XML"
else
    fail "--junit did not write valid JUnit XML"
fi
e2e_finish
