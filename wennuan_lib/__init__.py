"""wennuan: the 送温暖 statistics and report workflow of a city federation of trade unions."""

__version__ = "0.1.0"
