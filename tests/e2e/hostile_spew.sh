#!/bin/bash
# hostile_spew.sh WEDGE TARGETS SHIM
# A target that writes 5 MB to stdout: the runs pass and wedge's memory stays bounded (it keeps
# a tail of the output, not all of it).
source "$(dirname "$0")/lib.sh"
e2e_init "$@"
PROG=$TARGETS/spews_output
LIMIT_KB=40000 # 10 runs x 5 MB would be 50 MB if the output were kept

if [ -x /usr/bin/time ]; then
    run 120 /usr/bin/time -v -o time.txt "$WEDGE" run -n 10 -q --json run.json --out reports -- "$PROG"
    expect_rc "spew campaign" 0
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' time.txt)
    if [ -n "$rss" ] && [ "$rss" -lt "$LIMIT_KB" ]; then
        pass "wedge max RSS ${rss} kB < ${LIMIT_KB} kB"
    else
        fail "wedge max RSS ${rss:-unknown} kB (limit ${LIMIT_KB} kB)"
    fi
else
    echo "note: /usr/bin/time missing (scripts/setup installs it): RSS not measured"
    run 120 "$WEDGE" run -n 10 -q --json run.json --out reports -- "$PROG"
    expect_rc "spew campaign" 0
fi
expect_json "spew runs pass" run.json "j['runs'] == 10 and j['reproductions'] == []"
e2e_finish
