import RelayIO

/// Loops for test clients and test backends, separate from any relay's loops; never shut down (the test
/// process ends with them).
public let clientLoops = try! EventLoopGroup(loops: 2, bufferSize: 64 * 1024)
