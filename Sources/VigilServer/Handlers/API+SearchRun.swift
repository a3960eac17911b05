import Dispatch
import Synchronization
import VigilJSON
import VigilQuery
import VigilStore

extension API {
    struct SearchRequest: Sendable {
        var size = 10
        var from = 0
        var sort: [SortSpec] = []
        var trackTotalHits: Int? = 10_000
        var trackScores = false
        var source: SourceFilter?
        var sourceEnabled = true
        var query: JSONValue?
        var postFilter: JSONValue?
        var aggs: JSONValue?
        var searchAfter: [JSONValue]?
        var pit: (id: String, keepAlive: Int64?)?
        var fields: [FieldFetcher.Request] = []
        var terminateAfter: Int?
        var minScore: Double?
        var version = false
        var seqNoPrimaryTerm = false
    }

    func parseSearch(_ req: ESRequest) throws(RequestError) -> SearchRequest {
        // A scroll that is accepted and not kept makes helpers.scan and ElastAlert report
        // success with the first page only: refused until scrolls exist.
        if req.params["scroll"] != nil {
            throw RequestError.illegalArgument("[scroll] is not supported by Vigil yet: page with a point in time and search_after")
        }
        var s = SearchRequest()
        let body = try req.jsonBody()
        let supported: Set<String> = [
            "query", "size", "from", "sort", "_source", "track_total_hits", "timeout", "terminate_after", "version",
            "seq_no_primary_term", "explain", "stored_fields", "track_scores", "aggs", "aggregations", "search_after", "pit",
            "fields", "post_filter", "min_score", "indices_boost", "profile", "docvalue_fields",
        ]
        for e in body?.entries ?? [] where !supported.contains(e.key) {
            if ["highlight", "runtime_mappings", "collapse", "script_fields", "rescore", "suggest", "knn", "retriever", "rank", "stats", "ext"].contains(e.key) {
                throw RequestError("parsing_exception", "[\(e.key)] is not supported yet by Vigil (see the README's not-yet list)")
            }
            throw RequestError("parsing_exception", "Unknown key for a \(e.value.tokenName) in [\(e.key)].", details: ["line": 1, "col": 1])
        }
        func int(_ key: String) throws(RequestError) -> Int? {
            guard let v = body?[key] else { return nil }
            guard let n = v.int64Value else { throw RequestError.parsing("[\(key)] must be a number, found [\(v.jsonString)]") }
            return Int(clamping: n)
        }
        if let n = try int("size") { s.size = n }
        if let n = try int("from") { s.from = n }
        if let n = try req.int("size") { s.size = n }
        if let n = try req.int("from") { s.from = n }
        guard s.size >= 0 else { throw RequestError.illegalArgument("[size] parameter cannot be negative, found [\(s.size)]") }
        guard s.from >= 0 else { throw RequestError.illegalArgument("[from] parameter cannot be negative but was [\(s.from)]") }
        if s.from > API.maxResultWindow || s.size > API.maxResultWindow || s.from + s.size > API.maxResultWindow {
            throw RequestError.searchPhase(RequestError.illegalArgument("Result window is too large, from + size must be less than or equal to: [\(API.maxResultWindow)] but was [\(s.from &+ s.size)]. See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting."), index: req.segments.first ?? "")
        }
        s.sort = try API.parseSort(body?["sort"] ?? req.params["sort"].map { .string($0) })
        let tth: JSONValue? = body?["track_total_hits"] ?? req.params["track_total_hits"].map { v -> JSONValue in
            if let i = Int64(v) { return .int(i) }
            return .bool(v != "false")
        }
        switch tth {
        case .bool(true)?: s.trackTotalHits = Int.max
        case .bool(false)?: s.trackTotalHits = nil
        case .int(let n)?: s.trackTotalHits = n < 0 ? Int.max : Int(n)
        default: break
        }
        s.trackScores = body?["track_scores"]?.boolValue ?? (req.params["track_scores"] == "true")
        switch body?["_source"] {
        case .bool(let b)?: s.sourceEnabled = b
        case .string(let p)?: s.source = SourceFilter(includes: [p], excludes: [])
        case .array(let a)?: s.source = SourceFilter(includes: a.compactMap(\.stringValue), excludes: [])
        case .object(let o)?:
            func list(_ v: JSONValue?) -> [String] {
                if case .string(let x)? = v { return [x] }
                return v?.arrayValue?.compactMap(\.stringValue) ?? []
            }
            s.source = SourceFilter(includes: list(o["includes"] ?? o["include"]), excludes: list(o["excludes"] ?? o["exclude"]))
        default: break
        }
        if req.params["_source"] == "false" { s.sourceEnabled = false }
        if let f = try sourceFilter(req) { s.source = f }
        s.query = try API.requestQuery(body?["query"], req)
        s.postFilter = body?["post_filter"]
        s.aggs = body?["aggs"] ?? body?["aggregations"]
        if let a = body?["search_after"] {
            guard case .array(let values) = a else { throw RequestError.parsing("[search_after] must be an array") }
            s.searchAfter = values
        }
        if let p = body?["pit"] {
            guard let id = p.objectValue?["id"]?.stringValue else { throw RequestError.parsing("[pit] requires [id]") }
            var keepAlive: Int64?
            if let v = p.objectValue?["keep_alive"]?.stringValue { keepAlive = try PointsInTime.checkedKeepAlive(v) }
            s.pit = (id, keepAlive)
        }
        if let f = body?["fields"] ?? body?["docvalue_fields"] {
            guard let list = FieldFetcher.Request.parse(f) else { throw RequestError.parsing("[fields] must be an array of field names or {\"field\": …} objects") }
            for r in list {
                guard let format = r.format else { continue }
                do { _ = try DatePattern(format) } catch { throw RequestError.illegalArgument(error.message) }
            }
            s.fields = list
        }
        s.terminateAfter = try int("terminate_after")
        if s.terminateAfter == nil { s.terminateAfter = try req.int("terminate_after") }
        if let t = s.terminateAfter, t < 0 { throw RequestError.illegalArgument("terminateAfter must be > 0") }
        s.minScore = body?["min_score"]?.doubleValue
        s.version = body?["version"]?.boolValue ?? (req.params["version"] == "true")
        s.seqNoPrimaryTerm = body?["seq_no_primary_term"]?.boolValue ?? (req.params["seq_no_primary_term"] == "true")
        if let sa = s.searchAfter, !s.sort.isEmpty || s.pit != nil {
            let expected = s.sort.count + (s.pit != nil && !s.sort.contains { $0.field == "_shard_doc" } ? 1 : 0)
            guard sa.count == expected || sa.count == s.sort.count else {
                throw RequestError.illegalArgument("search_after has \(sa.count) value(s) but sort has \(s.sort.count).")
            }
        } else if s.searchAfter != nil {
            throw RequestError.illegalArgument("Sort must contain at least one field.")
        }
        return s
    }

