// Automata with code-point range transitions and no epsilon transitions (as Lucene's Automaton), and the
// constructions the regex nodes need (Lucene's Automata/Operations: concatenate, union, repeat, decimal intervals).
// Every construction writes its result state by state through a Writer that enforces a state and transition
// budget, so no pattern can allocate without bound; a repetition is checked against the budget before copying.

extension LuceneRegex {
    /// Size limits for one compilation.
    struct Limits {
        /// The caller's max_determinized_states, reported in too-complex messages.
        let workLimit: Int
        let maxStates: Int
        let maxTransitions: Int

        init(workLimit: Int, patternLength: Int) {
            self.workLimit = workLimit
            // Room for what the pattern spells out (even a 64 KB union of literals) and for what determinizing
            // within the work limit can produce (effort 10 * limit); hard-capped so memory stays bounded
            // (about 13 bytes a transition and 9 a state).
            let fromLimit = workLimit > 200_000 ? 2_000_000 : Swift.max(workLimit, 0) * 10
            let states = Swift.min(2_000_000, Swift.max(fromLimit, 4 * patternLength, 100_000) + 1024)
            self.maxStates = states
            self.maxTransitions = 4 * states
        }
    }

    /// An automaton over code points: state 0 is initial; transitions are [lo, hi] ranges, sorted per state.
    struct NFA: Sendable {
        var first: [Int32]  // transitions of state s are first[s]..<first[s + 1]
        var lo: [UInt32]
        var hi: [UInt32]
        var to: [Int32]
        var accept: [Bool]

        var stateCount: Int { accept.count }
        var transitionCount: Int { to.count }

        func transitions(_ s: Int) -> Range<Int> { Int(first[s])..<Int(first[s + 1]) }

        /// True when no state has two transitions on the same code point.
        var isDeterministic: Bool {
            for s in 0..<stateCount {
                let range = transitions(s)
                for k in range.dropFirst() where lo[k] <= hi[k - 1] { return false }
            }
            return true
        }

        /// The language with no strings.
        static let emptyLanguage = NFA(first: [0, 0], lo: [], hi: [], to: [], accept: [false])
        /// The language with only the empty string.
        static let emptyString = NFA(first: [0, 0], lo: [], hi: [], to: [], accept: [true])
    }

    /// Builds an NFA one state at a time; a state's transitions are sorted and merged when the next state starts.
    struct Writer {
        private var first: [Int32] = []
        private var lo: [UInt32] = []
        private var hi: [UInt32] = []
        private var to: [Int32] = []
        private var accept: [Bool] = []
        private var scratch: [(lo: UInt32, hi: UInt32, to: Int32)] = []
        private let limits: Limits

        init(_ limits: Limits) { self.limits = limits }

        var stateCount: Int { accept.count }

        mutating func addState(accept isAccept: Bool) throws(LuceneRegexError) {
            closeState()
            if accept.count >= limits.maxStates { throw overBudget }
            first.append(Int32(to.count))
            accept.append(isAccept)
        }

        /// Adds a transition from the state added last.
        mutating func addTransition(_ low: UInt32, _ high: UInt32, to target: Int32) throws(LuceneRegexError) {
            if to.count >= limits.maxTransitions { throw overBudget }
            lo.append(low)
            hi.append(high)
            to.append(target)
        }

        /// Copies the transitions of `state` in `a` to the state added last, shifting targets by `offset`.
        mutating func copyTransitions(of a: NFA, state: Int, offset: Int32) throws(LuceneRegexError) {
            for k in a.transitions(state) { try addTransition(a.lo[k], a.hi[k], to: a.to[k] + offset) }
        }

        mutating func finish() -> NFA {
            closeState()
            return NFA(first: first + [Int32(to.count)], lo: lo, hi: hi, to: to, accept: accept)
        }

        private var overBudget: LuceneRegexError {
            .tooComplex(states: accept.count, transitions: to.count, limit: limits.workLimit)
        }

