"""trustreview: evidence reviews of school trusts, from a coded corpus to synthesis tables."""

__version__ = "0.1.0"
