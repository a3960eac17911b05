public import VigilJSON
public import VigilStore

/// The documents an aggregation runs over: for each segment searched, its matching documents.
public struct DocSet: Sendable {
    public struct Part: Sendable {
        public var reader: Int
        public var segment: Segment
        public var docs: Bitmap

        public init(reader: Int, segment: Segment, docs: Bitmap) {
            self.reader = reader
            self.segment = segment
            self.docs = docs
        }
    }

    public var parts: [Part]

    public init(parts: [Part]) { self.parts = parts }

    public var count: Int { parts.reduce(0) { $0 + $1.docs.cardinality } }

    /// The same segments with other documents (a bucket's).
    func with(_ bits: [Bitmap]) -> DocSet {
        DocSet(parts: zip(parts, bits).map { Part(reader: $0.reader, segment: $0.segment, docs: $1) })
    }
}

/// Runs Elasticsearch aggregations over the columns of matching documents: bucket
/// aggregations (`terms`, `multi_terms`, `date_histogram`, `histogram`, `range`, `date_range`,
/// `filter`, `filters`, `composite`, `missing`) with sub-aggregations, and metrics
/// (`value_count`, `cardinality`, `min`, `max`, `sum`, `avg`, `stats`, `percentiles`,
/// `top_hits`). Responses have Elasticsearch's shape.
public final class Aggregator {
    /// Each searched index's mapping, by reader.
    let mappings: [Mapping]
    let now: Int64
    /// Reads a document's `_source`, filtered by include and exclude patterns (for `top_hits`).
    let source: (DocSet.Part, Int, [String], [String]) -> JSONValue
    let indexName: (Int) -> String

    public init(mappings: [Mapping], now: Int64 = Clock.nowMillis(), indexName: @escaping (Int) -> String,
                source: @escaping (DocSet.Part, Int, [String], [String]) -> JSONValue) {
        self.mappings = mappings
        self.now = now
        self.indexName = indexName
        self.source = source
    }

    static let bucketTypes: Set<String> = ["terms", "multi_terms", "date_histogram", "histogram", "range", "date_range", "filter", "filters", "composite", "missing"]
    static let metricTypes: Set<String> = ["value_count", "cardinality", "min", "max", "sum", "avg", "stats", "percentiles", "top_hits", "extended_stats"]

    struct Spec {
        var name: String
        var type: String
        var body: JSONValue
        var subs: [Spec]
        var meta: JSONValue?
    }

    /// Parses an `aggs` object; errors as Elasticsearch's parsing errors.
    static func parse(_ json: JSONValue) throws(QueryDSLError) -> [Spec] {
        guard case .object(let o) = json else { throw QueryDSLError("Expected [START_OBJECT] under [aggs], but got a [\(json.tokenName)]") }
        var out: [Spec] = []
        for e in o.entries {
            guard case .object(let def) = e.value else {
                throw QueryDSLError("Expected [START_OBJECT] under [\(e.key)], but got a [\(e.value.tokenName)] in [\(e.key)]")
            }
            var type: String?
            var body: JSONValue = .null
            var subs: [Spec] = []
            var meta: JSONValue?
            for d in def.entries {
                switch d.key {
                case "aggs", "aggregations": subs = try parse(d.value)
                case "meta": meta = d.value
                default:
                    if type != nil {
                        throw QueryDSLError("Found two aggregation type definitions in [\(e.key)]: [\(type!)] and [\(d.key)]")
                    }
                    type = d.key
                    body = d.value
                }
            }
            guard let type else { throw QueryDSLError("Missing definition for aggregation [\(e.key)]") }
            guard bucketTypes.contains(type) || metricTypes.contains(type) else {
                if knownUnsupported.contains(type) {
                    throw QueryDSLError("aggregation [\(type)] is not supported yet by Vigil")
                }
                throw QueryDSLError("Unknown aggregation type [\(type)] did you mean [terms]?", type: "x_content_parse_exception")
            }
            if metricTypes.contains(type) && !subs.isEmpty {
                throw QueryDSLError("Aggregator [\(e.key)] of type [\(type)] cannot accept sub-aggregations", type: "aggregation_initialization_exception")
            }
            out.append(Spec(name: e.key, type: type, body: body, subs: subs, meta: meta))
        }
        return out
    }

