#!/bin/bash
# stack_names.sh WEDGE TARGETS SHIM [RUN OPTIONS...]
# stack_locks deadlocks on two mutexes that live in main's frame: the conclusion names both
# locks as slots of the main thread's stack (storage "stack", the owning thread), never as bare
# addresses; the fixed twin (one lock order) passes every run.  (Issue 9: stack slots named.)
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
run 200 "$WEDGE" run -n 500 --stop-after 1 --seed 5 --timeout 3s -q --json run.json --out reports "$@" -- "$TARGETS/stack_locks"
expect_rc "stack_locks campaign" 1
expect_json "deadlock conclusion" run.json "j['reproductions'][0]['conclusion']['kind'] == 'deadlock'"
expect_json "both locks are stack slots of the main thread" run.json \
    "all(c['lock']['storage'] == 'stack' and c['lock']['thread'] == 0 and c['lock']['name'].startswith('stack slot of T0 (main thread), ') for c in j['reproductions'][0]['conclusion']['cycle'])"
expect_json "two different slots, 48 bytes apart (one struct account each)" run.json \
    "len({c['lock']['address'] for c in j['reproductions'][0]['conclusion']['cycle']}) == 2 and abs(int(j['reproductions'][0]['conclusion']['cycle'][0]['lock']['address'], 16) - int(j['reproductions'][0]['conclusion']['cycle'][1]['lock']['address'], 16)) == 48"
if grep -E '^group 1: .*deadlock: .*`stack slot of T0 \(main thread\)' "$OUT" >/dev/null; then
    pass "terminal group line names the stack slots"
else
    fail "no group line naming the stack slots"
    show_output
fi
run 200 "$WEDGE" run -n 200 --seed 5 --timeout 3s -q --json fixed.json --out fixed "$@" -- "$TARGETS/stack_locks_fixed"
expect_rc "stack_locks_fixed x200" 0
e2e_finish
