import Testing
@testable import RelayProtocol

/// The keys file: what it accepts, and an error naming the line for each thing it does not.
@Suite struct KeysFileTests {
    static let keyA = String(repeating: "0123456789abcdef", count: 4)
    static let keyB = String(repeating: "FEDCBA9876543210", count: 4)

    @Test func readsKeysCommentsAndBlankLines() throws {
        let text = """
            # relayd reliable-udp keys
            alice \(Self.keyA)

            \tbob.example@lab-1   \(Self.keyB)   # the lab box
               # indented comment
            c_3\t\(Self.keyA)\r
            """
        let file = try KeysFile.parse(text, file: "keys.txt")
        #expect(file.entries.map(\.clientID) == ["alice", "bob.example@lab-1", "c_3"])
        #expect(file.entries.map(\.line) == [2, 4, 6])
        #expect(file.keys["alice"] == Array(repeating: [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF], count: 4).flatMap { $0 })
        #expect(file.keys["bob.example@lab-1"]?.first == 0xFE)
        #expect(try KeysFile.parse("", file: "empty").entries.isEmpty)
    }

    @Test(arguments: [
        ("alice", "keys:1: expected CLIENT_ID HEX_KEY, found only one field"),
        ("alice \(keyA) extra", "keys:1: expected CLIENT_ID HEX_KEY, found 3 fields"),
        ("al ice \(keyA)", "keys:1: expected CLIENT_ID HEX_KEY, found 3 fields"),
        ("al/ice \(keyA)", "keys:1: client id 'al/ice' must be 1-64 characters of A-Z a-z 0-9 . _ @ -"),
        ("\(String(repeating: "a", count: 65)) \(keyA)",
         "keys:1: client id '\(String(repeating: "a", count: 64))' must be 1-64 characters of A-Z a-z 0-9 . _ @ -"),
        ("alice \(keyA.dropLast())", "keys:1: key for 'alice' has 63 hex digits, expected 64 (32 bytes)"),
        ("alice \(keyA)00", "keys:1: key for 'alice' has 66 hex digits, expected 64 (32 bytes)"),
        ("alice \(keyA.dropLast())g", "keys:1: key for 'alice' is not hexadecimal"),
        ("alice \(String(repeating: "0", count: 64))", "keys:1: key for 'alice' is all zeros"),
        ("é \(keyA)", "keys:1: client id '?' must be 1-64 characters of A-Z a-z 0-9 . _ @ -"),
    ])
    func eachMistakeIsAnErrorAtItsLine(text: String, message: String) {
        #expect(throws: KeysFileError.self) { try KeysFile.parse(text, file: "keys") }
        do {
            _ = try KeysFile.parse(text, file: "keys")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func aDuplicateIdNamesTheFirstLine() {
        let text = "# keys\nalice \(Self.keyA)\nbob \(Self.keyB)\n\nalice \(Self.keyB)\n"
        #expect(throws: KeysFileError(file: "/etc/relayd/keys", line: 5, message: "client id 'alice' already has a key on line 2")) {
            try KeysFile.parse(text, file: "/etc/relayd/keys")
        }
    }

    @Test func linesCountCRLFAndLoneCR() {
        #expect(throws: KeysFileError(file: "k", line: 3, message: "expected CLIENT_ID HEX_KEY, found only one field")) {
            try KeysFile.parse("a \(Self.keyA)\r\nb \(Self.keyB)\rbroken\n", file: "k")
        }
    }

    @Test func keygenLinesParseBack() throws {
        let key = (0..<32).map { UInt8($0 * 8 + 1) }
        let line = KeysFile.line(clientID: "edge-7", key: key)
        #expect(line == "edge-7 " + KeysFile.hex(key))
        #expect(line.count == 7 + 64)
        #expect(try KeysFile.parse(line, file: "k").keys == ["edge-7": key])
    }
}
