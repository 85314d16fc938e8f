#!/bin/bash
# stack_names.sh WEDGE TARGETS SHIM [RUN OPTIONS...]
# stack_locks deadlocks on two mutexes that live in main's frame: the conclusion names both
# locks by the function whose frame holds them and the local variable they are part of
# (`a.lock`, `b.lock` in main's frame, declared on the lines of their WEDGE-LINE markers),
# besides the owning thread (storage "stack"), never as bare addresses.  The threads'
# arguments lie in transfer_both's frame; main called it with the accounts' addresses: the
# shim records at pthread_create the frame holding the argument and its callers'.  The fixed
# twin (one lock order) passes every run.  (Issue 9: stack slots named by function.)  RUN OPTIONS: the mode, and a timeout
# (noise mode finds the deadlock as a hang).
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
SRC=$HERE/../targets/stack_locks.c
line() { grep -n "WEDGE-LINE: $1 " "$SRC" | cut -d: -f1; }
LA=$(line account_a); LB=$(line account_b); LT=$(line transfer_both)
CYCLE="j['reproductions'][0]['conclusion']['cycle']"

run 200 "$WEDGE" run -n 500 --stop-after 1 --seed 5 -q --json run.json --out reports "$@" -- "$TARGETS/stack_locks"
expect_rc "stack_locks campaign" 1
expect_json "deadlock conclusion" run.json "j['reproductions'][0]['conclusion']['kind'] == 'deadlock'"
expect_json "both locks are stack slots of the main thread, in main's frame" run.json \
    "all(c['lock']['storage'] == 'stack' and c['lock']['thread'] == 0 and c['lock']['function'] == 'main' for c in $CYCLE)"
expect_json "named by their variables, declared on the marked lines" run.json \
    "sorted((c['lock']['name'], c['lock']['variable'], c['lock']['declared_at']) for c in $CYCLE) == [('a.lock', 'a.lock', 'stack_locks.c:$LA'), ('b.lock', 'b.lock', 'stack_locks.c:$LB')]"
expect_json "the frame is main's, at its call of transfer_both (a caller of pthread_create's)" run.json \
    "all(c['lock']['frame'] == 'main (stack_locks.c:$LT)' for c in $CYCLE)"
expect_json "two different addresses" run.json \
    "len({c['lock']['address'] for c in $CYCLE}) == 2"
if grep -E "^group 1: .*deadlock: .*\`[ab]\\.lock\` in main's frame \\(stack_locks\\.c:($LA|$LB)\\).*\`[ab]\\.lock\` in main's frame" "$OUT" >/dev/null; then
    pass "terminal group line names both locks in main's frame"
else
    fail "no group line naming the locks in main's frame"
    show_output
fi
FILE=$(json run.json "j['reproductions'][0]['report']" 2>/dev/null)
if [ -f "$FILE" ] && grep -qE "^  [12]\\. T[0-9]+ holds \`[ab]\\.lock\` in main's frame \\(stack_locks\\.c:($LA|$LB)\\)" "$FILE"; then
    pass "report file names the locks in main's frame"
else
    fail "report file $FILE does not name the locks in main's frame"
    [ -f "$FILE" ] && head -n 12 "$FILE" | sed 's/^/  | /'
fi
run 200 "$WEDGE" run -n 200 --seed 5 -q --json fixed.json --out fixed "$@" -- "$TARGETS/stack_locks_fixed"
expect_rc "stack_locks_fixed x200" 0
e2e_finish
