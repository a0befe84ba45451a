import Testing
@testable import RelayProtocol
import TestSupport

/// RFC 6479's window: new numbers in any order inside it, each once; anything as old as the window refused.
@Suite(.computeBound) struct ReplayWindowTests {
    @Test func inOrderNumbersAreFreshOnceAndSeenAfter() {
        var window = ReplayWindow()
        for number in UInt32(1)...5000 {
            #expect(window.insert(number) == .fresh)
            #expect(window.check(number) == .seen)
        }
        #expect(window.largest == 5000)
        #expect(window.insert(4999) == .seen)
    }

    @Test func outOfOrderNumbersInsideTheWindowAreFreshOnce() {
        var window = ReplayWindow(size: 1024)
        #expect(window.insert(2000) == .fresh)
        for number in stride(from: UInt32(1999), to: 2000 - 1024, by: -3) {
            #expect(window.insert(number) == .fresh)
            #expect(window.insert(number) == .seen)
        }
        #expect(window.largest == 2000)
    }

    @Test func numbersAsOldAsTheWindowAreTooOld() {
        var window = ReplayWindow(size: 1024)
        window.insert(5000)
        #expect(window.check(5000 - 1023) == .fresh)
        #expect(window.check(5000 - 1024) == .tooOld)
        #expect(window.insert(1) == .tooOld)
        #expect(window.largest == 5000)
    }

    @Test func zeroIsNeverValid() {
        var window = ReplayWindow()
        #expect(window.insert(0) == .invalid)
        #expect(window.largest == 0)
    }

    @Test func aJumpFurtherThanTheWindowForgetsEverythingBefore() {
        var window = ReplayWindow(size: 128)
        for number in UInt32(1)...100 { window.insert(number) }
        window.insert(100 + 10_000)
        // Numbers within the window below the new largest were never inserted, whatever the ring held.
        for number in UInt32(10_100 - 127)..<10_100 { #expect(window.check(number) == .fresh) }
        window.insert(UInt32.max)
        #expect(window.check(UInt32.max - 1) == .fresh)
        #expect(window.check(UInt32.max) == .seen)
    }

    @Test func slidingByOneBlockKeepsTheBitsStillInside() {
        var window = ReplayWindow(size: 64)
        for number in UInt32(60)...70 { window.insert(number) }
        window.insert(120)
        for number in UInt32(60)...70 { #expect(window.check(number) == .seen) }
        window.insert(124)
        #expect(window.check(60) == .tooOld)
        #expect(window.check(61) == .seen)
    }

    @Test func sizesRoundUpToWholeBlocks() {
        #expect(ReplayWindow(size: 1).size == 64)
        #expect(ReplayWindow(size: 65).size == 128)
        #expect(ReplayWindow().size == 2048)
    }

    @Test func theAckBitfieldListsThe32NumbersBelowTheLargest() {
        var window = ReplayWindow()
        #expect(window.ackBitfield == 0)
        for number: UInt32 in [1, 2, 3, 5, 8, 40] { window.insert(number) }
        // 40 is the largest; 8 is 32 below it (bit 31); 5, 3, 2 and 1 are out of reach.
        #expect(window.ackBitfield == 1 << 31)
        window.insert(39)
        window.insert(37)
        #expect(window.ackBitfield == 1 << 0 | 1 << 2 | 1 << 31)
        var small = ReplayWindow()
        small.insert(3)
        small.insert(1)
        #expect(small.ackBitfield == 0b10)
    }

    @Test func aRandomStreamWithDuplicatesAcceptsEachNumberExactlyOnce() {
        var random = HTTPFuzzRandom(seed: 6479)
        var window = ReplayWindow(size: 256)
        var accepted = Set<UInt32>()
        var next: UInt32 = 1
        for _ in 0..<50_000 {
            let number: UInt32
            if random.chance(60) {
                number = next
                next += UInt32(1 + random.below(3))
            } else {
                number = UInt32(max(1, Int(next) - random.below(300)))
            }
            let verdict = window.insert(number)
            if verdict == .fresh {
                #expect(accepted.insert(number).inserted, "\(number) accepted twice")
            } else if verdict == .seen {
                #expect(accepted.contains(number))
            } else {
                #expect(verdict == .tooOld && UInt64(window.largest - number) >= 256)
            }
        }
    }
}
