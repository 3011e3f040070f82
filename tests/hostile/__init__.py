"""Makers of hostile files (bombs, lying headers) for tests/test_hostile_files.py."""
