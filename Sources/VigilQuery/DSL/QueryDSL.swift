public import VigilJSON
public import VigilStore

/// A query DSL failure (`parsing_exception`, or with `type` another exception), with the
/// clause that caused it.
public struct QueryDSLError: Error, Sendable {
    public var message: String
    public var type: String
    /// Where in a query string (KQL, Lucene) the problem is, 0-based in characters.
    public var position: Int?

    public init(_ message: String, type: String = "parsing_exception", position: Int? = nil) {
        self.message = message
        self.type = type
        self.position = position
    }
}

/// Compiles Elasticsearch's query DSL into the expression IR and a score tree. Aliases resolve
/// through the mapping; full-text queries analyze `text` fields with the standard analyzer.
public struct QueryDSL {
    public let mapping: Mapping
    /// Epoch milliseconds `now` means in date math.
    public var now: Int64

    public init(mapping: Mapping, now: Int64 = Clock.nowMillis()) {
        self.mapping = mapping
        self.now = now
    }

    /// The documents a query matches.
    public func translate(_ json: JSONValue) throws(QueryDSLError) -> Expr { try compile(json).expr }

    /// `indices.query.max_nested_depth`: compound queries (`bool`, `constant_score`, `dis_max`)
    /// nest at most this deep, as Elasticsearch checks while parsing.
    public static let maxNestedDepth = 30

    /// The deepest nesting of compound queries in `json`, counted no further than the limit.
    static func nestedDepth(_ json: JSONValue, _ level: Int = 0) -> Int {
        guard level <= maxNestedDepth, case .object(let o) = json, o.count == 1, let clause = o.entries.first else { return level }
        var children: [JSONValue] = []
        switch clause.key {
        case "bool":
            for e in clause.value.objectValue?.entries ?? [] where ["must", "filter", "should", "must_not"].contains(e.key) {
                children += e.value.arrayValue ?? [e.value]
            }
        case "constant_score": if let f = clause.value["filter"] { children.append(f) }
        case "dis_max": children = clause.value["queries"]?.arrayValue ?? []
        default: return level
        }
        return children.reduce(level + 1) { max($0, nestedDepth($1, level + 1)) }
    }

