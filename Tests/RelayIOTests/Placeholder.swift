import Testing
@testable import RelayIO
