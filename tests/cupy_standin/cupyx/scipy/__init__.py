"""The stand-in for cupyx.scipy."""