    public func compile(_ json: JSONValue) throws(QueryDSLError) -> CompiledQuery {
        guard case .object(let o) = json, o.count == 1, let clause = o.entries.first else {
            throw QueryDSLError("query malformed, must start with start_object")
        }
        if ["bool", "constant_score", "dis_max"].contains(clause.key), QueryDSL.nestedDepth(json) > QueryDSL.maxNestedDepth {
            throw QueryDSLError("The nested depth of the query exceeds the maximum nested depth for queries set in [indices.query.max_nested_depth]",
                                type: "illegal_argument_exception")
        }
        let body = clause.value
        let name = clause.key
        switch name {
        case "match_all":
            return CompiledQuery.all.constant(boost(body))
        case "match_none":
            return .none
        case "term":
            let (field, spec) = try single(body, name)
            let value = spec.objectValue.map { $0["value"] ?? .null } ?? spec
            if case .null = value { throw QueryDSLError("[term] query malformed, no value specified") }
            return try scaled(term(field, value, insensitive: spec.objectValue?["case_insensitive"]?.boolValue ?? false), spec)
        case "terms":
            guard case .object(let fields) = body, let e = fields.entries.first(where: { $0.key != "boost" && $0.key != "_name" }) else {
                throw QueryDSLError("[terms] query malformed, no field specified")
            }
            guard case .array(let values) = e.value else { throw QueryDSLError("[terms] query does not support [\(e.key)]") }
            let parts = try values.map { (v) throws(QueryDSLError) in try term(e.key, v, insensitive: false).expr }
            return CompiledQuery(.or(parts), .constant(boost(body)))
        case "range":
            let (field, spec) = try single(body, name)
            guard case .object(let bounds) = spec else { throw QueryDSLError("[range] query malformed, no start_object after query name") }
            var list: [(Expr.Comparison, JSONValue)] = []
            var zone: String?
            for b in bounds.entries {
                switch b.key {
                case "gt": list.append((.gt, b.value))
                case "gte": list.append((.ge, b.value))
                case "lt": list.append((.lt, b.value))
                case "lte": list.append((.le, b.value))
                case "from": list.append((bounds["include_lower"]?.boolValue == false ? .gt : .ge, b.value))
                case "to": list.append((bounds["include_upper"]?.boolValue == false ? .lt : .le, b.value))
                case "time_zone": zone = b.value.stringValue
                case "format", "boost", "relation", "include_lower", "include_upper", "_name": continue
                default: throw QueryDSLError("[range] query does not support [\(b.key)]")
                }
            }
            return try range(field, list.filter { $0.1 != .null }, timeZone: zone).constant(boost(spec))
        case "exists":
            guard let field = body.objectValue?["field"]?.stringValue else { throw QueryDSLError("[exists] must be provided with a [field]") }
            return exists(field).constant(boost(body))
        case "ids":
            guard let values = body.objectValue?["values"]?.arrayValue else { throw QueryDSLError("[ids] query malformed, no values specified") }
            let ids = values.compactMap { $0.stringValue ?? ($0.int64Value.map { String($0) }) }
            return CompiledQuery(.inList(.field("_id"), ids.map { .literal(.string($0)) }, insensitive: false), .constant(boost(body)))
        case "prefix", "wildcard", "regexp":
            let (field, spec) = try single(body, name)
            let o = spec.objectValue
            guard let value = (o?["value"] ?? o?["wildcard"] ?? (o == nil ? spec : nil))?.stringValue else {
                throw QueryDSLError("[\(name)] query malformed, no value specified")
            }
            let insensitive = o?["case_insensitive"]?.boolValue ?? false
            let kind: Pattern.Kind = name == "prefix" ? .prefix(value) : name == "wildcard" ? QueryDSL.wildcard(value) : .regex(value)
            if case .regex(let r) = kind, let problem = Pattern.regexProblem(r) {
                throw QueryDSL.regexError(problem)
            }
            if name == "regexp", let flags = o?["flags"]?.stringValue, !["", "ALL"].contains(flags.uppercased()) {
                throw QueryDSLError("[regexp] flags other than ALL are not supported by Vigil yet (got [\(flags)])", type: "illegal_argument_exception")
            }
            if name == "regexp", o?["flags_value"] != nil || o?["max_determinized_states"] != nil {
                throw QueryDSLError("[regexp] flags_value and max_determinized_states are not supported by Vigil yet", type: "illegal_argument_exception")
            }
            return pattern(field, Pattern(kind, insensitive: insensitive)).constant(boost(spec))
        case "match", "match_phrase", "match_phrase_prefix", "match_bool_prefix":
            let (field, spec) = try single(body, name)
            let o = spec.objectValue
            guard let q = o.map({ $0["query"] }) ?? spec, q != .null else { throw QueryDSLError("[\(name)] requires query value") }
            let text = q.stringValue ?? q.scalarText
            let options = MatchOptions(json: o)
            let compiled: CompiledQuery?
            switch name {
            case "match": compiled = try match(field, text, options)
            case "match_bool_prefix": compiled = try match(field, text, options, lastIsPrefix: true)
            default: compiled = try phrase(field, text, slop: Int(o?["slop"]?.int64Value ?? 0), prefix: name == "match_phrase_prefix", lenient: options.lenient)
            }
            return try scaled(compiled ?? (options.zeroTermsAll ? .all : .none), spec)
        case "multi_match":
            guard case .object(let o) = body, let q = o["query"] else { throw QueryDSLError("[multi_match] requires query value") }
            let text = q.stringValue ?? q.scalarText
            let fields = try fieldList(o["fields"])
            let options = MatchOptions(json: o)
            let type = o["type"]?.stringValue ?? "best_fields"
            var clauses: [CompiledQuery] = []
            for (pattern, fieldBoost) in fields {
                for f in expand(pattern) {
                    let c: CompiledQuery?
                    switch type {
                    case "best_fields", "most_fields", "cross_fields": c = try match(f, text, options, lenient: true)
                    case "phrase", "phrase_prefix": c = try phrase(f, text, slop: Int(o["slop"]?.int64Value ?? 0), prefix: type == "phrase_prefix", lenient: true)
                    case "bool_prefix": c = try match(f, text, options, lastIsPrefix: true, lenient: true)
                    default: throw QueryDSLError("[multi_match] query does not support type \(type)")
                    }
                    if let c { clauses.append(CompiledQuery(c.expr, .scaled(c.score, fieldBoost))) }
                }
            }
            guard !clauses.isEmpty else { return options.zeroTermsAll ? .all : .none }
            let scoreClauses = clauses.map { ScoreClause(when: $0.expr, node: $0.score) }
            let tie = o["tie_breaker"]?.doubleValue ?? (type == "most_fields" ? 1 : 0)
            return CompiledQuery(.or(clauses.map(\.expr)), .scaled(.max(scoreClauses, tieBreaker: tie), boost(body)))
        case "constant_score":
            guard let filter = body.objectValue?["filter"] else { throw QueryDSLError("[constant_score] requires a 'filter' element") }
            return try compile(filter).constant(boost(body))
        case "dis_max":
            guard let queries = body.objectValue?["queries"]?.arrayValue else { throw QueryDSLError("[dis_max] requires 'queries' field with at least one clause") }
            let parts = try queries.map { (q) throws(QueryDSLError) in try compile(q) }
            let tie = body.objectValue?["tie_breaker"]?.doubleValue ?? 0
            return CompiledQuery(.or(parts.map(\.expr)), .scaled(.max(parts.map { ScoreClause(when: $0.expr, node: $0.score) }, tieBreaker: tie), boost(body)))
        case "bool":
            return try bool(body)
        case "query_string", "simple_query_string":
            guard case .object(let o) = body, let text = o["query"]?.stringValue else { throw QueryDSLError("[\(name)] must be provided with a [query]") }
            var options = LuceneOptions()
            if let f = o["default_field"]?.stringValue { options.defaultFields = [(f, 1)] }
            if o["fields"] != nil { options.defaultFields = try fieldList(o["fields"]) }
            if let op = o["default_operator"]?.stringValue?.lowercased() { options.defaultAnd = op == "and" }
            options.lenient = o["lenient"]?.boolValue ?? (options.defaultFields.contains { $0.0.contains("*") })
            options.analyzeWildcard = o["analyze_wildcard"]?.boolValue ?? false
            options.allowLeadingWildcard = o["allow_leading_wildcard"]?.boolValue ?? true
            options.timeZone = o["time_zone"]?.stringValue
            let q = name == "simple_query_string" ? LuceneQuery.parseSimple(text) : try LuceneQuery.parse(text)
            return try scaled(LuceneCompiler(dsl: self, options: options).compile(q), body)
        case "kql":
            guard case .object(let o) = body, let text = o["query"]?.stringValue else { throw QueryDSLError("[kql] query malformed, [query] is required") }
            let q = try KQLParser.parse(text)
            var options = KQLOptions()
            options.caseInsensitive = o["case_insensitive"]?.boolValue ?? false
            if let f = o["default_field"]?.stringValue { options.defaultField = f }
            options.timeZone = o["time_zone"]?.stringValue
            return try KQLCompiler(dsl: self, options: options).compile(q)
        default:
            throw QueryDSLError("query [\(name)] is not supported yet by Vigil")
        }
    }

