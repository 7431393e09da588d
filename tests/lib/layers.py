#!/usr/bin/env python3
"""The architecture's rules about includes and sizes, checked on the source tree (TAP).

  python3 tests/lib/layers.py [TOP]

- common/ includes nothing of cgi/ or worker/; cgi/ and worker/ include nothing of each other;
- worker/'s layers (docs/ARCHITECTURE.md), lowest first: core/, upstream/, sync/, jobs/, then
  the process modules in worker/ itself; a file includes only its own layer and those below;
- no include circle among the project's own headers (a .c and its .h count as one module);
- no source file over MAX_LINES lines.
Includes are quoted names ("http.h") resolved against every project folder: names are unique.
"""
import os
import re
import sys

TOP = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
# The longest a .c or .h file may be: one sitting's read.
MAX_LINES = 1000
# worker/'s layers, lowest first (folder relative to TOP).
LAYERS = ["worker/core", "worker/upstream", "worker/sync", "worker/jobs", "worker"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources():
    out = []
    for top in ("common", "cgi", "worker"):
        for d, _, files in os.walk(os.path.join(TOP, top)):
            for f in files:
                if f.endswith((".c", ".h")):
                    out.append(os.path.relpath(os.path.join(d, f), TOP))
    return sorted(out)


def area(path):
    return path.split("/", 1)[0]


def layer(path):
    d = os.path.dirname(path)
    return LAYERS.index(d) if d in LAYERS else None


def module(path):
    return os.path.splitext(path)[0]


def main():
    files = sources()
    by_name = {}
    for f in files:
        if f.endswith(".h"):
            by_name.setdefault(os.path.basename(f), []).append(f)
    n = 0
    failed = 0

    def tap(ok, what, detail=()):
        nonlocal n, failed
        n += 1
        print("%s %d - %s" % ("ok" if ok else "not ok", n, what))
        for line in detail:
            print("#   " + line)
        if not ok:
            failed += 1

    dup = [k for k, v in by_name.items() if len(v) > 1]
    tap(not dup, "every header name is unique", ["%s: %s" % (k, by_name[k]) for k in dup])

    edges = {}       # module -> set of modules it includes
    cross, upward, unknown = [], [], []
    for f in files:
        with open(os.path.join(TOP, f), encoding="utf-8") as fh:
            text = fh.read()
        for inc in INCLUDE.findall(text):
            name = os.path.basename(inc)
            targets = by_name.get(name)
            if not targets:
                if not inc.startswith(("tap.h",)):
                    unknown.append("%s includes \"%s\"" % (f, inc))
                continue
            t = targets[0]
            if module(t) != module(f):
                edges.setdefault(module(f), set()).add(module(t))
            a, b = area(f), area(t)
            if a != b and not (b == "common"):
                cross.append("%s includes %s" % (f, t))
            la, lb = layer(f), layer(t)
            if la is not None and lb is not None and lb > la:
                upward.append("%s (%s) includes %s (%s)" % (f, LAYERS[la], t, LAYERS[lb]))
    tap(not unknown, "every quoted include names a project header", unknown)
    tap(not cross, "common/ includes only common/; cgi/ and worker/ share only common/", cross)
    tap(not upward, "worker/: no include from a lower layer to a higher one", upward)

    # Circles: strongly connected components of more than one module.
    index, low, stack, on, comps = {}, {}, [], set(), []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(set(edges) | {w for ws in edges.values() for w in ws}):
        if v not in index:
            strong(v)
    tap(not comps, "no include circles", [" <-> ".join(c) for c in comps])

    long_files = []
    for f in files:
        with open(os.path.join(TOP, f), encoding="utf-8") as fh:
            lines = sum(1 for _ in fh)
        if lines > MAX_LINES:
            long_files.append("%s: %d lines" % (f, lines))
    tap(not long_files, "no source file over %d lines" % MAX_LINES, long_files)

    first = []
    for f in files:
        if not f.endswith(".c"):
            continue
        with open(os.path.join(TOP, f), encoding="utf-8") as fh:
            head = fh.read(400)
        base = os.path.basename(f)
        if not re.match(r"/\*\n \* %s - \S" % re.escape(base), head):
            first.append(f)
    tap(not first, "every .c file opens with a comment naming its one concern", first)
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
