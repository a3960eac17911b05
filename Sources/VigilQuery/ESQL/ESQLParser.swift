// ES|QL lexer and recursive-descent parser.
//
// Entry point: `ESQLParser.parse(_:)`. Produces the tree in ESQLAST.swift.
//
// Lexing is done on demand: the parser asks for the token at its current byte
// offset in one of three modes, because ES|QL tokenises differently per
// context (as Elasticsearch's ANTLR lexer modes do):
//   - `.expr`    expressions: identifiers (dotted, backquoted), numbers,
//                strings, operators
//   - `.pattern` KEEP/DROP/RENAME names, where `*` is part of a name
//   - `.source`  FROM / LOOKUP JOIN index names, e.g. `logs-endpoint.*`,
//                `.alerts-security.*`, `remote:logs-*`
//
// Keywords are case-insensitive and contextual; an unquoted identifier is a
// keyword only where the grammar expects one. The words in `esqlReservedWords`
// cannot be used as unquoted field names inside expressions (backquote them).
//
// Only the Swift standard library is used.

public enum ESQLParser {
    /// Parses a full ES|QL query (`FROM ... | cmd | cmd ...`).
    public static func parse(_ text: String) throws(ESQLError) -> ESQLQuery {
        var parser = ESQLParserState(text)
        return try parser.parseQuery()
    }
}

// MARK: - Tokens

enum ESQLLexMode: Sendable {
    case expr, pattern, source
}

struct ESQLToken: Sendable {
    enum Kind: Sendable, Equatable {
        case ident          // unquoted identifier (possibly dotted / pattern)
        case quotedIdent    // identifier with at least one backquoted part
        case integer
        case decimal
        case string
        case source         // unquoted index name (source mode)
        case punct          // operator or punctuation; `text` is the symbol
        case eof
    }

    var kind: Kind
    /// Identifier name (unquoted), string value (unescaped), punctuation symbol
    /// or index name.
    var text: String
    var start: Int
    var end: Int
    var int: Int64 = 0
    var double: Double = 0
}

// MARK: - Lexer

private let esqlReservedWords: Set<String> = [
    "and", "or", "not", "in", "like", "rlike", "is", "by", "asc", "desc", "nulls", "where",
]

/// Canonical time-span unit for a spelled unit (lower-cased), or nil.
private func esqlCanonicalTimeUnit(_ raw: String) -> String? {
    switch raw.lowercased() {
    case "nanosecond", "nanoseconds", "ns": return "nanosecond"
    case "microsecond", "microseconds", "us": return "microsecond"
    case "millisecond", "milliseconds", "ms": return "millisecond"
    case "second", "seconds", "sec", "s": return "second"
    case "minute", "minutes", "min", "m": return "minute"
    case "hour", "hours", "hr", "h": return "hour"
    case "day", "days", "d": return "day"
    case "week", "weeks", "w": return "week"
    case "month", "months", "mo": return "month"
    case "quarter", "quarters", "q": return "quarter"
    case "year", "years", "yr", "y": return "year"
    default: return nil
    }
}

private enum ESQLChar {
    static let tab: UInt8 = 0x09, lf: UInt8 = 0x0A, vt: UInt8 = 0x0B, ff: UInt8 = 0x0C, cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20, bang: UInt8 = 0x21, dquote: UInt8 = 0x22, percent: UInt8 = 0x25
    static let lparen: UInt8 = 0x28, rparen: UInt8 = 0x29, star: UInt8 = 0x2A, plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C, minus: UInt8 = 0x2D, dot: UInt8 = 0x2E, slash: UInt8 = 0x2F
    static let colon: UInt8 = 0x3A, lt: UInt8 = 0x3C, eq: UInt8 = 0x3D, gt: UInt8 = 0x3E
    static let question: UInt8 = 0x3F, at: UInt8 = 0x40, lbracket: UInt8 = 0x5B, backslash: UInt8 = 0x5C
    static let rbracket: UInt8 = 0x5D, underscore: UInt8 = 0x5F, backquote: UInt8 = 0x60
    static let lbrace: UInt8 = 0x7B, pipe: UInt8 = 0x7C, rbrace: UInt8 = 0x7D

    static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    static func isLetter(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
    static func isSpace(_ c: UInt8) -> Bool { c == space || c == tab || c == lf || c == cr || c == vt || c == ff }
    static func isIdentStart(_ c: UInt8) -> Bool { isLetter(c) || c == underscore || c == at }
    static func isIdentBody(_ c: UInt8) -> Bool { isLetter(c) || isDigit(c) || c == underscore || c == at }
}

struct ESQLLexer: Sendable {
    let bytes: [UInt8]

    init(_ text: String) { bytes = Array(text.utf8) }

    // MARK: positions and errors