    static let knownUnsupported: Set<String> = [
        "significant_terms", "rare_terms", "geo_distance", "geohash_grid", "geotile_grid", "nested", "reverse_nested",
        "sampler", "diversified_sampler", "global", "adjacency_matrix", "auto_date_histogram", "variable_width_histogram",
        "ip_range", "ip_prefix", "median_absolute_deviation", "percentile_ranks", "weighted_avg", "scripted_metric",
        "string_stats", "boxplot", "geo_bounds", "geo_centroid", "matrix_stats", "t_test", "rate", "top_metrics",
        "bucket_sort", "bucket_selector", "bucket_script", "cumulative_sum", "derivative", "moving_fn", "avg_bucket",
        "max_bucket", "min_bucket", "sum_bucket", "stats_bucket", "serial_diff", "significant_text", "categorize_text",
        "frequent_item_sets", "time_series", "random_sampler",
    ]

    /// Validates an `aggs` object without running it.
    public static func validate(_ json: JSONValue) throws(QueryDSLError) { _ = try parse(json) }

    /// The `aggregations` of a response.
    public func run(_ json: JSONValue, over docs: DocSet) throws(QueryDSLError) -> JSONObject {
        try run(Aggregator.parse(json), docs)
    }

    func run(_ specs: [Spec], _ docs: DocSet) throws(QueryDSLError) -> JSONObject {
        var out = JSONObject()
        for s in specs {
            var result = try one(s, docs)
            if let meta = s.meta { result["meta"] = meta }
            out[s.name] = .object(result)
        }
        return out
    }

    func one(_ s: Spec, _ docs: DocSet) throws(QueryDSLError) -> JSONObject {
        switch s.type {
        case "terms": return try terms(s, docs)
        case "multi_terms": return try multiTerms(s, docs)
        case "date_histogram": return try dateHistogram(s, docs)
        case "histogram": return try histogram(s, docs)
        case "range", "date_range": return try ranges(s, docs)
        case "filter": return try filter(s, docs)
        case "filters": return try filters(s, docs)
        case "composite": return try composite(s, docs)
        case "missing": return try missing(s, docs)
        case "top_hits": return try topHits(s, docs)
        default: return try metric(s, docs)
        }
    }

    // MARK: - fields

    /// A field of the request, aliases followed, with its mapped type in the first index that has it.
    struct FieldRef {
        var paths: [String]  // per reader
        var type: FieldType?
    }

    func field(_ s: Spec) throws(QueryDSLError) -> FieldRef {
        guard let name = s.body.objectValue?["field"]?.stringValue else {
            if s.body.objectValue?["script"] != nil { throw QueryDSLError("[\(s.type)] aggregation scripts are not supported yet by Vigil") }
            throw QueryDSLError("Required one of fields [field, script], but none were specified.", type: "illegal_argument_exception")
        }
        let f = fieldRef(name)
        // As Elasticsearch with fielddata off: a text field has no per-document values.
        if f.type == .text {
            throw QueryDSLError("Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead. Alternatively, set fielddata=true on [\(name)] in order to load field data by uninverting the inverted index. Note that this can use significant memory.",
                                type: "illegal_argument_exception")
        }
        return f
    }

    func fieldRef(_ name: String) -> FieldRef {
        var paths: [String] = []
        var type: FieldType?
        for m in mappings {
            let p = m.resolvingAliases(name)
            paths.append(p)
            if type == nil, let t = m.field(at: p)?.type { type = t }
        }
        return FieldRef(paths: paths, type: type)
    }

