/// Elasticsearch's `standard` analyzer, as `text` fields and `match` queries use it: words by
/// the Unicode word-break rules that matter for logs and command lines, lowercased.
///
/// A word is a run of letters, digits, marks and `_`. Inside a word, `.` and `'` join two
/// letters or two digits (`cmd.exe`, `10.1.2.3`, `don't`), `:` joins two letters, and `,` and
/// `;` join two digits (`1,000`). Everything else separates words. Tokens longer than 255
/// characters are split, as the standard tokenizer does.
public enum TextAnalyzer {
    public static let maxTokenLength = 255

    /// The tokens of `text`, in order.
    public static func tokens(_ text: String) -> [String] {
        var out: [String] = []
        forEachToken(text) { out.append($0) }
        return out
    }

    /// Calls `body` with each token of `text`, in order.
    public static func forEachToken(_ text: String, _ body: (String) -> Void) {
        let scalars = Array(text.unicodeScalars)
        var i = 0
        var current = String.UnicodeScalarView()
        var length = 0
        func flush() {
            if length > 0 { body(String(current).lowercased()) }
            current = String.UnicodeScalarView()
            length = 0
        }
        while i < scalars.count {
            let c = scalars[i]
            if isWordChar(c) {
                if length == maxTokenLength { flush() }
                current.append(c)
                length += 1
            } else if length > 0, i + 1 < scalars.count, joins(c, scalars[i - 1], scalars[i + 1]) {
                current.append(c)
                length += 1
            } else {
                flush()
            }
            i += 1
        }
        flush()
    }

    static func isWordChar(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII {
            let v = c.value
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F
        }
        let p = c.properties
        return p.isAlphabetic || p.numericType != nil || p.generalCategory == .nonspacingMark || p.generalCategory == .spacingMark
    }

    static func isLetter(_ c: Unicode.Scalar) -> Bool { isWordChar(c) && !isDigit(c) && c != "_" }
    static func isDigit(_ c: Unicode.Scalar) -> Bool { c.properties.numericType != nil }

    static func joins(_ c: Unicode.Scalar, _ before: Unicode.Scalar, _ after: Unicode.Scalar) -> Bool {
        switch c {
        case ".", "'": (isLetter(before) && isLetter(after)) || (isDigit(before) && isDigit(after))
        case ":": isLetter(before) && isLetter(after)
        case ",", ";": isDigit(before) && isDigit(after)
        default: false
        }
    }
}

/// A full-text condition on an analyzed (`text`) field, checked against the tokens of each value.
public enum TextMatch: Sendable, Hashable {
    /// At least `minimum` of the terms occur as tokens.
    case terms([String], minimum: Int)
    /// The terms occur in order, with at most `slop` extra positions between them in total;
    /// with `prefix`, the last term only needs to start a token.
    case phrase([String], slop: Int, prefix: Bool)
    /// Some token matches the pattern.
    case token(Pattern)

    /// Whether one value's tokens satisfy the condition.
    public func matches(_ value: String) -> Bool {
        let tokens = TextAnalyzer.tokens(value)
        switch self {
        case .terms(let terms, let minimum):
            var found = 0
            for t in terms where tokens.contains(t) {
                found += 1
                if found >= minimum { return true }
            }
            return found >= minimum
        case .phrase(let terms, let slop, let prefix):
            guard !terms.isEmpty else { return false }
            func term(_ k: Int, at position: Int) -> Bool {
                prefix && k == terms.count - 1 ? tokens[position].hasPrefix(terms[k]) : tokens[position] == terms[k]
            }
            func rest(_ k: Int, from position: Int, budget: Int) -> Bool {
                if k == terms.count { return true }
                var p = position
                while p < tokens.count && p - position <= budget {
                    if term(k, at: p) && rest(k + 1, from: p + 1, budget: budget - (p - position)) { return true }
                    p += 1
                }
                return false
            }
            for start in tokens.indices where term(0, at: start) {
                if rest(1, from: start + 1, budget: slop) { return true }
            }
            return false
        case .token(let pattern):
            return tokens.contains { PatternMatcher.matches(pattern, $0) }
        }
    }
}