    func location(_ offset: Int) -> (line: Int, column: Int) {
        let end = min(max(offset, 0), bytes.count)
        var line = 1
        var lineStart = 0
        var i = 0
        while i < end {
            if bytes[i] == ESQLChar.lf { line += 1; lineStart = i + 1 }
            i += 1
        }
        let column = String(decoding: bytes[lineStart..<end], as: UTF8.self).unicodeScalars.count + 1
        return (line, column)
    }

    func error(at offset: Int, _ message: String) -> ESQLError {
        let loc = location(offset)
        return ESQLError(message: message, line: loc.line, column: loc.column)
    }

    func text(_ start: Int, _ end: Int) -> String {
        String(decoding: bytes[max(0, start)..<min(end, bytes.count)], as: UTF8.self)
    }

    /// How a token is shown in error messages, quoted like ANTLR does.
    func display(_ t: ESQLToken) -> String {
        if t.kind == .eof { return "'<EOF>'" }
        var s = text(t.start, t.end)
        if s.unicodeScalars.count > 40 { s = String(String.UnicodeScalarView(s.unicodeScalars.prefix(40))) + "..." }
        return "'" + s + "'"
    }

    // MARK: trivia

    /// Skips whitespace, `// line` and `/* block */` comments (block comments nest).
    func skipTrivia(_ start: Int) throws(ESQLError) -> Int {
        var i = start
        let n = bytes.count
        while i < n {
            let c = bytes[i]
            if ESQLChar.isSpace(c) { i += 1; continue }
            if c == ESQLChar.slash, i + 1 < n, bytes[i + 1] == ESQLChar.slash {
                i += 2
                while i < n, bytes[i] != ESQLChar.lf, bytes[i] != ESQLChar.cr { i += 1 }
                continue
            }
            if c == ESQLChar.slash, i + 1 < n, bytes[i + 1] == ESQLChar.star {
                let open = i
                var depth = 1
                i += 2
                while i < n, depth > 0 {
                    if bytes[i] == ESQLChar.slash, i + 1 < n, bytes[i + 1] == ESQLChar.star { depth += 1; i += 2 }
                    else if bytes[i] == ESQLChar.star, i + 1 < n, bytes[i + 1] == ESQLChar.slash { depth -= 1; i += 2 }
                    else { i += 1 }
                }
                if depth > 0 { throw error(at: open, "unterminated comment") }
                continue
            }
            break
        }
        return i
    }

    // MARK: tokens

    func token(at offset: Int, mode: ESQLLexMode) throws(ESQLError) -> ESQLToken {
        let i = try skipTrivia(offset)
        let n = bytes.count
        guard i < n else { return ESQLToken(kind: .eof, text: "", start: n, end: n) }
        let c = bytes[i]

        if c == ESQLChar.dquote { return try string(at: i) }

        if mode == .source, isSourceChar(at: i) {
            var j = i
            while j < n, isSourceChar(at: j) { j += 1 }
            return ESQLToken(kind: .source, text: text(i, j), start: i, end: j)
        }

        if c == ESQLChar.backquote || ESQLChar.isIdentStart(c) || (mode == .pattern && c == ESQLChar.star) {
            return try name(at: i, pattern: mode == .pattern)
        }

        if ESQLChar.isDigit(c) || (c == ESQLChar.dot && i + 1 < n && ESQLChar.isDigit(bytes[i + 1])) {
            return number(at: i)
        }

        func punct(_ len: Int) -> ESQLToken {
            ESQLToken(kind: .punct, text: text(i, i + len), start: i, end: i + len)
        }
        let next: UInt8 = i + 1 < n ? bytes[i + 1] : 0
        switch c {
        case ESQLChar.pipe, ESQLChar.comma, ESQLChar.lparen, ESQLChar.rparen, ESQLChar.lbrace, ESQLChar.rbrace, ESQLChar.lbracket, ESQLChar.rbracket,
             ESQLChar.plus, ESQLChar.minus, ESQLChar.star, ESQLChar.slash, ESQLChar.percent, ESQLChar.question:
            return punct(1)
        case ESQLChar.eq, ESQLChar.lt, ESQLChar.gt:
            return punct(next == ESQLChar.eq ? 2 : 1)
        case ESQLChar.bang:
            if next == ESQLChar.eq { return punct(2) }
        case ESQLChar.colon:
            return punct(next == ESQLChar.colon ? 2 : 1)
        default:
            break
        }
        // Report the whole offending scalar, not a UTF-8 fragment.
        var j = i + 1
        while j < n, bytes[j] & 0xC0 == 0x80 { j += 1 }
        throw error(at: i, "token recognition error at: '\(text(i, j))'")
    }