    func column(_ f: FieldRef, _ part: DocSet.Part) -> Column? {
        part.segment.columns[f.paths[part.reader]]
    }

    /// Numeric view of a slot (dates as epoch milliseconds, booleans 0/1).
    @inline(__always)
    static func number(_ c: Column, _ slot: Int) -> Double? {
        switch c.kind {
        case .int64, .date: return Double(c.ints[slot])
        case .double: return c.doubles[slot]
        case .bool: return c.bools[slot] != 0 ? 1 : 0
        default: return nil
        }
    }

    func sub(_ s: Spec, _ docs: DocSet) throws(QueryDSLError) -> JSONObject { try run(s.subs, docs) }

    // MARK: - bucket keys

    enum Key: Hashable, Comparable {
        case int(Int64)
        case double(Double)
        case string(String)

        static func < (a: Key, b: Key) -> Bool {
            switch (a, b) {
            case (.int(let x), .int(let y)): return x < y
            case (.double(let x), .double(let y)): return x < y
            case (.string(let x), .string(let y)): return x.utf8.lexicographicallyPrecedes(y.utf8)
            case (.int(let x), .double(let y)): return Double(x) < y
            case (.double(let x), .int(let y)): return x < Double(y)
            case (.string, _): return false
            case (_, .string): return true
            }
        }
    }

    /// The keys of one slot, as `terms` groups them.
    @inline(__always)
    static func key(_ c: Column, _ slot: Int) -> Key {
        switch c.kind {
        case .string: return .string(c.dictionary!.string(Int(c.codes[slot])))
        case .int64, .date: return .int(c.ints[slot])
        case .double: return .double(c.doubles[slot])
        case .bool: return .int(c.bools[slot] != 0 ? 1 : 0)
        case .ip: return .string(IPAddress(high: c.ips[2 * slot], low: c.ips[2 * slot + 1]).description)
        case .none: return .string("")
        }
    }

    /// A bucket key as a response shows it, with `key_as_string` where Elasticsearch adds one.
    func render(_ k: Key, _ type: FieldType?, into o: inout JSONObject, format: DatePattern? = nil) {
        switch k {
        case .int(let i):
            o["key"] = .int(i)
            if type == .date || type == .dateNanos { o["key_as_string"] = .string(format?.format(i) ?? DateFormats.formatISO(i)) }
            if type == .boolean { o["key_as_string"] = .string(i != 0 ? "true" : "false") }
        case .double(let d): o["key"] = .double(d)
        case .string(let s): o["key"] = .string(s)
        }
    }

    /// Counts documents per key (a document counts once per distinct key it has) and, when
    /// asked, each key's documents. String columns count per dictionary code first.
    func group(_ docs: DocSet, keys keyOf: (DocSet.Part) -> ((Int, inout [Key]) -> Void)?) -> [Key: Int] {
        var counts: [Key: Int] = [:]
        for part in docs.parts {
            guard let fn = keyOf(part) else { continue }
            var ks: [Key] = []
            part.docs.forEach { doc in
                ks.removeAll(keepingCapacity: true)
                fn(doc, &ks)
                if ks.count == 1 {
                    counts[ks[0], default: 0] += 1
                } else {
                    for k in Set(ks) { counts[k, default: 0] += 1 }
                }
            }
        }
        return counts
    }

    /// The documents of each wanted key, per part.
    func members(_ docs: DocSet, _ wanted: [Key], keys keyOf: (DocSet.Part) -> ((Int, inout [Key]) -> Void)?) -> [DocSet] {
        var index: [Key: Int] = [:]
        for (i, k) in wanted.enumerated() { index[k] = i }
        var bits: [[Bitmap]] = wanted.map { _ in docs.parts.map { Bitmap(count: $0.segment.docCount) } }
        for (pi, part) in docs.parts.enumerated() {
            guard let fn = keyOf(part) else { continue }
            var ks: [Key] = []
            part.docs.forEach { doc in
                ks.removeAll(keepingCapacity: true)
                fn(doc, &ks)
                for k in ks { if let b = index[k] { bits[b][pi].insert(doc) } }
            }
        }
        return bits.map { docs.with($0) }
    }

