import Foundation

/// The statistics behind `drift`, written to agree with scipy (the numbers in
/// `Tests/MLShMonitorTests/DriftTests.swift` come from `scripts/reference/drift_reference.py`).
/// Every function takes already-cleaned samples: finite values, sorted ascending where
/// it says so, never empty.
enum DriftMath {
    // MARK: Kolmogorov–Smirnov (scipy.stats.ks_2samp, method="auto", two-sided)

    /// The two-sample KS p-value of two sorted samples.
    static func ksPValue(_ a: [Double], _ b: [Double]) -> Double {
        let n1 = a.count, n2 = b.count
        // D = max |c1/n1 - c2/n2| over every value, counted in integers: |c1*n2 - c2*n1|.
        var i = 0, j = 0, widest = 0
        while i < n1 || j < n2 {
            let v = j >= n2 || (i < n1 && a[i] <= b[j]) ? a[i] : b[j]
            while i < n1 && a[i] <= v { i += 1 }
            while j < n2 && b[j] <= v { j += 1 }
            widest = max(widest, abs(i * n2 - j * n1))
        }
        let g = gcd(n1, n2)
        let h = widest / g, lcm = (n1 / g) * n2
        if max(n1, n2) <= 10_000 {
            if h == 0 { return 1 }
            let p = n1 == n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h)
            if p.isFinite && p >= 0 && p <= 1 { return p }
        }
        let m = Double(max(n1, n2)), n = Double(min(n1, n2))
        let en = (m * n / (m + n)).rounded(.toNearestOrEven)
        return clip(kolmogorovSF(n: Int(en), Double(h) / Double(lcm)))
    }

    static func gcd(_ a: Int, _ b: Int) -> Int {
        var (x, y) = (a, b)
        while y != 0 { (x, y) = (y, x % y) }
        return x
    }

    /// Pr(D_{n,n} >= h/n): Horner form of 2·Σ(−1)^(k+1) binom(2n, n−kh)/binom(2n, n).
    static func probOutsideSquare(_ n: Int, _ h: Int) -> Double {
        var p = 0.0
        var k = n / h
        while k >= 0 {
            var term = 1.0
            for j in 0..<h { term = Double(n - k * h - j) * term / Double(n + k * h + j + 1) }
            p = term * (1 - p)
            k -= 1
        }
        return 2 * p
    }

    /// The share of lattice paths from (0,0) to (m,n) that leave the band |x/m − y/n| < h/lcm,
    /// by Hodges' inside method with Viehmann's recursion for 1 − p (scipy's
    /// `_compute_outer_prob_inside_method`), one sliding column at a time.
    static func outerProbInside(_ n1: Int, _ n2: Int, _ g: Int, _ h: Int) -> Double {
        let (m, n) = n1 >= n2 ? (n1, n2) : (n2, n1)
        let mg = m / g, ng = n / g
        var minj = 0, maxj = min(ceilDiv(h, mg), n + 1)
        var curlen = maxj - minj
        // One more than any window needs, filled with 1 (the value beyond the window).
        var column = [Double](repeating: 1, count: n + 2)
        for x in minj..<maxj { column[x] = 0 }
        for i in 1...m {
            let lastMinj = minj, lastLen = curlen
            minj = min(max(floorDiv(ng * i - h, mg) + 1, 0), n)
            maxj = min(ceilDiv(ng * i + h, mg), n + 1)
            if maxj <= minj { return 1 }
            var val = minj == 0 ? 0.0 : 1.0
            for jj in 0..<(maxj - minj) {
                let j = jj + minj
                val = (column[jj + minj - lastMinj] * Double(i) + val * Double(j)) / Double(i + j)
                column[jj] = val
            }
            curlen = maxj - minj
            if lastLen > curlen {
                for x in curlen..<min(lastLen, column.count) { column[x] = 1 }
            }
        }
        return column[maxj - minj - 1]
    }

    static func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
    static func ceilDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? (a + b - 1) / b : -(-a / b) }

    /// Pr(D_n >= x) for the one-sample two-sided Kolmogorov statistic (scipy's
    /// `kstwo.sf`, Simard & L'Ecuyer's choice of method by n and x). For n <= 140 with
    /// n·x² <= 4 scipy uses the Durbin matrix and Pomeranz recursions; this uses the
    /// Pelz–Good series there, within about 1e-4 (ks_2samp reaches it only with a
    /// sample under ~141 values compared against one over 10,000).
    static func kolmogorovSF(n: Int, _ x: Double) -> Double {
        if x >= 1 { return 0 }
        if x <= 0 { return 1 }
        let nd = Double(n), t = nd * x
        if t <= 1 {
            if t <= 0.5 { return 1 }
            let cdf: Double
            if n <= 140 {
                var prod = 1.0
                for k in 1...n { prod *= Double(k) * (1 / nd) * (2 * t - 1) }
                cdf = prod
            } else {
                cdf = exp(logFactorialOverPower(nd) + nd * log(2 * t - 1))
            }
            return clip(1 - cdf)
        }
        if t >= nd - 1 { return clip(2 * pow(1 - x, nd)) }
        if x >= 0.5 { return clip(2 * smirnovSF(n: n, x)) }
        let nx2 = t * x
        if n <= 140 {
            if nx2 > 4 { return clip(2 * smirnovSF(n: n, x)) }
            return clip(1 - pelzGoodCDF(n: nd, x))
        }
        if nx2 >= 370 { return 0 }
        if nx2 >= 2.2 { return clip(2 * smirnovSF(n: n, x)) }
        return clip(1 - pelzGoodCDF(n: nd, x))
    }

    /// log(n!/nⁿ) by Stirling's series with n·log n taken out up front.
    static func logFactorialOverPower(_ n: Double) -> Double {
        let coeffs = [-2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3,
                      8.4175084175084175084e-4, -5.952380952380952381e-4, 7.9365079365079365079e-4,
                      -2.7777777777777777778e-3, 8.3333333333333333333e-2]
        let rn = 1 / n, y = rn / n
        var poly = 0.0
        for c in coeffs { poly = poly * y + c }
        return log(n) / 2 - n + log(2 * Double.pi) / 2 + rn * poly
    }

    /// Pr(D⁺_n >= x), the one-sided Smirnov tail, by the Birnbaum–Tingey sum
    /// x·Σ_j binom(n, j)(1 − x − j/n)^(n−j)(x + j/n)^(j−1), summed in logs (every term is positive).
    static func smirnovSF(n: Int, _ x: Double) -> Double {
        let nd = Double(n)
        let last = Int((nd * (1 - x)).rounded(.down))
        guard last >= 0 else { return 0 }
        var logs = [Double](); logs.reserveCapacity(last + 1)
        var logChoose = 0.0, top = -Double.infinity
        for j in 0...last {
            if j > 0 { logChoose += log(Double(n - j + 1) / Double(j)) }
            let jd = Double(j)
            let lo = (nd - jd) / nd - x
            guard lo > 0 || n == j else { continue }
            let term = logChoose + (n == j ? 0 : (nd - jd) * log(lo)) + (jd - 1) * log(x + jd / nd)
            logs.append(term)
            top = max(top, term)
        }
        guard top > -Double.infinity else { return 0 }
        var sum = 0.0
        for l in logs { sum += exp(l - top) }
        return clip(x * exp(top) * sum)
    }

    /// The Pelz–Good approximation to Pr(D_n <= x) (scipy's `_kolmogn_PelzGood`).
    static func pelzGoodCDF(n: Double, _ x: Double) -> Double {
        let pi2 = Double.pi * Double.pi, pi4 = pi2 * pi2, pi6 = pi4 * pi2
        let sqrt2pi = (2 * Double.pi).squareRoot()
        let z = n.squareRoot() * x
        let z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2
        let qlog = -pi2 / 8 / z2
        if qlog < -708 { return 0 }
        var q = exp(qlog)
        let k1a = -z2, k1b = pi2 / 4
        let k2a = 6 * z6 + 2 * z4, k2b = (2 * z4 - 5 * z2) * pi2 / 4, k2c = pi4 * (1 - 2 * z2) / 16
        let k3d = pi6 * (5 - 30 * z2) / 64, k3c = pi4 * (-60 * z2 + 212 * z4) / 16
        let k3b = pi2 * (135 * z4 - 96 * z6) / 4, k3a = -30 * z6 - 90 * z4 * z4
        var k = [0.0, 0.0, 0.0, 0.0]
        let maxk = Int((16 * z / Double.pi).rounded(.up))
        var kk = maxk
        while kk >= 1 {
            let m = Double(2 * kk - 1)
            let m2 = m * m, m4 = m2 * m2, m6 = m4 * m2
            let qpower = pow(q, Double(8 * kk))
            let coeffs = [1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6]
            for i in 0..<4 { k[i] = k[i] * qpower + coeffs[i] }
            kk -= 1
        }
        let scale = [z, 6 * z4, 72 * z6 * z, 6480 * z6 * z4]
        for i in 0..<4 { k[i] = k[i] * q * sqrt2pi / scale[i] }
        q = exp(-pi2 / 2 / z2)
        var k2extra = 0.0, k3extra = 0.0
        let sqrt3z = 3.0.squareRoot() * z
        kk = maxk
        while kk >= 1 {
            let kd = Double(kk), ks = kd * kd
            let qp = pow(q, ks)
            k2extra += ks * qp
            k3extra += (sqrt3z + Double.pi * kd) * (sqrt3z - Double.pi * kd) * ks * qp
            kk -= 1
        }
        k[2] += k2extra * pi2 * sqrt2pi / (-36 * z3)
        k[3] += k3extra * pi2 * sqrt2pi / (216 * z6)
        var total = 0.0
        for i in 0..<4 { total += k[i] / pow(n, Double(i) / 2) }
        return total
    }

    // MARK: Chi-squared (scipy.stats.chisquare) and the incomplete gamma function

    /// The chi-squared goodness-of-fit p-value of observed against expected counts;
    /// a category expected 0 times but observed gives p = 0. One category gives p = 1
    /// (scipy answers NaN: with a single category nothing can differ).
    static func chiSquarePValue(observed: [Double], expected: [Double]) -> Double {
        guard observed.count > 1 else { return 1 }
        var stat = 0.0
        for (o, e) in zip(observed, expected) {
            let d = o - e
            if e == 0 { if d != 0 { return 0 } } else { stat += d * d / e }
        }
        return gammaQ(Double(observed.count - 1) / 2, stat / 2)
    }

    /// The regularized upper incomplete gamma function Q(a, x) = Γ(a, x)/Γ(a): the power
    /// series for P when x < a + 1, else Lentz's continued fraction (Numerical Recipes §6.2).
    static func gammaQ(_ a: Double, _ x: Double) -> Double {
        guard a > 0, x >= 0, !x.isNaN else { return .nan }
        if x == 0 { return 1 }
        if x.isInfinite { return 0 }
        let logPrefix = a * log(x) - x - lgamma(a)
        if x < a + 1 {
            var term = 1 / a, sum = term, ap = a
            for _ in 0..<10_000 {
                ap += 1
                term *= x / ap
                sum += term
                if abs(term) < abs(sum) * 1e-17 { break }
            }
            return clip(1 - sum * exp(logPrefix))
        }
        let tiny = 1e-300
        var b = x + 1 - a, c = 1 / tiny, d = 1 / b, f = d
        for i in 1...10_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b; if abs(d) < tiny { d = tiny }
            c = b + an / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            f *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return clip(exp(logPrefix) * f)
    }

    // MARK: Distances

    /// The 1-Wasserstein distance between two sorted samples: ∫|F_a − F_b| (scipy.stats.wasserstein_distance).
    static func wasserstein(_ a: [Double], _ b: [Double]) -> Double {
        let n1 = Double(a.count), n2 = Double(b.count)
        var i = 0, j = 0, area = 0.0
        var prev = min(a[0], b[0])
        while i < a.count || j < b.count {
            let v = j >= b.count || (i < a.count && a[i] <= b[j]) ? a[i] : b[j]
            area += abs(Double(i) / n1 - Double(j) / n2) * (v - prev)
            while i < a.count && a[i] <= v { i += 1 }
            while j < b.count && b[j] <= v { j += 1 }
            prev = v
        }
        return area
    }

    /// The Jensen–Shannon distance (natural log) between two frequency vectors
    /// (scipy.spatial.distance.jensenshannon): each is normalised to sum to 1 first.
    static func jensenShannon(_ p: [Double], _ q: [Double]) -> Double {
        let sp = p.reduce(0, +), sq = q.reduce(0, +)
        var js = 0.0
        for (pi, qi) in zip(p, q) {
            let a = pi / sp, b = qi / sq, m = (a + b) / 2
            if a > 0 { js += a * log(a / m) }
            if b > 0 { js += b * log(b / m) }
        }
        return (max(js, 0) / 2).squareRoot()
    }

    /// The population stability index Σ (r − c)·ln(r/c) over bin shares, after Evidently's
    /// floor for empty bins (`feel_zeroes`).
    static func psi(_ reference: [Double], _ current: [Double]) -> Double {
        let r = floored(reference), c = floored(current)
        var total = 0.0
        for (a, b) in zip(r, c) { total += (a - b) * log(a / b) }
        return total
    }

    /// Evidently's floor for empty bins: 0.0001, or the smallest non-empty share / 10⁶ when
    /// that share is itself at most 0.0001.
    static func floored(_ shares: [Double]) -> [Double] {
        guard let smallest = shares.filter({ $0 > 0 }).min() else { return shares }
        let floor = smallest <= 0.0001 ? smallest / 1e6 : 0.0001
        return shares.map { $0 == 0 ? floor : $0 }
    }

    // MARK: Sorted-sample helpers

    /// numpy's default ("linear") quantile of a sorted sample.
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        let pos = q * Double(sorted.count - 1)
        let lo = Int(pos.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
        let t = pos - Double(lo), a = sorted[lo], b = sorted[hi]
        let diff = b - a
        return t >= 0.5 ? b - diff * (1 - t) : a + diff * t
    }

    /// The number of values < x (`side="left"`).
    static func lowerBound(_ sorted: [Double], _ x: Double) -> Int {
        var lo = 0, hi = sorted.count
        while lo < hi { let mid = (lo + hi) / 2; if sorted[mid] < x { lo = mid + 1 } else { hi = mid } }
        return lo
    }

    /// The number of values <= x (`side="right"`).
    static func upperBound(_ sorted: [Double], _ x: Double) -> Int {
        var lo = 0, hi = sorted.count
        while lo < hi { let mid = (lo + hi) / 2; if sorted[mid] <= x { lo = mid + 1 } else { hi = mid } }
        return lo
    }

    /// Counts of a sorted sample in numpy.histogram's bins over `edges`: [e_i, e_{i+1}),
    /// the last bin closed.
    static func histogram(_ sorted: [Double], edges: [Double]) -> [Double] {
        var out: [Double] = []
        for i in 0..<(edges.count - 1) {
            let lo = lowerBound(sorted, edges[i])
            let hi = i == edges.count - 2 ? upperBound(sorted, edges[i + 1]) : lowerBound(sorted, edges[i + 1])
            out.append(Double(hi - lo))
        }
        return out
    }

    /// numpy.histogram_bin_edges(values, bins) for data spanning [lo, hi].
    static func equalWidthEdges(lo: Double, hi: Double, bins: Int) -> [Double] {
        var first = lo, last = hi
        if first == last { first -= 0.5; last += 0.5 }
        let step = (last - first) / Double(bins)
        var edges = (0..<bins).map { first + Double($0) * step }
        edges.append(last)
        return edges
    }

    static func clip(_ p: Double) -> Double { p.isNaN ? p : min(max(p, 0), 1) }
}
