import VigilJSON
import VigilQuery
import VigilStore

/// ES|QL: `POST /_query` (the subset Elastic's ES|QL rules use; see the README).
extension API {
    func esqlQuery(_ req: ESRequest) async throws -> ESResponse {
        let started = Clock.monotonicNanos()
        guard let body = try req.jsonBody() else { throw RequestError.parsing("request body is required") }
        for e in body.entries where !["query", "filter", "columnar", "locale", "params", "profile", "include_ccs_metadata", "time_zone"].contains(e.key) {
            throw RequestError.parsing("unknown field [\(e.key)]")
        }
        // Accepted by Elasticsearch, not done by Vigil yet: refused rather than ignored.
        if let f = req.params["format"], f.lowercased() != "json" {
            throw RequestError.illegalArgument("ES|QL [format] [\(f)] is not supported by Vigil yet: only json")
        }
        if let p = body["params"], p.arrayValue?.isEmpty != true { throw RequestError.illegalArgument("ES|QL [params] are not supported by Vigil yet") }
        for key in ["locale", "time_zone"] where body[key] != nil {
            throw RequestError.illegalArgument("ES|QL [\(key)] is not supported by Vigil yet")
        }
        if body["profile"]?.boolValue == true { throw RequestError.illegalArgument("ES|QL [profile] is not supported by Vigil yet") }
        guard let text = body["query"]?.stringValue else { throw RequestError.parsing("[query] is required") }
        let query: ESQLQuery
        do { query = try ESQLParser.parse(text) } catch { throw RequestError("parsing_exception", error.description) }
        let indices = try store.resolve(query.source.indices.joined(separator: ","), options: ResolveOptions(ignoreUnavailable: true, allowNoIndices: true))
        if indices.isEmpty {
            throw RequestError("verification_exception", "Found 1 problem\nline 1:1: Unknown index [\(query.source.indices.joined(separator: ","))]")
        }
        let readers = try await blocking { try indices.map { try $0.searchReader() } }
        var executor = ESQLExecutor(readers: readers)
        if let filter = body["filter"] {
            do { executor.filter = try QueryDSL(mapping: Mapping.union(readers.map(\.mapping))).translate(filter) } catch { throw API.dslError(error, index: indices[0].name) }
        }
        let run = executor
        let result: ESQLResult
        do {
            result = try await blocking { try run.run(query) }
        } catch let e as ESQLRunError where e.tooLarge {
            throw RequestError("circuit_breaking_exception", e.message, status: 429, details: ["durability": "TRANSIENT"])
        } catch let e as ESQLRunError {
            throw RequestError("verification_exception", "Found 1 problem\n\(e.message)")
        }
        let types = result.types
        let columns: [JSONValue] = zip(result.columns, types).map { ["name": .string($0), "type": .string($1)] }
        let values: [JSONValue]
        if body["columnar"]?.boolValue == true {
            values = result.columns.indices.map { c in .array(result.rows.map { $0[c].json }) }
        } else {
            values = result.rows.map { .array($0.map(\.json)) }
        }
        var response = ESResponse.json([
            "took": .int(Int64((Clock.monotonicNanos() - started) / 1_000_000)), "is_partial": false,
            "documents_found": .int(Int64(readers.reduce(0) { $0 + $1.segments.reduce(0) { $0 + $1.segment.docCount } })),
            "columns": .array(columns), "values": .array(values),
        ])
        // RFC 7234 warnings, as Elasticsearch sends them (code 299, its agent, the quoted text).
        for w in result.warnings {
            let quoted = w.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            response.headers.append(("Warning", "299 Elasticsearch-\(ServerInfo.version) \"\(quoted)\""))
        }
        return response
    }
}
