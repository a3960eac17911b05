import VigilJSON
import VigilStore

/// The running state of `min`, `max`, `sum`, `avg`, `stats` and `extended_stats`.
struct NumericStats {
    var count = 0
    var sum = 0.0
    var sumSquares = 0.0
    var lo = Double.infinity
    var hi = -Double.infinity

    @inline(__always)
    mutating func add(_ v: Double) {
        count += 1
        sum += v
        sumSquares += v * v
        if v < lo { lo = v }
        if v > hi { hi = v }
    }

    /// The response of a metric of `type` (dates also as strings).
    func render(_ type: String, isDate: Bool) -> JSONObject {
        func num(_ v: Double?) -> JSONValue { v.map { .double($0) } ?? .null }
        func date(_ v: Double) -> JSONValue { .string(DateFormats.formatISO(Int64(v))) }
        let minV = count > 0 ? lo : nil, maxV = count > 0 ? hi : nil, avgV = count > 0 ? sum / Double(count) : nil
        switch type {
        case "min", "max", "sum", "avg":
            let v: Double? = type == "min" ? minV : type == "max" ? maxV : type == "sum" ? sum : avgV
            var out: JSONObject = ["value": num(v)]
            if isDate, let v, type != "sum" { out["value_as_string"] = date(v) }
            return out
        default:
            var out: JSONObject = ["count": .int(Int64(count)), "min": num(minV), "max": num(maxV), "avg": num(avgV), "sum": .double(sum)]
            if type == "extended_stats" {
                let variance = count > 0 ? max(0, sumSquares / Double(count) - (sum / Double(count)) * (sum / Double(count))) : nil
                out["sum_of_squares"] = count > 0 ? .double(sumSquares) : .null
                out["variance"] = num(variance)
                out["std_deviation"] = num(variance.map { $0.squareRoot() })
            }
            if isDate && count > 0 {
                out["min_as_string"] = date(lo)
                out["max_as_string"] = date(hi)
                out["avg_as_string"] = date(sum / Double(count))
                out["sum_as_string"] = date(sum)
            }
            return out
        }
    }
}

/// The distinct values `cardinality` counts: strings (and IPs) as text, numbers by their bits.
struct DistinctValues {
    var strings = Set<String>()
    var numbers = Set<UInt64>()

    var count: Int { strings.count + numbers.count }

    /// A value of a column that is not a dictionary of strings.
    @inline(__always)
    mutating func add(_ c: Column, _ slot: Int) {
        switch c.kind {
        case .int64, .date: numbers.insert(UInt64(bitPattern: c.ints[slot]))
        case .double: numbers.insert(c.doubles[slot].bitPattern)
        case .bool: numbers.insert(UInt64(c.bools[slot]))
        case .ip: strings.insert(IPAddress(high: c.ips[2 * slot], low: c.ips[2 * slot + 1]).description)
        case .string: strings.insert(c.dictionary!.string(Int(c.codes[slot])))
        case .none: break
        }
    }
}

extension Aggregator {
    static let fusableMetrics: Set<String> = ["value_count", "cardinality", "min", "max", "sum", "avg", "stats", "extended_stats"]

