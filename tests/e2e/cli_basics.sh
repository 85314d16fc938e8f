#!/bin/bash
# cli_basics.sh WEDGE TARGETS SHIM
# --help, help COMMAND and --version answer with exit 0 and name the commands and options.
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
run 30 "$WEDGE" --help
expect_rc "--help" 0
expect_output "--help names the commands" 'replay'
expect_output "--help names run" 'run'
run 30 "$WEDGE" help run
expect_rc "help run" 0
for opt in --runs --jobs --seed --mode --strategy --timeout --time-budget --stop-after --pass-exit --fail-on --out --json --junit --shard; do
    if grep -q -- "$opt" "$OUT" "$ERR"; then pass "help run lists $opt"; else fail "help run does not list $opt"; fi
done
run 30 "$WEDGE" --version
expect_rc "--version" 0
expect_output "--version prints a version" '[0-9]+\.[0-9]+'
# A clean target passes; --pass-exit widens what counts as a pass.
run 60 "$WEDGE" run -n 4 -q -- /bin/false
expect_rc "/bin/false fails" 1
run 60 "$WEDGE" run -n 4 -q --pass-exit 0,1 -- /bin/false
expect_rc "--pass-exit 0,1 accepts /bin/false" 0
run 60 "$WEDGE" run -n 4 -q --fail-on 'h.llo' -- /bin/echo hello
expect_rc "--fail-on matches output" 1
# Runs have address randomization off (a program may behave by its addresses: a serial token
# must replay the same run); native reruns keep it.
run 60 "$WEDGE" run -n 4 -q -- /bin/sh -c 'test "$(cat /proc/self/personality)" = 00040000'
expect_rc "a run's personality has ADDR_NO_RANDOMIZE" 0
run 60 "$WEDGE" run --baseline -n 2 -q -- /bin/sh -c 'test "$(cat /proc/self/personality)" = 00000000'
expect_rc "a --baseline run keeps address randomization" 0
e2e_finish