    /// The query of a body, or of `q=` (Lucene syntax with `df`, `default_operator`,
    /// `analyze_wildcard`, `lenient`).
    static func requestQuery(_ body: JSONValue?, _ req: ESRequest) throws(RequestError) -> JSONValue? {
        guard let q = req.params["q"] else { return body }
        if body != nil { throw RequestError.illegalArgument("request [\(req.rawPath)] contains both [q] parameter and a query in the body") }
        var o: JSONObject = ["query": .string(q)]
        if let df = req.params["df"] { o["default_field"] = .string(df) }
        if let op = req.params["default_operator"] { o["default_operator"] = .string(op) }
        if let a = req.params["analyze_wildcard"] { o["analyze_wildcard"] = .bool(a == "true") }
        if let l = req.params["lenient"] { o["lenient"] = .bool(l == "true") }
        return ["query_string": .object(o)]
    }

    /// A query DSL error in Elasticsearch's shape: syntax errors with their position, query
    /// failures (`query_shard_exception`, bad values) wrapped as shard failures.
    static func dslError(_ e: QueryDSLError, index: String) -> RequestError {
        var details = JSONObject()
        if let p = e.position {
            details["line"] = 1
            details["col"] = .int(Int64(p + 1))
        }
        let err = RequestError(e.type, e.message, details: details)
        if ["query_shard_exception", "number_format_exception", "illegal_argument_exception", "parse_exception"].contains(e.type) {
            return RequestError.searchPhase(RequestError("query_shard_exception", "failed to create query: \(e.message)", details: details), index: index)
        }
        return err
    }

