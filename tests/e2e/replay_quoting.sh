#!/bin/bash
# replay_quoting.sh WEDGE TARGETS SHIM
# Arguments with a newline, an ESC, other control bytes, quotes, '!', invalid UTF-8 or bidi
# controls: the replay command (summary, report file, JSON) is one line of printable text,
# and pasted into bash it runs the same argv (issue 7, item 10).
source "$(dirname "$0")/lib.sh"
e2e_init "$@"

# The target writes its argv NUL-separated, then fails.
SCRIPT='printf "%s\0" "$0" "$@" > argv.out; exit 3'
ARGS=($'two\nlines' $'\e[31mred\e[0m' "it's" $'tab\there' '$HOME `id` $(id)' '!bang !!' \
      'back\slash' '' 'ü' $'\xff\xfe' $'\x7f' $'\xc2\x9b' $'\xe2\x80\xae' $'cr\r' '--' ' sp' '*')
run 120 "$WEDGE" run -n 1 -q --json q.json --out reports -- /bin/sh -c "$SCRIPT" sh "${ARGS[@]}"
expect_rc "failing run" 1
cp argv.out argv.campaign

# No control byte (besides the line ends) in the lines that carry the replay command.
ctl() { LC_ALL=C grep -a -c $'[\x01-\x08\x0b-\x1f\x7f]' "$1"; }
line=$(grep -a '^    replay: ' "$OUT")
report=$(json q.json "j['reproductions'][0]['report']")
for f in "$OUT" "$report"; do
    if [ "$(ctl "$f")" -eq 0 ]; then pass "no control byte in $(basename "$f")"; else fail "control bytes in $f"; fi
done
expect_json "JSON replay is printable" q.json "all(c.isprintable() for c in j['reproductions'][0]['replay'])"
if [ "$(grep -a -c '^replay: ' "$report")" -eq 1 ] && [ "$(grep -a -c '^    replay: ' "$OUT")" -eq 1 ]; then
    pass "the replay command is one line"
else
    fail "the replay command is not one line"
fi

# Pasted into bash, each form gives back the argv, byte for byte.
printf '%s\0' /bin/sh -c "$SCRIPT" sh "${ARGS[@]}" > argv.want
check_paste() {
    local what=$1 cmd=$2
    rm -f argv.pasted
    bash -c 'wedge() { while [ "$1" != "--" ]; do shift; done; shift; printf "%s\0" "$@" > argv.pasted; }
             eval "$1"' bash "$cmd"
    if cmp -s argv.pasted argv.want; then pass "$what: same argv"; else fail "$what: argv differs"; echo "  $cmd"; fi
}
check_paste "summary line" "${line#    replay: }"
check_paste "report file" "$(grep -a '^replay: ' "$report" | sed 's/^replay: *//')"
check_paste "JSON replay" "$(json q.json "j['reproductions'][0]['replay']")"

# And with the real wedge: the pasted command replays the same program with the same argv.
rm -f argv.out
WEDGE_BIN=$WEDGE bash -c 'wedge() { "$WEDGE_BIN" "$@"; }; eval "$1"' bash "${line#    replay: }" >paste.out 2>&1
RC=$?; OUT=paste.out; ERR=/dev/null
expect_rc "pasted replay reproduces" 1
if cmp -s argv.out argv.campaign; then pass "pasted replay: the target saw the same argv"; else fail "pasted replay: the target's argv differs"; fi
e2e_finish
