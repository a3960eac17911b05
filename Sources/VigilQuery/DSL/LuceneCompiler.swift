public import VigilJSON

/// Options of `query_string` and `simple_query_string`.
public struct LuceneOptions: Sendable {
    /// Fields a clause without one searches, with boosts; `*` is every searchable field.
    public var defaultFields: [(String, Double)] = [("*", 1)]
    public var defaultAnd = false
    /// Skip fields a value does not fit (a word against a number field) instead of failing.
    public var lenient = true
    public var analyzeWildcard = false
    public var allowLeadingWildcard = true
    public var timeZone: String?

    public init() {}
}

/// Compiles Lucene syntax into the IR through the query DSL's field queries.
struct LuceneCompiler {
    let dsl: QueryDSL
    let options: LuceneOptions

    func compile(_ q: LuceneQuery, field: String? = nil) throws(QueryDSLError) -> CompiledQuery {
        switch q {
        case .matchAll:
            return .all
        case .group(let f, let inner, let boost):
            let c = try compile(inner, field: f ?? field)
            return boost == 1 ? c : CompiledQuery(c.expr, .scaled(c.score, boost))
        case .boolean(let clauses):
            var all: [Expr] = []
            var should: [CompiledQuery] = []
            var scored: [ScoreClause] = []
            var positive = false
            for clause in clauses {
                let c = try compile(clause.query, field: field)
                switch clause.occur {
                case .must:
                    positive = true
                    all.append(.isTrue(c.expr))
                    scored.append(ScoreClause(when: nil, node: c.score))
                case .mustNot:
                    all.append(.not(.isTrue(c.expr)))
                case .should:
                    positive = true
                    should.append(c)
                    scored.append(ScoreClause(when: c.expr, node: c.score))
                }
            }
            // Only should clauses: one must match; beside must clauses they are optional.
            if !should.isEmpty && !clauses.contains(where: { $0.occur == .must }) { all.append(.or(should.map(\.expr))) }
            // A purely negative query matches everything else (Elasticsearch adds match_all).
            if !positive { scored.append(ScoreClause(when: nil, node: .constant(1))) }
            return CompiledQuery(all.isEmpty ? .literal(.bool(true)) : all.count == 1 ? all[0] : .and(all), .sum(scored))
        case .leaf(let f, let term, let boost):
            let fieldName = f ?? field
            let targets: [(String, Double)] = fieldName.map { [($0, 1)] } ?? options.defaultFields
            var parts: [CompiledQuery] = []
            let lenient = options.lenient || targets.count > 1 || targets.contains { $0.0.contains("*") }
            for (pattern, fieldBoost) in targets {
                let fields = pattern.contains("*") ? dsl.expand(pattern) : [pattern]
                let multiple = fields.count > 1 || pattern.contains("*")
                for name in fields {
                    do {
                        if let c = try leaf(name, term) { parts.append(fieldBoost == 1 ? c : CompiledQuery(c.expr, .scaled(c.score, fieldBoost))) }
                    } catch {
                        if !(lenient || multiple) { throw error }
                    }
                }
            }
            if case .exists = term, parts.isEmpty { return .none }
            guard !parts.isEmpty else { return .none }
            let c = parts.count == 1 ? parts[0] : CompiledQuery(.or(parts.map(\.expr)), .max(parts.map { ScoreClause(when: $0.expr, node: $0.score) }, tieBreaker: 0))
            return boost == 1 ? c : CompiledQuery(c.expr, .scaled(c.score, boost))
        }
    }

    /// One value against one field; nil when it can match nothing (no terms).
    func leaf(_ field: String, _ term: LuceneTerm) throws(QueryDSLError) -> CompiledQuery? {
        let type = dsl.type(of: field)
        let isText = type == .text || type == .matchOnlyText
        switch term {
        case .exists:
            return dsl.exists(field)
        case .term(let text, let wildcard):
            if wildcard {
                if text == "*" { return dsl.exists(field) }
                if !options.allowLeadingWildcard, text.first == "*" || text.first == "?" {
                    throw QueryDSLError("Cannot parse '\(text)': '*' or '?' not allowed as first character in WildcardQuery", type: "query_shard_exception")
                }
                guard type == nil || type!.isStringLike else {
                    throw QueryDSLError("Can only use wildcard queries on keyword and text fields - not on [\(field)] which is of type [\(type!.rawValue)]", type: "query_shard_exception")
                }
                return dsl.pattern(field, Pattern(QueryDSL.wildcard(isText ? text.lowercased() : text), insensitive: false))
            }
            var options = QueryDSL.MatchOptions()
            options.and = self.options.defaultAnd
            return try dsl.match(field, text, options)
        case .phrase(let text, let slop):
            return try dsl.phrase(field, text, slop: slop, prefix: false)
        case .regex(let r):
            if let problem = Pattern.regexProblem(r) { throw QueryDSL.regexError(problem) }
            guard type == nil || type!.isStringLike else {
                throw QueryDSLError("Can only use regexp queries on keyword and text fields - not on [\(field)] which is of type [\(type!.rawValue)]", type: "query_shard_exception")
            }
            return dsl.pattern(field, Pattern(.regex(r), insensitive: false))
        case .range(let lower, let upper, let includeLower, let includeUpper):
            var bounds: [(Expr.Comparison, JSONValue)] = []
            if let lower { bounds.append((includeLower ? .ge : .gt, .string(lower))) }
            if let upper { bounds.append((includeUpper ? .le : .lt, .string(upper))) }
            return try dsl.range(field, bounds, timeZone: options.timeZone)
        case .fuzzy(let text):
            throw QueryDSLError("fuzzy queries ([\(text)~]) are not supported yet by Vigil", type: "query_shard_exception")
        }
    }
}
