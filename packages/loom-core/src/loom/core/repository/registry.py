"""Custom repositories: register a class for a model, and the Protocol contract it fulfils.

Example::

    class ProductRepo(RepoFor[Product], Protocol):
        async def get_by_slug(self, slug: str) -> Product | None: ...


    @repository_for(Product, contract=ProductRepo)
    class ProductRepository(RepositorySQLAlchemy[Product, int]):
        async def get_by_slug(self, slug: str) -> Product | None: ...

A backend builds a model's repository from the registered class when that class subclasses
the backend's own repository base class (``custom_repository(model, base=...)``), and from
its default class otherwise; so one model may have a custom class per backend.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from loom.core.errors import CompilationError
from loom.core.model import is_model

__all__ = ["contract_model", "custom_repository", "registered_contracts", "repository_for"]

R = TypeVar("R", bound=type[Any])

_repositories: dict[type[Any], list[type[Any]]] = {}
_contracts: dict[type[Any], type[Any]] = {}


def repository_for(model: type[Any], *, contract: type[Any] | None = None) -> Callable[[R], R]:
    """Class decorator: use the decorated class as ``model``'s repository.

    Args:
        model: The model class the repository serves.
        contract: The ``RepoFor[Model]`` Protocol the class fulfils, so the DI container
            can inject it wherever the contract is asked for.

    Raises:
        CompilationError: ``model`` is not a model, or ``contract`` is already registered
            for another model.

    """
    if not is_model(model):
        raise CompilationError(f"repository_for({model!r}): not a loom model class")
    if contract is not None:
        if not isinstance(contract, type):
            raise CompilationError(f"repository_for(contract={contract!r}): not a class")
        known = _contracts.get(contract)
        if known is not None and known is not model:
            raise CompilationError(
                f"{contract.__qualname__} is already the contract of {known.__qualname__}, "
                f"not of {model.__qualname__}"
            )

    def register(cls: R) -> R:
        if not isinstance(cls, type):
            raise CompilationError(f"@repository_for({model.__qualname__}) decorates a class")
        classes = _repositories.setdefault(model, [])
        if cls not in classes:
            classes.append(cls)
        if contract is not None:
            _contracts[contract] = model
        return cls

    return register


def custom_repository(model: type[Any], *, base: type[Any] | None = None) -> type[Any] | None:
    """Return the class registered for ``model`` (the latest one), or ``None``.

    With ``base``, only a class that subclasses ``base`` counts: a backend passes its own
    repository base class.
    """
    found: type[Any] | None = None
    for cls in reversed(_repositories.get(model, ())):
        if base is None or issubclass(cls, base):
            found = cls
            break
    return found


def contract_model(contract: type[Any]) -> type[Any] | None:
    """Return the model whose repository fulfils ``contract``, or ``None``."""
    model: type[Any] | None = _contracts.get(contract)
    return model


def registered_contracts() -> dict[type[Any], type[Any]]:
    """Return a copy of every registered contract, mapped to its model."""
    return dict(_contracts)
