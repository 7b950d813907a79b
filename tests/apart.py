"""Per-lab tests whose work is a process of its own (a notebook's kernel, a served
solution under schemathesis, the learner's public tests) run ``LAB_TEST_JOBS`` (default
2) at a time: the first selected test of a module starts the work of every selected test
of the same function, and each test then judges its own result. Most of that work waits
(a kernel starting, a service answering, a provider's timeout), so two at a time on two
cores take about half the time, and CI stays flat as labs are added.

    @pytest.fixture(scope="module")
    def executed(request):
        return apart.prefetch(request, "test_notebook_executes", execute)

    def test_notebook_executes(lab, executed, request):
        result = apart.take(request, executed)

``job`` gets the test's parameters as keyword arguments; an exception it raises is raised
again by that test alone. ``LAB_TEST_JOBS=1`` does the same work one test at a time.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

JOBS = max(int(os.environ.get("LAB_TEST_JOBS", "2")), 1)


def prefetch(request: pytest.FixtureRequest, test: str, job: Callable[..., Any]) -> dict[str, Any]:
    """Run ``job(**params)`` for every selected test named ``test`` in the requesting
    module, JOBS at a time; their results (or exceptions) by node id."""
    items = [
        item for item in request.session.items
        if item.module is request.module and getattr(item, "originalname", None) == test
    ]  # fmt: skip

    def one(params: dict[str, Any]) -> Any:
        try:
            return job(**params)
        except Exception as exc:  # this test's failure, not every test's
            return exc

    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        futures = {item.nodeid: pool.submit(one, dict(item.callspec.params)) for item in items}
        return {nodeid: fut.result() for nodeid, fut in futures.items()}


def take(request: pytest.FixtureRequest, results: dict[str, Any]) -> Any:
    """This test's result from ``prefetch`` (its exception raised here)."""
    result = results[request.node.nodeid]
    if isinstance(result, BaseException):
        raise result
    return result
