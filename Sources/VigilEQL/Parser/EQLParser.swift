/// Parses Elasticsearch's EQL dialect into an `EQLStatement`, recursive descent over tokens.
/// Errors are `parsing_exception`s with the line and column of the offending token.
public struct EQLParser {
    private var tokens: [EQLToken]
    private var p = 0
    /// Open nestings (parentheses, calls, `not`, signs) and the length of the current `and`/`or`
    /// chain, both bounded as Elasticsearch's query-language parsers bound theirs, so no query
    /// builds a tree deep enough to exhaust a stack or take quadratic time downstream.
    private var depth = 0
    static let maxDepth = 200
    static let maxChain = 1024

    public static func parse(_ text: String) throws(EQLError) -> EQLStatement {
        var parser = EQLParser(tokens: try EQLLexer.tokenize(text))
        return try parser.statement()
    }

    /// Parses a bare expression (a `filter` condition, a test).
    public static func parseExpression(_ text: String) throws(EQLError) -> EQLExpr {
        var parser = EQLParser(tokens: try EQLLexer.tokenize(text))
        let e = try parser.expression()
        try parser.expectEnd()
        return e
    }

    private init(tokens: [EQLToken]) { self.tokens = tokens }

    private var token: EQLToken { tokens[p] }
    private var nextToken: EQLToken { tokens[min(p + 1, tokens.count - 1)] }

    private mutating func advance() -> EQLToken {
        let t = tokens[p]
        if p < tokens.count - 1 { p += 1 }
        return t
    }

    private static let keywords: Set<String> = [
        "and", "or", "not", "in", "like", "regex", "where", "sequence", "sample", "by", "with", "until",
        "maxspan", "any", "true", "false", "null", "join", "of",
    ]

    private func describe(_ t: EQLToken) -> String {
        switch t.kind {
        case .eof: "<EOF>"
        case .string: "\"\(t.text)\""
        default: t.text + (t.tilde ? "~" : "")
        }
    }

    private func mismatch(_ expecting: String) -> EQLError {
        EQLError(.parsing, "mismatched input '\(describe(token))' expecting \(expecting)", at: token.span)
    }

    private mutating func expectSymbol(_ s: String) throws(EQLError) -> EQLToken {
        guard token.isSymbol(s) else { throw mismatch("'\(s)'") }
        return advance()
    }

    private mutating func expectKeyword(_ k: String) throws(EQLError) -> EQLToken {
        guard token.isKeyword(k) else { throw mismatch("'\(k)'") }
        return advance()
    }

    private mutating func expectEnd() throws(EQLError) {
        guard token.kind == .eof else {
            throw EQLError(.parsing, "extraneous input '\(describe(token))' expecting <EOF>", at: token.span)
        }
    }

    // MARK: Statements

    private mutating func statement() throws(EQLError) -> EQLStatement {
        let query: EQLQuery
        if token.isKeyword("sequence") {
            query = .sequence(try sequence())
        } else if token.isKeyword("sample") {
            query = .sample(try sample())
        } else if token.isKeyword("join") {
            throw EQLError(.parsing, "Join is not supported", at: token.span)
        } else {
            query = .event(try eventFilter())
        }
        var pipes: [EQLPipe] = []
        while token.isSymbol("|") {
            _ = advance()
            let name = token
            guard name.kind == .identifier else { throw mismatch("a pipe name") }
            _ = advance()
            guard let kind = EQLPipe.Kind(rawValue: name.text) else {
                throw EQLError(.parsing, "Unrecognized pipe [\(name.text)]", at: name.span)
            }
            guard case .integer(let n) = token.kind else {
                if token.kind == .eof || token.isSymbol("|") {
                    throw EQLError(.parsing, "Pipe [\(name.text)] expects exactly one argument but found [0]", at: name.span)
                }
                throw EQLError(.parsing, "Pipe [\(name.text)] expects a positive integer, found [\(describe(token))]", at: token.span)
            }
            let count = Int(n)
            _ = advance()
            pipes.append(EQLPipe(kind: kind, count: count, span: name.span))
        }
        try expectEnd()
        return EQLStatement(query: query, pipes: pipes)
    }

