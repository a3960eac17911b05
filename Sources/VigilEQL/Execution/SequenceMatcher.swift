import Dispatch
import Synchronization
import VigilQuery
import VigilStore

/// Matches `sequence` queries in one pass over the time-ordered events of all stages, with
/// state per join key: memory grows with join keys, not with events.
///
/// Elasticsearch's rules: an event of stage i extends the newest partial of the same key
/// waiting at stage i-1 (older ones there are dropped, even when the extension then fails);
/// `maxspan` bounds first-to-last, inclusive; an `until` event of the key between a partial's
/// last event and the next cancels it. Missing-event stages (`![…]`) are checked on completed
/// candidates. Results are ordered by their last event, then key.
///
/// Because a newer partial at a stage always has a later first event too, only the newest
/// partial per key and stage can ever be extended: the state is one slot per (key, stage).
/// Join key values are interned to integers once per distinct value per segment.
struct SequenceMatcher {
    let stages: [StagePlan]
    let until: StagePlan?
    let maxspan: Int64?
    let executor: EQLExecutor

    /// One (event, stage, key) occurrence on the timeline. Plain data, so sorting is cheap.
    struct Entry {
        var timestamp: Int64
        /// The tiebreaker as a sortable integer; `Int64.max` (last) for none.
        var tiebreaker: Int64
        /// Index order: the reader in the top 16 bits, the arrival seqNo below.
        var order: Int64
        var part: Int32
        var doc: Int32
        /// Index into the positive stages, or -1 for `until`.
        var stage: Int32
        var key: Int32

        init(timestamp: Int64, tiebreaker: Int64, reader: Int32, part: Int32, doc: Int32, seqNo: Int64, stage: Int32, key: Int32) {
            self.timestamp = timestamp
            self.tiebreaker = tiebreaker
            order = Int64(reader) << 48 | (seqNo & 0xFFFF_FFFF_FFFF)
            self.part = part
            self.doc = doc
            self.stage = stage
            self.key = key
        }

        var reader: Int32 { Int32(order >> 48) }
        var seqNo: Int64 { order & 0xFFFF_FFFF_FFFF }
    }

    struct Completed {
        var key: Int32
        /// Entry indices, one per positive stage.
        var entries: [Int32]
    }

    private var parts: [(reader: Int, segment: Int)] = []
    private var keys = KeyInterner()
    /// Per (part, key field): the tuple id of each dictionary code (-2 not looked up yet).
    private var keyTables: [String: [Int32]] = [:]
    private var tiebreakRanks: [[Int64]] = []

    init(stages: [StagePlan], until: StagePlan?, maxspan: Int64?, executor: EQLExecutor) {
        self.stages = stages
        self.until = until
        self.maxspan = maxspan
        self.executor = executor
        parts = executor.readers.enumerated().flatMap { (ri, r) in r.segments.indices.map { (reader: ri, segment: $0) } }
    }

