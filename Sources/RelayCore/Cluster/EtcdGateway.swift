import RelayProtocol

/// The etcd v3 JSON gateway calls relayd makes, as pure encoders and decoders (no I/O): lease grant, keepalive
/// and revoke; put under a lease; the election transaction on the leader key; the fenced publication
/// transaction; range over a prefix; delete.
///
/// What the gateway expects (checked against etcd 3.4): POST with a JSON body; keys and values base64; 64-bit
/// integers as JSON strings (both in requests and replies); fields that are zero or false are left out of
/// replies, so a missing `succeeded` means false and a missing `TTL` means 0.
public enum EtcdGateway {
    // MARK: - Requests

    /// `/v3/lease/grant`: a lease of `ttlSeconds`.
    public static func grant(ttlSeconds: Int) -> EtcdCall {
        EtcdCall(path: "/v3/lease/grant", body: JSONValue.object([("TTL", .number(ttlSeconds))]).text)
    }

    /// `/v3/lease/keepalive`: renew `lease` once (one request per POST).
    public static func keepAlive(lease: Int64) -> EtcdCall {
        EtcdCall(path: "/v3/lease/keepalive", body: JSONValue.object([("ID", .string(String(lease)))]).text)
    }

    /// `/v3/lease/revoke`: end `lease` now, deleting every key bound to it.
    public static func revoke(lease: Int64) -> EtcdCall {
        EtcdCall(path: "/v3/lease/revoke", body: JSONValue.object([("ID", .string(String(lease)))]).text)
    }

    /// `/v3/kv/put`: `key` = `value`, bound to `lease` when it is not 0.
    public static func put(key: String, value: [UInt8], lease: Int64 = 0) -> EtcdCall {
        EtcdCall(path: "/v3/kv/put", body: putRequest(key: key, value: value, lease: lease).text)
    }

    /// `/v3/kv/txn`: create `key` = `value` under `lease` if the key does not exist (`create_revision == 0`),
    /// else read it. The winner's reply has `succeeded`; the loser's carries the holder in its range response.
    public static func campaign(key: String, value: [UInt8], lease: Int64) -> EtcdCall {
        let compare: JSONValue = .object([("target", "CREATE"), ("key", .string(Base64.encode(Array(key.utf8)))),
                                          ("create_revision", "0")])
        let body: JSONValue = .object([
            ("compare", [compare]),
            ("success", [.object([("request_put", putRequest(key: key, value: value, lease: lease))])]),
            ("failure", [.object([("request_range", .object([("key", .string(Base64.encode(Array(key.utf8))))]))])]),
        ])
        return EtcdCall(path: "/v3/kv/txn", body: body.text)
    }

    /// `/v3/kv/txn`: put `key` = `value` only while `leaderKey` still has the create revision `term`, so a leader
    /// that lost the lead cannot publish even if it has not noticed yet (etcd fences it).
    public static func putIfLeader(leaderKey: String, term: Int64, key: String, value: [UInt8]) -> EtcdCall {
        let compare: JSONValue = .object([("target", "CREATE"),
                                          ("key", .string(Base64.encode(Array(leaderKey.utf8)))),
                                          ("create_revision", .string(String(term)))])
        let body: JSONValue = .object([
            ("compare", [compare]),
            ("success", [.object([("request_put", putRequest(key: key, value: value, lease: 0))])]),
        ])
        return EtcdCall(path: "/v3/kv/txn", body: body.text)
    }

    /// `/v3/kv/range`: every key starting with `prefix`.
    public static func range(prefix: String) -> EtcdCall {
        let start = Array(prefix.utf8)
        let body: JSONValue = .object([("key", .string(Base64.encode(start))),
                                       ("range_end", .string(Base64.encode(prefixEnd(start))))])
        return EtcdCall(path: "/v3/kv/range", body: body.text)
    }

    /// `/v3/kv/deleterange`: delete `key`.
    public static func delete(key: String) -> EtcdCall {
        EtcdCall(path: "/v3/kv/deleterange",
                 body: JSONValue.object([("key", .string(Base64.encode(Array(key.utf8))))]).text)
    }

    /// The first key after every key that starts with `prefix`: its last byte below 0xFF raised by one, the
    /// rest dropped (etcd's `GetPrefixRangeEnd`); `[0]` (every key) for a prefix of only 0xFF bytes.
    public static func prefixEnd(_ prefix: [UInt8]) -> [UInt8] {
        var end = prefix
        while let last = end.last {
            if last < 0xFF {
                end[end.count - 1] = last + 1
                return end
            }
            end.removeLast()
        }
        return [0]
    }

    private static func putRequest(key: String, value: [UInt8], lease: Int64) -> JSONValue {
        var members: [(String, JSONValue)] = [("key", .string(Base64.encode(Array(key.utf8)))),
                                              ("value", .string(Base64.encode(value)))]
        if lease != 0 { members.append(("lease", .string(String(lease)))) }
        return .object(members)
    }

    // MARK: - Replies

