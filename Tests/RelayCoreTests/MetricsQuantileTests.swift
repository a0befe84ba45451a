import Foundation
import Testing
@testable import RelayCore

@Suite struct MetricsQuantileTests {
    /// Bounds 1, 2, 4: two observations in each of the first two buckets, four in the third, two above.
    static let snapshot = HistogramSnapshot(upperBounds: [1, 2, 4], cumulativeCounts: [2, 4, 8, 10], sum: 0)

    @Test(arguments: [
        // rank 1 of 2 in (0, 1]
        (0.1, 0.5),
        // rank 4: the top of (1, 2]
        (0.4, 2.0),
        // rank 5: 1 of 4 into (2, 4]
        (0.5, 2.5),
        // rank 7: 3 of 4 into (2, 4]
        (0.7, 3.5),
        // rank 8: the top of (2, 4]
        (0.8, 4.0),
        // rank 9.5 falls in +Inf: the last finite bound
        (0.95, 4.0),
        (1.0, 4.0),
        (0.0, 0.0),
    ])
    func interpolatesLinearlyInsideTheBucket(q: Double, expected: Double) {
        #expect(Self.snapshot.quantile(q) == expected)
    }

    @Test func emptyHistogramOrQuantileOutsideZeroToOneHasNone() {
        let empty = HistogramSnapshot(upperBounds: [1, 2], cumulativeCounts: [0, 0, 0], sum: 0)
        #expect(empty.quantile(0.5) == nil)
        #expect(Self.snapshot.quantile(-0.1) == nil)
        #expect(Self.snapshot.quantile(1.5) == nil)
        #expect(Self.snapshot.quantile(.nan) == nil)
    }

    @Test func quantileZeroStartsAtTheFirstBucketWithObservations() {
        let snapshot = HistogramSnapshot(upperBounds: [1, 2], cumulativeCounts: [0, 1, 1], sum: 1.5)
        #expect(snapshot.quantile(0) == 1)
        #expect(snapshot.quantile(1) == 2)
    }

    @Test func firstBucketWithANonPositiveBoundGivesThatBound() {
        let snapshot = HistogramSnapshot(upperBounds: [-1, 0, 1], cumulativeCounts: [3, 3, 4, 4], sum: -9)
        #expect(snapshot.quantile(0.5) == -1)
    }

    @Test func percentilesForTheAdminAPI() throws {
        let percentiles = HistogramPercentiles(Self.snapshot)
        #expect(percentiles == HistogramPercentiles(count: 10, p50: 2.5, p95: 4, p99: 4))

        let empty = HistogramPercentiles(HistogramSnapshot(upperBounds: [1], cumulativeCounts: [0, 0], sum: 0))
        let json = String(decoding: try JSONEncoder().encode(empty), as: UTF8.self)
        #expect(json == #"{"count":0}"#)
    }
}