    /// Runs the match; `select` picks which completed sequences (in result order) to return.
    mutating func run(select: ([Completed]) -> [Completed]) -> [SequenceMatch] {
        let positive = stages.indices.filter { !stages[$0].missing }
        guard !positive.isEmpty else { return [] }
        prepareTiebreakers()
        if executor.isCancelled { return [] }
        // Every stage's matches first, so the timeline is allocated once at its largest size.
        let maps = positive.map { bitmaps(stages[$0].condition) }
        let untilMaps = until.map { bitmaps($0.condition) }
        var entries: [Entry] = []
        entries.reserveCapacity((maps + (untilMaps.map { [$0] } ?? [])).reduce(0) { total, m in total + m.reduce(0) { $0 + $1.cardinality } })
        // The first stage's keys bound every later stage: an event whose key never started a
        // sequence cannot extend one (this keeps few-to-many sequences cheap).
        for (k, s) in positive.enumerated() {
            append(stages[s], maps[k], stage: Int32(k), into: &entries)
            if k == 0 { keys.lookupOnly = true }
        }
        if let until, let untilMaps { append(until, untilMaps, stage: -1, into: &entries) }
        // Segments arrive nearly in time order, which the (stable, run-aware) sort exploits.
        entries.sort { a, b in
            if a.timestamp != b.timestamp { return a.timestamp < b.timestamp }
            if a.tiebreaker != b.tiebreaker { return a.tiebreaker < b.tiebreaker }
            if a.order != b.order { return a.order < b.order }
            // One event: later stages first, so it cannot fill two stages of one sequence;
            // `until` last, so an until event that ends a partial cancels it.
            return a.stage > b.stage
        }
        let n = positive.count
        // Per (key, stage): the newest partial that completed the stage, as a node of a chain
        // (entry, previous node) from its last event back to its first, and its start time.
        var slotNode = [Int32](repeating: -1, count: keys.count * n)
        var slotStart = [Int64](repeating: 0, count: keys.count * n)
        var nodeEntry: [Int32] = []
        var nodePrevious: [Int32] = []
        var completed: [Completed] = []
        for (i, e) in entries.enumerated() {
            if i & 0xFFFF == 0 && executor.isCancelled { return [] }
            let key = Int(e.key)
            if e.stage < 0 {
                for s in 0..<n { slotNode[key * n + s] = -1 }
                continue
            }
            let s = Int(e.stage)
            if s == 0 {
                if n == 1 {
                    completed.append(Completed(key: e.key, entries: [Int32(i)]))
                    continue
                }
                slotNode[key * n] = Int32(nodeEntry.count)
                slotStart[key * n] = e.timestamp
                nodeEntry.append(Int32(i))
                nodePrevious.append(-1)
                continue
            }
            let from = key * n + s - 1
            let previous = slotNode[from]
            guard previous >= 0 else { continue }
            slotNode[from] = -1
            if let maxspan, e.timestamp - slotStart[from] > maxspan { continue }
            if s == n - 1 {
                var chain = [Int32](repeating: 0, count: n)
                chain[n - 1] = Int32(i)
                var node = previous
                for k in stride(from: n - 2, through: 0, by: -1) {
                    chain[k] = nodeEntry[Int(node)]
                    node = nodePrevious[Int(node)]
                }
                completed.append(Completed(key: e.key, entries: chain))
            } else {
                slotNode[from + 1] = Int32(nodeEntry.count)
                slotStart[from + 1] = slotStart[from]
                nodeEntry.append(Int32(i))
                nodePrevious.append(previous)
            }
        }
        if positive.count < stages.count {
            completed = completed.filter { passesMissing($0, entries: entries, positive: positive) }
        }
        completed.sort { a, b in
            let x = Int(a.entries.last!), y = Int(b.entries.last!)
            if x != y { return x < y }
            return SequenceMatcher.keyPrecedes(keys.values(ofTuple: a.key), keys.values(ofTuple: b.key))
        }
        return select(completed).map { c in
            var events: [EventRef?] = []
            var next = 0
            for s in stages.indices {
                if stages[s].missing {
                    events.append(nil)
                } else {
                    events.append(eventRef(entries[Int(c.entries[next])]))
                    next += 1
                }
            }
            return SequenceMatch(joinKeys: keys.values(ofTuple: c.key), events: events)
        }
    }

    private func eventRef(_ e: Entry) -> EventRef {
        let seg = executor.readers[Int(e.reader)].segments[parts[Int(e.part)].segment].segment
        var tb = QueryValue.null
        if let field = executor.options.tiebreakerField, let column = seg.columns[field] {
            let slots = column.slots(Int(e.doc))
            if !slots.isEmpty { tb = SegmentFilter.queryValue(column.value(atSlot: slots.lowerBound)) }
        }
        return EventRef(reader: Int(e.reader), segment: parts[Int(e.part)].segment, doc: Int(e.doc), timestamp: e.timestamp, tiebreaker: tb, seqNo: e.seqNo)
    }

    /// Join keys element-wise ascending; null elements are skipped.
    static func keyPrecedes(_ a: [QueryValue], _ b: [QueryValue]) -> Bool {
        for (x, y) in zip(a, b) where !x.isNull && !y.isNull && x != y {
            return Evaluator.compareValues(x, y, .lt) == .bool(true)
        }
        return false
    }

    // MARK: Candidates

    /// Matching documents per part (segment), scanned in parallel.
    private func bitmaps(_ condition: Expr) -> [Bitmap] {
        let field = executor.options.timestampField
        let out = Mutex([Bitmap](repeating: Bitmap(count: 0), count: parts.count))
        DispatchQueue.concurrentPerform(iterations: parts.count) { k in
            let live = executor.readers[parts[k].reader].segments[parts[k].segment]
            if executor.isCancelled { return }
            var hits = SegmentFilter(segment: live.segment, cache: executor.cache).matching(condition)
            hits.subtract(live.deletes)
            if let stamps = live.segment.columns[field] {
                hits.formIntersection(Bitmap(count: live.segment.docCount, words: Array(stamps.present)))
            } else {
                hits = Bitmap(count: live.segment.docCount)
            }
            out.withLock { $0[k] = hits }
        }
        return out.withLock { $0 }
    }

