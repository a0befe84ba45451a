/// Finds the known name closest to a misspelt one, for "did you mean" hints on keys and choices.
enum Spelling {
    /// Edit distance counting insertions, deletions, substitutions and swaps of neighbours as one edit each
    /// (`max_conenctions` is one edit from `max_connections`), ignoring case.
    static func distance(_ lhs: String, _ rhs: String) -> Int {
        let a = Array(lhs.lowercased().unicodeScalars)
        let b = Array(rhs.lowercased().unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        // Three rows of the classic table are enough: the swap rule looks two rows back.
        var before = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    best = min(best, before[j - 2] + 1)
                }
                current[j] = best
            }
            (before, previous, current) = (previous, current, before)
        }
        return previous[b.count]
    }

    /// The candidate nearest to `word`, if it is at most two edits away and at most half of the shorter word
    /// changes (so `logs` suggests `log`, but `udp` does not suggest `tcp`). Ties go to the earlier candidate.
    static func suggestion(for word: String, among candidates: [String]) -> String? {
        var best: (name: String, distance: Int)?
        for candidate in candidates where candidate != word {
            let distance = distance(word, candidate)
            let shorter = min(word.unicodeScalars.count, candidate.unicodeScalars.count)
            guard distance <= min(2, shorter / 2) else { continue }
            if distance < best?.distance ?? Int.max { best = (candidate, distance) }
        }
        return best?.name
    }
}
