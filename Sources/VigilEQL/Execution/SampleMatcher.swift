import VigilQuery

/// Matches `sample by keys [c1] [c2] …`: for each join key present in every criterion, one
/// distinct event per criterion, in no time order. Keys come out in ascending order (nulls
/// first), up to `max_samples_per_key` samples each, chosen in index order as Elasticsearch does.
struct SampleMatcher {
    let stages: [StagePlan]
    let executor: EQLExecutor

    func run(limit: Int) -> [SequenceMatch] {
        guard limit > 0, !stages.isEmpty else { return [] }
        let perKey = max(1, executor.options.maxSamplesPerKey)
        // Per criterion: key tuple -> events in index order.
        var groups: [[[QueryValue]: [EventRef]]] = []
        for stage in stages {
            var g: [[QueryValue]: [EventRef]] = [:]
            let events = executor.matches(stage.condition, requireTimestamp: false).sorted { a, b in
                a.reader != b.reader ? a.reader < b.reader : a.seqNo < b.seqNo
            }
            for e in events {
                for key in tuples(stage, e) { g[key, default: []].append(e) }
            }
            groups.append(g)
        }
        var keys = Array(groups[0].keys).filter { k in groups.allSatisfy { $0[k] != nil } }
        keys.sort(by: SampleMatcher.ascending)
        var out: [SequenceMatch] = []
        // perKey comes from the request: the window is bounded by what a group can hold anyway.
        let window = stages.count + min(perKey, Int(Int32.max)) - 1
        for key in keys {
            let lists = groups.map { Array($0[key]!.prefix(window)) }
            var chosen: [EventRef] = []
            var found = 0
            func pick(_ stage: Int) {
                if found >= perKey || out.count >= limit { return }
                if stage == lists.count {
                    out.append(SequenceMatch(joinKeys: key, events: chosen))
                    found += 1
                    return
                }
                for e in lists[stage] where !chosen.contains(where: { $0.reader == e.reader && $0.segment == e.segment && $0.doc == e.doc }) {
                    chosen.append(e)
                    pick(stage + 1)
                    chosen.removeLast()
                    if found >= perKey || out.count >= limit { return }
                }
            }
            pick(0)
            if out.count >= limit { break }
        }
        return out
    }

    /// Composite-aggregation order: null first, then by value.
    static func ascending(_ a: [QueryValue], _ b: [QueryValue]) -> Bool {
        for (x, y) in zip(a, b) where x != y {
            if x.isNull { return true }
            if y.isNull { return false }
            return Evaluator.compareValues(x, y, .lt) == .bool(true)
        }
        return false
    }

    /// Key tuples of an event (dates as epoch milliseconds); none when a required key is missing.
    func tuples(_ stage: StagePlan, _ e: EventRef) -> [[QueryValue]] {
        var out: [[QueryValue]] = [[]]
        for (i, k) in stage.keys.enumerated() {
            let values = Array(Set(executor.keyValues(k, e, datesAsText: false).filter { !$0.isNull }))
            if values.isEmpty && !(stage.optionalKeys.indices.contains(i) && stage.optionalKeys[i]) { return [] }
            let choices = values.isEmpty ? [QueryValue.null] : values
            out = out.flatMap { t in choices.map { t + [$0] } }
        }
        return out
    }
}
