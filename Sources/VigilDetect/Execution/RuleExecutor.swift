public import VigilEQL
public import VigilJSON
public import VigilQuery
public import VigilStore

/// Runs compiled rules over indices and returns their alerts.
public struct RuleExecutor: Sendable {
    public let readers: [IndexReader]
    /// When the run happens (the alerts' `@timestamp`).
    public let now: Int64
    public var spaceId = "default"
    /// Leaf results shared by the rules of one run.
    public var cache: LeafCache?
    /// Set when the run passes its deadline; EQL rules stop at the next segment or stretch of
    /// a sequence's timeline.
    public var cancellation: Cancellation?
    /// An event's source by its id, when the index holds only part of it (offline runs index
    /// only the fields rules read); the stored `_source` otherwise.
    public var source: (@Sendable (String) -> JSONObject?)?

    /// The indicator indices (`threat_index`) of an indicator match rule.
    public var threatReaders: [IndexReader]?

    public init(readers: [IndexReader], now: Int64, cache: LeafCache? = nil) {
        self.readers = readers
        self.now = now
        self.cache = cache
    }

    /// A time window: events with `from <= t < to` (either end open when nil).
    public struct Window: Sendable {
        public var from: Int64?
        public var to: Int64?
        public init(from: Int64?, to: Int64?) {
            self.from = from
            self.to = to
        }
        public static let all = Window(from: nil, to: nil)
    }

    /// The field holding each event's time for the rule: `timestamp_override` when the indices
    /// map it, `@timestamp` otherwise.
    func timestampField(_ rule: Rule) -> String {
        if let o = rule.timestampOverride, readers.contains(where: { $0.mapping.field(at: o) != nil }) { return o }
        return "@timestamp"
    }

    /// The alerts of one run of `compiled` over `window`, at most `max_signals`.
    public func run(_ compiled: CompiledRule, window: Window = .all) throws(RuleCompileError) -> [Alert] {
        let rule = compiled.rule
        let builder = AlertBuilder(rule: rule, now: now, spaceId: spaceId)
        let ts = timestampField(rule)
        let inWindow = RuleExecutor.windowExpr(ts, window)
        switch compiled.plan {
        case .eql(let plan):
            return try eql(plan, rule: rule, builder: builder, timestamp: ts, inWindow: inWindow)
        case .esql(let query, let filter):
            let parts = [filter, inWindow].compactMap { $0 }
            return try esql(query, filter: parts.isEmpty ? nil : parts.count == 1 ? parts[0] : .and(parts.map { .isTrue($0) }), rule: rule, builder: builder, timestamp: ts)
        case .query(let query):
            let condition = inWindow.map { Expr.and([.isTrue(query.expr), $0]) } ?? query.expr
            switch rule.kind {
            case .threshold: return threshold(condition, rule: rule, builder: builder, timestamp: ts)
            case .threatMatch: return try threatMatch(condition, rule: rule, builder: builder, timestamp: ts)
            case .newTerms: return newTerms(query.expr, window: window, rule: rule, builder: builder, timestamp: ts)
            default:
                let hits = matches(condition, timestamp: ts).prefix(rule.maxSignals)
                return hits.map { builder.event(event($0)) }
            }
        }
    }

    /// Events in the window by the rule's time field; with `timestamp_override`, events without
    /// that field are placed by `@timestamp` (Kibana's fallback search).
    static func windowExpr(_ field: String, _ w: Window) -> Expr? {
        guard field != "@timestamp", let byOverride = windowOn(field, w), let byTimestamp = windowOn("@timestamp", w) else { return windowOn(field, w) }
        return .or([byOverride, .and([.isNull(.field(field)), byTimestamp])])
    }

    static func windowOn(_ field: String, _ w: Window) -> Expr? {
        var parts: [Expr] = []
        if let f = w.from { parts.append(.compare(.ge, .field(field), .literal(.int(f)))) }
        if let t = w.to { parts.append(.compare(.lt, .field(field), .literal(.int(t)))) }
        if parts.isEmpty { return nil }
        return parts.count == 1 ? parts[0] : .perValue(.and(parts))
    }

    // MARK: - events

    struct Hit {
        var reader: Int
        var segment: Int
        var doc: Int
        var timestamp: Int64
    }

