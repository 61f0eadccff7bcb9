"""Fixtures for the sandbox suite: a running sandbox per test.

The sandbox needs no database; these tests never use the ``db`` fixture.
"""

from __future__ import annotations

import pytest

from sandbox.testing import run_sandbox

from .ptb import TOKEN


@pytest.fixture
def sandbox():
    """A fresh sandbox with one bot, flood limits on, no faults."""
    with run_sandbox(tokens=[TOKEN]) as client:
        yield client


@pytest.fixture
def relaxed_sandbox():
    """A sandbox without flood limits, for tests that send many messages quickly."""
    with run_sandbox(tokens=[TOKEN], flood_limits=False) as client:
        yield client
