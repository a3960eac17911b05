public import VigilStore

/// Runs a condition over one segment and returns the documents for which it is true.
///
/// A subexpression that reads one string field is evaluated once per dictionary entry (and
/// once for "missing"), then the column's codes are scanned against that table: wildcards,
/// regexes and functions cost per distinct value, not per event. Other subexpressions run
/// per row. `and`/`or`/`not` combine true and false sets, so nulls stay unknown.
public struct SegmentFilter {
    public let segment: Segment
    /// Leaf results shared with other queries over the same segment, if any.
    public let cache: LeafCache?
    private let evaluator = Evaluator()

    public init(segment: Segment, cache: LeafCache? = nil) {
        self.segment = segment
        self.cache = cache
    }

    /// Documents for which `e` is true.
    public func matching(_ e: Expr) -> Bitmap { evaluate(e, scope: nil, want: .t).t }

    /// Which of the true and false sets a caller reads; the other may be left wrong.
    enum Want {
        case t, f, both
        var flipped: Want { self == .t ? .f : self == .f ? .t : .both }
    }

    /// True and false sets; documents in neither are null. Only the documents of `scope` (all
    /// when nil) and the sets `want` names need a right answer: a conjunction asks its later
    /// parts only about the documents its earlier parts left open, so a costly part (a
    /// function of several fields, row by row) runs on the few events the cheap parts let
    /// through. Parts are taken cheapest first; three-valued logic makes the order irrelevant
    /// to the answer.
    private func evaluate(_ e: Expr, scope: Bitmap?, want: Want) -> (t: Bitmap, f: Bitmap) {
        let n = segment.docCount
        switch e {
        case .and(let xs):
            return conjunction(xs, scope: scope, want: want, negated: false)
        case .or(let xs):
            // a or b is not (not a and not b).
            let (t, f) = conjunction(xs, scope: scope, want: want.flipped, negated: true)
            return (f, t)
        case .not(let x):
            let (t, f) = evaluate(x, scope: scope, want: want.flipped)
            return (f, t)
        case .isTrue(let x):
            let (t, _) = evaluate(x, scope: scope, want: .t)
            var f = Bitmap.full(n)
            f.subtract(t)
            return (t, f)
        case .atLeast(let k, let xs):
            if k <= 0 { return (Bitmap.full(n), Bitmap(count: n)) }
            if k > xs.count { return (Bitmap(count: n), Bitmap.full(n)) }
            if k == 1 { return evaluate(.isTrue(.or(xs)), scope: scope, want: want) }
            var counts = [UInt16](repeating: 0, count: n)
            for x in xs { evaluate(x, scope: scope, want: .t).t.forEach { counts[$0] &+= 1 } }
            var t = Bitmap(count: n)
            for doc in 0..<n where Int(counts[doc]) >= k { t.insert(doc) }
            var f = Bitmap.full(n)
            f.subtract(t)
            return (t, f)
        default:
            if let scope, SegmentFilter.cost(e) >= 2, cache?.cached(segment, e) == nil {
                // Row by row costs per document asked: ask only the open ones. A leaf on one
                // field costs per distinct value instead, and its answer for every document
                // may serve other queries: it is narrowed only when few documents are left.
                let fields = e.fields
                if fields.count > 1 || fields == ["_id"] || scope.cardinality <= n / 16 {
                    return narrowLeaf(e, fields, scope)
                }
            }
            if let cache { return cache.value(segment, e) { leaf(e) } }
            return leaf(e)
        }
    }

    /// The conjunction of `xs` (of their negations with `negated`, which makes a disjunction
    /// its caller swaps back). Only a true part keeps a document true and any false part makes
    /// it false, so each costly part is asked only about the documents still open: those still
    /// true when only the true set is wanted, those not yet false otherwise.
    private func conjunction(_ xs: [Expr], scope: Bitmap?, want: Want, negated: Bool) -> (t: Bitmap, f: Bitmap) {
        let n = segment.docCount
        var t = Bitmap.full(n), f = Bitmap(count: n)
        for (x, cost) in SegmentFilter.cheapestFirst(xs) {
            var sub = scope
            if cost >= 2 {
                var open: Bitmap
                if want == .t {
                    open = t
                    if let scope { open.formIntersection(scope) }
                } else {
                    open = scope ?? Bitmap.full(n)
                    open.subtract(f)
                }
                if open.isEmpty { break }
                sub = open
            } else if want == .t ? scope.map(t.isDisjoint) ?? t.isEmpty : scope?.isSubset(of: f) ?? (f.cardinality == n) {
                // Decided for every document asked.
                break
            }
            let part = evaluate(x, scope: sub, want: negated ? want.flipped : want)
            let (xt, xf) = negated ? (part.f, part.t) : (part.t, part.f)
            t.formIntersection(xt)
            if want != .t { f.formUnion(xf) }
        }
        return (t, f)
    }