    private mutating func eventFilter() throws(EQLError) -> EventFilter {
        let span = token.span
        var category: String?
        switch token.kind {
        case .identifier where token.text == "any":
            _ = advance()
        case .identifier where !EQLParser.keywords.contains(token.text), .quotedIdentifier:
            category = advance().text
        case .string:
            category = advance().text
        default:
            throw mismatch("{'any', STRING, IDENTIFIER}")
        }
        _ = try expectKeyword("where")
        let condition = try expression()
        return EventFilter(category: category, condition: condition, span: span)
    }

    private mutating func joinKeys() throws(EQLError) -> [EQLExpr] {
        guard token.isKeyword("by") else { return [] }
        _ = advance()
        var keys = [try expression()]
        while token.isSymbol(",") {
            _ = advance()
            keys.append(try expression())
        }
        return keys
    }

    private mutating func maxspan() throws(EQLError) -> Int64 {
        _ = try expectKeyword("maxspan")
        _ = try expectSymbol("=")
        let numberToken = token
        let value: Int64
        switch token.kind {
        case .integer(let n): value = n
        default: throw mismatch("INTEGER_VALUE")
        }
        _ = advance()
        let unit = token
        guard unit.kind == .identifier else {
            throw EQLError(.parsing, "No time unit specified, did you mean [s] as in [\(numberToken.text)s]?", at: numberToken.span)
        }
        _ = advance()
        let factor: Int64
        switch unit.text {
        case "ms": factor = 1
        case "s": factor = 1000
        case "m": factor = 60_000
        case "h": factor = 3_600_000
        case "d": factor = 86_400_000
        default:
            throw EQLError(.parsing, "Unrecognized time unit [\(unit.text)] in [\(numberToken.text)\(unit.text)], please specify one of [ms, s, m, h, d]", at: unit.span)
        }
        guard value > 0 else {
            throw EQLError(.parsing, "A positive maxspan value is required; found [\(numberToken.text)\(unit.text)]", at: numberToken.span)
        }
        return value.multipliedReportingOverflow(by: factor).overflow ? Int64.max : value * factor
    }

    private mutating func sequence() throws(EQLError) -> SequenceQuery {
        let span = advance().span
        let keys = try joinKeys()
        var span_: Int64?
        if token.isKeyword("with") {
            _ = advance()
            span_ = try maxspan()
            if token.isKeyword("by") {
                throw EQLError(.parsing, "Please specify sequence [by] before [with] not after", at: token.span)
            }
        }
        var stages: [SequenceStage] = []
        while token.isSymbol("[") || token.isSymbol("!") {
            stages.append(try stage(allowMissing: true, allowRuns: true))
        }
        // `[a] with runs=3` counts as three queries, as in Elasticsearch.
        let queries = stages.reduce(0) { $0 + $1.runs }
        guard queries >= 2 else {
            throw EQLError(.parsing, "A sequence requires a minimum of 2 queries, found [\(queries)]", at: span)
        }
        var until: SequenceStage?
        if token.isKeyword("until") {
            _ = advance()
            until = try stage(allowMissing: false, allowRuns: false)
        }
        return SequenceQuery(keys: keys, maxspan: span_, stages: stages, until: until, span: span)
    }

    private mutating func sample() throws(EQLError) -> SampleQuery {
        let span = advance().span
        let keys = try joinKeys()
        var stages: [SequenceStage] = []
        while token.isSymbol("[") {
            stages.append(try stage(allowMissing: false, allowRuns: false))
        }
        guard !stages.isEmpty else { throw mismatch("'['") }
        return SampleQuery(keys: keys, stages: stages, span: span)
    }

    private mutating func stage(allowMissing: Bool, allowRuns: Bool) throws(EQLError) -> SequenceStage {
        var missing = false
        if token.isSymbol("!") {
            guard allowMissing else { throw mismatch("'['") }
            missing = true
            _ = advance()
        }
        _ = try expectSymbol("[")
        let filter = try eventFilter()
        _ = try expectSymbol("]")
        let keys = try joinKeys()
        var runs = 1
        if token.isKeyword("with") && allowRuns {
            _ = advance()
            let key = token
            guard key.kind == .identifier, key.text == "runs" else {
                throw EQLError(.parsing, "Unrecognized option [\(key.text)], expecting [runs]", at: key.span)
            }
            _ = advance()
            _ = try expectSymbol("=")
            guard case .integer(let n) = token.kind else { throw mismatch("INTEGER_VALUE") }
            let at = advance().span
            guard n >= 1 && n <= 100 else {
                throw EQLError(.parsing, "A positive runs value greater than 0 and at most 100 is required; found [\(n)]", at: at)
            }
            runs = Int(n)
        }
        return SequenceStage(filter: filter, keys: keys, missing: missing, runs: runs)
    }

