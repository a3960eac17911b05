/// Evaluates an `Expr` for one binding of its fields, with null propagation.
///
/// This is the reference semantics; `SegmentFilter` runs it once per dictionary entry or per
/// row and scans columns with the results.
public struct Evaluator: Sendable {
    public init() {}

    /// `field(path)` resolves through `lookup`.
    public func evaluate(_ e: Expr, _ lookup: (String) -> QueryValue) -> QueryValue {
        switch e {
        case .literal(let v):
            return v
        case .field(let f):
            return lookup(f)
        case .not(let x):
            guard case .bool(let b) = evaluate(x, lookup) else { return .null }
            return .bool(!b)
        case .and(let xs):
            var sawNull = false
            for x in xs {
                switch evaluate(x, lookup) {
                case .bool(false): return .bool(false)
                case .bool(true): continue
                default: sawNull = true
                }
            }
            return sawNull ? .null : .bool(true)
        case .or(let xs):
            var sawNull = false
            for x in xs {
                switch evaluate(x, lookup) {
                case .bool(true): return .bool(true)
                case .bool(false): continue
                default: sawNull = true
                }
            }
            return sawNull ? .null : .bool(false)
        case .compare(let op, let l, let r):
            return Evaluator.compare(op, evaluate(l, lookup), evaluate(r, lookup))
        case .isNull(let x):
            return .bool(evaluate(x, lookup).isNull)
        case .isTrue(let x):
            return .bool(evaluate(x, lookup) == .bool(true))
        case .matches(let x, let patterns):
            guard case .string(let s) = Evaluator.asString(evaluate(x, lookup)) else { return .null }
            for p in patterns where PatternMatcher.matches(p, s) { return .bool(true) }
            return .bool(false)
        case .inList(let x, let items, let insensitive):
            let v = evaluate(x, lookup)
            if v.isNull { return .null }
            for item in items {
                let w = evaluate(item, lookup)
                if insensitive, case .string(let a) = v, case .string(let b) = w {
                    if PatternMatcher.matches(Pattern(.exact(b), insensitive: true), a) { return .bool(true) }
                } else if Evaluator.compare(.eq, v, w) == .bool(true) {
                    return .bool(true)
                }
            }
            return .bool(false)
        case .arithmetic(let op, let l, let r):
            return Functions.arithmetic(op, evaluate(l, lookup), evaluate(r, lookup))
        case .negate(let x):
            switch evaluate(x, lookup) {
            case .int(let v): return v == Int64.min ? .double(-Double(v)) : .int(-v)
            case .double(let d): return .double(-d)
            default: return .null
            }
        case .call(let f, let args, let insensitive):
            return Functions.call(f, args.map { evaluate($0, lookup) }, insensitive: insensitive)
        case .text(let x, let m):
            guard case .string(let s) = Evaluator.asString(evaluate(x, lookup)) else { return .null }
            return .bool(m.matches(s))
        case .perValue(let x):
            // A binding holds one value per field.
            return evaluate(x, lookup)
        case .atLeast(let n, let xs):
            var found = 0
            for x in xs where evaluate(x, lookup) == .bool(true) {
                found += 1
                if found >= n { break }
            }
            return .bool(found >= n)
        }
    }

    /// Whether a filter keeps the binding: only a true result does.
    public func test(_ e: Expr, _ lookup: (String) -> QueryValue) -> Bool {
        evaluate(e, lookup) == .bool(true)
    }

    /// `a op b` with the evaluator's comparison rules (null when either is null).
    public static func compareValues(_ a: QueryValue, _ b: QueryValue, _ op: Expr.Comparison) -> QueryValue {
        compare(op, a, b)
    }

    static func asString(_ v: QueryValue) -> QueryValue {
        switch v {
        case .null, .string: v
        default: .string(v.description)
        }
    }

    static func compare(_ op: Expr.Comparison, _ a: QueryValue, _ b: QueryValue) -> QueryValue {
        if a.isNull || b.isNull { return .null }
        let order: Int
        switch (a, b) {
        case (.string(let x), .string(let y)):
            // Exact code units, as Elasticsearch compares terms (no Unicode equivalence).
            order = x.utf8.elementsEqual(y.utf8) ? 0 : (x.utf8.lexicographicallyPrecedes(y.utf8) ? -1 : 1)
        case (.int(let x), .int(let y)):
            order = x == y ? 0 : (x < y ? -1 : 1)
        case (.bool(let x), .bool(let y)):
            order = x == y ? 0 : (!x ? -1 : 1)
        default:
            if let x = a.number, let y = b.number {
                order = x == y ? 0 : (x < y ? -1 : 1)
            } else if case .string(let s) = a, let y = b.number, let x = Double(s) {
                order = x == y ? 0 : (x < y ? -1 : 1)
            } else if case .string(let s) = b, let x = a.number, let y = Double(s) {
                order = x == y ? 0 : (x < y ? -1 : 1)
            } else {
                // Values of unrelated types are never equal.
                switch op {
                case .eq: return .bool(false)
                case .ne: return .bool(true)
                default: return .null
                }
            }
        }
        switch op {
        case .eq: return .bool(order == 0)
        case .ne: return .bool(order != 0)
        case .lt: return .bool(order < 0)
        case .le: return .bool(order <= 0)
        case .gt: return .bool(order > 0)
        case .ge: return .bool(order >= 0)
        }
    }
}