    /// How much a condition costs to answer for every document: 0 constant, 1 a term or an
    /// integer range on one field, 2 any other condition on one field (per distinct value),
    /// 3 several fields (per document).
    static func cost(_ e: Expr) -> Int {
        switch e {
        case .and(let xs), .or(let xs), .atLeast(_, let xs): return xs.reduce(0) { max($0, cost($1)) }
        case .not(let x), .isTrue(let x): return cost(x)
        default:
            let fields = e.fields
            if fields.isEmpty { return 0 }
            if fields.count > 1 || fields == ["_id"] { return 3 }
            return exactTerm(e) != nil || intBounds(e) != nil ? 1 : 2
        }
    }

    /// The parts of a conjunction or disjunction, cheapest first (the order does not change the
    /// answer; the costly parts then see only what the cheap ones left open).
    static func cheapestFirst(_ xs: [Expr]) -> [(Expr, cost: Int)] {
        let costs = xs.map(cost)
        return xs.indices.sorted { (costs[$0], $0) < (costs[$1], $1) }.map { (xs[$0], costs[$0]) }
    }

    /// A leaf answered for the documents of `scope` only (others are left null); a string
    /// field's distinct values are each evaluated once.
    private func narrowLeaf(_ e: Expr, _ fields: Set<String>, _ scope: Bitmap) -> (t: Bitmap, f: Bitmap) {
        let n = segment.docCount
        var t = Bitmap(count: n), f = Bitmap(count: n)
        func record(_ doc: Int, _ r: UInt8) {
            if r == 2 { t.insert(doc) } else if r == 1 { f.insert(doc) }
        }
        if fields.count == 1, let field = fields.first, field != "_id" {
            guard let column = segment.columns[field] else { return leaf(SegmentFilter.bindNull(e, field)) }
            let missing = SegmentFilter.truth(evaluator.evaluate(e) { _ in .null })
            if column.kind == .string, let dict = column.dictionary {
                var memo = [UInt8](repeating: 0xFF, count: dict.count)
                let codes = column.codes
                scope.forEach { doc in
                    let slots = column.slots(doc)
                    var r: UInt8 = slots.isEmpty ? missing : 0
                    for slot in slots where r != 2 {
                        let code = Int(codes[slot])
                        guard code >= 0 else { r = max(r, missing); continue }
                        var v = memo[code]
                        if v == 0xFF {
                            let s = dict.string(code)
                            v = SegmentFilter.truth(evaluator.evaluate(e) { _ in .string(s) })
                            memo[code] = v
                        }
                        r = max(r, v)
                    }
                    record(doc, r)
                }
            } else {
                scope.forEach { doc in
                    let slots = column.slots(doc)
                    var r: UInt8 = slots.isEmpty ? missing : 0
                    for slot in slots where r != 2 {
                        let v = SegmentFilter.queryValue(column.value(atSlot: slot))
                        r = max(r, SegmentFilter.truth(evaluator.evaluate(e) { _ in v }))
                    }
                    record(doc, r)
                }
            }
            return (t, f)
        }
        if fields == ["_id"] {
            scope.forEach { doc in record(doc, SegmentFilter.truth(evaluator.evaluate(e) { _ in .string(segment.id(doc)) })) }
            return (t, f)
        }
        let columns = Dictionary(uniqueKeysWithValues: fields.map { ($0, segment.columns[$0]) })
        scope.forEach { doc in record(doc, row(e, doc, columns)) }
        return (t, f)
    }

    /// A condition on several fields for one document, with each field's first value.
    private func row(_ e: Expr, _ doc: Int, _ columns: [String: Column?]) -> UInt8 {
        SegmentFilter.truth(evaluator.evaluate(e) { path in
            guard let c = columns[path] ?? nil else { return .null }
            let slots = c.slots(doc)
            return slots.isEmpty ? .null : SegmentFilter.queryValue(c.value(atSlot: slots.lowerBound))
        })
    }

    /// 0 null, 1 false, 2 true.
    private static func truth(_ v: QueryValue) -> UInt8 {
        switch v {
        case .bool(true): 2
        case .bool(false): 1
        default: 0
        }
    }

