#!/usr/bin/env python3
"""Reference numbers for Tests/MLShMonitorTests/DriftTests.swift, from scipy and numpy.

Run once and paste the printed lines into the tests:
    /work/main/.bench-venv/bin/python scripts/reference/drift_reference.py
(any Python with scipy >= 1.11 and numpy; these came from scipy 1.17.1, numpy 2.4.6).

The samples come from a 64-bit LCG and exact double arithmetic (no libm), so Swift
rebuilds bit-identical data (DriftTests.swift, `Sample`).
"""
import numpy as np
from scipy import stats, special
from scipy.spatial import distance

MASK = (1 << 64) - 1


class Sample:
    def __init__(self, seed):
        self.state = seed & MASK

    def uniform(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & MASK
        return (self.state >> 11) / 9007199254740992.0

    def bell(self, n, shift=0.0, scale=1.0):
        """Irwin-Hall(4) centred: sum of four uniforms minus 2, times scale, plus shift."""
        out = []
        for _ in range(n):
            s = self.uniform() + self.uniform() + self.uniform() + self.uniform()
            out.append((s - 2.0) * scale + shift)
        return np.array(out)

    def labels(self, n, cuts, names):
        out = []
        for _ in range(n):
            u = self.uniform()
            k = 0
            while k < len(cuts) and u >= cuts[k]:
                k += 1
            out.append(names[k])
        return out


def counts(ref, cur):
    keys = sorted(set(ref) | set(cur))
    return (np.array([ref.count(k) for k in keys], float), np.array([cur.count(k) for k in keys], float))


def floored(p):
    smallest = p[p > 0].min()
    fill = smallest / 1e6 if smallest <= 0.0001 else 0.0001
    return np.where(p == 0, fill, p)


def psi(r, c):
    r, c = floored(r / r.sum()), floored(c / c.sum())
    return float(np.sum((r - c) * np.log(r / c)))


def decile_shares(ref, cur):
    edges = np.unique(np.quantile(ref, [k / 10 for k in range(1, 10)]))
    r = np.bincount(np.searchsorted(edges, ref, side="left"), minlength=len(edges) + 1).astype(float)
    c = np.bincount(np.searchsorted(edges, cur, side="left"), minlength=len(edges) + 1).astype(float)
    return r, c


def show(name, value):
    print(f"        ({name!r}, {value!r}),".replace("'", '"'))


ks_cases = {
    "ks equal n": (Sample(1).bell(60), Sample(2).bell(60, shift=0.3)),
    "ks unequal n": (Sample(3).bell(200), Sample(4).bell(150, shift=0.2)),
    "ks unequal null": (Sample(5).bell(500), Sample(6).bell(800)),
    "ks ties": (np.floor(Sample(7).bell(300) * 4) / 4, np.floor(Sample(8).bell(400, shift=0.1) * 4) / 4),
    "ks asymptotic null": (Sample(9).bell(1000), Sample(10).bell(12000)),
    "ks asymptotic shift": (Sample(11).bell(1000), Sample(12).bell(12000, shift=0.1)),
    "ks asymptotic small shift": (Sample(13).bell(1000), Sample(14).bell(12000, shift=0.04)),
}
print("    // ks_2samp(a, b).pvalue")
for name, (a, b) in ks_cases.items():
    show(name, float(stats.ks_2samp(a, b).pvalue))

print("    // wasserstein_distance(a, b) / max(np.std(a), 0.001)")
a, b = Sample(15).bell(3000), Sample(16).bell(2000, shift=0.05, scale=1.1)
show("wasserstein", float(stats.wasserstein_distance(a, b) / max(np.std(a), 0.001)))

print("    // jensenshannon over np.histogram with 30 bins over both samples")
a, b = Sample(17).bell(3000), Sample(18).bell(2000, shift=0.2)
edges = np.histogram_bin_edges(np.concatenate([a, b]), bins=30)
show("jensenshannon numeric", float(distance.jensenshannon(np.histogram(a, edges)[0] / len(a), np.histogram(b, edges)[0] / len(b))))

print("    // PSI over the reference's deciles")
a, b = Sample(19).bell(3000), Sample(20).bell(2000, shift=0.15)
show("psi numeric", psi(*decile_shares(a, b)))

names = ["red", "green", "blue", "black"]
ref = Sample(21).labels(600, [0.5, 0.8], names)
cur = Sample(22).labels(400, [0.4, 0.75, 0.97], names)  # "black" is new in current
r, c = counts(ref, cur)
print("    // categorical: chisquare(cur, ref * len(cur)/len(ref)), jensenshannon, psi")
show("chisquare new category", float(stats.chisquare(c, r * c.sum() / r.sum()).pvalue))
ref2 = Sample(23).labels(600, [0.5, 0.8], names)
cur2 = Sample(24).labels(450, [0.45, 0.8], names)
r2, c2 = counts(ref2, cur2)
show("chisquare shifted", float(stats.chisquare(c2, r2 * c2.sum() / r2.sum()).pvalue))
show("jensenshannon categorical", float(distance.jensenshannon(r2 / r2.sum(), c2 / c2.sum())))
show("psi categorical", psi(r, c))

print("    // special functions")
for a_, x in [(0.5, 0.1), (1.5, 3.0), (4.0, 2.0), (10.0, 25.0), (50.0, 45.0), (0.5, 30.0)]:
    show(f"gammaincc({a_}, {x})", float(special.gammaincc(a_, x)))
for n, d in [(923, 0.02), (923, 0.05), (923, 0.06), (5000, 0.01), (200, 0.08), (200, 0.6)]:
    show(f"kstwo.sf({d}, {n})", float(stats.kstwo.sf(d, n)))
