#!/usr/bin/python3
# check-include-cycles.py: keeps the library's include graph a hierarchy
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Reads the quoted includes of the .c and .h files under libmsgobj/ and
# transports/ and fails (exit status 1) when:
#
# - headers include each other in a cycle;
# - modules depend on each other's private headers in a cycle. A module is
#   a header stem with its sources: msg-message.h, msg-message-private.h,
#   msg-message.c and msg-message-mime.c all belong to msg-message (the
#   longest header stem that a file name begins with). Public headers are
#   the API every module may use, so only includes of *-private.h count;
# - a library source includes the umbrella "msgobj.h", which hides what it
#   depends on.
#
# Usage: check-include-cycles.py [SOURCE_ROOT]

import os
import re
import sys

DIRS = ("libmsgobj", "transports")
UMBRELLA = "msgobj.h"
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)
COMMENT_RE = re.compile(r"/\*.*?\*/", re.DOTALL)


def find_sources(root):
    files = []
    for top in DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames.sort()
            for name in sorted(filenames):
                if name.endswith((".c", ".h")):
                    files.append(os.path.relpath(os.path.join(dirpath, name), root))
    return files


def read_includes(root, path, known):
    """Returns the project files that @path includes, resolved as the
    compiler does: next to the including file, then in libmsgobj/.
    Generated and system headers are left out."""
    with open(os.path.join(root, path), encoding="utf-8") as f:
        text = COMMENT_RE.sub("", f.read())
    result = []
    for name in INCLUDE_RE.findall(text):
        for candidate in (os.path.join(os.path.dirname(path), name),
                          os.path.join("libmsgobj", name)):
            candidate = os.path.normpath(candidate)
            if candidate in known:
                result.append(candidate)
                break
    return result


def stem(path):
    base = os.path.splitext(path)[0]
    if base.endswith("-private"):
        base = base[: -len("-private")]
    return base


def module_of(path, modules):
    """The longest module (header stem) that @path's stem is or begins with."""
    s = stem(path)
    best = None
    for m in modules:
        if (s == m or s.startswith(m + "-")) and (best is None or len(m) > len(best)):
            best = m
    return best if best is not None else s


def find_cycles(graph):
    """Tarjan's strongly connected components; returns, for each component
    that has a cycle, its members and one shortest cycle through its first
    member (a list of nodes, the first repeated at the end)."""
    index = {}
    low = {}
    stack = []
    on_stack = set()
    components = []
    counter = [0]

    def connect(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            components.append(set(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)

    cycles = []
    for component in components:
        start = min(component)
        if len(component) == 1 and start not in graph.get(start, ()):
            continue
        # The shortest way back to start, inside the component.
        paths = {start: [start]}
        queue = [start]
        found = None
        while queue and found is None:
            v = queue.pop(0)
            for w in sorted(graph.get(v, ())):
                if w not in component:
                    continue
                if w == start:
                    found = paths[v] + [start]
                    break
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    queue.append(w)
        cycles.append((sorted(component), found))
    return sorted(cycles)


def describe_rest(members, cycle):
    rest = [os.path.basename(m) for m in members if m not in cycle]
    if not rest:
        return ""
    return " (caught in the same cycle: %s)" % ", ".join(rest)


def main(argv):
    root = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    files = find_sources(root)
    if not files:
        print("check-include-cycles: no sources under %s" % root, file=sys.stderr)
        return 1
    known = set(files)
    includes = {f: read_includes(root, f, known) for f in files}
    headers = [f for f in files if f.endswith(".h")]
    modules = {stem(h) for h in headers}
    problems = []

    # Headers.
    header_graph = {h: {i for i in includes[h] if i.endswith(".h")} for h in headers}
    for members, cycle in find_cycles(header_graph):
        problems.append("header include cycle: " + " -> ".join(cycle)
                        + describe_rest(members, cycle))

    # Modules, through private headers.
    module_graph = {}
    evidence = {}
    for f in files:
        a = module_of(f, modules)
        for i in includes[f]:
            if not i.endswith("-private.h"):
                continue
            b = module_of(i, modules)
            if a == b:
                continue
            module_graph.setdefault(a, set()).add(b)
            evidence.setdefault((a, b), []).append("%s includes %s" % (f, os.path.basename(i)))
    for members, cycle in find_cycles(module_graph):
        steps = []
        for a, b in zip(cycle, cycle[1:]):
            steps.append("  %s -> %s: %s" % (os.path.basename(a), os.path.basename(b),
                                              "; ".join(evidence[(a, b)])))
        problems.append("module dependency cycle: "
                        + " -> ".join(os.path.basename(m) for m in cycle)
                        + describe_rest(members, cycle) + "\n" + "\n".join(steps))

    # The umbrella header.
    umbrella = os.path.join("libmsgobj", UMBRELLA)
    for f in files:
        if f.startswith("libmsgobj" + os.sep) and f.endswith(".c") and umbrella in includes[f]:
            problems.append('%s includes "%s": include the headers it uses' % (f, UMBRELLA))

    for p in problems:
        print("check-include-cycles: " + p)
    if problems:
        return 1
    print("check-include-cycles: %d files, %d modules: no cycle, no umbrella include"
          % (len(files), len(module_graph)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
