public import Hummingbird
import HummingbirdCore
import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOPosix
import VigilJSON
import VigilDetect
public import VigilStore

/// The HTTP server: Elasticsearch's REST API over the embedded store.
public struct VigilServer: Sendable {
    public let store: Store
    public let host: String
    public let port: Int
    /// `http.max_content_length`.
    public static let maxContentLength = 100 * 1024 * 1024
    /// Connections served at once.
    public static let maxConnections = 4096
    /// `http.max_initial_line_length`: a longer request line is refused with 414.
    public static let maxRequestLine = 4096
    /// `http.max_header_size`: the headers of one request together.
    public static let maxHeaderBytes = 16 * 1024
    /// How often the detection engine looks for rules that are due.
    public var ruleCheckInterval: Duration = .seconds(1)

    public init(store: Store, host: String = "127.0.0.1", port: Int = 9200) {
        self.store = store
        self.host = host
        self.port = port
    }

    /// Serves until the process is stopped; `onListening` runs once the socket is bound.
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        var logger = Logger(label: "vigil")
        logger.logLevel = .warning
        let pool = NIOThreadPool(numberOfThreads: 16)
        pool.start()
        var api = API(store: store, pool: pool, results: EQLResults(directory: store.directory + "/async-eql"))
        let controlPath = store.directory + "/control.sqlite"
        if !FileManager.default.fileExists(atPath: controlPath), store.index(named: DetectionEngine.alertsIndex) != nil {
            logger.critical("control.sqlite is missing from a data directory that has alerts: rules, exception lists and connectors start empty (restore it from a backup to get them back)")
        }
        let control = try ControlStore(path: controlPath)
        var rules = RuleService(control: control)
        rules.check = { RuleCompiler.syntaxError($0) }
        let engine = try DetectionEngine(store: store, control: control)
        api.detection = Detection(rules: rules, exceptions: ExceptionService(control: control),
                                  connectors: ConnectorService(control: control, store: store), engine: engine)
        let checkEvery = ruleCheckInterval
        let responder = Responder(router: api.router())
        // The door: a client that sends nothing for a minute outside a request is closed, and at
        // most `maxConnections` are served at once (more wait in the listen backlog), so idle or
        // slow sockets cannot use up the descriptors segments and logs need.
        let maxLength = VigilServer.maxContentLength
        var http = HTTP1Channel.Configuration(
            additionalChannelHandlers: [HTTPDoorHandler(maxContentLength: maxLength)], idleTimeout: .seconds(60))
        http.httpDecoder.maxHeaderFieldSize = VigilServer.maxHeaderBytes
        http.httpDecoder.maxHeaderListSize = VigilServer.maxHeaderBytes
        let app = Application(
            responder: responder,
            server: .http1(configuration: http),
            configuration: .init(address: .hostname(host, port: port), serverName: nil,
                                 availableConnectionsDelegate: MaximumAvailableConnections(VigilServer.maxConnections)),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            // Returns on SIGTERM or SIGINT, after in-flight requests finish.
            group.addTask { try await app.runService() }
            group.addTask {
                // refresh_interval: 1s, as Elasticsearch's default.
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    if Task.isCancelled { break }
                    try await pool.runIfActive { store.refreshPending() }
                }
            }
            group.addTask { [logger] in
                // The scheduler: one loop, so a rule never runs twice at once.
                while !Task.isCancelled {
                    try? await Task.sleep(for: checkEvery)
                    if Task.isCancelled { break }
                    do {
                        _ = try await pool.runIfActive { try engine.tick() }
                    } catch {
                        logger.error("detection engine: \(error)")
                    }
                }
            }
            try await group.next()
            group.cancelAll()
        }
        try await pool.runIfActive { store.refreshPending(includingIdle: true) }
        try await pool.shutdownGracefully()
    }
}

/// Turns Hummingbird requests into `ESRequest`s and `ESResponse`s into bytes.
struct Responder: HTTPResponder {
    typealias Context = BasicRequestContext
    let router: Router

