#!/bin/bash
# sanitizer.sh WEDGE TARGETS SHIM CASE - wedge on sanitizer builds (issue 13).
#   found NAME RUNS [OPTS...]   NAME (an ASan/UBSan build) reproduces within RUNS runs; with
#                               SAN_KIND set, the outcome names that sanitizer finding
#   twin NAME RUNS [OPTS...]    NAME never fails
#   refuse NAME REGEX [OPTS...] wedge refuses NAME with exit 2 and one line matching REGEX
#   options                     the user's ASAN_OPTIONS reach the program (wedge adds its own first)
#   wrapped BUGGY TWIN RUNS [OPTS...]
#                               both run through a shell script that execs them (the script's
#                               LD_PRELOAD holds only libwedge; the shim puts the sanitizer
#                               runtime first across the exec): the twin passes every run, the
#                               buggy one reproduces with the sanitizer's finding
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
CASE=$1
shift
need() {
    [ -x "$TARGETS/$1" ] || skip_test "$1 not built (the compiler has no sanitizer runtime for it)"
}

case $CASE in
found)
    NAME=$1 RUNS=$2
    shift 2
    need "$NAME"
    run 300 "$WEDGE" run -n "$RUNS" --stop-after 1 -q --json run.json --out reports "$@" -- "$TARGETS/$NAME"
    expect_rc "$NAME found within $RUNS runs $*" 1
    if [ -n "${SAN_KIND:-}" ]; then
        expect_json "$NAME outcome names the finding" run.json \
            "j['reproductions'][0]['outcome']['sanitizer']['finding'] == '$SAN_KIND'"
        expect_json "$NAME grouped by the sanitizer's first frame" run.json \
            "j['reproductions'][0]['outcome']['sanitizer']['frames'][0] == '${SAN_FRAME:-}'"
        report=$(json run.json "j['reproductions'][0]['report']")
        if grep -q "^finding: .*$SAN_KIND" "$report" && grep -q "^sanitizer report:" "$report" &&
            grep -q "SUMMARY: AddressSanitizer" "$report" && grep -q "^threads" "$report"; then
            pass "$NAME report: the finding, the sanitizer's report and wedge's interleaving"
        else
            fail "$NAME report lacks the finding, the sanitizer's report or the interleaving"
            head -n 30 "$report" | sed 's/^/  | /'
        fi
        # replay gives the same finding.  Noise replay is not exact: the token that failed
        # most often in the campaign's confirmation replays (at least 2 of 8 there), 40 times
        tok=$(json run.json "max(j['reproductions'], key=lambda r: r.get('confirmed', 0))['token']")
        run 200 "$WEDGE" replay --runs 40 --json replay.json "$tok" -- "$TARGETS/$NAME"
        expect_rc "$NAME replay of $tok" 1
    fi
    ;;
twin)
    NAME=$1 RUNS=$2
    shift 2
    need "$NAME"
    run 280 "$WEDGE" run -n "$RUNS" -q --timeout 5s --json run.json --out reports "$@" -- "$TARGETS/$NAME"
    expect_rc "$NAME x$RUNS $*" 0
    expect_json "$NAME all runs passed" run.json "j['runs'] == $RUNS and j['reproductions'] == []"
    ;;
refuse)
    NAME=$1 REGEX=$2
    shift 2
    need "$NAME"
    run 60 "$WEDGE" run -n 5 -q "$@" -- "$TARGETS/$NAME"
    expect_rc "$NAME refused" 2
    expect_output "$NAME: the reason" "$REGEX"
    if [ "$(grep -c . "$ERR")" -eq 1 ]; then pass "one line"; else fail "not one line"; show_output; fi
    ;;
options)
    need uaf_race_asan
    # exitcode=42 is the user's: the failing runs of the use-after-free race exit with it
    ASAN_OPTIONS=exitcode=42 run 300 "$WEDGE" run -n 200 --stop-after 1 -q --json run.json \
        --out reports -- "$TARGETS/uaf_race_asan"
    expect_rc "uaf_race_asan with ASAN_OPTIONS=exitcode=42" 1
    expect_json "the user's option reached the program" run.json \
        "j['reproductions'][0]['outcome']['code'] == 42"
    ;;
wrapped)
    BUGGY=$1 TWIN=$2 RUNS=$3
    shift 3
    need "$BUGGY"
    need "$TWIN"
    printf '#!/bin/sh\n# a test wrapper, as CI scripts have them\nexec "$@"\n' >wrap.sh
    chmod +x wrap.sh
    run 280 "$WEDGE" run -n "$RUNS" -q --timeout 5s --json twin.json --out reports "$@" -- ./wrap.sh "$TARGETS/$TWIN"
    expect_rc "wrapped $TWIN x$RUNS $*" 0
    expect_json "wrapped $TWIN: all runs passed" twin.json "j['runs'] == $RUNS and j['reproductions'] == []"
    run 280 "$WEDGE" run -n "$RUNS" --stop-after 1 -q --json bug.json --out reports "$@" -- ./wrap.sh "$TARGETS/$BUGGY"
    expect_rc "wrapped $BUGGY found within $RUNS runs $*" 1
    expect_json "wrapped $BUGGY: the sanitizer's finding" bug.json \
        "j['reproductions'][0]['outcome'].get('sanitizer', {}).get('finding') == '${SAN_KIND:-}'"
    ;;
*)
    fail "unknown case $CASE"
    ;;
esac
e2e_finish
