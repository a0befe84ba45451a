import CRelayIO
import Testing
@testable import RelayIO

#if canImport(Glibc)
import Glibc
#endif

@Suite struct DescriptorBudgetTests {
    @Test func keepsSixteenFreeUnderAnOrdinaryLimit() {
        #expect(DescriptorBudget.allotment(limit: 1024, uncounted: 20)
                == .init(limit: 1024, uncounted: 20, reserve: 16, budget: 988))
    }

    @Test func keepsAQuarterOfWhatIsLeftUnderATinyLimit_andAtLeastFour() {
        #expect(DescriptorBudget.allotment(limit: 48, uncounted: 11).reserve == 9)
        #expect(DescriptorBudget.allotment(limit: 48, uncounted: 11).budget == 28)
        #expect(DescriptorBudget.allotment(limit: 16, uncounted: 12) == .init(limit: 16, uncounted: 12, reserve: 4, budget: 1))
        #expect(DescriptorBudget.allotment(limit: 10, uncounted: 12).budget == 1)
    }
}

/// The budget is process-wide: these tests set it, so they must not run beside anything that opens sockets.
/// They run in a child process of their own (an exit test), where nothing else does.
@Suite struct DescriptorBudgetEnforcementTests {
    @Test func socketsOverTheBudgetFailWithEMFILE_andClosingGivesRoomBack() async {
        await #expect(processExitsWith: .success) {
            crelay_descriptor_budget_set(crelay_descriptors_counted() + 2)
            let first = crelay_socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            let second = crelay_socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            let third = crelay_socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            let thirdErrno = errno
            var pipe: [Int32] = [-1, -1]
            let pipeResult = crelay_pipe(&pipe, 0)
            _ = crelay_close(second)
            let fourth = crelay_socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            guard first >= 0, second >= 0, third == -1, thirdErrno == EMFILE, pipeResult == -1, fourth >= 0 else {
                exit(1)
            }
            // An IOError from it is a local shortage, not the peer's fault.
            let error = IOError.syscall(call: "socket", errno: EMFILE)
            guard case .local(.fileDescriptors) = error.origin else { exit(2) }
            exit(0)
        }
    }
}
