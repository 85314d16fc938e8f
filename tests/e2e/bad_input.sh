#!/bin/bash
# bad_input.sh WEDGE TARGETS SHIM
# Every kind of bad input is a usage error: exit 2 and a message that says what is wrong.
source "$(dirname "$0")/lib.sh"
e2e_init "$@"

OK=$TARGETS/trivial_ok

# bad CASE REGEX ARGS... : wedge ARGS exits 2 and its output matches REGEX.
bad() {
    local what=$1 re=$2
    shift 2
    run 60 "$WEDGE" "$@"
    expect_rc "$what" 2
    expect_output "$what" "$re"
}

bad "missing program" 'not found|no such file' run -n 1 -- "$E2E_TMP/no-such-program"
bad "missing program in PATH" 'not found' run -n 1 -- wedge-no-such-program-xyz

printf '#!/bin/sh\nexit 0\n' >not_exec.sh
chmod 644 not_exec.sh
bad "not executable" 'not executable|permission' run -n 1 -- "$E2E_TMP/not_exec.sh"

mkdir adir
bad "directory" 'directory' run -n 1 -- "$E2E_TMP/adir"

if [ -x "$TARGETS/static_hello" ]; then
    bad "static binary" 'statically linked' run -n 1 -- "$TARGETS/static_hello"
else
    echo "SKIP: static_hello not built (no static libc on this machine)"
fi

cp "$OK" suid_prog
chmod 4755 suid_prog
if [ -u suid_prog ]; then
    bad "setuid binary" 'setuid' run -n 1 -- "$E2E_TMP/suid_prog"
else
    echo "SKIP: cannot set the setuid bit here (nosuid mount?)"
fi

# Malformed tokens, each for its own reason.
for tok in "w1.noise.random" "w9.noise.random.00000000000000a1" "w1.bogus.random.00000000000000a1" \
           "w1.noise.random.xyz" "w1.noise.random.00000000000000a1.extra" "hello" ""; do
    bad "replay token '$tok'" 'token' replay "$tok" -- "$OK"
done
# A bad part of a well-formed token: the message may name that part instead.
bad "replay token with strategy zigzag" 'token|zigzag' replay w1.noise.zigzag.00000000000000a1 -- "$OK"
bad "replay token with pct depth 0" 'token|pct|depth' replay w1.serial.pct0.00000000000000a1 -- "$OK"
bad "replay without a token" 'token|usage' replay -- "$OK"
# A minimized token's STEPS field (wedge minimize): malformed, it says which part is wrong.
bad "replay token with steps in noise mode" 'STEPS.*serial' replay w1.noise.random.s3.00000000000000a1 -- "$OK"
bad "replay token with descending steps" 'ascend' replay w1.serial.pct3.s9_3.00000000000000a1 -- "$OK"
bad "replay token with a bad step" "step range '4x'" replay w1.serial.pct3.s4x.00000000000000a1 -- "$OK"
bad "replay token with a bad decision" "decision '1y4'" replay w1.noise.random.d1y4.00000000000000a1 -- "$OK"

bad "unknown flag" 'no-such-flag' run --no-such-flag -n 1 -- "$OK"
bad "unknown command" 'frobnicate|unknown|usage' frobnicate
bad "bad duration" 'duration|timeout|10parsecs' run --timeout 10parsecs -n 1 -- "$OK"
bad "bad time budget" 'duration|budget|soon' run --time-budget soon -n 1 -- "$OK"
bad "bad --runs (word)" 'runs|-n|many' run -n many -- "$OK"
bad "bad --runs (negative)" 'runs|-n|-3' run --runs -3 -- "$OK"
bad "bad --jobs" 'jobs|-j' run -j zero -n 1 -- "$OK"
bad "bad --seed" 'seed' run --seed not-hex -n 1 -- "$OK"
bad "bad --mode" 'mode|sideways' run --mode sideways -n 1 -- "$OK"
bad "pct in noise mode" 'pct|strategy|serial' run --mode noise --strategy pct:3 -n 1 -- "$OK"
bad "bad strategy" 'strategy|zigzag' run --strategy zigzag -n 1 -- "$OK"
bad "pos in noise mode" 'pos|serial' run --mode noise --strategy pos -n 1 -- "$OK"
bad "strategy with --mode auto" 'strategy|auto' run --mode auto --strategy pct:3 -n 1 -- "$OK"
bad "unknown arm" 'arm|zigzag' run --arms serial.pct3,zigzag -n 1 -- "$OK"
bad "--arms with a pinned mode" 'arms|auto' run --arms serial.pct3 --mode serial -n 1 -- "$OK"
bad "bad --shard" 'shard' run --shard 3/2 -n 4 -- "$OK"
bad "missing --" '(missing|expected|need|require|put|use|before|without).*--|--.*(missing|expected|before|separat)' run -n 1 "$OK"
bad "no program after --" 'program|usage' run -n 1 --

touch plain_file
bad "--out under a file" 'out|plain_file|directory' run -n 1 --out "$E2E_TMP/plain_file/sub" -- "$OK"
bad "--out in /proc" 'out|/proc' run -n 1 --out /proc/wedge-no-such-dir -- "$OK"

# A bad input never leaves a report directory behind as if runs had happened.
run 60 "$WEDGE" run -n 1 --out "$E2E_TMP/never" -- "$E2E_TMP/no-such-program"
if [ -d "$E2E_TMP/never" ] && [ -n "$(ls -A "$E2E_TMP/never")" ]; then
    fail "bad input wrote reports into --out"
else
    pass "bad input wrote no reports"
fi
e2e_finish
