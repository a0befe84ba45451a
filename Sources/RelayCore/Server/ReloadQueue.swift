/// Runs reloads one after another, in the order they were asked for: a SIGHUP that arrives while an admin
/// reload runs waits for it instead of interleaving with it.
actor ReloadQueue {
    private var last: Task<ReloadResult, Never>?

    func run(_ body: @escaping @Sendable () async -> ReloadResult) async -> ReloadResult {
        let previous = last
        let task = Task {
            _ = await previous?.value
            return await body()
        }
        last = task
        return await task.value
    }
}