        /// Merges overlapping or adjacent ranges to the same target, then orders the last state's transitions by lo.
        private mutating func closeState() {
            guard let start = first.last.map(Int.init), to.count - start > 1 else { return }
            scratch.removeAll(keepingCapacity: true)
            for k in start..<to.count { scratch.append((lo[k], hi[k], to[k])) }
            scratch.sort { $0.to != $1.to ? $0.to < $1.to : $0.lo < $1.lo }
            var kept = 0
            for k in scratch.indices {
                if kept > 0, scratch[kept - 1].to == scratch[k].to, scratch[k].lo <= scratch[kept - 1].hi &+ 1 {
                    scratch[kept - 1].hi = Swift.max(scratch[kept - 1].hi, scratch[k].hi)
                } else {
                    scratch[kept] = scratch[k]
                    kept += 1
                }
            }
            scratch.removeLast(scratch.count - kept)
            scratch.sort { $0.lo != $1.lo ? $0.lo < $1.lo : $0.hi < $1.hi }
            lo.removeLast(lo.count - start)
            hi.removeLast(hi.count - start)
            to.removeLast(to.count - start)
            for t in scratch {
                lo.append(t.lo)
                hi.append(t.hi)
                to.append(t.to)
            }
        }
    }

    /// Turns parsed nodes into one NFA, bottom-up in node order (children precede parents), without recursion.
    struct Compiler {
        let nodes: [Node]
        let caseInsensitive: Bool
        let limits: Limits
        private var built: [NFA?]

        init(nodes: [Node], caseInsensitive: Bool, limits: Limits) {
            self.nodes = nodes
            self.caseInsensitive = caseInsensitive
            self.limits = limits
            self.built = Array(repeating: nil, count: nodes.count)
        }

        mutating func compile(root: Int32) throws(LuceneRegexError) -> NFA {
            for i in nodes.indices {
                switch nodes[i] {
                case .literal, .ranges, .emptyLanguage, .anyString, .interval, .named:
                    continue  // leaves are built when their parent takes them, so literals can be joined
                case .concat(let children):
                    built[i] = try concat(children)
                case .union(let children):
                    var parts: [NFA] = []
                    for child in children { parts.append(try take(child)) }
                    built[i] = try union(parts)
                case .intersection(let children):
                    var result = try take(children[0])
                    for child in children.dropFirst() {
                        let next = try take(child)
                        result = try LuceneRegex.intersection(result, next, limits: limits)
                    }
                    built[i] = result
                case .repeatRange(let child, let min, let max):
                    // Take first: calling a method on self with take() as its argument would copy `built`.
                    let operand = try take(child)
                    built[i] = try repeatRange(operand, min: min, max: max)
                case .complement(let child):
                    let operand = try take(child)
                    built[i] = try LuceneRegex.complement(operand, limits: limits)
                }
            }
            return try take(root)
        }

        /// Moves a child's automaton out (each node has one parent), building a leaf on demand.
        private mutating func take(_ node: Int32) throws(LuceneRegexError) -> NFA {
            let i = Int(node)
            if let a = built[i] {
                built[i] = nil
                return a
            }
            switch nodes[i] {
            case .literal(let scalars): return try literal(scalars)
            case .ranges(let set): return try ranges(set)
            case .emptyLanguage: return .emptyLanguage
            case .anyString: return try ranges([0, LuceneRegex.maxCodePoint], loop: true)
            case .interval(let min, let max, let digits): return try decimalInterval(min, max, digits: digits)
            case .named(let name):
                // Elasticsearch builds regexps without an AutomatonProvider, so Lucene reports the name missing.
                throw .syntax("'\(name)' not found", at: nil)
            default:
                preconditionFailure("inner regex node \(i) taken before it was built")
            }
        }

        /// Concatenates children, joining runs of literal leaves into one string first.
        private mutating func concat(_ children: [Int32]) throws(LuceneRegexError) -> NFA {
            var parts: [NFA] = []
            var run: [UInt32] = []
            for child in children {
                if built[Int(child)] == nil, case .literal(let scalars) = nodes[Int(child)] {
                    run += scalars
                    continue
                }
                if !run.isEmpty {
                    parts.append(try literal(run))
                    run = []
                }
                parts.append(try take(child))
            }
            if !run.isEmpty || parts.isEmpty { parts.append(try literal(run)) }
            return try concatenate(parts)
        }