    /// The per-document key function of a field's values.
    func valueKeys(_ f: FieldRef) -> (DocSet.Part) -> ((Int, inout [Key]) -> Void)? {
        { part in
            guard let c = self.column(f, part) else { return nil }
            return { doc, out in for slot in c.slots(doc) { out.append(Aggregator.key(c, slot)) } }
        }
    }

    // MARK: - terms

    /// A count parameter of an aggregation (`size`, `from`, …), checked as Elasticsearch checks it.
    static func count(_ o: JSONObject, _ key: String, default value: Int, atLeast minimum: Int, _ s: Spec) throws(QueryDSLError) -> Int {
        guard let v = o[key] else { return value }
        guard let n = v.int64Value else {
            throw QueryDSLError("[\(key)] must be an integer. Found [\(v.jsonString)] in [\(s.name)]", type: "illegal_argument_exception")
        }
        guard n >= Int64(minimum) else {
            let bound = minimum == 1 ? "greater than 0" : "greater than or equal to \(minimum)"
            throw QueryDSLError("[\(key)] must be \(bound). Found [\(n)] in [\(s.name)]", type: "illegal_argument_exception")
        }
        return Int(n)
    }

    func terms(_ s: Spec, _ docs: DocSet) throws(QueryDSLError) -> JSONObject {
        let o = s.body.objectValue ?? JSONObject()
        let f = try field(s)
        let size = try Aggregator.count(o, "size", default: 10, atLeast: 1, s)
        let minDocCount = Int(o["min_doc_count"]?.int64Value ?? 1)
        var counts = stringCodeCounts(f, docs) ?? group(docs, keys: valueKeys(f))
        let missingKey: Key? = o["missing"].map { v in
            if let i = v.int64Value, f.type?.isStringLike != true { return .int(i) }
            return .string(v.scalarText)
        }
        var missingDocs: [Bitmap]?
        if let mk = missingKey {
            let bits = docs.parts.map { part -> Bitmap in
                var b = Bitmap(count: part.segment.docCount)
                let c = column(f, part)
                part.docs.forEach { doc in if c == nil || c!.slots(doc).isEmpty { b.insert(doc) } }
                return b
            }
            let n = bits.reduce(0) { $0 + $1.cardinality }
            if n > 0 {
                counts[mk, default: 0] += n
                missingDocs = bits
            }
        }
        let include = try TermFilter(o["include"], o["exclude"])
        var entries = counts.filter { $0.value >= minDocCount && include.keeps($0.key) }.map { (key: $0.key, count: $0.value) }
        let order = try BucketOrder(o["order"], default: .count(descending: true), spec: s)
        var subResults: [Key: JSONObject] = [:]
        if order.needsSubAggregations {
            if missingDocs == nil, let fused = try fusedSubs(s, f, docs, entries.map(\.key)) {
                for (e, r) in zip(entries, fused) { subResults[e.key] = r }
            } else {
                let all = members(docs, entries.map(\.key), keys: valueKeys(f))
                for (i, e) in entries.enumerated() { subResults[e.key] = try sub(s, all[i]) }
            }
        }
        entries.sort { order.less(($0.key, $0.count, subResults[$0.key]), ($1.key, $1.count, subResults[$1.key])) }
        let picked = Array(entries.prefix(size))
        let other = entries.dropFirst(size).reduce(0) { $0 + $1.count }
        var sets: [DocSet] = []
        if !s.subs.isEmpty && subResults.isEmpty && missingDocs == nil, let fused = try fusedSubs(s, f, docs, picked.map(\.key)) {
            for (k, r) in zip(picked, fused) { subResults[k.key] = r }
        }
        if !s.subs.isEmpty && subResults.isEmpty {
            sets = stringMembers(f, docs, picked.map(\.key)) ?? members(docs, picked.map(\.key), keys: valueKeys(f))
            if let mk = missingKey, let md = missingDocs, let i = picked.firstIndex(where: { $0.key == mk }) {
                var merged = sets[i].parts.map(\.docs)
                for j in merged.indices { merged[j].formUnion(md[j]) }
                sets[i] = docs.with(merged)
            }
        }
        var buckets: [JSONValue] = []
        for (i, e) in picked.enumerated() {
            var b = JSONObject()
            render(e.key, f.type, into: &b)
            b["doc_count"] = .int(Int64(e.count))
            var subs = JSONObject()
            if let r = subResults[e.key] { subs = r } else if !sets.isEmpty { subs = try sub(s, sets[i]) }
            for x in subs.entries { b[x.key] = x.value }
            buckets.append(.object(b))
        }
        return ["doc_count_error_upper_bound": 0, "sum_other_doc_count": .int(Int64(other)), "buckets": .array(buckets)]
    }

