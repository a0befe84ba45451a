import RelayIO

/// Loops for test clients and test backends, separate from any relay's loops; never shut down (the test
/// process ends with them). A watchdog reports a loop that stops running jobs (see `LoopWatchdog`).
public let clientLoops: EventLoopGroup = {
    let group = try! EventLoopGroup(loops: 2, bufferSize: 64 * 1024)
    LoopWatchdog.start(group)
    return group
}()
