import Dispatch
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
        var runtimeFields: [RuntimeField] = []
        var keepOnCompletion = false
        var keepAlive: Int64 = 5 * 86_400_000
        /// Milliseconds to wait before answering with an id while the search goes on; nil waits to the end.
        var waitForCompletion: Int64?
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
            case "wait_for_completion_timeout": r.waitForCompletion = try API.durationMillis(try string(e.value, e.key), name: e.key)
            case "allow_partial_search_results", "allow_partial_sequence_results", "ccs_minimize_roundtrips", "case_sensitive":
                continue
            case "fields":
                guard let f = FieldFetcher.Request.parse(e.value) else {
                    throw RequestError.parsing("[eql/search] failed to parse field [fields]: expected an array of field names or {\"field\": …} objects")
                }
                for request in f {
                    guard let format = request.format else { continue }
                    do { _ = try DatePattern(format) } catch { throw RequestError.illegalArgument(error.message) }
                }
                r.fields = f
            case "runtime_mappings":
                do { r.runtimeFields = try RuntimeField.parse(e.value) } catch { throw RequestError(error.type, error.reason) }
            default:
                throw RequestError.parsing("[eql/search] unknown field [\(e.key)]")
            }
        }
        if r.query.isEmpty { throw RequestError.illegalArgument("query is null or empty") }
        if r.options.size < 0 { throw RequestError.illegalArgument("size must be greater than or equal to 0") }
        if let v = params["keep_on_completion"] { r.keepOnCompletion = v == "true" }
        if let v = params["keep_alive"] { r.keepAlive = try API.durationMillis(v) }
        if let v = params["wait_for_completion_timeout"] { r.waitForCompletion = try API.durationMillis(v, name: "wait_for_completion_timeout") }
        return r
    }

    /// A time value (`keep_alive`, `wait_for_completion_timeout`, …) in milliseconds, through the one
    /// checked parser; `-1` and other negatives are refused here, where no caller means "forever".
    static func durationMillis(_ s: String, name: String = "keep_alive") throws(RequestError) -> Int64 {
        let value: TimeValue
        do { value = try TimeValue.parse(s, name: name) } catch { throw RequestError("parse_exception", error.message) }
        guard value.millis >= 0 else {
            throw RequestError("parse_exception", "failed to parse setting [\(name)] with value [\(s)] as a time value: negative durations are not supported")
        }
        return value.millis
    }

    static func eqlError(_ e: EQLError) -> RequestError {
        RequestError(e.typeName, e.description)
    }

    /// An EQL search checked and planned, ready to run: every error a request can cause is
    /// raised before this exists, so an asynchronous search fails at once or not at all.
    struct PlannedEQL: Sendable {
        var plan: EQLPlan
        var readers: [IndexReader]
        var mapping: Mapping
        var request: EQLSearchRequest
        var started: UInt64
    }

    /// Runs an EQL search on the indices `expression` names; returns the response body.
    static func runEQL(store: Store, expression: String, request r: EQLSearchRequest, options: ResolveOptions) throws -> JSONObject {
        try runEQL(planEQL(store: store, expression: expression, request: r, options: options))
    }

    /// Parses, resolves and verifies an EQL search.
    static func planEQL(store: Store, expression: String, request r: EQLSearchRequest, options: ResolveOptions) throws -> PlannedEQL {
        let started = Clock.monotonicNanos()
        let statement: EQLStatement
        do { statement = try EQLParser.parse(r.query) } catch { throw eqlError(error) }
        let indices = try store.resolve(expression, options: options)
        var readers = try indices.map { try $0.searchReader() }
        if !r.runtimeFields.isEmpty {
            do { readers = try RuntimeField.apply(r.runtimeFields, to: readers) } catch { throw RequestError(error.type, error.reason) }
        }
        let mapping = Mapping.union(readers.map(\.mapping))
        var plan: EQLPlan
        do { plan = try Analyzer.analyze(statement, mapping: mapping, options: r.options) } catch { throw eqlError(error) }
        if let filter = r.filter {
            do { plan = plan.filtered(by: try QueryDSL(mapping: mapping).translate(filter)) } catch {
                throw RequestError.parsing(error.message)
            }
        }
        return PlannedEQL(plan: plan, readers: readers, mapping: mapping, request: r, started: started)
    }

    /// Executes a planned search; returns the response body.
    static func runEQL(_ planned: PlannedEQL, cancellation: Cancellation? = nil) throws -> JSONObject {
        let (plan, readers, mapping, r, started) = (planned.plan, planned.readers, planned.mapping, planned.request, planned.started)
        let result: EQLResult
        var executor = EQLExecutor(readers: readers, options: r.options)
        executor.cancellation = cancellation
        do { result = try executor.run(plan) } catch { throw eqlError(error) }
        let fetcher = r.fields.isEmpty ? nil : FieldFetcher(r.fields, mapping: mapping)
        // Runtime fields with a script have no source path: `fields` reads their computed columns.
        let scripted = Set(r.runtimeFields.filter { $0.script != nil }.map(\.path))
        func event(_ e: EventRef) -> JSONValue {
            let seg = readers[e.reader].segments[e.segment].segment
            var o = JSONObject()
            o["_index"] = .string(readers[e.reader].index)
            o["_id"] = .string(seg.id(e.doc))
            let source = (try? JSONParser().parse(seg.source(e.doc))) ?? .null
            o["_source"] = source
            if let fetcher {
                let fields = fetcher.fetch(source) { name in scripted.contains(name) ? seg.columns[name]?.values(e.doc) ?? [] : nil }
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
        guard let wait = r.waitForCompletion else {
            let body = try await blocking { try API.runEQL(store: store, expression: expression, request: r, options: options) }
            guard r.keepOnCompletion else { return .json(.object(body)) }
            let id = results.keep(.done(body), keepAlive: r.keepAlive)
            return .json(.object(API.withID(id, body)))
        }
        // Asynchronous: checked here, then run on its own while the request waits at most `wait`.
        let planned = try await blocking { try API.planEQL(store: store, expression: expression, request: r, options: options) }
        let (id, search) = results.start(keepAlive: r.keepAlive)
        let results = self.results
        DispatchQueue.global().async {
            let outcome: EQLResults.Outcome
            do {
                outcome = .done(try API.runEQL(planned, cancellation: search.cancellation))
            } catch let e as any ElasticsearchError {
                outcome = .failed(ErrorBody.full(e), status: e.status)
            } catch {
                outcome = .failed(ErrorBody.full(RequestError("exception", "\(error)", status: 500)), status: 500)
            }
            results.finish(id, outcome)
        }
        await search.wait(upToMillis: wait)
        guard let entry = results.get(id) else { throw API.eqlMissing(id) }
        if case .running = entry.outcome { return API.eqlResponse(id, entry) }
        // Finished in time: kept only when asked to.
        if !r.keepOnCompletion { _ = results.remove(id) }
        return API.eqlResponse(r.keepOnCompletion ? id : nil, entry)
    }

    func eqlGet(_ req: ESRequest, _ id: String) async throws -> ESResponse {
        var keepAlive: Int64?
        if let v = req.params["keep_alive"] { keepAlive = try API.durationMillis(v) }
        guard let entry = results.get(id, extendingTo: keepAlive) else { throw API.eqlMissing(id) }
        if case .running = entry.outcome, let v = req.params["wait_for_completion_timeout"] {
            await entry.search.wait(upToMillis: try API.durationMillis(v, name: "wait_for_completion_timeout"))
            guard let now = results.get(id) else { throw API.eqlMissing(id) }
            return API.eqlResponse(id, now)
        }
        return API.eqlResponse(id, entry)
    }

    func eqlStatus(_ id: String) throws -> ESResponse {
        guard let entry = results.get(id) else { throw API.eqlMissing(id) }
        var o = JSONObject()
        o["id"] = .string(id)
        switch entry.outcome {
        case .running:
            o["is_running"] = true
            o["is_partial"] = true
            o["start_time_in_millis"] = .int(entry.started)
            o["expiration_time_in_millis"] = .int(entry.expires)
        case .done:
            o["is_running"] = false
            o["is_partial"] = false
            o["expiration_time_in_millis"] = .int(entry.expires)
            o["completion_status"] = 200
        case .failed(_, let status):
            o["is_running"] = false
            o["is_partial"] = true
            o["expiration_time_in_millis"] = .int(entry.expires)
            o["completion_status"] = .int(Int64(status))
        }
        return .json(.object(o))
    }

    /// Removes a kept search; a running one goes on but its result is dropped.
    func eqlDelete(_ id: String) throws -> ESResponse {
        guard results.remove(id) else { throw API.eqlMissing(id) }
        return .json(["acknowledged": true])
    }

    static func eqlMissing(_ id: String) -> RequestError {
        RequestError("resource_not_found_exception", id, status: 404)
    }

    /// A kept search as the get API shows it: still running, its results, or its failure.
    static func eqlResponse(_ id: String?, _ entry: EQLResults.Entry) -> ESResponse {
        switch entry.outcome {
        case .running:
            var o = JSONObject()
            if let id { o["id"] = .string(id) }
            o["is_partial"] = true
            o["is_running"] = true
            o["took"] = .int(max(0, Clock.nowMillis() - entry.started))
            o["timed_out"] = false
            return .json(.object(o))
        case .done(let body):
            return .json(.object(id.map { withID($0, body) } ?? body))
        case .failed(let error, let status):
            return .json(error, status: status)
        }
    }

    /// The body with `id` first, as Elasticsearch orders it.
    static func withID(_ id: String, _ body: JSONObject) -> JSONObject {
        var o = JSONObject()
        o["id"] = .string(id)
        for e in body.entries where e.key != "id" { o[e.key] = e.value }
        return o
    }
}

/// EQL searches kept by id: asynchronous ones, running or finished, and finished ones kept with
/// `keep_on_completion`, each until its `keep_alive` passes.
///
/// Finished searches are also written to `directory` (one JSON file each, as Elasticsearch keeps
/// them in its `.async-search` index), so their results outlive a restart; a search still
/// running when the server stops is lost with it.
final class EQLResults: Sendable {
    enum Outcome: Sendable {
        case running
        case done(JSONObject)
        /// The error body and its HTTP status.
        case failed(JSONValue, status: Int)
    }

    struct Entry: Sendable {
        var outcome: Outcome
        /// Epoch milliseconds.
        var started: Int64
        var expires: Int64
        var search: Completion
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let directory: String?

    /// Kept searches in memory only (nil), or also in `directory`, reading back those already there.
    init(directory: String? = nil) {
        self.directory = directory
        guard let directory else { return }
        try? FileIO.makeDirectories(directory)
        let now = Clock.nowMillis()
        var loaded: [String: Entry] = [:]
        for name in FileIO.list(directory) where name.hasSuffix(".json") {
            let id = String(name.dropLast(5))
            guard let json = try? StoredJSON.read(directory + "/" + name), let started = json["started"]?.int64Value,
                let expires = json["expires"]?.int64Value, let status = json["status"]?.int64Value, let body = json["body"]
            else { continue }
            guard expires > now else {
                FileIO.removeTree(directory + "/" + name)
                continue
            }
            let done = Completion()
            done.finish()
            let outcome: Outcome = status == 200 ? .done(body.objectValue ?? JSONObject()) : .failed(body, status: Int(status))
            loaded[id] = Entry(outcome: outcome, started: started, expires: expires, search: done)
        }
        entries.withLock { $0 = loaded }
    }

    /// Writes a finished search's file (nothing for a running one, or without a directory).
    private func save(_ id: String, _ e: Entry) {
        guard let directory else { return }
        let status: Int64, body: JSONValue
        switch e.outcome {
        case .running: return
        case .done(let o): (status, body) = (200, .object(o))
        case .failed(let error, let s): (status, body) = (Int64(s), error)
        }
        let json: JSONValue = ["started": .int(e.started), "expires": .int(e.expires), "status": .int(status), "body": body]
        try? FileIO.writeAtomically(directory + "/" + id + ".json", JSONWriter().encode(json))
    }

    private func forget(_ ids: some Sequence<String>) {
        guard let directory else { return }
        for id in ids { FileIO.removeTree(directory + "/" + id + ".json") }
    }

    /// Registers a running search.
    func start(keepAlive: Int64) -> (String, Completion) {
        let completion = Completion()
        let id = keep(.running, keepAlive: keepAlive, completion: completion)
        return (id, completion)
    }

    func keep(_ outcome: Outcome, keepAlive: Int64, completion: Completion = Completion()) -> String {
        let id = DocumentID.generate() + DocumentID.generate()
        let now = Clock.nowMillis()
        if case .running = outcome {} else { completion.finish() }
        let entry = Entry(outcome: outcome, started: now, expires: now.addingSaturating(keepAlive), search: completion)
        let expired = entries.withLock { r -> [String] in
            let gone = r.filter { $0.value.expires <= now }.map(\.key)
            for k in gone { r[k] = nil }
            r[id] = entry
            return gone
        }
        forget(expired)
        save(id, entry)
        return id
    }

    /// Records a search's outcome (nothing when it was deleted meanwhile) and wakes its waiters.
    func finish(_ id: String, _ outcome: Outcome) {
        let entry = entries.withLock { r -> Entry? in
            guard r[id] != nil else { return nil }
            r[id]!.outcome = outcome
            return r[id]!
        }
        guard let entry else { return }
        save(id, entry)
        entry.search.finish()
    }

    func get(_ id: String, extendingTo keepAlive: Int64? = nil) -> Entry? {
        let now = Clock.nowMillis()
        var expired = false
        let found = entries.withLock { r -> Entry? in
            guard var e = r[id] else { return nil }
            guard e.expires > now else {
                r[id] = nil
                expired = true
                return nil
            }
            if let keepAlive {
                e.expires = now.addingSaturating(keepAlive)
                r[id] = e
            }
            return e
        }
        if expired { forget([id]) }
        if keepAlive != nil, let found { save(id, found) }
        return found
    }

    /// Forgets a search; one still running is told to stop (its work ends at the next segment
    /// or timeline batch, not only its result dropped).
    func remove(_ id: String) -> Bool {
        let removed = entries.withLock { $0.removeValue(forKey: id) }
        removed?.search.cancellation.cancel()
        if removed != nil { forget([id]) }
        return removed != nil
    }
}

/// The end of one search, awaited with a time limit.
final class Completion: Sendable {
    /// Set when the search is deleted while it runs.
    let cancellation = Cancellation()
    private let state = Mutex<(done: Bool, waiters: [Int: CheckedContinuation<Void, Never>], next: Int)>((false, [:], 0))

    func finish() {
        let waiters = state.withLock { s in
            s.done = true
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for w in waiters { w.resume() }
    }

    /// Returns when the search has finished or `millis` have passed, whichever is first.
    func wait(upToMillis millis: Int64) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.finished() }
            // Past a day is as good as forever for a request; the product stays in range.
            group.addTask { try? await Task.sleep(nanoseconds: UInt64(min(max(0, millis), 86_400_000)) * 1_000_000) }
            await group.next()
            group.cancelAll()
        }
    }

    private func finished() async {
        let key = state.withLock { s in
            s.next += 1
            return s.next
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.done || Task.isCancelled { return true }
                    s.waiters[key] = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: key) }?.resume()
        }
    }
}
