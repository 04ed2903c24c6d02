#!/usr/bin/env python3
"""Check that the product's files use each other without cycles.

A module is a .c file with the .h of the same name in the same folder (or
either alone). Module A uses module B when A's .c or .h includes B's .h
(resolved as check-includes.py resolves it), or when A's .c names a
function that B's .c defines (not static; a name two modules define is
left out): a header that declares the functions of several files does
not hide who calls whom. The product is every layer of docs/ARCHITECTURE.md's
table that may not use "all" (so tests/ is not product). A cycle is a
strongly connected component of two or more modules: in one, no module can
be read, tested or replaced without the others.

Cycles not yet untied are listed in a file (one per line, its modules
separated by spaces, "#" comments); the list may only shrink: a cycle not
in it, or one that grew beyond its entry, fails; a listed cycle that is gone
or smaller passes, with a note to shorten the list.

    check-include-cycles.py [--known FILE] SRCDIR     TAP report
"""

import importlib.util
import os
import re
import sys

_spec = importlib.util.spec_from_file_location(
    "check_includes", os.path.join(os.path.dirname(os.path.abspath(__file__)), "check-includes.py"))
ci = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ci)


def module_of(relpath):
    return os.path.splitext(relpath)[0]


# A function definition in this project's style: the name and "(" start a
# line's declaration at column 0, the body's "{" opens the next line.
DEFINITION = re.compile(r"^(?!static\b)[A-Za-z_][\w \t\*]*?\b([A-Za-z_]\w*)\([^;{]*\)\s*\n\{", re.M)
COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
IDENT = re.compile(r"\b[A-Za-z_]\w*\b")


def graph(srcdir):
    """{module: set of modules it uses}, product modules only."""
    layers = ci.parse_table(os.path.join(srcdir, "docs", "ARCHITECTURE.md"))
    edges, texts, definer = {}, {}, {}
    for rel in sorted(ci.sources(srcdir)):
        me = ci.layer_of(layers, rel)
        if me is None or "all" in me.uses:
            continue
        mod = module_of(rel)
        edges.setdefault(mod, set())
        with open(os.path.join(srcdir, rel), encoding="utf-8") as f:
            text = f.read()
        texts[rel] = COMMENT.sub(" ", text)
        for m in ci.INCLUDE.finditer(text):
            target, err = ci.resolve(layers, srcdir, rel, m.group(2))
            if err is None and target is not None and module_of(target) != mod:
                edges[mod].add(module_of(target))
        if rel.endswith(".c"):
            for m in DEFINITION.finditer(texts[rel]):
                definer.setdefault(m.group(1), set()).add(mod)
    functions = {name: mods.pop() for name, mods in definer.items() if len(mods) == 1}
    # a header's own declarations are not uses: only .c files call
    for rel, text in texts.items():
        if not rel.endswith(".c"):
            continue
        mod = module_of(rel)
        for name in set(IDENT.findall(text)):
            other = functions.get(name)
            if other is not None and other != mod:
                edges[mod].add(other)
    return edges


def cycles(edges):
    """The strongly connected components of two or more modules (Tarjan's
    algorithm, iterative), each a sorted tuple, sorted."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                scc = []
                while True:
                    n = stack.pop()
                    on_stack.discard(n)
                    scc.append(n)
                    if n == node:
                        break
                if len(scc) > 1:
                    found.append(tuple(sorted(scc)))
    return sorted(found)


def read_known(path):
    known = []
    if path is None:
        return known
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if line:
                known.append(frozenset(line))
    return known


def main(argv):
    known_path = None
    args = []
    it = iter(argv)
    for a in it:
        if a == "--known":
            known_path = next(it, None)
        else:
            args.append(a)
    srcdir = os.path.normpath(args[0] if args else os.path.join(os.path.dirname(__file__), "..", ".."))
    edges = graph(srcdir)
    known = read_known(known_path)
    found = cycles(edges)
    results = []
    for scc in found:
        entry = next((k for k in known if set(scc) <= k), None)
        name = " <-> ".join(scc)
        if entry is None:
            results.append((False, f"include cycle: {name}", []))
        elif set(scc) < entry:
            results.append((True, f"known include cycle, smaller now: {name}",
                            [f"shorten its entry in the list of known cycles to: {' '.join(scc)}"]))
        else:
            results.append((True, f"known include cycle: {name}", []))
    for k in known:
        if not any(set(scc) <= k for scc in found):
            results.append((True, f"known include cycle gone: {' '.join(sorted(k))}",
                            ["remove it from the list of known cycles"]))
    acyclic = sum(1 for m in edges if not any(m in scc for scc in found))
    results.insert(0, (True, f"{len(edges)} product modules, {acyclic} outside any cycle", []))
    print(f"1..{len(results)}")
    for i, (ok, name, notes) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {name}")
        for n in notes:
            print(f"# {n}")
    return 0 if all(ok for ok, _, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
