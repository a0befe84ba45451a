extension Double {
    /// A score for log lines: one decimal, none when it is whole (`7.3`, `5`, `-0.4`).
    var scoreText: String {
        let tenths = (self * 10).rounded()
        guard tenths.isFinite, abs(tenths) < 1e15 else { return String(self) }
        let value = Int64(tenths)
        let sign = value < 0 ? "-" : ""
        let magnitude = value.magnitude
        return magnitude % 10 == 0 ? "\(sign)\(magnitude / 10)" : "\(sign)\(magnitude / 10).\(magnitude % 10)"
    }
}
