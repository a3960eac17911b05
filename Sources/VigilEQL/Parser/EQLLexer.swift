/// One EQL token with its position.
struct EQLToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// A name or keyword (dots included: `process.parent.name`).
        case identifier
        /// A backquoted name: never a keyword.
        case quotedIdentifier
        case string
        case integer(Int64)
        case decimal(Double)
        /// Operators and punctuation.
        case symbol
        case eof
    }

    var kind: Kind
    /// The name, the string's value, or the symbol.
    var text: String
    var span: SourceSpan
    /// Written with `~` right after it: `in~`, `like~`, `startsWith~`.
    var tilde = false

    func isKeyword(_ k: String) -> Bool { kind == .identifier && text == k }
    func isSymbol(_ s: String) -> Bool { kind == .symbol && text == s }
}

/// Splits EQL text into tokens; comments (`//`, `/* */`) and whitespace are skipped.
struct EQLLexer {
    private let bytes: [UInt8]
    private var i = 0
    private var line = 1
    private var lineStart = 0
    /// The last column worked out, and where: tokens only move forward, so each is counted
    /// from the previous one (linear over the query, not quadratic on one long line).
    private var columnMemo = (offset: 0, column: 1)

    init(_ text: String) { bytes = Array(text.utf8) }

    static func tokenize(_ text: String) throws(EQLError) -> [EQLToken] {
        var lexer = EQLLexer(text)
        var out: [EQLToken] = []
        while true {
            let t = try lexer.next()
            out.append(t)
            if t.kind == .eof { return out }
        }
    }

    private var here: SourceSpan {
        mutating get {
            // Columns count characters, not bytes.
            var (k, column) = columnMemo.offset >= lineStart && columnMemo.offset <= i ? columnMemo : (lineStart, 1)
            while k < i {
                if bytes[k] & 0xC0 != 0x80 { column += 1 }
                k += 1
            }
            columnMemo = (i, column)
            return SourceSpan(line: line, column: column, offset: i)
        }
    }

    private func peek(_ ahead: Int = 0) -> UInt8? { i + ahead < bytes.count ? bytes[i + ahead] : nil }

