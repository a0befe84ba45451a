/// The rules for host names in server addresses (RFC 1123): dot-separated labels of 1 to 63 letters, digits and
/// `-`, not starting or ending with `-`, at most 253 characters in all. A final dot (`app.internal.`) marks a
/// name the resolver must not complete with its search domains, and is kept.
enum HostName {
    /// What is wrong with `name`, or nil if it is a valid host name.
    static func problem(with name: Substring) -> String? {
        let body = name.hasSuffix(".") ? name.dropLast() : name
        guard !body.isEmpty else { return "it has no labels" }
        guard body.utf8.count <= 253 else { return "it is \(body.utf8.count) characters long, at most 253" }
        for label in body.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty else { return "it has an empty label (two dots in a row, or a dot at the start)" }
            guard label.utf8.count <= 63 else {
                return "the label `\(label.prefix(20))...` is \(label.utf8.count) characters long, at most 63"
            }
            let isValid = label.unicodeScalars.allSatisfy { scalar in
                switch scalar {
                case "a"..."z", "A"..."Z", "0"..."9", "-": true
                default: false
                }
            }
            guard isValid else {
                let hint = label.unicodeScalars.contains { !$0.isASCII }
                    ? " (write an international name in its `xn--` form)" : ""
                return "the label `\(label)` may only contain letters, digits and `-`\(hint)"
            }
            guard !label.hasPrefix("-"), !label.hasSuffix("-") else {
                return "the label `\(label)` cannot start or end with `-`"
            }
        }
        return nil
    }
}
