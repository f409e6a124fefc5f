"""Every message the bot writes, in Telegram HTML, one module per feature.

User-supplied text is always escaped; ``bot.texts.html`` cuts texts to Telegram's limits.
"""
