import Foundation

/// A fresh path in the temporary directory, unique to this call (tests run in parallel), ending in `suffix`.
public func temporaryPath(_ prefix: String = "relayd-test", suffix: String = "") -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)\(suffix)").path
}

/// Writes `text` to a fresh temporary file and returns its path.
public func temporaryFile(_ text: String, suffix: String = ".json5") throws -> String {
    let path = temporaryPath(suffix: suffix)
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}
