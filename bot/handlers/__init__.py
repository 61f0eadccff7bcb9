"""Handlers by area. Each module exposes COMMANDS ({command: handler}) and
PRESSES ({callback action: handler}); bot.app registers them."""