    func respond(to request: Request, context: Context) async throws -> Response {
        let method = request.method.rawValue
        let uri = request.uri.description
        let contentType = request.headers[.contentType]
        let accept = request.headers[.accept]
        var esRequest = ESRequest(method: method, uri: uri, body: [], contentType: contentType, accept: accept)
        let pretty = esRequest.params["pretty"].map { $0 != "false" } ?? false
        let filter = FilterPath(esRequest.params["filter_path"])
        var response: ESResponse
        if uri.utf8.count + method.utf8.count + 10 > VigilServer.maxRequestLine {
            let reason = "An HTTP line is larger than \(VigilServer.maxRequestLine) bytes."
            response = uri.hasPrefix("/api/") || uri.hasPrefix("/internal/")
                ? .json(["statusCode": 414, "error": "URI Too Long", "message": .string(reason)], status: 414)
                : .error(RequestError("too_long_http_line_exception", reason, status: 414))
        } else if let length = request.headers[.contentLength].flatMap(Int.init), length > VigilServer.maxContentLength {
            response = Responder.tooLarge(length)
        } else if Responder.needsXSRFHeader(method: method, uri: uri, request.headers) {
            // Kibana's rule: a write to its API must carry `kbn-xsrf` (or `kbn-version`), which a
            // page on another origin cannot add to a form post or a simple request.
            response = .json(["statusCode": 400, "error": "Bad Request", "message": "Request must contain a kbn-xsrf header."], status: 400)
        } else if let type = contentType, !Responder.acceptedContentType(type),
                  !(uri.hasPrefix("/api/") && type.lowercased().hasPrefix("multipart/form-data")) {
            response = uri.hasPrefix("/api/") || uri.hasPrefix("/internal/")
                ? .json(["statusCode": 415, "error": "Unsupported Media Type", "message": "Unsupported Media Type"], status: 415)
                : .json(["error": .string("Content-Type header [\(type)] is not supported"), "status": 406], status: 406)
        } else {
            do {
                var buffer = try await request.body.collect(upTo: VigilServer.maxContentLength)
                esRequest.body = buffer.readBytes(length: buffer.readableBytes) ?? []
                response = await dispatch(esRequest)
            } catch {
                response = Responder.tooLarge(nil)
            }
        }
        return render(response, request: esRequest, pretty: pretty, filter: filter, head: method == "HEAD")
    }

    static func needsXSRFHeader(method: String, uri: String, _ headers: HTTPFields) -> Bool {
        guard uri.hasPrefix("/api/") || uri.hasPrefix("/internal/"), !["GET", "HEAD", "OPTIONS"].contains(method) else { return false }
        return headers[HTTPField.Name("kbn-xsrf")!] == nil && headers[HTTPField.Name("kbn-version")!] == nil
    }

    /// JSON and NDJSON, plain or Elasticsearch's vendor types, as Elasticsearch accepts (no form encoding).
    static func acceptedContentType(_ type: String) -> Bool {
        let media = type.split(separator: ";").first.map { String($0).trimmingSpaces.lowercased() } ?? ""
        return ["application/json", "application/x-ndjson", "application/vnd.elasticsearch+json",
            "application/vnd.elasticsearch+x-ndjson", ""].contains(media)
    }

    static func tooLarge(_ length: Int?) -> ESResponse {
        let reason = "Request content length" + (length.map { " [\($0)]" } ?? "") + " exceeds http.max_content_length [\(VigilServer.maxContentLength)]"
        return .error(RequestError("content_too_long_exception", reason, status: 413))
    }

    func dispatch(_ request: ESRequest) async -> ESResponse {
        switch router.match(method: request.method, segments: request.segments) {
        case .found(let handler, let captures):
            do {
                return try await handler(request, captures)
            } catch let e as any ElasticsearchError {
                return .error(e)
            } catch {
                return .error(RequestError("exception", "\(error)", status: 500))
            }
        case .wrongMethod(let allowed):
            var r = ESResponse.error(RequestError("method_not_allowed_exception",
                "Incorrect HTTP method for uri [\(request.rawPath)] and method [\(request.method)], allowed: [\(allowed.joined(separator: ", "))]", status: 405))
            r.headers.append(("Allow", allowed.joined(separator: ",")))
            return r
        case .none:
            return .error(RequestError.illegalArgument("no handler found for uri [\(request.rawPath)] and method [\(request.method)]"))
        }
    }

    func render(_ r: ESResponse, request: ESRequest, pretty: Bool, filter: FilterPath?, head: Bool) -> Response {
        var headers = HTTPFields()
        headers[HTTPField.Name("X-Elastic-Product")!] = "Elasticsearch"
        var bytes: [UInt8] = []
        switch r.body {
        case .json(let value):
            // Elasticsearch leaves error bodies whole whatever filter_path says.
            let shaped = r.isError ? value : (filter?.apply(value) ?? value)
            bytes = JSONWriter(pretty: pretty).encode(shaped)
            if pretty { bytes.append(0x0A) }
            if let v = request.compatibleWith {
                headers[.contentType] = "application/vnd.elasticsearch+json;compatible-with=\(v)"
            } else {
                headers[.contentType] = "application/json"
            }
        case .rawJSON(let raw):
            bytes = raw
            if let v = request.compatibleWith {
                headers[.contentType] = "application/vnd.elasticsearch+json;compatible-with=\(v)"
            } else {
                headers[.contentType] = "application/json"
            }
        case .text(let s):
            bytes = Array(s.utf8)
            headers[.contentType] = "text/plain; charset=UTF-8"
        case .empty:
            headers[.contentType] = "application/json"
        }
        headers[.contentLength] = String(bytes.count)
        for (name, value) in r.headers {
            if let n = HTTPField.Name(name) { headers[n] = value }
        }
        let status = HTTPResponse.Status(code: r.status)
        if head {
            return Response(status: status, headers: headers, body: ResponseBody())
        }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
