"""Hooks on a Module: what ``register_forward_hook`` hands back, to take a hook off again."""

from __future__ import annotations

from collections import OrderedDict


class RemovableHandle:
    """What ``register_forward_hook`` returns: ``remove()`` takes the hook off again.

    Also a context manager: ``with layer.register_forward_hook(f): model(x)``
    removes the hook at the end of the block.
    """

    _next_id = 0

    def __init__(self, hooks: OrderedDict) -> None:
        self.hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        """Take the hook off (again: nothing happens)."""
        self.hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()