    /// The documents of each wanted key of a string field: per segment, each dictionary code
    /// mapped to its bucket once, then one pass over the codes. Nil for other column kinds.
    func stringMembers(_ f: FieldRef, _ docs: DocSet, _ wanted: [Key]) -> [DocSet]? {
        var index: [String: Int] = [:]
        for (i, k) in wanted.enumerated() {
            guard case .string(let s) = k else { return nil }
            index[s] = i
        }
        var bits: [[Bitmap]] = wanted.map { _ in docs.parts.map { Bitmap(count: $0.segment.docCount) } }
        for (pi, part) in docs.parts.enumerated() {
            guard let c = column(f, part) else { continue }
            guard c.kind == .string, let dict = c.dictionary else { return nil }
            var bucketOf = [Int32](repeating: -1, count: dict.count)
            for code in 0..<dict.count { if let b = index[dict.string(code)] { bucketOf[code] = Int32(b) } }
            part.docs.forEach { doc in
                for slot in c.slots(doc) {
                    let b = Int(bucketOf[Int(c.codes[slot])])
                    if b >= 0 { bits[b][pi].insert(doc) }
                }
            }
        }
        return bits.map { docs.with($0) }
    }

    /// Fast counting for a string field: per segment, a count per dictionary code.
    func stringCodeCounts(_ f: FieldRef, _ docs: DocSet) -> [Key: Int]? {
        var counts: [Key: Int] = [:]
        for part in docs.parts {
            guard let c = column(f, part) else { continue }
            guard c.kind == .string, let dict = c.dictionary else { return nil }
            var perCode = [Int](repeating: 0, count: dict.count)
            if c.docOffsets != nil {
                var seen = [Int32](repeating: -1, count: dict.count)
                part.docs.forEach { doc in
                    for slot in c.slots(doc) {
                        let code = Int(c.codes[slot])
                        if seen[code] != Int32(truncatingIfNeeded: doc) {
                            seen[code] = Int32(truncatingIfNeeded: doc)
                            perCode[code] += 1
                        }
                    }
                }
            } else if c.ranks == nil {
                let codes = c.codes
                let present = c.present
                perCode.withUnsafeMutableBufferPointer { pc in
                    for (w, word) in part.docs.words.enumerated() {
                        var bits = word & present[w]
                        while bits != 0 {
                            let doc = w << 6 | bits.trailingZeroBitCount
                            pc[Int(codes[doc])] += 1
                            bits &= bits &- 1
                        }
                    }
                }
            } else {
                part.docs.forEach { doc in
                    let slots = c.slots(doc)
                    if !slots.isEmpty { perCode[Int(c.codes[slots.lowerBound])] += 1 }
                }
            }
            for (code, n) in perCode.enumerated() where n > 0 { counts[.string(dict.string(code)), default: 0] += n }
        }
        return counts
    }

