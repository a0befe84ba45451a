import Testing
@testable import RelayCore

@Suite struct ConfigSpellingTests {
    @Test(arguments: [
        ("max_connections", "max_connections", 0),
        ("max_conections", "max_connections", 1),
        ("max_conenctions", "max_connections", 1),
        ("Max_Connections", "max_connections", 0),
        ("backlgo", "backlog", 1),
        ("", "abc", 3),
        ("kitten", "sitting", 3),
    ])
    func distanceCountsEditsAndSwaps(lhs: String, rhs: String, distance: Int) {
        #expect(Spelling.distance(lhs, rhs) == distance)
        #expect(Spelling.distance(rhs, lhs) == distance)
    }

    @Test func suggestsOnlyCloseNames() {
        let keys = ["listeners", "backends", "drain_timeout", "log", "io"]
        #expect(Spelling.suggestion(for: "listner", among: keys) == "listeners")
        #expect(Spelling.suggestion(for: "logs", among: keys) == "log")
        #expect(Spelling.suggestion(for: "x", among: keys) == nil)
        #expect(Spelling.suggestion(for: "timeout", among: keys) == nil)
        #expect(Spelling.suggestion(for: "udp", among: ["tcp", "echo"]) == nil)
        #expect(Spelling.suggestion(for: "lo", among: keys) == "log")
    }
}