    /// Live documents for which `condition` holds, oldest first (in no order with `sorted: false`).
    func matches(_ condition: Expr, timestamp field: String, sorted: Bool = true) -> [Hit] {
        var hits: [Hit] = []
        for (ri, r) in readers.enumerated() {
            for (si, live) in r.segments.enumerated() {
                var docs = SegmentFilter(segment: live.segment, cache: cache).matching(condition)
                docs.subtract(live.deletes)
                let stamps = live.segment.columns[field]
                let fallback = field == "@timestamp" ? nil : live.segment.columns["@timestamp"]
                docs.forEach { doc in
                    let t = RuleExecutor.time(stamps, doc) ?? RuleExecutor.time(fallback, doc) ?? 0
                    hits.append(Hit(reader: ri, segment: si, doc: doc, timestamp: t))
                }
            }
        }
        if sorted { hits.sort { ($0.timestamp, $0.reader, $0.segment, $0.doc) < ($1.timestamp, $1.reader, $1.segment, $1.doc) } }
        return hits
    }

    static func time(_ column: Column?, _ doc: Int) -> Int64? {
        guard let column, let slot = column.slots(doc).first else { return nil }
        if column.kind == .date || column.kind == .int64 { return column.ints[slot] }
        if case .int(let t) = SegmentFilter.queryValue(column.value(atSlot: slot)) { return t }
        return nil
    }

    func event(_ h: Hit) -> SourceEvent {
        let seg = readers[h.reader].segments[h.segment].segment
        let id = seg.id(h.doc)
        let source = self.source?(id) ?? (try? JSONParser().parse(seg.source(h.doc)))?.objectValue ?? JSONObject()
        return SourceEvent(index: readers[h.reader].index, id: id, timestamp: h.timestamp, source: source)
    }

    /// The values of a field in a document, as text (multi-valued fields give several).
    func values(_ h: Hit, _ field: String) -> [String] {
        RuleExecutor.values(readers[h.reader].segments[h.segment].segment, h.doc, field)
    }

    static func values(_ seg: Segment, _ doc: Int, _ field: String) -> [String] {
        guard let c = seg.columns[field] else { return [] }
        return c.slots(doc).map { SegmentFilter.queryValue(c.value(atSlot: $0)).description }
    }

    // MARK: - EQL

    func eql(_ plan: EQLPlan, rule: Rule, builder: AlertBuilder, timestamp: String, inWindow: Expr?) throws(RuleCompileError) -> [Alert] {
        var options = EQLOptions()
        options.size = rule.maxSignals
        options.tail = false
        options.timestampField = plan.timestampField
        options.tiebreakerField = plan.tiebreakerField
        let result: EQLResult
        do {
            var executor = EQLExecutor(readers: readers, options: options, cache: cache)
            executor.cancellation = cancellation
            result = try executor.run(inWindow.map { plan.filtered(by: $0) } ?? plan)
        } catch {
            throw RuleCompileError("EQL: \(error.message)")
        }
        func source(_ e: EventRef) -> SourceEvent {
            event(Hit(reader: e.reader, segment: e.segment, doc: e.doc, timestamp: e.timestamp))
        }
        switch result {
        case .events(let events, _):
            return events.map { builder.event(source($0)) }
        case .sequences(let sequences, _):
            // As Kibana: one building-block alert per event of the sequence, and one alert for the
            // sequence holding the fields its events share.
            var alerts: [Alert] = []
            for s in sequences {
                let events = s.events.compactMap { $0.map(source) }
                guard let last = events.last else { continue }
                let groupId = AlertBuilder.id(["sequence", rule.ruleId] + events.map { $0.index + "/" + $0.id })
                var blocks: [Alert] = []
                for (i, e) in events.enumerated() {
                    let extra: JSONObject = [
                        "kibana.alert.building_block_type": "default",
                        "kibana.alert.group.id": .string(groupId),
                        "kibana.alert.group.index": .int(Int64(i)),
                    ]
                    blocks.append(builder.event(e, extra: extra, salt: groupId))
                }
                var shell = JSONObject()
                for entry in RuleExecutor.shared(events.map(\.source)).entries { shell[entry.key] = entry.value }
                let reason = "sequence of \(events.count) events created \(rule.severity) alert \(rule.name)."
                for entry in builder.base(reason: reason, originalTime: last.timestamp).entries { shell[entry.key] = entry.value }
                shell["kibana.alert.group.id"] = .string(groupId)
                shell["kibana.alert.ancestors"] = .array(events.map(builder.ancestor))
                let id = AlertBuilder.id([rule.ruleId, "sequence", groupId])
                shell["kibana.alert.uuid"] = .string(id)
                alerts.append(Alert(id: id, document: shell))
                alerts += blocks
            }
            return alerts
        }
    }

