/// Bytes from the kernel's cryptographically secure random number generator, for keys, cookie secrets and
/// anything else an attacker must not predict.
///
/// Glibc's Swift module does not export `getrandom(2)` and `RelayProtocol` has no C shim, so this builds on the
/// standard library's `SystemRandomNumberGenerator`, which on Linux is documented to read `getrandom(2)`. The
/// runtime calls it with no flags, so it blocks until the kernel's pool is initialised early in boot and never
/// returns weak bytes; it retries `EINTR` and short reads itself, and falls back to `/dev/urandom` only when
/// the call fails (`ENOSYS` before Linux 3.17, or a seccomp filter that refuses it). Each call to the generator
/// yields eight bytes, so a 32-byte key costs four system calls: nothing here is on a per-packet path.
///
/// Failure is a documented fatal error of the runtime, not a thrown error: it happens only when neither
/// `getrandom` nor `/dev/urandom` can be read. A process in that state cannot make a key or a nonce prefix that
/// is safe to use, and carrying on with predictable bytes would be worse than stopping, so we let it stop.
public enum SecureRandom {
    /// `count` random bytes.
    public static func bytes(count: Int) -> [UInt8] {
        precondition(count >= 0, "SecureRandom.bytes(count:) takes a count of at least zero, not \(count)")
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            fill(UnsafeMutableRawBufferPointer(buffer))
            initialized = count
        }
    }

    /// Overwrites every byte of `buffer` with random bytes.
    public static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress else { return }
        var generator = SystemRandomNumberGenerator()
        var offset = 0
        while buffer.count - offset >= 8 {
            base.storeBytes(of: generator.next(), toByteOffset: offset, as: UInt64.self)
            offset += 8
        }
        if offset < buffer.count {
            var last = generator.next()
            withUnsafeBytes(of: &last) { word in
                (base + offset).copyMemory(from: word.baseAddress!, byteCount: buffer.count - offset)
            }
        }
    }
}
