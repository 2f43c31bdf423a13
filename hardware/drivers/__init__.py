"""Thin protocol clients, one module per device family (grammar only; no retries/sleeps)."""