    /// The fields (leaves, by path) every source has with the same value.
    static func shared(_ sources: [JSONObject]) -> JSONObject {
        guard var common = sources.first else { return JSONObject() }
        for s in sources.dropFirst() { common = intersect(common, s) }
        return common
    }

    static func intersect(_ a: JSONObject, _ b: JSONObject) -> JSONObject {
        var out = JSONObject()
        for e in a.entries {
            guard let other = b[e.key] else { continue }
            if case .object(let x) = e.value, case .object(let y) = other {
                let inner = intersect(x, y)
                if !inner.isEmpty { out[e.key] = .object(inner) }
            } else if e.value == other {
                out[e.key] = e.value
            }
        }
        return out
    }

    // MARK: - threshold

    func threshold(_ condition: Expr, rule: Rule, builder: AlertBuilder, timestamp: String) -> [Alert] {
        guard let t = rule.threshold else { return [] }
        struct Bucket {
            var count = 0
            var first = Int64.max
            var last = Int64.min
            var distinct: [Set<Int32>]
        }
        var terms = TermTable(readers: readers, fields: t.fields + t.cardinality.map(\.field))
        var buckets: [Int32: Bucket] = [:]
        var keys: [Int32] = []
        for h in matches(condition, timestamp: timestamp, sorted: false) {
            // One bucket per combination of the group-by fields' values (none: one bucket).
            terms.combinations(h, first: t.fields.count, into: &keys)
            for key in keys {
                buckets[key, default: Bucket(distinct: t.cardinality.map { _ in [] })].count += 1
                buckets[key]!.first = min(buckets[key]!.first, h.timestamp)
                buckets[key]!.last = max(buckets[key]!.last, h.timestamp)
                for i in t.cardinality.indices { buckets[key]!.distinct[i].formUnion(terms.distinct(h, t.fields.count + i)) }
            }
        }
        // In order of each group's first event.
        let order = buckets.keys.map { ($0, terms.key($0)) }.sorted { a, b in
            let x = buckets[a.0]!.first, y = buckets[b.0]!.first
            return x != y ? x < y : a.1.lexicographicallyPrecedes(b.1)
        }
        var alerts: [Alert] = []
        for (ids, key) in order {
            let b = buckets[ids]!
            guard b.count >= t.value else { continue }
            guard zip(t.cardinality, b.distinct).allSatisfy({ $0.value <= $1.count }) else { continue }
            var o = JSONObject()
            for (f, v) in zip(t.fields, key) { o[f] = .string(v) }
            let groupText = zip(t.fields, key).map { "\($0)=\($1)" }.joined(separator: ", ")
            let reason = "\(b.count) events\(groupText.isEmpty ? "" : " with \(groupText)") created \(rule.severity) alert \(rule.name)."
            for e in builder.base(reason: reason, originalTime: b.last).entries { o[e.key] = e.value }
            o["kibana.alert.threshold_result"] = [
                "terms": .array(zip(t.fields, key).map { ["field": .string($0), "value": .string($1)] }),
                "count": .int(Int64(b.count)),
                "from": .string(DateFormats.formatISO(b.first)),
                "cardinality": .array(zip(t.cardinality, b.distinct).map { ["field": .string($0.field), "value": .int(Int64($1.count))] }),
            ]
            let id = AlertBuilder.id([rule.ruleId, "threshold", String(b.first), String(b.last)] + key)
            o["kibana.alert.uuid"] = .string(id)
            alerts.append(Alert(id: id, document: o))
            if alerts.count >= rule.maxSignals { break }
        }
        return alerts
    }

    // MARK: - new terms

