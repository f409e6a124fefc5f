"""The private-names contract finds ``from X import _name`` across modules, and only that."""

from __future__ import annotations

from tests.support.private_names import PrivateImport, private_imports

KNOWN = {"pkg", "pkg.a", "pkg.b", "pkg.sub", "pkg.sub.c"}


def test_a_private_name_from_another_module_is_found_with_its_line() -> None:
    source = "import os\nfrom pkg.a import public, _helper\n"
    assert private_imports("pkg.b", source, KNOWN) == [
        PrivateImport("pkg.b", "pkg.a", "_helper", 2)
    ]


def test_relative_imports_are_resolved_against_the_importer() -> None:
    source = "from ..a import _x\nfrom . import _y\n"
    found = private_imports("pkg.sub.c", source, KNOWN)
    assert [(f.imported, f.name) for f in found] == [("pkg.a", "_x"), ("pkg.sub", "_y")]


def test_public_dunder_own_and_outside_names_are_fine() -> None:
    source = (
        "from pkg.a import helper, __version__\n"
        "from pkg.b import _mine\n"
        "from collections import _chain\n"
        "if True:\n    from pkg.a import public\n"
    )
    assert private_imports("pkg.b", source, KNOWN) == []


def test_an_import_inside_a_function_counts_too() -> None:
    source = "def f():\n    from pkg.a import _late\n"
    assert private_imports("pkg.b", source, KNOWN)[0].name == "_late"
