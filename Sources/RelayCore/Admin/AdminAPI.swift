import RelayIO
import RelayProtocol

/// The admin API: routes each request to its answer, after checking the bearer token.
///
/// Every endpoint needs `Authorization: Bearer TOKEN` when `admin.token` is set, except three that give nothing
/// away without it: `GET /dashboard`, a static page (it sends the token from its address fragment on its own
/// requests), and `GET /healthz` and `GET /readyz`, which a load balancer or orchestrator must reach without a
/// secret, as HAProxy's `monitor-uri` and Envoy's `/ready` answer anyone. Without the token `/readyz` gives only
/// its status and `ready`, not the group names and counts. A known path with the wrong method gets 405 with
/// `Allow`; an unknown path 404; a request the parser refuses 400 (or 413/414/431) from `HTTPServerService`.
struct AdminAPI: Sendable {
    /// The server it reports on and steers.
    let reference: ServerReference

    /// One route: its method and path pattern (`{name}` matches any one segment).
    private struct Route {
        let method: String
        let pattern: [String]
        let handler: @Sendable (RelayServer, HTTPRequest, [String: String]) async -> HTTPResponse
        let needsToken: Bool

        func match(_ segments: [String]) -> [String: String]? {
            guard segments.count == pattern.count else { return nil }
            var parameters: [String: String] = [:]
            for (part, segment) in zip(pattern, segments) {
                if part.hasPrefix("{") {
                    parameters[String(part.dropFirst().dropLast())] = segment
                } else if part != segment {
                    return nil
                }
            }
            return parameters
        }
    }

    private static let routes: [Route] = [
        Route(method: "GET", pattern: [], handler: { _, _, _ in index() }, needsToken: true),
        Route(method: "GET", pattern: ["healthz"], handler: { _, _, _ in .json(200, #"{"status":"ok"}"# + "\n") },
              needsToken: false),
        Route(method: "GET", pattern: ["readyz"], handler: { server, request, _ in
            await server.readiness(detailed: server.config.admin.token.map { authorized(request, token: $0) } ?? true)
        }, needsToken: false),
        Route(method: "GET", pattern: ["stats"], handler: { server, _, _ in .json(200, await server.statsJSON().text + "\n") },
              needsToken: true),
        Route(method: "GET", pattern: ["backends"],
              handler: { server, _, _ in .json(200, await server.backendsJSON().text + "\n") }, needsToken: true),
        Route(method: "GET", pattern: ["cluster"], handler: { server, _, _ in .json(200, server.clusterJSON().text + "\n") },
              needsToken: true),
        Route(method: "GET", pattern: ["flows"], handler: { server, request, _ in await server.flowsResponse(request) },
              needsToken: true),
        Route(method: "GET", pattern: ["sessions"], handler: { server, request, _ in await server.sessionsResponse(request) },
              needsToken: true),
        Route(method: "GET", pattern: ["links"], handler: { server, _, _ in .json(200, await server.linksJSON().text + "\n") },
              needsToken: true),
        Route(method: "GET", pattern: ["metrics"], handler: { server, _, _ in await server.metricsResponse() },
              needsToken: true),
        Route(method: "GET", pattern: ["dashboard"],
              handler: { _, _, _ in .text(200, DashboardPage.html, contentType: "text/html; charset=utf-8") },
              needsToken: false),
        Route(method: "POST", pattern: ["reload"], handler: { server, _, _ in await server.reloadResponse() },
              needsToken: true),
        Route(method: "POST", pattern: ["cleanup"], handler: { server, request, _ in await server.cleanupResponse(request) },
              needsToken: true),
        Route(method: "POST", pattern: ["backends", "{group}", "{server}", "drain"],
              handler: { server, _, parameters in await server.setDrained(parameters, true) }, needsToken: true),
        Route(method: "POST", pattern: ["backends", "{group}", "{server}", "enable"],
              handler: { server, _, parameters in await server.setDrained(parameters, false) }, needsToken: true),
    ]

    func handle(_ request: HTTPRequest, peer: SocketAddress) async -> HTTPResponse {
        guard let server = reference.server else { return .error(503, "relayd is shutting down") }
        let method = request.method == "HEAD" ? "GET" : request.method
        let matching = Self.routes.compactMap { route in route.match(request.pathSegments).map { (route, $0) } }
        guard !matching.isEmpty else {
            return .error(404, "no such endpoint: \(request.path); GET / lists them")
        }
        guard let (route, parameters) = matching.first(where: { $0.0.method == method }) else {
            let allowed = Set(matching.map(\.0.method)).sorted()
            var response = HTTPResponse.error(405, "\(request.method) is not allowed on \(request.path); use "
                                              + allowed.joined(separator: " or "))
            response.headers.append(("Allow", (allowed + (allowed.contains("GET") ? ["HEAD"] : [])).joined(separator: ", ")))
            return response
        }
        if route.needsToken, let token = server.config.admin.token, !Self.authorized(request, token: token) {
            var response = HTTPResponse.error(401, "this admin API needs `Authorization: Bearer TOKEN` (admin.token)")
            response.headers.append(("WWW-Authenticate", "Bearer realm=\"relayd\""))
            return response
        }
        return await route.handler(server, request, parameters)
    }

    /// Whether the request carries the token, compared in constant time so timing does not reveal it.
    static func authorized(_ request: HTTPRequest, token: String) -> Bool {
        guard let header = request.headers["authorization"] else { return false }
        let prefix = "bearer "
        guard header.count > prefix.count, header.lowercased().hasPrefix(prefix) else { return false }
        let given = Array(header.utf8.dropFirst(prefix.count))
        let wanted = Array(token.utf8)
        var difference = UInt8(given.count == wanted.count ? 0 : 1)
        for index in 0..<wanted.count {
            difference |= wanted[index] ^ (index < given.count ? given[index] : 0)
        }
        return difference == 0
    }

    private static func index() -> HTTPResponse {
        let endpoints: JSONValue = .array(routes.map { route in
            .string("\(route.method) /" + route.pattern.joined(separator: "/"))
        })
        return .json(200, JSONValue.object([("service", "relayd"), ("version", .string(RelaydVersion.current)),
                                            ("endpoints", endpoints)]).text + "\n")
    }
}
