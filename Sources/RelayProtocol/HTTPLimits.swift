/// The bounds an `HTTPRequestParser` enforces, so that no request can make it buffer or scan without end.
///
/// The admin API only ever receives small requests, so the defaults are generous for that use and small for an
/// attacker: a request that exceeds any of them is rejected with the matching status (414, 431 or 413) as soon as
/// the excess is visible in the buffer, without waiting for the rest of it. Negative values count as zero.
public struct HTTPLimits: Sendable, Equatable {
    /// The longest request line, without its CRLF; longer is 414. Bounds the method and target together.
    public var maxRequestLineBytes: Int
    /// The longest head: request line, header lines and the blank line that ends them, with every CRLF; longer is
    /// 431. This is the most a connection can make the parser scan before it knows where the request ends.
    public var maxHeaderBytes: Int
    /// The most header lines (and, separately, trailer lines of a chunked body); more is 431. Bounds the work
    /// spent on lookups, which are linear.
    public var maxHeaderCount: Int
    /// The largest body after any chunked framing is removed; larger is 413. The server holds whole bodies in
    /// memory, so this is the memory one request can claim.
    public var maxBodyBytes: Int
    /// The most bytes of chunked framing (chunk-size lines with their extensions, the CRLF after each chunk and
    /// the trailer section); more is 413. Without it, a body sent one byte per chunk would cost six times its size.
    public var maxChunkedFramingBytes: Int

    /// Limits with the defaults: an 8 KiB request line, a 16 KiB head of at most 64 fields, a 1 MiB body and
    /// 16 KiB of chunked framing.
    public init(
        maxRequestLineBytes: Int = 8 * 1024,
        maxHeaderBytes: Int = 16 * 1024,
        maxHeaderCount: Int = 64,
        maxBodyBytes: Int = 1024 * 1024,
        maxChunkedFramingBytes: Int = 16 * 1024
    ) {
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
        self.maxChunkedFramingBytes = maxChunkedFramingBytes
    }

    /// The same limits with every value in `0...2^40`, so the parser's arithmetic on them can never overflow.
    var clamped: HTTPLimits {
        func clamp(_ value: Int) -> Int { min(max(value, 0), 1 << 40) }
        return HTTPLimits(
            maxRequestLineBytes: clamp(maxRequestLineBytes),
            maxHeaderBytes: clamp(maxHeaderBytes),
            maxHeaderCount: clamp(maxHeaderCount),
            maxBodyBytes: clamp(maxBodyBytes),
            maxChunkedFramingBytes: clamp(maxChunkedFramingBytes)
        )
    }
}