    // MARK: - bool

    private func bool(_ body: JSONValue) throws(QueryDSLError) -> CompiledQuery {
        guard case .object(let b) = body else { throw QueryDSLError("[bool] query malformed") }
        var all: [Expr] = []
        var should: [CompiledQuery] = []
        var scored: [ScoreClause] = []
        var required = false
        var minimum: JSONValue?
        for e in b.entries {
            let clauses = e.value.arrayValue ?? [e.value]
            switch e.key {
            case "must":
                required = true
                for c in clauses {
                    let q = try compile(c)
                    all.append(.isTrue(q.expr))
                    scored.append(ScoreClause(when: nil, node: q.score))
                }
            case "filter":
                required = true
                for c in clauses { all.append(.isTrue(try compile(c).expr)) }
            case "must_not": for c in clauses { all.append(.not(.isTrue(try compile(c).expr))) }
            case "should": for c in clauses { should.append(try compile(c)) }
            case "minimum_should_match": minimum = e.value
            case "boost", "_name", "adjust_pure_negative": continue
            default: throw QueryDSLError("[bool] query does not support [\(e.key)]")
            }
        }
        // As Elasticsearch: `should` clauses are optional beside `must`/`filter` unless
        // `minimum_should_match` says otherwise; alone, one of them must match.
        let needed = try minimum.map { (m) throws(QueryDSLError) in try QueryDSL.minimumShouldMatch(m, clauses: should.count) } ?? (required ? 0 : 1)
        if !should.isEmpty {
            if needed > should.count { return .none }
            if needed == 1 {
                all.append(.or(should.map(\.expr)))
            } else if needed > 1 {
                all.append(.atLeast(needed, should.map(\.expr)))
            }
            for s in should { scored.append(ScoreClause(when: s.expr, node: s.score)) }
        }
        // A document either matches a DSL clause or not: a null (missing field) is no match,
        // also under `must_not`.
        let expr: Expr = all.isEmpty ? .literal(.bool(true)) : all.count == 1 ? all[0] : .and(all)
        let score: ScoreNode = scored.isEmpty ? .constant(0) : .sum(scored)
        return CompiledQuery(expr, .scaled(score, boost(body)))
    }