        /// A string; each character matches its case variants when case-insensitive (Lucene's CaseFolding).
        private func literal(_ scalars: [UInt32]) throws(LuceneRegexError) -> NFA {
            var w = Writer(limits)
            for (k, c) in scalars.enumerated() {
                try w.addState(accept: false)
                if caseInsensitive {
                    for variant in LuceneRegex.caseVariants(c) { try w.addTransition(variant, variant, to: Int32(k + 1)) }
                } else {
                    try w.addTransition(c, c, to: Int32(k + 1))
                }
            }
            try w.addState(accept: true)
            return w.finish()
        }

        /// One character from a set (or, with `loop`, any string over it).
        private func ranges(_ set: [UInt32], loop: Bool = false) throws(LuceneRegexError) -> NFA {
            var w = Writer(limits)
            try w.addState(accept: loop)
            for k in stride(from: 0, to: set.count, by: 2) { try w.addTransition(set[k], set[k + 1], to: loop ? 0 : 1) }
            if !loop { try w.addState(accept: true) }
            return w.finish()
        }

        /// Lucene's concatenate: an accept state of one part takes the initial transitions of the next part, and of
        /// the parts after it while they accept the empty string; it stays accepting if all remaining parts do.
        private func concatenate(_ parts: [NFA]) throws(LuceneRegexError) -> NFA {
            if parts.count == 1 { return parts[0] }
            var offsets: [Int32] = [0]
            for part in parts { offsets.append(offsets[offsets.count - 1] + Int32(part.stateCount)) }
            var w = Writer(limits)
            for (i, part) in parts.enumerated() {
                for s in 0..<part.stateCount {
                    var isAccept = false
                    if part.accept[s] {
                        var j = i + 1
                        while j < parts.count && parts[j].accept[0] { j += 1 }
                        isAccept = j == parts.count
                    }
                    try w.addState(accept: isAccept)
                    try w.copyTransitions(of: part, state: s, offset: offsets[i])
                    guard part.accept[s] else { continue }
                    var j = i + 1
                    while j < parts.count {
                        try w.copyTransitions(of: parts[j], state: 0, offset: offsets[j])
                        if !parts[j].accept[0] { break }
                        j += 1
                    }
                }
            }
            return w.finish()
        }

        /// A new initial state takes every part's initial transitions.
        private func union(_ parts: [NFA]) throws(LuceneRegexError) -> NFA {
            if parts.count == 1 { return parts[0] }
            var w = Writer(limits)
            try w.addState(accept: parts.contains { $0.accept[0] })
            var offset: Int32 = 1
            for part in parts {
                try w.copyTransitions(of: part, state: 0, offset: offset)
                offset += Int32(part.stateCount)
            }
            offset = 1
            for part in parts {
                for s in 0..<part.stateCount {
                    try w.addState(accept: part.accept[s])
                    try w.copyTransitions(of: part, state: s, offset: offset)
                }
                offset += Int32(part.stateCount)
            }
            return w.finish()
        }

