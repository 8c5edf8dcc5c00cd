"""Media-review monitoring bot: polls outlets, flags items on a topic, announces them."""

__version__ = "0.1.0"
