import Synchronization
import NIOPosix
import VigilJSON
import VigilStore

/// The REST API: each handler turns an `ESRequest` into an `ESResponse` against the store.
struct API: Sendable {
    let store: Store
    let pool: NIOThreadPool
    /// EQL searches kept by id (asynchronous ones, and `keep_on_completion`).
    var results = EQLResults()
    /// Points in time opened with `_pit`.
    let pits = PointsInTime()
    /// Jobs waiting for or running on `pool`.
    let admission = Admission()
    let clusterUUID = "vigil-" + String(UInt64.random(in: 0..<UInt64.max), radix: 36)
    /// Rules and alerts (Kibana's detection engine API); nil when not started.
    var detection: Detection?
    /// Connector calls (`_execute`): threads of their own, so a webhook listener that never
    /// answers holds these and not the pool every search and write runs on.
    var connectorCalls = ConnectorCalls()

    /// Runs blocking store work (fsync, segment writes, searches) off the event loops. The
    /// pool's queue is bounded: past `Admission.maxQueued` waiting or running jobs a request is
    /// refused with 429, as Elasticsearch's thread pools reject past their queue size.
    func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        guard admission.enter() else {
            throw RequestError("es_rejected_execution_exception",
                "rejected execution: more than \(Admission.maxQueued) requests are queued or running; retry later", status: 429)
        }
        defer { admission.leave() }
        return try await pool.runIfActive(body)
    }

    func router() -> Router {
        var r = Router()
        r.add(["GET", "HEAD"], "/") { req, _ in try await root(req) }
        addDetectionRoutes(&r)
        r.add(["POST"], "/_query") { req, _ in try await esqlQuery(req) }
        // Documents and bulk
        r.add(["POST", "PUT"], "/_bulk") { req, _ in try await bulk(req, index: nil) }
        r.add(["POST", "PUT"], "/{index}/_bulk") { req, c in try await bulk(req, index: c[0]) }
        r.add(["POST"], "/{index}/_doc") { req, c in try await indexDocument(req, index: c[0], id: nil, create: req.params["op_type"] == "create") }
        r.add(["PUT", "POST"], "/{index}/_doc/{id}") { req, c in try await indexDocument(req, index: c[0], id: c[1], create: req.params["op_type"] == "create") }
        r.add(["GET", "HEAD"], "/{index}/_doc/{id}") { req, c in try await getDocument(req, index: c[0], id: c[1], sourceOnly: false) }
        r.add(["DELETE"], "/{index}/_doc/{id}") { req, c in try await deleteDocument(req, index: c[0], id: c[1]) }
        r.add(["PUT", "POST"], "/{index}/_create/{id}") { req, c in try await indexDocument(req, index: c[0], id: c[1], create: true) }
        r.add(["POST"], "/{index}/_update/{id}") { req, c in try await updateDocument(req, index: c[0], id: c[1]) }
        r.add(["GET", "HEAD"], "/{index}/_source/{id}") { req, c in try await getDocument(req, index: c[0], id: c[1], sourceOnly: true) }
        // Indices
        r.add(["PUT"], "/{name}") { req, c in try await createIndex(req, name: c[0]) }
        r.add(["GET"], "/{index}") { req, c in try await getIndex(req, expression: c[0]) }
        r.add(["HEAD"], "/{index}") { req, c in try await indexExists(req, expression: c[0]) }
        r.add(["DELETE"], "/{index}") { req, c in try await deleteIndex(req, expression: c[0]) }
        r.add(["GET"], "/_mapping") { req, _ in try await getMapping(req, expression: nil) }
        r.add(["GET"], "/{index}/_mapping") { req, c in try await getMapping(req, expression: c[0]) }
        r.add(["PUT", "POST"], "/{index}/_mapping") { req, c in try await putMapping(req, expression: c[0]) }
        r.add(["GET"], "/_mapping/field/{fields}") { req, c in try await getFieldMapping(req, expression: nil, fields: c[0]) }
        r.add(["GET"], "/{index}/_mapping/field/{fields}") { req, c in try await getFieldMapping(req, expression: c[0], fields: c[1]) }
        r.add(["GET"], "/_settings") { req, _ in try await getSettings(req, expression: nil) }
        r.add(["GET"], "/{index}/_settings") { req, c in try await getSettings(req, expression: c[0]) }
        r.add(["PUT"], "/{index}/_settings") { req, c in try await putSettings(req, expression: c[0]) }
        r.add(["POST", "GET"], "/_refresh") { req, _ in try await refresh(req, expression: nil) }
        r.add(["POST", "GET"], "/{index}/_refresh") { req, c in try await refresh(req, expression: c[0]) }
        r.add(["POST"], "/_forcemerge") { req, _ in try await forceMerge(req, expression: nil) }
        r.add(["POST"], "/{index}/_forcemerge") { req, c in try await forceMerge(req, expression: c[0]) }
        // Templates and data streams
        r.add(["GET"], "/_index_template") { req, _ in try await getTemplates(req, name: nil) }
        r.add(["GET"], "/_index_template/{name}") { req, c in try await getTemplates(req, name: c[0]) }
        r.add(["HEAD"], "/_index_template/{name}") { req, c in try await templateExists(req, name: c[0]) }
        r.add(["PUT", "POST"], "/_index_template/{name}") { req, c in try await putTemplate(req, name: c[0]) }
        r.add(["DELETE"], "/_index_template/{name}") { req, c in try await deleteTemplate(req, name: c[0]) }
        r.add(["GET"], "/_data_stream") { req, _ in try await getDataStreams(req, name: nil) }
        r.add(["GET"], "/_data_stream/{name}") { req, c in try await getDataStreams(req, name: c[0]) }
        r.add(["PUT"], "/_data_stream/{name}") { req, c in try await createDataStream(req, name: c[0]) }
        r.add(["DELETE"], "/_data_stream/{name}") { req, c in try await deleteDataStream(req, name: c[0]) }
        // Search
        r.add(["GET", "POST"], "/_search") { req, _ in try await search(req, expression: nil) }
        r.add(["GET", "POST"], "/{index}/_search") { req, c in try await search(req, expression: c[0]) }
        r.add(["GET", "POST"], "/_count") { req, _ in try await count(req, expression: nil) }
        r.add(["GET", "POST"], "/{index}/_count") { req, c in try await count(req, expression: c[0]) }
        r.add(["GET", "POST"], "/_msearch") { req, _ in try await multiSearch(req, expression: nil) }
        r.add(["GET", "POST"], "/{index}/_msearch") { req, c in try await multiSearch(req, expression: c[0]) }
        r.add(["POST"], "/{index}/_pit") { req, c in try await openPointInTime(req, expression: c[0]) }
        r.add(["DELETE"], "/_pit") { req, _ in try await closePointInTime(req) }
        // EQL
        r.add(["GET", "POST"], "/{index}/_eql/search") { req, c in try await eqlSearch(req, expression: c[0]) }
        r.add(["GET"], "/_eql/search/status/{id}") { _, c in try eqlStatus(c[0]) }
        r.add(["GET"], "/_eql/search/{id}") { req, c in try await eqlGet(req, c[0]) }
        r.add(["DELETE"], "/_eql/search/{id}") { _, c in try eqlDelete(c[0]) }
        // Cat and cluster
        r.add(["GET"], "/_cat/indices") { req, _ in try await catIndices(req, expression: nil) }
        r.add(["GET"], "/_cat/indices/{index}") { req, c in try await catIndices(req, expression: c[0]) }
        r.add(["GET"], "/_cat/health") { req, _ in try await catHealth(req) }
        r.add(["GET"], "/_cat/count") { req, _ in try await catCount(req, expression: nil) }
        r.add(["GET"], "/_cat/count/{index}") { req, c in try await catCount(req, expression: c[0]) }
        r.add(["GET"], "/_cluster/health") { req, _ in try await clusterHealth(req, expression: nil) }
        r.add(["GET"], "/_cluster/health/{index}") { req, c in try await clusterHealth(req, expression: c[0]) }
        return r
    }

    func root(_ req: ESRequest) async throws -> ESResponse {
        if req.method == "HEAD" { return .empty(200) }
        return .json([
            "name": "vigil",
            "cluster_name": "vigil",
            "cluster_uuid": .string(clusterUUID),
            "version": [
                "number": .string(ServerInfo.version),
                "build_flavor": "default",
                "build_type": "vigil",
                "build_hash": "vigil",
                "build_date": "2026-11-23T00:00:00.000Z",
                "build_snapshot": false,
                "lucene_version": .string(ServerInfo.luceneVersion),
                "minimum_wire_compatibility_version": "7.17.0",
                "minimum_index_compatibility_version": "7.0.0",
            ],
            "tagline": "You Know, for Search",
        ])
    }

    func resolveOptions(_ req: ESRequest) throws(RequestError) -> ResolveOptions {
        var o = ResolveOptions()
        o.ignoreUnavailable = try req.flag("ignore_unavailable")
        o.allowNoIndices = try req.flag("allow_no_indices", default: true)
        if let e = req.params["expand_wildcards"] { o.expandHidden = e.contains("all") || e.contains("hidden") }
        return o
    }

    static let shardsHeader: JSONValue = ["total": 1, "successful": 1, "skipped": 0, "failed": 0]
}

/// A count of the jobs queued on or running in the blocking pool, bounded.
final class Admission: Sendable {
    static let maxQueued = 1000
    private let jobs = Atomic<Int>(0)

    func enter() -> Bool {
        if jobs.add(1, ordering: .relaxed).newValue <= Admission.maxQueued { return true }
        jobs.subtract(1, ordering: .relaxed)
        return false
    }

    func leave() { jobs.subtract(1, ordering: .relaxed) }
}
