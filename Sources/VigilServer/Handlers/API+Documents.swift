#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import VigilJSON
import VigilStore

extension API {
    /// A parsed `_bulk` body, one entry per action, kept as parallel arrays so the
    /// operations go to the store as they are (no per-item copies on the way).
    struct BulkRequest {
        /// `index`, `create`, `update` or `delete`: the key of the action's response item.
        var opNames: [String] = []
        var targets: [String] = []
        var operations: [WriteOperation] = []

        var count: Int { operations.count }
        var isEmpty: Bool { operations.isEmpty }

        mutating func append(_ opName: String, _ target: String, _ operation: WriteOperation) {
            opNames.append(opName)
            targets.append(target)
            operations.append(operation)
        }
    }

    /// Parses an NDJSON `_bulk` body into actions. Whole-request errors (a bad action line)
    /// throw; a bad source document fails only its own item, later.
    static func parseBulk(_ body: [UInt8], defaultIndex: String?) throws(RequestError) -> BulkRequest {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        body.withUnsafeBytes { b in
            guard let base = b.baseAddress else { return }
            while start < b.count, let hit = memchr(base + start, 0x0A, b.count - start) {
                let i = base.distance(to: UnsafeRawPointer(hit))
                lines.append(body[start..<i])
                start = i + 1
            }
        }
        if start < body.count, body[start..<body.count].contains(where: { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }) {
            throw RequestError.illegalArgument("The bulk request must be terminated by a newline [\\n]")
        }
        var actions = BulkRequest()
        var i = 0
        func blank(_ l: ArraySlice<UInt8>) -> Bool { !l.contains { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 } }
        while i < lines.count {
            let line = lines[i]
            let lineNo = i + 1
            i += 1
            if blank(line) { continue }
            // The usual action lines of a load, taken without a parse.
            if line.elementsEqual(API.plainCreate) || line.elementsEqual(API.plainIndex), let index = defaultIndex {
                guard i < lines.count else {
                    throw RequestError.illegalArgument("Malformed action/metadata line [\(lineNo)]: the [\(line.count == API.plainCreate.count ? "create" : "index")] action needs a source document on the next line")
                }
                let create = line.count == API.plainCreate.count
                actions.append(create ? "create" : "index", index, .index(id: nil, source: [UInt8](lines[i]), create: create, ifSeqNo: nil, ifPrimaryTerm: nil))
                i += 1
                continue
            }
            let action: JSONValue
            do {
                action = try JSONParser().parse(line)
            } catch {
                throw RequestError("x_content_parse_exception", "[\(lineNo):\(error.column)] \(error.message)",
                    details: ["line": .int(Int64(lineNo)), "col": .int(Int64(error.column))])
            }
            guard case .object(let o) = action, o.count == 1, let entry = o.entries.first else {
                throw RequestError.illegalArgument("Malformed action/metadata line [\(lineNo)], expected START_OBJECT or END_OBJECT but found [\(action.tokenName)]")
            }
            let opName = entry.key
            guard ["index", "create", "update", "delete"].contains(opName) else {
                throw RequestError.illegalArgument("Malformed action/metadata line [\(lineNo)], expected one of [create, delete, index, update] but found [\(opName)]")
            }
            guard case .object(let meta) = entry.value else {
                throw RequestError.illegalArgument("Malformed action/metadata line [\(lineNo)], expected a simple value for field [\(opName)] but found [\(entry.value.tokenName)]")
            }
            for m in meta.entries where !API.bulkMetadataKeys.contains(m.key) {
                throw RequestError.illegalArgument("Action/metadata line [\(lineNo)] contains an unknown parameter [\(m.key)]")
            }
            guard let index = meta["_index"]?.stringValue ?? defaultIndex else {
                throw RequestError("action_request_validation_exception", "Validation Failed: 1: index is missing;")
            }
            let id: String? = meta["_id"].flatMap { v -> String? in
                switch v {
                case .string(let s): return s
                case .int(let n): return String(n)
                default: return nil
                }
            }
            let ifSeqNo = meta["if_seq_no"]?.int64Value
            let ifPrimaryTerm = meta["if_primary_term"]?.int64Value
            if opName == "delete" {
                guard let id else { throw RequestError("action_request_validation_exception", "Validation Failed: 1: id is missing;") }
                actions.append(opName, index, .delete(id: id, ifSeqNo: ifSeqNo, ifPrimaryTerm: ifPrimaryTerm))
                continue
            }
            guard i < lines.count else {
                throw RequestError.illegalArgument("Malformed action/metadata line [\(lineNo)]: the [\(opName)] action needs a source document on the next line")
            }
            let source = [UInt8](lines[i])
            i += 1
            if opName == "update" {
                guard let id else { throw RequestError("action_request_validation_exception", "Validation Failed: 1: id is missing;") }
                let body: JSONValue
                do {
                    body = try JSONParser().parse(source)
                } catch {
                    throw RequestError("x_content_parse_exception", "[\(i):\(error.column)] \(error.message)")
                }
                actions.append(opName, index, try updateOperation(id: id, body: body))
            } else {
                if opName == "create" && id == nil {
                    actions.append(opName, index, .index(id: nil, source: source, create: true, ifSeqNo: nil, ifPrimaryTerm: nil))
                } else {
                    actions.append(opName, index, .index(id: id, source: source, create: opName == "create", ifSeqNo: ifSeqNo, ifPrimaryTerm: ifPrimaryTerm))
                }
            }
        }
        return actions
    }