    /// A grant's lease id and TTL in seconds.
    public static func decodeGrant(_ body: [UInt8]) throws(EtcdError) -> (lease: Int64, ttl: Int) {
        let reply = try object(body)
        guard let id = try integer(reply, "ID"), id != 0 else { throw .malformed("a lease grant without an ID") }
        let ttl = try integer(reply, "TTL") ?? 0
        guard ttl > 0 else { throw .malformed("a lease grant with no TTL") }
        return (id, Int(clamping: ttl))
    }

    /// A keepalive's remaining TTL in seconds; 0 means the lease no longer exists.
    public static func decodeKeepAlive(_ body: [UInt8]) throws(EtcdError) -> Int {
        let reply = try object(body)
        guard case .object(let result)? = member(reply, "result") else {
            throw .malformed("a keepalive reply without `result`")
        }
        return Int(clamping: try integer(result, "TTL") ?? 0)
    }

    /// A transaction's outcome.
    public static func decodeTxn(_ body: [UInt8]) throws(EtcdError) -> EtcdTxnResult {
        let reply = try object(body)
        var succeeded = false
        if let flag = member(reply, "succeeded") {
            guard case .bool(let value) = flag else { throw .malformed("`succeeded` is not a boolean") }
            succeeded = value
        }
        var kvs: [EtcdKeyValue] = []
        if let responses = member(reply, "responses") {
            guard case .array(let items) = responses else { throw .malformed("`responses` is not an array") }
            for item in items {
                guard case .object(let response) = item else { throw .malformed("a response is not an object") }
                if case .object(let range)? = member(response, "response_range") {
                    kvs += try keyValues(range)
                }
            }
        }
        return EtcdTxnResult(succeeded: succeeded, revision: try revision(reply), kvs: kvs)
    }

    /// A range's revision and keys.
    public static func decodeRange(_ body: [UInt8]) throws(EtcdError) -> (revision: Int64, kvs: [EtcdKeyValue]) {
        let reply = try object(body)
        return (try revision(reply), try keyValues(reply))
    }

    /// A reply whose content does not matter (put, revoke, delete): only checked for an error.
    public static func decodeAcknowledgement(_ body: [UInt8]) throws(EtcdError) {
        _ = try object(body)
    }

    /// etcd's message from an error body, for `EtcdError.status`.
    public static func errorMessage(_ body: [UInt8]) -> String {
        do {
            _ = try object(body)
            return "no message"
        } catch let .server(message) {
            return message
        } catch {
            let text = String(decoding: body.prefix(200), as: UTF8.self)
            return text.isEmpty ? "no message" : text
        }
    }

    // MARK: - JSON access

    typealias Members = [(key: String, value: ConfigValue)]

    /// The reply's top-level object; an `error` member (either of the gateway's two shapes) is an error.
    static func object(_ body: [UInt8]) throws(EtcdError) -> Members {
        let document: JSON5Document
        do {
            document = try JSON5Document(parsing: String(decoding: body, as: UTF8.self))
        } catch {
            throw .malformed("not JSON (\(error.message))")
        }
        guard case .object(let members) = document.value else { throw .malformed("not a JSON object") }
        if let error = member(members, "error") {
            switch error {
            case .string(let message): throw .server(message)
            case .object(let details):
                if case .string(let message)? = member(details, "message") { throw .server(message) }
                throw .server("an error without a message")
            default: throw .server("an error without a message")
            }
        }
        return members
    }

    static func member(_ members: Members, _ key: String) -> ConfigValue? {
        members.first { $0.key == key }?.value
    }

    /// A 64-bit integer written as a JSON string (or, leniently, as a number); nil when absent.
    static func integer(_ members: Members, _ key: String) throws(EtcdError) -> Int64? {
        switch member(members, key) {
        case nil: return nil
        case .string(let text)?:
            guard let value = Int64(text) else { throw .malformed("`\(key)` is not an integer") }
            return value
        case .number(let number)?:
            guard let value = Int64(exactly: number) else { throw .malformed("`\(key)` is not an integer") }
            return value
        default:
            throw .malformed("`\(key)` is not an integer")
        }
    }

    static func revision(_ reply: Members) throws(EtcdError) -> Int64 {
        guard case .object(let header)? = member(reply, "header") else { return 0 }
        return try integer(header, "revision") ?? 0
    }

    static func keyValues(_ members: Members) throws(EtcdError) -> [EtcdKeyValue] {
        guard let list = member(members, "kvs") else { return [] }
        guard case .array(let items) = list else { throw .malformed("`kvs` is not an array") }
        var out: [EtcdKeyValue] = []
        for item in items {
            guard case .object(let fields) = item else { throw .malformed("a key-value is not an object") }
            guard case .string(let key64)? = member(fields, "key"), let key = Base64.decode(key64) else {
                throw .malformed("a key-value without a base64 key")
            }
            var value: [UInt8] = []
            if let raw = member(fields, "value") {
                guard case .string(let value64) = raw, let decoded = Base64.decode(value64) else {
                    throw .malformed("a value that is not base64")
                }
                value = decoded
            }
            out.append(EtcdKeyValue(key: String(decoding: key, as: UTF8.self), value: value,
                                    createRevision: try integer(fields, "create_revision") ?? 0,
                                    modRevision: try integer(fields, "mod_revision") ?? 0,
                                    lease: try integer(fields, "lease") ?? 0))
        }
        return out
    }
}
