"""Errors whose message is short and safe to show to a user as is."""

from __future__ import annotations

from collections.abc import Sequence


class LiqmapError(Exception):
    """Base of every error the product reports to a user."""


class ConfigError(LiqmapError):
    """A configuration variable is missing or has a bad value."""


class InstrumentError(LiqmapError):
    """A symbol typed by a user does not name a tradable instrument."""


class UnknownExchange(InstrumentError):
    """The exchange prefix of a symbol is not one we support."""


class UnknownInstrument(InstrumentError):
    """No instrument on the exchange matches; carries close matches if any."""

    def __init__(self, text: str, exchange: str, suggestions: tuple[str, ...] = ()) -> None:
        self.text = text
        self.exchange = exchange
        self.suggestions = suggestions
        message = f"unknown instrument {text} on {exchange}"
        if suggestions:
            message += f"; did you mean {', '.join(suggestions)}?"
        super().__init__(message)


class ExpiredInstrument(InstrumentError):
    """A dated future that has already expired."""


class UnsupportedRequest(LiqmapError):
    """A window, step or range the product or the exchange cannot serve."""


class ExchangeError(LiqmapError):
    """Base of errors coming from an exchange."""

    def __init__(self, exchange: str, detail: str) -> None:
        self.exchange = exchange
        self.detail = detail
        super().__init__(f"{exchange}: {detail}")

    @property
    def failures(self) -> tuple[ExchangeError, ...]:
        """Each exchange's own error: this one alone, or those of every venue of a sum."""
        return (self,)


class ExchangeUnavailable(ExchangeError):
    """The exchange could not be reached or kept failing after retries."""


class BannedByExchange(ExchangeUnavailable):
    """The exchange banned this IP: it is not called until the ban ends (the detail says
    when)."""


class ExchangeRejected(ExchangeError):
    """The exchange refused the request; retrying would not help."""


class EveryExchangeFailed(ExchangeError):
    """Every exchange of a sum failed: reads as the first, and holds them all."""

    def __init__(self, errors: Sequence[ExchangeError]) -> None:
        super().__init__(errors[0].exchange, errors[0].detail)
        self.errors = tuple(errors)

    @property
    def failures(self) -> tuple[ExchangeError, ...]:
        return self.errors


class LimitReached(LiqmapError):
    """A fair-use limit: too many subscriptions, instruments or maps for now."""


class DataFormatError(LiqmapError):
    """A data file does not have the expected format."""
