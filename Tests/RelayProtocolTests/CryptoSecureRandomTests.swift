import RelayProtocol
import Testing

@Suite struct CryptoSecureRandomTests {
    @Test(arguments: [0, 1, 7, 8, 9, 32, 1000])
    func returnsTheRequestedNumberOfBytes(count: Int) {
        #expect(SecureRandom.bytes(count: count).count == count)
    }

    @Test func successiveKeysDiffer() {
        // Equal 32-byte outputs would mean a broken source, not bad luck (2^-256).
        #expect(SecureRandom.bytes(count: 32) != SecureRandom.bytes(count: 32))
    }

    @Test func fillsEveryByteOfAnOddSizedBuffer() {
        // Each byte stays 0xAA after ten fills with probability 2^-80: every byte, tail included, is written.
        var touched = [Bool](repeating: false, count: 13)
        for _ in 0..<10 {
            var buffer = [UInt8](repeating: 0xaa, count: 13)
            buffer.withUnsafeMutableBytes { SecureRandom.fill($0) }
            for (index, byte) in buffer.enumerated() where byte != 0xaa {
                touched[index] = true
            }
        }
        #expect(touched.allSatisfy { $0 })
    }

    @Test func bytesAreRoughlyUniform() {
        // 64 KiB: each bit is set about half the time, and 0.45…0.55 leaves over 70 standard deviations either side.
        let bytes = SecureRandom.bytes(count: 65536)
        let ones = bytes.reduce(0) { $0 + $1.nonzeroBitCount }
        let fraction = Double(ones) / Double(bytes.count * 8)
        #expect(fraction > 0.45 && fraction < 0.55)
    }
}
