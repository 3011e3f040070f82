"""The stand-in for cupyx (see cupy/__init__.py beside it)."""
