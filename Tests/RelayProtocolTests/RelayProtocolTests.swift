import Testing
@testable import RelayProtocol

@Suite struct RelayProtocolModuleTests {
    @Test func moduleLinks() {
        #expect(String(describing: RelayProtocol.self) == "RelayProtocol")
    }
}
