public import VigilJSON

/// Kibana Query Language, as Kibana's grammar defines it: `field : value`, quoted phrases,
/// unquoted values (which may hold spaces and `*` wildcards), value lists
/// `field : (a or b)`, ranges `field >= v`, `and`/`or`/`not` (any case), parentheses,
/// `field : { inner }` for the fields below a path, `field : *` for existence, and values
/// without a field (searched in every field).
public indirect enum KQLNode: Sendable, Equatable {
    case or([KQLNode])
    case and([KQLNode])
    case not(KQLNode)
    /// Fields below `path` (`process.parent : { name : sshd }`).
    case nested(path: String, KQLNode)
    /// A field (nil: every field) against a value expression.
    case match(field: String?, KQLValues)
    case range(field: String, Expr.Comparison, KQLValue)
}

/// The value side of `field : …`, a single value or a list combined with and/or/not.
public indirect enum KQLValues: Sendable, Equatable {
    case or([KQLValues])
    case and([KQLValues])
    case not(KQLValues)
    case value(KQLValue)
}

public struct KQLValue: Sendable, Equatable {
    /// The text with escapes resolved; for a wildcard value a Lucene wildcard: unescaped `*`
    /// are wildcards, and a literal `*`, `?` or `\\` is escaped with `\\`.
    public var text: String
    public var quoted: Bool
    public var wildcard: Bool
}

public struct KQLOptions: Sendable {
    public var caseInsensitive = false
    public var defaultField = "*"
    public var timeZone: String?

    public init() {}
}

public enum KQLParser {
    public static func parse(_ text: String) throws(QueryDSLError) -> KQLNode {
        var p = KQLScanner(Array(text))
        p.skipSpace()
        if p.atEnd { return .match(field: nil, .value(KQLValue(text: "*", quoted: false, wildcard: true))) }
        let node = try p.orQuery()
        p.skipSpace()
        if !p.atEnd { throw p.error("end of input") }
        return node
    }
}

struct KQLScanner {
    let chars: [Character]
    var i = 0
    /// Open groups (`( )`, `{ }`, `not`), bounded so no query exhausts the stack.
    var depth = 0
    static let maxDepth = 200

    init(_ chars: [Character]) { self.chars = chars }

    var atEnd: Bool { i >= chars.count }

    static let special: Set<Character> = ["\\", "(", ")", ":", "<", ">", "\"", "*", "{", "}"]

    func error(_ expected: String) -> QueryDSLError {
        let found = atEnd ? "end of input" : "\"\(chars[i])\""
        let caret = String(repeating: "-", count: i) + "^"
        return QueryDSLError("Expected \(expected) but \(found) found.\n\(String(chars))\n\(caret)", type: "kql_parsing_exception", position: i)
    }

    mutating func skipSpace() {
        while i < chars.count && chars[i].isWhitespace { i += 1 }
    }

    /// Whether a keyword (`or`, `and`, `not`) starts at `at`, followed by whitespace (or `(` for not).
    func keyword(_ w: String, at: Int) -> Bool {
        let end = at + w.count
        guard end <= chars.count, String(chars[at..<end]).lowercased() == w else { return false }
        if end == chars.count { return false }
        return chars[end].isWhitespace || (w == "not" && chars[end] == "(")
    }

    /// At whitespace followed by `or`/`and` and whitespace: the connective, and where its word starts.
    func connective() -> (String, Int)? {
        var j = i
        guard j < chars.count, chars[j].isWhitespace else {
            return nil
        }
        while j < chars.count && chars[j].isWhitespace { j += 1 }
        for w in ["or", "and"] where keyword(w, at: j) { return (w, j) }
        return nil
    }

    mutating func take(_ w: String) -> Bool {
        let save = i
        skipSpace()
        if keyword(w, at: i) {
            i += w.count
            skipSpace()
            return true
        }
        i = save
        return false
    }

    mutating func enter() throws(QueryDSLError) {
        depth += 1
        if depth > KQLScanner.maxDepth {
            throw QueryDSLError("KQL query is nested too deeply: more than \(KQLScanner.maxDepth) levels of groups\n\(String(chars.prefix(200)))",
                                type: "kql_parsing_exception", position: i)
        }
    }

    mutating func orQuery() throws(QueryDSLError) -> KQLNode {
        try enter()
        defer { depth -= 1 }
        var parts = [try andQuery()]
        while take("or") { parts.append(try andQuery()) }
        return parts.count == 1 ? parts[0] : .or(parts)
    }

    mutating func andQuery() throws(QueryDSLError) -> KQLNode {
        var parts = [try notQuery()]
        while take("and") { parts.append(try notQuery()) }
        return parts.count == 1 ? parts[0] : .and(parts)
    }

