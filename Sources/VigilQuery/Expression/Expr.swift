/// The predicate and expression IR every query language compiles to (EQL now; KQL, the query
/// DSL and Lucene later). Fields are resolved storage paths; nulls propagate (three-valued
/// logic), and a filter keeps only documents whose condition is true.
public indirect enum Expr: Sendable, Hashable {
    case literal(QueryValue)
    case field(String)
    case not(Expr)
    case and([Expr])
    case or([Expr])
    /// Case-sensitive for strings; numbers compare across int and double.
    case compare(Comparison, Expr, Expr)
    /// True when the value is null (missing), false otherwise; never null itself.
    case isNull(Expr)
    /// True when the value is true, false otherwise (null included); never null itself.
    case isTrue(Expr)
    /// True when the value matches any of the patterns.
    case matches(Expr, [Pattern])
    /// `x in (a, b)`: equality with any element; `insensitive` folds case for strings.
    case inList(Expr, [Expr], insensitive: Bool)
    case arithmetic(Arithmetic, Expr, Expr)
    case negate(Expr)
    case call(Function, [Expr], insensitive: Bool)
    /// True when the (analyzed) string value satisfies a full-text condition.
    case text(Expr, TextMatch)
    /// True when at least `n` of the conditions are true (`minimum_should_match`), false
    /// otherwise; never null.
    case atLeast(Int, [Expr])
    /// The condition, over one field, holds for a single one of its values: on an array the
    /// parts of `perValue(a and b)` must meet in the same element (a range's two bounds).
    case perValue(Expr)

    public enum Comparison: String, Sendable { case eq, ne, lt, le, gt, ge }
    public enum Arithmetic: String, Sendable { case add, subtract, multiply, divide, modulo }

    /// The scalar functions of EQL.
    public enum Function: String, Sendable, CaseIterable {
        case add, between, cidrMatch, concat, divide, endsWith, indexOf, length, modulo, multiply
        case number, startsWith, string, stringContains, substring, subtract
        /// Internal: a string that sorts as `version` fields do (semantic versions first, in
        /// semver order, then other text); not callable from queries.
        case versionOrder
        /// Internal: a string that sorts as IP addresses do (32 hex digits of the 128-bit
        /// address); not callable from queries.
        case ipOrder

        /// The functions a query may call by name.
        public static var callable: [Function] { allCases.filter { $0 != .versionOrder && $0 != .ipOrder } }
    }

    /// The distinct fields the expression reads.
    public var fields: Set<String> {
        var out = Set<String>()
        collectFields(&out)
        return out
    }

    func collectFields(_ out: inout Set<String>) {
        switch self {
        case .literal: break
        case .field(let f): out.insert(f)
        case .not(let e), .isNull(let e), .isTrue(let e), .negate(let e), .matches(let e, _), .text(let e, _), .perValue(let e): e.collectFields(&out)
        case .and(let es), .or(let es), .call(_, let es, _), .atLeast(_, let es): for e in es { e.collectFields(&out) }
        case .compare(_, let l, let r), .arithmetic(_, let l, let r):
            l.collectFields(&out)
            r.collectFields(&out)
        case .inList(let e, let es, _):
            e.collectFields(&out)
            for x in es { x.collectFields(&out) }
        }
    }
}

/// A string pattern: exact (possibly case-folded), wildcard (`*`, `?`) or regular expression.
public struct Pattern: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case exact(String)
        /// `*` any run of characters, `?` one character.
        case wildcard(String)
        /// Lucene regular expression syntax, matched against the whole value.
        case regex(String)
        /// The value starts with the string.
        case prefix(String)
    }

    public var kind: Kind
    public var insensitive: Bool

    public init(_ kind: Kind, insensitive: Bool) {
        self.kind = kind
        self.insensitive = insensitive
    }
}

extension Pattern {
    /// Whether a `regex` pattern compiles.
    /// Why a Lucene regular expression is refused (its syntax, or too complex to determinize):
    /// Elasticsearch's error type and Lucene's message; nil when it compiles.
    public static func regexProblem(_ r: String) -> (type: String, message: String)? {
        PatternMatcher.regexError(r).map { ($0.elasticsearchType, $0.message) }
    }
}