    // MARK: - multi_terms

    func multiTerms(_ s: Spec, _ docs: DocSet) throws(QueryDSLError) -> JSONObject {
        let o = s.body.objectValue ?? JSONObject()
        guard let list = o["terms"]?.arrayValue, list.count >= 2 else {
            throw QueryDSLError("The [terms] parameter in the aggregation [\(s.name)] must be present and have at least 2 fields or scripts.", type: "illegal_argument_exception")
        }
        let fields = list.compactMap { $0.objectValue?["field"]?.stringValue }.map(fieldRef)
        let size = try Aggregator.count(o, "size", default: 10, atLeast: 1, s)
        let minDocCount = Int(o["min_doc_count"]?.int64Value ?? 1)
        // A composite key: each field's value (first value of multi-valued fields, all combinations otherwise).
        let keyOf: (DocSet.Part) -> ((Int, inout [Key]) -> Void)? = { part in
            let cols = fields.map { self.column($0, part) }
            if cols.contains(where: { $0 == nil }) { return nil }
            return { doc, out in
                var combos: [[Key]] = [[]]
                for c in cols {
                    let vals = c!.slots(doc).map { Aggregator.key(c!, $0) }
                    if vals.isEmpty { return }
                    combos = combos.flatMap { prefix in vals.map { prefix + [$0] } }
                }
                for combo in combos { out.append(.string(Aggregator.joinKey(combo))) }
            }
        }
        let counts = group(docs, keys: keyOf)
        var entries = counts.filter { $0.value >= minDocCount }.map { (key: $0.key, count: $0.value) }
        let order = try BucketOrder(o["order"], default: .count(descending: true), spec: s)
        entries.sort { order.less(($0.key, $0.count, nil), ($1.key, $1.count, nil)) }
        let picked = Array(entries.prefix(size))
        let sets = s.subs.isEmpty ? [] : members(docs, picked.map(\.key), keys: keyOf)
        var buckets: [JSONValue] = []
        for (i, e) in picked.enumerated() {
            guard case .string(let joined) = e.key else { continue }
            let parts = Aggregator.splitKey(joined)
            var b = JSONObject()
            var keys: [JSONValue] = []
            var strings: [String] = []
            for (k, p) in parts.enumerated() {
                var tmp = JSONObject()
                render(p, fields[k].type, into: &tmp)
                keys.append(tmp["key"] ?? .null)
                strings.append(tmp["key_as_string"]?.stringValue ?? tmp["key"].map { $0.stringValue ?? $0.scalarText } ?? "")
            }
            b["key"] = .array(keys)
            b["key_as_string"] = .string(strings.joined(separator: "|"))
            b["doc_count"] = .int(Int64(e.count))
            if !sets.isEmpty { for x in try sub(s, sets[i]).entries { b[x.key] = x.value } }
            buckets.append(.object(b))
        }
        return ["doc_count_error_upper_bound": 0, "sum_other_doc_count": .int(Int64(entries.dropFirst(size).reduce(0) { $0 + $1.count })), "buckets": .array(buckets)]
    }

    /// Several keys as one (for grouping): a type tag and the value, separated by NUL.
    static func joinKey(_ keys: [Key]) -> String {
        keys.map { k -> String in
            switch k {
            case .int(let i): return "i" + String(i)
            case .double(let d): return "d" + String(d)
            case .string(let s): return "s" + s
            }
        }.joined(separator: "\u{0}")
    }

    static func splitKey(_ s: String) -> [Key] {
        s.split(separator: "\u{0}", omittingEmptySubsequences: false).map { p in
            let v = String(p.dropFirst())
            switch p.first {
            case "i": return .int(Int64(v) ?? 0)
            case "d": return .double(Double(v) ?? 0)
            default: return .string(v)
            }
        }
    }

    // MARK: - filter, filters, missing

