"""`neardup.index`'s curated surface: every error the engine raises is public, and every
public name resolves (lazily) to the object its submodule defines."""

from __future__ import annotations

import inspect

import neardup.index
from neardup.index import errors


def test_every_error_the_engine_raises_is_in_the_public_surface() -> None:
    raised = {
        name
        for name, value in inspect.getmembers(errors, inspect.isclass)
        if issubclass(value, errors.NeardupError)
    }
    assert raised <= set(neardup.index.__all__)


def test_every_public_name_resolves_to_its_definition() -> None:
    for name in neardup.index.__all__:
        value = getattr(neardup.index, name)
        assert value is not None, name
    assert neardup.index.Engine.__module__ == "neardup.index.engine"
    assert neardup.index.hash_image.__module__ == "neardup.index.fingerprint.algorithms"
