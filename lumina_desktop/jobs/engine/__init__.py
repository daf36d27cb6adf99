"""The one job engine: kind contract, coordinator, batch runner, store port, lanes, worker.

It never imports ``jobs.kinds`` (an import-linter contract): kinds are handed to it in a
``KindRegistry``.
"""