    func query(_ q: JSONValue, _ docs: DocSet) throws(QueryDSLError) -> DocSet {
        var compiled: [Int: Expr] = [:]
        var bits: [Bitmap] = []
        for part in docs.parts {
            let expr: Expr
            if let e = compiled[part.reader] {
                expr = e
            } else {
                expr = try QueryDSL(mapping: mappings[part.reader], now: now).translate(q)
                compiled[part.reader] = expr
            }
            var b = SegmentFilter(segment: part.segment).matching(expr)
            b.formIntersection(part.docs)
            bits.append(b)
        }
        return docs.with(bits)
    }

    func bucket(_ s: Spec, _ docs: DocSet) throws(QueryDSLError) -> JSONObject {
        var b: JSONObject = ["doc_count": .int(Int64(docs.count))]
        for x in try sub(s, docs).entries { b[x.key] = x.value }
        return b
    }

    func filter(_ s: Spec, _ docs: DocSet) throws(QueryDSLError) -> JSONObject {
        try bucket(s, try query(s.body, docs))
    }

    func filters(_ s: Spec, _ docs: DocSet) throws(QueryDSLError) -> JSONObject {
        guard let o = s.body.objectValue, let defs = o["filters"] else { throw QueryDSLError("[filters] cannot be empty.", type: "illegal_argument_exception") }
        var matchedAny = docs.parts.map { Bitmap(count: $0.segment.docCount) }
        func record(_ d: DocSet) {
            for (i, p) in d.parts.enumerated() { matchedAny[i].formUnion(p.docs) }
        }
        let otherKey = o["other_bucket_key"]?.stringValue ?? (o["other_bucket"]?.boolValue == true ? "_other_" : nil)
        switch defs {
        case .object(let named):
            var out = JSONObject()
            for e in named.entries {
                let d = try query(e.value, docs)
                record(d)
                out[e.key] = .object(try bucket(s, d))
            }
            if let otherKey { out[otherKey] = .object(try bucket(s, other(docs, matchedAny))) }
            return ["buckets": .object(out)]
        case .array(let list):
            var out: [JSONValue] = []
            for q in list {
                let d = try query(q, docs)
                record(d)
                out.append(.object(try bucket(s, d)))
            }
            if otherKey != nil { out.append(.object(try bucket(s, other(docs, matchedAny)))) }
            return ["buckets": .array(out)]
        default:
            throw QueryDSLError("[filters] must be an object or an array")
        }
    }

    private func other(_ docs: DocSet, _ matched: [Bitmap]) -> DocSet {
        docs.with(zip(docs.parts, matched).map { p, m in
            var b = p.docs
            b.subtract(m)
            return b
        })
    }

    func missing(_ s: Spec, _ docs: DocSet) throws(QueryDSLError) -> JSONObject {
        let f = try field(s)
        let bits = docs.parts.map { part -> Bitmap in
            var b = Bitmap(count: part.segment.docCount)
            let c = column(f, part)
            part.docs.forEach { doc in if c == nil || c!.slots(doc).isEmpty { b.insert(doc) } }
            return b
        }
        return try bucket(s, docs.with(bits))
    }
}

/// `include`/`exclude` of a `terms` aggregation: a regex, or lists of exact values.
struct TermFilter {
    var includeRegex: String?
    var excludeRegex: String?
    var includeSet: Set<String>?
    var excludeSet: Set<String> = []

    init(_ include: JSONValue?, _ exclude: JSONValue?) throws(QueryDSLError) {
        switch include {
        case .string(let r)?: includeRegex = r
        case .array(let a)?: includeSet = Set(a.map { $0.stringValue ?? $0.scalarText })
        case .object?: throw QueryDSLError("[terms] partitioned include is not supported yet by Vigil")
        default: break
        }
        switch exclude {
        case .string(let r)?: excludeRegex = r
        case .array(let a)?: excludeSet = Set(a.map { $0.stringValue ?? $0.scalarText })
        default: break
        }
        for r in [includeRegex, excludeRegex].compactMap({ $0 }) {
            if let problem = Pattern.regexProblem(r) { throw QueryDSLError(problem.message, type: problem.type) }
        }
    }