    /// Characters of an unquoted index name: anything but whitespace and
    /// `, | " [ ] ( ) = \``, and `/` when it starts a comment.
    private func isSourceChar(at i: Int) -> Bool {
        let c = bytes[i]
        if ESQLChar.isSpace(c) { return false }
        switch c {
        case ESQLChar.comma, ESQLChar.pipe, ESQLChar.dquote, ESQLChar.lbracket, ESQLChar.rbracket, ESQLChar.lparen, ESQLChar.rparen, ESQLChar.eq, ESQLChar.backquote:
            return false
        case ESQLChar.slash:
            let next: UInt8 = i + 1 < bytes.count ? bytes[i + 1] : 0
            return next != ESQLChar.slash && next != ESQLChar.star
        default:
            return true
        }
    }

    /// Identifier: segments separated by `.`, each unquoted (`[A-Za-z0-9_@]+`,
    /// plus `*` in pattern mode) or backquoted (`` `a b` ``, with ```` `` ```` for a
    /// literal backquote).
    private func name(at start: Int, pattern: Bool) throws(ESQLError) -> ESQLToken {
        let n = bytes.count
        var out: [UInt8] = []
        var quoted = false
        var i = start
        func body(_ c: UInt8) -> Bool { ESQLChar.isIdentBody(c) || (pattern && c == ESQLChar.star) }
        while true {
            if bytes[i] == ESQLChar.backquote {
                let open = i
                i += 1
                var closed = false
                while i < n {
                    if bytes[i] == ESQLChar.backquote {
                        if i + 1 < n, bytes[i + 1] == ESQLChar.backquote { out.append(ESQLChar.backquote); i += 2; continue }
                        i += 1
                        closed = true
                        break
                    }
                    out.append(bytes[i])
                    i += 1
                }
                if !closed { throw error(at: open, "unterminated quoted identifier") }
                quoted = true
            } else {
                while i < n, body(bytes[i]) { out.append(bytes[i]); i += 1 }
            }
            if i + 1 < n, bytes[i] == ESQLChar.dot, body(bytes[i + 1]) || bytes[i + 1] == ESQLChar.backquote {
                out.append(ESQLChar.dot)
                i += 1
                continue
            }
            break
        }
        return ESQLToken(kind: quoted ? .quotedIdent : .ident, text: String(decoding: out, as: UTF8.self),
                         start: start, end: i)
    }

    /// `123` (integer), `1.5`, `.5`, `1.`, `1e3`, `2.5E-3` (decimal).
    private func number(at start: Int) -> ESQLToken {
        let n = bytes.count
        var i = start
        var isDecimal = false
        while i < n, ESQLChar.isDigit(bytes[i]) { i += 1 }
        if i < n, bytes[i] == ESQLChar.dot {
            let next: UInt8 = i + 1 < n ? bytes[i + 1] : 0
            if ESQLChar.isDigit(next) || !(ESQLChar.isIdentStart(next) || next == ESQLChar.backquote || next == ESQLChar.dot) {
                isDecimal = true
                i += 1
                while i < n, ESQLChar.isDigit(bytes[i]) { i += 1 }
            }
        }
        if i < n, bytes[i] == 0x65 || bytes[i] == 0x45 {  // e / E
            var j = i + 1
            if j < n, bytes[j] == ESQLChar.plus || bytes[j] == ESQLChar.minus { j += 1 }
            if j < n, ESQLChar.isDigit(bytes[j]) {
                while j < n, ESQLChar.isDigit(bytes[j]) { j += 1 }
                isDecimal = true
                i = j
            }
        }
        let raw = text(start, i)
        if !isDecimal, let v = Int64(raw) {
            return ESQLToken(kind: .integer, text: raw, start: start, end: i, int: v)
        }
        var normalized = raw
        if normalized.hasPrefix(".") { normalized = "0" + normalized }
        normalized = normalized.replacingDotBeforeExponent()
        let d = Double(normalized) ?? Double.infinity
        return ESQLToken(kind: .decimal, text: raw, start: start, end: i, double: d)
    }

