"""The repository contract suite: every ``RepoFor``/``UnitOfWork`` backend must pass it.

Subclass :class:`RepositoryContract` in a ``test_*.py`` module (name the subclass
``Test...``) and provide a ``uow_factory`` fixture: a ``UnitOfWorkFactory`` over an empty
store for each test. When tables must be created first, override the ``prepare_schema``
fixture (it receives ``uow_factory``) to create the tables of
``tests.contract.models.CONTRACT_MODELS``. When ``book_tags`` rows cannot be created
through the ``BookTag`` repository, override :meth:`ContractBase.link_tag`.

Example::

    class TestInMemoryRepository(RepositoryContract):
        @pytest.fixture
        def uow_factory(self) -> UnitOfWorkFactory:
            return InMemoryUnitOfWorkFactory(InMemoryDatabase(*CONTRACT_MODELS))
"""

from __future__ import annotations

from tests.contract._suite_base import ContractBase
from tests.contract._suite_crud import CrudContract, IntegrityContract
from tests.contract._suite_cursor import CursorContract
from tests.contract._suite_query import QueryContract, QueryValidationContract, SqlTextContract
from tests.contract._suite_tx import ProfileContract, TransactionContract
from tests.contract.models import CONTRACT_MODELS

__all__ = ["CONTRACT_MODELS", "ContractBase", "RepositoryContract"]


class RepositoryContract(
    CrudContract,
    IntegrityContract,
    QueryContract,
    QueryValidationContract,
    SqlTextContract,
    CursorContract,
    TransactionContract,
    ProfileContract,
):
    """Every behaviour of the repository and unit-of-work contracts, in one class."""
