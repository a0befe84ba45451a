/// Pure value types and codecs with no I/O: the HTTP/1.1 requests the admin API reads and the Prometheus
/// text it writes. Everything here takes bytes or values and returns bytes or values, so it can be tested
/// and fuzzed without sockets.
public enum RelayProtocol {}