    private static func isIdentStart(_ c: UInt8) -> Bool {
        (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || c == 0x5F || c == 0x40 || c >= 0x80
    }

    private static func isIdentPart(_ c: UInt8) -> Bool { isIdentStart(c) || (c >= 0x30 && c <= 0x39) }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    private mutating func skipSpaceAndComments() throws(EQLError) {
        while let c = peek() {
            if c == 0x0A {
                i += 1
                line += 1
                lineStart = i
            } else if c == 0x20 || c == 0x09 || c == 0x0D {
                i += 1
            } else if c == 0x2F, peek(1) == 0x2F {
                while let d = peek(), d != 0x0A { i += 1 }
            } else if c == 0x2F, peek(1) == 0x2A {
                let start = here
                i += 2
                while true {
                    guard let d = peek() else { throw EQLError(.parsing, "unterminated comment", at: start) }
                    if d == 0x2A, peek(1) == 0x2F {
                        i += 2
                        break
                    }
                    if d == 0x0A {
                        line += 1
                        lineStart = i + 1
                    }
                    i += 1
                }
            } else {
                return
            }
        }
    }

    mutating func next() throws(EQLError) -> EQLToken {
        try skipSpaceAndComments()
        let span = here
        guard let c = peek() else { return EQLToken(kind: .eof, text: "<EOF>", span: span) }
        if EQLLexer.isIdentStart(c) {
            let start = i
            while let d = peek() {
                if EQLLexer.isIdentPart(d) {
                    i += 1
                } else if d == 0x2E, let e = peek(1), EQLLexer.isIdentPart(e) {
                    i += 1
                } else {
                    break
                }
            }
            var t = EQLToken(kind: .identifier, text: String(decoding: bytes[start..<i], as: UTF8.self), span: span)
            if peek() == 0x7E {
                i += 1
                t.tilde = true
            }
            return t
        }
        if c == 0x60 {
            // `quoted name`, with `` for a backquote inside.
            i += 1
            var out: [UInt8] = []
            while true {
                guard let d = peek() else { throw EQLError(.parsing, "unterminated quoted identifier", at: span) }
                i += 1
                if d == 0x60 {
                    if peek() == 0x60 {
                        out.append(0x60)
                        i += 1
                        continue
                    }
                    break
                }
                out.append(d)
            }
            return EQLToken(kind: .quotedIdentifier, text: String(decoding: out, as: UTF8.self), span: span)
        }
        if c == 0x22 { return try string(span) }
        if c == 0x27 {
            throw EQLError(.parsing, "Use double quotes [\"] to define string literals, not single quotes [']", at: span)
        }
        if EQLLexer.isDigit(c) || (c == 0x2E && peek(1).map(EQLLexer.isDigit) == true) { return try number(span) }
        for s in ["==", "!=", "<=", ">=", "<", ">", "=", ":", "+", "-", "*", "/", "%", "(", ")", "[", "]", ",", "|", "!", "?", "~", "."] {
            let u = Array(s.utf8)
            if i + u.count <= bytes.count, Array(bytes[i..<(i + u.count)]) == u {
                i += u.count
                return EQLToken(kind: .symbol, text: s, span: span)
            }
        }
        throw EQLError(.parsing, "token recognition error at: '\(String(decoding: [c], as: UTF8.self))'", at: span)
    }

    private mutating func number(_ span: SourceSpan) throws(EQLError) -> EQLToken {
        let start = i
        var decimal = false
        while let d = peek(), EQLLexer.isDigit(d) { i += 1 }
        if peek() == 0x2E, peek(1).map(EQLLexer.isDigit) == true || !(peek(1).map(EQLLexer.isIdentStart) ?? false) {
            decimal = true
            i += 1
            while let d = peek(), EQLLexer.isDigit(d) { i += 1 }
        }
        if let e = peek(), e == 0x65 || e == 0x45 {
            var k = 1
            if let s = peek(1), s == 0x2B || s == 0x2D { k = 2 }
            if let d = peek(k), EQLLexer.isDigit(d) {
                decimal = true
                i += k
                while let d = peek(), EQLLexer.isDigit(d) { i += 1 }
            }
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        if decimal {
            guard let v = Double(text) else { throw EQLError(.parsing, "Cannot parse number [\(text)]", at: span) }
            return EQLToken(kind: .decimal(v), text: text, span: span)
        }
        // Beyond 64 bits an integer literal is read as a double, as Elasticsearch does.
        guard let v = Int64(text) else { return EQLToken(kind: .decimal(Double(text) ?? .infinity), text: text, span: span) }
        return EQLToken(kind: .integer(v), text: text, span: span)
    }

    private mutating func string(_ span: SourceSpan) throws(EQLError) -> EQLToken {
        if peek(1) == 0x22, peek(2) == 0x22 {
            // """raw""": no escapes.
            i += 3
            let start = i
            while true {
                guard peek() != nil else { throw EQLError(.parsing, "unterminated string", at: span) }
                if peek() == 0x22, peek(1) == 0x22, peek(2) == 0x22 {
                    // A raw string may end in quotes: the last three close it.
                    var end = i
                    while peek(3) == 0x22 {
                        i += 1
                        end = i
                    }
                    let text = String(decoding: bytes[start..<end], as: UTF8.self)
                    i += 3
                    return EQLToken(kind: .string, text: text, span: span)
                }
                if peek() == 0x0A {
                    line += 1
                    lineStart = i + 1
                }
                i += 1
            }
        }
        i += 1
        var out: [UInt8] = []
        while true {
            guard let d = peek() else { throw EQLError(.parsing, "unterminated string", at: span) }
            if d == 0x0A { throw EQLError(.parsing, "unterminated string", at: span) }
            i += 1
            if d == 0x22 { break }
            if d != 0x5C {
                out.append(d)
                continue
            }
            guard let e = peek() else { throw EQLError(.parsing, "unterminated string", at: span) }
            i += 1
            switch e {
            case 0x6E: out.append(0x0A)
            case 0x74: out.append(0x09)
            case 0x72: out.append(0x0D)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x22, 0x27, 0x5C: out.append(e)
            case 0x75:
                // \u{XXXX}: one to eight hex digits.
                guard peek() == 0x7B else { throw EQLError(.parsing, "Invalid unicode escape, expected [{] after [\\u]", at: span) }
                i += 1
                var v: UInt32 = 0
                var n = 0
                while let h = peek(), h != 0x7D {
                    guard let x = EQLLexer.hex(h), n < 8 else { throw EQLError(.parsing, "Invalid unicode escape sequence", at: span) }
                    v = v << 4 | UInt32(x)
                    n += 1
                    i += 1
                }
                guard peek() == 0x7D, n >= 2, let scalar = Unicode.Scalar(v) else {
                    throw EQLError(.parsing, "Invalid unicode character code [\(String(v, radix: 16))]", at: span)
                }
                i += 1
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                throw EQLError(.parsing, "Illegal escape sequence [\\\(String(decoding: [e], as: UTF8.self))]", at: span)
            }
        }
        return EQLToken(kind: .string, text: String(decoding: out, as: UTF8.self), span: span)
    }

    private static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        case 0x41...0x46: c - 0x41 + 10
        default: nil
        }
    }
}