    /// The query compiled for each reader (each index has its own mapping); nil matches all.
    static func compile(_ query: JSONValue?, readers: [IndexReader], now: Int64) throws(RequestError) -> [CompiledQuery]? {
        guard let query else { return nil }
        guard case .object(let o) = query, o.count == 1 else { throw RequestError.parsing("query malformed, must start with start_object") }
        try API.checkQueryNames(query)
        var out: [CompiledQuery] = []
        for r in readers {
            do { out.append(try QueryDSL(mapping: r.mapping, now: now).compile(query)) } catch { throw dslError(error, index: r.index) }
        }
        return out
    }

    /// Live documents each compiled query matches, per reader and segment.
    static func matching(_ compiled: [CompiledQuery]?, readers: [IndexReader]) -> [[Bitmap]] {
        let parts = readers.enumerated().flatMap { ri, r in r.segments.indices.map { (reader: ri, segment: $0) } }
        // Segments are filtered in parallel, never more at once than there are cores.
        let found = Mutex([Bitmap?](repeating: nil, count: parts.count))
        DispatchQueue.concurrentPerform(iterations: parts.count) { k in
            let (ri, si) = parts[k]
            let live = readers[ri].segments[si]
            var hits = compiled.map { SegmentFilter(segment: live.segment).matching($0[ri].expr) } ?? Bitmap.full(live.segment.docCount)
            hits.subtract(live.deletes)
            found.withLock { $0[k] = hits }
        }
        let all = found.withLock { $0 }
        var out: [[Bitmap]] = []
        var k = 0
        for r in readers {
            out.append(r.segments.indices.map { _ in defer { k += 1 }; return all[k]! })
        }
        return out
    }

    /// Keeps the first `limit` documents of each reader (an index is one shard here).
    static func terminate(_ matched: inout [[Bitmap]], after limit: Int) -> Bool {
        var terminated = false
        for ri in matched.indices {
            var left = limit
            for si in matched[ri].indices {
                let n = matched[ri][si].cardinality
                if n <= left {
                    left -= n
                    continue
                }
                terminated = true
                var kept = Bitmap(count: matched[ri][si].count)
                matched[ri][si].forEach { doc in
                    if left > 0 {
                        kept.insert(doc)
                        left -= 1
                    }
                }
                matched[ri][si] = kept
            }
        }
        return terminated
    }

    func search(_ req: ESRequest, expression: String?) async throws -> ESResponse {
        .json(.object(try await searchBody(req, expression: expression)))
    }

    func searchBody(_ req: ESRequest, expression: String?) async throws -> JSONObject {
        let started = Clock.monotonicNanos()
        let s = try parseSearch(req)
        let readers: [IndexReader]
        if let pit = s.pit {
            if expression != nil { throw RequestError("action_request_validation_exception", "Validation Failed: 1: [indices] cannot be used with point in time. Do not specify any index with point in time.;") }
            readers = try pits.readers(pit.id, extendTo: pit.keepAlive)
        } else {
            let indices = try store.resolve(expression ?? "_all", options: resolveOptions(req))
            readers = try await blocking { try indices.map { try $0.searchReader() } }
        }
        var out = try await blocking { try API.runSearch(s, readers: readers) }
        out["took"] = .int(Int64((Clock.monotonicNanos() - started) / 1_000_000))
        if let pit = s.pit { out["pit_id"] = .string(pit.id) }
        return out
    }

