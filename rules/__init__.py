"""Rule packs as data, shipped as ``codeaudit.rules`` and read with :mod:`importlib.resources`."""
