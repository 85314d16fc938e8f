#!/bin/bash
# fault_shm_stale.sh WEDGE TARGETS SHIM
# Stale /dev/shm files, including ones named after wedge's own pid (containers reuse pids),
# never make a campaign fail; stale files are removed, live ones are left alone (issue 7,
# item 9).  And the exit status of an interrupted campaign: 2 when it found nothing (it proved
# nothing, so never 0; 1 would claim a reproduction), 1 when it had found one.
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
[ -d /dev/shm ] && [ -w /dev/shm ] || skip_test "no writable /dev/shm"

# exec keeps the pid: wedge starts with files named after its own pid already there, in the
# older form and in the current one.
run 120 bash -c 'touch /dev/shm/wedge.$$.0 /dev/shm/wedge.$$.1; echo $$ > pid
                 for s in 0 1; do
                     f=/dev/shm/wedge.$$.$s.0000000$s
                     : > "$f"
                 done
                 exec "$0" run -n 20 -j 2 -q --json stale.json --out reports -- "$1"' \
    "$WEDGE" "$TARGETS/trivial_ok"
PID=$(cat pid)
expect_rc "campaign with stale shm files of its own pid" 0
expect_json "all its runs ran" stale.json "j['runs'] == 20"
if ls /dev/shm/wedge."$PID".*.* >/dev/null 2>&1; then
    fail "stale (unlocked) files of the current form are left"
    ls /dev/shm/wedge."$PID".*
else
    pass "stale files of the current form removed"
fi
rm -f /dev/shm/wedge."$PID".0 /dev/shm/wedge."$PID".1

# A dead wedge's files are removed; a locked one (a live wedge's) is left alone.
DEAD=/dev/shm/wedge.999999999.0.0badf00d
LIVE=/dev/shm/wedge.999999998.0.0000cafe
: > "$DEAD"
: > "$LIVE"
exec 9<"$LIVE"
flock 9 # held by this shell (and, inherited, by wedge's runs: the same lock)
run 60 "$WEDGE" run -n 2 -q --out reports -- "$TARGETS/trivial_ok"
expect_rc "campaign beside a live and a dead file" 0
[ -e "$DEAD" ] && fail "a dead wedge's file was left" || pass "a dead wedge's file is removed"
[ -e "$LIVE" ] && pass "a live (locked) file is left alone" || fail "a live wedge's file was removed"
exec 9<&-
rm -f "$DEAD" "$LIVE"

# Interrupted with no failure: exit 2, "interrupted" on stderr and in the JSON.
"$WEDGE" run -n 100000 -j 2 -q --json int.json --out reports -- /bin/sh -c 'sleep 0.2' \
    >int.out 2>int.err </dev/null &
WPID=$!
sleep 1.5
kill -INT "$WPID"
wait "$WPID"
RC=$?; OUT=int.out; ERR=int.err
expect_rc "interrupted campaign without a failure" 2
expect_output "says interrupted" "wedge: interrupted after [0-9]+ of 100000 runs"
expect_json "JSON: interrupted, nothing found" int.json "j['interrupted'] == True and j['reproductions'] == [] and j['runs'] >= 1"

# Interrupted after a failure: exit 1, the reproduction kept.
"$WEDGE" run -n 100000 -j 2 -q --json int1.json --out reports -- /bin/sh -c 'sleep 0.2; exit 3' \
    >int1.out 2>int1.err </dev/null &
WPID=$!
for _ in $(seq 100); do ls reports/*.txt >/dev/null 2>&1 && break; sleep 0.1; done
kill -INT "$WPID"
wait "$WPID"
RC=$?; OUT=int1.out; ERR=int1.err
expect_rc "interrupted campaign with a failure" 1
expect_json "JSON: interrupted, reproductions kept" int1.json "j['interrupted'] == True and len(j['reproductions']) >= 1"

# The status is documented where a user looks for it.
run 10 "$WEDGE" help run
expect_output "wedge help run documents the interrupted status" "interrupted"
e2e_finish