    /// Executes a parsed search over readers: match, aggregate, score, sort, page, fetch.
    static func runSearch(_ s: SearchRequest, readers: [IndexReader]) throws -> JSONObject {
        let now = Clock.nowMillis()
        let compiled = try API.compile(s.query, readers: readers, now: now)
        var matched = API.matching(compiled, readers: readers)
        let terminated = s.terminateAfter.map { API.terminate(&matched, after: $0) } ?? false
        var result: JSONObject = ["took": 0, "timed_out": false]
        if s.terminateAfter != nil { result["terminated_early"] = .bool(terminated) }
        result["_shards"] = ["total": .int(Int64(readers.count)), "successful": .int(Int64(readers.count)), "skipped": 0, "failed": 0]
        var aggregations: JSONObject?
        if let aggs = s.aggs {
            var parts: [DocSet.Part] = []
            for (ri, r) in readers.enumerated() {
                for (si, live) in r.segments.enumerated() { parts.append(DocSet.Part(reader: ri, segment: live.segment, docs: matched[ri][si])) }
            }
            let aggregator = Aggregator(mappings: readers.map(\.mapping), now: now, indexName: { readers[$0].index }) { part, doc, includes, excludes in
                let source = part.segment.source(doc).withMemoryRebound(to: UInt8.self) { (try? JSONParser().parse($0)) ?? .null }
                return includes.isEmpty && excludes.isEmpty ? source : SourceFilter(includes: includes, excludes: excludes).apply(source)
            }
            do { aggregations = try aggregator.run(aggs, over: DocSet(parts: parts)) } catch {
                if error.type == "parsing_exception" || error.type == "x_content_parse_exception" { throw RequestError(error.type, error.message) }
                throw RequestError.searchPhase(RequestError(error.type, error.message), index: readers.first?.index ?? "")
            }
        }
        if let pf = s.postFilter, let filters = try API.compile(pf, readers: readers, now: now) {
            let post = API.matching(filters, readers: readers)
            for ri in matched.indices { for si in matched[ri].indices { matched[ri][si].formIntersection(post[ri][si]) } }
        }
        let specs = s.sort
        // As Elasticsearch: a text field has no per-document values to sort by (fielddata is off).
        for spec in specs where !spec.field.hasPrefix("_") {
            for r in readers where r.mapping.field(at: spec.field)?.type == .text {
                throw RequestError.searchPhase(RequestError.illegalArgument(
                    "Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead. Alternatively, set fielddata=true on [\(spec.field)] in order to load field data by uninverting the inverted index. Note that this can use significant memory."),
                    index: r.index)
            }
        }
        let sorted = !specs.isEmpty && !(specs.count == 1 && specs[0].field == "_score" && specs[0].descending)
        let needScores = !sorted || specs.contains { $0.field == "_score" } || s.trackScores || s.minScore != nil
        // Scores: constant per reader when the query's score is, else BM25 per document.
        var scores: [[[Double]]?] = readers.map { _ in nil }
        var constant: [Double] = readers.map { _ in 1 }
        if needScores {
            for (ri, r) in readers.enumerated() {
                let node = compiled?[ri].score ?? .constant(1)
                if let c = node.constantValue {
                    constant[ri] = c
                    continue
                }
                let scorer = Scorer(segments: r.segments.map(\.segment))
                scores[ri] = r.segments.indices.map { si in scorer.scores(node, segment: si, docs: matched[ri][si]) }
            }
        }
        func score(_ ri: Int, _ si: Int, _ doc: Int) -> Double { scores[ri]?[si][doc] ?? constant[ri] }
        if let minScore = s.minScore {
            for ri in matched.indices {
                for si in matched[ri].indices {
                    var kept = Bitmap(count: matched[ri][si].count)
                    matched[ri][si].forEach { if score(ri, si, $0) >= minScore { kept.insert($0) } }
                    matched[ri][si] = kept
                }
            }
        }
        let total = matched.reduce(0) { $0 + $1.reduce(0) { $0 + $1.cardinality } }
        // With a point in time, an implicit tiebreaker (`_shard_doc`) ends the sort.
        var keySpecs = specs
        if s.pit != nil && sorted && !specs.contains(where: { $0.field == "_shard_doc" }) {
            keySpecs.append(SortSpec(field: "_shard_doc", descending: false, missingFirst: false))
        }
        if !sorted { keySpecs = [SortSpec(field: "_score", descending: true, missingFirst: false)] }
        let wanted = s.from + s.size
        var picked: [Candidate] = []
        let allConstant = scores.allSatisfy { $0 == nil }
        if wanted > 0 {
            if !sorted && allConstant && s.searchAfter == nil && Set(constant).count <= 1 {
                // Every hit scores the same: index order, stopping at `from + size`.
                outer: for (ri, r) in readers.enumerated() {
                    for si in r.segments.indices {
                        var stop = false
                        matched[ri][si].forEach { doc in
                            if stop { return }
                            picked.append(Candidate(reader: ri, segment: si, doc: doc, keys: [.double(constant[ri])]))
                            if picked.count >= wanted { stop = true }
                        }
                        if picked.count >= wanted { break outer }
                    }
                }
            } else {
                var all: [Candidate] = []
                all.reserveCapacity(total)
                let after = s.searchAfter.map { values in
                    Candidate(reader: -1, segment: -1, doc: -1, keys: values.map(API.sortKey(json:)))
                }
                for (ri, r) in readers.enumerated() {
                    for (si, seg) in r.segments.enumerated() {
                        let columns = keySpecs.map { seg.segment.columns[r.mapping.resolvingAliases($0.field)] }
                        matched[ri][si].forEach { doc in
                            let keys = keySpecs.enumerated().map { (k, spec) -> SortKey in
                                switch spec.field {
                                case "_score": return .double(score(ri, si, doc))
                                case "_doc": return .int(Int64(doc))
                                case "_shard_doc": return .int(Int64(ri) << 48 | Int64(si) << 32 | Int64(doc))
                                default: return API.sortKey(columns[k], doc, descending: spec.descending)
                                }
                            }
                            let c = Candidate(reader: ri, segment: si, doc: doc, keys: keys)
                            if let after, !API.keysAfter(c.keys, after.keys, keySpecs) { return }
                            all.append(c)
                        }
                    }
                }
                all.sort { API.less($0, $1, keySpecs) }
                picked = Array(all.prefix(wanted))
            }
        }
        let fetcher = s.fields.isEmpty ? nil : FieldFetcher(s.fields, mapping: Mapping.union(readers.map(\.mapping)))
        var hits: [JSONValue] = []
        var maxScore: Double?
        if needScores && !sorted || s.trackScores {
            for ri in readers.indices {
                for si in matched[ri].indices {
                    if let arr = scores[ri]?[si] {
                        matched[ri][si].forEach { maxScore = max(maxScore ?? -Double.infinity, arr[$0]) }
                    } else if !matched[ri][si].isEmpty {
                        maxScore = max(maxScore ?? -Double.infinity, constant[ri])
                    }
                }
            }
        }
        for c in picked.dropFirst(s.from) {
            let seg = readers[c.reader].segments[c.segment].segment
            var o = JSONObject()
            o["_index"] = .string(readers[c.reader].index)
            o["_id"] = .string(seg.id(c.doc))
            if s.version { o["_version"] = .int(seg.version(c.doc)) }
            if s.seqNoPrimaryTerm {
                o["_seq_no"] = .int(seg.seqNo(c.doc))
                o["_primary_term"] = 1
            }
            o["_score"] = sorted && !s.trackScores && !specs.contains(where: { $0.field == "_score" }) ? .null : .double(score(c.reader, c.segment, c.doc))
            var source: JSONValue?
            if s.sourceEnabled || fetcher != nil {
                source = seg.source(c.doc).withMemoryRebound(to: UInt8.self) { (try? JSONParser().parse($0)) ?? .null }
            }
            if s.sourceEnabled, let src = source { o["_source"] = s.source.map { $0.apply(src) } ?? src }
            if let fetcher, let src = source {
                let f = fetcher.fetch(src)
                if !f.isEmpty { o["fields"] = .object(f) }
            }
            if sorted { o["sort"] = .array(c.keys.map(\.json)) }
            hits.append(.object(o))
        }
        var hitsObject = JSONObject()
        if let limit = s.trackTotalHits {
            hitsObject["total"] = total > limit ? ["value": .int(Int64(limit)), "relation": "gte"] : ["value": .int(Int64(total)), "relation": "eq"]
        }
        hitsObject["max_score"] = maxScore.map { .double($0) } ?? .null
        hitsObject["hits"] = .array(hits)
        result["hits"] = .object(hitsObject)
        if let aggregations { result["aggregations"] = .object(aggregations) }
        return result
    }

