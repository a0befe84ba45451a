import Testing
import TestSupport
@testable import RelayCore

@Suite(.computeBound) struct MetricsHandleTests {
    @Test func counterAddsIncrements() {
        let counter = Counter()
        #expect(counter.value == 0)
        counter.increment()
        counter.increment(by: 41)
        #expect(counter.value == 42)
    }

    @Test func valueEqualToABoundCountsInThatBucket() {
        let histogram = Histogram(buckets: [0.1, 0.5, 1])
        for value in [0.1, 0.5, 1, 1.000_000_1, 0.100_000_01, 0] { histogram.observe(value) }
        let snapshot = histogram.snapshot()
        #expect(snapshot.upperBounds == [0.1, 0.5, 1])
        #expect(snapshot.cumulativeCounts == [2, 4, 5, 6])
        #expect(snapshot.count == 6)
        #expect(abs(snapshot.sum - 2.700_000_11) < 1e-9)
    }

    @Test func negativeValuesCountInTheFirstBucketAndReduceTheSum() {
        let histogram = Histogram(buckets: [1, 2])
        histogram.observe(-3.25)
        histogram.observe(1.5)
        let snapshot = histogram.snapshot()
        #expect(snapshot.cumulativeCounts == [1, 2, 2])
        #expect(snapshot.sum == -1.75)
    }

    @Test func nanAndInfinitiesAreIgnored() {
        let histogram = Histogram(buckets: [1])
        histogram.observe(.nan)
        histogram.observe(.infinity)
        histogram.observe(-.infinity)
        histogram.observe(2)
        let snapshot = histogram.snapshot()
        #expect(snapshot.cumulativeCounts == [0, 1])
        #expect(snapshot.sum == 2)
    }

    @Test func durationsAreObservedInSeconds() {
        let histogram = Histogram(buckets: Histogram.latencyBuckets)
        histogram.observe(Duration.milliseconds(250))
        histogram.observe(Duration.nanoseconds(1))
        let snapshot = histogram.snapshot()
        #expect(snapshot.cumulativeCounts[0] == 1)
        #expect(snapshot.cumulativeCounts[Histogram.latencyBuckets.firstIndex(of: 0.25)!] == 2)
        #expect(snapshot.sum == 0.250_000_001)
    }

    @Test(.computeBound) func sumOfFractionsIsExactToTheNanoUnit_unlikeAddingDoubles() {
        let histogram = Histogram(buckets: [1])
        var doubleSum = 0.0
        for _ in 0..<1_000_000 {
            histogram.observe(0.1)
            doubleSum += 0.1
        }
        #expect(histogram.snapshot().sum == 100_000)
        #expect(doubleSum != 100_000)
    }

    @Test func fractionsCarryIntoWholeUnitsWithoutLosingAnything() async {
        // A carry every 2 units, so 8 tasks cross it thousands of times, concurrently.
        let histogram = Histogram(buckets: [1], carryNanos: 2_000_000_000)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for _ in 0..<10_000 { histogram.observe(0.75) }
                }
            }
        }
        let snapshot = histogram.snapshot()
        #expect(snapshot.count == 80_000)
        #expect(snapshot.sum == 60_000)
    }

    @Test func bucketPresetsAreStrictlyIncreasing() {
        for buckets in [Histogram.latencyBuckets, Histogram.durationBuckets] {
            #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0 < $1 })
        }
        #expect(Histogram.latencyBuckets.first == 0.0005 && Histogram.latencyBuckets.last == 10)
        #expect(Histogram.durationBuckets.first == 0.01 && Histogram.durationBuckets.last == 86400)
    }

    @Test func concurrentIncrementsAndObservationsAllCount() async {
        let counter = Counter()
        let histogram = Histogram(buckets: [0.01, 1])
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for index in 0..<100_000 {
                        counter.increment()
                        histogram.observe(index.isMultiple(of: 2) ? 0.001 : 0.25)
                    }
                }
            }
        }
        let snapshot = histogram.snapshot()
        #expect(counter.value == 800_000)
        #expect(snapshot.cumulativeCounts == [400_000, 800_000, 800_000])
        #expect(snapshot.count == 800_000)
        #expect(snapshot.sum == 100_400)
    }
}
