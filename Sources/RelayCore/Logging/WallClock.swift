import RelayProtocol

#if canImport(Glibc)
import Glibc
#endif

/// The real-time clock, read in one place, for the times people read: log timestamps, the HTTP `Date` field, when
/// the server started and when its config was loaded.
///
/// It jumps when the system time is set, so nothing measures a duration with it: timeouts and intervals use the
/// monotonic `EventLoop.now()` or `ContinuousClock`.
enum WallClock {
    /// Now, as whole seconds and nanoseconds since 1970-01-01T00:00:00Z.
    static func now() -> (seconds: Int64, nanoseconds: Int) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return (Int64(now.tv_sec), Int(now.tv_nsec))
    }

    /// Now as a UTC date, for rendering.
    static func date() -> UTCDate {
        let (seconds, nanoseconds) = now()
        return UTCDate(secondsSince1970: seconds, nanoseconds: nanoseconds)
    }

    /// Now in seconds since 1970, with a fraction: for ages and for timestamps exported as numbers.
    static func seconds() -> Double {
        let (seconds, nanoseconds) = now()
        return Double(seconds) + Double(nanoseconds) / 1e9
    }
}
