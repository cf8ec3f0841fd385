"""Exceptions that the toolkit raises on purpose.

``InputError`` marks a problem with what the user gave (a file, an array, a
hyperparameter, a method name): the command line exits with status 2 for it.
Any other exception raised while a method runs is a failure of the method
(status 1).
"""


class InputError(ValueError):
    """Bad input from the user: names the argument and what was expected."""


class UnknownMethodError(InputError, LookupError):
    """No method of that name is installed."""


class BrokenMethodError(RuntimeError):
    """The method's plugin failed to load; the message says why."""
