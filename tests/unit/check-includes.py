#!/usr/bin/env python3
"""Check every quoted #include against docs/ARCHITECTURE.md's layer table.

The table (the one whose header row is "| layer | folder | included as |
may use |") names each layer's folder, the prefix its headers are included
by, and the layers it may use. The rules it enforces:

  * a header in the including file's own folder is included bare
    (#include "monitor.h" inside conmon-kata/);
  * any other header is included by its layer's prefix and its path inside
    that layer's folder (#include "base/ck-error.h"), never by a bare name
    that only an -I flag would find, and never with "..";
  * the including file's layer may use the header's layer.

A file belongs to the layer whose folder is the longest prefix of its path.

    check-includes.py SRCDIR          TAP report, one test per layer
    check-includes.py --fix SRCDIR    rewrite bare cross-folder includes to
                                      their qualified form (when unambiguous)
"""

import os
import re
import sys

INCLUDE = re.compile(r'^(\s*#\s*include\s+)"([^"]+)"', re.M)
# Headers the build generates, by the folder it generates them into.
GENERATED = {"vmctl/lib/base/ck-version.h"}
SKIP_DIRS = {".git", "subprojects"}


class Layer:
    def __init__(self, name, folder, prefix, uses):
        self.name, self.folder, self.prefix, self.uses = name, folder, prefix, uses


def parse_table(arch_path):
    """The layer table of ARCHITECTURE.md, as a list of Layer."""
    with open(arch_path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    layers = []
    in_table = False
    for line in lines:
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if not in_table:
            in_table = [c.lower() for c in cells] == ["layer", "folder", "included as", "may use"]
            continue
        if not line.startswith("|"):
            break
        if set(cells[0]) <= set("-: "):
            continue
        name, folder, prefix, uses = cells
        uses = {u.strip().strip("`") for u in uses.split(",")} - {"", "nothing", "-"}
        layers.append(Layer(name, folder.rstrip("/"), prefix.rstrip("/") + "/", uses))
    if not layers:
        sys.exit(f"{arch_path}: no table headed | layer | folder | included as | may use |")
    names = {l.name for l in layers}
    for l in layers:
        for u in l.uses - {"all"}:
            if u not in names:
                sys.exit(f"{arch_path}: layer {l.name} may use unknown layer {u!r}")
    return layers


def layer_of(layers, relpath):
    best = None
    for l in layers:
        if relpath == l.folder or relpath.startswith(l.folder + "/"):
            if best is None or len(l.folder) > len(best.folder):
                best = l
    return best


def sources(srcdir):
    for root, dirs, files in os.walk(srcdir):
        rel = os.path.relpath(root, srcdir)
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith("build")
                   and not (rel == "." and d.startswith("."))]
        for name in files:
            if name.endswith((".c", ".h")):
                yield os.path.normpath(os.path.join(rel, name))


def exists(srcdir, relpath):
    return relpath in GENERATED or os.path.isfile(os.path.join(srcdir, relpath))


def resolve(layers, srcdir, includer, target):
    """(header's path from the root, error or None) for one include."""
    here = os.path.dirname(includer)
    if ".." in target.split("/"):
        return None, f'"{target}": no ".." in includes; name the layer'
    if "/" not in target and exists(srcdir, os.path.join(here, target)):
        return os.path.normpath(os.path.join(here, target)), None
    for l in sorted(layers, key=lambda l: -len(l.prefix)):
        if target.startswith(l.prefix):
            path = l.folder + "/" + target[len(l.prefix):]
            if exists(srcdir, path) and layer_of(layers, path) is l:
                return path, None
    return None, f'"{target}" is neither in {here or "."}/ nor a layer-qualified header'


def qualified(layers, srcdir, includer, target):
    """The qualified spelling of a bare include, or None if unknown/ambiguous."""
    if "/" in target:
        return None
    found = []
    for l in layers:
        for root, dirs, files in os.walk(os.path.join(srcdir, l.folder)):
            if target in files:
                path = os.path.relpath(os.path.join(root, target), srcdir)
                owner = layer_of(layers, path)
                found.append(owner.prefix + path[len(owner.folder) + 1:])
    if os.path.join("vmctl/lib/base", target) in GENERATED:
        found.append("base/" + target)
    found = sorted(set(found))
    return found[0] if len(found) == 1 else None


def sort_blocks(layers, text):
    """Each run of consecutive quoted includes in layer order (the table's),
    then the folder's own headers, each group sorted by name."""
    rank = {l.prefix: i for i, l in enumerate(layers)}

    def key(line):
        target = INCLUDE.match(line).group(2)
        prefixes = [p for p in rank if target.startswith(p)]
        best = max(prefixes, key=len) if prefixes else None
        return (rank[best] if best else len(rank), target)

    out, block = [], []
    for line in text.split("\n") + [None]:
        if line is not None and INCLUDE.match(line):
            block.append(line)
            continue
        out.extend(sorted(block, key=key))
        block = []
        if line is not None:
            out.append(line)
    return "\n".join(out)


def check(srcdir, fix):
    layers = parse_table(os.path.join(srcdir, "docs", "ARCHITECTURE.md"))
    problems = {l.name: [] for l in layers}
    checked = {l.name: 0 for l in layers}
    for rel in sorted(sources(srcdir)):
        me = layer_of(layers, rel)
        if me is None:
            print(f"# {rel}: in no layer of docs/ARCHITECTURE.md", file=sys.stderr)
            problems.setdefault("(none)", []).append(f"{rel}: in no layer")
            continue
        path = os.path.join(srcdir, rel)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if fix:
            def repl(m):
                q = None
                if resolve(layers, srcdir, rel, m.group(2))[1]:
                    q = qualified(layers, srcdir, rel, m.group(2))
                return m.group(1) + '"' + (q or m.group(2)) + '"'
            new = sort_blocks(layers, INCLUDE.sub(repl, text))
            if new != text:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(new)
                text = new
        for m in INCLUDE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            checked[me.name] += 1
            target, err = resolve(layers, srcdir, rel, m.group(2))
            if err:
                problems[me.name].append(f"{rel}:{line}: {err}")
                continue
            them = layer_of(layers, target)
            if them is not me and "all" not in me.uses and them.name not in me.uses:
                problems[me.name].append(
                    f'{rel}:{line}: layer {me.name} may not use layer {them.name} ("{m.group(2)}")')
    names = list(problems)
    print(f"1..{len(names)}")
    failed = 0
    for i, name in enumerate(names, 1):
        if problems[name]:
            failed += 1
            print(f"not ok {i} - layer {name}: {len(problems[name])} bad includes")
            for p in problems[name]:
                print(f"# {p}")
        else:
            print(f"ok {i} - layer {name}: {checked.get(name, 0)} includes follow the table")
    return 1 if failed else 0


def main(argv):
    fix = "--fix" in argv
    args = [a for a in argv if a != "--fix"]
    srcdir = args[0] if args else os.path.join(os.path.dirname(__file__), "..", "..")
    return check(os.path.normpath(srcdir), fix)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
