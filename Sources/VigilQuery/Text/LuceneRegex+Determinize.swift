// Determinization (subset construction over code-point ranges, with Lucene's work limit), complement,
// intersection, and packing the final DFA into the matcher's class table.

extension LuceneRegex {
    /// Lucene 10 complements (`~`, DEPRECATED_COMPLEMENT) within its default work limit, whatever the caller's.
    static let complementWorkLimit = 10_000

    private struct Event {
        var point: UInt32
        var target: Int32
        var delta: Int32
    }

    /// Subset construction, as Lucene's Operations.determinize: a deterministic input is returned as is; otherwise
    /// each subset taken off the worklist costs its size in effort, and reaching 10 * workLimit is too complex.
    static func determinize(_ a: NFA, workLimit: Int, limits: Limits) throws(LuceneRegexError) -> NFA {
        if a.isDeterministic { return a }
        let (product, overflow) = Int64(workLimit).multipliedReportingOverflow(by: 10)
        let effortLimit = overflow ? Int64.max : product
        var effort: Int64 = 0
        var ids: [[Int32]: Int32] = [[0]: 0]
        var subsets: [[Int32]] = [[0]]
        var counts = [Int32](repeating: 0, count: a.stateCount)
        var listed = [Bool](repeating: false, count: a.stateCount)
        var active: [Int32] = []
        var events: [Event] = []
        var w = Writer(limits)
        var next = 0
        while next < subsets.count {
            let subset = subsets[next]
            next += 1
            effort += Int64(subset.count)
            if effort >= effortLimit {
                throw .tooComplex(states: a.stateCount, transitions: a.transitionCount, limit: workLimit)
            }
            var isAccept = false
            events.removeAll(keepingCapacity: true)
            for s in subset.lazy.map(Int.init) {
                isAccept = isAccept || a.accept[s]
                for k in a.transitions(s) {
                    events.append(Event(point: a.lo[k], target: a.to[k], delta: 1))
                    events.append(Event(point: a.hi[k] + 1, target: a.to[k], delta: -1))
                }
            }
            events.sort { $0.point < $1.point }
            try w.addState(accept: isAccept)
            // Sweep the code points: between two consecutive event points the set of targets is constant.
            var i = 0
            var segmentStart: UInt32 = 0
            var live = 0
            while i < events.count {
                let point = events[i].point
                if live > 0 && point > segmentStart {
                    var kept = 0
                    for t in active where counts[Int(t)] > 0 && !listed[Int(t)] {
                        listed[Int(t)] = true
                        active[kept] = t
                        kept += 1
                    }
                    active.removeLast(active.count - kept)
                    for t in active { listed[Int(t)] = false }
                    let key = active.sorted()
                    let id: Int32
                    if let known = ids[key] {
                        id = known
                    } else {
                        if subsets.count >= limits.maxStates {
                            throw .tooComplex(states: a.stateCount, transitions: a.transitionCount, limit: workLimit)
                        }
                        id = Int32(subsets.count)
                        ids[key] = id
                        subsets.append(key)
                    }
                    try w.addTransition(segmentStart, point - 1, to: id)
                }
                while i < events.count && events[i].point == point {
                    let t = Int(events[i].target)
                    if events[i].delta > 0 {
                        if counts[t] == 0 {
                            live += 1
                            active.append(Int32(t))
                        }
                        counts[t] += 1
                    } else {
                        counts[t] -= 1
                        if counts[t] == 0 { live -= 1 }
                    }
                    i += 1
                }
                segmentStart = point
            }
            active.removeAll(keepingCapacity: true)
        }
        return w.finish()
    }

    /// Strings not in `a`: determinize, complete with a sink, flip acceptance, drop useless states.
    static func complement(_ a: NFA, limits: Limits) throws(LuceneRegexError) -> NFA {
        let d = try determinize(a, workLimit: complementWorkLimit, limits: limits)
        let sink = Int32(d.stateCount)
        var w = Writer(limits)
        for s in 0..<d.stateCount {
            try w.addState(accept: !d.accept[s])
            var next: UInt32 = 0
            for k in d.transitions(s) {
                if d.lo[k] > next { try w.addTransition(next, d.lo[k] - 1, to: sink) }
                try w.addTransition(d.lo[k], d.hi[k], to: d.to[k])
                next = d.hi[k] + 1
            }
            if next <= maxCodePoint { try w.addTransition(next, maxCodePoint, to: sink) }
        }
        try w.addState(accept: true)
        try w.addTransition(0, maxCodePoint, to: sink)
        return try trim(w.finish(), limits: limits)
    }

