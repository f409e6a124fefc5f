"""The Telegram front end: handlers, message formatting, keyboards and access control."""
