#!/bin/bash
# exec_cleared_env.sh WEDGE TARGETS SHIM
# A program that clears its environment (clearenv, unsetenv("LD_PRELOAD"), its own
# LD_PRELOAD, its own envp, posix_spawn with its own envp) before it execs a racy child: the child still runs under the shim,
# so its lost update is found, and the events in the report come from the child's threads
# (adder); the fixed twin passes every run.  A static child, which no LD_PRELOAD reaches, is
# reported as running without wedge.  (Issue 7, item 6.)
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
PROG=$TARGETS/exec_cleared_env
for how in clearenv unsetenv preload envp spawn; do
    run 200 "$WEDGE" run -n 300 --stop-after 1 --seed c1ea -q --json "$how.json" --out "r.$how" -- "$PROG" "$how"
    expect_rc "$how: the child's race is found" 1
    # (the report file: the terminal's group line has the conclusion only when the arm that
    # found it recorded the accesses)
    if grep -qs "at adder (exec_cleared_env.c" "r.$how"/*.txt; then
        pass "$how: the report shows the child's threads"
    else
        fail "$how: the report does not show the child's threads"
        show_output
    fi
    run 200 "$WEDGE" run -n 60 --seed c1ea -q --json "$how.fixed.json" --out "f.$how" -- "${PROG}_fixed" "$how"
    expect_rc "$how: the fixed twin passes" 0
    expect_json "$how: 60 fixed runs pass" "$how.fixed.json" "j['runs'] == 60 and j['reproductions'] == []"
done
# The exec'd child maps the program at another load bias than the parent that registered
# it: its data is still named (the shm keeps each process's bias of a module).
run 200 "$WEDGE" run -n 300 --stop-after 3 --seed c1ea -q --arms serial.random.m,serial.pos.m --json names.json --out names -- "$PROG" envp
expect_rc "watched campaign on the exec'd child" 1
expect_json "the child's counter is named" names.json \
    "any(r['conclusion'] and (r['conclusion'].get('object') or {}).get('name') == 'counter' for r in j['reproductions'])"
if [ -x "$TARGETS/static_hello" ]; then
    run 60 "$WEDGE" run -n 2 -q --out s -- "$PROG" run "$TARGETS/static_hello"
    expect_rc "static child: its runs pass" 0
    expect_output "static child: wedge says it runs unfuzzed" "static_hello: statically linked.*runs without wedge"
fi
e2e_finish
