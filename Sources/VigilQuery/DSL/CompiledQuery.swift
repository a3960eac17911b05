/// A query compiled for a search: which documents match (`expr`) and how each scores.
public struct CompiledQuery: Sendable {
    public var expr: Expr
    public var score: ScoreNode

    public init(_ expr: Expr, _ score: ScoreNode) {
        self.expr = expr
        self.score = score
    }

    public static let all = CompiledQuery(.literal(.bool(true)), .constant(1))
    public static let none = CompiledQuery(.literal(.bool(false)), .constant(0))

    /// The same documents scored `boost` each (`constant_score`, filter context scores 0).
    public func constant(_ boost: Double) -> CompiledQuery { CompiledQuery(expr, .constant(boost)) }
}

/// How a matching document's relevance score is computed, as Elasticsearch does.
public indirect enum ScoreNode: Sendable, Equatable {
    /// Every matching document scores the same (filters, ranges, wildcards, `terms`).
    case constant(Double)
    /// BM25 of `terms` in `field` (`k1` 1.2, `b` 0.75, Elasticsearch's `(k1 + 1)` scaling).
    /// `tokenized`: the field is analyzed `text` (term frequencies and lengths come from its
    /// tokens); otherwise each value is one term and lengths are not used (keyword norms are
    /// off). `phrase`: the terms score as one phrase, its frequency the occurrences in order.
    case bm25(field: String, terms: [String], tokenized: Bool, phrase: Bool, boost: Double)
    /// Sum of the clauses whose condition holds (`nil`: always, as `must`).
    case sum([ScoreClause])
    /// The best clause, plus `tieBreaker` times the others (`dis_max`, `best_fields`).
    case max([ScoreClause], tieBreaker: Double)
    /// A child's score times a factor (`boost` on compound queries).
    case scaled(ScoreNode, Double)

    /// The score when it is the same for every matching document.
    public var constantValue: Double? {
        switch self {
        case .constant(let c): return c
        case .scaled(let n, let f): return n.constantValue.map { $0 * f }
        case .sum(let cs):
            // Each child's value once: asking twice per level doubled the work at every level
            // (a 28-deep bool of `must` took seconds).
            var total = 0.0
            for c in cs {
                guard c.when == nil, let v = c.node.constantValue else { return nil }
                total += v
            }
            return total
        default: return nil
        }
    }
}

public struct ScoreClause: Sendable, Equatable {
    public var when: Expr?
    public var node: ScoreNode

    public init(when: Expr?, node: ScoreNode) {
        self.when = when
        self.node = node
    }
}
