"""klx — the field toolkit for the Kelaile receipt box."""

__version__ = "0.1.0"