    /// Strings in both: the product automaton, explored from the pair of initial states.
    static func intersection(_ a: NFA, _ b: NFA, limits: Limits) throws(LuceneRegexError) -> NFA {
        var ids: [Int64: Int32] = [0: 0]
        var pairs: [(Int32, Int32)] = [(0, 0)]
        var w = Writer(limits)
        var next = 0
        while next < pairs.count {
            let (p, q) = pairs[next]
            next += 1
            try w.addState(accept: a.accept[Int(p)] && b.accept[Int(q)])
            for j in a.transitions(Int(p)) {
                for k in b.transitions(Int(q)) {
                    let low = Swift.max(a.lo[j], b.lo[k])
                    let high = Swift.min(a.hi[j], b.hi[k])
                    if low > high { continue }
                    let key = Int64(a.to[j]) * Int64(b.stateCount) + Int64(b.to[k])
                    let id: Int32
                    if let known = ids[key] {
                        id = known
                    } else {
                        if pairs.count >= limits.maxStates {
                            throw .tooComplex(states: pairs.count, transitions: 0, limit: limits.workLimit)
                        }
                        id = Int32(pairs.count)
                        ids[key] = id
                        pairs.append((a.to[j], b.to[k]))
                    }
                    try w.addTransition(low, high, to: id)
                }
            }
        }
        return try trim(w.finish(), limits: limits)
    }

    /// Keeps only states reachable from the start that can still reach an accept state.
    static func trim(_ a: NFA, limits: Limits) throws(LuceneRegexError) -> NFA {
        let n = a.stateCount
        var reachable = [Bool](repeating: false, count: n)
        var stack: [Int32] = [0]
        reachable[0] = true
        while let s = stack.popLast() {
            for k in a.transitions(Int(s)) where !reachable[Int(a.to[k])] {
                reachable[Int(a.to[k])] = true
                stack.append(a.to[k])
            }
        }
        let useful = canReachAccept(a, from: reachable)
        if !useful[0] { return .emptyLanguage }
        var newID = [Int32](repeating: -1, count: n)
        var order: [Int] = []
        for s in 0..<n where useful[s] {
            newID[s] = Int32(order.count)
            order.append(s)
        }
        var w = Writer(limits)
        for s in order {
            try w.addState(accept: a.accept[s])
            for k in a.transitions(s) where newID[Int(a.to[k])] >= 0 {
                try w.addTransition(a.lo[k], a.hi[k], to: newID[Int(a.to[k])])
            }
        }
        return w.finish()
    }

    /// States (among `among`) from which some accept state is reachable.
    static func canReachAccept(_ a: NFA, from among: [Bool]) -> [Bool] {
        let predecessors = reverse(a)
        var result = [Bool](repeating: false, count: a.stateCount)
        var stack: [Int32] = []
        for s in 0..<a.stateCount where a.accept[s] && among[s] {
            result[s] = true
            stack.append(Int32(s))
        }
        while let t = stack.popLast() {
            for k in Int(predecessors.first[Int(t)])..<Int(predecessors.first[Int(t) + 1]) {
                let s = Int(predecessors.from[k])
                if among[s] && !result[s] {
                    result[s] = true
                    stack.append(Int32(s))
                }
            }
        }
        return result
    }

    /// For each state, the states with a transition into it.
    static func reverse(_ a: NFA) -> (first: [Int32], from: [Int32]) {
        var first = [Int32](repeating: 0, count: a.stateCount + 1)
        for t in a.to { first[Int(t) + 1] += 1 }
        for s in 0..<a.stateCount { first[s + 1] += first[s] }
        var fill = first
        var from = [Int32](repeating: 0, count: a.transitionCount)
        for s in 0..<a.stateCount {
            for k in a.transitions(s) {
                let t = Int(a.to[k])
                from[Int(fill[t])] = Int32(s)
                fill[t] += 1
            }
        }
        return (first, from)
    }
}