        /// `a{min,max}` (max nil: unbounded) as a chain of copies: an accept state of copy j takes the initial
        /// transitions of copy j + 1, or of its own copy when it is the last copy of an unbounded repeat; it
        /// accepts once j >= min (or always when `a` accepts the empty string). Copy j + 1 suffices even then:
        /// skipping a copy through the empty string only leaves fewer copies to use.
        func repeatRange(_ a: NFA, min: Int, max: Int?) throws(LuceneRegexError) -> NFA {
            if max == 0 { return .emptyString }
            let n = a.stateCount
            let acceptsEmpty = a.accept[0]
            let copies = max ?? Swift.max(min, 1)
            // Without an accepting start, an optional prefix needs a fresh initial state: a's own start may be
            // re-entered mid-match, where accepting would be wrong.
            let freshStart = min == 0 && !acceptsEmpty
            let acceptCount = a.accept.reduce(0) { $0 + ($1 ? 1 : 0) }
            let startTransitions = a.transitions(0).count
            let (states, o1) = copies.multipliedReportingOverflow(by: n)
            let (perCopy, o2) = acceptCount.multipliedReportingOverflow(by: startTransitions)
            let (transitions, o3) = copies.multipliedReportingOverflow(by: a.transitionCount + perCopy)
            if o1 || o2 || o3 || states >= limits.maxStates || transitions >= limits.maxTransitions {
                throw .tooComplex(states: n, transitions: a.transitionCount, limit: limits.workLimit)
            }
            var w = Writer(limits)
            let base: Int32 = freshStart ? 1 : 0
            if freshStart {
                try w.addState(accept: true)
                try w.copyTransitions(of: a, state: 0, offset: base)
            }
            for j in 1...copies {
                let offset = base + Int32((j - 1) * n)
                for s in 0..<n {
                    try w.addState(accept: a.accept[s] && (j >= min || acceptsEmpty))
                    try w.copyTransitions(of: a, state: s, offset: offset)
                    guard a.accept[s] else { continue }
                    if j < copies {
                        try w.copyTransitions(of: a, state: 0, offset: offset + Int32(n))
                    } else if max == nil {
                        try w.copyTransitions(of: a, state: 0, offset: offset)
                    }
                }
            }
            return w.finish()
        }

        /// Lucene's makeDecimalInterval: digits > 0 accepts exactly that many digits (zero-padded); otherwise any
        /// number of leading zeros is accepted.
        private func decimalInterval(_ min: Int, _ max: Int, digits: Int) throws(LuceneRegexError) -> NFA {
            if digits > 0 { return try fixedWidth(digits, min, max) }
            var width = 1
            var power = 10
            while power <= max {
                width += 1
                power *= 10
            }
            var parts: [NFA] = []
            power = 10
            for length in 1..<width {
                // Strings shorter than max's width: every value that fits, leading zeros allowed.
                if min <= power - 1 { parts.append(try fixedWidth(length, min, power - 1)) }
                power *= 10
            }
            let zeros = try repeatRange(try literal([0x30]), min: 0, max: nil)
            parts.append(try concatenate([zeros, try fixedWidth(width, min, max)]))
            return try union(parts)
        }

        /// Strings of exactly `width` ASCII digits whose value is in low...high (both fit in `width` digits).
        private func fixedWidth(_ width: Int, _ low: Int, _ high: Int) throws(LuceneRegexError) -> NFA {
            var lowDigits = [UInt32](repeating: 0, count: width)
            var highDigits = [UInt32](repeating: 0, count: width)
            var l = low
            var h = high
            for p in stride(from: width - 1, through: 0, by: -1) {
                lowDigits[p] = UInt32(l % 10)
                highDigits[p] = UInt32(h % 10)
                l /= 10
                h /= 10
            }
            // A state is (position, still equal to low's prefix, still equal to high's prefix): key p * 4 + flags.
            var ids = [Int32](repeating: -1, count: (width + 1) * 4)
            var queue = [3]
            ids[3] = 0
            var w = Writer(limits)
            var k = 0
            while k < queue.count {
                let key = queue[k]
                k += 1
                let p = key / 4
                let tightLow = key & 2 != 0
                let tightHigh = key & 1 != 0
                try w.addState(accept: p == width)
                if p == width { continue }
                let first = tightLow ? lowDigits[p] : 0
                let last = tightHigh ? highDigits[p] : 9
                if first > last { continue }
                for d in first...last {
                    let next = (p + 1) * 4 + (tightLow && d == lowDigits[p] ? 2 : 0) + (tightHigh && d == highDigits[p] ? 1 : 0)
                    if ids[next] < 0 {
                        ids[next] = Int32(queue.count)
                        queue.append(next)
                    }
                    try w.addTransition(0x30 + d, 0x30 + d, to: ids[next])
                }
            }
            return w.finish()
        }
    }
}
