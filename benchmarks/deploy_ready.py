"""Deploy to ready: how long ``taxiway deploy examples/hello --env production`` takes.

Starts a dev world of its own (``taxiway dev up`` in a temporary directory: a control
plane and three satellites, all real processes on loopback), then deploys the example
service as is — production runs 2 instances in us-east1, 3 in europe-west1 and 2 in
asia-northeast3, 7 in all — and times each deploy from the command's start until it
returns, which it does once every region reports the new revision ready. Each run
changes one env value, so each is a real new revision: the first creates every instance,
the others replace them (new instances start beside the old, which go once all new ones
are ready). This is a script, not a test: it prints figures and exits 0 whatever they are.

    .venv/bin/python benchmarks/deploy_ready.py              # 1 first deploy + 5 redeploys
    .venv/bin/python benchmarks/deploy_ready.py --runs 10
    .venv/bin/python benchmarks/deploy_ready.py --fast       # the e2e tests' satellite timings

Timings that bound the figures: the satellite's report period (``--report-every``, 2 s by
default, 0.5 s with ``--fast``), its tick (1 s / 0.2 s), and hello's readiness probe
(every 2 s). The deploy command polls status every second or so.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FAST = ("--tick", "0.2", "--report-every", "0.5", "--backoff-initial", "0.3")


def taxiway(
    args: Sequence[str], env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "taxiway.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def deploy(service_dir: Path, run: int, env: dict[str, str]) -> float:
    """Deploy a new revision (one env value changed) and answer the seconds until ready."""
    env_file = service_dir / ".taxiway" / "env-production.yaml"
    env_file.write_text(f"GREETING: hello from run {run}\nLOG_LEVEL: info\n")
    started = time.perf_counter()
    result = taxiway(["deploy", str(service_dir), "--env", "production", "--timeout", "300s"], env)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"deploy {run} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}")
    return elapsed


def describe(values: Sequence[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f} s"
    spread = statistics.stdev(values)
    return (
        f"median {statistics.median(values):.2f} s, min {min(values):.2f} s, max {max(values):.2f} s, "
        f"stdev {spread:.2f} s (n={len(values)})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="Redeploys after the first deploy.")
    parser.add_argument("--fast", action="store_true", help="Short satellite timings, as in the e2e tests.")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="taxiway-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAXIWAY_")}
    env.update(TAXIWAY_DEV_DIR=str(work / "dev"), TAXIWAY_CONFIG=str(work / "no-config.yaml"))
    service_dir = work / "hello"
    shutil.copytree(ROOT / "examples" / "hello", service_dir)
    print(f"dev world in {work / 'dev'}; satellite timings: {'fast (e2e)' if args.fast else 'defaults'}")
    try:
        started = time.perf_counter()
        up = taxiway(["dev", "up", *(FAST if args.fast else ())], env)
        if up.returncode != 0:
            raise SystemExit(f"dev up failed:\n{up.stdout}{up.stderr}")
        print(f"dev up (control plane + 3 satellites reporting): {time.perf_counter() - started:.2f} s")

        first = deploy(service_dir, 0, env)
        print(f"first deploy, 7 instances created in 3 regions:  {first:.2f} s")
        redeploys = []
        for run in range(1, args.runs + 1):
            redeploys.append(deploy(service_dir, run, env))
            print(f"  redeploy {run}: {redeploys[-1]:.2f} s")
        if redeploys:
            print(f"redeploy, 7 instances replaced in 3 regions:    {describe(redeploys)}")
    finally:
        down = taxiway(["dev", "down", "--purge"], env)
        if down.returncode != 0:
            print(f"dev down failed:\n{down.stdout}{down.stderr}", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