extension LuceneRegex.Program {
    /// Packs a DFA: code points are split into classes at every transition boundary; states that cannot reach an
    /// accept state become `dead`, states from which every string is accepted become `acceptAll`.
    init(dfa: LuceneRegex.NFA) {
        let top = LuceneRegex.maxCodePoint
        var starts: [UInt32] = [0]
        for k in 0..<dfa.transitionCount {
            starts.append(dfa.lo[k])
            if dfa.hi[k] < top { starts.append(dfa.hi[k] + 1) }
        }
        starts.sort()
        var unique: [UInt32] = []
        for value in starts where unique.last != value { unique.append(value) }
        let classCount = unique.count
        func classOf(_ scalar: UInt32) -> Int {
            var low = 0
            var high = classCount - 1
            while low < high {
                let mid = (low + high + 1) / 2
                if unique[mid] <= scalar { low = mid } else { high = mid - 1 }
            }
            return low
        }

        let n = dfa.stateCount
        let live = LuceneRegex.canReachAccept(dfa, from: [Bool](repeating: true, count: n))
        // A state accepts everything when no non-accepting or incomplete state is reachable from it.
        var spoiled = [Bool](repeating: false, count: n)
        var stack: [Int32] = []
        for s in 0..<n {
            var next: UInt32 = 0
            var complete = true
            for k in dfa.transitions(s) {
                if dfa.lo[k] != next { complete = false }
                next = dfa.hi[k] &+ 1
            }
            if !dfa.accept[s] || !complete || next != top + 1 {
                spoiled[s] = true
                stack.append(Int32(s))
            }
        }
        let predecessors = LuceneRegex.reverse(dfa)
        while let t = stack.popLast() {
            for k in Int(predecessors.first[Int(t)])..<Int(predecessors.first[Int(t) + 1]) {
                let s = Int(predecessors.from[k])
                if !spoiled[s] {
                    spoiled[s] = true
                    stack.append(Int32(s))
                }
            }
        }
        var newID = [Int32](repeating: 0, count: n)
        var order: [Int] = []
        for s in 0..<n {
            if !live[s] {
                newID[s] = Self.dead
            } else if !spoiled[s] {
                newID[s] = Self.acceptAll
            } else {
                newID[s] = Int32(2 + order.count)
                order.append(s)
            }
        }
        let stateCount = 2 + order.count
        let isDense = stateCount * classCount <= Self.denseLimit

        var words: [Int32] = []
        for byte in 0..<128 { words.append(Int32(classOf(UInt32(byte)))) }
        for value in unique { words.append(Int32(bitPattern: value)) }
        words.append(0)  // dead rejects
        words.append(1)  // acceptAll accepts
        for s in order { words.append(dfa.accept[s] ? 1 : 0) }
        if isDense {
            let base = words.count
            words += [Int32](repeating: Self.dead, count: stateCount * classCount)
            for c in 0..<classCount { words[base + classCount + c] = Self.acceptAll }
            for (row, s) in order.enumerated() {
                let rowBase = base + (row + 2) * classCount
                for k in dfa.transitions(s) {
                    let last = dfa.hi[k] == top ? classCount - 1 : classOf(dfa.hi[k] + 1) - 1
                    for c in classOf(dfa.lo[k])...last { words[rowBase + c] = newID[Int(dfa.to[k])] }
                }
            }
        } else {
            // Rows of (lastClass, target) pairs covering all classes; gaps go to dead.
            var rowFirst: [Int32] = [0]
            var pairs: [Int32] = [Int32(classCount - 1), Self.dead, Int32(classCount - 1), Self.acceptAll]
            rowFirst += [1, 2]
            for s in order {
                var nextClass = 0
                for k in dfa.transitions(s) {
                    let firstClass = classOf(dfa.lo[k])
                    let last = dfa.hi[k] == top ? classCount - 1 : classOf(dfa.hi[k] + 1) - 1
                    if firstClass > nextClass { pairs += [Int32(firstClass - 1), Self.dead] }
                    pairs += [Int32(last), newID[Int(dfa.to[k])]]
                    nextClass = last + 1
                }
                if nextClass < classCount { pairs += [Int32(classCount - 1), Self.dead] }
                rowFirst.append(Int32(pairs.count / 2))
            }
            words += rowFirst
            words += pairs
        }
        self.start = newID[0]
        self.stateCount = stateCount
        self.classCount = classCount
        self.isDense = isDense
        self.words = words
    }
}
