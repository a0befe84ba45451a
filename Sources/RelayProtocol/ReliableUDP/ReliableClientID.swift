/// The rules for a client id: what names a pre-shared key in the keys file and in HELLO and RESPONSE.
///
/// 1 to 64 characters from `A–Z a–z 0–9 . _ @ -`: enough for host names and e-mail-like names, nothing that
/// needs quoting in a log line or the keys file.
public enum ReliableClientID {
    /// True when `id` follows the rules.
    public static func isValid(_ id: String) -> Bool {
        let utf8 = Array(id.utf8)
        return isValid(utf8)
    }

    /// True when the bytes of an id follow the rules.
    static func isValid(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty, bytes.count <= ReliableWire.maxClientIDLength else { return false }
        return bytes.allSatisfy(isAllowed)
    }

    /// True for the bytes an id may hold.
    static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "@"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}
