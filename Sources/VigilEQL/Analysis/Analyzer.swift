public import VigilQuery
public import VigilStore

/// Resolves an EQL statement against an index mapping: field names (aliases followed,
/// `?optional` fields allowed to be missing), functions and their arguments, patterns. All
/// problems are collected and reported together, as Elasticsearch's `verification_exception`.
public struct Analyzer {
    let mapping: Mapping
    let options: EQLOptions
    private var problems: [String] = []

    public static func analyze(_ statement: EQLStatement, mapping: Mapping, options: EQLOptions) throws(EQLError) -> EQLPlan {
        var a = Analyzer(mapping: mapping, options: options)
        var plan = a.plan(statement)
        plan.timestampField = a.storagePath(options.timestampField)
        plan.tiebreakerField = options.tiebreakerField.map { a.storagePath($0) }
        if let failure = a.parseFailure { throw failure }
        if !a.problems.isEmpty {
            let n = a.problems.count
            throw EQLError(.verification, "Found \(n) problem\(n == 1 ? "" : "s")\n" + a.problems.joined(separator: "\n"))
        }
        return plan
    }

    private init(mapping: Mapping, options: EQLOptions) {
        self.mapping = mapping
        self.options = options
    }

    private mutating func problem(_ span: SourceSpan, _ message: String) {
        problems.append("line \(span.line):\(span.column): \(message)")
    }

    private mutating func plan(_ s: EQLStatement) -> EQLPlan {
        switch s.query {
        case .event(let f):
            return EQLPlan(kind: .event(condition(f)), keyCount: 0, pipes: s.pipes)
        case .sequence(let q):
            let stages = q.stages.flatMap { st in
                let p = stage(st, shared: q.keys)
                return [StagePlan](repeating: p, count: st.runs)
            }
            let until = q.until.map { stage($0, shared: q.keys) }
            if let first = q.stages.first, parseFailure == nil {
                for st in q.stages.dropFirst() + (q.until.map { [$0] } ?? []) where st.keys.count != first.keys.count {
                    parseFailure = EQLError(.parsing, "Inconsistent number of join keys specified; expected [\(first.keys.count)] but found [\(st.keys.count)]", at: st.filter.span)
                    break
                }
            }
            return EQLPlan(kind: .sequence(stages: stages, until: until, maxspan: q.maxspan), keyCount: stages.first?.keys.count ?? 0, pipes: s.pipes)
        case .sample(let q):
            let stages = q.stages.map { stage($0, shared: q.keys) }
            return EQLPlan(kind: .sample(stages: stages), keyCount: stages.first?.keys.count ?? 0, pipes: s.pipes)
        }
    }

    private mutating func stage(_ st: SequenceStage, shared: [EQLExpr]) -> StagePlan {
        let keys = shared + st.keys
        let optional = keys.map { k -> Bool in if case .field(_, true, _) = k { true } else { false } }
        return StagePlan(condition: condition(st.filter), keys: keys.map { lower($0) }, optionalKeys: optional, missing: st.missing)
    }

    private mutating func condition(_ f: EventFilter) -> Expr {
        let body = lower(f.condition)
        guard let category = f.category else { return body }
        let field = resolve(options.eventCategoryField, optional: false, f.span)
        return .and([.compare(.eq, field, .literal(.string(category))), body])
    }

    /// A path with aliases followed.
    func storagePath(_ path: String) -> String { mapping.resolvingAliases(path) }

    /// The storage path of a field, or null for a missing optional field.
    private mutating func resolve(_ path: String, optional: Bool, _ span: SourceSpan) -> Expr {
        let p = storagePath(path)
        guard let m = mapping.field(at: p) else {
            if optional { return .literal(.null) }
            problem(span, "Unknown column [\(path)]")
            return .literal(.null)
        }
        if m.isObject {
            problem(span, "Cannot use field [\(path)] type [\(m.type.rawValue)] only its subfields")
            return .literal(.null)
        }
        // EQL has no full-text search: a text field is used through its exact (keyword)
        // sub-field, as Elasticsearch does (values over `ignore_above` are then missing).
        if m.type == .text || m.type == .matchOnlyText {
            if let (name, _) = m.fields.sorted(by: { $0.key < $1.key }).first(where: { $0.value.type == .keyword }) {
                return .field(p + "." + name)
            }
            problem(span, "[\(path)] cannot operate on field of data type [\(m.type.rawValue)]: No keyword/multi-field defined exact matches for [\(path.split(separator: ".").last.map(String.init) ?? path)]; define one or use MATCH/QUERY instead")
            return .literal(.null)
        }
        return .field(p)
    }