    /// `"..."` with `\t \n \r \" \\` escapes, or `"""..."""` without escapes.
    private func string(at start: Int) throws(ESQLError) -> ESQLToken {
        let n = bytes.count
        if start + 2 < n, bytes[start + 1] == ESQLChar.dquote, bytes[start + 2] == ESQLChar.dquote {
            // Triple-quoted: ends at the first `"""`; up to two more quotes
            // directly after it belong to the content (`""""a"""""` -> `"a"`).
            var i = start + 3
            while i + 2 < n {
                if bytes[i] == ESQLChar.dquote, bytes[i + 1] == ESQLChar.dquote, bytes[i + 2] == ESQLChar.dquote {
                    var q = 0
                    while i + q < n, bytes[i + q] == ESQLChar.dquote, q < 5 { q += 1 }
                    let contentEnd = i + (q - 3)
                    return ESQLToken(kind: .string, text: text(start + 3, contentEnd), start: start, end: i + q)
                }
                i += 1
            }
            throw error(at: start, "unterminated triple-quoted string")
        }
        var out: [UInt8] = []
        var i = start + 1
        while i < n {
            let c = bytes[i]
            if c == ESQLChar.dquote {
                return ESQLToken(kind: .string, text: String(decoding: out, as: UTF8.self), start: start, end: i + 1)
            }
            if c == ESQLChar.lf || c == ESQLChar.cr { break }
            if c == ESQLChar.backslash {
                guard i + 1 < n else { break }
                switch bytes[i + 1] {
                case 0x74: out.append(ESQLChar.tab)            // \t
                case 0x6E: out.append(ESQLChar.lf)             // \n
                case 0x72: out.append(ESQLChar.cr)             // \r
                case ESQLChar.dquote: out.append(ESQLChar.dquote)    // \"
                case ESQLChar.backslash: out.append(ESQLChar.backslash)
                default:
                    var j = i + 2
                    while j < n, bytes[j] & 0xC0 == 0x80 { j += 1 }
                    throw error(at: i, "invalid escape sequence '\(text(i, j))' in string literal "
                        + "(valid: \\t \\n \\r \\\" \\\\; use triple quotes for raw strings)")
                }
                i += 2
                continue
            }
            out.append(c)
            i += 1
        }
        throw error(at: start, "unterminated string literal")
    }
}

private extension String {
    /// `1.e5` -> `1.0e5` and `1.` -> `1.0`, so `Double(_:)` accepts it.
    func replacingDotBeforeExponent() -> String {
        var out = ""
        var prev: Character = " "
        for ch in self {
            if prev == ".", ch == "e" || ch == "E" { out.append("0") }
            out.append(ch)
            prev = ch
        }
        if prev == "." { out.append("0") }
        return out
    }
}

// MARK: - ESQLParserState

private struct ESQLParserState {
    let lx: ESQLLexer
    /// Byte offset of the next unconsumed input (before trivia).
    var pos = 0
    /// End offset of the last consumed token (for source-text slices).
    var lastEnd = 0
    private var cache: (pos: Int, mode: ESQLLexMode, token: ESQLToken)?
    /// Open nestings (parentheses, calls, `NOT`, signs), bounded as Elasticsearch bounds its
    /// query parsers, and the length of one operator chain: no query builds a tree deep enough
    /// to exhaust a stack downstream.
    var depth = 0
    static let maxDepth = 200
    static let maxChain = 1024

    init(_ text: String) { lx = ESQLLexer(text) }

    mutating func enter() throws(ESQLError) {
        depth += 1
        if depth > ESQLParserState.maxDepth {
            throw lx.error(at: pos, "ESQL statement is too large, causing stack overflow when generating the parsing tree: [\(ESQLParserState.maxDepth)]")
        }
    }

    func checkChain(_ n: Int) throws(ESQLError) {
        if n > ESQLParserState.maxChain {
            throw lx.error(at: pos, "ESQL statement is too large: more than \(ESQLParserState.maxChain) operands joined by one operator")
        }
    }

    // MARK: token helpers

    mutating func peek(_ mode: ESQLLexMode = .expr) throws(ESQLError) -> ESQLToken {
        if let c = cache, c.pos == pos, c.mode == mode { return c.token }
        let t = try lx.token(at: pos, mode: mode)
        cache = (pos, mode, t)
        return t
    }

    /// The token after `t` (lookahead of two).
    func peek(after t: ESQLToken, _ mode: ESQLLexMode = .expr) throws(ESQLError) -> ESQLToken {
        try lx.token(at: t.end, mode: mode)
    }

    mutating func consume(_ t: ESQLToken) {
        pos = t.end
        lastEnd = t.end
    }

    func isPunct(_ t: ESQLToken, _ symbol: String) -> Bool { t.kind == .punct && t.text == symbol }

    func isKeyword(_ t: ESQLToken, _ word: String) -> Bool {
        t.kind == .ident && t.text.count == word.count && t.text.lowercased() == word
    }

    func isReserved(_ t: ESQLToken) -> Bool { t.kind == .ident && esqlReservedWords.contains(t.text.lowercased()) }

    func mismatched(_ t: ESQLToken, expecting what: String) -> ESQLError {
        lx.error(at: t.start, "mismatched input \(lx.display(t)) expecting \(what)")
    }

    mutating func expectPunct(_ symbol: String) throws(ESQLError) {
        let t = try peek()
        guard isPunct(t, symbol) else { throw mismatched(t, expecting: "'\(symbol)'") }
        consume(t)
    }

    mutating func expectKeyword(_ word: String) throws(ESQLError) {
        let t = try peek()
        guard isKeyword(t, word) else { throw mismatched(t, expecting: word.uppercased()) }
        consume(t)
    }

    /// Consumes `symbol` if it is next.
    mutating func acceptPunct(_ symbol: String) throws(ESQLError) -> Bool {
        let t = try peek()
        if isPunct(t, symbol) { consume(t); return true }
        return false
    }

