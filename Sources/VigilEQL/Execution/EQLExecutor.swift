import Dispatch
import Synchronization
public import VigilQuery
public import VigilStore

/// An event found by a query: where it lives and how it sorts.
public struct EventRef: Sendable {
    public var reader: Int
    public var segment: Int
    public var doc: Int
    public var timestamp: Int64
    /// Null when the event has no tiebreaker value (sorts last).
    public var tiebreaker: QueryValue
    /// Arrival order within the index, the implicit last tiebreaker.
    public var seqNo: Int64

    /// (timestamp, tiebreaker, index, arrival), as Elasticsearch orders EQL results.
    public static func precedes(_ a: EventRef, _ b: EventRef) -> Bool {
        if a.timestamp != b.timestamp { return a.timestamp < b.timestamp }
        if a.tiebreaker != b.tiebreaker {
            if a.tiebreaker.isNull { return false }
            if b.tiebreaker.isNull { return true }
            if case .bool(true) = Evaluator.compareValues(a.tiebreaker, b.tiebreaker, .lt) { return true }
            if case .bool(true) = Evaluator.compareValues(b.tiebreaker, a.tiebreaker, .lt) { return false }
        }
        if a.reader != b.reader { return a.reader < b.reader }
        return a.seqNo < b.seqNo
    }
}

/// A matched sequence (or sample): its join key values and its events in stage order;
/// nil stands for a missing event (`![…]`).
public struct SequenceMatch: Sendable {
    public var joinKeys: [QueryValue]
    public var events: [EventRef?]
}

public enum EQLResult: Sendable {
    case events([EventRef], total: Int)
    case sequences([SequenceMatch], total: Int)
}

/// Runs a plan over the readers of the indices a request names.
public struct EQLExecutor: Sendable {
    public let readers: [IndexReader]
    public var options: EQLOptions
    /// Leaf results shared with other queries over the same readers (a batch of rules).
    public var cache: LeafCache?
    /// Checked between segments and along a sequence's timeline; a cancelled run throws.
    public var cancellation: Cancellation?

    public init(readers: [IndexReader], options: EQLOptions, cache: LeafCache? = nil) {
        self.readers = readers
        self.options = options
        self.cache = cache
    }

    public func run(_ plan: EQLPlan) throws(EQLError) -> EQLResult {
        var resolved = self
        resolved.options.timestampField = plan.timestampField
        resolved.options.tiebreakerField = plan.tiebreakerField
        let result = resolved.execute(plan)
        if cancellation?.isCancelled == true { throw EQLError(.cancelled, "task cancelled [the search was deleted or gave up]") }
        return result
    }

    var isCancelled: Bool { cancellation?.isCancelled == true }

    private func execute(_ plan: EQLPlan) -> EQLResult {
        switch plan.kind {
        case .event(let condition):
            // Only the `size` events nearest the end the limit takes from can be returned: each
            // segment (already in time order) offers those, and only they are sorted.
            let fromTail = plan.pipes.first.map { $0.kind == .tail } ?? options.tail
            // Segments are in `@timestamp` order; another timestamp field needs every match.
            let keep = options.timestampField == "@timestamp" ? max(0, options.size) : nil
            var (events, total) = matches(condition, keep: keep, fromTail: fromTail)
            events.sort(by: EventRef.precedes)
            return .events(limit(events, plan.pipes), total: total)
        case .sequence(let stages, let until, let maxspan):
            var matcher = SequenceMatcher(stages: stages, until: until, maxspan: maxspan, executor: self)
            let found = matcher.run { limit($0, plan.pipes) }
            return .sequences(found, total: found.count)
        case .sample(let stages):
            // Samples come in key order; `result_position` does not reverse them.
            var found = SampleMatcher(stages: stages, executor: self).run(limit: max(0, options.size))
            found = EQLExecutor.applyPipes(found, plan.pipes)
            return .sequences(found, total: found.count)
        }
    }

    /// `size` from the end `result_position` names, or, with pipes, from the end the first
    /// `head`/`tail` pipe names; then the pipes. A pipe never returns more than `size`.
    func limit<T>(_ items: [T], _ pipes: [EQLPipe]) -> [T] {
        let n = max(0, options.size)
        let fromTail = pipes.first.map { $0.kind == .tail } ?? options.tail
        return EQLExecutor.applyPipes(fromTail ? Array(items.suffix(n)) : Array(items.prefix(n)), pipes)
    }

    static func applyPipes<T>(_ items: [T], _ pipes: [EQLPipe]) -> [T] {
        var out = items
        for p in pipes {
            switch p.kind {
            case .head: out = Array(out.prefix(max(0, p.count)))
            case .tail: out = Array(out.suffix(max(0, p.count)))
            }
        }
        return out
    }

