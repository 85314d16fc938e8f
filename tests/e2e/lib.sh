# lib.sh - helpers shared by the end-to-end tests.  Source it, then call e2e_init "$@".
#
# Every test is invoked as:  TEST.sh WEDGE TARGETS [SHIM] [TEST ARGS...]
#   WEDGE    the wedge CLI binary
#   TARGETS  the directory of the built target programs (build/tests/targets)
#   SHIM     libwedge.so; exported as WEDGE_PRELOAD (the CLI's documented override) so that the
#            tests exercise the shim of the same build tree; "-" to let the CLI find it itself
#
# Checks print "PASS: ..." or "FAIL: ..." lines; e2e_finish prints "N passed, N failed" and
# exits non-zero if anything failed.  A test that cannot apply exits 77 (ctest: skipped).

set -u

E2E_PASSED=0
E2E_FAILED=0
E2E_TMP=""
RC=0
OUT=""
ERR=""

e2e_init() {
    if [ $# -lt 2 ]; then
        echo "usage: $0 WEDGE TARGETS [SHIM] [ARGS...]" >&2
        exit 2
    fi
    WEDGE=$1
    TARGETS=$2
    shift 2
    E2E_ARGS_USED=2
    if [ $# -ge 1 ]; then
        if [ "$1" != "-" ] && [ -n "$1" ]; then
            export WEDGE_PRELOAD=$1
        fi
        E2E_ARGS_USED=3
    fi
    if [ ! -x "$WEDGE" ]; then
        echo "FAIL: wedge CLI not built: $WEDGE"
        exit 1
    fi
    E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/wedge-e2e.XXXXXX")
    trap e2e_cleanup EXIT
    # Targets that make temporary files put them here, so that runs killed as hangs leave
    # nothing behind once the test's directory is removed.
    export TMPDIR=$E2E_TMP
    # CI: no progress bars, and never inherit a token from the caller's environment.
    unset WEDGE_TOKEN WEDGE_SHM
    cd "$E2E_TMP" || exit 1
}

e2e_cleanup() {
    if [ -n "$E2E_TMP" ] && [ -d "$E2E_TMP" ]; then
        chmod -R u+w "$E2E_TMP" 2>/dev/null
        rm -rf "$E2E_TMP"
    fi
}

pass() { E2E_PASSED=$((E2E_PASSED + 1)); echo "PASS: $*"; }
fail() { E2E_FAILED=$((E2E_FAILED + 1)); echo "FAIL: $*"; }

skip_test() {
    echo "SKIP: $*"
    exit 77
}

# run LIMIT_SECONDS CMD... : run a command with a hard time limit (the CLI itself must never
# hang a test); sets RC and the files OUT and ERR.
E2E_RUN_N=0
run() {
    local limit=$1
    shift
    E2E_RUN_N=$((E2E_RUN_N + 1))
    OUT=$E2E_TMP/out.$E2E_RUN_N
    ERR=$E2E_TMP/err.$E2E_RUN_N
    echo "+ $*" >&2
    timeout -k 5 "$limit" "$@" >"$OUT" 2>"$ERR" </dev/null
    RC=$?
    if [ $RC -eq 124 ] || [ $RC -eq 137 ]; then
        echo "  (command exceeded ${limit}s)" >&2
    fi
}

# Show the tail of the last command's output (after a failed check).
show_output() {
    echo "  --- stdout (tail) ---"
    tail -n 15 "$OUT" | sed 's/^/  | /'
    echo "  --- stderr (tail) ---"
    tail -n 15 "$ERR" | sed 's/^/  | /'
}

# expect_rc WHAT WANT: the last command's exit status.
expect_rc() {
    if [ "$RC" -eq "$2" ]; then
        pass "$1: exit $RC"
    else
        fail "$1: exit $RC, expected $2"
        show_output
    fi
}

# expect_output WHAT REGEX: stdout or stderr of the last command matches (grep -E, no case).
expect_output() {
    if grep -qiE -- "$2" "$OUT" "$ERR"; then
        pass "$1: output matches /$2/"
    else
        fail "$1: output does not match /$2/"
        show_output
    fi
}

# json FILE PYTHON_EXPR: evaluate an expression over the parsed JSON `j`; prints the result
# (lists and dicts as JSON).  Exit status non-zero if the file is missing or malformed.
json() {
    python3 - "$1" "$2" <<'PY'
import json, sys
try:
    with open(sys.argv[1]) as f:
        j = json.load(f)
except Exception as e:
    print("json error: %s" % e, file=sys.stderr)
    sys.exit(3)
try:
    v = eval(sys.argv[2], {"j": j, "len": len, "all": all, "any": any, "isinstance": isinstance,
                           "int": int, "str": str, "list": list, "dict": dict, "sorted": sorted,
                           "set": set, "sum": sum})
except Exception as e:
    print("expression %r failed: %r" % (sys.argv[2], e), file=sys.stderr)
    sys.exit(4)
if isinstance(v, (list, dict)):
    print(json.dumps(v, sort_keys=True))
elif isinstance(v, bool):
    print("true" if v else "false")
else:
    print(v)
PY
}

# expect_json WHAT FILE PYTHON_BOOL_EXPR
expect_json() {
    local v
    v=$(json "$2" "$3")
    if [ "$v" = "true" ]; then
        pass "$1: $3"
    else
        fail "$1: $3 is ${v:-unreadable} in $2"
        [ -f "$2" ] && head -c 1500 "$2" | sed 's/^/  | /' && echo
    fi
}

# expect_same_json WHAT FILE_A FILE_B PYTHON_EXPR: the expression has one non-empty value
# over both reports (a determinism check); the two values shown when they differ.
expect_same_json() {
    local a b
    a=$(json "$2" "$4")
    b=$(json "$3" "$4")
    if [ -n "$a" ] && [ "$a" = "$b" ]; then
        pass "$1"
    else
        fail "$1: $4 differs between $2 and $3"
        echo "  a: ${a:0:600}"
        echo "  b: ${b:0:600}"
    fi
}

# The first reproduction's token of a run's --json report (empty if none).
first_token() {
    json "$1" "j['reproductions'][0]['token'] if j.get('reproductions') else ''" 2>/dev/null
}

# expect_token WHAT FILE [REGEX]: sets TOKEN to the first reproduction's token of FILE; it
# must match REGEX (bash =~; default: any w1 token), or the test fails and ends here, since
# what follows replays that token.  WHAT labels the check.
expect_token() {
    local re=${3:-'^w1\.[a-z0-9._@-]+$'}
    TOKEN=$(first_token "$2")
    if [[ "$TOKEN" =~ $re ]]; then
        pass "$1: token $TOKEN"
    else
        fail "$1: no token matching /$re/ in $2 (got '$TOKEN')"
        e2e_finish
    fi
}

# A copy of a target under a unique path, so that pgrep -f finds only this test's processes
# even while other campaigns run the same target.
unique_copy() {
    local name=$1
    local dir
    dir=$(mktemp -d "$E2E_TMP/bin.XXXXXX")
    cp "$TARGETS/$name" "$dir/$name" && chmod 755 "$dir/$name" && echo "$dir/$name"
}

# no_process_left WHAT PATTERN: nothing matching pgrep -f PATTERN, allowing a second for
# signals sent at the end of the campaign to land.
no_process_left() {
    local i
    for i in 1 2 3 4 5 6 7 8 9 10; do
        pgrep -f -- "$2" >/dev/null || { pass "$1: no process left"; return; }
        sleep 0.1
    done
    fail "$1: processes left running:"
    pgrep -a -f -- "$2" | sed 's/^/  | /'
    # clean up by pid: the pattern is this test's own unique temp path
    pgrep -f -- "$2" | xargs -r kill -KILL 2>/dev/null
}

e2e_finish() {
    echo "$E2E_PASSED passed, $E2E_FAILED failed"
    [ "$E2E_FAILED" -eq 0 ]
    exit $?
}
