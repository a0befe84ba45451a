/// Collects the servers of one group from everywhere they are written (`servers`, then `servers_file`), expanding
/// address blocks and refusing what would make the list wrong or too large.
///
/// A server listed twice (the same address and port, or the same host name and port) is an error, not merged:
/// the two entries may carry different weights, and an overlap between a block and a single address is more
/// often a mistake than a wish.
struct ServerListBuilder {
    /// The most addresses one block may expand to; a wider block is usually a typo (`/16` for `/26`), and
    /// probing tens of thousands of addresses that mostly do not exist is no way to find servers.
    static let maximumPerBlock = 4096
    /// The most servers one group may have, all sources together.
    static let maximumPerGroup = 65536

    /// The servers so far, in the order they were written.
    private(set) var entries: [ServerEntry] = []
    /// Where each server was first listed, to name it when it is listed again.
    private var origins: [ServerEntry.Target: String] = [:]
    /// Set once an entry would have taken the group past `maximumPerGroup`; nothing is added after that, and
    /// readers stop reading (the problem has been reported once).
    private(set) var isFull = false

    /// Adds what one entry stands for, with `weight`, from `origin`. Returns what is wrong with the entry, or nil.
    /// The servers of an entry that repeats some earlier ones are still added, less the repeats.
    mutating func add(_ parsed: ServerSpec.Parsed, weight: Int, origin: String) -> String? {
        guard !isFull else { return nil }
        let targets: [ServerEntry.Target]
        switch parsed {
        case .target(let target):
            targets = [target]
        case .block(let block, let port):
            guard let count = block.count, count <= Self.maximumPerBlock else {
                return "\(block) expands to \(block.countDescription) addresses; at most \(Self.maximumPerBlock) per "
                    + "block, split it or list servers"
            }
            targets = block.endpoints(port: port).map { .address($0) }
        }
        guard entries.count + targets.count <= Self.maximumPerGroup else {
            isFull = true
            return "this takes the group to \(entries.count + targets.count) servers; at most "
                + "\(Self.maximumPerGroup) per group, so the rest of the list is not read"
        }
        var repeats: [(target: ServerEntry.Target, first: String)] = []
        for target in targets {
            if let first = origins[target] {
                repeats.append((target, first))
                continue
            }
            origins[target] = origin
            entries.append(ServerEntry(target: target, weight: weight, origin: origin))
        }
        guard let repeated = repeats.first else { return nil }
        switch parsed {
        case .target:
            return "\(repeated.target) is already listed at \(repeated.first); list each server once"
        case .block(let block, _):
            let more = repeats.count == 1 ? "" : " (and \(repeats.count - 1) more of its addresses are listed already)"
            return "\(block) includes \(repeated.target), already listed at \(repeated.first)\(more); "
                + "list each server once"
        }
    }
}