    /// A `search_after` value as a sort key.
    static func sortKey(json v: JSONValue) -> SortKey {
        switch v {
        case .int(let i): return .int(i)
        case .uint(let u): return .int(Int64(clamping: u))
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .bool(let b): return .int(b ? 1 : 0)
        default: return .missing
        }
    }

    /// Whether `keys` sort strictly after `after`.
    static func keysAfter(_ keys: [SortKey], _ after: [SortKey], _ specs: [SortSpec]) -> Bool {
        for (i, spec) in specs.enumerated() where i < after.count {
            let x = keys[i], y = after[i]
            if x == y { continue }
            if x == .missing { return !spec.missingFirst }
            if y == .missing { return spec.missingFirst }
            let lessThan: Bool
            switch (x, y) {
            case (.int(let a), .double(let b)): lessThan = Double(a) < b
            case (.double(let a), .int(let b)): lessThan = a < Double(b)
            default: lessThan = x < y
            }
            return spec.descending ? lessThan : !lessThan
        }
        return false
    }

    func count(_ req: ESRequest, expression: String?) async throws -> ESResponse {
        let body = try req.jsonBody()
        for e in body?.entries ?? [] where e.key != "query" {
            throw RequestError("parsing_exception", "request does not support [\(e.key)]")
        }
        let query = try API.requestQuery(body?["query"], req)
        let terminateAfter = try req.int("terminate_after")
        let indices = try store.resolve(expression ?? "_all", options: resolveOptions(req))
        let readers = try await blocking { try indices.map { try $0.searchReader() } }
        let total = try await blocking { () throws -> Int in
            let compiled = try API.compile(query, readers: readers, now: Clock.nowMillis())
            if compiled == nil && terminateAfter == nil { return readers.reduce(0) { $0 + $1.liveCount } }
            var matched = API.matching(compiled, readers: readers)
            if let t = terminateAfter { _ = API.terminate(&matched, after: t) }
            return matched.reduce(0) { $0 + $1.reduce(0) { $0 + $1.cardinality } }
        }
        return .json([
            "count": .int(Int64(total)),
            "_shards": ["total": .int(Int64(indices.count)), "successful": .int(Int64(indices.count)), "skipped": 0, "failed": 0],
        ])
    }

