"""What each supported exchange serves and its limits, kept apart from the code that fetches."""

from __future__ import annotations

from dataclasses import dataclass

from liqmap.engine.model import Formula
from liqmap.market.timeframes import DAY_MS, MINUTE_MS, STEPS


@dataclass(frozen=True)
class Venue:
    """Constants of one exchange's public derivatives REST API, as ccxt reaches it."""

    name: str
    ccxt_id: str
    rest_origin: str
    """Origin of the REST URLs in ccxt's ``urls['api']`` that an override replaces."""
    market_types: tuple[str, ...]
    candle_page: int
    oi_page: int
    oi_steps: tuple[str, ...]
    hostname: str = ""
    """What ccxt puts for ``{hostname}`` in ``rest_origin`` by default."""
    oi_retention_ms: int | None = None
    """The exchange documents OI history only this far back, whatever the step."""
    oi_in_usd: bool = True
    """OI history comes with a USD value; otherwise in base coins, valued at candle opens."""
    oi_both_sides: bool = False
    """OI history counts longs and shorts both (Bybit): one side is half of it."""
    taker_fee: float = 0.0
    """Fee counted in the liquidation requirement (OKX counts it; Binance and Bybit do not)."""
    linear_formula: Formula = Formula.LINEAR
    """How USDT-margined contracts liquidate here (coin-margined ones use ``INVERSE``)."""
    public_tiers: bool = False
    """Margin tiers (maintenance rates) are served without an API key."""
    history_candle_page: int | None = None
    recent_candle_rows: int | None = None
    """The recent-candles endpoint serves only this many latest bars (OKX)."""
    ip_ban_ms: int | None = None
    """An HTTP 403 means this IP is banned: no call for this long (Bybit: "If you encounter
    the error "403, access too frequent" ... terminate all HTTP sessions and wait for at least
    10 minutes", v5 docs, Rate Limit Rules). ccxt maps Bybit's 403 to RateLimitExceeded,
    which would be retried at once."""
    rate_limit_ms: int | None = None
    """ccxt's ``rateLimit`` (ms a unit of request cost, and at the request gate ms a call, or
    a unit of weight where ``weight_per_minute`` is set), where it is set here rather than left
    to ccxt's default; None: ccxt's."""
    weight_per_minute: int | None = None
    """The request weight the exchange documents per minute and IP, where it weighs requests
    (``liqmap.market.request_weights``): the request gate then paces by weight, ``rateLimit``
    ms a unit. None: every call weighs 1 at the gate, ccxt pacing the endpoints' costs."""
    home_settle: str = "USDT"
    """The settlement currency of the perpetual a bare asset (``BTC``) names here."""
    native_id_key: str = "id"
    """The ccxt market field holding the exchange's own name of a contract (Hyperliquid:
    ``baseName``, the coin the API takes; ccxt's ``id`` there is the asset's index)."""
    oi_recorded: bool = False
    """The exchange publishes no open-interest history (``oi_steps`` is empty): maps are built
    from the snapshots of current OI this service records at each refresh."""
    positions_public: bool = False
    """Every account's open positions, with the venue's own liquidation price, can be read
    (Hyperliquid ``clearinghouseState``): maps carry a real layer beside the estimate."""
    inverse_contract_usd: float | None = None
    """What one inverse contract is worth in USD, where ccxt's market does not say it: a
    Bybit inverse contract is 1 USD (Bybit help, "What is Inverse Contract?": 10,000
    contracts are $10,000), but ccxt 4.5.90 takes an inverse market's ``contractSize`` from
    ``lotSizeFilter.minOrderQty`` (``bybit.parse_market``)."""

    @property
    def default_url(self) -> str:
        """Where ccxt sends this exchange's requests unless ``LIQMAP_<EXCHANGE>_URL`` is set."""
        return self.rest_origin.replace("{hostname}", self.hostname)

    def earliest_oi(self, step: str, now: int) -> int | None:
        """Oldest time the exchange documents OI at ``step`` for, two steps of slack; None if
        it documents no limit."""
        if self.oi_retention_ms is None:
            return None
        return now - self.oi_retention_ms - 2 * STEPS[step]

    def price_group(self, kind: str, linear: bool) -> str:
        """Contracts of one group (by ``kind``, swap or future, and whether ``linear``) get
        their prices from one request.

        ccxt refuses a price request mixing contract types (swap with future) and, on
        Bybit, categories (linear with inverse).
        """
        if self.name == "bybit":
            return f"{'linear' if linear else 'inverse'} {kind}"
        return kind

    def oi_start(self, since: int, step: str, now: int) -> int:
        """``since`` moved up to the oldest OI row the exchange documents at ``step``."""
        if self.oi_retention_ms is None:
            return since
        length = STEPS[step]
        oldest = -(-(now - self.oi_retention_ms) // length) * length
        return max(since, oldest)

    def candle_request(self, since: int, step: int, now: int) -> tuple[int, dict[str, str]]:
        """Page size and extra ccxt params for candles starting at ``since``."""
        if self.recent_candle_rows is None or self.history_candle_page is None:
            return self.candle_page, {}
        if since < now - (self.recent_candle_rows - 1) * step:
            return self.history_candle_page, {"type": "HistoryCandles"}
        return self.candle_page, {"type": "Candles"}


OKX = Venue(
    name="okx",
    ccxt_id="okx",
    rest_origin="https://{hostname}",
    hostname="www.okx.com",
    market_types=("swap", "future"),
    candle_page=300,
    history_candle_page=300,
    recent_candle_rows=1440,
    oi_page=100,
    oi_steps=("5m", "1h", "1d"),
    taker_fee=0.0005,
    public_tiers=True,
)

BINANCE = Venue(
    name="binance",
    ccxt_id="binanceusdm",
    rest_origin="https://fapi.binance.com",
    market_types=("linear",),
    candle_page=1000,
    oi_page=500,
    oi_steps=("5m", "15m", "30m", "1h", "4h", "1d"),
    oi_retention_ms=30 * DAY_MS,
)

BYBIT = Venue(
    name="bybit",
    ccxt_id="bybit",
    rest_origin="https://api.{hostname}",
    hostname="bybit.com",
    market_types=("linear", "inverse"),
    candle_page=1000,
    oi_page=200,
    oi_steps=("5m", "15m", "30m", "1h", "4h", "1d"),
    oi_in_usd=False,
    oi_both_sides=True,
    public_tiers=True,
    linear_formula=Formula.LINEAR_BYBIT,
    ip_ban_ms=10 * MINUTE_MS,
    inverse_contract_usd=1.0,
)

HYPERLIQUID = Venue(
    name="hyperliquid",
    ccxt_id="hyperliquid",
    rest_origin="https://api.{hostname}",
    hostname="hyperliquid.xyz",
    market_types=("swap",),
    candle_page=5000,
    oi_page=0,
    oi_steps=(),
    rate_limit_ms=50,
    weight_per_minute=1200,
    home_settle="USDC",
    native_id_key="baseName",
    oi_recorded=True,
    positions_public=True,
)
"""USDC-settled perpetuals through ``POST /info`` (ccxt 4.5.x ``hyperliquid``: ``urls['api']``
is ``https://api.{hostname}``, hostname ``hyperliquid.xyz``; ``fetchMarkets.types`` limited to
``swap`` keeps spot and builder-deployed (HIP-3) markets out). Candles: "Only the most recent
5000 candles are available" (Hyperliquid docs, Info endpoint, Candle snapshot), so a page is
at most 5000. Open interest: only the current figure, in coins (``metaAndAssetCtxs``
``openInterest``), no history. Pace: the docs allow 1200 weight a minute per IP ("Rate limits
and user limits"), weighing ``clearinghouseState`` 2, ``meta``, ``metaAndAssetCtxs`` and
``candleSnapshot`` 20 (the last more per 60 candles). The request gate paces by those weights
at ``rate_limit_ms`` 50 ms a unit, 1200 a minute (``request_weights``). ccxt's own throttle
runs after it at the same 50 ms a unit of its costs (``info`` 10, ``clearinghouseState`` 2,
``candleSnapshot`` 4), none above the documented weight, so it never holds a call longer than
the gate did and the gate's order stands."""

RECORDED_OI_STEP = "1m"
"""The step recorded OI snapshots (``Venue.oi_recorded``) are cached at: each at the minute
of the refresh that took it. No exchange serves OI history at 1m, so the step is theirs alone
and the cache keeps it as long as the longest window (``jobs.scheduled.retention``): it cannot
be fetched again."""

VENUES: dict[str, Venue] = {venue.name: venue for venue in (OKX, BINANCE, BYBIT, HYPERLIQUID)}

CENTRALIZED: tuple[str, ...] = (OKX.name, BINANCE.name, BYBIT.name)
"""The exchanges ``all`` sums and whose liquidations are recorded (``doctor`` checks every venue).
Hyperliquid is left out of ``all``: its OI is in coins, recorded here rather than served as
history, and its traders are not the centralized exchanges' (README, "What the exchanges
keep")."""

POSITIONS_PUBLIC: tuple[str, ...] = tuple(n for n, v in VENUES.items() if v.positions_public)
"""The venues whose accounts' positions are public (``/whales``, real-cluster alerts)."""
