import Testing
@testable import RelayCore

@Suite struct LoggerTests {
    @Test func textLineQuotesValuesWithSpaces() {
        let line = Logger.render(level: .warn, message: "accept failed", fields: [("address", "127.0.0.1:80"), ("error", "too many files")],
                                 format: .text, timestamp: "T")
        #expect(line == "ts=T level=warn msg=\"accept failed\" address=127.0.0.1:80 error=\"too many files\"\n")
    }

    @Test func jsonLineEscapes() {
        let line = Logger.render(level: .info, message: "a\"b", fields: [("k", "v\n")], format: .json, timestamp: "T")
        #expect(line == "{\"ts\":\"T\",\"level\":\"info\",\"msg\":\"a\\\"b\",\"k\":\"v\\n\"}\n")
    }

    @Test func levelFilterDropsLowerLevels() {
        let capture = LogCapture()
        let logger = Logger(level: .warn, sink: .capture(capture)).with(["listener": "web"])
        logger.info("hidden")
        logger.error("shown", ["n": 3])
        #expect(capture.lines.count == 1)
        #expect(capture.lines[0].hasSuffix("level=error msg=shown listener=web n=3"))
    }
}
