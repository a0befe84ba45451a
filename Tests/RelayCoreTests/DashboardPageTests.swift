import Testing
import TestSupport
@testable import RelayCore

@Suite(.computeBound) struct DashboardPageTests {
    @Test func pageIsOneCompleteDocument() {
        let html = DashboardPage.html
        #expect(html.hasPrefix("<!doctype html>"))
        #expect(html.hasSuffix("</html>\n"))
        #expect(html.contains("<meta charset=\"utf-8\">"))
    }

    // What is served is the embedded resource byte for byte, and the resource is valid UTF-8 (decoding would
    // otherwise replace bad bytes without a word).
    @Test func pageIsTheEmbeddedResource() throws {
        let resource = try #require(String(validating: PackageResources.dashboard_html, as: UTF8.self))
        #expect(DashboardPage.html == resource)
    }

    // The binary serves the page in the source tree, not a stale copy.
    @Test func embeddedResourceIsTheFileInTheSourceTree() throws {
        let path = ConfigParsingTests.packageRoot + "/Sources/RelayCore/Admin/dashboard.html"
        let file = try TextFile.read(path, kind: "a page")
        #expect(file == DashboardPage.html)
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

    // Opened from disk (file://), the page explains itself instead of sending requests that can only fail.
    @Test func pageOpenedAsAFileSendsNoRequests() throws {
        let poll = try #require(DashboardPage.html.range(of: "async function poll() {"))
        let body = DashboardPage.html[poll.upperBound...].prefix(600)
        #expect(body.contains("if (location.protocol === \"file:\") {"))
        #expect(body.contains("return;"))
    }
}
