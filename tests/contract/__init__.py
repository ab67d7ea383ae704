"""Behavioural suites every backend of a loom contract must pass.

``repository_suite.RepositoryContract`` is the suite of the repository and unit-of-work
contracts (``loom.core.repository.abc``); a backend's tests subclass it and provide the
``uow_factory`` fixture (and, when tables must be created, the ``prepare_schema`` fixture).
"""
