"""Errors that stop a check before it can judge the data (the CLI exits 2 on them)."""


class CheckError(Exception):
    """The check could not run: unreadable input, missing optional dependency, bad option."""