    /// `_msearch`: NDJSON pairs of a header (`index`, options) and a search body; each search
    /// answers or fails on its own.
    func multiSearch(_ req: ESRequest, expression: String?) async throws -> ESResponse {
        let started = Clock.monotonicNanos()
        var lines = req.body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { Array($0) }
        while let last = lines.last, last.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { lines.removeLast() }
        guard !lines.isEmpty else { throw RequestError.illegalArgument("Validation Failed: 1: no requests added;") }
        var responses: [JSONValue] = []
        var i = 0
        while i < lines.count {
            let headerBytes = lines[i]
            let bodyBytes = i + 1 < lines.count ? lines[i + 1] : []
            i += 2
            let header: JSONObject
            do {
                let parsed = headerBytes.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) ? JSONValue.object(JSONObject()) : try headerBytes.withUnsafeBufferPointer { try JSONParser().parse($0) }
                guard case .object(let o) = parsed else { throw RequestError.parsing("msearch header must be an object") }
                header = o
            } catch let e as JSONError {
                throw RequestError.badJSON(e)
            }
            var index = expression
            if let v = header["index"] {
                index = v.stringValue ?? v.arrayValue?.compactMap(\.stringValue).joined(separator: ",")
            }
            var uri = "/" + (index.map { ESRequest.percentEncode($0) + "/" } ?? "") + "_search"
            var params: [String] = []
            for (k, v) in req.params where ["ignore_unavailable", "allow_no_indices", "expand_wildcards"].contains(k) { params.append(k + "=" + v) }
            for e in header.entries where ["ignore_unavailable", "allow_no_indices", "expand_wildcards", "search_type", "preference", "routing"].contains(e.key) {
                params.append(e.key + "=" + ESRequest.percentEncode(e.value.scalarText))
            }
            if !params.isEmpty { uri += "?" + params.joined(separator: "&") }
            let sub = ESRequest(method: "POST", uri: uri, body: bodyBytes, contentType: "application/json", accept: nil)
            do {
                var r = try await searchBody(sub, expression: index)
                r["status"] = 200
                responses.append(.object(r))
            } catch let e as any ElasticsearchError {
                responses.append(ErrorBody.full(e))
            }
        }
        return .json(["took": .int(Int64((Clock.monotonicNanos() - started) / 1_000_000)), "responses": .array(responses)])
    }

    /// `POST /{index}/_pit?keep_alive=…`: keeps the indices' current segments for later searches.
    func openPointInTime(_ req: ESRequest, expression: String) async throws -> ESResponse {
        guard let ka = req.params["keep_alive"] else { throw RequestError("action_request_validation_exception", "Validation Failed: 1: [keep_alive] is not specified;") }
        let keepAlive = try PointsInTime.checkedKeepAlive(ka)
        let indices = try store.resolve(expression, options: resolveOptions(req))
        let readers = try await blocking { try indices.map { try $0.searchReader() } }
        let id = try pits.open(readers, keepAlive: keepAlive)
        return .json(["id": .string(id), "_shards": ["total": .int(Int64(readers.count)), "successful": .int(Int64(readers.count)), "skipped": 0, "failed": 0]])
    }

    /// `DELETE /_pit` with `{"id": …}`.
    func closePointInTime(_ req: ESRequest) async throws -> ESResponse {
        guard let id = try req.jsonBody()?["id"]?.stringValue else { throw RequestError("action_request_validation_exception", "Validation Failed: 1: point in time id must be provided;") }
        let freed = pits.close(id)
        return .json(["succeeded": true, "num_freed": .int(freed ? 1 : 0)], status: freed ? 200 : 404)
    }
}

