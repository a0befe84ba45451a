import Foundation
import RelayProtocol
import Testing
import TestSupport
@testable import RelayCore

@Suite struct MetricsProcessTests {
    @Test func statFieldsAreCountedFromTheLastParenthesis_soACommandNameWithSpacesAndParenthesesParses() throws {
        let line = "4242 (relay) d (x)) S 1 4242 4242 0 -1 4194560 1200 0 3 0 700 300 0 0 20 0 9 0 123456 "
            + "104857600 2560 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 17 1 0 0 0 0 0\n"
        let stat = try #require(ProcessStat(parsing: line))
        #expect(stat == ProcessStat(userTicks: 700, systemTicks: 300, threads: 9, startTicks: 123_456,
                                    virtualBytes: 104_857_600, residentPages: 2560))
    }

    @Test func truncatedOrGarbledStatIsNotRead() {
        #expect(ProcessStat(parsing: "") == nil)
        #expect(ProcessStat(parsing: "1 (relayd) S 1 2 3") == nil)
        #expect(ProcessStat(parsing: "1 (relayd) S 1 1 1 0 -1 0 0 0 0 0 x 3 0 0 20 0 9 0 5 6 7") == nil)
    }

    @Test func bootTimeIsTheBtimeLine() {
        #expect(ProcessStat.bootTime(parsing: "cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n") == 1_700_000_000)
        #expect(ProcessStat.bootTime(parsing: "cpu  1 2 3\n") == nil)
    }

    @Test func liveValuesArePlausibleAndRenderAsValidExposition() async throws {
        let registry = MetricsRegistry()
        await registry.register(ProcessMetrics(), key: "process")
        let text = await registry.render()
        let exposition = try PrometheusExposition(parsing: text)
        #expect(exposition.families.map(\.name) == [
            "process_cpu_seconds_total", "process_max_fds", "process_open_fds", "process_resident_memory_bytes",
            "process_start_time_seconds", "process_threads", "process_virtual_memory_bytes",
        ])
        let now = Date().timeIntervalSince1970
        let cpu = try #require(exposition.value("process_cpu_seconds_total"))
        let openFDs = try #require(exposition.value("process_open_fds"))
        let maxFDs = try #require(exposition.value("process_max_fds"))
        let resident = try #require(exposition.value("process_resident_memory_bytes"))
        let virtual = try #require(exposition.value("process_virtual_memory_bytes"))
        let start = try #require(exposition.value("process_start_time_seconds"))
        let threads = try #require(exposition.value("process_threads"))
        #expect(cpu >= 0)
        #expect(openFDs >= 3)
        #expect(maxFDs >= openFDs)
        #expect(resident > 0)
        #expect(virtual >= resident)
        // The boot time is whole seconds and the start time whole clock ticks, so allow a second either way.
        #expect(start <= now + 1)
        #expect(start > now - 86_400)
        #expect(threads >= 1)
    }

    @Test func openDescriptorsIncludeEveryDescriptorThisTestHoldsOpen() throws {
        let descriptors = (0..<50).map { _ in open("/dev/null", O_RDONLY) }
        defer { for descriptor in descriptors where descriptor >= 0 { close(descriptor) } }
        try #require(descriptors.allSatisfy { $0 >= 0 })
        // Other tests open and close descriptors meanwhile, but cannot close these 50 or stdin/out/err.
        #expect(try #require(ProcessMetrics.openDescriptors()) >= 53)
    }

    @Test func buildInfoIsOneWithVersionAndSwiftLabels() async throws {
        let families = await BuildInfoCollector(version: "1.2.3").collect()
        let family = try #require(families.first)
        #expect(families.count == 1)
        #expect(family.name == "relayd_build_info")
        #expect(family.type == .gauge)
        #expect(family.samples.count == 1)
        #expect(family.samples.first?.labels.map(\.0) == ["version", "swift"])
        #expect(family.samples.first?.labels.first?.1 == "1.2.3")
        #expect(family.samples.first?.value == 1)
        #expect(BuildInfoCollector.swiftVersion.hasPrefix("6."))
    }
}
