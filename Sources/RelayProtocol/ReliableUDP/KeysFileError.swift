/// A line of a keys file that could not be read, and why: printed as `file:line: message`.
public struct KeysFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file's name as the user gave it.
    public var file: String
    /// The line, counting from 1.
    public var line: Int
    /// What is wrong, without the key's bytes.
    public var message: String

    /// An error at this place.
    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// `file:line: message`, as compilers print it, so editors can jump there.
    public var description: String { "\(file):\(line): \(message)" }
}