    /// `minimum_should_match` as a count of `clauses`: an integer, a negative integer (all
    /// but), a percentage or a negative percentage (rounded down, as Elasticsearch).
    public static func minimumShouldMatch(_ v: JSONValue, clauses: Int) throws(QueryDSLError) -> Int {
        var text = v.stringValue ?? v.scalarText
        text = text.trimmed
        var result: Int
        if text.hasSuffix("%") {
            guard let p = Int(text.dropLast()) else { throw QueryDSLError("Unable to parse minimum_should_match [\(text)]", type: "illegal_argument_exception") }
            // A percentage past 100 means every clause; clamped so the product cannot overflow.
            result = clauses * Int(p.magnitude > 100 ? 100 : p.magnitude) / 100
            if p < 0 { result = clauses - result }
        } else if let n = Int(text) {
            result = n < 0 ? (n < -clauses ? 0 : clauses + n) : n
        } else {
            throw QueryDSLError("minimum_should_match [\(text)] is not supported by Vigil (integers and percentages are)", type: "illegal_argument_exception")
        }
        return max(0, result)
    }

    // MARK: - field queries shared by the DSL, Lucene and KQL

    /// A field's type, aliases followed; nil when unmapped.
    public func type(of path: String) -> FieldType? {
        mapping.field(at: mapping.resolvingAliases(path))?.type
    }

    /// The fields a pattern names (`*`, `process.*`, a plain path); a plain path is itself
    /// even when unmapped. Patterns reach only fields a query can search.
    public func expand(_ pattern: String) -> [String] {
        guard pattern.contains("*") else { return [pattern] }
        return mapping.leaves.filter { leaf in
            leaf.field.type != .alias && leaf.field.type.storage != .none && leaf.field.type != .geoPoint && leaf.field.type != .binary
                && Wildcard.matches(pattern, leaf.path)
        }.map(\.path)
    }

    func resolve(_ path: String) -> Expr {
        if path == "_id" { return .field("_id") }
        let p = mapping.resolvingAliases(path)
        return mapping.field(at: p) == nil ? .literal(.null) : .field(p)
    }

    /// Exact value (keyword, number, date, IP, boolean); on a `text` field a single token.
    public func term(_ field: String, _ value: JSONValue, insensitive: Bool) throws(QueryDSLError) -> CompiledQuery {
        let path = mapping.resolvingAliases(field)
        let type = type(of: path)
        if type == .ip, let s = value.stringValue, s.contains("/") {
            guard CIDR(s) != nil else { throw QueryDSLError("'\(s)' is not an IP string literal.", type: "illegal_argument_exception") }
            return CompiledQuery(.call(.cidrMatch, [resolve(path), .literal(.string(s))], insensitive: false), .constant(1))
        }
        if type == .date || type == .dateNanos {
            // A date term is the range [value, value]: the upper end rounds up, so a day, a
            // second or `now/d` covers every instant in it.
            let low = try literal(path, value), high = try literal(path, value, roundUp: true)
            if low == high { return CompiledQuery(.compare(.eq, resolve(path), .literal(low)), .constant(1)) }
            return CompiledQuery(.perValue(.and([.compare(.ge, resolve(path), .literal(low)), .compare(.le, resolve(path), .literal(high))])), .constant(1))
        }
        let v = try literal(path, value)
        if type == .text || type == .matchOnlyText, case .string(let s) = v {
            let m: Expr = insensitive ? .text(resolve(path), .token(Pattern(.exact(s), insensitive: true))) : .text(resolve(path), .terms([s], minimum: 1))
            return CompiledQuery(m, .bm25(field: path, terms: [s], tokenized: true, phrase: false, boost: 1))
        }
        if insensitive, case .string(let s) = v {
            return CompiledQuery(.matches(resolve(path), [Pattern(.exact(s), insensitive: true)]), .constant(1))
        }
        let expr = Expr.compare(.eq, resolve(path), .literal(v))
        if type?.isStringLike == true, case .string(let s) = v {
            return CompiledQuery(expr, .bm25(field: path, terms: [s], tokenized: false, phrase: false, boost: 1))
        }
        return CompiledQuery(expr, .constant(1))
    }

