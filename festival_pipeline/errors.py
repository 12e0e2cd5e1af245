"""The error raised for a setting or a machine the pipeline cannot work with.

A leaf module (it imports nothing of the project), so every layer can raise it without importing
the layer that reads the settings.
"""


class ConfigurationError(RuntimeError):
    """A setting is missing or malformed; the message says which and how to fix it, on one line."""
