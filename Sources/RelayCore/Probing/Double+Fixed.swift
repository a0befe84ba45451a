extension Double {
    /// The value with exactly `decimals` digits after the point (0...15), as C's `printf("%.*f")` writes it: the
    /// exact binary value rounded to the nearest, a tie to the even digit, so `0.125` gives `0.12` and `2.5` gives
    /// `2`; `-0.0` and negatives that round to zero keep their sign (`-0.00`). This is what `relayd probe` printed
    /// through Foundation's `String(format:)`; doing it here keeps RelayCore free of Foundation.
    ///
    /// Exact because the decision is made on the fused `self × 10^decimals - candidate`, which is rounded only once
    /// and so keeps its sign. Values whose scaled magnitude reaches 2^52 (far beyond any latency or score) are
    /// written in Swift's shortest form instead.
    func fixed(_ decimals: Int) -> String {
        guard isFinite else { return isNaN ? "nan" : self < 0 ? "-inf" : "inf" }
        let decimals = Swift.min(Swift.max(0, decimals), 15)
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let magnitude = Swift.abs(self)
        guard magnitude * scale < 0x1p52 else { return String(self) }
        // The whole number of `10^-decimals` units below the exact product, then the rounding of what is left.
        var units = (magnitude * scale).rounded(.down)
        if (-units).addingProduct(magnitude, scale) < 0 {
            units -= 1
        } else if (-(units + 1)).addingProduct(magnitude, scale) >= 0 {
            units += 1
        }
        let beyondHalf = (-(units + 0.5)).addingProduct(magnitude, scale)
        if beyondHalf > 0 || (beyondHalf == 0 && units.truncatingRemainder(dividingBy: 2) == 1) { units += 1 }
        var digits = String(UInt64(units))
        if digits.count <= decimals { digits = String(repeating: "0", count: decimals + 1 - digits.count) + digits }
        let sign = sign == .minus ? "-" : ""
        guard decimals > 0 else { return sign + digits }
        return sign + digits.dropLast(decimals) + "." + digits.suffix(decimals)
    }
}
