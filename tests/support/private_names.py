"""An import-linter contract: no module imports a name another module keeps private.

``from liqmap.exchanges.market_data import _short`` reaches into another module's insides;
the name should be public (and documented) or stay where it is. import-linter's own
``private_modules`` contract covers private modules (``_name.py``), not private names inside a
module, so this contract reads each module's source for ``from X import _name`` where X is
another module of the root packages. Registered in ``pyproject.toml``
(``[tool.importlinter] contract_types``) and run by ``lint-imports``.
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, output


@dataclass(frozen=True)
class PrivateImport:
    importer: str
    imported: str
    name: str
    line: int


def private_imports(module: str, source: str, known: set[str]) -> list[PrivateImport]:
    """The private names ``module`` imports from other modules among ``known``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ImportFrom):
            continue
        target = _absolute(module, node)
        if target is None or target == module or target not in known:
            continue
        for alias in node.names:
            if alias.name.startswith("_") and not alias.name.startswith("__"):
                found.append(PrivateImport(module, target, alias.name, node.lineno))
    return found


def _absolute(module: str, node: ast.ImportFrom) -> str | None:
    """The module an ``ImportFrom`` names, relative imports resolved against ``module``."""
    if node.level == 0:
        return node.module
    base = module.split(".")[: -node.level]
    if not base:
        return None
    return ".".join([*base, node.module] if node.module else base)


class PrivateNamesContract(Contract):
    """No module of the root packages imports another's ``_private`` names."""

    type_name = "private_names"

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        roots = set(self.session_options["root_packages"])
        known = {m for m in graph.modules if m.split(".")[0] in roots}
        found: list[PrivateImport] = []
        for module in sorted(known):
            spec = importlib.util.find_spec(module)
            if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
                continue
            found += private_imports(module, Path(spec.origin).read_text(), known)
        return ContractCheck(kept=not found, metadata={"found": found})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for item in check.metadata["found"]:
            output.print_error(
                f"{item.importer} imports the private name {item.name} from {item.imported} "
                f"(l.{item.line})",
                bold=False,
            )
            output.new_line()
