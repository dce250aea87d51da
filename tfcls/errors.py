"""The base error of tfcls: commands print its message (no traceback) and exit with 2."""


class TfclsError(Exception):
    """A problem with the user's input, config, data or environment, stated so they can
    fix it (which file, key or value, and what to do)."""