    mutating func notQuery() throws(QueryDSLError) -> KQLNode {
        skipSpace()
        if keyword("not", at: i) {
            i += 3
            skipSpace()
            try enter()
            defer { depth -= 1 }
            return .not(try subQuery())
        }
        return try subQuery()
    }

    mutating func subQuery() throws(QueryDSLError) -> KQLNode {
        skipSpace()
        guard !atEnd else { throw error("\"(\", \"not\", field name, value") }
        if chars[i] == "(" {
            i += 1
            let inner = try orQuery()
            skipSpace()
            guard !atEnd, chars[i] == ")" else { throw error("\")\", \"and\", \"or\"") }
            i += 1
            return inner
        }
        let lit = try literal()
        skipSpace()
        if !atEnd && chars[i] == ":" {
            i += 1
            skipSpace()
            if !atEnd && chars[i] == "{" {
                i += 1
                let inner = try orQuery()
                skipSpace()
                guard !atEnd, chars[i] == "}" else { throw error("\"}\", \"and\", \"or\"") }
                i += 1
                return .nested(path: lit.text, inner)
            }
            return .match(field: lit.text, try listOfValues())
        }
        if !atEnd && (chars[i] == "<" || chars[i] == ">") {
            let c = chars[i]
            i += 1
            let inclusive = !atEnd && chars[i] == "="
            if inclusive { i += 1 }
            skipSpace()
            let at = i
            let v = try literal()
            guard !v.wildcard else {
                i = at
                throw error("a value without wildcards")
            }
            let op: Expr.Comparison = c == "<" ? (inclusive ? .le : .lt) : (inclusive ? .ge : .gt)
            return .range(field: lit.text, op, v)
        }
        return .match(field: nil, .value(lit))
    }

    mutating func listOfValues() throws(QueryDSLError) -> KQLValues {
        skipSpace()
        guard !atEnd else { throw error("\"(\", value") }
        if chars[i] == "(" {
            i += 1
            let v = try orValues()
            skipSpace()
            guard !atEnd, chars[i] == ")" else { throw error("\")\", \"and\", \"or\"") }
            i += 1
            return v
        }
        return .value(try literal())
    }

    mutating func orValues() throws(QueryDSLError) -> KQLValues {
        try enter()
        defer { depth -= 1 }
        var parts = [try andValues()]
        while take("or") { parts.append(try andValues()) }
        return parts.count == 1 ? parts[0] : .or(parts)
    }

    mutating func andValues() throws(QueryDSLError) -> KQLValues {
        var parts = [try notValues()]
        while take("and") { parts.append(try notValues()) }
        return parts.count == 1 ? parts[0] : .and(parts)
    }

    mutating func notValues() throws(QueryDSLError) -> KQLValues {
        skipSpace()
        if keyword("not", at: i) {
            i += 3
            skipSpace()
            try enter()
            defer { depth -= 1 }
            return .not(try listOfValues())
        }
        return try listOfValues()
    }

    /// A quoted string or an unquoted literal (spaces inside kept, trailing ones dropped).
    mutating func literal() throws(QueryDSLError) -> KQLValue {
        skipSpace()
        guard !atEnd else { throw error("value") }
        if chars[i] == "\"" {
            i += 1
            var text = ""
            while !atEnd && chars[i] != "\"" {
                if chars[i] == "\\" && i + 1 < chars.count {
                    i += 1
                    switch chars[i] {
                    case "t": text.append("\t")
                    case "n": text.append("\n")
                    case "r": text.append("\r")
                    default: text.append(chars[i])
                    }
                } else {
                    text.append(chars[i])
                }
                i += 1
            }
            guard !atEnd else { throw error("\"\\\"\"") }
            i += 1
            return KQLValue(text: text, quoted: true, wildcard: false)
        }
        var text = ""
        var pattern = ""  // the same text as a Lucene wildcard
        var wildcard = false
        let start = i
        func literal(_ c: Character) {
            text.append(c)
            if c == "*" || c == "?" || c == "\\" { pattern.append("\\") }
            pattern.append(c)
        }
        while !atEnd {
            let c = chars[i]
            if c == "\\" {
                guard i + 1 < chars.count else { throw error("escape sequence") }
                let n = chars[i + 1]
                switch n {
                case "t": literal("\t")
                case "n": literal("\n")
                case "r": literal("\r")
                default: literal(n)
                }
                i += 2
                continue
            }
            if c == "*" {
                wildcard = true
                text.append(c)
                pattern.append(c)
                i += 1
                continue
            }
            if KQLScanner.special.contains(c) { break }
            if c.isWhitespace {
                // A connective ends the literal; other spaces belong to it.
                if connective() != nil { break }
                var j = i
                while j < chars.count && chars[j].isWhitespace { j += 1 }
                if j == chars.count || KQLScanner.special.contains(chars[j]) && chars[j] != "*" && chars[j] != "\\" {
                    i = j
                    break
                }
            }
            if i == start && keyword("not", at: i) { break }
            literal(c)
            i += 1
        }
        while text.last?.isWhitespace == true {
            text.removeLast()
            pattern.removeLast()
        }
        guard !text.isEmpty else { throw error("value") }
        if !wildcard {
            for w in ["or", "and", "not"] where text.lowercased() == w { throw error("value, found keyword \"\(w)\"") }
        }
        return KQLValue(text: wildcard ? pattern : text, quoted: false, wildcard: wildcard)
    }
}

