"""Errors a user can act on; the command line prints them as one line."""


class ArchiveError(Exception):
    """A clear, one-line problem with the user's input or the archive's state."""


class UrlRejected(ArchiveError):
    """A URL the archive will not fetch (not http(s), private address, malformed)."""


class DuplicateWatch(ArchiveError):
    """The thread is already watched."""
