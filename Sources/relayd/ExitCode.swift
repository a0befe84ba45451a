/// Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.
enum ExitCode: Int32 {
    case ok = 0
    case failure = 1
    case usage = 2
}
