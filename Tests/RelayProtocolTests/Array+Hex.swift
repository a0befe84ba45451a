import Foundation

extension Array where Element == UInt8 {
    /// The bytes written in `hex`, which may separate digit pairs with spaces, newlines or colons, as the RFCs'
    /// dumps do. Traps on anything else: a malformed vector is a bug in the test.
    init(hex: String) {
        let digits = hex.unicodeScalars.filter { !CharacterSet.whitespacesAndNewlines.contains($0) && $0 != ":" }
        precondition(digits.count % 2 == 0, "odd number of hex digits in a test vector")
        var bytes = [UInt8]()
        var iterator = digits.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            bytes.append(UInt8(String(high) + String(low), radix: 16)!)
        }
        self = bytes
    }

    /// The bytes as lowercase hex digits with no separators.
    var hex: String {
        let digits = [Character]("0123456789abcdef")
        var text = ""
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return text
    }
}
