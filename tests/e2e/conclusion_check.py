"""conclusion_check.py JSON SOURCE SPEC... : the conclusions of a --json report name the
right variable and source lines.

SPEC is "KINDS@OBJECT_REGEX@MARKER@MARKER[@MARKER]": conclusion kinds (comma-separated), a
regex the object's name must match in full, and for each access in order (read, interfering
write, stale write; or first, second of a racing pair) a marker whose line is found in SOURCE
as a "WEDGE-LINE: MARKER" comment (the line numbers are never written into the test), or
"modoff": the site is given as module+0xoffset (a program without debug info).  A
racing pair matches when each of its two lines is one of the spec's lines.  In the object
regex, LINE(MARKER) stands for that marker's line number (a heap block's allocation line).

Exit 0 if at least one reproduction has a conclusion matching a spec and none has a
conclusion of a kind named by the specs that matches none; prints what it saw.
"""
import json
import re
import sys


def marker_lines(path):
    lines = {}
    with open(path) as f:
        for n, text in enumerate(f, 1):
            for m in re.finditer(r"WEDGE-LINE: ([a-z_]+)", text):
                lines[m.group(1)] = n
    return lines


def first_line(site, base):
    m = re.search(re.escape(base) + r":(\d+)\)", site)
    if m:
        return int(m.group(1))
    return "modoff" if re.search(r"\+0x[0-9a-f]+", site) else None


def main():
    report, source = sys.argv[1], sys.argv[2]
    base = source.rsplit("/", 1)[-1]
    marks = marker_lines(source)
    specs = []
    for s in sys.argv[3:]:
        parts = s.split("@")
        obj_rx = re.sub(r"LINE\(([a-z_]+)\)", lambda m: str(marks.get(m.group(1), "?")), parts[1])
        specs.append((parts[0].split(","), re.compile(obj_rx),
                      [marks.get(p, p) for p in parts[2:]]))
    kinds = set(k for sp in specs for k in sp[0])
    with open(report) as f:
        j = json.load(f)
    good = bad = none = 0
    for r in j["reproductions"]:
        c = r.get("conclusion")
        if not c or c["kind"] not in kinds:
            none += 1
            continue
        obj = c["object"]["name"] if c.get("object") else ""
        lines = [first_line(a["site"], base) for a in c["accesses"]]
        ok = False
        for ks, rx, want in specs:
            if c["kind"] not in ks or not rx.fullmatch(obj):
                continue
            if c["kind"] == "racing_pair":
                ok = len(lines) == 2 and all(n in want for n in lines)
            else:
                ok = lines == want
            if ok:
                break
        if ok:
            good += 1
        else:
            bad += 1
            print("wrong conclusion: %s on %r at lines %s: %s" % (c["kind"], obj, lines,
                                                                 c.get("summary")))
    print("conclusions: %d right, %d wrong, %d without one of kinds %s (lines %s)"
          % (good, bad, none, sorted(kinds), marks))
    sys.exit(0 if good and not bad else 1)


main()
