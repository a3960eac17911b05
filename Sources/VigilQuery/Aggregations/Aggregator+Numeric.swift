import VigilJSON
import VigilStore

extension Aggregator {
    // MARK: - metrics

    func metric(_ s: Spec, _ docs: DocSet) throws(QueryDSLError) -> JSONObject {
        let f = try field(s)
        let o = s.body.objectValue ?? JSONObject()
        let isDate = f.type == .date || f.type == .dateNanos
        func dateString(_ v: Double) -> JSONValue { .string(DateFormats.formatISO(Int64(v))) }
        switch s.type {
        case "value_count":
            var n = 0
            for part in docs.parts {
                guard let c = column(f, part) else { continue }
                if c.docOffsets == nil && c.ranks == nil {
                    for (w, word) in part.docs.words.enumerated() { n += (word & c.present[w]).nonzeroBitCount }
                } else {
                    part.docs.forEach { n += c.slots($0).count }
                }
            }
            return ["value": .int(Int64(n))]
        case "cardinality":
            return ["value": .int(Int64(cardinality(f, docs)))]
        case "percentiles":
            var values = numbers(f, docs)
            values.sort()
            let percents = o["percents"]?.arrayValue?.compactMap(\.doubleValue) ?? [1, 5, 25, 50, 75, 95, 99]
            if let bad = percents.first(where: { !($0 >= 0 && $0 <= 100) }) {
                throw QueryDSLError("percent must be in [0,100], got [\(bad)]: [\(s.name)]", type: "illegal_argument_exception")
            }
            if percents.count > Aggregator.maxBuckets { throw Aggregator.tooManyBuckets(percents.count) }
            let keyed = o["keyed"]?.boolValue ?? true
            var out = JSONObject()
            var list: [JSONValue] = []
            for p in percents {
                let v = Aggregator.percentile(values, p)
                let key = QueryValue.format(p)
                if keyed {
                    out[key] = v.map { .double($0) } ?? .null
                    if isDate, let v { out[key + "_as_string"] = dateString(v) }
                } else {
                    var item: JSONObject = ["key": .double(p), "value": v.map { .double($0) } ?? .null]
                    if isDate, let v { item["value_as_string"] = dateString(v) }
                    list.append(.object(item))
                }
            }
            return ["values": keyed ? .object(out) : .array(list)]
        default:
            var stats = NumericStats()
            forEachNumber(f, docs) { stats.add($0) }
            return stats.render(s.type, isDate: isDate)
        }
    }

    /// Every numeric value of the field in the documents (dates as epoch milliseconds).
    func forEachNumber(_ f: FieldRef, _ docs: DocSet, _ body: (Double) -> Void) {
        for part in docs.parts {
            guard let c = column(f, part), c.kind != .string, c.kind != .ip, c.kind != .none else { continue }
            if c.docOffsets == nil && c.ranks == nil && (c.kind == .int64 || c.kind == .date) {
                let ints = c.ints, present = c.present
                for (w, word) in part.docs.words.enumerated() {
                    var bits = word & present[w]
                    while bits != 0 {
                        body(Double(ints[w << 6 | bits.trailingZeroBitCount]))
                        bits &= bits &- 1
                    }
                }
                continue
            }
            part.docs.forEach { doc in
                for slot in c.slots(doc) { if let v = Aggregator.number(c, slot) { body(v) } }
            }
        }
    }

    func numbers(_ f: FieldRef, _ docs: DocSet) -> [Double] {
        var out: [Double] = []
        forEachNumber(f, docs) { out.append($0) }
        return out
    }

