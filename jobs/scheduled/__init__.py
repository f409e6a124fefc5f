"""The background work of ``liqmap run``: refresh, watch, settle, digest, prune, deliver,
and the liquidation recorder."""
