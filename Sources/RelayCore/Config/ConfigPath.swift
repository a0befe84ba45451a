/// Builds the paths that name a place in the config in messages: `listeners[0].max_connections`,
/// `backends.web.servers[1]`, or `backends["a.b"]` when a key is not a plain word.
///
/// Paths are strings rather than component arrays because they are only ever shown to people and used as
/// dictionary keys for source positions; one spelling for both keeps the two in step.
enum ConfigPath {
    /// The path of member `key` of the object at `parent` (the empty path is the top level).
    static func key(_ key: String, in parent: String) -> String {
        let isWord = !key.isEmpty && key.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                true
            default:
                false
            }
        }
        if isWord { return parent.isEmpty ? key : "\(parent).\(key)" }
        return "\(parent)[\(Logger.jsonString(key))]"
    }

    /// The path of element `index` of the array at `parent`.
    static func index(_ index: Int, in parent: String) -> String {
        "\(parent)[\(index)]"
    }
}