    mutating func acceptKeyword(_ word: String) throws(ESQLError) -> Bool {
        let t = try peek()
        if isKeyword(t, word) { consume(t); return true }
        return false
    }

    /// A (qualified) field name: unquoted non-reserved identifier or backquoted.
    mutating func parseName(_ what: String = "a field name") throws(ESQLError) -> String {
        let t = try peek()
        guard t.kind == .quotedIdent || (t.kind == .ident && !isReserved(t)) else {
            throw mismatched(t, expecting: what)
        }
        consume(t)
        return t.text
    }

    /// A KEEP/DROP/RENAME name, which may contain `*`.
    mutating func parsePattern() throws(ESQLError) -> String {
        let t = try peek(.pattern)
        guard t.kind == .quotedIdent || (t.kind == .ident && !isReserved(t)) else {
            throw mismatched(t, expecting: "a field name or pattern")
        }
        consume(t)
        return t.text
    }

    mutating func parseString(_ what: String = "a string") throws(ESQLError) -> String {
        let t = try peek()
        guard t.kind == .string else { throw mismatched(t, expecting: what) }
        consume(t)
        return t.text
    }

    /// True at the end of the current command (`|` or end of input).
    mutating func atCommandEnd() throws(ESQLError) -> Bool {
        let t = try peek()
        return t.kind == .eof || isPunct(t, "|")
    }

    // MARK: query and commands

    mutating func parseQuery() throws(ESQLError) -> ESQLQuery {
        let first = try peek()
        guard isKeyword(first, "from") else { throw mismatched(first, expecting: "FROM") }
        consume(first)

        var indices: [String] = []
        repeat {
            let t = try peek(.source)
            guard t.kind == .source || t.kind == .string else { throw mismatched(t, expecting: "an index pattern") }
            consume(t)
            indices.append(t.text)
        } while try acceptPunct(",")

        var metadata: [String] = []
        if try acceptKeyword("metadata") {
            repeat { metadata.append(try parseName("a metadata field")) } while try acceptPunct(",")
        }

        var commands: [ESQLCommand] = []
        while true {
            let t = try peek()
            if t.kind == .eof { break }
            guard isPunct(t, "|") else { throw mismatched(t, expecting: "{<EOF>, '|'}") }
            consume(t)
            commands.append(try parseCommand())
        }
        return ESQLQuery(source: ESQLSource(indices: indices, metadata: metadata), commands: commands)
    }

    static let commandList = "{COMPLETION, DISSECT, DROP, EVAL, GROK, INLINE STATS, KEEP, LIMIT, LOOKUP JOIN, "
        + "MV_EXPAND, RENAME, SAMPLE, SORT, STATS, WHERE}"

    mutating func parseCommand() throws(ESQLError) -> ESQLCommand {
        let t = try peek()
        guard t.kind == .ident else { throw mismatched(t, expecting: ESQLParserState.commandList) }
        switch t.text.lowercased() {
        case "where":
            consume(t)
            return .where(try parseExpression())
        case "eval":
            consume(t)
            return .eval(try parseAssignments(allowFilter: false))
        case "stats":
            consume(t)
            return try parseStats(inline: false, keyword: t)
        case "inlinestats":
            consume(t)
            return try parseStats(inline: true, keyword: t)
        case "inline":
            consume(t)
            try expectKeyword("stats")
            return try parseStats(inline: true, keyword: t)
        case "keep", "drop":
            consume(t)
            var names: [String] = []
            repeat { names.append(try parsePattern()) } while try acceptPunct(",")
            return isKeyword(t, "keep") ? .keep(names) : .drop(names)
        case "rename":
            consume(t)
            return .rename(try parseRenames())
        case "sort":
            consume(t)
            var orders: [ESQLOrder] = []
            repeat { orders.append(try parseOrder()) } while try acceptPunct(",")
            return .sort(orders)
        case "limit":
            consume(t)
            let n = try peek()
            guard n.kind == .integer, n.int <= Int64(Int.max) else {
                throw mismatched(n, expecting: "a non-negative integer")
            }
            consume(n)
            return .limit(Int(n.int))
        case "mv_expand":
            consume(t)
            return .mvExpand(try parseName())
        case "grok":
            consume(t)
            let input = try parseUnaryOperand()
            return .grok(input, try parseString("a grok pattern string"))
        case "dissect":
            consume(t)
            return try parseDissect()
        case "lookup":
            consume(t)
            try expectKeyword("join")
            let idx = try peek(.source)
            guard idx.kind == .source || idx.kind == .string else { throw mismatched(idx, expecting: "an index name") }
            consume(idx)
            try expectKeyword("on")
            var fields: [String] = []
            repeat { fields.append(try parseName()) } while try acceptPunct(",")
            return .lookupJoin(index: idx.text, on: fields)
        case "completion":
            consume(t)
            return try parseCompletion()
        case "sample":
            consume(t)
            let n = try peek()
            let p: Double
            switch n.kind {
            case .decimal: p = n.double
            case .integer: p = Double(n.int)
            default: throw mismatched(n, expecting: "a probability")
            }
            guard p > 0, p < 1 else {
                throw lx.error(at: n.start, "invalid value for SAMPLE probability [\(lx.text(n.start, n.end))], "
                    + "expecting a number between 0 and 1, exclusive")
            }
            consume(n)
            return .sample(p)
        default:
            throw mismatched(t, expecting: ESQLParserState.commandList)
        }
    }

