"""Benchmarks run only when asked for: ``pytest benchmarks --benchmark-only``.

The root ``testpaths`` already keeps ``pytest`` / ``pytest tests`` out of this
directory; this guard also keeps a wider run (``pytest .``) from spending its
time here. ``--benchmark-disable`` runs each body once, as a smoke check.
"""
import pytest

import minikv


def pytest_report_header(config):
    return f"minikv backend: {minikv.BACKEND}"


def pytest_collection_modifyitems(config, items):
    if config.getoption("benchmark_only") or config.getoption("benchmark_disable"):
        return
    skip = pytest.mark.skip(reason="benchmark: run with --benchmark-only")
    for item in items:
        if "benchmark" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)
