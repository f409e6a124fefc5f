"""Scripts that measure speed and memory and print the figures (run them, they are not tests)."""
