"""The exception tree drawn in :mod:`taxiway.errors` names every exception of the package."""

from __future__ import annotations

import importlib
import pkgutil
import re

import taxiway
from taxiway import errors


def _descendants(cls: type[errors.TaxiwayError]) -> set[type[errors.TaxiwayError]]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_descendants(sub)}
    return found


def test_the_drawing_names_every_taxiway_error_under_its_parent() -> None:
    for module in pkgutil.walk_packages(taxiway.__path__, "taxiway."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)
    assert errors.__doc__ is not None
    drawn = {}
    parents: list[str] = []
    for line in errors.__doc__.splitlines():
        match = re.match(r"^    ((?:[│ ]   )*)(?:[├└]── )?(\w+)", line)
        if match is None or not line.strip().startswith(("TaxiwayError", "├", "└", "│")):
            continue
        depth = len(match[1]) // 4 + (0 if match[2] == "TaxiwayError" else 1)
        del parents[depth:]
        drawn[match[2]] = parents[-1] if parents else None
        parents.append(match[2])
    actual = {cls.__name__: cls.__bases__[0].__name__ for cls in _descendants(errors.TaxiwayError)}
    assert {name: drawn.get(name) for name in actual} == actual
