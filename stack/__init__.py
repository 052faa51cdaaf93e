"""Local processes of this project, for the stack, the tests, chaos and the benchmark.

- `local`: a production-like stack on this machine (Redis with AOF, N instances, HAProxy),
  brought up and down by `python -m stack.local` (`make stack-up` / `make stack-down`).
- `redis_server`, `topologies`: throw-away redis-server processes on free ports, alone or as
  a Sentinel set or a Cluster.
- `instance`: `python -m service` as a subprocess on a free port.
- `client`: a small protocol client that records every frame it receives.
- `presets`: the limits-off settings that traffic from one address needs.
"""