    /// The metric sub-aggregations of a `terms` over a single-valued string field, for each
    /// picked key, each computed in one pass over the documents (a document's bucket comes
    /// from its dictionary code), instead of gathering every bucket's documents and scanning
    /// them again per bucket. Nil when a sub-aggregation or the field does not allow it.
    func fusedSubs(_ s: Spec, _ f: FieldRef, _ docs: DocSet, _ keys: [Key]) throws(QueryDSLError) -> [JSONObject]? {
        guard !s.subs.isEmpty, s.subs.allSatisfy({ Aggregator.fusableMetrics.contains($0.type) }) else { return nil }
        var index: [String: Int32] = [:]
        for (i, k) in keys.enumerated() {
            guard case .string(let x) = k else { return nil }
            index[x] = Int32(i)
        }
        // Per part, the bucket of every document in the set (-1: none).
        var bucketOfDoc: [[Int32]] = []
        for part in docs.parts {
            guard let c = column(f, part) else {
                bucketOfDoc.append([])
                continue
            }
            guard c.kind == .string, c.docOffsets == nil, let dict = c.dictionary else { return nil }
            var bucketOf = [Int32](repeating: -1, count: dict.count)
            for code in 0..<dict.count { if let b = index[dict.string(code)] { bucketOf[code] = b } }
            var out = [Int32](repeating: -1, count: part.segment.docCount)
            let codes = c.codes
            if c.ranks == nil {
                let present = c.present
                out.withUnsafeMutableBufferPointer { o in
                    for (w, word) in part.docs.words.enumerated() {
                        var bits = word & present[w]
                        while bits != 0 {
                            let doc = w << 6 | bits.trailingZeroBitCount
                            o[doc] = bucketOf[Int(codes[doc])]
                            bits &= bits &- 1
                        }
                    }
                }
            } else {
                part.docs.forEach { doc in
                    let slots = c.slots(doc)
                    if !slots.isEmpty { out[doc] = bucketOf[Int(codes[slots.lowerBound])] }
                }
            }
            bucketOfDoc.append(out)
        }
        var results = [JSONObject](repeating: JSONObject(), count: keys.count)
        for sub in s.subs {
            let mf = try field(sub)
            let rendered: [JSONObject]
            switch sub.type {
            case "cardinality":
                rendered = fusedDistinct(mf, docs, bucketOfDoc, keys.count).map { ["value": .int(Int64($0))] }
            case "value_count":
                var counts = [Int](repeating: 0, count: keys.count)
                forEachBucketedSlot(mf, docs, bucketOfDoc) { b, _, _ in counts[b] += 1 }
                rendered = counts.map { ["value": .int(Int64($0))] }
            default:
                var stats = [NumericStats](repeating: NumericStats(), count: keys.count)
                forEachBucketedSlot(mf, docs, bucketOfDoc) { b, c, slot in
                    if let v = Aggregator.number(c, slot) { stats[b].add(v) }
                }
                let isDate = mf.type == .date || mf.type == .dateNanos
                rendered = stats.map { $0.render(sub.type, isDate: isDate) }
            }
            for i in results.indices {
                var r = rendered[i]
                if let meta = sub.meta { r["meta"] = meta }
                results[i][sub.name] = .object(r)
            }
        }
        return results
    }

    /// Calls `body(bucket, column, slot)` for every value of `f` in a document of the set
    /// that has a bucket.
    @inline(__always)
    private func forEachBucketedSlot(_ f: FieldRef, _ docs: DocSet, _ bucketOfDoc: [[Int32]], _ body: (Int, Column, Int) -> Void) {
        for (pi, part) in docs.parts.enumerated() where !bucketOfDoc[pi].isEmpty {
            guard let c = column(f, part) else { continue }
            let buckets = bucketOfDoc[pi]
            if c.docOffsets == nil && c.ranks == nil {
                let present = c.present
                for (w, word) in part.docs.words.enumerated() {
                    var bits = word & present[w]
                    while bits != 0 {
                        let doc = w << 6 | bits.trailingZeroBitCount
                        let b = buckets[doc]
                        if b >= 0 { body(Int(b), c, doc) }
                        bits &= bits &- 1
                    }
                }
            } else {
                part.docs.forEach { doc in
                    let b = buckets[doc]
                    guard b >= 0 else { return }
                    for slot in c.slots(doc) { body(Int(b), c, slot) }
                }
            }
        }
    }

    /// Distinct values of `f` per bucket. For a string field each part marks (bucket, code)
    /// pairs, and only the pairs seen become strings.
    private func fusedDistinct(_ f: FieldRef, _ docs: DocSet, _ bucketOfDoc: [[Int32]], _ bucketCount: Int) -> [Int] {
        var distinct = [DistinctValues](repeating: DistinctValues(), count: bucketCount)
        for (pi, part) in docs.parts.enumerated() where !bucketOfDoc[pi].isEmpty {
            guard let c = column(f, part) else { continue }
            let single = DocSet(parts: [part])
            guard c.kind == .string, let dict = c.dictionary, bucketCount * dict.count <= 1 << 26 else {
                forEachBucketedSlot(f, single, [bucketOfDoc[pi]]) { b, c, slot in distinct[b].add(c, slot) }
                continue
            }
            let width = dict.count
            var seen = [UInt64](repeating: 0, count: (bucketCount * width + 63) / 64)
            let codes = c.codes
            seen.withUnsafeMutableBufferPointer { s in
                forEachBucketedSlot(f, single, [bucketOfDoc[pi]]) { b, _, slot in
                    let bit = b * width + Int(codes[slot])
                    s[bit >> 6] |= 1 << UInt64(bit & 63)
                }
            }
            for (w, word) in seen.enumerated() {
                var bits = word
                while bits != 0 {
                    let bit = w << 6 | bits.trailingZeroBitCount
                    distinct[bit / width].strings.insert(dict.string(bit % width))
                    bits &= bits &- 1
                }
            }
        }
        return distinct.map(\.count)
    }
}