    struct MatchOptions {
        var and = false
        var minimum: JSONValue?
        var lenient = false
        var zeroTermsAll = false

        init(json: JSONObject?) {
            and = json?["operator"]?.stringValue?.lowercased() == "and"
            minimum = json?["minimum_should_match"]
            lenient = json?["lenient"]?.boolValue ?? false
            zeroTermsAll = json?["zero_terms_query"]?.stringValue == "all"
        }

        init() {}
    }

    /// `match`: analyzed terms on `text` fields, the exact value elsewhere. Nil when the
    /// text has no terms, or (lenient) the value does not fit the field's type.
    func match(_ field: String, _ text: String, _ options: MatchOptions, lastIsPrefix: Bool = false, lenient: Bool = false) throws(QueryDSLError) -> CompiledQuery? {
        let path = mapping.resolvingAliases(field)
        let type = type(of: path)
        if type == .text || type == .matchOnlyText {
            var tokens = TextAnalyzer.tokens(text)
            guard !tokens.isEmpty else { return nil }
            var prefix: String?
            if lastIsPrefix { prefix = tokens.removeLast() }
            let count = tokens.count + (prefix == nil ? 0 : 1)
            let minimum = options.and ? count : try options.minimum.map { (m) throws(QueryDSLError) in try QueryDSL.minimumShouldMatch(m, clauses: count) } ?? 1
            var parts: [Expr] = []
            if !tokens.isEmpty {
                if minimum <= 1 || prefix == nil {
                    parts = [.text(resolve(path), .terms(tokens, minimum: max(1, min(minimum, tokens.count))))]
                } else {
                    parts = tokens.map { .text(resolve(path), .terms([$0], minimum: 1)) }
                }
            }
            if let prefix { parts.append(.text(resolve(path), .token(Pattern(.prefix(prefix), insensitive: false)))) }
            let expr: Expr = parts.count == 1 ? parts[0] : (minimum <= 1 ? .or(parts) : .atLeast(minimum, parts))
            return CompiledQuery(expr, .bm25(field: path, terms: tokens + (prefix.map { [$0] } ?? []), tokenized: true, phrase: false, boost: 1))
        }
        do {
            return try term(path, .string(text), insensitive: false)
        } catch {
            if lenient || options.lenient { return nil }
            throw error
        }
    }

    /// `match_phrase`: the analyzed terms in order on `text` fields, the exact value elsewhere.
    func phrase(_ field: String, _ text: String, slop: Int, prefix: Bool, lenient: Bool = false) throws(QueryDSLError) -> CompiledQuery? {
        let path = mapping.resolvingAliases(field)
        let type = type(of: path)
        if type == .text || type == .matchOnlyText {
            let tokens = TextAnalyzer.tokens(text)
            guard !tokens.isEmpty else { return nil }
            return CompiledQuery(.text(resolve(path), .phrase(tokens, slop: slop, prefix: prefix)), .bm25(field: path, terms: tokens, tokenized: true, phrase: tokens.count > 1, boost: 1))
        }
        if prefix, type?.isStringLike == true { return pattern(path, Pattern(.prefix(text), insensitive: false)) }
        do {
            return try term(path, .string(text), insensitive: false)
        } catch {
            if lenient { return nil }
            throw error
        }
    }

