/// A parsed EQL statement: a query and its pipes.
public struct EQLStatement: Sendable, Equatable {
    public var query: EQLQuery
    public var pipes: [EQLPipe]
}

public enum EQLQuery: Sendable, Equatable {
    case event(EventFilter)
    case sequence(SequenceQuery)
    case sample(SampleQuery)
}

/// `CATEGORY where CONDITION`; a nil category is `any`.
public struct EventFilter: Sendable, Equatable {
    public var category: String?
    public var condition: EQLExpr
    public var span: SourceSpan
}

public struct SequenceStage: Sendable, Equatable {
    public var filter: EventFilter
    public var keys: [EQLExpr]
    /// `![ … ]`: an event that must not occur between its neighbours.
    public var missing: Bool
    /// `with runs=N`: the stage repeated N times.
    public var runs: Int
}

public struct SequenceQuery: Sendable, Equatable {
    public var keys: [EQLExpr]
    /// Milliseconds; nil when unbounded.
    public var maxspan: Int64?
    public var stages: [SequenceStage]
    public var until: SequenceStage?
    public var span: SourceSpan
}

public struct SampleQuery: Sendable, Equatable {
    public var keys: [EQLExpr]
    public var stages: [SequenceStage]
    public var span: SourceSpan
}

public struct EQLPipe: Sendable, Equatable {
    public enum Kind: String, Sendable { case head, tail }
    public var kind: Kind
    public var count: Int
    public var span: SourceSpan
}

public enum EQLLiteral: Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
}

public enum CompareOp: String, Sendable {
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="
}

public enum ArithmeticOp: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", modulo = "%"
}

/// EQL expressions as written, with positions for errors.
public indirect enum EQLExpr: Sendable, Equatable {
    case literal(EQLLiteral, SourceSpan)
    /// A field path; `optional` for `?field` (a missing field is null, not an error).
    case field(String, optional: Bool, SourceSpan)
    case not(EQLExpr, SourceSpan)
    case and(EQLExpr, EQLExpr)
    case or(EQLExpr, EQLExpr)
    case compare(CompareOp, EQLExpr, EQLExpr, SourceSpan)
    /// `x : "a*"` or `x : ("a", "b*")`: case-insensitive equality, `*`/`?` wildcards in strings.
    case insensitiveMatch(EQLExpr, [EQLExpr], SourceSpan)
    /// `in`, `in~`, `not in`, `not in~`.
    case membership(EQLExpr, [EQLExpr], negated: Bool, insensitive: Bool, SourceSpan)
    case like(EQLExpr, [EQLExpr], insensitive: Bool, SourceSpan)
    case regex(EQLExpr, [EQLExpr], insensitive: Bool, SourceSpan)
    case arithmetic(ArithmeticOp, EQLExpr, EQLExpr, SourceSpan)
    case negate(EQLExpr, SourceSpan)
    /// `name(args)` or `name~(args)`.
    case call(String, insensitive: Bool, [EQLExpr], SourceSpan)

    public var span: SourceSpan {
        switch self {
        case .literal(_, let s), .field(_, _, let s), .not(_, let s), .compare(_, _, _, let s),
            .insensitiveMatch(_, _, let s), .membership(_, _, _, _, let s), .like(_, _, _, let s),
            .regex(_, _, _, let s), .arithmetic(_, _, _, let s), .negate(_, let s), .call(_, _, _, let s):
            return s
        case .and(let l, _), .or(let l, _):
            return l.span
        }
    }
}
