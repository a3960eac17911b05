public import VigilJSON
public import VigilStore

/// A query DSL failure (`parsing_exception`), with the clause that caused it.
public struct QueryDSLError: Error, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// Translates query DSL filters into the expression IR. This first part covers what EQL's
/// `filter` needs: `match_all`, `match_none`, `term`, `terms`, `range`, `exists`, `ids`-free
/// `bool`. Aliases resolve through the mapping.
public struct QueryDSL {
    public let mapping: Mapping

    public init(mapping: Mapping) { self.mapping = mapping }

    public func translate(_ json: JSONValue) throws(QueryDSLError) -> Expr {
        guard case .object(let o) = json, o.count == 1, let clause = o.entries.first else {
            throw QueryDSLError("query malformed, must start with start_object")
        }
        let body = clause.value
        switch clause.key {
        case "match_all":
            return .literal(.bool(true))
        case "match_none":
            return .literal(.bool(false))
        case "term":
            let (field, spec) = try single(body, "term")
            let value = spec.objectValue?["value"] ?? spec
            let insensitive = spec.objectValue?["case_insensitive"]?.boolValue ?? false
            return try equals(field, value, insensitive: insensitive)
        case "terms":
            guard case .object(let fields) = body, let e = fields.entries.first(where: { $0.key != "boost" }) else {
                throw QueryDSLError("[terms] query malformed, no field specified")
            }
            guard case .array(let values) = e.value else { throw QueryDSLError("[terms] query does not support [\(e.key)]") }
            return .or(try values.map { (v) throws(QueryDSLError) in try equals(e.key, v, insensitive: false) })
        case "range":
            let (field, spec) = try single(body, "range")
            guard case .object(let bounds) = spec else { throw QueryDSLError("[range] query malformed, no start_object after query name") }
            let f = resolve(field)
            var parts: [Expr] = []
            for b in bounds.entries {
                let op: Expr.Comparison
                switch b.key {
                case "gt": op = .gt
                case "gte", "from": op = .ge
                case "lt": op = .lt
                case "lte", "to": op = .le
                case "format", "time_zone", "boost", "relation", "include_lower", "include_upper": continue
                default: throw QueryDSLError("[range] query does not support [\(b.key)]")
                }
                if b.value == .null { continue }
                parts.append(.compare(op, f, .literal(try literal(field, b.value, roundUp: op == .le || op == .gt))))
            }
            return parts.count == 1 ? parts[0] : .and(parts)
        case "exists":
            guard let field = body.objectValue?["field"]?.stringValue else { throw QueryDSLError("[exists] must be provided with a [field]") }
            return .not(.isNull(resolve(field)))
        case "bool":
            guard case .object(let b) = body else { throw QueryDSLError("[bool] query malformed") }
            var all: [Expr] = []
            var should: [Expr] = []
            var required = false
            var minimumShouldMatch: Int?
            for e in b.entries {
                let clauses = e.value.arrayValue ?? [e.value]
                switch e.key {
                case "must", "filter":
                    required = true
                    for c in clauses { all.append(.isTrue(try translate(c))) }
                case "must_not": for c in clauses { all.append(.not(.isTrue(try translate(c)))) }
                case "should": for c in clauses { should.append(.isTrue(try translate(c))) }
                case "minimum_should_match":
                    guard let n = e.value.int64Value ?? e.value.stringValue.flatMap({ Int64($0) }) else {
                        throw QueryDSLError("[bool] minimum_should_match [\(e.value.jsonString)] is not supported yet by Vigil (only a number)")
                    }
                    minimumShouldMatch = Int(clamping: n)
                case "boost", "_name": continue
                default: throw QueryDSLError("[bool] query does not support [\(e.key)]")
                }
            }
            // As Elasticsearch: `should` clauses are optional beside `must`/`filter` unless
            // `minimum_should_match` says otherwise; alone, one of them must match.
            let needed = minimumShouldMatch.map { $0 < 0 ? max(0, should.count + $0) : $0 } ?? (required ? 0 : 1)
            if !should.isEmpty && needed > 0 {
                guard needed <= 1 || needed <= should.count else { return .literal(.bool(false)) }
                guard needed == 1 else {
                    throw QueryDSLError("[bool] minimum_should_match above 1 is not supported yet by Vigil")
                }
                all.append(.or(should))
            }
            // A document either matches a DSL clause or not: a null (missing field) is no match,
            // also under `must_not`.
            return all.isEmpty ? .literal(.bool(true)) : .and(all)
        default:
            throw QueryDSLError("query [\(clause.key)] is not supported yet by Vigil in this context")
        }
    }

    private func single(_ body: JSONValue, _ name: String) throws(QueryDSLError) -> (String, JSONValue) {
        guard case .object(let o) = body, let e = o.entries.first(where: { $0.key != "boost" && $0.key != "_name" }) else {
            throw QueryDSLError("[\(name)] query malformed, no field specified")
        }
        return (e.key, e.value)
    }

    func resolve(_ path: String) -> Expr {
        let p = mapping.resolvingAliases(path)
        return mapping.field(at: p) == nil ? .literal(.null) : .field(p)
    }

    /// `roundUp`: date math rounds to the end of its unit (a range's `lte` and `gt`).
    private func literal(_ field: String, _ v: JSONValue, roundUp: Bool = false) throws(QueryDSLError) -> QueryValue {
        let type = mapping.field(at: field).map { m -> FieldType in
            if m.type == .alias, let t = m.aliasPath, let target = mapping.field(at: t) { return target.type }
            return m.type
        }
        switch v {
        case .string(let s):
            if type == .date || type == .dateNanos {
                if DateMath.isMath(s) {
                    guard let ms = DateMath.evaluate(s, now: Clock.nowMillis(), roundUp: roundUp) else {
                        throw QueryDSLError("failed to parse date field [\(s)] with format [strict_date_optional_time||epoch_millis]: [failed to parse date field [\(s)]]")
                    }
                    return .int(ms)
                }
                guard let ms = DateFormats.parse(s) else { throw QueryDSLError("failed to parse date field [\(s)]") }
                return .int(ms)
            }
            if type?.isNumeric == true {
                if let i = Int64(s) { return .int(i) }
                if let d = Double(s) { return .double(d) }
                throw QueryDSLError("For input string: \"\(s)\"")
            }
            return .string(s)
        case .int(let i): return .int(i)
        case .uint(let u): return u <= UInt64(Int64.max) ? .int(Int64(u)) : .double(Double(u))
        case .double(let d): return .double(d)
        case .bool(let b): return type?.isStringLike == true ? .string(String(b)) : .bool(b)
        case .null: return .null
        default: throw QueryDSLError("[\(field)] value must be a scalar")
        }
    }

    private func equals(_ field: String, _ value: JSONValue, insensitive: Bool) throws(QueryDSLError) -> Expr {
        let v = try literal(field, value)
        if insensitive, case .string(let s) = v { return .matches(resolve(field), [Pattern(.exact(s), insensitive: true)]) }
        return .compare(.eq, resolve(field), .literal(v))
    }
}