/// Points in time: readers (segment snapshots) kept by id until their keep-alive passes.
final class PointsInTime: Sendable {
    private struct Entry: Sendable {
        var readers: [IndexReader]
        var expires: Int64
    }

    private let entries = Mutex<[String: Entry]>([:])
    /// Open points in time at most, as Elasticsearch bounds its open search contexts
    /// (`search.max_open_scroll_context`): each one pins segments on disk and in memory.
    static let maxOpen = 500
    /// `search.max_keep_alive`.
    static let maxKeepAlive: Int64 = 86_400_000

    /// A `keep_alive` through the checked parser, within `search.max_keep_alive` as Elasticsearch checks it.
    static func checkedKeepAlive(_ text: String) throws(RequestError) -> Int64 {
        let ms = try API.durationMillis(text, name: "keep_alive")
        guard ms <= maxKeepAlive else {
            throw RequestError.illegalArgument(
                "Keep alive for request (\(text)) is too large. It must be less than (1d). This limit can be set by changing the [search.max_keep_alive] cluster level setting.")
        }
        return ms
    }

    func open(_ readers: [IndexReader], keepAlive: Int64) throws(RequestError) -> String {
        var bytes: [UInt8] = []
        for _ in 0..<3 { withUnsafeBytes(of: UInt64.random(in: 0...UInt64.max)) { bytes += $0 } }
        let id = Base64URL.encode(bytes)
        let now = Clock.nowMillis()
        let opened = entries.withLock { e -> Bool in
            e = e.filter { $0.value.expires > now }
            guard e.count < PointsInTime.maxOpen else { return false }
            e[id] = Entry(readers: readers, expires: now.addingSaturating(keepAlive))
            return true
        }
        guard opened else {
            throw RequestError("es_rejected_execution_exception",
                "Trying to create too many point in time contexts. Must be less than or equal to: [\(PointsInTime.maxOpen)]. Close points in time with DELETE /_pit or let their keep_alive pass.",
                status: 429)
        }
        return id
    }

    func readers(_ id: String, extendTo keepAlive: Int64?) throws(RequestError) -> [IndexReader] {
        let now = Clock.nowMillis()
        let found: [IndexReader]? = entries.withLock { e in
            guard var entry = e[id], entry.expires > now else {
                e[id] = nil
                return nil
            }
            if let keepAlive { entry.expires = now.addingSaturating(keepAlive) }
            e[id] = entry
            return entry.readers
        }
        guard let found else {
            throw RequestError("search_phase_execution_exception", "all shards failed", status: 404, details: [
                "caused_by": ["type": "search_context_missing_exception", "reason": .string("No search context found for id [\(id)]")],
            ])
        }
        return found
    }

    func close(_ id: String) -> Bool { entries.withLock { $0.removeValue(forKey: id) != nil } }
}

enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var out = ""
        var i = 0
        while i + 2 < bytes.count {
            let n = Int(bytes[i]) << 16 | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2])
            for shift in [18, 12, 6, 0] { out.append(table[(n >> shift) & 63]) }
            i += 3
        }
        return out
    }
}