    /// Wildcard, prefix or regex: the whole value of keyword-like fields, each token of `text`
    /// fields. Constant score.
    public func pattern(_ field: String, _ p: Pattern) -> CompiledQuery {
        let path = mapping.resolvingAliases(field)
        let type = type(of: path)
        if type == .text || type == .matchOnlyText { return CompiledQuery(.text(resolve(path), .token(p)), .constant(1)) }
        if case .prefix(let s) = p.kind, s.isEmpty { return exists(path) }
        if case .wildcard(let w) = p.kind, !w.isEmpty, w.allSatisfy({ $0 == "*" }) { return exists(path) }
        return CompiledQuery(.matches(resolve(path), [p]), .constant(1))
    }

    public func exists(_ field: String) -> CompiledQuery {
        let fields = field.contains("*") ? expand(field) : [mapping.resolvingAliases(field)]
        let parts = fields.map { Expr.not(.isNull(resolve($0))) }
        return CompiledQuery(parts.count == 1 ? parts[0] : .or(parts), .constant(1))
    }

    /// Bounds on a field; dates take date math (`lte`/`gt` round up) and a time zone; IPs
    /// compare as addresses.
    public func range(_ field: String, _ bounds: [(Expr.Comparison, JSONValue)], timeZone: String? = nil) throws(QueryDSLError) -> CompiledQuery {
        let path = mapping.resolvingAliases(field)
        let type = type(of: path)
        var parts: [Expr] = []
        for (op, value) in bounds {
            if type == .ip {
                guard let s = value.stringValue, let ip = IPAddress(s) else {
                    throw QueryDSLError("'\(value.scalarText)' is not an IP string literal.", type: "illegal_argument_exception")
                }
                parts.append(.compare(op, .call(.ipOrder, [resolve(path)], insensitive: false), .literal(.string(Functions.ipOrder(ip)))))
                continue
            }
            parts.append(.compare(op, resolve(path), .literal(try literal(path, value, roundUp: op == .le || op == .gt, timeZone: timeZone))))
        }
        if parts.isEmpty { return exists(path) }
        // Both bounds hold for one value: on an array, [1, 9] is not in 3..5.
        return CompiledQuery(parts.count == 1 ? parts[0] : .perValue(.and(parts)), .constant(1))
    }

    /// A value as the field's type sees it. `roundUp`: date math rounds to the end of its
    /// unit (a range's `lte` and `gt`).
    func literal(_ field: String, _ v: JSONValue, roundUp: Bool = false, timeZone: String? = nil) throws(QueryDSLError) -> QueryValue {
        let type = type(of: field)
        switch v {
        case .string(let s):
            if type == .date || type == .dateNanos {
                let offset = try QueryDSL.zoneOffset(timeZone)
                if DateMath.isMath(s) {
                    guard let ms = DateMath.evaluate(s, now: now, roundUp: roundUp) else {
                        throw QueryDSLError("failed to parse date field [\(s)] with format [strict_date_optional_time||epoch_millis]: [failed to parse date field [\(s)]]")
                    }
                    return .int(s.hasPrefix("now") ? ms : ms - offset(ms))
                }
                guard let ms = DateFormats.parse(s) else {
                    throw QueryDSLError("failed to parse date field [\(s)] with format [strict_date_optional_time||epoch_millis]: [failed to parse date field [\(s)]]")
                }
                if DateFormats.parseEpochMillis(s) != nil { return .int(ms) }
                // Parts the text leaves out are filled with their maximum when rounding up.
                let local = roundUp ? ms + DateFormats.roundUpSpan(s) : ms
                return .int(QueryDSL.hasZone(s) ? local : local - offset(local))
            }
            if type?.isNumeric == true {
                if let i = Int64(s) { return .int(i) }
                if let d = Double(s) { return .double(d) }
                throw QueryDSLError("For input string: \"\(s)\"", type: "number_format_exception")
            }
            if type == .boolean {
                guard s == "true" || s == "false" else {
                    throw QueryDSLError("Can't parse boolean value [\(s)], expected [true] or [false]", type: "illegal_argument_exception")
                }
                return .bool(s == "true")
            }
            if type == .ip, IPAddress(s) == nil {
                throw QueryDSLError("'\(s)' is not an IP string literal.", type: "illegal_argument_exception")
            }
            return .string(s)
        case .int(let i): return type?.isStringLike == true || type == .ip ? .string(String(i)) : .int(i)
        case .uint(let u): return u <= UInt64(Int64.max) ? .int(Int64(u)) : .double(Double(u))
        case .double(let d): return type?.isStringLike == true ? .string(QueryValue.format(d)) : .double(d)
        case .bool(let b): return type?.isStringLike == true ? .string(String(b)) : .bool(b)
        case .null: return .null
        default: throw QueryDSLError("[\(field)] value must be a scalar")
        }
    }