    /// Distinct values (exact; Elasticsearch's HyperLogLog++ is exact to its precision
    /// threshold, 3000 by default, and within a few percent above).
    func cardinality(_ f: FieldRef, _ docs: DocSet) -> Int {
        var distinct = DistinctValues()
        for part in docs.parts {
            guard let c = column(f, part) else { continue }
            if c.kind == .string, let dict = c.dictionary {
                var seen = [Bool](repeating: false, count: dict.count)
                let codes = c.codes
                if c.docOffsets == nil && c.ranks == nil {
                    let present = c.present
                    seen.withUnsafeMutableBufferPointer { s in
                        for (w, word) in part.docs.words.enumerated() {
                            var bits = word & present[w]
                            while bits != 0 {
                                s[Int(codes[w << 6 | bits.trailingZeroBitCount])] = true
                                bits &= bits &- 1
                            }
                        }
                    }
                } else {
                    part.docs.forEach { doc in for slot in c.slots(doc) { seen[Int(codes[slot])] = true } }
                }
                for (code, hit) in seen.enumerated() where hit { distinct.strings.insert(dict.string(code)) }
            } else {
                part.docs.forEach { doc in for slot in c.slots(doc) { distinct.add(c, slot) } }
            }
        }
        return distinct.count
    }

    /// A percentile of sorted values as a t-digest of single points gives it: each value
    /// centred on its rank, linear between neighbours.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        if sorted.count == 1 { return sorted[0] }
        let pos = p / 100 * Double(sorted.count) - 0.5
        if pos <= 0 { return sorted[0] }
        if pos >= Double(sorted.count - 1) { return sorted[sorted.count - 1] }
        let i = Int(pos)
        let frac = pos - Double(i)
        return sorted[i] + (sorted[i + 1] - sorted[i]) * frac
    }

    // MARK: - histograms

    /// Buckets by a rounding of numeric values; with `min_doc_count` 0 (the default) the
    /// empty buckets between the first and last (or `extended_bounds`) are filled in.
    func histogramBuckets(_ s: Spec, _ docs: DocSet, _ f: FieldRef, round: @escaping (Int64) -> Int64?, next: (Int64) -> Int64,
                          bounds: (Int64, Int64)?, render: (Int64, inout JSONObject) -> Void) throws(QueryDSLError) -> JSONObject {
        let o = s.body.objectValue ?? JSONObject()
        let minDocCount = Int(o["min_doc_count"]?.int64Value ?? 0)
        let keyOf: (DocSet.Part) -> ((Int, inout [Key]) -> Void)? = { part in
            guard let c = self.column(f, part), c.kind == .int64 || c.kind == .date || c.kind == .double else { return nil }
            return { doc, out in
                for slot in c.slots(doc) {
                    let v = c.kind == .double ? Int64(exactly: c.doubles[slot].rounded(.down)) : c.ints[slot]
                    if let v, let k = round(v) { out.append(.int(k)) }
                }
            }
        }
        let counts = group(docs, keys: keyOf)
        if counts.count > Aggregator.maxBuckets { throw Aggregator.tooManyBuckets(counts.count) }
        var keys = counts.keys.compactMap { if case .int(let i) = $0 { i } else { nil } }.sorted()
        if minDocCount == 0, var k = keys.first.map({ min($0, bounds.flatMap { round($0.0) } ?? $0) }) {
            let last = max(keys.last!, bounds.flatMap { round($0.1) } ?? keys.last!)
            var all: [Int64] = []
            var guardCount = 0
            while k <= last && guardCount < 100_000 {
                all.append(k)
                let after = next(k)
                guard after > k else { break }
                k = after
                guardCount += 1
            }
            if guardCount >= 100_000 { throw Aggregator.tooManyBuckets(guardCount) }
            keys = all
        } else if minDocCount == 0, let b = bounds, let lo = round(b.0), let hi = round(b.1) {
            var k = lo
            var all: [Int64] = []
            while k <= hi && all.count < 100_000 {
                all.append(k)
                k = next(k)
            }
            keys = all
        }
        keys = keys.filter { (counts[.int($0)] ?? 0) >= minDocCount }
        if o["order"] != nil {
            let order = try BucketOrder(o["order"], default: .key(descending: false), spec: s)
            keys.sort { order.less((.int($0), counts[.int($0)] ?? 0, nil), (.int($1), counts[.int($1)] ?? 0, nil)) }
        }
        let sets = s.subs.isEmpty ? [] : members(docs, keys.map { .int($0) }, keys: keyOf)
        var buckets: [JSONValue] = []
        for (i, k) in keys.enumerated() {
            var b = JSONObject()
            render(k, &b)
            b["doc_count"] = .int(Int64(counts[.int(k)] ?? 0))
            if !sets.isEmpty { for x in try sub(s, sets[i]).entries { b[x.key] = x.value } }
            buckets.append(.object(b))
        }
        return ["buckets": .array(buckets)]
    }

    func histogram(_ s: Spec, _ docs: DocSet) throws(QueryDSLError) -> JSONObject {
        let o = s.body.objectValue ?? JSONObject()
        let f = try field(s)
        guard let interval = o["interval"]?.doubleValue, interval > 0 else {
            throw QueryDSLError("[interval] must be >0 for histogram aggregation [\(s.name)]", type: "illegal_argument_exception")
        }
        let offset = o["offset"]?.doubleValue ?? 0
        // Keys are kept as the bit patterns of their double values.
        var values: [Double: Int] = [:]
        var bucketDocs: [Double: [Bitmap]] = [:]
        for (pi, part) in docs.parts.enumerated() {
            guard let c = column(f, part) else { continue }
            part.docs.forEach { doc in
                var seen = Set<Double>()
                for slot in c.slots(doc) {
                    guard let v = Aggregator.number(c, slot) else { continue }
                    let k = ((v - offset) / interval).rounded(.down) * interval + offset
                    if seen.insert(k).inserted {
                        values[k, default: 0] += 1
                        if values.count > Aggregator.maxBuckets { return }
                        if !s.subs.isEmpty {
                            if bucketDocs[k] == nil { bucketDocs[k] = docs.parts.map { Bitmap(count: $0.segment.docCount) } }
                            bucketDocs[k]![pi].insert(doc)
                        }
                    }
                }
            }
        }
        if values.count > Aggregator.maxBuckets { throw Aggregator.tooManyBuckets(values.count) }
        let minDocCount = Int(o["min_doc_count"]?.int64Value ?? 0)
        var keys = values.keys.sorted()
        let eb = o["extended_bounds"]?.objectValue
        if minDocCount == 0 {
            var lo = keys.first, hi = keys.last
            if let m = eb?["min"]?.doubleValue { lo = min(lo ?? m, ((m - offset) / interval).rounded(.down) * interval + offset) }
            if let m = eb?["max"]?.doubleValue { hi = max(hi ?? m, ((m - offset) / interval).rounded(.down) * interval + offset) }
            if let lo, let hi {
                let wanted = (hi - lo) / interval
                guard wanted < Double(Aggregator.maxBuckets) else { throw Aggregator.tooManyBuckets(wanted < 1e18 ? Int(wanted) : Int.max) }
                keys = []
                var i = 0.0
                while lo + i * interval <= hi + interval * 1e-9 {
                    keys.append(((lo + i * interval - offset) / interval).rounded() * interval + offset)
                    i += 1
                }
            }
        }
        keys = keys.filter { (values[$0] ?? 0) >= minDocCount }
        if o["order"] != nil {
            let order = try BucketOrder(o["order"], default: .key(descending: false), spec: s)
            keys.sort { order.less((.double($0), values[$0] ?? 0, nil), (.double($1), values[$1] ?? 0, nil)) }
        }
        var buckets: [JSONValue] = []
        for k in keys {
            var b: JSONObject = ["key": .double(k), "doc_count": .int(Int64(values[k] ?? 0))]
            if !s.subs.isEmpty {
                let d = bucketDocs[k].map { docs.with($0) } ?? docs.with(docs.parts.map { Bitmap(count: $0.segment.docCount) })
                for x in try sub(s, d).entries { b[x.key] = x.value }
            }
            buckets.append(.object(b))
        }
        return ["buckets": .array(buckets)]
    }

    func dateHistogram(_ s: Spec, _ docs: DocSet) throws(QueryDSLError) -> JSONObject {
        let o = s.body.objectValue ?? JSONObject()
        let f = try field(s)
        let zoneName = o["time_zone"]?.stringValue
        let zone = try QueryDSL.zoneOffset(zoneName)
        let offset = try o["offset"]?.stringValue.map { (t) throws(QueryDSLError) in try Aggregator.signedDuration(t) } ?? o["offset"]?.int64Value ?? 0
        guard offset.magnitude < UInt64(DateRounding.limit) else {
            throw QueryDSLError("[offset] of [\(s.name)] is out of range", type: "illegal_argument_exception")
        }
        let rounding: DateRounding
        if let cal = o["calendar_interval"]?.stringValue {
            guard let unit = DateRounding.calendarUnit(cal) else {
                throw QueryDSLError("The supplied interval [\(cal)] could not be parsed as a calendar interval.", type: "illegal_argument_exception")
            }
            rounding = DateRounding(unit: unit, fixed: 0, zone: zone, offset: offset)
        } else if let fixed = o["fixed_interval"]?.stringValue ?? o["interval"]?.stringValue {
            if o["fixed_interval"] == nil, let unit = DateRounding.calendarUnit(fixed) {
                rounding = DateRounding(unit: unit, fixed: 0, zone: zone, offset: offset)
            } else {
                guard let ms = Aggregator.duration(fixed), ms > 0 else {
                    throw QueryDSLError("failed to parse setting [date_histogram.fixedInterval] with value [\(fixed)] as a time value: unit is missing or unrecognized", type: "illegal_argument_exception")
                }
                rounding = DateRounding(unit: nil, fixed: ms, zone: zone, offset: offset)
            }
        } else {
            throw QueryDSLError("Invalid interval specified, must be non-null and non-empty", type: "illegal_argument_exception")
        }
        var format: DatePattern?
        if let p = o["format"]?.stringValue {
            do { format = try DatePattern(p) } catch { throw QueryDSLError(error.message, type: "illegal_argument_exception") }
        }
        var bounds: (Int64, Int64)?
        if let eb = o["extended_bounds"]?.objectValue, let lo = eb["min"], let hi = eb["max"] {
            func ms(_ v: JSONValue) -> Int64? {
                if let i = v.int64Value { return i }
                guard let t = v.stringValue else { return nil }
                return DateMath.isMath(t) ? DateMath.evaluate(t, now: now, roundUp: false) : DateFormats.parse(t)
            }
            if let a = ms(lo), let b = ms(hi) { bounds = (a, b) }
        }
        return try histogramBuckets(s, docs, f, round: { rounding.round($0) }, next: { rounding.next($0) }, bounds: bounds) { k, b in
            b["key_as_string"] = .string(format?.format(k + zone(k)) ?? Aggregator.isoWithZone(k, zone(k), zoneName))
            b["key"] = .int(k)
        }
    }

    /// ISO text of an instant in a zone: `Z` for UTC, else the local time and `+hh:mm`.
    static func isoWithZone(_ ms: Int64, _ offset: Int64, _ zone: String?) -> String {
        if offset == 0 && (zone == nil || zone == "UTC" || zone == "Z") { return DateFormats.formatISO(ms) }
        var text = DateFormats.formatISO(ms + offset)
        text.removeLast()
        let a = abs(offset) / 60_000
        let h = a / 60, m = a % 60
        return text + (offset < 0 ? "-" : "+") + (h < 10 ? "0" : "") + String(h) + ":" + (m < 10 ? "0" : "") + String(m)
    }

    /// `1h`, `30m`, `500ms`, `2d` in milliseconds, through the checked time-value parser; nil for
    /// anything that is not a positive interval a date can be rounded to.
    static func duration(_ text: String) -> Int64? {
        guard let v = try? TimeValue.parse(text, name: "interval"), v.millis > 0, v.millis <= DateRounding.limit else { return nil }
        return v.millis
    }

    /// `search.max_buckets`: a response holds at most this many buckets.
    static let maxBuckets = 65_536

    static func tooManyBuckets(_ count: Int) -> QueryDSLError {
        QueryDSLError("Trying to create too many buckets. Must be less than or equal to: [\(maxBuckets)] but was [\(count)]. This limit can be set by changing the [search.max_buckets] cluster level setting.",
                      type: "too_many_buckets_exception")
    }

    static func signedDuration(_ text: String) throws(QueryDSLError) -> Int64 {
        var t = Substring(text)
        var sign: Int64 = 1
        if t.first == "+" { t = t.dropFirst() } else if t.first == "-" {
            sign = -1
            t = t.dropFirst()
        }
        guard let ms = duration(String(t)) ?? (t == "0" ? 0 : nil) else { throw QueryDSLError("failed to parse offset [\(text)]", type: "illegal_argument_exception") }
        return sign * ms
    }

    // MARK: - ranges

    func ranges(_ s: Spec, _ docs: DocSet) throws(QueryDSLError) -> JSONObject {
        let o = s.body.objectValue ?? JSONObject()
        let f = try field(s)
        guard let list = o["ranges"]?.arrayValue, !list.isEmpty else { throw QueryDSLError("No [ranges] specified for the [\(s.name)] aggregation", type: "illegal_argument_exception") }
        let isDate = s.type == "date_range" || f.type == .date || f.type == .dateNanos
        let keyed = o["keyed"]?.boolValue ?? false
        func bound(_ v: JSONValue?, roundUp: Bool) throws(QueryDSLError) -> Double? {
            guard let v, v != .null else { return nil }
            if s.type == "date_range", let t = v.stringValue {
                let ms = DateMath.isMath(t) ? DateMath.evaluate(t, now: now, roundUp: roundUp) : DateFormats.parse(t)
                guard let ms else { throw QueryDSLError("failed to parse date field [\(t)]", type: "parse_exception") }
                return Double(ms)
            }
            guard let d = v.doubleValue else { throw QueryDSLError("[\(s.type)] bound [\(v.scalarText)] is not a number") }
            return d
        }
        var out: [JSONValue] = []
        var keyedOut = JSONObject()
        // Buckets come back ordered by (from, to), whatever the request's order, as in Elasticsearch.
        var parsed: [(r: JSONObject, from: Double?, to: Double?)] = []
        for item in list {
            let r = item.objectValue ?? JSONObject()
            parsed.append((r, try bound(r["from"], roundUp: false), try bound(r["to"], roundUp: false)))
        }
        let sorted = parsed.enumerated().sorted { a, b in
            let (x, y) = (a.element, b.element)
            let fx = x.from ?? -.infinity, fy = y.from ?? -.infinity
            if fx != fy { return fx < fy }
            let tx = x.to ?? .infinity, ty = y.to ?? .infinity
            if tx != ty { return tx < ty }
            return a.offset < b.offset
        }
        for (_, (r, from, to)) in sorted {
            let bits = docs.parts.map { part -> Bitmap in
                var b = Bitmap(count: part.segment.docCount)
                guard let c = column(f, part) else { return b }
                part.docs.forEach { doc in
                    for slot in c.slots(doc) {
                        guard let v = Aggregator.number(c, slot) else { continue }
                        if (from == nil || v >= from!) && (to == nil || v < to!) {
                            b.insert(doc)
                            break
                        }
                    }
                }
                return b
            }
            let d = docs.with(bits)
            func text(_ v: Double?) -> String {
                guard let v else { return "*" }
                return isDate ? DateFormats.formatISO(Int64(v)) : QueryValue.format(v)
            }
            let key = r["key"]?.stringValue ?? text(from) + "-" + text(to)
            var b: JSONObject = keyed ? JSONObject() : ["key": .string(key)]
            if let from {
                b["from"] = .double(from)
                if isDate { b["from_as_string"] = .string(text(from)) }
            }
            if let to {
                b["to"] = .double(to)
                if isDate { b["to_as_string"] = .string(text(to)) }
            }
            b["doc_count"] = .int(Int64(d.count))
            for x in try sub(s, d).entries { b[x.key] = x.value }
            if keyed { keyedOut[key] = .object(b) } else { out.append(.object(b)) }
        }
        return ["buckets": keyed ? .object(keyedOut) : .array(out)]
    }

    // MARK: - composite

    func composite(_ s: Spec, _ docs: DocSet) throws(QueryDSLError) -> JSONObject {
        let o = s.body.objectValue ?? JSONObject()
        guard let sourcesJSON = o["sources"]?.arrayValue, !sourcesJSON.isEmpty else {
            throw QueryDSLError("Composite [sources] cannot be null or empty", type: "illegal_argument_exception")
        }
        let size = try Aggregator.count(o, "size", default: 10, atLeast: 1, s)
        struct Source {
            var name: String
            var field: FieldRef
            var descending: Bool
            var missingBucket: Bool
            var round: ((Int64) -> Int64?)?
            var histogram: Double?
            var zone: (Int64) -> Int64
            var zoneName: String?
        }
        var sources: [Source] = []
        for item in sourcesJSON {
            guard case .object(let so) = item, let e = so.entries.first, case .object(let def) = e.value, let kind = def.entries.first else {
                throw QueryDSLError("[composite] sources must be objects of one named source")
            }
            guard let fieldName = kind.value.objectValue?["field"]?.stringValue else {
                throw QueryDSLError("Required one of fields [field, script], but none were specified.", type: "illegal_argument_exception")
            }
            let body = kind.value.objectValue ?? JSONObject()
            var src = Source(name: e.key, field: fieldRef(fieldName), descending: body["order"]?.stringValue == "desc",
                             missingBucket: body["missing_bucket"]?.boolValue ?? false, round: nil, histogram: nil, zone: { _ in 0 }, zoneName: nil)
            switch kind.key {
            case "terms": break
            case "histogram":
                guard let i = body["interval"]?.doubleValue, i > 0 else { throw QueryDSLError("[interval] must be greater than 0 for [histogram] source") }
                src.histogram = i
            case "date_histogram":
                let zone = try QueryDSL.zoneOffset(body["time_zone"]?.stringValue)
                src.zone = zone
                src.zoneName = body["time_zone"]?.stringValue
                let rounding: DateRounding
                if let cal = body["calendar_interval"]?.stringValue, let unit = DateRounding.calendarUnit(cal) {
                    rounding = DateRounding(unit: unit, fixed: 0, zone: zone, offset: 0)
                } else if let fixed = body["fixed_interval"]?.stringValue, let ms = Aggregator.duration(fixed), ms > 0 {
                    rounding = DateRounding(unit: nil, fixed: ms, zone: zone, offset: 0)
                } else {
                    throw QueryDSLError("Invalid interval specified, must be non-null and non-empty", type: "illegal_argument_exception")
                }
                src.round = { rounding.round($0) }
            default:
                throw QueryDSLError("[composite] source type [\(kind.key)] is not supported yet by Vigil")
            }
            sources.append(src)
        }
        let missingTag = Key.string("\u{1}missing")
        let keyOf: (DocSet.Part) -> ((Int, inout [Key]) -> Void)? = { part in
            let cols = sources.map { self.column($0.field, part) }
            return { doc, out in
                var combos: [[Key]] = [[]]
                for (i, src) in sources.enumerated() {
                    var vals: [Key] = []
                    if let c = cols[i] {
                        for slot in c.slots(doc) {
                            var k = Aggregator.key(c, slot)
                            if let r = src.round, case .int(let v) = k, let rv = r(v) { k = .int(rv) }
                            if let h = src.histogram, let v = Aggregator.number(c, slot) { k = .double((v / h).rounded(.down) * h) }
                            vals.append(k)
                        }
                    }
                    if vals.isEmpty {
                        guard src.missingBucket else { return }
                        vals = [missingTag]
                    }
                    combos = combos.flatMap { prefix in Set(vals).map { prefix + [$0] } }
                }
                for combo in combos { out.append(.string(Aggregator.joinKey(combo))) }
            }
        }
        let counts = group(docs, keys: keyOf)
        func less(_ a: [Key], _ b: [Key]) -> Bool {
            for (i, src) in sources.enumerated() where a[i] != b[i] {
                // A missing value sorts first ascending, last descending.
                if a[i] == missingTag { return !src.descending }
                if b[i] == missingTag { return src.descending }
                return src.descending ? b[i] < a[i] : a[i] < b[i]
            }
            return false
        }
        var entries: [(parts: [Key], count: Int, key: Key)] = counts.map { e in
            guard case .string(let joined) = e.key else { return ([], e.value, e.key) }
            return (Aggregator.splitKey(joined), e.value, e.key)
        }
        func jsonKey(_ parts: [Key]) -> JSONObject {
            var k = JSONObject()
            for (i, src) in sources.enumerated() {
                if parts[i] == missingTag {
                    k[src.name] = .null
                    continue
                }
                var tmp = JSONObject()
                render(parts[i], src.round != nil ? .long : src.field.type, into: &tmp)
                k[src.name] = tmp["key"] ?? .null
            }
            return k
        }
        if case .object(let after)? = o["after"] {
            var afterParts: [Key] = []
            for src in sources {
                switch after[src.name] {
                case .int(let i)?: afterParts.append(src.histogram != nil ? .double(Double(i)) : .int(i))
                case .double(let d)?: afterParts.append(.double(d))
                case .string(let t)?:
                    if src.field.type == .date, src.round == nil, let ms = DateFormats.parse(t) { afterParts.append(.int(ms)) } else { afterParts.append(.string(t)) }
                case .bool(let b)?: afterParts.append(.int(b ? 1 : 0))
                default: afterParts.append(missingTag)
                }
            }
            entries = entries.filter { less(afterParts, $0.parts) }
        }
        entries.sort { less($0.parts, $1.parts) }
        let picked = Array(entries.prefix(size))
        let sets = s.subs.isEmpty ? [] : members(docs, picked.map { $0.key }, keys: keyOf)
        var buckets: [JSONValue] = []
        for (i, e) in picked.enumerated() {
            var b: JSONObject = ["key": .object(jsonKey(e.parts)), "doc_count": .int(Int64(e.count))]
            if !sets.isEmpty { for x in try sub(s, sets[i]).entries { b[x.key] = x.value } }
            buckets.append(.object(b))
        }
        var out = JSONObject()
        if let last = picked.last { out["after_key"] = .object(jsonKey(last.parts)) }
        out["buckets"] = .array(buckets)
        return out
    }

    // MARK: - top_hits

    func topHits(_ s: Spec, _ docs: DocSet) throws(QueryDSLError) -> JSONObject {
        let o = s.body.objectValue ?? JSONObject()
        let size = try Aggregator.count(o, "size", default: 3, atLeast: 0, s), from = try Aggregator.count(o, "from", default: 0, atLeast: 0, s)
        // `index.max_inner_result_window`.
        guard size <= 100 && from <= 100 - size else {
            throw QueryDSLError("Top hits result window is too large, the top hits aggregator [\(s.name)]'s from + size must be less than or equal to: [100] but was [\(from &+ size)]. This limit can be set by changing the [index.max_inner_result_window] index level setting.",
                                type: "illegal_argument_exception")
        }
        var sorts: [(FieldRef, Bool)] = []
        for item in o["sort"]?.arrayValue ?? (o["sort"].map { [$0] } ?? []) {
            switch item {
            case .string(let name): sorts.append((fieldRef(name), false))
            case .object(let so):
                guard let e = so.entries.first else { continue }
                let order = e.value.stringValue ?? e.value.objectValue?["order"]?.stringValue ?? "asc"
                sorts.append((fieldRef(e.key), order == "desc"))
            default: continue
            }
        }
        var all: [(part: Int, doc: Int, keys: [Key?])] = []
        for (pi, part) in docs.parts.enumerated() {
            let cols = sorts.map { column($0.0, part) }
            part.docs.forEach { doc in
                let keys: [Key?] = sorts.enumerated().map { i, s in
                    guard let c = cols[i] else { return nil }
                    let ks = c.slots(doc).map { Aggregator.key(c, $0) }
                    return s.1 ? ks.max() : ks.min()
                }
                all.append((pi, doc, keys))
            }
        }
        if !sorts.isEmpty {
            all.sort { a, b in
                for (i, s) in sorts.enumerated() where a.keys[i] != b.keys[i] {
                    guard let x = a.keys[i] else { return false }
                    guard let y = b.keys[i] else { return true }
                    return s.1 ? y < x : x < y
                }
                return false
            }
        }
        var includes: [String] = [], excludes: [String] = []
        switch o["_source"] {
        case .array(let a)?: includes = a.compactMap(\.stringValue)
        case .string(let p)?: includes = [p]
        case .object(let so)?:
            func list(_ v: JSONValue?) -> [String] { v?.stringValue.map { [$0] } ?? v?.arrayValue?.compactMap(\.stringValue) ?? [] }
            includes = list(so["includes"])
            excludes = list(so["excludes"])
        default: break
        }
        let withSource = o["_source"]?.boolValue ?? true
        var hits: [JSONValue] = []
        for h in all.dropFirst(from).prefix(size) {
            let part = docs.parts[h.part]
            var hit: JSONObject = ["_index": .string(indexName(part.reader)), "_id": .string(part.segment.id(h.doc)), "_score": sorts.isEmpty ? .double(1) : .null]
            if withSource {
                hit["_source"] = source(part, h.doc, includes, excludes)
            }
            if !sorts.isEmpty {
                hit["sort"] = .array(h.keys.map { k in
                    switch k {
                    case .int(let i)?: return .int(i)
                    case .double(let d)?: return .double(d)
                    case .string(let t)?: return .string(t)
                    case nil: return .null
                    }
                })
            }
            hits.append(.object(hit))
        }
        return ["hits": ["total": ["value": .int(Int64(all.count)), "relation": "eq"], "max_score": sorts.isEmpty && !all.isEmpty ? .double(1) : .null, "hits": .array(hits)]]
    }
}

