extension Collection where Element == UInt8 {
    /// Calls `body` with the bytes as one raw buffer: in place when the collection is contiguous (arrays, slices,
    /// buffers, native strings' UTF-8 views), through a temporary array otherwise.
    ///
    /// The crypto types take `some Collection<UInt8>` in thin `@inlinable` entry points that come through here and
    /// then call one non-generic core over raw buffers, so a caller in another module gets a specialised call
    /// with no copy and the arithmetic is compiled once.
    @inlinable
    func withCryptoBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        if let result = try withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return try Array(self).withUnsafeBytes(body)
    }
}
