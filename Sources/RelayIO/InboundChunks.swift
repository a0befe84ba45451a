/// Inbound data of a `TCPConnection`, chunk by chunk. See `TCPConnection.inbound(pool:)`.
public struct InboundChunks: AsyncSequence, Sendable {
    public typealias Element = UnsafeRawBufferPointer
    let connection: TCPConnection
    let pool: BufferPool
    let startDrained: Bool

    public func makeAsyncIterator() -> Iterator {
        Iterator(reader: ChunkReader(connection: connection, pool: pool, drained: startDrained))
    }

    public struct Iterator: AsyncIteratorProtocol {
        let reader: ChunkReader

        public mutating func next() async throws -> UnsafeRawBufferPointer? {
            try await reader.next()
        }
    }
}