    private func leaf(_ e: Expr) -> (t: Bitmap, f: Bitmap) {
        let n = segment.docCount
        let fields = e.fields
        if fields.isEmpty {
            switch SegmentFilter.truth(evaluator.evaluate(e) { _ in .null }) {
            case 2: return (Bitmap.full(n), Bitmap(count: n))
            case 1: return (Bitmap(count: n), Bitmap.full(n))
            default: return (Bitmap(count: n), Bitmap(count: n))
            }
        }
        if fields == ["_id"] {
            // Document ids live in the segment's id dictionary, not in a column.
            var t = Bitmap(count: n)
            if case .inList(.field, let items, false) = e, items.allSatisfy({ if case .literal(.string) = $0 { true } else { false } }) {
                for case .literal(.string(let id)) in items {
                    if let doc = segment.find(id: id) { t.insert(doc) }
                }
            } else {
                for doc in 0..<n where evaluator.test(e, { _ in .string(segment.id(doc)) }) { t.insert(doc) }
            }
            var f = Bitmap.full(n)
            f.subtract(t)
            return (t, f)
        }
        if fields.count == 1, let field = fields.first {
            guard let column = segment.columns[field] else {
                // The field has no values here: every document sees null.
                return leaf(SegmentFilter.bindNull(e, field))
            }
            let missing = SegmentFilter.truth(evaluator.evaluate(e) { _ in .null })
            if column.kind == .string, let dict = column.dictionary {
                // table[code + 1]: the truth for each dictionary entry; table[0] for "no value"
                // (dense columns hold code -1 there), so the scan needs no branch.
                var table = [UInt8](repeating: 0, count: dict.count + 1)
                table[0] = missing
                if let exact = SegmentFilter.exactTerm(e), dict.count > 64 {
                    // Equality with a literal: one binary search, every other entry false.
                    for code in 0..<dict.count { table[code + 1] = exact.negated ? 2 : 1 }
                    if let hit = dict.find(exact.term) { table[hit + 1] = exact.negated ? 1 : 2 }
                } else if let networks = SegmentFilter.cidrNetworks(e) {
                    for code in 0..<dict.count {
                        table[code + 1] = IPAddress(dict.string(code)).map { ip in networks.contains { $0.contains(ip) } ? 2 : 1 } ?? 1
                    }
                } else if case .matches(.field, let patterns) = e, let bytes = BytePatterns(patterns) {
                    // Patterns on the raw bytes of each entry; a string only for non-ASCII ones.
                    for code in 0..<dict.count {
                        let hit = bytes.matches(dict.entry(code)) ?? patterns.contains { PatternMatcher.matches($0, dict.string(code)) }
                        table[code + 1] = hit ? 2 : 1
                    }
                } else if let strings = cache?.strings(segment, field, dict) {
                    for (code, s) in strings.enumerated() {
                        table[code + 1] = SegmentFilter.truth(evaluator.evaluate(e) { _ in .string(s) })
                    }
                } else {
                    for code in 0..<dict.count {
                        let s = dict.string(code)
                        table[code + 1] = SegmentFilter.truth(evaluator.evaluate(e) { _ in .string(s) })
                    }
                }
                return table.withUnsafeBufferPointer { t in scan(column, missing: missing, CodeTruth(table: t, codes: column.codes)) }
            }
            if column.kind == .int64 || column.kind == .date, let (lo, hi, negated) = SegmentFilter.intBounds(e) {
                // One unsigned comparison per value: v in lo...hi.
                if lo > hi { return scan(column, missing: missing, ClosureTruth { _ in negated ? 2 : 1 }) }
                return scan(column, missing: missing, IntervalTruth(ints: column.ints, lo: lo, width: UInt64(bitPattern: hi &- lo), negated: negated))
            }
            if column.kind == .ip, let (term, negated) = SegmentFilter.exactTerm(e), let ip = IPAddress(term) {
                let ips = column.ips
                return scan(column, missing: missing, ClosureTruth { slot in
                    (ips[2 * slot] == ip.high && ips[2 * slot + 1] == ip.low) != negated ? 2 : 1
                })
            }
            if column.kind == .ip, let networks = SegmentFilter.cidrNetworks(e) {
                let ips = column.ips
                return scan(column, missing: missing, ClosureTruth { slot in
                    let ip = IPAddress(high: ips[2 * slot], low: ips[2 * slot + 1])
                    return networks.contains { $0.contains(ip) } ? 2 : 1
                })
            }
            return scan(column, missing: missing, ClosureTruth { slot in
                let v = SegmentFilter.queryValue(column.value(atSlot: slot))
                return SegmentFilter.truth(evaluator.evaluate(e) { _ in v })
            })
        }
        // Several fields: row by row, each field's first value.
        var t = Bitmap(count: n), f = Bitmap(count: n)
        let columns = Dictionary(uniqueKeysWithValues: fields.map { ($0, segment.columns[$0]) })
        for doc in 0..<n {
            let r = row(e, doc, columns)
            if r == 2 { t.insert(doc) } else if r == 1 { f.insert(doc) }
        }
        return (t, f)
    }

