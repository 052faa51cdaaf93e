"""The load benchmark (`python -m bench.load`) and the per-action latency probe (`python -m bench.action_latency`)."""
