// ES|QL abstract syntax tree.
//
// Produced by `ESQLParser.parse(_:)`. The tree is purely syntactic: names are
// not resolved, functions are not checked against a catalogue, and types are
// not inferred. Everything is a value type, `Sendable` and `Equatable`.
//
// Shape of a query:
//
//     FROM logs-*, "quoted" METADATA _id, _index     -> ESQLQuery.source
//     | WHERE ...                                   -> ESQLQuery.commands[0]
//     | STATS ... BY ...                            -> ESQLQuery.commands[1]
//
// Only the Swift standard library is used.

/// A parse (or lex) error. `line` and `column` are 1-based; the column counts
/// Unicode scalars from the start of the line, like Elasticsearch's
/// `parsing_exception` reasons (`line 1:20: mismatched input '<EOF>' ...`).
public struct ESQLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var line: Int
    public var column: Int

    public init(message: String, line: Int, column: Int) {
        self.message = message
        self.line = line
        self.column = column
    }

    /// `line L:C: message`, the format Elasticsearch uses for parsing errors.
    public var description: String { "line \(line):\(column): \(message)" }
}

/// A complete query: the source command followed by the piped processing commands.
public struct ESQLQuery: Sendable, Equatable {
    public var source: ESQLSource
    public var commands: [ESQLCommand]

    public init(source: ESQLSource, commands: [ESQLCommand]) {
        self.source = source
        self.commands = commands
    }
}

/// `FROM a, b-*, "quoted" METADATA _id, _index, _version`.
///
/// `indices` are kept verbatim (patterns with `*`, remote `cluster:index`,
/// `index::selector` and quoted names unquoted). `metadata` lists the requested
/// metadata fields in order.
public struct ESQLSource: Sendable, Equatable {
    public var indices: [String]
    public var metadata: [String]

    public init(indices: [String], metadata: [String] = []) {
        self.indices = indices
        self.metadata = metadata
    }
}

/// Literal constants.
public enum ESQLLiteral: Sendable, Equatable {
    case null
    case bool(Bool)
    /// Integer literal; integers that do not fit in Int64 become `.double`.
    case int(Int64)
    case double(Double)
    case string(String)
    /// Time span such as `1 hour`, `30 minutes`, `1d`, `15m`. The unit is
    /// normalised to its canonical singular name: `nanosecond`, `microsecond`,
    /// `millisecond`, `second`, `minute`, `hour`, `day`, `week`, `month`,
    /// `quarter` or `year`.
    case timeSpan(Int64, String)
}

public enum ESQLUnary: String, Sendable, Equatable {
    /// Boolean `NOT`.
    case not
    /// Arithmetic `-x` (a `-` applied directly to a numeric or time-span literal
    /// is folded into the literal instead).
    case negate
}

public enum ESQLBinary: String, Sendable, Equatable {
    case and = "AND"
    case or = "OR"
    case eq = "=="
    case neq = "!="
    case lt = "<"
    case lte = "<="
    case gt = ">"
    case gte = ">="
    case add = "+"
    case sub = "-"
    case mul = "*"
    case div = "/"
    case mod = "%"
}

/// One `"key": value` entry of a map expression (`{ "fuzziness": 1 }`).
public struct ESQLMapEntry: Sendable, Equatable {
    public var key: String
    public var value: ESQLExpr

    public init(key: String, value: ESQLExpr) {
        self.key = key
        self.value = value
    }
}

/// Expressions.
///
/// Precedence, loosest first: `OR` < `AND` < `NOT` < comparison / `IN` /
/// `LIKE` / `RLIKE` / `IS [NOT] NULL` / `:` < `+ -` < `* / %` < unary `-` <
/// `::` cast.
public indirect enum ESQLExpr: Sendable, Equatable {
    case literal(ESQLLiteral)
    /// A column reference. Dotted names (`process.name`) are one field; back-
    /// quoted parts are unquoted and joined (`` `a b`.c `` -> `"a b.c"`).
    case field(String)
    case unary(ESQLUnary, ESQLExpr)
    case binary(ESQLBinary, ESQLExpr, ESQLExpr)
    /// Function call; the name is upper-cased. `COUNT(*)` is
    /// `.call("COUNT", [.star])`. A trailing options map
    /// (`MATCH(f, "q", {"fuzziness": 1})`) is passed as a final `.map` argument.
    case call(String, [ESQLExpr])
    /// `*`, only as the sole argument of a function call.
    case star
    /// Map expression `{ "key": value, ... }`, only as a function's last argument.
    case map([ESQLMapEntry])
    /// `x [NOT] IN (a, b, ...)`.
    case `in`(ESQLExpr, [ESQLExpr], negated: Bool)
    /// `x [NOT] LIKE "pat"`, `x [NOT] RLIKE "re"`, and the list forms
    /// `x LIKE ("a", "b")` (matches if any pattern matches). Patterns are the
    /// string contents after unescaping (LIKE wildcards `*` / `?` are not
    /// interpreted by the parser).
    case like(ESQLExpr, [String], negated: Bool, regex: Bool)
    /// `x IS [NOT] NULL`.
    case isNull(ESQLExpr, negated: Bool)
    /// `x::type`; the type name is lower-cased (`ip`, `long`, `double`, ...).
    case cast(ESQLExpr, String)
    /// Match operator `field : "query"`. Non-string constants are kept as
    /// their source text.
    case match(String, String)
}

/// `name = expr [WHERE filter]`.
///
/// Used by EVAL, by STATS aggregates and by STATS groupings. When no name is
/// written the name is the expression's source text exactly as written
/// (`COUNT(*)`, `DATE_TRUNC(5 minutes, @timestamp)`), or the field name for a
/// plain field reference. `filter` is only set for STATS aggregates
/// (`c = COUNT(*) WHERE x > 1`).
public struct ESQLAssignment: Sendable, Equatable {
    public var name: String
    public var expr: ESQLExpr
    public var filter: ESQLExpr?