    /// Scans a column with a per-slot truth function (0 null, 1 false, 2 true); documents
    /// without a value get `missing`; for several values, any true wins, then any false.
    /// Works a 64-document word at a time and writes each result word once.
    /// Specialized per truth type, so the common scans (a dictionary table, an integer
    /// interval) compile to straight loops with no call per value.
    @inline(__always)
    private func scan<T: SlotTruth>(_ column: Column, missing: UInt8, _ slotTruth: T) -> (t: Bitmap, f: Bitmap) {
        let n = segment.docCount
        let wordCount = (n + 63) / 64
        var tw = [UInt64](repeating: 0, count: wordCount), fw = [UInt64](repeating: 0, count: wordCount)
        let present = column.present
        tw.withUnsafeMutableBufferPointer { T in
            fw.withUnsafeMutableBufferPointer { F in
                if let offsets = column.docOffsets {
                    for w in 0..<wordCount {
                        var t: UInt64 = 0, f: UInt64 = 0
                        let base = w << 6
                        for bit in 0..<min(64, n - base) {
                            let lo = Int(offsets[base + bit]), hi = Int(offsets[base + bit + 1])
                            var r: UInt8 = lo == hi ? missing : 0
                            var s = lo
                            while s < hi && r != 2 {
                                r = max(r, slotTruth(s))
                                s += 1
                            }
                            t |= UInt64(r >> 1) << UInt64(bit)
                            f |= UInt64(r & 1) << UInt64(bit)
                        }
                        T[w] = t
                        F[w] = f
                    }
                } else if let ranks = column.ranks {
                    let missingT = missing == 2 ? UInt64.max : 0, missingF = missing == 1 ? UInt64.max : 0
                    for w in 0..<wordCount {
                        let p = present[w]
                        var t = missingT & ~p, f = missingF & ~p
                        var bits = p
                        var slot = Int(ranks[w])
                        while bits != 0 {
                            let bit = UInt64(bits.trailingZeroBitCount)
                            let r = slotTruth(slot)
                            slot += 1
                            t |= UInt64(r >> 1) << bit
                            f |= UInt64(r & 1) << bit
                            bits &= bits &- 1
                        }
                        let valid = n - (w << 6) >= 64 ? UInt64.max : (1 << UInt64(n - (w << 6))) &- 1
                        T[w] = t & valid
                        F[w] = f & valid
                    }
                } else {
                    let missingT = missing == 2 ? UInt64.max : 0, missingF = missing == 1 ? UInt64.max : 0
                    for w in 0..<wordCount {
                        let p = present[w]
                        var t: UInt64 = 0, f: UInt64 = 0
                        let base = w << 6
                        let count = min(64, n - base)
                        if p == UInt64.max {
                            for bit in 0..<count {
                                let r = slotTruth(base + bit)
                                t |= UInt64(r >> 1) << UInt64(bit)
                                f |= UInt64(r & 1) << UInt64(bit)
                            }
                        } else {
                            var bits = p
                            while bits != 0 {
                                let bit = UInt64(bits.trailingZeroBitCount)
                                let r = slotTruth(base + Int(bit))
                                t |= UInt64(r >> 1) << bit
                                f |= UInt64(r & 1) << bit
                                bits &= bits &- 1
                            }
                            t |= missingT & ~p
                            f |= missingF & ~p
                        }
                        let valid = count >= 64 ? UInt64.max : (1 << UInt64(count)) &- 1
                        T[w] = t & valid
                        F[w] = f & valid
                    }
                }
            }
        }
        return (Bitmap(count: n, words: tw), Bitmap(count: n, words: fw))
    }

