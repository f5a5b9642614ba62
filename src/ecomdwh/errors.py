"""Errors a user can act on: the CLI prints their message as one sentence and exits non-zero."""


class UserError(Exception):
    """A failure with a message that tells the user what to do."""