    public init(name: String, expr: ESQLExpr, filter: ESQLExpr? = nil) {
        self.name = name
        self.expr = expr
        self.filter = filter
    }
}

/// One SORT key: `expr [ASC|DESC] [NULLS FIRST|LAST]`. `nullsFirst` is nil when
/// NULLS is not written (Elasticsearch then puts nulls last for ASC and first
/// for DESC).
public struct ESQLOrder: Sendable, Equatable {
    public var expr: ESQLExpr
    public var ascending: Bool
    public var nullsFirst: Bool?

    public init(expr: ESQLExpr, ascending: Bool = true, nullsFirst: Bool? = nil) {
        self.expr = expr
        self.ascending = ascending
        self.nullsFirst = nullsFirst
    }
}

/// One RENAME pair. Both `old AS new` and `new = old` parse to this.
public struct ESQLRename: Sendable, Equatable {
    public var from: String
    public var to: String

    public init(from: String, to: String) {
        self.from = from
        self.to = to
    }
}

/// Processing commands (everything after the first `|`).
public enum ESQLCommand: Sendable, Equatable {
    /// `WHERE cond`
    case `where`(ESQLExpr)
    /// `EVAL a = expr, expr, ...`
    case eval([ESQLAssignment])
    /// `STATS aggs BY groups` or `INLINE STATS ...` (`inline: true`; the older
    /// single-word `INLINESTATS` is accepted too).
    case stats(aggregates: [ESQLAssignment], by: [ESQLAssignment], inline: Bool)
    /// `KEEP a, b.*, *` - names or `*` patterns, unquoted.
    case keep([String])
    /// `DROP a, b.*`
    case drop([String])
    /// `RENAME a AS b, c AS d`
    case rename([ESQLRename])
    /// `SORT a DESC NULLS LAST, b`
    case sort([ESQLOrder])
    /// `LIMIT n`
    case limit(Int)
    /// `MV_EXPAND field`
    case mvExpand(String)
    /// `GROK input "pattern"` (the pattern string is unescaped).
    case grok(ESQLExpr, String)
    /// `DISSECT input "pattern" [APPEND_SEPARATOR = "sep"]`
    case dissect(ESQLExpr, String, appendSeparator: String?)
    /// `LOOKUP JOIN index ON field1, field2`
    case lookupJoin(index: String, on: [String])
    /// `COMPLETION [target =] prompt WITH { "inference_id": "..." }`, also the
    /// older `COMPLETION prompt WITH inference_id [AS target]`. Parsed only.
    case completion(prompt: ESQLExpr, target: String?, inferenceId: String?)
    /// `SAMPLE probability` with 0 < probability < 1.
    case sample(Double)
}

// MARK: - Rendering

extension ESQLLiteral: CustomStringConvertible {
    /// ES|QL source text for the literal (strings re-escaped and double-quoted).
    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return ESQLExpr.quote(s)
        case .timeSpan(let n, let unit): return "\(n) \(unit)"
        }
    }
}

extension ESQLExpr: CustomStringConvertible {
    /// ES|QL-like text with every compound sub-expression parenthesised, so
    /// the tree structure (precedence) is visible. Meant for debugging/tests.
    public var description: String { render(top: true) }

    static func quote(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out + "\""
    }

    private static func name(_ s: String) -> String {
        var plain = !s.isEmpty
        for b in s.utf8 {
            let ok = (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39)
                || b == 0x5F || b == 0x40 || b == 0x2E
            if !ok { plain = false; break }
        }
        if plain, let f = s.utf8.first, !(f >= 0x30 && f <= 0x39) { return s }
        var out = "`"
        for ch in s.unicodeScalars {
            if ch == "`" { out += "``" } else { out.unicodeScalars.append(ch) }
        }
        return out + "`"
    }

    private func render(top: Bool) -> String {
        let text: String
        switch self {
        case .literal(let l): return l.description
        case .field(let f): return ESQLExpr.name(f)
        case .star: return "*"
        case .call(let fn, let args):
            return fn + "(" + args.map { $0.render(top: true) }.joined(separator: ", ") + ")"
        case .map(let entries):
            return "{" + entries.map { ESQLExpr.quote($0.key) + ": " + $0.value.render(top: true) }
                .joined(separator: ", ") + "}"
        case .cast(let e, let t): return e.render(top: false) + "::" + t
        case .match(let f, let q): text = ESQLExpr.name(f) + " : " + ESQLExpr.quote(q)
        case .unary(.not, let e): text = "NOT " + e.render(top: false)
        case .unary(.negate, let e): text = "-" + e.render(top: false)
        case .binary(let op, let l, let r):
            text = l.render(top: false) + " " + op.rawValue + " " + r.render(top: false)
        case .in(let e, let list, let neg):
            text = e.render(top: false) + (neg ? " NOT IN (" : " IN (")
                + list.map { $0.render(top: true) }.joined(separator: ", ") + ")"
        case .like(let e, let pats, let neg, let regex):
            let op = (neg ? " NOT " : " ") + (regex ? "RLIKE " : "LIKE ")
            let rhs = pats.count == 1
                ? ESQLExpr.quote(pats[0])
                : "(" + pats.map(ESQLExpr.quote).joined(separator: ", ") + ")"
            text = e.render(top: false) + op + rhs
        case .isNull(let e, let neg):
            text = e.render(top: false) + (neg ? " IS NOT NULL" : " IS NULL")
        }
        return top ? text : "(" + text + ")"
    }
}