    /// An integer comparison with a literal, or a `perValue` conjunction of them, as the
    /// interval lo...hi (empty when lo > hi); `negated` for `!=`.
    static func intBounds(_ e: Expr) -> (lo: Int64, hi: Int64, negated: Bool)? {
        switch e {
        case .compare(let op, .field, .literal(.int(let k))):
            switch op {
            case .eq: return (k, k, false)
            case .ne: return (k, k, true)
            case .lt: return k == .min ? (.max, .min, false) : (.min, k - 1, false)
            case .le: return (.min, k, false)
            case .gt: return k == .max ? (.max, .min, false) : (k + 1, .max, false)
            case .ge: return (k, .max, false)
            }
        case .perValue(.and(let parts)):
            var lo = Int64.min, hi = Int64.max
            for part in parts {
                guard let b = intBounds(part), !b.negated else { return nil }
                lo = max(lo, b.lo)
                hi = min(hi, b.hi)
            }
            return (lo, hi, false)
        default:
            return nil
        }
    }

    /// `field == "term"` or `field != "term"` (case-sensitive, a string literal).
    static func exactTerm(_ e: Expr) -> (term: String, negated: Bool)? {
        if case .compare(let op, .field, .literal(.string(let term))) = e, op == .eq || op == .ne { return (term, op == .ne) }
        if case .compare(let op, .literal(.string(let term)), .field) = e, op == .eq || op == .ne { return (term, op == .ne) }
        return nil
    }

    /// `cidrMatch(field, "a/b", …)` with literal networks, parsed once.
    public static func cidrNetworks(_ e: Expr) -> [CIDR]? {
        guard case .call(.cidrMatch, let args, _) = e, args.count >= 2, case .field = args[0] else { return nil }
        var out: [CIDR] = []
        for a in args.dropFirst() {
            guard case .literal(.string(let s)) = a, let net = CIDR(s) else { return nil }
            out.append(net)
        }
        return out
    }

    public static func queryValue(_ v: FieldValue) -> QueryValue {
        switch v {
        case .string(let s): .string(s)
        case .int(let i), .date(let i): .int(i)
        case .double(let d): .double(d)
        case .bool(let b): .bool(b)
        case .ip(let a): .string(a.description)
        }
    }

    /// `e` with `field` replaced by null.
    static func bindNull(_ e: Expr, _ field: String) -> Expr {
        func go(_ x: Expr) -> Expr {
            switch x {
            case .literal: return x
            case .field(let f): return f == field ? .literal(.null) : x
            case .not(let a): return .not(go(a))
            case .and(let xs): return .and(xs.map(go))
            case .or(let xs): return .or(xs.map(go))
            case .compare(let op, let l, let r): return .compare(op, go(l), go(r))
            case .isNull(let a): return .isNull(go(a))
            case .isTrue(let a): return .isTrue(go(a))
            case .matches(let a, let p): return .matches(go(a), p)
            case .inList(let a, let xs, let i): return .inList(go(a), xs.map(go), insensitive: i)
            case .arithmetic(let op, let l, let r): return .arithmetic(op, go(l), go(r))
            case .negate(let a): return .negate(go(a))
            case .call(let fn, let xs, let i): return .call(fn, xs.map(go), insensitive: i)
            case .text(let a, let m): return .text(go(a), m)
            case .atLeast(let k, let xs): return .atLeast(k, xs.map(go))
            case .perValue(let a): return .perValue(go(a))
            }
        }
        return go(e)
    }
}

/// The truth (0 null, 1 false, 2 true) of a condition for the value in one slot of a column.
protocol SlotTruth {
    func callAsFunction(_ slot: Int) -> UInt8
}

/// A string column's slot looked up in a per-code table (`table[code + 1]`).
struct CodeTruth: SlotTruth {
    let table: UnsafeBufferPointer<UInt8>
    let codes: UnsafeBufferPointer<Int32>

    @inline(__always)
    func callAsFunction(_ slot: Int) -> UInt8 { table[Int(codes[slot]) &+ 1] }
}

/// An integer in lo...lo+width, with one unsigned comparison.
struct IntervalTruth: SlotTruth {
    let ints: UnsafeBufferPointer<Int64>
    let lo: Int64
    let width: UInt64
    let negated: Bool

    @inline(__always)
    func callAsFunction(_ slot: Int) -> UInt8 {
        let inside = UInt64(bitPattern: ints[slot] &- lo) <= width
        return inside != negated ? 2 : 1
    }
}

/// Any other condition, through a closure.
struct ClosureTruth: SlotTruth {
    let body: (Int) -> UInt8

    init(_ body: @escaping (Int) -> UInt8) { self.body = body }

    @inline(__always)
    func callAsFunction(_ slot: Int) -> UInt8 { body(slot) }
}
