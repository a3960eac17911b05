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
                if ["_script", "_geo_distance"].contains(e.key) {
                    throw RequestError.illegalArgument("[\(e.key)] sort is not supported by Vigil yet")
                }
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

    /// Unknown query names anywhere in a query are `parsing_exception`s, as Elasticsearch words them.
    static func checkQueryNames(_ query: JSONValue) throws(RequestError) {
        guard case .object(let o) = query, let e = o.entries.first else { return }
        guard API.elasticsearchQueries.contains(e.key) else {
            throw RequestError("parsing_exception", "unknown query [\(e.key)]", details: ["line": 1, "col": 1])
        }
        switch (e.key, e.value) {
        case ("bool", .object(let b)):
            for clause in b.entries where ["must", "filter", "should", "must_not"].contains(clause.key) {
                for q in clause.value.arrayValue ?? [clause.value] { try checkQueryNames(q) }
            }
        case ("constant_score", .object(let b)):
            if let f = b["filter"] { try checkQueryNames(f) }
        case ("dis_max", .object(let b)):
            for q in b["queries"]?.arrayValue ?? [] { try checkQueryNames(q) }
        default: break
        }
    }

    static let elasticsearchQueries: Set<String> = [
        "bool", "term", "terms", "terms_set", "match", "match_phrase", "match_phrase_prefix", "match_bool_prefix", "multi_match",
        "range", "exists", "prefix", "wildcard", "regexp", "fuzzy", "ids", "query_string", "simple_query_string", "match_all",
        "match_none", "kql", "constant_score", "dis_max", "function_score", "boosting", "nested", "has_child", "has_parent",
        "parent_id", "geo_bounding_box", "geo_distance", "geo_shape", "geo_polygon", "shape", "more_like_this", "script",
        "script_score", "percolate", "wrapper", "pinned", "combined_fields", "intervals", "span_term", "span_near",
        "span_or", "span_not", "span_first", "span_containing", "span_within", "span_multi", "field_masking_span",
        "distance_feature", "rank_feature", "knn", "semantic", "sparse_vector", "text_expansion", "rule", "type",
    ]

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

}
