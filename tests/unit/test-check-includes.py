#!/usr/bin/env python3
"""check-includes.py against a small tree: what it accepts, what it refuses
(with the exact message), and what --fix rewrites. TAP."""

import os
import subprocess
import sys
import tempfile

CHECKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check-includes.py")
TABLE = """# t

| layer | folder | included as | may use |
| --- | --- | --- | --- |
| base | `lib/base` | `base/` | nothing |
| lib | `lib` | `lib/` | base |
| prog | `prog` | `prog/` | base, lib |
"""
results = []


def check(name, cond, detail=""):
    results.append((name, cond, detail))


def tree(files):
    root = tempfile.mkdtemp(prefix="check-includes-")
    files = dict(files, **{"docs/ARCHITECTURE.md": TABLE, "lib/base/b.h": "", "lib/l.h": "",
                           "prog/p.h": ""})
    for path, text in files.items():
        os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
        with open(os.path.join(root, path), "w") as f:
            f.write(text)
    return root


def run(root, *args):
    p = subprocess.run([sys.executable, CHECKER, *args, root], capture_output=True, text=True)
    return p.returncode, p.stdout


good = tree({"prog/main.c": '#include "p.h"\n#include "base/b.h"\n#include "lib/l.h"\n',
             "lib/l.c": '#include "l.h"\n#include "base/b.h"\n'})
rc, out = run(good)
check("a tree that follows its table passes", rc == 0 and "ok 3 - layer prog: 3 includes" in out, out)

bad = tree({"lib/base/b.c": '#include "lib/l.h"\n',
            "lib/l.c": '#include "b.h"\n#include "../prog/p.h"\n'})
rc, out = run(bad)
check("a lower layer including a higher one is refused, by name",
      rc == 1 and '# lib/base/b.c:1: layer base may not use layer lib ("lib/l.h")' in out, out)
check("a bare name from another folder is refused",
      '# lib/l.c:1: "b.h" is neither in lib/ nor a layer-qualified header' in out, out)
check('".." is refused', '# lib/l.c:2: "../prog/p.h": no ".." in includes; name the layer' in out, out)

fixme = tree({"prog/main.c": '#include "p.h"\n#include "l.h"\n#include "b.h"\n'})
rc, out = run(fixme, "--fix")
with open(os.path.join(fixme, "prog/main.c")) as f:
    fixed = f.read()
check("--fix qualifies bare includes and orders them by layer",
      rc == 0 and fixed == '#include "base/b.h"\n#include "lib/l.h"\n#include "p.h"\n', fixed)

notable = tree({})
with open(os.path.join(notable, "docs/ARCHITECTURE.md"), "w") as f:
    f.write("# no table\n")
p = subprocess.run([sys.executable, CHECKER, notable], capture_output=True, text=True)
check("a missing table is an error naming the file",
      p.returncode != 0 and p.stderr.strip().endswith(
          "docs/ARCHITECTURE.md: no table headed | layer | folder | included as | may use |"), p.stderr)

print(f"1..{len(results)}")
for i, (name, ok, detail) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}")
    if not ok:
        for line in detail.splitlines():
            print(f"# {line}")
