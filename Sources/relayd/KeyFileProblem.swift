/// Why `relayd connect` cannot use its key file: the message it prints.
struct KeyFileProblem: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
