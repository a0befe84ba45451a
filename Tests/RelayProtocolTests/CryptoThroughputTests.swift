import Foundation
import RelayProtocol
import Testing

/// Throughput of the per-packet and bulk paths, printed. Off by default (the numbers mean something only in a
/// release build on a quiet machine):
///
///     RELAYD_CRYPTO_BENCH=1 swift test -c release --filter CryptoThroughput
///
/// Compare with `openssl speed -bytes 1200 -evp chacha20-poly1305` and `openssl speed -bytes 65536 sha256` run
/// from a shell. Not from here: `openssl speed` times itself with SIGALRM, and a child started from a test
/// inherits the test thread's blocked signal mask, so the alarm never arrives and it spins until killed.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["RELAYD_CRYPTO_BENCH"] != nil,
                "set RELAYD_CRYPTO_BENCH=1 (and build with -c release) to measure throughput"),
       .serialized)
struct CryptoThroughputTests {
    /// Bytes per second of `body`, which handles `bytesPerCall` bytes: the best of five runs of about 0.4 s each,
    /// so that another process's burst on a shared machine costs a run, not the result.
    static func throughput(bytesPerCall: Int, _ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        var best = 0.0
        for _ in 0..<5 {
            var calls = 0
            let start = clock.now
            var elapsed = Duration.zero
            while elapsed < .milliseconds(400) {
                for _ in 0..<64 {
                    body()
                }
                calls += 64
                elapsed = clock.now - start
            }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            best = max(best, Double(calls * bytesPerCall) / seconds)
        }
        return best
    }

    /// Prints one result in MB/s (10^6 bytes a second, as `openssl speed` counts).
    static func report(_ name: String, _ bytesPerSecond: Double) {
        print("\(name): \(Int(bytesPerSecond / 1e6)) MB/s")
    }

    @Test func chaCha20Poly1305SealOf1200BytePacketsInPlace() {
        let aead = ChaCha20Poly1305(key: SecureRandom.bytes(count: 32))
        var packet = SecureRandom.bytes(count: 1200 + 16)
        var nonce = [UInt8](repeating: 0, count: 12)
        var counter: UInt64 = 0
        let bytesPerSecond = packet.withUnsafeMutableBytes { packet in
            let payload = UnsafeMutableRawBufferPointer(rebasing: packet[..<1200])
            let tag = UnsafeMutableRawBufferPointer(rebasing: packet[1200...])
            return Self.throughput(bytesPerCall: 1200) {
                counter += 1
                nonce.withUnsafeMutableBytes {
                    $0.storeBytes(of: counter.littleEndian, toByteOffset: 4, as: UInt64.self)
                }
                aead.seal(nonce: nonce, inPlace: payload, authenticating: [UInt8](), tag: tag)
            }
        }
        Self.report("ChaCha20-Poly1305 seal in place, 1200-byte packets", bytesPerSecond)
        #expect(bytesPerSecond > 0)
    }

    @Test func sha256Of64KiB() {
        let data = SecureRandom.bytes(count: 65536)
        var sink: UInt8 = 0
        let bytesPerSecond = Self.throughput(bytesPerCall: data.count) { sink ^= SHA256.hash(data)[0] }
        Self.report("SHA-256, 64 KiB messages", bytesPerSecond)
        #expect(bytesPerSecond > 0)
        _ = sink
    }

    @Test func chaCha20AndPoly1305AloneOn1200Bytes() {
        let key = SecureRandom.bytes(count: 32)
        var packet = SecureRandom.bytes(count: 1200)
        let nonce = [UInt8](repeating: 0, count: 12)
        let cipher = ChaCha20(key: key)
        let chacha = packet.withUnsafeMutableBytes { packet in
            Self.throughput(bytesPerCall: 1200) { cipher.encrypt(inPlace: packet, counter: 1, nonce: nonce) }
        }
        var tag = [UInt8](repeating: 0, count: 16)
        let poly = packet.withUnsafeBytes { packet in
            tag.withUnsafeMutableBytes { tag in
                Self.throughput(bytesPerCall: 1200) {
                    var authenticator = Poly1305(key: key)
                    authenticator.update(packet)
                    authenticator.finalize(into: tag)
                }
            }
        }
        Self.report("ChaCha20 in place, 1200 bytes", chacha)
        Self.report("Poly1305, 1200 bytes", poly)
        #expect(chacha > 0 && poly > 0)
    }

    @Test func hmacSHA256Of64ByteMessagesUnderOneKey() {
        let keyed = HMACSHA256(key: SecureRandom.bytes(count: 32))
        let message = SecureRandom.bytes(count: 64)
        var code = [UInt8](repeating: 0, count: 32)
        let bytesPerSecond = code.withUnsafeMutableBytes { code in
            Self.throughput(bytesPerCall: 64) {
                var mac = keyed
                mac.update(message)
                mac.finalize(into: code)
            }
        }
        print("HMAC-SHA256 under a keyed instance, 64-byte messages: \(Int(bytesPerSecond / 64)) codes/s")
        #expect(bytesPerSecond > 0)
    }
}
