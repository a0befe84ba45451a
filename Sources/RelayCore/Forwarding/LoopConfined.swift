/// A value used only on one event loop's thread, by tasks pinned to that loop, between two suspension
/// points: safe to share among those tasks though the type is not `Sendable`.
struct LoopConfined<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