/// Rounds instants to calendar units (in a time zone) or fixed intervals, as `date_histogram` does.
struct DateRounding {
    enum Unit { case second, minute, hour, day, week, month, quarter, year }

    var unit: Unit?
    var fixed: Int64
    var zone: (Int64) -> Int64
    var offset: Int64

    /// Instants, intervals and offsets are kept within ±2^61 ms (±73 million years, beyond any
    /// date Elasticsearch stores) so every sum below stays inside `Int64`.
    static let limit: Int64 = 1 << 61

    static func calendarUnit(_ text: String) -> Unit? {
        switch text {
        case "second", "1s": return .second
        case "minute", "1m": return .minute
        case "hour", "1h": return .hour
        case "day", "1d": return .day
        case "week", "1w": return .week
        case "month", "1M": return .month
        case "quarter", "1q": return .quarter
        case "year", "1y": return .year
        default: return nil
        }
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// The start of the bucket holding `ms`.
    func round(_ ms: Int64) -> Int64? {
        guard ms > -DateRounding.limit && ms < DateRounding.limit else { return nil }
        let local = ms + zone(ms) - offset
        let start: Int64
        if let unit {
            let day: Int64 = 86_400_000
            switch unit {
            case .second: start = DateRounding.floorDiv(local, 1000) * 1000
            case .minute: start = DateRounding.floorDiv(local, 60_000) * 60_000
            case .hour: start = DateRounding.floorDiv(local, 3_600_000) * 3_600_000
            case .day: start = DateRounding.floorDiv(local, day) * day
            case .week:
                let days = DateRounding.floorDiv(local, day)
                let dow = ((days % 7) + 7 + 3) % 7  // 0 is Monday
                start = (days - dow) * day
            case .month, .quarter, .year:
                let (y, m, _) = DateFormats.civilFromDays(Int(DateRounding.floorDiv(local, day)))
                let month = unit == .year ? 1 : unit == .quarter ? (m - 1) / 3 * 3 + 1 : m
                start = DateFormats.epochMillis(year: y, month: month, day: 1)
            }
        } else {
            start = DateRounding.floorDiv(local, fixed) * fixed
        }
        let guess = start + offset
        return guess - zone(guess - zone(guess))
    }

    /// The start of the bucket after the one starting at `start`.
    func next(_ start: Int64) -> Int64 {
        guard start > -DateRounding.limit && start < DateRounding.limit else { return .max }
        guard let unit else { return start + fixed }
        let local = start + zone(start) - offset
        let day: Int64 = 86_400_000
        let nextLocal: Int64
        switch unit {
        case .second: nextLocal = local + 1000
        case .minute: nextLocal = local + 60_000
        case .hour: nextLocal = local + 3_600_000
        case .day: nextLocal = local + day
        case .week: nextLocal = local + 7 * day
        case .month, .quarter, .year:
            let (y, m, _) = DateFormats.civilFromDays(Int(DateRounding.floorDiv(local, day)))
            let step = unit == .month ? 1 : unit == .quarter ? 3 : 12
            let total = y * 12 + (m - 1) + step
            nextLocal = DateFormats.epochMillis(year: total / 12, month: total % 12 + 1, day: 1)
        }
        let guess = nextLocal + offset
        return round(guess - zone(guess)) ?? guess
    }
}
