import RelayProtocol
import Testing

@Suite struct CryptoConstantTimeTests {
    @Test func equalBytesAreEqual() {
        #expect(ConstantTime.equal([UInt8](), [UInt8]()))
        #expect(ConstantTime.equal([1, 2, 3] as [UInt8], [1, 2, 3] as [UInt8]))
        #expect(ConstantTime.equal(Array(0...255) as [UInt8], (0...255).map(UInt8.init)))
    }

    @Test func anyDifferingBitMakesThemUnequal() {
        let bytes = [UInt8](Array(0..<32))
        for bit in 0..<(bytes.count * 8) {
            var other = bytes
            other[bit / 8] ^= 1 << (bit % 8)
            #expect(!ConstantTime.equal(bytes, other), "bit \(bit)")
        }
    }

    @Test func differentLengthsAreUnequal() {
        #expect(!ConstantTime.equal([1, 2, 3] as [UInt8], [1, 2] as [UInt8]))
        #expect(!ConstantTime.equal([UInt8](), [0] as [UInt8]))
    }

    @Test func comparesAcrossCollectionKinds() {
        let bytes: [UInt8] = [9, 1, 2, 3, 9]
        #expect(ConstantTime.equal(bytes[1..<4], [1, 2, 3] as [UInt8]))
        bytes.withUnsafeBytes { #expect(ConstantTime.equal($0, bytes)) }
    }
}
