"""One module per command group: each turns an update into an answer through ``bot.deps``."""
