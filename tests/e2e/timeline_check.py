"""timeline_check.py PAGE DOM STDERR SHOT: the timeline page rendered in headless Chromium.

PAGE the HTML wedge wrote, DOM Chromium's --dump-dom of it, STDERR Chromium's log with
--enable-logging=stderr --v=0, SHOT its --screenshot PNG.  Checks: the page loads nothing
from the network; the page's own self-check (written into the DOM by its script) says it
drew a lane per thread, the racing accesses and a link between them; no console message or
uncaught error was logged; the screenshot is no blank page: it has many colors, and the racing
accesses' red is in it.  Prints one line per check; exit 0 if all passed.
"""
import re
import struct
import sys
import zlib


def png_pixels(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError("unexpected PNG format %r" % (hdr,))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    rows = []
    i = 0
    for _ in range(h):
        ft = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ft == 1:
                line[x] = (line[x] + a) & 255
            elif ft == 2:
                line[x] = (line[x] + b) & 255
            elif ft == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def main():
    page, dom, err, shot = sys.argv[1:5]
    ok = True

    def check(cond, what):
        nonlocal ok
        print(("PASS: " if cond else "FAIL: ") + what)
        ok = ok and cond

    html = open(page, encoding="utf-8").read()
    check(not re.search(r"""(src|href)\s*=|@import|url\(|fetch\(|XMLHttpRequest""", html),
          "the page loads nothing (no src/href/url/fetch)")
    d = open(dom, encoding="utf-8", errors="replace").read()
    m = re.search(r"selfcheck: ok lanes=(\d+) events=(\d+) racing=(\d+) links=(\d+)", d)
    check(m is not None, "the page's self-check ran: %s" % (m.group(0) if m else
          re.findall(r"selfcheck:[^<]*", d)))
    if m:
        lanes, events, racing, links = map(int, m.groups())
        check(lanes >= 3 and events > 10, "lanes %d (>= 3), events %d" % (lanes, events))
        check(racing >= 2 and links >= 1, "racing accesses %d (>= 2), links %d" % (racing, links))
    e = open(err, encoding="utf-8", errors="replace").read()
    bad = [l for l in e.splitlines() if "CONSOLE" in l or "Uncaught" in l]
    check(not bad, "no console messages or uncaught errors%s" % ("" if not bad else ": " + bad[0]))
    w, h, bpp, rows = png_pixels(shot)
    colors, red = set(), 0
    for r in rows[::2]:
        for x in range(0, len(r), bpp * 2):
            px = r[x:x + 3]
            colors.add(px)
            if px[0] > 200 and px[1] < 60 and px[2] < 60:
                red += 1
    check(w >= 800 and len(colors) >= 20, "screenshot %dx%d with %d colors" % (w, h, len(colors)))
    check(red >= 10, "racing accesses drawn in red (%d sampled pixels)" % red)
    sys.exit(0 if ok else 1)


main()
