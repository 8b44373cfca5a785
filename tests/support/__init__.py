"""Helpers shared by the tests (importable because pyproject puts tests/ on the path)."""
