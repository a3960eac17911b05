import VigilJSON
import VigilQuery
import VigilStore

extension API {
    static let maxResultWindow = 10_000

    struct SortSpec {
        var field: String
        var descending: Bool
        var missingFirst: Bool
    }

    /// Reads the `sort` of a search body or URI (`field:desc,other`).
    static func parseSort(_ value: JSONValue?) throws(RequestError) -> [SortSpec] {
        guard let value else { return [] }
        var specs: [SortSpec] = []
        func one(_ v: JSONValue) throws(RequestError) {
            switch v {
            case .string(let s):
                let parts = s.split(separator: ":", maxSplits: 1).map(String.init)
                let desc = parts.count > 1 ? parts[1] == "desc" : s == "_score"
                specs.append(SortSpec(field: parts[0], descending: desc, missingFirst: false))
            case .object(let o):
                guard o.count == 1, let e = o.entries.first else { throw RequestError.parsing("malformed sort format, within the sort array, an object should have exactly one field") }
                var spec = SortSpec(field: e.key, descending: e.key == "_score", missingFirst: false)
                switch e.value {
                case .string(let order):
                    guard order == "asc" || order == "desc" else { throw RequestError.illegalArgument("Unknown SortOrder [\(order)]") }
                    spec.descending = order == "desc"
                case .object(let opts):
                    if let order = opts["order"]?.stringValue {
                        guard order == "asc" || order == "desc" else { throw RequestError.illegalArgument("Unknown SortOrder [\(order)]") }
                        spec.descending = order == "desc"
                    }
                    if let missing = opts["missing"]?.stringValue { spec.missingFirst = missing == "_first" }
                default:
                    throw RequestError.parsing("malformed sort format")
                }
                specs.append(spec)
            default:
                throw RequestError.parsing("malformed sort format")
            }
        }
        switch value {
        case .array(let items): for i in items { try one(i) }
        case .string(let s): for part in s.split(separator: ",") { try one(.string(String(part))) }
        default: try one(value)
        }
        return specs
    }

    /// The documents `query` matches in each segment of each reader (live ones only); nil for
    /// every live document (no query, or `match_all`). The query DSL covers `match_all`,
    /// `match_none`, `term`, `terms`, `range`, `exists` and `bool` for now; other known queries
    /// are refused clearly, unknown ones as Elasticsearch does.
    static func matching(_ query: JSONValue?, readers: [IndexReader]) throws(RequestError) -> [[Bitmap]]? {
        guard let query else { return nil }
        guard case .object(let o) = query, o.count == 1, let e = o.entries.first else {
            throw RequestError.parsing("query malformed, must start with start_object")
        }
        if e.key == "match_all" { return nil }
        try API.checkQueryNames(query)
        var out: [[Bitmap]] = []
        for r in readers {
            let expr: Expr
            do { expr = try QueryDSL(mapping: r.mapping).translate(query) } catch { throw RequestError.parsing(error.message) }
            out.append(r.segments.map { live in
                var hits = SegmentFilter(segment: live.segment).matching(expr)
                hits.subtract(live.deletes)
                return hits
            })
        }
        return out
    }

    /// Unknown query names anywhere in a query are `parsing_exception`s, as Elasticsearch words them.
    static func checkQueryNames(_ query: JSONValue) throws(RequestError) {
        guard case .object(let o) = query, let e = o.entries.first else { return }
        guard API.elasticsearchQueries.contains(e.key) else {
            throw RequestError("parsing_exception", "unknown query [\(e.key)]", details: ["line": 1, "col": 1])
        }
        if e.key == "bool", case .object(let b) = e.value {
            for clause in b.entries where ["must", "filter", "should", "must_not"].contains(clause.key) {
                for q in clause.value.arrayValue ?? [clause.value] { try checkQueryNames(q) }
            }
        }
    }

    /// Whether a query scores every hit the same, and with what: `match_all` 1, a `bool` of only
    /// `filter` and `must_not` clauses 0. Other queries score by relevance, which Vigil does
    /// not compute yet.
    static func constantScore(_ query: JSONValue?) -> Double? {
        guard let query else { return 1 }
        guard case .object(let o) = query, let e = o.entries.first else { return nil }
        switch e.key {
        case "match_all": return 1
        case "bool":
            guard case .object(let b) = e.value else { return nil }
            return b.entries.allSatisfy { ["filter", "must_not", "boost", "_name"].contains($0.key) } ? 0 : nil
        default: return nil
        }
    }