    // MARK: Expressions

    mutating func expression() throws(EQLError) -> EQLExpr {
        try enter()
        defer { depth -= 1 }
        return try orExpression()
    }

    private mutating func enter() throws(EQLError) {
        depth += 1
        if depth > EQLParser.maxDepth {
            throw EQLError(.parsing, "EQL statement too large; halt parsing to prevent memory errors (stopped at depth \(EQLParser.maxDepth))", at: token.span)
        }
    }

    private func checkChain(_ n: Int) throws(EQLError) {
        if n > EQLParser.maxChain {
            throw EQLError(.parsing, "EQL statement too large; halt parsing to prevent memory errors (more than \(EQLParser.maxChain) conditions joined by one operator)", at: token.span)
        }
    }

    private mutating func orExpression() throws(EQLError) -> EQLExpr {
        var left = try andExpression()
        var n = 1
        while token.isKeyword("or") {
            _ = advance()
            n += 1
            try checkChain(n)
            left = .or(left, try andExpression())
        }
        return left
    }

    private mutating func andExpression() throws(EQLError) -> EQLExpr {
        var left = try notExpression()
        var n = 1
        while token.isKeyword("and") {
            _ = advance()
            n += 1
            try checkChain(n)
            left = .and(left, try notExpression())
        }
        return left
    }

    private mutating func notExpression() throws(EQLError) -> EQLExpr {
        if token.isKeyword("not") && !nextToken.isKeyword("in") {
            let span = advance().span
            try enter()
            defer { depth -= 1 }
            return .not(try notExpression(), span)
        }
        return try comparison()
    }

    private mutating func comparison() throws(EQLError) -> EQLExpr {
        let left = try additive()
        if token.kind == .symbol, let op = CompareOp(rawValue: token.text) {
            let span = advance().span
            let right = try additive()
            if token.kind == .symbol, CompareOp(rawValue: token.text) != nil {
                throw EQLError(.parsing, "mismatched input '\(token.text)' expecting {<EOF>, 'and', 'or'}", at: token.span)
            }
            return .compare(op, left, right, span)
        }
        if token.isSymbol("=") {
            throw EQLError(.parsing, "mismatched input '=' expecting {<EOF>, '==', '!=', '<', '<=', '>', '>=', ':'}; use [==] for equality", at: token.span)
        }
        return left
    }

    private mutating func additive() throws(EQLError) -> EQLExpr {
        var left = try multiplicative()
        var n = 1
        while token.isSymbol("+") || token.isSymbol("-") {
            n += 1
            try checkChain(n)
            let t = advance()
            left = .arithmetic(t.text == "+" ? .add : .subtract, left, try multiplicative(), t.span)
        }
        return left
    }

    private mutating func multiplicative() throws(EQLError) -> EQLExpr {
        var left = try unary()
        var n = 1
        while token.isSymbol("*") || token.isSymbol("/") || token.isSymbol("%") {
            n += 1
            try checkChain(n)
            let t = advance()
            let op: ArithmeticOp = t.text == "*" ? .multiply : t.text == "/" ? .divide : .modulo
            left = .arithmetic(op, left, try unary(), t.span)
        }
        return left
    }

    private mutating func unary() throws(EQLError) -> EQLExpr {
        if token.isSymbol("-") {
            let span = advance().span
            try enter()
            defer { depth -= 1 }
            let operand = try unary()
            switch operand {
            case .literal(.int(let v), _): return .literal(.int(-v), span)
            case .literal(.double(let v), _): return .literal(.double(-v), span)
            default: return .negate(operand, span)
            }
        }
        if token.isSymbol("+") {
            _ = advance()
            try enter()
            defer { depth -= 1 }
            return try unary()
        }
        return try predicated()
    }