    /// Appends the stage's (event, key) entries for its matches `maps` (per part; after the first
    /// stage, only for keys it started).
    private mutating func append(_ stage: StagePlan, _ maps: [Bitmap], stage index: Int32, into entries: inout [Entry]) {
        for (k, part) in parts.enumerated() where !maps[k].isEmpty {
            let seg = executor.readers[part.reader].segments[part.segment].segment
            let stamps = seg.columns[executor.options.timestampField]
            let tiebreak = executor.options.tiebreakerField.flatMap { seg.columns[$0] }
            // The common case, one string key: its tuple id per dictionary code, found the first
            // time a matching event uses the code, so each event costs a few array reads.
            if stage.keys.count == 1, case .field(let path) = stage.keys[0], let column = seg.columns[path], column.kind == .string,
               let dict = column.dictionary, tiebreak == nil, let stamps, stamps.kind == .date || stamps.kind == .int64 {
                let optional = stage.optionalKeys.first ?? false
                let nullTuple = optional ? keys.component(.null).flatMap { keys.single($0) } : nil
                // Shared by the stages of one segment: codes a first-stage event interned are
                // found again by an array read.
                let tableKey = "\(k)\u{0}\(path)"
                var table = keyTables.removeValue(forKey: tableKey) ?? [Int32](repeating: -2, count: dict.count)
                defer { keyTables[tableKey] = table }
                let codes = column.codes, stampInts = stamps.ints
                let singleStamp = stamps.docOffsets == nil && stamps.ranks == nil
                let reader = Int32(part.reader), partID = Int32(k)
                maps[k].forEach { doc in
                    let ts: Int64
                    if singleStamp { ts = stampInts[doc] } else { guard let t = EQLExecutor.timestamp(stamps, doc) else { return }; ts = t }
                    let slots = column.slots(doc)
                    if slots.isEmpty {
                        if let nullTuple {
                            entries.append(Entry(timestamp: ts, tiebreaker: .max, reader: reader, part: partID,
                                                 doc: Int32(doc), seqNo: seg.seqNo(doc), stage: index, key: nullTuple))
                        }
                        return
                    }
                    for slot in slots {
                        let code = Int(codes[slot])
                        var key = table[code]
                        if key == -2 {
                            key = keys.string(dict.entry(code)).flatMap { keys.single($0) } ?? -1
                            table[code] = key
                        }
                        if key < 0 { continue }
                        entries.append(Entry(timestamp: ts, tiebreaker: .max, reader: reader, part: partID,
                                             doc: Int32(doc), seqNo: seg.seqNo(doc), stage: index, key: key))
                    }
                }
                continue
            }
            let extractors = stage.keys.enumerated().map { (i, expr) in
                KeyColumn(expr: expr, segment: seg, optional: stage.optionalKeys.indices.contains(i) && stage.optionalKeys[i], interner: &keys)
            }
            var found: [Int32] = []
            var scratch: [Int32] = []
            maps[k].forEach { doc in
                guard let ts = EQLExecutor.timestamp(stamps, doc) else { return }
                var tb: Int64 = Int64.max
                if let tiebreak {
                    let slots = tiebreak.slots(doc)
                    if !slots.isEmpty { tb = min(tiebreakRank(tiebreak, slot: slots.lowerBound, part: k), Int64.max - 1) }
                }
                let seqNo = seg.seqNo(doc)
                keyIDs(extractors, doc: doc, into: &found, scratch: &scratch)
                for key in found {
                    entries.append(Entry(timestamp: ts, tiebreaker: tb, reader: Int32(part.reader), part: Int32(k),
                                         doc: Int32(doc), seqNo: seqNo, stage: index, key: key))
                }
            }
        }
    }

    /// The key id of each combination of the keys' values (a multi-valued key takes part once
    /// per value); none when a required key is missing.
    private mutating func keyIDs(_ extractors: [KeyColumn], doc: Int, into out: inout [Int32], scratch: inout [Int32]) {
        out.removeAll(keepingCapacity: true)
        if extractors.isEmpty {
            if let id = keys.tuple([]) { out.append(id) }
            return
        }
        if extractors.count == 1 {
            extractors[0].components(doc, interner: &keys, into: &scratch)
            for c in scratch { if let id = keys.single(c) { out.append(id) } }
            return
        }
        var tuples: [[Int32]] = [[]]
        for x in extractors {
            x.components(doc, interner: &keys, into: &scratch)
            tuples = tuples.flatMap { t in scratch.map { t + [$0] } }
            if tuples.isEmpty { return }
        }
        for t in tuples { if let id = keys.tuple(t) { out.append(id) } }
    }

