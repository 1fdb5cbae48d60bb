"""madlib: the library behind the notebooks of the MAD companion (Self-Consuming Generative Models Go MAD)."""

__version__ = "0.1.0"