    /// A primary with an optional predicate: `in (…)`, `: …`, `like …`, `regex …`.
    private mutating func predicated() throws(EQLError) -> EQLExpr {
        let value = try primary()
        let t = token
        if t.isKeyword("not") && nextToken.isKeyword("in") {
            _ = advance()
            let inToken = advance()
            return .membership(value, try list(), negated: true, insensitive: inToken.tilde, t.span)
        }
        if t.isKeyword("in") {
            _ = advance()
            return .membership(value, try list(), negated: false, insensitive: t.tilde, t.span)
        }
        if t.isSymbol(":") {
            _ = advance()
            return .insensitiveMatch(value, try constants(), t.span)
        }
        if t.isKeyword("like") {
            _ = advance()
            return .like(value, try constants(), insensitive: t.tilde, t.span)
        }
        if t.isKeyword("regex") {
            _ = advance()
            return .regex(value, try constants(), insensitive: t.tilde, t.span)
        }
        return value
    }

    private mutating func list() throws(EQLError) -> [EQLExpr] {
        _ = try expectSymbol("(")
        var items = [try expression()]
        while token.isSymbol(",") {
            _ = advance()
            items.append(try expression())
        }
        _ = try expectSymbol(")")
        return items
    }

    /// One constant, or a parenthesized list of them.
    private mutating func constants() throws(EQLError) -> [EQLExpr] {
        if token.isSymbol("(") {
            _ = advance()
            var items = [try constant()]
            while token.isSymbol(",") {
                _ = advance()
                items.append(try constant())
            }
            _ = try expectSymbol(")")
            return items
        }
        return [try constant()]
    }

    private mutating func constant() throws(EQLError) -> EQLExpr {
        let t = token
        switch t.kind {
        case .string: _ = advance(); return .literal(.string(t.text), t.span)
        case .integer(let v): _ = advance(); return .literal(.int(v), t.span)
        case .decimal(let v): _ = advance(); return .literal(.double(v), t.span)
        case .identifier where t.text == "true": _ = advance(); return .literal(.bool(true), t.span)
        case .identifier where t.text == "false": _ = advance(); return .literal(.bool(false), t.span)
        case .identifier where t.text == "null": _ = advance(); return .literal(.null, t.span)
        case .symbol where t.text == "-":
            _ = advance()
            switch token.kind {
            case .integer(let v): _ = advance(); return .literal(.int(-v), t.span)
            case .decimal(let v): _ = advance(); return .literal(.double(-v), t.span)
            default: throw mismatch("a number")
            }
        default:
            throw mismatch("{STRING, INTEGER_VALUE, DECIMAL_VALUE, 'true', 'false', 'null'}")
        }
    }

    private mutating func primary() throws(EQLError) -> EQLExpr {
        let t = token
        switch t.kind {
        case .string, .integer, .decimal:
            return try constant()
        case .identifier where ["true", "false", "null"].contains(t.text):
            return try constant()
        case .symbol where t.text == "(":
            _ = advance()
            let e = try expression()
            _ = try expectSymbol(")")
            return e
        case .symbol where t.text == "?":
            _ = advance()
            let name = token
            guard name.kind == .identifier || name.kind == .quotedIdentifier else { throw mismatch("a field name") }
            _ = advance()
            return .field(try fieldPath(name), optional: true, t.span)
        case .identifier where nextToken.isSymbol("(") && !EQLParser.keywords.contains(t.text):
            _ = advance()
            _ = advance()
            var args: [EQLExpr] = []
            if !token.isSymbol(")") {
                args.append(try expression())
                while token.isSymbol(",") {
                    _ = advance()
                    args.append(try expression())
                }
            }
            _ = try expectSymbol(")")
            return .call(t.text, insensitive: t.tilde, args, t.span)
        case .identifier where !EQLParser.keywords.contains(t.text), .quotedIdentifier:
            if t.tilde { throw EQLError(.parsing, "mismatched input '~' expecting '('", at: t.span) }
            _ = advance()
            return .field(try fieldPath(t), optional: false, t.span)
        default:
            throw mismatch("{'(', '?', STRING, INTEGER_VALUE, DECIMAL_VALUE, IDENTIFIER, 'true', 'false', 'null'}")
        }
    }

    /// A field name, with backquoted parts joined by dots: `` process.`my field` ``.
    private mutating func fieldPath(_ first: EQLToken) throws(EQLError) -> String {
        var path = first.text
        while token.isSymbol(".") && (nextToken.kind == .identifier || nextToken.kind == .quotedIdentifier) {
            _ = advance()
            path += "." + advance().text
        }
        if token.isSymbol("[") && nextToken.kind != .identifier {
            throw EQLError(.parsing, "Array indexes are not supported", at: token.span)
        }
        return path
    }
}
