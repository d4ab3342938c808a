"""Shared timing helpers for scripts/bench.d suites: run commands interleaved, take
medians after a warm-up, print one line per comparison with the ratio to the anchor."""
import os
import statistics
import subprocess
import sys
import time

MLSH = os.environ.get("MLSH", ".build/release/mlsh")
PY = os.environ.get("BENCH_PY", sys.executable)


def time_command(argv, runs=7, warmup=1, env=None):
    """Median wall-clock milliseconds of running argv to completion."""
    for _ in range(warmup):
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def interleaved(commands, runs=7, warmup=1):
    """Median ms of each named command, sampled in turns so load drifts hit all alike."""
    for _, argv in commands:
        for _ in range(warmup):
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    samples = {name: [] for name, _ in commands}
    for _ in range(runs):
        for name, argv in commands:
            t0 = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
            samples[name].append((time.perf_counter() - t0) * 1000)
    return {name: statistics.median(v) for name, v in samples.items()}


def report(what, mlsh_ms, anchor_name, anchor_ms, goal=1.0):
    """Prints `what: mlsh X ms, anchor Y ms, ratio R (goal <= G)`."""
    ratio = mlsh_ms / anchor_ms if anchor_ms > 0 else float("inf")
    mark = "ok" if ratio <= goal else "SLOWER"
    print(f"{what:<44} mlsh {mlsh_ms:9.2f} ms   {anchor_name} {anchor_ms:9.2f} ms   "
          f"ratio {ratio:5.2f} (goal <= {goal}) {mark}")
    return ratio


MIXED_TABLE = """
import os, sys, numpy as np, pandas as pd
rows, left, right = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rng = np.random.default_rng(0)
df = pd.DataFrame({"k": rng.integers(0, 1000, rows),
                   "s": np.array([f"s{i:02d}" for i in range(50)])[rng.integers(0, 50, rows)]})
for name in "abc":
    x = rng.standard_normal(rows)
    x[rng.random(rows) < 0.01] = np.nan
    df[name] = x
df.to_csv(left + ".tmp", index=False)
pd.DataFrame({"k": np.arange(1000), "w": rng.standard_normal(1000)}).to_csv(right + ".tmp", index=False)
os.replace(left + ".tmp", left)
os.replace(right + ".tmp", right)
"""


def mixed_table_csv(rows):
    """Paths of the mixed table's CSV (made once, numpy seed 0): an int key `k` with 1,000
    values, a string `s` with 50, floats `a`, `b`, `c` (standard normal at full precision,
    1 % missing); and of a right table with one row per `k` and a float `w`."""
    import tempfile
    base = os.path.join(tempfile.gettempdir(), f"mlsh-bench-tables-{rows}")
    left, right = base + "-left.csv", base + "-right.csv"
    if not (os.path.exists(left) and os.path.exists(right)):
        subprocess.run([PY, "-c", MIXED_TABLE, str(rows), left, right], check=True)
    return left, right