    /// A comparison's sides made comparable by the field's type: date text becomes epoch
    /// milliseconds, `version` values compare in semantic-version order.
    private func typed(_ l: Expr, _ r: Expr) -> (Expr, Expr) {
        func fix(_ field: Expr, _ other: Expr) -> (Expr, Expr)? {
            guard let t = fieldType(field) else { return nil }
            switch (t, other) {
            case (.date, .literal(.string(let s))), (.dateNanos, .literal(.string(let s))):
                guard let ms = DateFormats.parse(s) else { return nil }
                return (field, .literal(.int(ms)))
            case (.version, .literal(.string(let s))):
                return (.call(.versionOrder, [field], insensitive: false), .literal(.string(Functions.versionOrder(s))))
            default:
                return nil
            }
        }
        if let (f, o) = fix(l, r) { return (f, o) }
        if let (f, o) = fix(r, l) { return (o, f) }
        return (l, r)
    }

    private func fieldType(_ e: Expr) -> FieldType? {
        guard case .field(let p) = e else { return nil }
        return mapping.field(at: p)?.type
    }

    private mutating func lower(_ e: EQLExpr) -> Expr {
        switch e {
        case .literal(let l, _):
            return .literal(Analyzer.value(l))
        case .field(let name, let optional, let span):
            return resolve(name, optional: optional, span)
        case .not(let x, _):
            // As Elasticsearch runs EQL: a condition is a query an event matches or not, and
            // `not` matches every event the condition does not (one without the field too).
            return .not(.isTrue(lower(x)))
        case .and(let l, let r):
            return .and([lower(l), lower(r)])
        case .or(let l, let r):
            return .or([lower(l), lower(r)])
        case .compare(let op, let l, let r, _):
            let left = lower(l), right = lower(r)
            // As Elasticsearch's optimizer: equality with null, written or an unmapped `?field`,
            // is a null test of the other side (so `?x == ?y` holds when both are missing).
            if case .literal(.null) = right, op == .eq || op == .ne {
                return op == .eq ? .isNull(left) : .not(.isNull(left))
            }
            if case .literal(.null) = left, op == .eq || op == .ne {
                return op == .eq ? .isNull(right) : .not(.isNull(right))
            }
            if case .field(let a) = left, case .field = right {
                problem(r.span, "Comparisons against fields are not (currently) supported; offender [\(Analyzer.render(r))] in [\(op.rawValue)]")
                _ = a
            }
            let (l2, r2) = typed(left, right)
            // `field != value` is `not field == value` there (a term query under must_not): an
            // event without the field, or with the value among others, is not equal.
            if op == .ne, case .field = l2, case .literal = r2 { return .not(.isTrue(.compare(.eq, l2, r2))) }
            if op == .ne, case .literal = l2, case .field = r2 { return .not(.isTrue(.compare(.eq, r2, l2))) }
            let comparison: Expr.Comparison
            switch op {
            case .eq: comparison = .eq
            case .ne: comparison = .ne
            case .lt: comparison = .lt
            case .le: comparison = .le
            case .gt: comparison = .gt
            case .ge: comparison = .ge
            }
            return .compare(comparison, l2, r2)
        case .insensitiveMatch(let x, let items, let span):
            let value = lower(x)
            if let t = fieldType(value), !t.isStringLike {
                problem(span, "first argument of [:] must be [string], found value [\(Analyzer.render(x))] type [\(t.rawValue)]; consider using [==] instead")
            }
            var patterns: [Pattern] = []
            var others: [Expr] = []
            for item in items {
                if case .literal(.string(let s), _) = item {
                    patterns.append(Pattern(s.contains("*") || s.contains("?") ? .wildcard(s) : .exact(s), insensitive: true))
                } else {
                    others.append(lower(item))
                }
            }
            if others.isEmpty { return .matches(value, patterns) }
            var alternatives: [Expr] = others.map { .compare(.eq, value, $0) }
            if !patterns.isEmpty { alternatives.append(.matches(value, patterns)) }
            return alternatives.count == 1 ? alternatives[0] : .or(alternatives)
        case .membership(let x, let items, let negated, let insensitive, _):
            let m: Expr = .inList(lower(x), items.map { lower($0) }, insensitive: insensitive)
            return negated ? .not(.isTrue(m)) : m
        case .like(let x, let items, let insensitive, _):
            let value = lower(x)
            var patterns: [Pattern] = []
            for item in items {
                guard case .literal(.string(let s), let span) = item else {
                    problem(item.span, "[like] pattern must be a string")
                    continue
                }
                _ = span
                patterns.append(Pattern(.wildcard(s), insensitive: insensitive))
            }
            return .matches(value, patterns)
        case .regex(let x, let items, let insensitive, _):
            let value = lower(x)
            var patterns: [Pattern] = []
            for item in items {
                guard case .literal(.string(let s), _) = item else {
                    problem(item.span, "[regex] pattern must be a string")
                    continue
                }
                if let p = Pattern.regexProblem(s) { problem(item.span, "Invalid regular expression [\(s)]: \(p.message)") }
                patterns.append(Pattern(.regex(s), insensitive: insensitive))
            }
            return .matches(value, patterns)
        case .arithmetic(let op, let l, let r, _):
            let a: Expr.Arithmetic
            switch op {
            case .add: a = .add
            case .subtract: a = .subtract
            case .multiply: a = .multiply
            case .divide: a = .divide
            case .modulo: a = .modulo
            }
            return .arithmetic(a, lower(l), lower(r))
        case .negate(let x, _):
            return .negate(lower(x))
        case .call(let name, let insensitive, let args, let span):
            return call(name, insensitive: insensitive, args, span)
        }
    }