    /// A refused regular expression as Elasticsearch reports it: a query that cannot be built.
    static func regexError(_ problem: (type: String, message: String)) -> QueryDSLError {
        problem.type == "illegal_argument_exception"
            ? QueryDSLError("failed to create query: \(problem.message)", type: "query_shard_exception")
            : QueryDSLError(problem.message, type: problem.type)
    }

    /// A Lucene wildcard (`*` any run, `?` one character, `\\` escapes the next character) as
    /// a pattern: escapes leave an exact value or a regular expression.
    public static func wildcard(_ w: String) -> Pattern.Kind {
        guard w.contains("\\") else { return .wildcard(w) }
        var literal = "", regex = "", wild = false
        var chars = w.makeIterator()
        func add(_ c: Character) {
            literal.append(c)
            if !(c.isLetter || c.isNumber) { regex.append("\\") }
            regex.append(c)
        }
        while let c = chars.next() {
            switch c {
            case "\\": add(chars.next() ?? "\\")
            case "*":
                wild = true
                regex += ".*"
            case "?":
                wild = true
                regex += "."
            default: add(c)
            }
        }
        return wild ? .regex(regex) : .exact(literal)
    }

    /// Whether an ISO date text names its own offset (`Z`, `+01:00`).
    static func hasZone(_ s: String) -> Bool {
        guard let t = s.firstIndex(of: "T") else { return false }
        let time = s[t...]
        return time.hasSuffix("Z") || time.contains("+") || time.dropFirst().contains("-")
    }

    /// The offset in milliseconds a time zone has at an instant: `+01:00`, `-0500`, `Z`, `UTC`
    /// or an IANA name.
    public static func zoneOffset(_ zone: String?) throws(QueryDSLError) -> (Int64) -> Int64 {
        guard let zone, zone != "Z", zone != "UTC", zone != "+00:00" else { return { _ in 0 } }
        guard let tz = TimeZones.named(zone) else {
            throw QueryDSLError("Unknown time-zone ID: \(zone)", type: "illegal_argument_exception")
        }
        return tz
    }

    private func single(_ body: JSONValue, _ name: String) throws(QueryDSLError) -> (String, JSONValue) {
        guard case .object(let o) = body, let e = o.entries.first(where: { $0.key != "boost" && $0.key != "_name" }) else {
            throw QueryDSLError("[\(name)] query malformed, no field specified")
        }
        return (e.key, e.value)
    }

    private func boost(_ body: JSONValue) -> Double { body.objectValue?["boost"]?.doubleValue ?? 1 }

    private func scaled(_ q: CompiledQuery, _ spec: JSONValue) throws(QueryDSLError) -> CompiledQuery {
        let b = boost(spec)
        return b == 1 ? q : CompiledQuery(q.expr, .scaled(q.score, b))
    }

    /// `["a^2", "b"]` as fields with boosts.
    func fieldList(_ v: JSONValue?) throws(QueryDSLError) -> [(String, Double)] {
        guard let v else { return [("*", 1)] }
        let items = v.arrayValue ?? [v]
        return items.compactMap(\.stringValue).map { f in
            if let caret = f.lastIndex(of: "^"), let b = Double(f[f.index(after: caret)...]) { return (String(f[..<caret]), b) }
            return (f, 1)
        }
    }
}

extension JSONValue {
    /// A scalar as query text (`80`, `true`, `1.5`).
    public var scalarText: String {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .uint(let u): return String(u)
        case .double(let d): return QueryValue.format(d)
        case .bool(let b): return String(b)
        default: return jsonString
        }
    }

}
