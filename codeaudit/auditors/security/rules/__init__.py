"""The security auditor's rule packs, one YAML file per language, read with :mod:`importlib.resources`."""
