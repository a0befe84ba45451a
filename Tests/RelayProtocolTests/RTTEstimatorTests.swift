import Testing
@testable import RelayProtocol

/// The estimator against RFC 6298's formulas, sample by sample, and its back-off, floor and ceiling.
@Suite struct RTTEstimatorTests {
    static let ms: UInt64 = 1_000_000
    let noFloor = RTTEstimator.Configuration(initial: 333 * ms, granularity: 1 * ms, minimumTimeout: 0,
                                             maximumTimeout: 60_000 * ms)

    @Test func beforeAnySampleTheTimeoutIsOneSecond() {
        let rtt = RTTEstimator()
        #expect(rtt.smoothed == 333 * Self.ms)
        #expect(rtt.timeout == 333 * Self.ms + 4 * 166_500_000)
    }

    @Test func theFirstSampleSetsSmoothedAndHalfOfItAsVariation() {
        var rtt = RTTEstimator(configuration: noFloor)
        rtt.add(sample: 100 * Self.ms)
        #expect(rtt.smoothed == 100 * Self.ms)
        #expect(rtt.variation == 50 * Self.ms)
        #expect(rtt.timeout == 300 * Self.ms)
        #expect(rtt.minimum == 100 * Self.ms)
    }

    @Test func laterSamplesFollowRFC6298() {
        var rtt = RTTEstimator(configuration: noFloor)
        // The RFC's arithmetic in doubles, beside the estimator's in nanoseconds.
        var srtt = 0.0
        var rttvar = 0.0
        let samples: [UInt64] = [100, 120, 80, 300, 90, 95, 100, 101, 99, 1000, 100].map { $0 * Self.ms }
        for (index, sample) in samples.enumerated() {
            rtt.add(sample: sample)
            let r = Double(sample)
            if index == 0 {
                srtt = r
                rttvar = r / 2
            } else {
                rttvar = 0.75 * rttvar + 0.25 * abs(srtt - r)
                srtt = 0.875 * srtt + 0.125 * r
            }
            #expect(abs(Double(rtt.smoothed) - srtt) < 10, "smoothed after sample \(index)")
            #expect(abs(Double(rtt.variation) - rttvar) < 10, "variation after sample \(index)")
            let expected = srtt + max(Double(Self.ms), 4 * rttvar)
            #expect(abs(Double(rtt.timeout) - expected) < 50, "timeout after sample \(index)")
        }
        #expect(rtt.minimum == 80 * Self.ms)
        #expect(rtt.latest == 100 * Self.ms)
        #expect(rtt.sampleCount == samples.count)
    }

    @Test func granularityBoundsTheVariationTermFromBelow() {
        var rtt = RTTEstimator(configuration: noFloor)
        for _ in 0..<100 { rtt.add(sample: 10 * Self.ms) }
        #expect(rtt.variation < Self.ms / 4)
        #expect(rtt.timeout == 11 * Self.ms)
    }

    @Test func ackDelayComesOutOfLaterSamplesButNotBelowTheMinimum() {
        var rtt = RTTEstimator(configuration: noFloor)
        rtt.add(sample: 50 * Self.ms, ackDelay: 25 * Self.ms)
        #expect(rtt.smoothed == 50 * Self.ms)
        // 80 − 25 = 55 ≥ min 50: adjusted.
        rtt.add(sample: 80 * Self.ms, ackDelay: 25 * Self.ms)
        #expect(rtt.smoothed == (7 * 50 * Self.ms + 55 * Self.ms) / 8)
        // 60 − 25 = 35 < min 50: taken as measured.
        let before = rtt.smoothed
        rtt.add(sample: 60 * Self.ms, ackDelay: 25 * Self.ms)
        #expect(rtt.smoothed == (7 * before + 60 * Self.ms) / 8)
    }

    @Test func eachTimeoutDoublesUntilTheCeilingAndNewDataResets() {
        var rtt = RTTEstimator(configuration: .init(minimumTimeout: 20 * Self.ms, maximumTimeout: 1000 * Self.ms))
        rtt.add(sample: 40 * Self.ms)
        #expect(rtt.timeout == 120 * Self.ms)
        var expected: [UInt64] = []
        for _ in 0..<6 {
            rtt.backOff()
            expected.append(rtt.timeout)
        }
        #expect(expected == [240, 480, 960, 1000, 1000, 1000].map { $0 * Self.ms })
        rtt.resetBackOff()
        #expect(rtt.timeout == 120 * Self.ms)
        for _ in 0..<500 { rtt.backOff() }
        #expect(rtt.timeout == 1000 * Self.ms)
    }

    @Test func theFloorHoldsOnAFastLink() {
        var rtt = RTTEstimator()
        for _ in 0..<50 { rtt.add(sample: 100_000) }
        #expect(rtt.timeout == 20 * Self.ms)
    }

    @Test func absurdSamplesAreCappedInsteadOfOverflowing() {
        var rtt = RTTEstimator(configuration: .init(maximumTimeout: .max))
        rtt.add(sample: .max, ackDelay: .max)
        rtt.add(sample: .max, ackDelay: .max)
        #expect(rtt.smoothed == RTTEstimator.largestSample)
        #expect(rtt.timeout <= RTTEstimator.largestSample * 5)
    }
}
