import VigilQuery

/// Matches `sequence` queries in one pass over the time-ordered events of all stages, with
/// state per join key: memory grows with open partial sequences, not with events.
///
/// Elasticsearch's rules: an event of stage i extends the newest partial of the same key
/// waiting at stage i-1 (older ones there are dropped, even when the extension then fails);
/// `maxspan` bounds first-to-last, inclusive; an `until` event of the key between a partial's
/// last event and the next cancels it. Missing-event stages (`![…]`) are checked on completed
/// candidates. Results are ordered by their last event, then key.
struct SequenceMatcher {
    let stages: [StagePlan]
    let until: StagePlan?
    let maxspan: Int64?
    let executor: EQLExecutor

    private struct Entry {
        var event: EventRef
        /// Index into the positive stages, or -1 for `until`.
        var stage: Int
    }

    private var memo: [(Expr, [EventRef])] = []

    init(stages: [StagePlan], until: StagePlan?, maxspan: Int64?, executor: EQLExecutor) {
        self.stages = stages
        self.until = until
        self.maxspan = maxspan
        self.executor = executor
    }

    private mutating func candidates(_ condition: Expr) -> [EventRef] {
        if let hit = memo.first(where: { $0.0 == condition }) { return hit.1 }
        let found = executor.matches(condition).sorted(by: EventRef.precedes)
        memo.append((condition, found))
        return found
    }

    mutating func run() -> [SequenceMatch] {
        let positive = stages.indices.filter { !stages[$0].missing }
        guard !positive.isEmpty else { return [] }
        var entries: [Entry] = []
        for (k, s) in positive.enumerated() {
            for e in candidates(stages[s].condition) { entries.append(Entry(event: e, stage: k)) }
        }
        if let until {
            for e in candidates(until.condition) { entries.append(Entry(event: e, stage: -1)) }
        }
        // For one event: later stages first (so it cannot fill two stages of one sequence),
        // `until` last (an until event that is also a partial's last event cancels it).
        entries.sort { a, b in
            if EventRef.precedes(a.event, b.event) { return true }
            if EventRef.precedes(b.event, a.event) { return false }
            return a.stage > b.stage
        }
        var open: [[QueryValue]: [[[EventRef]]]] = [:]
        var completed: [(key: [QueryValue], events: [EventRef])] = []
        let last = positive.count - 1
        for entry in entries {
            let plan = entry.stage < 0 ? until! : stages[positive[entry.stage]]
            for key in keyTuples(plan, entry.event) {
                if entry.stage < 0 {
                    open[key] = nil
                    continue
                }
                if entry.stage == 0 {
                    if last == 0 {
                        completed.append((key, [entry.event]))
                    } else {
                        open[key, default: [[[EventRef]]](repeating: [], count: positive.count)][0].append([entry.event])
                    }
                    continue
                }
                guard var partial = open[key]?[entry.stage - 1].last else { continue }
                open[key]![entry.stage - 1].removeAll()
                if let maxspan, entry.event.timestamp - partial[0].timestamp > maxspan { continue }
                partial.append(entry.event)
                if entry.stage == last {
                    completed.append((key, partial))
                } else {
                    open[key]![entry.stage].append(partial)
                }
            }
        }
        var out: [SequenceMatch] = []
        for c in completed {
            guard let events = withMissing(c.events, key: c.key, positive: positive) else { continue }
            out.append(SequenceMatch(joinKeys: c.key, events: events))
        }
        out.sort { a, b in
            let x = a.events.last { $0 != nil }!!, y = b.events.last { $0 != nil }!!
            if EventRef.precedes(x, y) { return true }
            if EventRef.precedes(y, x) { return false }
            return SequenceMatcher.keyPrecedes(a.joinKeys, b.joinKeys)
        }
        return out
    }

    /// Join keys element-wise ascending; null elements are skipped.
    static func keyPrecedes(_ a: [QueryValue], _ b: [QueryValue]) -> Bool {
        for (x, y) in zip(a, b) where !x.isNull && !y.isNull && x != y {
            return Evaluator.compareValues(x, y, .lt) == .bool(true)
        }
        return false
    }

    /// The events in stage order with nil at each missing-event stage, or nil when a
    /// missing-event stage's event occurred: strictly between its positive neighbours (by
    /// millisecond), or, for leading and trailing ones, inside every `maxspan` window around
    /// the sequence.
    private mutating func withMissing(_ events: [EventRef], key: [QueryValue], positive: [Int]) -> [EventRef?]? {
        guard positive.count < stages.count else { return events }
        let first = positive.first!, lastPositive = positive.last!
        let start = events.first!.timestamp, end = events.last!.timestamp
        var lastLeading: Int64?
        var firstTrailing: Int64?
        var out: [EventRef?] = []
        var next = 0
        for s in stages.indices {
            if !stages[s].missing {
                out.append(events[next])
                next += 1
                continue
            }
            out.append(nil)
            let hits = candidates(stages[s].condition).filter { keyTuples(stages[s], $0).contains(key) }
            if s < first {
                if let t = hits.last(where: { $0.timestamp < start })?.timestamp { lastLeading = max(lastLeading ?? t, t) }
            } else if s > lastPositive {
                if let t = hits.first(where: { $0.timestamp > end })?.timestamp { firstTrailing = min(firstTrailing ?? t, t) }
            } else {
                let lo = events[next - 1].timestamp, hi = events[next].timestamp
                if hits.contains(where: { $0.timestamp > lo && $0.timestamp < hi }) { return nil }
            }
        }
        let leadingMissing = stages.first!.missing, trailingMissing = stages.last!.missing
        func apart(_ a: Int64?, _ b: Int64?) -> Bool {
            guard let a, let b else { return true }
            return b - a > (maxspan ?? Int64.max)
        }
        let keep = (firstTrailing == nil && lastLeading == nil)
            || (lastLeading == nil && leadingMissing)
            || (firstTrailing == nil && trailingMissing)
            || (leadingMissing && trailingMissing && apart(lastLeading, firstTrailing))
            || (leadingMissing && !trailingMissing && apart(lastLeading, end))
            || (!leadingMissing && trailingMissing && apart(start, firstTrailing))
        return keep ? out : nil
    }

    /// Every combination of the keys' values (a multi-valued key takes part once per value).
    /// A missing value excludes the event, unless the key is `?optional`: then it is null.
    func keyTuples(_ stage: StagePlan, _ e: EventRef) -> [[QueryValue]] {
        var tuples: [[QueryValue]] = [[]]
        for (i, k) in stage.keys.enumerated() {
            let values = executor.keyValues(k, e).filter { !$0.isNull }
            if values.isEmpty && !(stage.optionalKeys.indices.contains(i) && stage.optionalKeys[i]) { return [] }
            let choices = values.isEmpty ? [QueryValue.null] : values
            tuples = tuples.flatMap { t in choices.map { t + [$0] } }
        }
        return tuples
    }
}