/// Compiles KQL as Kibana turns it into the query DSL: unquoted values are `match`, quoted
/// ones `match_phrase`, wildcards `wildcard` (token-wise on text), `*` alone `exists`.
struct KQLCompiler {
    let dsl: QueryDSL
    let options: KQLOptions

    func compile(_ node: KQLNode, prefix: String = "") throws(QueryDSLError) -> CompiledQuery {
        switch node {
        case .or(let xs):
            let parts = try xs.map { (x) throws(QueryDSLError) in try compile(x, prefix: prefix) }
            return CompiledQuery(.or(parts.map(\.expr)), .sum(parts.map { ScoreClause(when: $0.expr, node: $0.score) }))
        case .and(let xs):
            let parts = try xs.map { (x) throws(QueryDSLError) in try compile(x, prefix: prefix) }
            return CompiledQuery(.and(parts.map { .isTrue($0.expr) }), .sum(parts.map { ScoreClause(when: nil, node: $0.score) }))
        case .not(let x):
            return CompiledQuery(.not(.isTrue(try compile(x, prefix: prefix).expr)), .constant(0))
        case .nested(let path, let inner):
            return try compile(inner, prefix: prefix + path + ".")
        case .range(let field, let op, let v):
            let fields = dsl.expand(prefix + field)
            let parts = try fields.map { (f) throws(QueryDSLError) in try dsl.range(f, [(op, .string(v.text))], timeZone: options.timeZone) }
            return combine(parts)
        case .match(nil, .value(let v)) where v.wildcard && v.text == "*" && prefix.isEmpty:
            return .all
        case .match(let field, let values):
            let pattern = field.map { prefix + $0 } ?? (prefix.isEmpty ? options.defaultField : prefix + "*")
            let fields = dsl.expand(pattern)
            let lenient = pattern.contains("*")
            var parts: [CompiledQuery] = []
            for f in fields {
                do {
                    if let c = try compileValues(f, values) { parts.append(c) }
                } catch {
                    if !lenient { throw error }
                }
            }
            return combine(parts)
        }
    }

    private func combine(_ parts: [CompiledQuery]) -> CompiledQuery {
        guard !parts.isEmpty else { return .none }
        if parts.count == 1 { return parts[0] }
        return CompiledQuery(.or(parts.map(\.expr)), .max(parts.map { ScoreClause(when: $0.expr, node: $0.score) }, tieBreaker: 0))
    }

    private func compileValues(_ field: String, _ values: KQLValues) throws(QueryDSLError) -> CompiledQuery? {
        switch values {
        case .or(let xs):
            var parts: [CompiledQuery] = []
            for x in xs {
                if let c = try compileValues(field, x) { parts.append(c) }
            }
            guard !parts.isEmpty else { return nil }
            return CompiledQuery(.or(parts.map(\.expr)), .sum(parts.map { ScoreClause(when: $0.expr, node: $0.score) }))
        case .and(let xs):
            var parts: [CompiledQuery] = []
            for x in xs {
                guard let c = try compileValues(field, x) else { return .none }
                parts.append(c)
            }
            return CompiledQuery(.and(parts.map { .isTrue($0.expr) }), .sum(parts.map { ScoreClause(when: nil, node: $0.score) }))
        case .not(let x):
            let inner = try compileValues(field, x) ?? .none
            return CompiledQuery(.not(.isTrue(inner.expr)), .constant(0))
        case .value(let v):
            let type = dsl.type(of: field)
            if v.wildcard {
                if v.text == "*" { return dsl.exists(field) }
                guard type == nil || type!.isStringLike else {
                    throw QueryDSLError("Can only use wildcard queries on keyword and text fields - not on [\(field)] which is of type [\(type!.rawValue)]", type: "query_shard_exception")
                }
                let isText = type == .text || type == .matchOnlyText
                return dsl.pattern(field, Pattern(QueryDSL.wildcard(isText ? v.text.lowercased() : v.text), insensitive: options.caseInsensitive))
            }
            if v.quoted { return try dsl.phrase(field, v.text, slop: 0, prefix: false) }
            if options.caseInsensitive, type?.isStringLike == true, type != .text, type != .matchOnlyText {
                return try dsl.term(field, .string(v.text), insensitive: true)
            }
            return try dsl.match(field, v.text, QueryDSL.MatchOptions())
        }
    }
}
