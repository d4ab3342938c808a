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


def free_port():
    """A TCP port on 127.0.0.1 nothing listens on (free when asked)."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresCluster:
    """A private PostgreSQL cluster for a suite, started here and stopped by stop(), at exit
    (atexit) or on SIGTERM/SIGHUP, its folder removed: Debian's server binaries (the newest
    /usr/lib/postgresql/VERSION/bin), a data folder in a temp dir, listening on 127.0.0.1 on
    a free port (and a Unix socket in that folder), the server's default settings otherwise
    (fsync on), a password role `bench`/`secret` for the clients and trust for `postgres`
    on the socket. As root the server runs as the `postgres` account (it refuses root), as
    Tests/TestSupport/PostgresCluster.swift does it."""

    def __init__(self, user="bench", password="secret"):
        import atexit
        import shutil
        import signal
        import tempfile
        root = "/usr/lib/postgresql"
        versions = sorted(int(v) for v in (os.listdir(root) if os.path.isdir(root) else [])
                          if v.isdigit() and os.access(f"{root}/{v}/bin/initdb", os.X_OK))
        if not versions:
            raise SystemExit(f"no PostgreSQL server under {root} (apt-get install postgresql; scripts/test does)")
        self.version = versions[-1]
        self.bin = f"{root}/{self.version}/bin"
        self.as_root = os.geteuid() == 0
        self.user, self.password = user, password
        self.folder = tempfile.mkdtemp(prefix="mlsh-bench-pg-")
        self.data = os.path.join(self.folder, "data")
        self.log = os.path.join(self.folder, "server.log")
        self.port = free_port()
        self.started = False
        self.stopped = False
        atexit.register(self.stop)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) in (signal.SIG_DFL, None):
                signal.signal(sig, lambda n, _: sys.exit(128 + n))  # runs finally blocks and atexit
        try:
            if self.as_root:
                shutil.chown(self.folder, "postgres")
            self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
            with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
                f.write(f"host all {user} 127.0.0.1/32 scram-sha-256\nhost all postgres 127.0.0.1/32 trust\nlocal all all trust\n")
            if self.as_root:
                shutil.chown(os.path.join(self.data, "pg_hba.conf"), "postgres")
            self.started = True
            self._run("pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "start",
                      "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=200")
            self.psql(f"CREATE ROLE {user} LOGIN PASSWORD '{password}'")
        except BaseException:
            self.stop()
            raise

    def _run(self, program, *args):
        argv = [os.path.join(self.bin, program), *args]
        if self.as_root:
            argv = ["/usr/sbin/runuser", "-u", "postgres", "--"] + argv
        # Its own session: a Ctrl-C reaches this script (which stops the server), not the server.
        r = subprocess.run(argv, capture_output=True, text=True, start_new_session=True,
                           env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"})
        if r.returncode != 0:
            log = ""
            if os.path.exists(self.log):
                with open(self.log) as f:
                    log = f.read()[-2000:]
            raise RuntimeError(f"{program} {' '.join(args)}: exit {r.returncode}\n{r.stderr}{r.stdout}{log}")
        return r.stdout

    def psql(self, sql, database="postgres"):
        """Runs SQL as the `postgres` role; its output, unaligned, tuples only."""
        r = subprocess.run(["psql", "-h", self.folder, "-p", str(self.port), "-U", "postgres", "-d", database,
                            "-v", "ON_ERROR_STOP=1", "-q", "-A", "-t", "-c", sql],
                           capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"})
        if r.returncode != 0:
            raise RuntimeError(f"psql {sql}: {r.stderr}")
        return r.stdout.strip()

    def database(self, name, scheme="postgres"):
        """A new empty database owned by the password role; its URL (`postgres://` for mlsh,
        `postgresql+psycopg2://` for MLflow)."""
        self.psql(f"CREATE DATABASE {name} OWNER {self.user}")
        return self.url(name, scheme)

    def url(self, name, scheme="postgres"):
        return f"{scheme}://{self.user}:{self.password}@127.0.0.1:{self.port}/{name}"

    def stop(self):
        """Stops the server (fast shutdown) and removes its folder; safe to call twice."""
        import shutil
        if self.stopped:
            return
        self.stopped = True
        if self.started:
            try:
                self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "60", "stop")
            except Exception as e:  # noqa: BLE001 - already stopped, or stop it harder
                print(f"stopping the PostgreSQL cluster: {e}", file=sys.stderr)
                try:
                    self._run("pg_ctl", "-D", self.data, "-m", "immediate", "stop")
                except Exception:  # noqa: BLE001
                    pass
        shutil.rmtree(self.folder, ignore_errors=True)


def wait_ready(url, proc, log, timeout=120):
    """Waits until GET url answers 200; exits with the server's log if it ends first."""
    import urllib.request
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            with open(log) as f:
                raise SystemExit(f"server for {url} exited with {proc.returncode}:\n{f.read()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not come up")


def wrk_post(url, body, seconds, folder):
    """wrk (2 threads, 32 connections) POSTing the JSON body for `seconds`: req/s, p50 and
    p99 in ms, errors (non-2xx and socket errors) and requests, as scripts/bench.d/serve does."""
    import json
    import re
    script = os.path.join(folder, "post.lua")
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                f"wrk.body = {json.dumps(json.dumps(body))}\n")
    out = subprocess.run(["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "-s", script, url],
                         check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def ms(label):
        m = re.search(label + r"\s+([\d.]+)(us|ms|s)\b", out)
        v = float(m.group(1))
        return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v

    errors = 0
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(x) for x in m.groups())
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "p50": ms("50%"), "p99": ms("99%"), "errors": errors, "requests": total}
