#!/usr/bin/python3
"""tests/shim/rules.py PRELOAD_DIR - the rules for code inside the target, checked.

The shim makes system calls one way, wedge_sys() (preload/shim.h): libc's syscall() is wedge's
own wrapper (preload/futex.c) and, under system call user dispatch, code outside the shim's
own, so a call through it is dispatched back to the shim.  This fails, naming file and line,
on any call of syscall() in preload/ outside futex.c, where the wrapper is defined and the
target's calls are passed on.  Comments and string literals are skipped.
"""
import os
import re
import sys

ALLOWED = {"futex.c"}
CALL = re.compile(r"(?<![\w.>])syscall\s*\(")


def code_only(text):
    """The text with comments and string/char literals blanked (newlines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text[i] in "\"'":
            q, j = text[i], i + 1
            while j < n and text[j] != q:
                j += 2 if text[j] == "\\" else 1
            out.append(" " * (j + 1 - i))
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def main():
    root = sys.argv[1]
    bad = []
    files = sorted(f for f in os.listdir(root) if f.endswith((".c", ".h")))
    for name in files:
        if name in ALLOWED:
            continue
        with open(os.path.join(root, name)) as f:
            code = code_only(f.read())
        for no, line in enumerate(code.split("\n"), 1):
            if CALL.search(line):
                bad.append("%s:%d: syscall() called; use wedge_sys() (preload/shim.h)" % (name, no))
    for b in bad:
        print(b)
    print("%d shim files checked, %d calls of syscall() outside futex.c" % (len(files), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
