import Synchronization
import VigilEQL
public import VigilJSON
import VigilQuery
public import VigilStore

/// `_eql/search`: the request body, the run, and the response in Elasticsearch's shape.
extension API {
    struct EQLSearchRequest {
        var query = ""
        var options = EQLOptions()
        var filter: JSONValue?
        var fields: [FieldFetcher.Request] = []
        var keepOnCompletion = false
        var keepAlive: Int64 = 5 * 86_400_000
    }

    static func parseEQLRequest(_ body: JSONObject?, params: [String: String]) throws(RequestError) -> EQLSearchRequest {
        var r = EQLSearchRequest()
        guard let body else { throw RequestError.parsing("request body or source parameter is required") }
        func int(_ v: JSONValue, _ name: String) throws(RequestError) -> Int {
            guard let n = v.int64Value else { throw RequestError.parsing("[\(name)] failed to parse field [\(name)]") }
            return Int(clamping: n)
        }
        func string(_ v: JSONValue, _ name: String) throws(RequestError) -> String {
            guard let s = v.stringValue else { throw RequestError.parsing("[\(name)] failed to parse field [\(name)]") }
            return s
        }
        for e in body.entries {
            switch e.key {
            case "query": r.query = try string(e.value, "query")
            case "size": r.options.size = try int(e.value, "size")
            case "fetch_size":
                let n = try int(e.value, "fetch_size")
                if n < 1 { throw RequestError.illegalArgument("fetch size must be greater than 0") }
            case "filter": r.filter = e.value
            case "event_category_field": r.options.eventCategoryField = try string(e.value, e.key)
            case "timestamp_field": r.options.timestampField = try string(e.value, e.key)
            case "tiebreaker_field": r.options.tiebreakerField = try string(e.value, e.key)
            case "result_position":
                let p = try string(e.value, e.key)
                guard p == "head" || p == "tail" else { throw RequestError.illegalArgument("[result_position] must be one of [head, tail], found [\(p)]") }
                r.options.tail = p == "tail"
            case "max_samples_per_key":
                let n = try int(e.value, e.key)
                if n < 1 { throw RequestError.illegalArgument("max_samples_per_key must be greater than 0") }
                r.options.maxSamplesPerKey = n
            case "keep_on_completion": r.keepOnCompletion = e.value.boolValue ?? false
            case "keep_alive": r.keepAlive = try API.durationMillis(try string(e.value, e.key))
            case "wait_for_completion_timeout": _ = try API.durationMillis(try string(e.value, e.key))
            case "allow_partial_search_results", "allow_partial_sequence_results", "ccs_minimize_roundtrips", "case_sensitive":
                continue
            case "fields":
                guard let f = FieldFetcher.Request.parse(e.value) else {
                    throw RequestError.parsing("[eql/search] failed to parse field [fields]: expected an array of field names or {\"field\": …} objects")
                }
                r.fields = f
            case "runtime_mappings":
                throw RequestError.parsing("[\(e.key)] is not supported yet by Vigil's _eql/search (see the README's not-yet list)")
            default:
                throw RequestError.parsing("[eql/search] unknown field [\(e.key)]")
            }
        }
        if r.query.isEmpty { throw RequestError.illegalArgument("query is null or empty") }
        if r.options.size < 0 { throw RequestError.illegalArgument("size must be greater than or equal to 0") }
        if let v = params["keep_on_completion"] { r.keepOnCompletion = v == "true" }
        if let v = params["keep_alive"] { r.keepAlive = try API.durationMillis(v) }
        return r
    }

    static func durationMillis(_ s: String) throws(RequestError) -> Int64 {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (u, f) in units where s.hasSuffix(u) {
            if let n = Int64(s.dropLast(u.count)), n >= 0 { return n * f }
        }
        throw RequestError("parse_exception", "failed to parse setting [keep_alive] with value [\(s)] as a time value: unit is missing or unrecognized")
    }

    static func eqlError(_ e: EQLError) -> RequestError {
        RequestError(e.typeName, e.description)
    }

