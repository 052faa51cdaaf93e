"""`python -m chaos`: the fault scenarios for SREs.

    python -m chaos list
    python -m chaos run kill-instance redis-restart [--short] [--seconds 30 --games 6 ...]
    python -m chaos run all

Each scenario starts its own processes on loopback, plays games while it injects its fault,
stops by itself and prints one verdict line (docs/chaos.md says what each count means). The
exit status is 1 when any scenario broke an invariant, 2 for a bad command line.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import time

from chaos.base import Options
from chaos.scenarios import SCENARIOS


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m chaos", description="Fault scenarios with a shared checker.")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the scenarios and their faults")
    run = sub.add_parser("run", help="run scenarios by name, or all")
    run.add_argument("names", nargs="+", metavar="NAME", help="scenario names, or `all`")
    run.add_argument("--short", action="store_true", help="the bounded form CI runs")
    defaults = Options()
    for f in dataclasses.fields(Options):
        run.add_argument(f"--{f.name.replace('_', '-')}", type=type(getattr(defaults, f.name)), default=None)
    return ap.parse_args(argv)


async def run_all(names: list[str], opts: Options) -> int:
    failed = 0
    for name in names:
        scenario = SCENARIOS[name]
        started = time.monotonic()
        print(f"== {name}: {scenario.fault}", flush=True)
        result = await scenario.run(opts)
        verdicts = result if isinstance(result, list) else [result]
        for verdict in verdicts:
            print(verdict.line() + f" took={time.monotonic() - started:.0f}s", flush=True)
            for problem in verdict.problems:
                print(f"   {problem}", flush=True)
            failed += not verdict.ok
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.command == "list":
        width = max(map(len, SCENARIOS))
        for s in SCENARIOS.values():
            print(f"{s.name:<{width}}  {s.fault}")
        return 0
    names = list(SCENARIOS) if args.names == ["all"] else args.names
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        print(f"unknown scenario(s): {', '.join(unknown)}; `python -m chaos list` names them", file=sys.stderr)
        return 2
    base = Options.short() if args.short else Options()
    chosen = {f.name: getattr(args, f.name) for f in dataclasses.fields(Options) if getattr(args, f.name) is not None}
    opts = dataclasses.replace(base, **chosen)
    try:
        opts.check()
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return asyncio.run(run_all(names, opts))


if __name__ == "__main__":
    sys.exit(main())
