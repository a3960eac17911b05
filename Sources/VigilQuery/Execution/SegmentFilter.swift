public import VigilStore

/// Runs a condition over one segment and returns the documents for which it is true.
///
/// A subexpression that reads one string field is evaluated once per dictionary entry (and
/// once for "missing"), then the column's codes are scanned against that table: wildcards,
/// regexes and functions cost per distinct value, not per event. Other subexpressions run
/// per row. `and`/`or`/`not` combine true and false sets, so nulls stay unknown.
public struct SegmentFilter {
    public let segment: Segment
    private let evaluator = Evaluator()

    public init(segment: Segment) { self.segment = segment }

    /// Documents for which `e` is true.
    public func matching(_ e: Expr) -> Bitmap { evaluate(e).t }

    /// True and false sets; documents in neither are null.
    private func evaluate(_ e: Expr) -> (t: Bitmap, f: Bitmap) {
        let n = segment.docCount
        switch e {
        case .and(let xs):
            var t = Bitmap.full(n), f = Bitmap(count: n)
            for x in xs {
                let (xt, xf) = evaluate(x)
                t.formIntersection(xt)
                f.formUnion(xf)
                if t.isEmpty && f.cardinality == n { break }
            }
            return (t, f)
        case .or(let xs):
            var t = Bitmap(count: n), f = Bitmap.full(n)
            for x in xs {
                let (xt, xf) = evaluate(x)
                t.formUnion(xt)
                f.formIntersection(xf)
            }
            return (t, f)
        case .not(let x):
            let (t, f) = evaluate(x)
            return (f, t)
        case .isTrue(let x):
            let (t, _) = evaluate(x)
            var f = Bitmap.full(n)
            f.subtract(t)
            return (t, f)
        default:
            return leaf(e)
        }
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
        if fields.count == 1, let field = fields.first {
            guard let column = segment.columns[field] else {
                // The field has no values here: every document sees null.
                return leaf(SegmentFilter.bindNull(e, field))
            }
            if column.kind == .string, let dict = column.dictionary {
                var table = [UInt8](repeating: 0, count: dict.count)
                for code in 0..<dict.count {
                    let s = dict.string(code)
                    table[code] = SegmentFilter.truth(evaluator.evaluate(e) { _ in .string(s) })
                }
                let missing = SegmentFilter.truth(evaluator.evaluate(e) { _ in .null })
                return scan(column, missing: missing) { table[Int(column.codes[$0])] }
            }
            let missing = SegmentFilter.truth(evaluator.evaluate(e) { _ in .null })
            if case .compare(let op, .field, .literal(let lit)) = e, column.kind == .int64 || column.kind == .date, case .int(let k) = lit {
                return scan(column, missing: missing) { slot in
                    let v = column.ints[slot]
                    let r: Bool
                    switch op {
                    case .eq: r = v == k
                    case .ne: r = v != k
                    case .lt: r = v < k
                    case .le: r = v <= k
                    case .gt: r = v > k
                    case .ge: r = v >= k
                    }
                    return r ? 2 : 1
                }
            }
            return scan(column, missing: missing) { slot in
                let v = SegmentFilter.queryValue(column.value(atSlot: slot))
                return SegmentFilter.truth(evaluator.evaluate(e) { _ in v })
            }
        }
        // Several fields: row by row, each field's first value.
        var t = Bitmap(count: n), f = Bitmap(count: n)
        let columns = Dictionary(uniqueKeysWithValues: fields.map { ($0, segment.columns[$0]) })
        for doc in 0..<n {
            let r = SegmentFilter.truth(evaluator.evaluate(e) { path in
                guard let c = columns[path] ?? nil else { return .null }
                let slots = c.slots(doc)
                return slots.isEmpty ? .null : SegmentFilter.queryValue(c.value(atSlot: slots.lowerBound))
            })
            if r == 2 { t.insert(doc) } else if r == 1 { f.insert(doc) }
        }
        return (t, f)
    }

    /// Scans a column with a per-slot truth function; documents without a value get `missing`.
    /// For several values, any true wins, then any false.
    @inline(__always)
    private func scan(_ column: Column, missing: UInt8, _ slotTruth: (Int) -> UInt8) -> (t: Bitmap, f: Bitmap) {
        let n = segment.docCount
        var t = Bitmap(count: n), f = Bitmap(count: n)
        if let offsets = column.docOffsets {
            for doc in 0..<n {
                let lo = Int(offsets[doc]), hi = Int(offsets[doc + 1])
                var r: UInt8 = lo == hi ? missing : 0
                for s in lo..<hi {
                    let x = slotTruth(s)
                    if x > r { r = x }
                    if r == 2 { break }
                }
                if r == 2 { t.insert(doc) } else if r == 1 { f.insert(doc) }
            }
        } else if column.ranks != nil {
            var slot = 0
            for doc in 0..<n {
                let r: UInt8
                if column.has(doc) {
                    r = slotTruth(slot)
                    slot += 1
                } else {
                    r = missing
                }
                if r == 2 { t.insert(doc) } else if r == 1 { f.insert(doc) }
            }
        } else {
            for doc in 0..<n {
                let r = column.has(doc) ? slotTruth(doc) : missing
                if r == 2 { t.insert(doc) } else if r == 1 { f.insert(doc) }
            }
        }
        return (t, f)
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
            }
        }
        return go(e)
    }
}