    /// Runs an EQL search on the indices `expression` names; returns the response body.
    static func runEQL(store: Store, expression: String, request r: EQLSearchRequest, options: ResolveOptions) throws -> JSONObject {
        let started = Clock.monotonicNanos()
        let statement: EQLStatement
        do { statement = try EQLParser.parse(r.query) } catch { throw eqlError(error) }
        let indices = try store.resolve(expression, options: options)
        let readers = try indices.map { try $0.searchReader() }
        let mapping = Mapping.union(readers.map(\.mapping))
        var plan: EQLPlan
        do { plan = try Analyzer.analyze(statement, mapping: mapping, options: r.options) } catch { throw eqlError(error) }
        if let filter = r.filter {
            do { plan = plan.filtered(by: try QueryDSL(mapping: mapping).translate(filter)) } catch {
                throw RequestError.parsing(error.message)
            }
        }
        let result: EQLResult
        do { result = try EQLExecutor(readers: readers, options: r.options).run(plan) } catch { throw eqlError(error) }
        let fetcher = r.fields.isEmpty ? nil : FieldFetcher(r.fields, mapping: mapping)
        func event(_ e: EventRef) -> JSONValue {
            let seg = readers[e.reader].segments[e.segment].segment
            var o = JSONObject()
            o["_index"] = .string(readers[e.reader].index)
            o["_id"] = .string(seg.id(e.doc))
            let source = (try? JSONParser().parse(seg.source(e.doc))) ?? .null
            o["_source"] = source
            if let fetcher {
                let fields = fetcher.fetch(source)
                if !fields.isEmpty { o["fields"] = .object(fields) }
            }
            return .object(o)
        }
        var hits = JSONObject()
        switch result {
        case .events(let events, let total):
            hits["total"] = ["value": .int(Int64(total)), "relation": "eq"]
            hits["events"] = .array(events.map(event))
        case .sequences(let sequences, let total):
            hits["total"] = ["value": .int(Int64(total)), "relation": "eq"]
            hits["sequences"] = .array(sequences.map { s in
                var o = JSONObject()
                if !s.joinKeys.isEmpty { o["join_keys"] = .array(s.joinKeys.map(\.jsonValue)) }
                o["events"] = .array(s.events.map { e in
                    guard let e else { return ["_index": "", "_id": "", "missing": true] }
                    return event(e)
                })
                return .object(o)
            })
        }
        var out = JSONObject()
        out["is_partial"] = false
        out["is_running"] = false
        out["took"] = .int(Int64((Clock.monotonicNanos() - started) / 1_000_000))
        out["timed_out"] = false
        out["hits"] = .object(hits)
        return out
    }

    func eqlSearch(_ req: ESRequest, expression: String) async throws -> ESResponse {
        let r = try API.parseEQLRequest(try req.jsonBody(), params: req.params)
        let options = try resolveOptions(req)
        let store = self.store
        var body = try await blocking { try API.runEQL(store: store, expression: expression, request: r, options: options) }
        if r.keepOnCompletion {
            let id = EQLResults.shared.keep(body, keepAlive: r.keepAlive)
            body["id"] = .string(id)
            var reordered = JSONObject()
            reordered["id"] = .string(id)
            for e in body.entries where e.key != "id" { reordered[e.key] = e.value }
            body = reordered
        }
        return .json(.object(body))
    }

    func eqlGet(_ id: String) throws -> ESResponse {
        guard let stored = EQLResults.shared.get(id) else { throw API.eqlMissing(id) }
        var o = JSONObject()
        o["id"] = .string(id)
        for e in stored.body.entries { o[e.key] = e.value }
        return .json(.object(o))
    }

    func eqlStatus(_ id: String) throws -> ESResponse {
        guard let stored = EQLResults.shared.get(id) else { throw API.eqlMissing(id) }
        return .json([
            "id": .string(id), "is_running": false, "is_partial": false,
            "expiration_time_in_millis": .int(stored.expires), "completion_status": 200,
        ])
    }

    func eqlDelete(_ id: String) throws -> ESResponse {
        guard EQLResults.shared.remove(id) else { throw API.eqlMissing(id) }
        return .json(["acknowledged": true])
    }

    static func eqlMissing(_ id: String) -> RequestError {
        RequestError("resource_not_found_exception", id, status: 404)
    }
}

/// Results kept with `keep_on_completion`, until their `keep_alive` passes.
final class EQLResults: Sendable {
    static let shared = EQLResults()

    struct Stored {
        var body: JSONObject
        /// Epoch milliseconds.
        var expires: Int64
    }

    private let results = Mutex<[String: Stored]>([:])

    func keep(_ body: JSONObject, keepAlive: Int64) -> String {
        let id = DocumentID.generate() + DocumentID.generate()
        let now = Clock.nowMillis()
        results.withLock { r in
            r = r.filter { $0.value.expires > now }
            r[id] = Stored(body: body, expires: now + keepAlive)
        }
        return id
    }

    func get(_ id: String) -> Stored? {
        let now = Clock.nowMillis()
        return results.withLock { r in
            guard let s = r[id], s.expires > now else {
                r[id] = nil
                return nil
            }
            return s
        }
    }

    func remove(_ id: String) -> Bool { results.withLock { $0.removeValue(forKey: id) != nil } }
}

/// `_eql/search` without HTTP, for the command line: the same request body, the same response.
public enum EQLSearch {
    public struct Failure: Error, CustomStringConvertible {
        public var type: String
        public var reason: String
        public var description: String { "\(type): \(reason)" }
    }

    public static func run(store: Store, index: String, body: JSONObject) throws(Failure) -> JSONObject {
        do {
            let request = try API.parseEQLRequest(body, params: [:])
            return try API.runEQL(store: store, expression: index, request: request, options: ResolveOptions())
        } catch let e as RequestError {
            throw Failure(type: e.type, reason: e.reason)
        } catch let e as StoreError {
            throw Failure(type: e.type, reason: e.reason)
        } catch {
            throw Failure(type: "exception", reason: "\(error)")
        }
    }
}
