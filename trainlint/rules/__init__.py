"""The rule families. Importing this package registers every rule."""

from trainlint.rules import capacity, data, engine, loop, optimizer, scheduler, shapes  # noqa: F401