    static let elasticsearchQueries: Set<String> = [
        "bool", "term", "terms", "terms_set", "match", "match_phrase", "match_phrase_prefix", "match_bool_prefix", "multi_match",
        "range", "exists", "prefix", "wildcard", "regexp", "fuzzy", "ids", "query_string", "simple_query_string", "match_all",
        "match_none", "constant_score", "dis_max", "function_score", "boosting", "nested", "has_child", "has_parent",
        "parent_id", "geo_bounding_box", "geo_distance", "geo_shape", "geo_polygon", "shape", "more_like_this", "script",
        "script_score", "percolate", "wrapper", "pinned", "combined_fields", "intervals", "span_term", "span_near",
        "span_or", "span_not", "span_first", "span_containing", "span_within", "span_multi", "field_masking_span",
        "distance_feature", "rank_feature", "knn", "semantic", "sparse_vector", "text_expansion", "rule", "type",
    ]

    struct SearchRequest {
        var size = 10
        var from = 0
        var sort: [SortSpec] = []
        var trackTotalHits: Int? = 10_000
        var source: SourceFilter?
        var sourceEnabled = true
        var query: JSONValue?
    }

    func parseSearch(_ req: ESRequest) throws(RequestError) -> SearchRequest {
        var s = SearchRequest()
        let body = try req.jsonBody()
        if req.params["q"] != nil {
            throw RequestError("parsing_exception", "URI search [q] is not supported yet by Vigil (see the README's not-yet list)")
        }
        let supported: Set<String> = ["query", "size", "from", "sort", "_source", "track_total_hits", "timeout", "terminate_after", "version", "seq_no_primary_term", "explain", "stored_fields", "track_scores"]
        for e in body?.entries ?? [] where !supported.contains(e.key) {
            if ["aggs", "aggregations", "search_after", "pit", "fields", "highlight", "post_filter", "runtime_mappings", "collapse", "script_fields", "docvalue_fields", "rescore", "suggest", "knn"].contains(e.key) {
                throw RequestError("parsing_exception", "[\(e.key)] is not supported yet by Vigil (see the README's not-yet list)")
            }
            throw RequestError("parsing_exception", "Unknown key for a \(e.value.tokenName) in [\(e.key)].", details: ["line": 1, "col": 1])
        }
        if let v = body?["size"] {
            guard let n = v.int64Value else { throw RequestError.parsing("[size] must be a number, found [\(v.jsonString)]") }
            s.size = Int(clamping: n)
        }
        if let v = body?["from"] {
            guard let n = v.int64Value else { throw RequestError.parsing("[from] must be a number, found [\(v.jsonString)]") }
            s.from = Int(clamping: n)
        }
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
        s.query = body?["query"]
        return s
    }

    /// A live document and its sort key.
    struct Candidate {
        var reader: Int
        var segment: Int
        var doc: Int
        var keys: [SortKey]
    }

    enum SortKey: Comparable {
        case missing
        case int(Int64)
        case double(Double)
        case string(String)

        var json: JSONValue {
            switch self {
            case .missing: return .null
            case .int(let i): return .int(i)
            case .double(let d): return .double(d)
            case .string(let s): return .string(s)
            }
        }
    }

    static func sortKey(_ column: Column?, _ doc: Int, descending: Bool) -> SortKey {
        guard let column else { return .missing }
        let values = column.values(doc)
        let keys: [SortKey] = values.map {
            switch $0 {
            case .int(let i), .date(let i): return .int(i)
            case .double(let d): return .double(d)
            case .string(let s): return .string(s)
            case .bool(let b): return .int(b ? 1 : 0)
            case .ip(let a): return .string(a.description)
            }
        }
        guard let first = keys.first else { return .missing }
        return keys.dropFirst().reduce(first) { descending ? max($0, $1) : min($0, $1) }
    }

    static func less(_ a: Candidate, _ b: Candidate, _ specs: [SortSpec]) -> Bool {
        for (i, spec) in specs.enumerated() {
            let x = a.keys[i], y = b.keys[i]
            if x == y { continue }
            if x == .missing { return spec.missingFirst }
            if y == .missing { return !spec.missingFirst }
            return spec.descending ? x > y : x < y
        }
        if a.reader != b.reader { return a.reader < b.reader }
        if a.segment != b.segment { return a.segment < b.segment }
        return a.doc < b.doc
    }

