#!/bin/bash
# timeline.sh WEDGE TARGETS SHIM
# wedge replay TOKEN --timeline out.html: one self-contained page that headless Chromium
# renders with no console error; a lane per thread and the racing accesses drawn (the page's
# self-check in the DOM, and the red of the racing accesses in a screenshot).  Chromium is an
# optional package (scripts/setup --browser); without it the test skips.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
e2e_init "$@"
CHROMIUM=$(command -v chromium || true)
[ -n "$CHROMIUM" ] || skip_test "no chromium (scripts/setup --browser installs it)"

run 120 "$WEDGE" run --mode serial --watch mem -n 200 --stop-after 1 --seed 7 -q --json run.json --out reports -- "$TARGETS/lost_increment"
expect_rc "lost_increment campaign" 1
TOKEN=$(first_token run.json)
run 120 "$WEDGE" replay --timeline "$E2E_TMP/out.html" -q "$TOKEN" -- "$TARGETS/lost_increment"
expect_rc "replay --timeline" 1
expect_output "says where the page is" "^timeline: .*out.html"

# Chromium must reach nothing: every network feature off, a fresh profile per run.
chrome() {
    local profile
    profile=$(mktemp -d "$E2E_TMP/profile.XXXXXX")
    timeout -k 5 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" "$@"
}
chrome --enable-logging=stderr --v=0 --dump-dom "file://$E2E_TMP/out.html" >dom.html 2>chrome.err
chrome --window-size=1400,900 --screenshot="$E2E_TMP/shot.png" "file://$E2E_TMP/out.html" >/dev/null 2>&1
if [ -s shot.png ] && /usr/bin/python3 "$HERE/timeline_check.py" out.html dom.html chrome.err shot.png >check.txt; then
    pass "timeline renders: $(grep -c '^PASS' check.txt) checks"
else
    fail "timeline checks"
    sed 's/^/  | /' check.txt 2>/dev/null
fi
e2e_finish
