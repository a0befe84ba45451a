/// One line of a text exposition, as `PrometheusLineScanner` reads it, before any check across lines.
enum PrometheusLine: Equatable {
    /// An empty line or a comment other than `HELP` and `TYPE`; ignored.
    case ignored
    /// `# HELP name text`, with the text unescaped.
    case help(name: String, text: String)
    /// `# TYPE name type`, with the type as written (checked by the parser).
    case type(name: String, type: String)
    /// `name{labels} value [timestamp]`; the timestamp is checked and dropped.
    case sample(name: String, labels: [String: String], value: Double)
}
