import Testing
import TestSupport
@testable import RelayCore

@Suite(.computeBound) struct DashboardPageTests {
    @Test func pageIsOneCompleteDocument() {
        let html = DashboardPage.html
        #expect(html.hasPrefix("<!doctype html>"))
        #expect(html.hasSuffix("</html>"))
        #expect(html.contains("<meta charset=\"utf-8\">"))
    }

    // The admin port may have no route to the internet, and the page must not leak its token elsewhere.
    @Test(arguments: ["https://", "<link", "src=", "@import", "url("])
    func pageLoadsNothingFromElsewhere(marker: String) {
        #expect(!DashboardPage.html.contains(marker))
    }

    // Names and errors come from the configuration and from backends; they must never be parsed as markup.
    @Test(arguments: ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"])
    func pageInsertsApiDataAsTextOnly(sink: String) {
        #expect(!DashboardPage.html.contains(sink))
    }

    @Test(arguments: ["\"/stats\"", "\"/backends\"", "\"/flows\""])
    func pageFetchesAbsolutePaths(path: String) {
        #expect(DashboardPage.html.contains("getJSON(\(path))"))
    }
}
