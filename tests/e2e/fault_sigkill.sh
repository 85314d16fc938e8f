#!/bin/bash
# fault_sigkill.sh WEDGE TARGETS SHIM
# Nothing of a run outlives it (issue 7, item 7): wedge killed by SIGKILL mid-campaign leaves
# no process of its runs (forked children, setsid'd daemons, daemons with a cleared
# environment) and no shared memory file, and keeps the reports it wrote; a daemon with a
# cleared environment (no shim, no wedge mark) dies with its run, not at the campaign's end.
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
PROG=$(unique_copy forks_daemon) || { fail "copy target"; e2e_finish; }
SLEEP=$(dirname "$PROG")/daemon_sleep
cp "$(command -v sleep)" "$SLEEP" || { fail "copy sleep"; e2e_finish; }

# start_wedge OUTNAME ARGS...: wedge in the background (its own pid in WPID, to SIGKILL it),
# with a watchdog in case it never ends.
start_wedge() {
    local name=$1
    shift
    "$WEDGE" "$@" >"$name.out" 2>"$name.err" </dev/null &
    WPID=$!
    (for _ in $(seq 240); do sleep 0.5; kill -0 "$WPID" 2>/dev/null || exit 0; done
     kill -KILL "$WPID" 2>/dev/null) &
    WATCHDOG=$!
}
stop_watchdog() { wait "$WATCHDOG" 2>/dev/null; }

# wait_for SECONDS CONDITION...: poll until the condition holds.
wait_for() {
    local end=$((SECONDS + $1))
    shift
    until "$@"; do
        [ $SECONDS -ge $end ] && return 1
        sleep 0.1
    done
}
reports_at_least() { [ "$(ls reports 2>/dev/null | wc -l)" -ge "$1" ]; }

# 1. forks_daemon (a setsid'd grandchild sleeping 60 s) exits 0; --pass-exit 1 makes every
# run a reproduction, so that reports are being written when wedge is killed.
start_wedge k1 run -n 100000 -j 2 -q --pass-exit 1 --out reports -- "$PROG"
if wait_for 60 reports_at_least 3 && pgrep -f -- "$PROG" >/dev/null; then
    pass "campaign under way (reports written, daemons running)"
else
    fail "campaign did not get under way"
fi
kill -KILL "$WPID"
wait "$WPID" 2>/dev/null
stop_watchdog
no_process_left "after SIGKILL of wedge (forked daemons)" "$PROG"
bad=0
for f in reports/*.txt; do
    grep -q '^replay: ' "$f" && grep -q '^outcome: ' "$f" || bad=$((bad + 1))
done
if [ "$(ls reports | wc -l)" -ge 3 ] && [ $bad -eq 0 ]; then
    pass "the $(ls reports | wc -l) reports written before the kill are kept, whole"
else
    fail "reports lost or cut after the kill ($bad bad)"
fi
# The janitor removes them once wedge is dead, and once no process of wedge's that died with it
# still maps one (a mapping keeps the file's lock): a moment, not at once.
no_shm_left() { ! ls /dev/shm/wedge."$WPID".* >/dev/null 2>&1; }
if wait_for 10 no_shm_left; then
    pass "no shared memory file of the killed wedge left"
else
    fail "shared memory files of the killed wedge left in /dev/shm"
    rm -f /dev/shm/wedge."$WPID".*
fi

# 2. A daemon with a cleared environment and its own session: not in the run's group, no shim
# to record it, no mark to find it by.
DAEMON="env -i setsid $SLEEP 60 & sleep 0.2"
# Only the daemons themselves (wedge's and sh's command lines name the copy too).
count_daemons() { pgrep -f -- "^$SLEEP 60" | wc -l; }
start_wedge k2 run -n 12 -j 1 -q --out reports2 -- /bin/sh -c "$DAEMON"
max=0
while kill -0 "$WPID" 2>/dev/null; do
    n=$(count_daemons)
    [ "$n" -gt "$max" ] && max=$n
    sleep 0.05
done
wait "$WPID"
RC=$?; OUT=k2.out; ERR=k2.err
stop_watchdog
expect_rc "cleared-environment daemons campaign" 0
if [ "$max" -le 2 ]; then
    pass "at most $max cleared-environment daemons alive at once (1 run at a time)"
else
    fail "$max cleared-environment daemons alive at once: they outlive their runs"
fi
no_process_left "after the cleared-environment daemons campaign" "$SLEEP"

# 3. The same, and wedge killed by SIGKILL mid-campaign.
start_wedge k3 run -n 100000 -j 2 -q --out reports3 -- /bin/sh -c "$DAEMON"
has_daemon() { [ "$(count_daemons)" -ge 1 ]; }
if wait_for 60 has_daemon; then pass "cleared-environment daemons running"; else fail "no daemon started"; fi
sleep 0.5
kill -KILL "$WPID"
wait "$WPID" 2>/dev/null
stop_watchdog
no_process_left "after SIGKILL of wedge (cleared-environment daemons)" "$SLEEP"
e2e_finish
