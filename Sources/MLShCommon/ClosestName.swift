/// The candidate a misspelled name most likely meant, for "did you mean" hints: the
/// closest by edit distance (case ignored, an adjacent transposition one edit), when
/// within a third of the name's length (at least 1, at most 3); the name itself is never
/// suggested.
///
/// - Parameter keepingALetter: whether a suggestion must keep some letter of the name
///   (its distance below the name's length), so one-letter names get no guesses; the
///   language's names (`x` is not a typo of `y`) ask for it, column names (`b` for `a`)
///   do not.
public func closestName(to name: String, in candidates: some Sequence<String>, keepingALetter: Bool = false) -> String? {
    var best: (String, Int)?
    let a = Array(name.lowercased())
    for c in candidates where c != name {
        let d = editDistance(a, Array(c.lowercased()))
        if d < (best?.1 ?? Int.max) { best = (c, d) }
    }
    guard let (c, d) = best else { return nil }
    if keepingALetter && d >= name.count { return nil }
    return d <= max(1, min(3, (name.count + 2) / 3)) ? c : nil
}

/// Levenshtein distance with an adjacent transposition (`stpe` → `step`) counted as one edit.
func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var prev2 = [Int](repeating: 0, count: b.count + 1)
    var prev = Array(0...b.count), cur = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        cur[0] = i
        for j in 1...b.count {
            var v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { v = min(v, prev2[j - 2] + 1) }
            cur[j] = v
        }
        (prev2, prev, cur) = (prev, cur, prev2)
    }
    return prev[b.count]
}