    /// New terms: an alert for an event in `window` whose value combination was not seen in
    /// the history window before it (the history reaches back before the window).
    func newTerms(_ query: Expr, window: Window, rule: Rule, builder: AlertBuilder, timestamp: String) -> [Alert] {
        let fields = rule.newTermsFields
        let history = RuleExecutor.span(rule.historyWindowStart ?? "now-7d").subtractingSaturating(RuleExecutor.span(rule.from))
        let searched = Window(from: window.from.map { $0.subtractingSaturating(max(history, 0)) }, to: window.to)
        let condition = RuleExecutor.windowExpr(timestamp, searched).map { Expr.and([.isTrue(query), $0]) } ?? query
        var lastSeen: [Int32: Int64] = [:]
        var alerts: [Alert] = []
        var terms = TermTable(readers: readers, fields: fields)
        var combinations: [Int32] = []
        for h in matches(condition, timestamp: timestamp) {
            let inWindow = window.from.map { h.timestamp >= $0 } ?? true
            terms.combinations(h, first: fields.count, into: &combinations)
            for combination in combinations where combination >= 0 {
                let seen = lastSeen[combination]
                lastSeen[combination] = h.timestamp
                if !inWindow { continue }
                if let seen, h.timestamp.subtractingSaturating(seen) <= history { continue }
                let key = terms.key(combination)
                let e = event(h)
                let reason = "New value\(key.count > 1 ? "s" : "") [\(key.joined(separator: ", "))] of [\(fields.joined(separator: ", "))] created \(rule.severity) alert \(rule.name)."
                alerts.append(builder.event(e, reason: reason, extra: ["kibana.alert.new_terms": .array(key.map { .string($0) })], salt: key.joined(separator: "\u{1}")))
                if alerts.count >= rule.maxSignals { return alerts }
            }
        }
        return alerts
    }

    /// How far back `now-<n><unit>` reaches, in milliseconds (0 for anything else).
    static func span(_ expression: String) -> Int64 {
        guard let t = DateMath.evaluate(expression, now: 0, roundUp: false), t > .min else { return 0 }
        return -t
    }

    // MARK: - ES|QL

    /// ES|QL: a query that keeps its documents (`METADATA _id`, no STATS) raises an alert per
    /// document, the row's columns added; any other raises an alert per row, made of the row.
    func esql(_ query: ESQLQuery, filter: Expr?, rule: Rule, builder: AlertBuilder, timestamp: String) throws(RuleCompileError) -> [Alert] {
        var executor = ESQLExecutor(readers: readers, now: now)
        executor.filter = filter
        executor.cache = cache
        executor.loadAllColumns = false
        let result: ESQLResult
        do { result = try executor.run(query, limit: rule.maxSignals) } catch { throw RuleCompileError("ES|QL: \(error.message)") }
        var alerts: [Alert] = []
        for (i, row) in result.rows.enumerated().prefix(rule.maxSignals) {
            var fields = JSONObject()
            for (c, v) in zip(result.columns, row) where !v.isNull && !c.hasPrefix("_") { fields[c] = v.json }
            if let origins = result.origins, query.source.metadata.contains("_id") {
                let o = origins[i]
                let seg = readers[o.reader].segments[o.segment].segment
                let t = RuleExecutor.time(seg.columns[timestamp], o.doc) ?? RuleExecutor.time(seg.columns["@timestamp"], o.doc) ?? 0
                let e = event(Hit(reader: o.reader, segment: o.segment, doc: o.doc, timestamp: t))
                alerts.append(builder.event(e, extra: fields))
            } else {
                var o = fields
                let reason = "ES|QL rule \(rule.name) matched " + zip(result.columns, row).filter { !$0.1.isNull }.prefix(4).map { "\($0.0)=\($0.1.json.jsonString)" }.joined(separator: ", ")
                for e in builder.base(reason: reason + ".", originalTime: nil).entries { o[e.key] = e.value }
                let id = AlertBuilder.id([rule.ruleId, "esql"] + row.map { $0.json.jsonString })
                o["kibana.alert.uuid"] = .string(id)
                alerts.append(Alert(id: id, document: o))
            }
        }
        return alerts
    }

    // MARK: - indicator match