    mutating func parseStats(inline: Bool, keyword: ESQLToken) throws(ESQLError) -> ESQLCommand {
        var aggregates: [ESQLAssignment] = []
        var groups: [ESQLAssignment] = []
        let t = try peek()
        if !(t.kind == .eof || isPunct(t, "|") || isKeyword(t, "by")) {
            aggregates = try parseAssignments(allowFilter: true)
        }
        if try acceptKeyword("by") {
            groups = try parseAssignments(allowFilter: false)
        }
        if aggregates.isEmpty, groups.isEmpty {
            throw lx.error(at: keyword.start, "at least one aggregation or grouping expression required in [STATS]")
        }
        let end = try peek()
        guard end.kind == .eof || isPunct(end, "|") else {
            throw mismatched(end, expecting: aggregates.isEmpty || !groups.isEmpty ? "{<EOF>, '|', ','}"
                : "{<EOF>, '|', ',', BY, WHERE}")
        }
        return .stats(aggregates: aggregates, by: groups, inline: inline)
    }

    /// `[name =] expr [WHERE filter], ...`
    mutating func parseAssignments(allowFilter: Bool) throws(ESQLError) -> [ESQLAssignment] {
        var out: [ESQLAssignment] = []
        repeat {
            let first = try peek()
            var assignment: ESQLAssignment
            if first.kind == .quotedIdent || (first.kind == .ident && !isReserved(first)),
               isPunct(try peek(after: first), "=") {
                consume(first)
                consume(try peek())
                assignment = ESQLAssignment(name: first.text, expr: try parseExpression())
            } else {
                let expr = try parseExpression()
                assignment = ESQLAssignment(name: implicitName(expr, start: first.start), expr: expr)
            }
            if allowFilter, try acceptKeyword("where") {
                assignment.filter = try parseExpression()
            }
            out.append(assignment)
        } while try acceptPunct(",")
        return out
    }

    /// Column name of an unnamed expression: the field name for a field
    /// reference, otherwise the source text as written.
    func implicitName(_ expr: ESQLExpr, start: Int) -> String {
        if case .field(let name) = expr { return name }
        return lx.text(start, lastEnd)
    }

    mutating func parseRenames() throws(ESQLError) -> [ESQLRename] {
        var out: [ESQLRename] = []
        repeat {
            let first = try parsePattern()
            if try acceptKeyword("as") {
                out.append(ESQLRename(from: first, to: try parsePattern()))
            } else if try acceptPunct("=") {
                out.append(ESQLRename(from: try parsePattern(), to: first))
            } else {
                throw mismatched(try peek(), expecting: "{AS, '='}")
            }
        } while try acceptPunct(",")
        return out
    }

    mutating func parseOrder() throws(ESQLError) -> ESQLOrder {
        var order = ESQLOrder(expr: try parseExpression())
        if try acceptKeyword("desc") {
            order.ascending = false
        } else {
            _ = try acceptKeyword("asc")
        }
        if try acceptKeyword("nulls") {
            if try acceptKeyword("first") {
                order.nullsFirst = true
            } else if try acceptKeyword("last") {
                order.nullsFirst = false
            } else {
                throw mismatched(try peek(), expecting: "{FIRST, LAST}")
            }
        }
        return order
    }

    mutating func parseDissect() throws(ESQLError) -> ESQLCommand {
        let input = try parseUnaryOperand()
        let pattern = try parseString("a dissect pattern string")
        var separator: String?
        let t = try peek()
        if t.kind == .ident, !isReserved(t) {
            guard t.text.lowercased() == "append_separator" else {
                throw lx.error(at: t.start, "Invalid option for dissect: [\(t.text)]")
            }
            consume(t)
            try expectPunct("=")
            separator = try parseString("a separator string")
        }
        return .dissect(input, pattern, appendSeparator: separator)
    }

