"""The market's vocabulary: timeframes, instruments and venues, and the model parameters each
venue's rules give an instrument."""
