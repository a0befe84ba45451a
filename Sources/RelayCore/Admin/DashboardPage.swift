/// The admin API's `GET /dashboard` page: one self-contained HTML document (inline CSS and JavaScript, no
/// external assets) that polls `/stats`, `/backends` and `/flows` and draws listeners, backend scores and
/// live rates.
///
/// Served without authentication; the page sends `Authorization: Bearer TOKEN` on its own requests when
/// opened as `/dashboard#token=TOKEN` (the fragment never reaches the server), and `#refresh=SECONDS` sets
/// the poll period (default 2 s). Everything that comes from the API is inserted as text, never as markup.
///
/// The page is `dashboard.html` beside this file, a plain page that an editor and a browser open as it is.
/// SwiftPM compiles it into the binary as bytes (`.embedInCode` in Package.swift, which generates
/// `PackageResources.dashboard_html`), so relayd stays one file and reads nothing from disk to serve it.
/// `Tools/dashboard/serve-sample` serves the same file with sample data for working on the page without relayd.
enum DashboardPage {
    /// The page, as served with `Content-Type: text/html; charset=utf-8`. Served as written: nothing is filled in.
    static let html = String(decoding: PackageResources.dashboard_html, as: UTF8.self)
}