    /// Indicator match: events (query, window) with a value that an indicator document
    /// (`threat_query` over `threat_index`) holds, per `threat_mapping` (entries of one mapping
    /// must all match; any mapping will do). One alert per event, its indicators in
    /// `threat.enrichments`.
    func threatMatch(_ condition: Expr, rule: Rule, builder: AlertBuilder, timestamp: String) throws(RuleCompileError) -> [Alert] {
        guard let threatReaders else {
            throw RuleCompileError("indicator match rules read their threat_index, which only a server has", unsupported: true)
        }
        let mappings = rule.threatMapping
        guard !mappings.isEmpty, mappings.allSatisfy({ !$0.isEmpty }) else { throw RuleCompileError("indicator match rule without threat_mapping entries") }
        let threatQuery = try RuleCompiler(mapping: Mapping.union(threatReaders.map(\.mapping)))
            .compileQuery(rule.threatQuery, language: rule.threatLanguage, filters: rule.json["threat_filters"]?.arrayValue ?? [])
        struct Indicator {
            var index: String
            var segment: Segment
            var doc: Int
        }
        var indicators: [Indicator] = []
        // Per mapping: the first entry's indicator value -> the indicators holding it.
        var lookup = [[String: [Int]]](repeating: [:], count: mappings.count)
        var wanted: [String: Set<String>] = [:]
        for r in threatReaders {
            for live in r.segments {
                var docs = SegmentFilter(segment: live.segment).matching(threatQuery.expr)
                docs.subtract(live.deletes)
                docs.forEach { doc in
                    let k = indicators.count
                    indicators.append(Indicator(index: r.index, segment: live.segment, doc: doc))
                    for (m, entries) in mappings.enumerated() {
                        for v in Set(RuleExecutor.values(live.segment, doc, entries[0].value)) {
                            lookup[m][v, default: []].append(k)
                            wanted[entries[0].field, default: []].insert(v)
                        }
                    }
                }
            }
        }
        if wanted.isEmpty { return [] }
        // Only events holding one of the indicator values are looked at.
        let should: [JSONValue] = wanted.sorted { $0.key < $1.key }.map { ["terms": [$0.key: .array($0.value.sorted().map { .string($0) })]] }
        let prefilter = try? QueryDSL(mapping: Mapping.union(readers.map(\.mapping))).compile(["bool": ["should": .array(should), "minimum_should_match": 1]])
        let narrowed = prefilter.map { Expr.and([.isTrue(condition), .isTrue($0.expr)]) } ?? condition
        var alerts: [Alert] = []
        for h in matches(narrowed, timestamp: timestamp) {
            var enrichments: [JSONValue] = []
            var seen = Set<Int>()
            for (m, entries) in mappings.enumerated() {
                let eventValues = entries.map { Set(values(h, $0.field)) }
                for v in eventValues[0].sorted() {
                    for k in lookup[m][v] ?? [] where !seen.contains(k) {
                        let ind = indicators[k]
                        let all = entries.indices.dropFirst().allSatisfy { j in
                            !eventValues[j].isDisjoint(with: RuleExecutor.values(ind.segment, ind.doc, entries[j].value))
                        }
                        guard all else { continue }
                        seen.insert(k)
                        let source = (try? JSONParser().parse(ind.segment.source(ind.doc)))?.objectValue ?? JSONObject()
                        let indicator = FieldPath.value(at: rule.threatIndicatorPath, in: .object(source))?.objectValue ?? JSONObject()
                        enrichments.append([
                            "indicator": .object(indicator), "feed": .object(JSONObject()),
                            "matched": ["atomic": .string(v), "field": .string(entries[0].field), "id": .string(ind.segment.id(ind.doc)),
                                        "index": .string(ind.index), "type": "indicator_match_rule"],
                        ])
                    }
                }
            }
            if enrichments.isEmpty { continue }
            let e = event(h)
            var threat = e.source["threat"]?.objectValue ?? JSONObject()
            threat["enrichments"] = .array(enrichments)
            alerts.append(builder.event(e, extra: ["threat": .object(threat)]))
            if alerts.count >= rule.maxSignals { break }
        }
        return alerts
    }
}

