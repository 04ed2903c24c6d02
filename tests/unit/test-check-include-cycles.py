#!/usr/bin/env python3
"""check-include-cycles.py against small trees: a cycle by includes and
one by calls are refused (with the exact line), a known cycle passes, a
smaller or vanished one passes with a note, tests/ is not product. TAP."""

import os
import subprocess
import sys
import tempfile

CHECKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check-include-cycles.py")
TABLE = """# t

| layer | folder | included as | may use |
| --- | --- | --- | --- |
| lib | `lib` | `lib/` | nothing |
| prog | `prog` | `prog/` | lib |
| tests | `tests` | `tests/` | all |
"""
results = []


def check(name, cond, detail=""):
    results.append((name, cond, detail))


def tree(files):
    root = tempfile.mkdtemp(prefix="check-include-cycles-")
    for path, text in dict(files, **{"docs/ARCHITECTURE.md": TABLE}).items():
        os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
        with open(os.path.join(root, path), "w") as f:
            f.write(text)
    return root


def run(root, known=None):
    args = [sys.executable, CHECKER]
    if known is not None:
        path = os.path.join(root, "known")
        with open(path, "w") as f:
            f.write(known)
        args += ["--known", path]
    p = subprocess.run(args + [root], capture_output=True, text=True)
    return p.returncode, p.stdout


acyclic = tree({"prog/a.c": '#include "a.h"\n#include "b.h"\n', "prog/a.h": "", "prog/b.h": "",
                "prog/b.c": '#include "b.h"\n#include "lib/l.h"\n', "lib/l.h": "",
                "tests/t.c": '#include "prog/a.h"\n', "tests/t.h": "",
                "lib/l.c": '#include "l.h"\n#include "tests/t.h"\n'})
rc, out = run(acyclic)
check("a tree without cycles passes, tests/ not counted", rc == 0 and "ok 1 - 3 product modules, 3 outside" in out,
      out)

by_include = tree({"prog/a.c": "", "prog/a.h": '#include "b.h"\n', "prog/b.h": "",
                   "prog/b.c": '#include "a.h"\n', "prog/c.c": '#include "a.h"\n'})
rc, out = run(by_include)
check("a cycle by includes is refused, naming its modules",
      rc == 1 and "not ok 2 - include cycle: prog/a <-> prog/b\n" in out, out)

by_call = tree({"prog/a.h": "int a(void);\n", "prog/b.h": "int b(void);\n",
                "prog/a.c": '#include "a.h"\n#include "b.h"\n\nint a(void)\n{\n\treturn b();\n}\n',
                "prog/b.c": '#include "b.h"\n\nint b(void)\n{\n\treturn a();\n}\n\n'
                            'static int helper(void)\n{\n\treturn 0;\n}\n'})
rc, out = run(by_call)
check("a cycle by calls through another file's declarations is refused",
      rc == 1 and "not ok 2 - include cycle: prog/a <-> prog/b\n" in out, out)

rc, out = run(by_call, known="# known\nprog/a prog/b\n")
check("a listed cycle passes", rc == 0 and "ok 2 - known include cycle: prog/a <-> prog/b" in out, out)

rc, out = run(by_call, known="prog/a prog/b prog/c\n")
check("a cycle smaller than its entry passes, with a note",
      rc == 0 and "# shorten its entry in the list of known cycles to: prog/a prog/b" in out, out)

rc, out = run(acyclic, known="prog/a prog/b\n")
check("a listed cycle that is gone passes, with a note",
      rc == 0 and "ok 2 - known include cycle gone: prog/a prog/b\n# remove it from the list of known cycles" in out,
      out)

rc, out = run(by_include, known="prog/a prog/c\n")
check("a cycle beyond its entry fails", rc == 1 and "not ok 2 - include cycle: prog/a <-> prog/b" in out, out)

lines = [f"1..{len(results)}"]
for i, (name, ok, detail) in enumerate(results, 1):
    lines.append(("ok" if ok else "not ok") + f" {i} - {name}")
    lines += [] if ok else ["# " + line for line in detail.splitlines()]
print("\n".join(lines))