    /// Every live event with a timestamp for which `condition` is true, unordered.
    /// Samples need no timestamp (`requireTimestamp: false`); their events without one sort as 0.
    func matches(_ condition: Expr, requireTimestamp: Bool = true) -> [EventRef] {
        matches(condition, keep: nil, fromTail: false, requireTimestamp: requireTimestamp).events
    }

    /// The matching events and how many there are. With `keep`, each segment contributes only
    /// its first (or last) `keep` matches, plus any that tie with the last kept on timestamp
    /// (the tiebreaker may reorder those).
    func matches(_ condition: Expr, keep: Int?, fromTail: Bool, requireTimestamp: Bool = true) -> (events: [EventRef], total: Int) {
        let parts = readers.enumerated().flatMap { (ri, r) in r.segments.indices.map { (reader: ri, segment: $0) } }
        // Segments are scanned in parallel, never more at once than there are cores.
        let found = Mutex([([EventRef], Int)](repeating: ([], 0), count: parts.count))
        DispatchQueue.concurrentPerform(iterations: parts.count) { k in
            let result = matches(condition, reader: parts[k].reader, segment: parts[k].segment, keep: keep, fromTail: fromTail, requireTimestamp: requireTimestamp)
            found.withLock { $0[k] = result }
        }
        return found.withLock { all in (all.flatMap { $0.0 }, all.reduce(0) { $0 + $1.1 }) }
    }

    private func matches(_ condition: Expr, reader ri: Int, segment si: Int, keep: Int?, fromTail: Bool, requireTimestamp: Bool) -> ([EventRef], Int) {
        if isCancelled { return ([], 0) }
        let live = readers[ri].segments[si]
        let seg = live.segment
        var hits = SegmentFilter(segment: seg, cache: cache).matching(condition)
        hits.subtract(live.deletes)
        let stamps = seg.columns[options.timestampField]
        if requireTimestamp {
            guard let stamps else { return ([], 0) }
            hits.formIntersection(Bitmap(count: seg.docCount, words: Array(stamps.present)))
        }
        let total = hits.cardinality
        var out: [EventRef] = []
        guard total > 0 else { return (out, 0) }
        var docs: [Int] = []
        // Segments are sorted by `@timestamp` only when it is a date.
        if let keep, keep < total, stamps?.kind == .date {
            var all: [Int] = []
            all.reserveCapacity(total)
            hits.forEach { all.append($0) }
            let ordered = fromTail ? Array(all.reversed()) : all
            var k = min(keep, ordered.count)
            if k > 0 {
                let boundary = EQLExecutor.timestamp(stamps, ordered[k - 1])
                while k < ordered.count && EQLExecutor.timestamp(stamps, ordered[k]) == boundary { k += 1 }
            }
            docs = Array(ordered.prefix(k))
        } else {
            docs.reserveCapacity(total)
            hits.forEach { docs.append($0) }
        }
        let tiebreak = options.tiebreakerField.flatMap { seg.columns[$0] }
        for doc in docs {
            guard let ts = EQLExecutor.timestamp(stamps, doc) ?? (requireTimestamp ? nil : 0) else { continue }
            var tb = QueryValue.null
            if let tiebreak {
                let slots = tiebreak.slots(doc)
                if !slots.isEmpty { tb = SegmentFilter.queryValue(tiebreak.value(atSlot: slots.lowerBound)) }
            }
            out.append(EventRef(reader: ri, segment: si, doc: doc, timestamp: ts, tiebreaker: tb, seqNo: seg.seqNo(doc)))
        }
        return (out, total)
    }

    static func timestamp(_ column: Column?, _ doc: Int) -> Int64? {
        guard let column else { return nil }
        let slots = column.slots(doc)
        guard !slots.isEmpty else { return nil }
        switch column.kind {
        case .date, .int64: return column.ints[slots.lowerBound]
        case .double: return Int64(exactly: column.doubles[slots.lowerBound].rounded(.down))
        case .string: return Int64(column.dictionary!.string(Int(column.codes[slots.lowerBound])))
        default: return nil
        }
    }

    /// The values of `key` for an event (several for a multi-valued field); empty when null.
    /// Dates come as ISO text (as sequences render them) or epoch milliseconds.
    func keyValues(_ key: Expr, _ e: EventRef, datesAsText: Bool = true) -> [QueryValue] {
        let seg = readers[e.reader].segments[e.segment].segment
        if case .field(let path) = key {
            guard let column = seg.columns[path] else { return [] }
            return column.slots(e.doc).map { slot in
                let v = column.value(atSlot: slot)
                if datesAsText, case .date(let ms) = v { return .string(DateFormats.formatISO(ms)) }
                return SegmentFilter.queryValue(v)
            }
        }
        let v = Evaluator().evaluate(key) { path in
            guard let column = seg.columns[path] else { return .null }
            let slots = column.slots(e.doc)
            return slots.isEmpty ? .null : SegmentFilter.queryValue(column.value(atSlot: slots.lowerBound))
        }
        return v.isNull ? [] : [v]
    }
}
