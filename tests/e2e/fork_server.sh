#!/bin/bash
# fork_server.sh WEDGE TARGETS SHIM
# The fork server (issue 12): runs are forked from a copy stopped at main where it can serve;
# programs it cannot serve (a thread started by a constructor, a #! script, a program that
# execs at once) fall back to one exec per run, said once, and pass; a serial token gives the
# same trace either way.
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
unset WEDGE_FORK_SERVER # the default (on): this test is about the server, in either stage

# WEDGE_FORK_SERVER=0 turns it off, as --no-fork-server does; --fork-server forces it on.
WEDGE_FORK_SERVER=0 run 60 "$WEDGE" run -n 20 -q --json e0.json --out re0 -- "$TARGETS/trivial_ok"
expect_rc "WEDGE_FORK_SERVER=0" 0
expect_json "WEDGE_FORK_SERVER=0" e0.json "j['runs'] == 20 and j['forked_runs'] == 0"
WEDGE_FORK_SERVER=0 run 60 "$WEDGE" run -n 20 -q --fork-server --json e1.json --out re1 -- "$TARGETS/trivial_ok"
expect_rc "WEDGE_FORK_SERVER=0 --fork-server" 0
expect_json "WEDGE_FORK_SERVER=0 --fork-server" e1.json "j['runs'] == 20 and j['forked_runs'] == 20"

run 60 "$WEDGE" run -n 200 -q --json a.json --out ra -- "$TARGETS/trivial_ok"
expect_rc "trivial_ok with the fork server (the default)" 0
expect_json "trivial_ok" a.json "j['runs'] == 200 and j['forked_runs'] == 200"
if grep -q "fork server off" "$ERR"; then fail "trivial_ok: fell back: $(cat "$ERR")"; else pass "no fallback for trivial_ok"; fi
run 60 "$WEDGE" run -n 50 -q --no-fork-server --json b.json --out rb -- "$TARGETS/trivial_ok"
expect_rc "trivial_ok --no-fork-server" 0
expect_json "--no-fork-server" b.json "j['runs'] == 50 and j['forked_runs'] == 0"

# Falls back, said once per campaign (not once per run or per job slot), and passes.
fallback() { # NAME PROGRAM...
    local name=$1
    shift
    run 120 "$WEDGE" run -n 30 -j 2 -q --json "$name.json" --out "r.$name" -- "$@"
    expect_rc "$name" 0
    expect_json "$name" "$name.json" "j['runs'] == 30 and j['passed'] == 30"
    local n
    n=$(grep -c "wedge: fork server off" "$ERR")
    if [ "$n" = 1 ]; then
        pass "$name: fallback said once ($(grep "fork server off" "$ERR"))"
    else
        fail "$name: fallback said $n times, expected once"
        sed 's/^/  | /' "$ERR" | head -5
    fi
}
fallback ctor_thread "$TARGETS/ctor_thread_ok"
expect_json "ctor_thread" ctor_thread.json "j['forked_runs'] == 0"
printf '#!/bin/sh\n"%s" || exit 1\n' "$TARGETS/barrier_ok" >script.sh
chmod +x script.sh
fallback script ./script.sh
expect_json "script" script.json "j['forked_runs'] == 0"
fallback execs_at_once "$TARGETS/execs_at_once"

# A constructor that ignores SIGCHLD: the server still sees its runs end (it restores the
# default for itself, the program's disposition for each run), so nothing hangs.
run 120 "$WEDGE" run --mode noise -n 30 -q --json sc.json --out rsc -- "$TARGETS/sigchld_ignored_ok"
expect_rc "sigchld_ignored_ok noise" 0
expect_json "sigchld_ignored_ok noise" sc.json "j['passed'] == 30 and j['forked_runs'] == 30"
run 120 "$WEDGE" run -n 30 -q --json sca.json --out rsca -- "$TARGETS/sigchld_ignored_ok"
expect_rc "sigchld_ignored_ok default" 0
expect_json "sigchld_ignored_ok default" sca.json "j['passed'] == 30"

# Constructors that call into the shim: noise runs are forked, serial runs exec'd, said once.
run 120 "$WEDGE" run --mode noise -n 30 -q --json ca.json --out rca -- "$TARGETS/ctor_alloc_ok"
expect_rc "ctor_alloc_ok noise" 0
expect_json "ctor_alloc_ok noise" ca.json "j['passed'] == 30 and j['forked_runs'] == 30"
run 120 "$WEDGE" run --mode serial -n 30 -q --json cs.json --out rcs -- "$TARGETS/ctor_alloc_ok"
expect_rc "ctor_alloc_ok serial" 0
expect_json "ctor_alloc_ok serial" cs.json "j['passed'] == 30 and j['forked_runs'] == 0"
if [ "$(grep -c "fork server for noise runs only" "$ERR")" = 1 ]; then pass "ctor_alloc_ok: said once"; else fail "ctor_alloc_ok: $(cat "$ERR")"; fi

# A serial token found with the fork server: 100 of 100 replays reproduce with the same trace
# hash, with the fork server and without it, and the hash is the same both ways.
run 120 "$WEDGE" run --mode serial --strategy pct:2 --seed 12 -n 300 --stop-after 1 -q --json s.json --out rs -- "$TARGETS/pct_depth2"
expect_rc "serial campaign on pct_depth2 (fork server)" 1
expect_json "serial campaign" s.json "j['forked_runs'] > 0"
TOKEN=$(json s.json "j['reproductions'][0]['token']")
HASH=$(json s.json "j['reproductions'][0]['trace_hash']")
for fs in --fork-server --no-fork-server; do
    run 200 "$WEDGE" replay --runs 100 -q "$fs" --json "r$fs.json" --out "rr$fs" "$TOKEN" -- "$TARGETS/pct_depth2"
    expect_rc "replay $fs" 1
    expect_json "replay $fs" "r$fs.json" "j['reproduced'] == 100 and j['same_trace'] == 100 and all(r['trace_hash'] == '$HASH' for r in j['reproductions'])"
done
expect_json "replay --fork-server" "r--fork-server.json" "j['forked_runs'] == 100"
expect_json "replay --no-fork-server" "r--no-fork-server.json" "j['forked_runs'] == 0"
e2e_finish