    func search(_ req: ESRequest, expression: String?) async throws -> ESResponse {
        let started = Clock.monotonicNanos()
        let s = try parseSearch(req)
        let indices = try store.resolve(expression ?? "_all", options: resolveOptions(req))
        let readers = try await blocking { try indices.map { try $0.searchReader() } }
        let specs = s.sort.filter { $0.field != "_score" }
        let sorted = !s.sort.isEmpty && !(s.sort.count == 1 && s.sort[0].field == "_score")
        if let q = s.query { try API.checkQueryNames(q) }
        let score = API.constantScore(s.query)
        if score == nil && !sorted {
            throw RequestError("parsing_exception", "relevance scoring is not supported yet by Vigil: use a [bool] query of [filter] and [must_not] clauses (score 0), or sort by a field (see the README's not-yet list)")
        }
        let query = s.query
        let matched = try await blocking { try API.matching(query, readers: readers) }
        func live(_ ri: Int, _ si: Int, _ doc: Int) -> Bool {
            matched.map { $0[ri][si].contains(doc) } ?? readers[ri].segments[si].isLive(doc)
        }
        let total = matched.map { $0.reduce(0) { $0 + $1.reduce(0) { $0 + $1.cardinality } } } ?? readers.reduce(0) { $0 + $1.liveCount }
        let wanted = s.from + s.size
        var picked: [Candidate] = []
        if wanted > 0 {
            if !sorted || specs.allSatisfy({ $0.field == "_doc" }) {
                outer: for (ri, r) in readers.enumerated() {
                    for (si, seg) in r.segments.enumerated() {
                        for doc in 0..<seg.segment.docCount where live(ri, si, doc) {
                            picked.append(Candidate(reader: ri, segment: si, doc: doc, keys: specs.map { _ in .missing }))
                            if picked.count >= wanted { break outer }
                        }
                    }
                }
            } else {
                var all: [Candidate] = []
                all.reserveCapacity(total)
                for (ri, r) in readers.enumerated() {
                    for (si, seg) in r.segments.enumerated() {
                        let columns = specs.map { seg.segment.columns[$0.field] }
                        for doc in 0..<seg.segment.docCount where live(ri, si, doc) {
                            let keys = specs.enumerated().map { (k, spec) -> SortKey in
                                spec.field == "_doc" ? .int(Int64(doc)) : API.sortKey(columns[k], doc, descending: spec.descending)
                            }
                            all.append(Candidate(reader: ri, segment: si, doc: doc, keys: keys))
                        }
                    }
                }
                all.sort { API.less($0, $1, specs) }
                picked = Array(all.prefix(wanted))
            }
        }
        var hits: [JSONValue] = []
        for c in picked.dropFirst(s.from) {
            let seg = readers[c.reader].segments[c.segment].segment
            var o = JSONObject()
            o["_index"] = .string(readers[c.reader].index)
            o["_id"] = .string(seg.id(c.doc))
            o["_score"] = sorted ? .null : .double(score ?? 0)
            if s.sourceEnabled {
                var source = seg.source(c.doc).withMemoryRebound(to: UInt8.self) { (try? JSONParser().parse($0)) ?? .null }
                if let f = s.source { source = f.apply(source) }
                o["_source"] = source
            }
            if sorted { o["sort"] = .array(c.keys.map(\.json)) }
            hits.append(.object(o))
        }
        var hitsObject = JSONObject()
        if let limit = s.trackTotalHits {
            hitsObject["total"] = total > limit ? ["value": .int(Int64(limit)), "relation": "gte"] : ["value": .int(Int64(total)), "relation": "eq"]
        }
        hitsObject["max_score"] = sorted || total == 0 ? .null : .double(score ?? 0)
        hitsObject["hits"] = .array(hits)
        return .json([
            "took": .int(Int64((Clock.monotonicNanos() - started) / 1_000_000)),
            "timed_out": false,
            "_shards": ["total": .int(Int64(indices.count)), "successful": .int(Int64(indices.count)), "skipped": 0, "failed": 0],
            "hits": .object(hitsObject),
        ])
    }

    func count(_ req: ESRequest, expression: String?) async throws -> ESResponse {
        let body = try req.jsonBody()
        if req.params["q"] != nil {
            throw RequestError("parsing_exception", "URI search [q] is not supported yet by Vigil (see the README's not-yet list)")
        }
        for e in body?.entries ?? [] where e.key != "query" {
            throw RequestError("parsing_exception", "request does not support [\(e.key)]")
        }
        let indices = try store.resolve(expression ?? "_all", options: resolveOptions(req))
        let readers = try await blocking { try indices.map { try $0.searchReader() } }
        let query = body?["query"]
        let matched = try await blocking { try API.matching(query, readers: readers) }
        let total = matched.map { $0.reduce(0) { $0 + $1.reduce(0) { $0 + $1.cardinality } } } ?? readers.reduce(0) { $0 + $1.liveCount }
        return .json([
            "count": .int(Int64(total)),
            "_shards": ["total": .int(Int64(indices.count)), "successful": .int(Int64(indices.count)), "skipped": 0, "failed": 0],
        ])
    }
}