    /// `COMPLETION [target =] prompt WITH { "inference_id": "id" }` or the older
    /// `COMPLETION prompt WITH id [AS target]`.
    mutating func parseCompletion() throws(ESQLError) -> ESQLCommand {
        var target: String?
        let first = try peek()
        if first.kind == .quotedIdent || (first.kind == .ident && !isReserved(first)),
           isPunct(try peek(after: first), "=") {
            consume(first)
            consume(try peek())
            target = first.text
        }
        let prompt = try parseUnaryOperand()
        var inferenceId: String?
        if try acceptKeyword("with") {
            let t = try peek()
            if isPunct(t, "{") {
                for entry in try parseMap() where entry.key == "inference_id" {
                    if case .literal(.string(let id)) = entry.value { inferenceId = id }
                }
            } else if t.kind == .string || t.kind == .quotedIdent || (t.kind == .ident && !isReserved(t)) {
                consume(t)
                inferenceId = t.text
            } else {
                throw mismatched(t, expecting: "{'{', an inference id}")
            }
        }
        if target == nil, try acceptKeyword("as") {
            target = try parseName()
        }
        return .completion(prompt: prompt, target: target, inferenceId: inferenceId)
    }

    /// `{ "key": constant-or-map, ... }`
    mutating func parseMap() throws(ESQLError) -> [ESQLMapEntry] {
        try expectPunct("{")
        var entries: [ESQLMapEntry] = []
        if try acceptPunct("}") { return entries }
        repeat {
            let key = try parseString("a string map key")
            try expectPunct(":")
            if isPunct(try peek(), "{") {
                entries.append(ESQLMapEntry(key: key, value: .map(try parseMap())))
            } else {
                entries.append(ESQLMapEntry(key: key, value: try parseUnary()))
            }
        } while try acceptPunct(",")
        try expectPunct("}")
        return entries
    }

    // MARK: expressions

    /// Full boolean expression (lowest precedence: OR).
    mutating func parseExpression() throws(ESQLError) -> ESQLExpr {
        try enter()
        defer { depth -= 1 }
        var left = try parseAnd()
        var n = 1
        while try acceptKeyword("or") {
            n += 1
            try checkChain(n)
            left = .binary(.or, left, try parseAnd())
        }
        return left
    }

    mutating func parseAnd() throws(ESQLError) -> ESQLExpr {
        var left = try parseNot()
        var n = 1
        while try acceptKeyword("and") {
            n += 1
            try checkChain(n)
            left = .binary(.and, left, try parseNot())
        }
        return left
    }

    mutating func parseNot() throws(ESQLError) -> ESQLExpr {
        if try acceptKeyword("not") {
            try enter()
            defer { depth -= 1 }
            return .unary(.not, try parseNot())
        }
        return try parsePredicate()
    }

    /// valueExpression followed by an optional `[NOT] IN|LIKE|RLIKE`,
    /// `IS [NOT] NULL` or `: constant` (match operator).
    mutating func parsePredicate() throws(ESQLError) -> ESQLExpr {
        let value = try parseComparison()
        var t = try peek()
        var negated = false
        if isKeyword(t, "not") {
            let next = try peek(after: t)
            guard isKeyword(next, "in") || isKeyword(next, "like") || isKeyword(next, "rlike") else {
                throw mismatched(next, expecting: "{IN, LIKE, RLIKE}")
            }
            consume(t)
            negated = true
            t = next
        }
        if isKeyword(t, "in") {
            consume(t)
            try expectPunct("(")
            var list: [ESQLExpr] = []
            repeat { list.append(try parseComparison()) } while try acceptPunct(",")
            try expectPunct(")")
            return .in(value, list, negated: negated)
        }
        if isKeyword(t, "like") || isKeyword(t, "rlike") {
            consume(t)
            let regex = isKeyword(t, "rlike")
            var patterns: [String] = []
            if try acceptPunct("(") {
                repeat { patterns.append(try parseString("a pattern string")) } while try acceptPunct(",")
                try expectPunct(")")
            } else {
                patterns.append(try parseString("a pattern string"))
            }
            return .like(value, patterns, negated: negated, regex: regex)
        }
        if isKeyword(t, "is") {
            consume(t)
            let neg = try acceptKeyword("not")
            try expectKeyword("null")
            return .isNull(value, negated: neg)
        }
        if isPunct(t, ":") {
            guard case .field(let name) = value else {
                throw lx.error(at: t.start, "the match operator ':' requires a field name on its left-hand side")
            }
            consume(t)
            let q = try peek()
            let query: String
            switch q.kind {
            case .string: query = q.text
            case .integer, .decimal: query = q.text
            case .ident where isKeyword(q, "true") || isKeyword(q, "false"): query = q.text.lowercased()
            default: throw mismatched(q, expecting: "a constant")
            }
            consume(q)
            return .match(name, query)
        }
        return value
    }

