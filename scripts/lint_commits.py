"""AST check: services and endpoints never commit; only core/db.py ends transactions.

A commit in the middle of a request would break the one-transaction-per-request rule (and
the rolled-back test transactions). Exit 1 listing every offending call.
"""

import ast
import sys
from pathlib import Path

ALLOWED = {Path("src/labapi/core/db.py"), Path("src/labapi/cli.py"), Path("src/labapi/demo.py")}


def offenders(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.relative_to(root.parent.parent) in ALLOWED:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "commit"
            ):
                found.append(f"{path}:{node.lineno}: commit() outside core/db.py")
    return found


if __name__ == "__main__":
    problems = offenders(Path("src/labapi"))
    print("\n".join(problems) or "no commit() outside core/db.py")
    sys.exit(1 if problems else 0)
