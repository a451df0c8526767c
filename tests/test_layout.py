"""The code's shape (#10): modules of one job and a readable size, apps layered without cycles."""

import ast
import collections
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("scrm", "sidebar")
MAX_LINES = 450


def _modules():
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def _app(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "sidebar":
        return "sidebar"
    if parts[0] != "scrm" or len(parts) < 2:
        return None
    if parts[1] == "wecom" and len(parts) > 2 and parts[2] == "simulator":
        return "wecom.simulator"
    return parts[1]


def _imports(path: Path):
    """(module imported, at top level?) for every import of the file."""
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            name = node.module if not node.level else ".".join([*module.split(".")[: -node.level], node.module])
            yield module, name, id(node) in top
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield module, alias.name, id(node) in top


def test_no_module_is_longer_than_450_lines():
    long = {str(p.relative_to(ROOT)): n for p in _modules() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_apps_import_each_other_without_cycles_and_only_at_the_top():
    edges, hidden = collections.defaultdict(set), []
    for path in _modules():
        for module, name, at_top in _imports(path):
            src, dst = _app(module), _app(name)
            if src and dst and src != dst:
                edges[src].add(dst)
                if not at_top and path.name != "apps.py":  # AppConfig.ready() connects receivers
                    hidden.append(f"{module} → {name}")

    def reaches(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in edges.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    cycles = sorted({tuple(sorted((a, b))) for a in edges for b in edges[a] if a in reaches(b)})
    assert cycles == [] and hidden == []


def test_the_core_apps_import_nothing_built_on_them():
    built_on = {"customers": {"org"}, "org": set()}
    for path in _modules():
        for module, name, _top in _imports(path):
            src, dst = _app(module), _app(name)
            if src in built_on and dst and dst != src:
                assert dst in built_on[src], f"{module} imports {name}"
