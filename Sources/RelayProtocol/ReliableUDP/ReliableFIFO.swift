/// A first-in-first-out queue over an array: appends at the back, removes from the front in amortised O(1).
///
/// The standard library has no deque; this is the small part of one the protocol needs. Removed slots are
/// reclaimed once they make up half the storage.
struct ReliableFIFO<Element: Sendable>: Sendable {
    private var storage: [Element] = []
    private var head = 0

    var count: Int { storage.count - head }
    var isEmpty: Bool { head == storage.count }
    var first: Element? { isEmpty ? nil : storage[head] }

    mutating func append(_ element: Element) { storage.append(element) }

    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        let element = storage[head]
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64, head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return element
    }

    /// The elements front to back.
    var elements: ArraySlice<Element> { storage[head...] }
}