    private static let insensitiveForms: Set<Expr.Function> = [.between, .endsWith, .indexOf, .startsWith, .stringContains]

    private static let arity: [Expr.Function: (ClosedRange<Int>, String)] = [
        .add: (2...2, "exactly two arguments"), .subtract: (2...2, "exactly two arguments"),
        .multiply: (2...2, "exactly two arguments"), .divide: (2...2, "exactly two arguments"),
        .modulo: (2...2, "exactly two arguments"), .between: (3...4, "three or four arguments"),
        .cidrMatch: (2...Int.max, "at least two arguments"), .concat: (0...Int.max, "any number of arguments"),
        .endsWith: (2...2, "exactly two arguments"), .startsWith: (2...2, "exactly two arguments"),
        .indexOf: (2...3, "two or three arguments"), .length: (1...1, "exactly one argument"),
        .number: (1...2, "one or two arguments"), .string: (1...1, "exactly one argument"),
        .stringContains: (2...2, "exactly two arguments"), .substring: (2...3, "two or three arguments"),
        .versionOrder: (1...1, "exactly one argument"), .ipOrder: (1...1, "exactly one argument"),
    ]

    /// Parse-time failures found while analyzing (wrong arity, `~` where not allowed): Elasticsearch
    /// reports these as `parsing_exception`, not with the verification problems.
    private var parseFailure: EQLError?

