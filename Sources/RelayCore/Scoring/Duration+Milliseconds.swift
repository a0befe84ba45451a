extension Duration {
    /// The duration in (fractional) milliseconds, the unit the scoring model keeps its averages in.
    var millisecondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
