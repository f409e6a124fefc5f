"""Rules that keep a shared service fair: access, fair use, request turns and retries."""
