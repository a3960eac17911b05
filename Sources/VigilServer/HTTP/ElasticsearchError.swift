import VigilJSON
import VigilStore

/// An error the server can render in Elasticsearch's shape.
protocol ElasticsearchError: Error {
    var type: String { get }
    var status: Int { get }
    var reason: String { get }
    /// Extra fields of the error object (`index`, `line`, `col`, `caused_by`, …).
    var details: JSONObject { get }
}

/// An error raised by request handling itself.
struct RequestError: ElasticsearchError {
    var type: String
    var status: Int
    var reason: String
    var details: JSONObject = JSONObject()
    /// When the root cause differs from the top-level error (`search_phase_execution_exception`).
    var rootCause: JSONValue?

    init(_ type: String, _ reason: String, status: Int = 400, details: JSONObject = JSONObject()) {
        self.type = type
        self.reason = reason
        self.status = status
        self.details = details
    }

    static func illegalArgument(_ reason: String) -> RequestError { RequestError("illegal_argument_exception", reason) }
    static func parsing(_ reason: String) -> RequestError { RequestError("parsing_exception", reason) }

    /// A query-phase failure wrapped as Elasticsearch wraps shard failures.
    static func searchPhase(_ cause: RequestError, index: String) -> RequestError {
        let inner: JSONValue = ["type": .string(cause.type), "reason": .string(cause.reason)]
        var e = RequestError("search_phase_execution_exception", "all shards failed", status: cause.status, details: [
            "phase": "query", "grouped": true,
            "failed_shards": [["shard": 0, "index": .string(index), "node": "vigil", "reason": inner]],
            "caused_by": ["type": .string(cause.type), "reason": .string(cause.reason), "caused_by": inner],
        ])
        e.rootCause = inner
        return e
    }

    /// A JSON body that failed to parse, with the line and column Elasticsearch reports.
    static func badJSON(_ e: JSONError) -> RequestError {
        RequestError("x_content_parse_exception", "[\(e.line):\(e.column)] \(e.message)",
            details: ["line": .int(Int64(e.line)), "col": .int(Int64(e.column))])
    }
}

extension StoreError: ElasticsearchError {
    var type: String { typeName }
    var reason: String { message }
    var details: JSONObject {
        var o = JSONObject()
        if let index {
            o["index_uuid"] = "_na_"
            o["index"] = .string(index)
            if code == .indexNotFound {
                o["resource.type"] = "index_or_alias"
                o["resource.id"] = .string(index)
            }
        }
        if let c = causedBy {
            o["caused_by"] = ["type": .string(c.type), "reason": .string(c.reason)]
        }
        return o
    }
}

enum ErrorBody {
    /// The error object without `status`: `{"type", "reason", …}`.
    static func cause(_ e: any ElasticsearchError) -> JSONValue {
        var o = JSONObject()
        o["type"] = .string(e.type)
        o["reason"] = .string(e.reason)
        for d in e.details.entries where d.key != "caused_by" { o[d.key] = d.value }
        if let c = e.details["caused_by"] { o["caused_by"] = c }
        return .object(o)
    }

    /// `{"error": {"root_cause": [...], "type", "reason", ...}, "status": N}`.
    static func full(_ e: any ElasticsearchError) -> JSONValue {
        var rootCause = JSONObject()
        rootCause["type"] = .string(e.type)
        rootCause["reason"] = .string(e.reason)
        for d in e.details.entries where !["caused_by", "failed_shards", "phase", "grouped"].contains(d.key) { rootCause[d.key] = d.value }
        var error = JSONObject()
        if let r = (e as? RequestError)?.rootCause {
            error["root_cause"] = .array([r])
        } else {
            error["root_cause"] = .array([.object(rootCause)])
        }
        for entry in cause(e).objectValue!.entries { error[entry.key] = entry.value }
        return ["error": .object(error), "status": .int(Int64(e.status))]
    }
}
