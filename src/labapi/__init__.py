"""labapi: the Isabl API v1 and a zebrafish facility API served by one engine."""

__version__ = "0.1.0"