    /// `a <op> b` for == != < <= > >= (not chainable, as in Elasticsearch).
    mutating func parseComparison() throws(ESQLError) -> ESQLExpr {
        let left = try parseAdditive()
        let t = try peek()
        guard t.kind == .punct else { return left }
        let op: ESQLBinary
        switch t.text {
        case "==": op = .eq
        case "!=": op = .neq
        case "<": op = .lt
        case "<=": op = .lte
        case ">": op = .gt
        case ">=": op = .gte
        default: return left
        }
        consume(t)
        return .binary(op, left, try parseAdditive())
    }

    mutating func parseAdditive() throws(ESQLError) -> ESQLExpr {
        var left = try parseMultiplicative()
        var n = 1
        while true {
            n += 1
            try checkChain(n)
            let t = try peek()
            if isPunct(t, "+") { consume(t); left = .binary(.add, left, try parseMultiplicative()) }
            else if isPunct(t, "-") { consume(t); left = .binary(.sub, left, try parseMultiplicative()) }
            else { return left }
        }
    }

    mutating func parseMultiplicative() throws(ESQLError) -> ESQLExpr {
        var left = try parseUnary()
        var n = 1
        while true {
            n += 1
            try checkChain(n)
            let t = try peek()
            let op: ESQLBinary
            if isPunct(t, "*") { op = .mul } else if isPunct(t, "/") { op = .div } else if isPunct(t, "%") { op = .mod }
            else { return left }
            consume(t)
            left = .binary(op, left, try parseUnary())
        }
    }

    /// Unary `-` / `+`; a minus on a numeric or time-span literal is folded.
    mutating func parseUnary() throws(ESQLError) -> ESQLExpr {
        let t = try peek()
        if isPunct(t, "+") || isPunct(t, "-") {
            try enter()
        }
        defer { if isPunct(t, "+") || isPunct(t, "-") { depth -= 1 } }
        if isPunct(t, "+") {
            consume(t)
            return try parseUnary()
        }
        if isPunct(t, "-") {
            consume(t)
            let operand = try parseUnary()
            switch operand {
            case .literal(.int(let v)) where v != Int64.min: return .literal(.int(-v))
            case .literal(.double(let v)): return .literal(.double(-v))
            case .literal(.timeSpan(let v, let u)) where v != Int64.min: return .literal(.timeSpan(-v, u))
            default: return .unary(.negate, operand)
            }
        }
        return try parseUnaryOperand()
    }

    /// primaryExpression with any number of `::type` casts.
    mutating func parseUnaryOperand() throws(ESQLError) -> ESQLExpr {
        var e = try parsePrimary()
        while try acceptPunct("::") {
            let t = try peek()
            guard t.kind == .ident || t.kind == .quotedIdent else { throw mismatched(t, expecting: "a data type") }
            consume(t)
            e = .cast(e, t.text.lowercased())
        }
        return e
    }

    mutating func parsePrimary() throws(ESQLError) -> ESQLExpr {
        let t = try peek()
        switch t.kind {
        case .integer:
            consume(t)
            let unit = try peek()
            if unit.kind == .ident, let canonical = esqlCanonicalTimeUnit(unit.text) {
                consume(unit)
                return .literal(.timeSpan(t.int, canonical))
            }
            return .literal(.int(t.int))
        case .decimal:
            consume(t)
            return .literal(.double(t.double))
        case .string:
            consume(t)
            return .literal(.string(t.text))
        case .quotedIdent:
            consume(t)
            return .field(t.text)
        case .ident:
            switch t.text.lowercased() {
            case "null": consume(t); return .literal(.null)
            case "true": consume(t); return .literal(.bool(true))
            case "false": consume(t); return .literal(.bool(false))
            default: break
            }
            if isReserved(t) { throw mismatched(t, expecting: "an expression") }
            consume(t)
            if try acceptPunct("(") {
                return .call(t.text.uppercased(), try parseArguments())
            }
            return .field(t.text)
        case .punct where t.text == "(":
            consume(t)
            let e = try parseExpression()
            try expectPunct(")")
            return e
        case .punct where t.text == "?":
            throw lx.error(at: t.start, "query parameters ('?') are not supported")
        default:
            throw mismatched(t, expecting: "an expression")
        }
    }

    /// Arguments after `(`: `*`, nothing, or expressions with an optional
    /// trailing options map; consumes the closing `)`.
    mutating func parseArguments() throws(ESQLError) -> [ESQLExpr] {
        let t = try peek()
        if isPunct(t, ")") { consume(t); return [] }
        if isPunct(t, "*"), isPunct(try peek(after: t), ")") {
            consume(t)
            consume(try peek())
            return [.star]
        }
        var args: [ESQLExpr] = []
        repeat {
            if isPunct(try peek(), "{") {
                args.append(.map(try parseMap()))
                break
            }
            args.append(try parseExpression())
        } while try acceptPunct(",")
        let close = try peek()
        guard isPunct(close, ")") else { throw mismatched(close, expecting: "{')', ','}") }
        consume(close)
        return args
    }
}
