extension Duration {
    /// The duration in (fractional) seconds, for arithmetic that `Duration` does not offer (the restart policy's
    /// exponential back-off).
    var secondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// The duration in (fractional) milliseconds, the unit the scoring model keeps its averages in.
    var millisecondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
