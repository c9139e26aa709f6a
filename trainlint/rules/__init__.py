"""The rule families. Importing this package registers every rule."""

from trainlint.rules import engine, optimizer, scheduler  # noqa: F401
