extension HTTPResponse {
    /// `text` as a JSON string literal: quoted, with `"`, `\` and every control character escaped (RFC 8259 §7).
    static func jsonQuoted(_ text: String) -> String {
        JSONValue.quoted(text)
    }
}