    func keeps(_ k: Aggregator.Key) -> Bool {
        if includeRegex == nil && excludeRegex == nil && includeSet == nil && excludeSet.isEmpty { return true }
        let text: String
        switch k {
        case .string(let s): text = s
        case .int(let i): text = String(i)
        case .double(let d): text = QueryValue.format(d)
        }
        if let s = includeSet, !s.contains(text) { return false }
        if excludeSet.contains(text) { return false }
        if let r = includeRegex, !PatternMatcher.matches(Pattern(.regex(r), insensitive: false), text) { return false }
        if let r = excludeRegex, PatternMatcher.matches(Pattern(.regex(r), insensitive: false), text) { return false }
        return true
    }
}

/// The `order` of a bucket aggregation: by count, by key, or by a sub-aggregation's value.
struct BucketOrder {
    enum Criterion {
        case count(descending: Bool)
        case key(descending: Bool)
        case metric(path: [String], descending: Bool)
    }

    var criteria: [Criterion]

    init(_ json: JSONValue?, default def: Criterion, spec: Aggregator.Spec) throws(QueryDSLError) {
        criteria = []
        let items = json.map { $0.arrayValue ?? [$0] } ?? []
        if items.isEmpty { criteria.append(def) }
        for item in items {
            guard case .object(let o) = item else { throw QueryDSLError("[order] must be an object") }
            for e in o.entries {
                guard let dir = e.value.stringValue?.lowercased(), dir == "asc" || dir == "desc" else {
                    throw QueryDSLError("Unknown order direction [\(e.value.scalarText)]")
                }
                let desc = dir == "desc"
                switch e.key {
                case "_count": criteria.append(.count(descending: desc))
                case "_key", "_term": criteria.append(.key(descending: desc))
                default:
                    let path = e.key.split(separator: ".").map(String.init)
                    guard let first = path.first, spec.subs.contains(where: { $0.name == first }) else {
                        throw QueryDSLError("Invalid aggregator order path [\(e.key)]. The provided aggregation [\(path.first ?? e.key)] either does not exist, or is a pipeline aggregation and cannot be used to sort the buckets.", type: "aggregation_execution_exception")
                    }
                    criteria.append(.metric(path: path, descending: desc))
                }
            }
        }
        // Ties break by key, ascending.
        criteria.append(.key(descending: false))
    }

    var needsSubAggregations: Bool { criteria.contains { if case .metric = $0 { true } else { false } } }

    func less(_ a: (Aggregator.Key, Int, JSONObject?), _ b: (Aggregator.Key, Int, JSONObject?)) -> Bool {
        for c in criteria {
            switch c {
            case .count(let desc):
                if a.1 != b.1 { return desc ? a.1 > b.1 : a.1 < b.1 }
            case .key(let desc):
                if a.0 != b.0 { return desc ? b.0 < a.0 : a.0 < b.0 }
            case .metric(let path, let desc):
                let x = BucketOrder.value(a.2, path), y = BucketOrder.value(b.2, path)
                if x != y { return desc ? x > y : x < y }
            }
        }
        return false
    }

    static func value(_ o: JSONObject?, _ path: [String]) -> Double {
        guard let o, let first = path.first, let v = o[first] else { return -Double.infinity }
        let metric = path.count > 1 ? path[1] : "value"
        if case .object(let m) = v {
            if let x = m[metric]?.doubleValue { return x }
            if metric == "value", let x = m["doc_count"]?.doubleValue { return x }
            if case .object(let vals)? = m["values"], let x = vals[metric]?.doubleValue { return x }
        }
        return -Double.infinity
    }
}
