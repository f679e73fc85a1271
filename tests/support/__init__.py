"""Helpers the test files share (tests/conftest.py puts tests/ on the import path: `from support.x import y`)."""
