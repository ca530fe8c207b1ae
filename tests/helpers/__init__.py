"""Helpers the test modules share (importable as ``helpers``: pyproject's pytest ``pythonpath``)."""
