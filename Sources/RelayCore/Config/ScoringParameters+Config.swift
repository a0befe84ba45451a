/// The parts of a score that grade a duration (latency, jitter): full marks at or below `base`, none at or above
/// `maxAcceptable`. Lets one reader serve both.
protocol DurationScoredPart {
    /// The most this part adds to a score (`max_score`).
    var maxScore: Double { get set }
    /// The weight of a new sample in the part's moving average (`ewma_alpha`).
    var ewmaAlpha: Double { get set }
    /// At or below this, full marks (`base`).
    var base: Duration { get set }
    /// At or above this, no marks (`max_acceptable`).
    var maxAcceptable: Duration { get set }
}

extension ScoringParameters.Latency: DurationScoredPart {}
extension ScoringParameters.Jitter: DurationScoredPart {}

extension ScoringParameters {
    /// Reads a `scoring` object, with defaults for absent keys.
    static func read(from node: ConfigReader) -> ScoringParameters? {
        node.object { fields in
            var scoring = ScoringParameters()
            fields.read("latency", into: &scoring.latency) { readDurationScored(from: $0, defaults: Latency()) }
            fields.read("jitter", into: &scoring.jitter) { readDurationScored(from: $0, defaults: Jitter()) }
            fields.read("success_rate", into: &scoring.successRate) { value in
                value.object { fields in
                    var part = SuccessRate()
                    fields.read("max_score", into: &part.maxScore) { $0.number(atLeast: 0) }
                    fields.read("ewma_alpha", into: &part.ewmaAlpha) { $0.ewmaAlpha() }
                    return fields.isValid ? part : nil
                }
            }
            fields.read("failure_penalty", into: &scoring.failurePenalty) { value in
                value.object { fields in
                    var part = FailurePenalty()
                    fields.read("base_penalty", into: &part.basePenalty) { $0.number(atLeast: 0) }
                    fields.read("exponent_factor", into: &part.exponentFactor) { $0.number(atLeast: 1) }
                    fields.read("max_penalty", into: &part.maxPenalty) { $0.number(atLeast: 0) }
                    fields.read("recovery_per_check", into: &part.recoveryPerSuccess) { $0.number(atLeast: 0) }
                    return fields.isValid ? part : nil
                }
            }
            fields.read("historical_bonus", into: &scoring.historicalBonus) { value in
                value.object { fields in
                    var part = HistoricalBonus()
                    fields.read("max_bonus", into: &part.maxBonus) { $0.number(atLeast: 0) }
                    fields.read("checks_per_point", into: &part.checksPerPoint) { $0.integer(in: 1...Int.max) }
                    fields.read("reset_after_failures", into: &part.resetAfterFailures) { $0.integer(in: 1...Int.max) }
                    return fields.isValid ? part : nil
                }
            }
            return fields.isValid ? scoring : nil
        }
    }

    /// Reads `{ max_score, ewma_alpha, base, max_acceptable }`, checking that `base` is below `max_acceptable`
    /// (the score falls from full marks at one to zero at the other). The problem is put on whichever of the two
    /// was written, `max_acceptable` when both were.
    private static func readDurationScored<Part: DurationScoredPart>(from node: ConfigReader, defaults: Part)
        -> Part? {
        node.object { fields in
            var part = defaults
            fields.read("max_score", into: &part.maxScore) { $0.number(atLeast: 0) }
            fields.read("ewma_alpha", into: &part.ewmaAlpha) { $0.ewmaAlpha() }
            fields.read("base", into: &part.base) { $0.duration(allowZero: true) }
            fields.read("max_acceptable", into: &part.maxAcceptable) { $0.duration(allowZero: false) }
            if fields.isValid, part.base >= part.maxAcceptable {
                let base = DurationParser.format(part.base)
                let maxAcceptable = DurationParser.format(part.maxAcceptable)
                if let written = fields.optional("max_acceptable") {
                    let isDefault = fields.optional("base") == nil ? ", its default" : ""
                    fields.reject("max_acceptable", "expected a duration longer than `base` (\(base)\(isDefault)), "
                                  + "found \(written.value.summary)")
                } else if let written = fields.optional("base") {
                    fields.reject("base", "expected a duration shorter than `max_acceptable` (\(maxAcceptable), "
                                  + "its default), found \(written.value.summary)")
                }
            }
            return fields.isValid ? part : nil
        }
    }
}

extension SelectorParameters {
    /// Reads a `selector` object, with defaults for absent keys.
    static func read(from node: ConfigReader) -> SelectorParameters? {
        node.object { fields in
            var selector = SelectorParameters()
            fields.read("evaluation_interval", into: &selector.evaluationInterval) { $0.duration(allowZero: false) }
            fields.read("active_set_size", into: &selector.activeSetSize) { $0.integer(in: 1...Int.max) }
            fields.read("min_score", into: &selector.minScore) { $0.number(atLeast: 0) }
            fields.read("debounce", into: &selector.debounce) { $0.duration(allowZero: true) }
            fields.read("improvement_threshold", into: &selector.improvementThreshold) { $0.number(atLeast: 0) }
            return fields.isValid ? selector : nil
        }
    }
}

extension ConfigReader {
    /// The weight of a new sample in an exponentially weighted moving average: more than 0 (0 would never
    /// learn anything) and at most 1 (only the last sample counts).
    func ewmaAlpha() -> Double? {
        number(atLeast: 0, exclusive: true, atMost: 1)
    }
}