    private mutating func call(_ name: String, insensitive: Bool, _ args: [EQLExpr], _ span: SourceSpan) -> Expr {
        guard let f = Expr.Function.callable.first(where: { $0.rawValue.lowercased() == name.lowercased() }) else {
            problem(span, "Unknown function [\(name)]")
            return .literal(.null)
        }
        if insensitive && !Analyzer.insensitiveForms.contains(f), parseFailure == nil {
            parseFailure = EQLError(.parsing, "Function [\(name)] does not support case-insensitivity", at: span)
        }
        let (range, expected) = Analyzer.arity[f]!
        if !range.contains(args.count), parseFailure == nil {
            parseFailure = EQLError(.parsing, "error building [\(f.rawValue.lowercased())]: expects \(expected)", at: span)
        }
        let lowered = args.map { lower($0) }
        // Argument types that can be told apart from the mapping (Elasticsearch's checks).
        enum Want { case string, numeric, integer, boolean, ip, constantString, any }
        func want(_ i: Int) -> Want {
            switch f {
            case .between: return i < 3 ? .string : .boolean
            case .endsWith, .startsWith, .stringContains, .length: return .string
            case .indexOf: return i < 2 ? .string : .integer
            case .substring: return i == 0 ? .string : .integer
            case .number: return i == 0 ? .string : .integer
            case .cidrMatch: return i == 0 ? .ip : .constantString
            case .add, .subtract, .multiply, .divide, .modulo: return .numeric
            case .concat, .string, .versionOrder, .ipOrder: return .any
            }
        }
        let call = Analyzer.render(name, args)
        for (i, a) in lowered.enumerated() {
            // One-argument functions leave the ordinal out.
            let ordinal = range.upperBound == 1 ? "" : ["first", "second", "third", "fourth", "fifth"][min(i, 4)] + " "
            let found = Analyzer.render(args[i])
            func fail(_ type: String, _ actual: String) {
                problem(span, "\(ordinal)argument of [\(call)] must be [\(type)], found value [\(found)] type [\(actual)]")
            }
            let w = want(i)
            if let t = fieldType(a) {
                switch w {
                case .string where !t.isStringLike: fail("string", t.rawValue)
                case .numeric where !t.isNumeric: fail("numeric", t.rawValue)
                case .integer where t.storage != .int64: fail("integer", t.rawValue)
                case .boolean where t != .boolean: fail("boolean", t.rawValue)
                case .ip where t != .ip: fail("ip", t.rawValue)
                case .constantString: problem(span, "\(ordinal)argument of [\(call)] must be a constant, received [\(found)]")
                default: break
                }
            } else if case .literal(let v) = a, !v.isNull {
                switch (w, v) {
                case (.string, .string), (.constantString, .string), (.numeric, .int), (.numeric, .double), (.integer, .int), (.boolean, .bool), (.any, _):
                    break
                case (.ip, _): fail("ip", Analyzer.typeName(v))
                case (.string, _), (.constantString, _): fail("string", Analyzer.typeName(v))
                case (.numeric, _): fail("numeric", Analyzer.typeName(v))
                case (.integer, _): fail("integer", Analyzer.typeName(v))
                case (.boolean, _): fail("boolean", Analyzer.typeName(v))
                }
            }
        }
        return .call(f, lowered, insensitive: insensitive)
    }

    private static func isString(_ v: QueryValue) -> Bool { if case .string = v { true } else { false } }

    private static func typeName(_ v: QueryValue) -> String {
        switch v {
        case .null: "null"
        case .bool: "boolean"
        case .int(let i): i >= Int64(Int32.min) && i <= Int64(Int32.max) ? "integer" : "long"
        case .double: "double"
        case .string: "keyword"
        }
    }

    static func value(_ l: EQLLiteral) -> QueryValue {
        switch l {
        case .null: .null
        case .bool(let b): .bool(b)
        case .int(let i): .int(i)
        case .double(let d): .double(d)
        case .string(let s): .string(s)
        }
    }

    /// Source-like text of an expression, for error messages.
    static func render(_ e: EQLExpr) -> String {
        switch e {
        case .literal(.string(let s), _): return "\"\(s)\""
        case .literal(let l, _): return value(l).description
        case .field(let f, let optional, _): return (optional ? "?" : "") + f
        case .call(let name, let i, let args, _): return (i ? name + "~" : name) + "(" + args.map(render).joined(separator: ", ") + ")"
        default: return "expression"
        }
    }

    static func render(_ name: String, _ args: [EQLExpr]) -> String {
        name + "(" + args.map(render).joined(separator: ", ") + ")"
    }
}
