import RelayIO
import RelayProtocol

/// The metrics endpoint's routes: the metrics at `metrics.path`, a pointer to them at `/`.
struct MetricsEndpoint: Sendable {
    let reference: ServerReference

    func handle(_ request: HTTPRequest, peer: SocketAddress) async -> HTTPResponse {
        guard let server = reference.server else { return .error(503, "relayd is shutting down") }
        let path = server.config.metrics.path
        switch request.path {
        case path:
            guard request.method == "GET" || request.method == "HEAD" else {
                var response = HTTPResponse.error(405, "\(request.method) is not allowed on \(path); use GET")
                response.headers.append(("Allow", "GET, HEAD"))
                return response
            }
            return await server.metricsResponse()
        case "/":
            return .text(200, "<html><body><a href=\"\(path)\">relayd metrics</a></body></html>\n",
                         contentType: "text/html; charset=utf-8")
        default:
            return .error(404, "no such endpoint: \(request.path); the metrics are at \(path)")
        }
    }
}
