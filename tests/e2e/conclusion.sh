#!/bin/bash
# conclusion.sh WEDGE TARGETS SHIM NAME RUNS SPEC [RUN OPTIONS...]
# A campaign on NAME: its reports lead with a conclusion that names the racing variable and
# the source lines (SPEC: see conclusion_check.py, several joined by "||"; the lines are found in the target's source
# by their WEDGE-LINE marker comments), in the --json report, on the terminal (the group line)
# and in the report file (before the per-thread events).
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
e2e_init "$@"
shift "$E2E_ARGS_USED"
NAME=$1
RUNS=$2
SPEC=$3
SPECS=()
rest=$SPEC
while [[ $rest == *"||"* ]]; do
    SPECS+=("${rest%%||*}")
    rest=${rest#*||}
done
SPECS+=("$rest")
shift 3
BASE=${NAME%_nodebug}
BASE=${BASE%_stripped}
SRC=$(cd "$HERE/../targets" && pwd)/$BASE.c

# TRIES (environment): campaigns with new seeds until one's conclusions check out.  A noise
# campaign without watching is explained by a few watched replays of one token per group,
# which catch the racing accesses in most campaigns, not all (about 4 in 5 for router_history:
# under the load of a parallel suite less; 8 tries); a wrong conclusion fails at once whatever TRIES says.
TRIES=${TRIES:-1}
# TOKEN (environment): a token that reproduces NAME's failure with this build (a rare one:
# pct_depth2 under watching fails in 1 run of 500); replayed first, and if it reproduces its
# conclusion is checked without a campaign.  Another compiler may lay the program out so that
# it does not: then the campaign runs as usual.
if [ -n "${TOKEN:-}" ]; then
    run 120 "$WEDGE" replay -q --json run.json --out reports --timeout 3s "$TOKEN" -- "$TARGETS/$NAME"
    if [ "$(json run.json "j['reproduced']" 2>/dev/null)" = "1" ]; then
        TRIES=0
        try=replay
        /usr/bin/python3 "$HERE/conclusion_check.py" run.json "$SRC" "${SPECS[@]}" >check.txt
        CHECK=$?
    else
        echo "token $TOKEN did not reproduce with this build: a campaign instead"
    fi
fi
for try in $(seq 1 "$TRIES"); do
    rm -rf reports
    run 200 "$WEDGE" run -n "$RUNS" --seed "9e1$try" -q --json run.json --out reports "$@" -- "$TARGETS/$NAME"
    /usr/bin/python3 "$HERE/conclusion_check.py" run.json "$SRC" "${SPECS[@]}" >check.txt
    CHECK=$?
    grep -q '^wrong conclusion' check.txt && break
    [ $CHECK -eq 0 ] && break
done
expect_rc "$NAME campaign" 1
if [ $CHECK -eq 0 ]; then
    pass "$NAME: $(tail -n 1 check.txt) (campaign $try of at most $TRIES)"
else
    fail "$NAME: conclusions do not match $SPEC"
    sed 's/^/  | /' check.txt | tail -n 12
fi
# the terminal names an object the JSON's conclusions name, on a group line (as found) or the
# group's "why:" line in the summary; the report file of a reproduction with a conclusion
# leads with it
OBJS=$(json run.json "sorted(set(r['conclusion']['object']['name'] for r in j['reproductions'] if r.get('conclusion') and r['conclusion'].get('object')))" 2>/dev/null)
# (a variable in backquotes; a heap block, whose name is words, as "a heap block ...")
SEEN=""
while IFS= read -r o; do
    [ -n "$o" ] || continue
    grep -E '^group |^    why: |^conclusion: ' "$OUT" | grep -qF -e "\`$o\`" -e "a $o" && SEEN=$o
done < <(/usr/bin/python3 -c 'import json,sys; print("\n".join(json.loads(sys.argv[1])))' "${OBJS:-[]}")
if [ -n "$SEEN" ]; then
    pass "$NAME: terminal names \`$SEEN\`"
else
    fail "$NAME: no group line names one of $OBJS on the terminal"
    show_output
fi
OBJ=$(json run.json "[r['conclusion']['object']['name'] for r in j['reproductions'] if r.get('conclusion') and r['conclusion'].get('object')][0]" 2>/dev/null)
FILE=$(json run.json "[r['report'] for r in j['reproductions'] if r.get('conclusion') and r['conclusion'].get('object') and r['conclusion']['object']['name'] == '$OBJ'][0]" 2>/dev/null)
if [ -f "$FILE" ] && awk '/^conclusion:/ {c = NR} /^threads/ {t = NR} END {exit !(c && t && c < t)}' "$FILE" &&
   grep -qF -e "\`$OBJ\`" -e "a $OBJ" "$FILE"; then
    pass "$NAME: report file leads with the conclusion"
else
    fail "$NAME: report file $FILE has no conclusion before the threads"
    [ -f "$FILE" ] && head -n 12 "$FILE" | sed 's/^/  | /'
fi
e2e_finish