/// Numbers for the values of group-by fields (threshold, new terms), so that grouping hashes
/// small integers, not text: a string column's entries are numbered once per segment as first
/// met, values of other types by their text; a combination of values (one per field) is
/// numbered too, field by field, so a group key is one integer whatever the number of fields.
struct TermTable {
    /// Each value's text, by number.
    private(set) var texts: [String] = []
    private var numbers: [String: Int32] = [:]
    let fields: [String]
    private let readers: [IndexReader]
    /// Where each reader's segments start in the flat per-segment arrays.
    private let base: [Int]
    /// Per segment and field (`segment * fields.count + field`): the column and its codes' numbers (-1 not yet).
    private let columns: [Column?]
    private var codeNumbers: [[Int32]]
    /// Combinations: (combination so far, value) to the longer combination's number; the empty one is -1.
    private var pairs: [Int64: Int32] = [:]
    private var parts: [(prefix: Int32, value: Int32)] = []
    private var scratch: [Int32] = []

    init(readers: [IndexReader], fields: [String]) {
        self.readers = readers
        self.fields = fields
        var base: [Int] = [], columns: [Column?] = []
        for r in readers {
            base.append(columns.count / max(1, fields.count))
            for live in r.segments { columns += fields.map { live.segment.columns[$0] } }
        }
        self.base = base
        self.columns = columns
        codeNumbers = columns.map { _ in [] }
    }

    mutating func number(_ text: String) -> Int32 {
        if let n = numbers[text] { return n }
        let n = Int32(texts.count)
        texts.append(text)
        numbers[text] = n
        return n
    }

    /// Appends the distinct values of `fields[field]` in a hit, in text order.
    mutating func values(_ h: RuleExecutor.Hit, _ field: Int, into out: inout [Int32]) {
        let k = (base[h.reader] + h.segment) * fields.count + field
        guard let column = columns[k] else { return }
        let slots = column.slots(h.doc)
        let start = out.count
        for slot in slots {
            let n: Int32
            if column.kind == .string, let dict = column.dictionary {
                let code = Int(column.codes[slot])
                guard code >= 0 else { continue }
                if codeNumbers[k].isEmpty { codeNumbers[k] = [Int32](repeating: -1, count: dict.count) }
                if codeNumbers[k][code] < 0 { codeNumbers[k][code] = number(dict.string(code)) }
                n = codeNumbers[k][code]
            } else {
                n = number(SegmentFilter.queryValue(column.value(atSlot: slot)).description)
            }
            if slots.count == 1 || !out[start...].contains(n) { out.append(n) }
        }
        if out.count - start > 1 { out[start...].sort { texts[Int($0)] < texts[Int($1)] } }
    }

    /// The distinct values of `fields[field]` in a hit.
    mutating func distinct(_ h: RuleExecutor.Hit, _ field: Int) -> Set<Int32> {
        var found = take(&scratch)
        values(h, field, into: &found)
        defer { scratch = found }
        return Set(found)
    }

    /// The combinations of a hit's values of the first `count` fields (one value per field);
    /// the empty combination (-1) for no fields, none when a field has no value.
    mutating func combinations(_ h: RuleExecutor.Hit, first count: Int, into out: inout [Int32]) {
        out.removeAll(keepingCapacity: true)
        out.append(-1)
        var found = take(&scratch)
        defer { scratch = found }
        for f in 0..<count {
            found.removeAll(keepingCapacity: true)
            values(h, f, into: &found)
            if found.count == 1 {
                for i in out.indices { out[i] = combine(out[i], found[0]) }
            } else {
                let prefixes = out
                out.removeAll(keepingCapacity: true)
                for p in prefixes { for v in found { out.append(combine(p, v)) } }
            }
        }
    }

    /// The scratch buffer, emptied, moved out of `self` so it can be filled while `self` changes.
    private func take(_ buffer: inout [Int32]) -> [Int32] {
        var out: [Int32] = []
        swap(&out, &buffer)
        out.removeAll(keepingCapacity: true)
        return out
    }

    private mutating func combine(_ prefix: Int32, _ value: Int32) -> Int32 {
        let key = Int64(prefix) << 32 | Int64(UInt32(bitPattern: value))
        if let n = pairs[key] { return n }
        let n = Int32(parts.count)
        parts.append((prefix, value))
        pairs[key] = n
        return n
    }

    /// A combination's values, as text, in field order.
    func key(_ combination: Int32) -> [String] {
        var out: [String] = []
        var c = combination
        while c >= 0 {
            out.append(texts[Int(parts[Int(c)].value)])
            c = parts[Int(c)].prefix
        }
        return out.reversed()
    }
}
