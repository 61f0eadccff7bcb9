"""A local fake Telegram: Bot API server, simulated users, live chat page, limits and faults.

Standalone by design: it imports nothing of Slotbot. Start it with
``python -m sandbox`` or, in tests, ``sandbox.testing.run_sandbox()``.
See sandbox/README.md.
"""

__all__ = ["Sandbox", "SandboxConfig"]


def __getattr__(name):  # keep ``import sandbox`` free of aiohttp imports until needed
    if name in __all__:
        from . import server

        return getattr(server, name)
    raise AttributeError(name)