    static let bulkMetadataKeys: Set<String> = ["_index", "_id", "if_seq_no", "if_primary_term", "routing", "pipeline", "require_alias",
        "require_data_stream", "version", "version_type", "retry_on_conflict", "dynamic_templates", "_source", "list_executed_pipelines"]
    static let plainCreate = Array(#"{"create":{}}"#.utf8)
    static let plainIndex = Array(#"{"index":{}}"#.utf8)

    static func updateOperation(id: String, body: JSONValue) throws(RequestError) -> WriteOperation {
        guard case .object(let o) = body else { throw RequestError.parsing("update body must be an object") }
        for e in o.entries where !["doc", "upsert", "doc_as_upsert", "detect_noop", "_source", "scripted_upsert", "script"].contains(e.key) {
            throw RequestError("x_content_parse_exception", "[1:2] [UpdateRequest] unknown field [\(e.key)]")
        }
        if o["script"] != nil {
            throw RequestError.illegalArgument("script updates are not supported by Vigil; send a partial [doc] instead")
        }
        guard o["doc"] != nil || o["upsert"] != nil else {
            throw RequestError("action_request_validation_exception", "Validation Failed: 1: script or doc is missing;")
        }
        return .update(id: id, doc: o["doc"]?.objectValue, upsert: o["upsert"]?.objectValue, docAsUpsert: o["doc_as_upsert"]?.boolValue ?? false)
    }

    enum RefreshPolicy {
        case none, immediate, waitFor
    }

    func refreshPolicy(_ req: ESRequest) throws(RequestError) -> RefreshPolicy {
        switch req.params["refresh"] {
        case nil, "false": return .none
        case "", "true": return .immediate
        case "wait_for": return .waitFor
        case let v?: throw RequestError.illegalArgument("Unknown value for refresh: [\(v)].")
        }
    }

    static func itemJSON(_ r: WriteResult, forcedRefresh: Bool, withStatus: Bool = true) -> JSONValue {
        var o = JSONObject()
        o["_index"] = .string(r.index)
        o["_id"] = .string(r.id)
        if let e = r.error {
            o["status"] = .int(Int64(r.status))
            o["error"] = ErrorBody.cause(e)
            return .object(o)
        }
        o["_version"] = .int(r.version)
        o["result"] = .string(r.outcome?.rawValue ?? "noop")
        if forcedRefresh { o["forced_refresh"] = true }
        o["_shards"] = r.outcome == .noop ? ["total": 0, "successful": 0, "failed": 0] : ["total": 2, "successful": 1, "failed": 0]
        o["_seq_no"] = .int(r.seqNo)
        o["_primary_term"] = 1
        if withStatus { o["status"] = .int(Int64(r.status)) }
        return .object(o)
    }

    func bulk(_ req: ESRequest, index: String?) async throws -> ESResponse {
        let started = Clock.monotonicNanos()
        let policy = try refreshPolicy(req)
        guard req.hasBody else {
            throw RequestError("parse_exception", "request body is required")
        }
        let actions = try API.parseBulk(req.body, defaultIndex: index)
        if actions.isEmpty {
            throw RequestError("action_request_validation_exception", "Validation Failed: 1: no requests added;")
        }
        let store = self.store
        let results = try await blocking { () -> [WriteResult] in
            let results = store.bulk(targets: actions.targets, operations: actions.operations)
            if policy != .none {
                let touched = Set(results.filter { $0.error == nil }.map(\.index))
                for name in touched { try store.index(named: name)?.refresh() }
            }
            return results
        }
        let tookMillis = Int64((Clock.monotonicNanos() - started) / 1_000_000)
        if req.params["filter_path"] == nil && req.params["pretty"] == nil {
            return .init(status: 200, body: .rawJSON(API.bulkResponseBytes(actions.opNames, results, took: tookMillis, forcedRefresh: policy == .immediate)))
        }
        var items: [JSONValue] = []
        items.reserveCapacity(results.count)
        for (opName, r) in zip(actions.opNames, results) {
            items.append([opName: API.itemJSON(r, forcedRefresh: policy == .immediate && r.error == nil)])
        }
        return .json([
            "errors": .bool(results.contains { $0.error != nil }),
            "took": .int(tookMillis),
            "items": .array(items),
        ])
    }

    /// The `_bulk` response written straight to bytes: the same document `itemJSON` builds,
    /// without a tree of thousands of small objects. Successful items are written through a
    /// pointer into room reserved for them; failed ones through `JSONWriter`.
    static func bulkResponseBytes(_ opNames: [String], _ results: [WriteResult], took: Int64, forcedRefresh: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + results.count * 200)
        func raw(_ s: StaticString) { out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount)) }
        raw("{\"errors\":")
        raw(results.contains { $0.error != nil } ? "true" : "false")
        raw(",\"took\":")
        JSONWriter.appendInt(took, to: &out)
        raw(",\"items\":[")
        for k in results.indices {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            if results[k].error == nil {
                BulkItemWriter.success(opName: opNames[k], results[k], forcedRefresh: forcedRefresh, to: &out)
                continue
            }
            let r = results[k]
            out.append(UInt8(ascii: "{"))
            JSONWriter.appendString(opNames[k], to: &out)
            raw(":{\"_index\":")
            JSONWriter.appendString(r.index, to: &out)
            raw(",\"_id\":")
            JSONWriter.appendString(r.id, to: &out)
            raw(",\"status\":")
            JSONWriter.appendInt(Int64(r.status), to: &out)
            raw(",\"error\":")
            JSONWriter().write(ErrorBody.cause(r.error!), to: &out)
            raw("}}")
        }
        raw("]}")
        return out
    }

    /// Runs one write as a single-item bulk and answers with its item (or its error).
    func singleWrite(_ req: ESRequest, _ item: BulkItem) async throws -> ESResponse {
        let policy = try refreshPolicy(req)
        let store = self.store
        let result = try await blocking { () -> WriteResult in
            let r = store.bulk([item])[0]
            if policy != .none, r.error == nil { try store.index(named: r.index)?.refresh() }
            return r
        }
        if let e = result.error { return .error(e) }
        var headers: [(String, String)] = []
        if result.status == 201 {
            headers.append(("Location", "/\(result.index)/_doc/\(ESRequest.percentEncode(result.id))"))
        }
        return .json(API.itemJSON(result, forcedRefresh: policy == .immediate, withStatus: false), status: result.status, headers: headers)
    }

    func indexDocument(_ req: ESRequest, index: String, id: String?, create: Bool) async throws -> ESResponse {
        guard req.hasBody else { throw RequestError("parse_exception", "request body is required") }
        if let id, id.isEmpty { throw RequestError("action_request_validation_exception", "Validation Failed: 1: if _id is specified it must not be empty;") }
        // A malformed body fails the request, as Elasticsearch's document parser does.
        _ = try req.jsonBody()
        let ifSeqNo = try req.int("if_seq_no").map(Int64.init)
        let ifPrimaryTerm = try req.int("if_primary_term").map(Int64.init)
        let isCreate = create || (id == nil && store.dataStream(named: index) != nil)
        return try await singleWrite(req, BulkItem(target: index, operation: .index(id: id, source: req.body, create: isCreate, ifSeqNo: ifSeqNo, ifPrimaryTerm: ifPrimaryTerm)))
    }

    func deleteDocument(_ req: ESRequest, index: String, id: String) async throws -> ESResponse {
        guard store.index(named: index) != nil || store.dataStream(named: index) != nil else { throw StoreError.indexNotFound(index) }
        let ifSeqNo = try req.int("if_seq_no").map(Int64.init)
        let ifPrimaryTerm = try req.int("if_primary_term").map(Int64.init)
        return try await singleWrite(req, BulkItem(target: index, operation: .delete(id: id, ifSeqNo: ifSeqNo, ifPrimaryTerm: ifPrimaryTerm)))
    }

    func updateDocument(_ req: ESRequest, index: String, id: String) async throws -> ESResponse {
        guard let body = try req.jsonBody() else { throw RequestError("action_request_validation_exception", "Validation Failed: 1: script or doc is missing;") }
        let op = try API.updateOperation(id: id, body: .object(body))
        return try await singleWrite(req, BulkItem(target: index, operation: op))
    }

    func getDocument(_ req: ESRequest, index: String, id: String, sourceOnly: Bool) async throws -> ESResponse {
        let indices = try store.resolve(index, options: ResolveOptions())
        var found: StoredDocument?
        for i in indices.reversed() {
            if let d = i.get(id: id) {
                found = d
                break
            }
        }
        if try req.flag("refresh") { for i in indices { try await blocking { try i.refresh() } } }
        guard let doc = found else {
            if req.method == "HEAD" { return .empty(404) }
            if sourceOnly {
                throw RequestError("resource_not_found_exception", "Document not found [\(index)]/[\(id)]", status: 404)
            }
            return .json(["_index": .string(indices.last?.name ?? index), "_id": .string(id), "found": false], status: 404)
        }
        if req.method == "HEAD" { return .empty(200) }
        var source = JSONValue.null
        if let parsed = try? JSONParser().parse(doc.source) { source = parsed }
        source = try sourceFilter(req)?.apply(source) ?? source
        if sourceOnly { return .json(source) }
        var o = JSONObject()
        o["_index"] = .string(doc.index)
        o["_id"] = .string(doc.id)
        o["_version"] = .int(doc.version)
        o["_seq_no"] = .int(doc.seqNo)
        o["_primary_term"] = 1
        o["found"] = true
        if req.params["_source"] != "false" { o["_source"] = source }
        return .json(.object(o))
    }

    /// `_source_includes` / `_source_excludes` / `_source=a,b` on document reads.
    func sourceFilter(_ req: ESRequest) throws(RequestError) -> SourceFilter? {
        var includes: [String] = []
        var excludes: [String] = []
        if let s = req.params["_source"], s != "true", s != "false", !s.isEmpty { includes = s.split(separator: ",").map(String.init) }
        if let s = req.params["_source_includes"] { includes += s.split(separator: ",").map(String.init) }
        if let s = req.params["_source_excludes"] { excludes += s.split(separator: ",").map(String.init) }
        if includes.isEmpty && excludes.isEmpty { return nil }
        return SourceFilter(includes: includes, excludes: excludes)
    }
}

/// `_source` filtering by field patterns (`process.*`), dotted paths meaning nested objects.
struct SourceFilter: Sendable {
    var includes: [String]
    var excludes: [String]

    func apply(_ source: JSONValue) -> JSONValue {
        var spec: [String] = includes.flatMap { [$0, $0 + ".**"] }
        spec += excludes.flatMap { ["-" + $0, "-" + $0 + ".**"] }
        guard let f = FilterPath(spec.joined(separator: ",")) else { return source }
        return f.apply(source)
    }
}