    // MARK: Tiebreakers

    /// Numeric tiebreakers sort by value; string ones by their rank among all values.
    private mutating func prepareTiebreakers() {
        guard let field = executor.options.tiebreakerField else { return }
        var strings = Set<String>()
        for part in parts {
            let seg = executor.readers[part.reader].segments[part.segment].segment
            if let c = seg.columns[field], c.kind == .string, let dict = c.dictionary {
                for i in 0..<dict.count { strings.insert(dict.string(i)) }
            }
        }
        guard !strings.isEmpty else { return }
        let sorted = strings.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var rank: [String: Int64] = [:]
        for (i, s) in sorted.enumerated() { rank[s] = Int64(i) }
        tiebreakRanks = parts.map { part in
            let seg = executor.readers[part.reader].segments[part.segment].segment
            guard let c = seg.columns[field], c.kind == .string, let dict = c.dictionary else { return [] }
            return (0..<dict.count).map { rank[dict.string($0)]! }
        }
    }

    private func tiebreakRank(_ column: Column, slot: Int, part: Int) -> Int64 {
        switch column.kind {
        case .int64, .date: return column.ints[slot]
        case .double:
            // Order-preserving integer form of a double.
            let bits = Int64(bitPattern: column.doubles[slot].bitPattern)
            return bits < 0 ? bits ^ Int64.max : bits
        case .string: return tiebreakRanks[part][Int(column.codes[slot])]
        default: return 0
        }
    }

    // MARK: Missing events

    /// Elasticsearch's check of `![…]` stages on a completed candidate: no such event of the
    /// key strictly between its positive neighbours (by millisecond), and for leading and
    /// trailing ones, some `maxspan` window around the sequence free of them.
    private mutating func passesMissing(_ c: Completed, entries: [Entry], positive: [Int]) -> Bool {
        let first = positive.first!, last = positive.last!
        let start = entries[Int(c.entries.first!)].timestamp, end = entries[Int(c.entries.last!)].timestamp
        var lastLeading: Int64?
        var firstTrailing: Int64?
        var next = 0
        for s in stages.indices {
            if !stages[s].missing {
                next += 1
                continue
            }
            let stamps = missingStamps(s)[c.key] ?? []
            if s < first {
                if let t = stamps.last(where: { $0 < start }) { lastLeading = max(lastLeading ?? t, t) }
            } else if s > last {
                if let t = stamps.first(where: { $0 > end }) { firstTrailing = min(firstTrailing ?? t, t) }
            } else {
                let lo = entries[Int(c.entries[next - 1])].timestamp, hi = entries[Int(c.entries[next])].timestamp
                if stamps.contains(where: { $0 > lo && $0 < hi }) { return false }
            }
        }
        let leadingMissing = stages.first!.missing, trailingMissing = stages.last!.missing
        func apart(_ a: Int64?, _ b: Int64?) -> Bool {
            guard let a, let b else { return true }
            return b - a > (maxspan ?? Int64.max)
        }
        return (firstTrailing == nil && lastLeading == nil)
            || (lastLeading == nil && leadingMissing)
            || (firstTrailing == nil && trailingMissing)
            || (leadingMissing && trailingMissing && apart(lastLeading, firstTrailing))
            || (leadingMissing && !trailingMissing && apart(lastLeading, end))
            || (!leadingMissing && trailingMissing && apart(start, firstTrailing))
    }

    private var missingCache: [Int: [Int32: [Int64]]] = [:]

    /// For a missing-event stage: each key's event timestamps, ascending.
    private mutating func missingStamps(_ s: Int) -> [Int32: [Int64]] {
        if let hit = missingCache[s] { return hit }
        var entries: [Entry] = []
        append(stages[s], bitmaps(stages[s].condition), stage: Int32(s), into: &entries)
        var out: [Int32: [Int64]] = [:]
        for e in entries { out[e.key, default: []].append(e.timestamp) }
        for k in out.keys { out[k]!.sort() }
        missingCache[s] = out
        return out
    }
}

