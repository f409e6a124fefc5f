"""liqmap: liquidation maps for crypto derivatives, their dense clusters, and alerts near them."""

__version__ = "0.1.0"
