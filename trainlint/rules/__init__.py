"""The rule families. Importing this package registers every rule."""

from trainlint.rules import engine, loop, optimizer, scheduler  # noqa: F401
