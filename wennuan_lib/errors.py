"""The one exception a reader raises: a file that cannot be read, with a Chinese reason."""


class ReadError(Exception):
    """A file that cannot be read; the message is Chinese and says what to ask the unit for."""
