"""Checks that imports run one way: platform <- domains <- {api, web, relayer, indexer}.

    python tools/check_imports.py [ROOT]

Rules (each violation is printed as `file:line: rule: what`; the exit status is 1 if there is any):
- platform: `backend.platform` imports nothing else of the backend;
- i18n: `backend.i18n` imports nothing of the backend (the API, the pages and the e-mails all use it);
- layers: only `backend.api`, `backend.web` and the composition root (`backend.app`, `backend.worker`) import
  `backend.api` or `backend.web`;
- domains: a domain imports no `backend.relayer`, `backend.indexer`, `backend.app` or `backend.worker`;
- routers: no router imports another router, and only `backend.api.main` and `backend.app` import a router;
- tests: nothing under backend/, bench/, scripts/ or tools/ imports `tests`.
Every import counts, also one inside a function (that is how the hidden circles were hidden).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

DOMAINS = ("accounts", "organizations", "events", "claims", "governance", "perks", "missions", "reports")
COMPOSITION_ROOT = ("backend.app", "backend.worker")
ROUTER_IMPORTERS = ("backend.api.main", "backend.app")
SCANNED = ("backend", "bench", "scripts", "tools")


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, module: str) -> Iterator[tuple[int, str]]:
    """Every module the file imports, absolute (relative imports resolved), with its line."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield node.lineno, base
            for alias in node.names:  # `from backend.claims import router` imports a module too
                yield node.lineno, f"{base}.{alias.name}"


def is_under(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def domain_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "backend" and parts[1] in DOMAINS else None


def is_router(module: str) -> bool:
    """A domain's router module (`backend.claims.router`, `backend.events.metadata_router`) or an API route."""
    last = module.rsplit(".", 1)[-1]
    return (domain_of(module) is not None and last.endswith("router")) or is_under(module, "backend.api.routes")


def violations(root: Path) -> Iterator[str]:
    known = {}
    for top in (*SCANNED, "tests"):
        for path in sorted((root / top).rglob("*.py")) if (root / top).is_dir() else ():
            known[module_name(root, path)] = path
    for module, path in known.items():
        if is_under(module, "tests"):
            continue
        where = path.relative_to(root)
        for line, imported in imports_of(path, module):
            if imported not in known and (imported.rpartition(".")[0] in known
                                          or not is_under(imported, "backend", "tests")):
                continue  # a name from a module (reported as that module), or not the project's
            if is_under(imported, "tests"):
                yield f"{where}:{line}: tests: imports {imported}"
            if not is_under(module, "backend"):
                continue
            if is_under(module, "backend.platform") and is_under(imported, "backend") \
                    and not is_under(imported, "backend.platform"):
                yield f"{where}:{line}: platform: imports {imported}"
            if is_under(module, "backend.i18n") and is_under(imported, "backend") \
                    and not is_under(imported, "backend.i18n"):
                yield f"{where}:{line}: i18n: imports {imported}"
            if is_under(imported, "backend.api", "backend.web") \
                    and not is_under(module, "backend.api", "backend.web", *COMPOSITION_ROOT):
                yield f"{where}:{line}: layers: imports {imported}"
            if domain_of(module) and is_under(imported, "backend.relayer", "backend.indexer", *COMPOSITION_ROOT):
                yield f"{where}:{line}: domains: imports {imported}"
            if is_router(imported) and imported in known and imported != module:
                if is_router(module):
                    yield f"{where}:{line}: routers: the router {module} imports the router {imported}"
                elif module not in ROUTER_IMPORTERS:
                    yield f"{where}:{line}: routers: imports the router {imported}"


def one_per_line_and_rule(found) -> list[str]:
    """`from backend.web import pages` imports two modules; one finding per line and rule says it."""
    kept: dict[tuple[str, str], str] = {}
    for problem in found:
        place, rule, _ = problem.split(": ", 2)
        if len(problem) > len(kept.get((place, rule), "")):
            kept[(place, rule)] = problem
    return sorted(kept.values())


def main(argv: list[str]) -> int:
    root = Path(argv[1]).resolve() if len(argv) > 1 else Path(__file__).resolve().parent.parent
    found = one_per_line_and_rule(violations(root))
    for problem in found:
        print(problem)
    print(f"{len(found)} import rule violation(s)" if found else "imports run one way")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