/// Join key values as dense integers: components (one key field's value) and tuples.
/// Strings are interned by their bytes (no `String` is made per value); other values by value.
/// Component ids: even for strings (code * 2), odd for other values.
struct KeyInterner {
    private var strings = ByteDictionary()
    private var otherIDs: [QueryValue: Int32] = [:]
    private var others: [QueryValue] = []
    private var tupleIDs: [[Int32]: Int32] = [:]
    private var tuples: [[Int32]] = []
    /// Tuple id of each one-component tuple, by component id (-1 until seen).
    private var singles: [Int32] = []
    /// When set, unknown values are not added: lookups of later stages only find keys that
    /// an earlier stage started.
    var lookupOnly = false

    var count: Int { tuples.count }

    /// The id of a string given as bytes, or nil when `lookupOnly` and unseen.
    mutating func string(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
        if lookupOnly { return strings.find(bytes).map { $0 * 2 } }
        return strings.intern(bytes) * 2
    }

    mutating func component(_ v: QueryValue) -> Int32? {
        if case .string(var s) = v { return s.withUTF8 { string($0) } }
        if let id = otherIDs[v] { return id }
        if lookupOnly { return nil }
        let id = Int32(others.count) * 2 + 1
        others.append(v)
        otherIDs[v] = id
        return id
    }

    func value(ofComponent id: Int32) -> QueryValue {
        if id & 1 == 1 { return others[Int(id >> 1)] }
        return .string(String(decoding: strings.entry(Int(id >> 1)), as: UTF8.self))
    }

    /// One-key tuples bypass the tuple table: an array indexed by component id.
    mutating func single(_ component: Int32) -> Int32? {
        let c = Int(component)
        if c < singles.count, singles[c] >= 0 { return singles[c] }
        if lookupOnly { return nil }
        let id = Int32(tuples.count)
        tuples.append([component])
        if c >= singles.count { singles.append(contentsOf: repeatElement(-1, count: max(c + 1, singles.count * 2) - singles.count)) }
        singles[c] = id
        return id
    }

    mutating func tuple(_ parts: [Int32]) -> Int32? {
        if let id = tupleIDs[parts] { return id }
        if lookupOnly { return nil }
        let id = Int32(tuples.count)
        tuples.append(parts)
        tupleIDs[parts] = id
        return id
    }

    /// A tuple's values, as the response shows them.
    func values(ofTuple id: Int32) -> [QueryValue] { tuples[Int(id)].map { value(ofComponent: $0) } }
}

/// One join key over one segment: its component ids per document. A string column's
/// dictionary is interned once per segment (by bytes); other columns per value.
struct KeyColumn {
    let column: Column?
    let expr: Expr
    let segment: Segment
    let optional: Bool
    let nullID: Int32?
    /// Component id per dictionary code, for string columns (-1: not a known key).
    private var codeIDs: [Int32] = []

    init(expr: Expr, segment: Segment, optional: Bool, interner: inout KeyInterner) {
        self.expr = expr
        self.segment = segment
        self.optional = optional
        nullID = interner.component(.null)
        if case .field(let path) = expr { column = segment.columns[path] } else { column = nil }
        if let column, column.kind == .string, let dict = column.dictionary {
            codeIDs = (0..<dict.count).map { interner.string(dict.entry($0)) ?? -1 }
        }
    }

    /// The document's component ids into `out` (emptied first); none when missing and required.
    func components(_ doc: Int, interner: inout KeyInterner, into out: inout [Int32]) {
        out.removeAll(keepingCapacity: true)
        var any = false
        if case .field = expr {
            if let column {
                for slot in column.slots(doc) {
                    any = true
                    if column.kind == .string {
                        let id = codeIDs[Int(column.codes[slot])]
                        if id >= 0 { out.append(id) }
                    } else {
                        let v = column.value(atSlot: slot)
                        let q: QueryValue = if case .date(let ms) = v { .string(DateFormats.formatISO(ms)) } else { SegmentFilter.queryValue(v) }
                        if let id = interner.component(q) { out.append(id) }
                    }
                }
            }
        } else {
            let v = Evaluator().evaluate(expr) { path in
                guard let c = segment.columns[path] else { return .null }
                let slots = c.slots(doc)
                return slots.isEmpty ? .null : SegmentFilter.queryValue(c.value(atSlot: slots.lowerBound))
            }
            if !v.isNull {
                any = true
                if let id = interner.component(v) { out.append(id) }
            }
        }
        if !any && optional, let nullID { out.append(nullID) }
    }
}
