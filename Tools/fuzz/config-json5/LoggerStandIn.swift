// The one function of RelayCore's Logger that the config tree needs (to quote keys in paths and strings in
// messages), so the fuzzer can build the parser without the rest of RelayCore.
enum Logger {
    static func jsonString(_ value: String) -> String {
        JSONValue.quoted(value)
    }
}
