import VigilStore

/// Lucene's classic query syntax, as `query_string` (and, leniently, `simple_query_string`)
/// take it: `field:value`, `AND`/`OR`/`NOT`/`&&`/`||`/`!`, `+`/`-`, groups, `field:(a b)`,
/// phrases with slop, wildcards, `/regex/`, ranges `[a TO b]` `{a TO *}` `>=a`, `_exists_:f`,
/// boosts and backslash escapes.
public indirect enum LuceneQuery: Sendable, Equatable {
    /// Clauses combined as Lucene's classic parser does: each is `must`, `should` or `mustNot`.
    case boolean([Clause])
    /// A leaf on a field (nil: the default fields).
    case leaf(field: String?, LuceneTerm, boost: Double)
    /// A group with a field for its leaves that have none (`field:(a OR b)`) and a boost.
    case group(field: String?, LuceneQuery, boost: Double)
    case matchAll

    public enum Occur: Sendable, Equatable { case must, should, mustNot }

    public struct Clause: Sendable, Equatable {
        public var occur: Occur
        public var query: LuceneQuery
    }

    /// Parses `query_string` text; syntax errors carry their position.
    public static func parse(_ text: String) throws(QueryDSLError) -> LuceneQuery {
        var p = LuceneParser(text, simple: false)
        return try p.parseAll()
    }

    /// Parses `simple_query_string` text, which never fails: what does not parse is taken literally.
    public static func parseSimple(_ text: String) -> LuceneQuery {
        var p = LuceneParser(text, simple: true)
        return (try? p.parseAll()) ?? .leaf(field: nil, .term(text, wildcard: false), boost: 1)
    }
}

/// The value part of a Lucene clause.
public enum LuceneTerm: Sendable, Equatable {
    /// Text with its escapes removed; `wildcard` when an unescaped `*` or `?` remains (as is).
    case term(String, wildcard: Bool)
    case phrase(String, slop: Int)
    case regex(String)
    /// Bounds (nil: open); the texts are raw values.
    case range(lower: String?, upper: String?, includeLower: Bool, includeUpper: Bool)
    case exists
    /// `term~N`: edit-distance matching, which Vigil does not do.
    case fuzzy(String)
}

struct LuceneParser {
    let chars: [Character]
    let simple: Bool
    var i = 0
    /// Open groups, bounded so no query exhausts the stack.
    var depth = 0
    static let maxDepth = 200

    init(_ text: String, simple: Bool) {
        chars = Array(text)
        self.simple = simple
    }

    enum Conj { case none, and, or }
    enum Mod { case none, req, not }

    func error(_ message: String, at: Int? = nil) -> QueryDSLError {
        let pos = at ?? i
        return QueryDSLError("Failed to parse query [\(String(chars))]: Cannot parse '\(String(chars))': \(message) at line 1, column \(pos + 1)", type: "query_shard_exception", position: pos)
    }

    mutating func parseAll() throws(QueryDSLError) -> LuceneQuery {
        let q = try parseQuery(defaultAnd: false)
        skipSpace()
        if i < chars.count { throw error("Encountered \"\(chars[i])\"") }
        return q
    }

    mutating func skipSpace() {
        while i < chars.count && chars[i].isWhitespace { i += 1 }
    }

    func word(_ w: String) -> Bool {
        let end = i + w.count
        guard end <= chars.count, String(chars[i..<end]) == w else { return false }
        return end == chars.count || chars[end].isWhitespace || chars[end] == "(" || chars[end] == "\""
    }

    /// Clauses up to `)` or the end, with Lucene's rules for how `AND`, `OR`, `+`, `-` and
    /// `NOT` set each clause's occurrence.
    mutating func parseQuery(defaultAnd: Bool) throws(QueryDSLError) -> LuceneQuery {
        var clauses: [LuceneQuery.Clause] = []
        var first = true
        while true {
            skipSpace()
            if i >= chars.count || chars[i] == ")" { break }
            var conj = Conj.none
            if !first {
                if !simple && word("AND") { conj = .and; i += 3 }
                else if !simple && word("OR") { conj = .or; i += 2 }
                else if match("&&") { conj = .and }
                else if match("||") { conj = .or }
                else if simple && chars[i] == "|" { conj = .or; i += 1 }
                skipSpace()
                if conj != .none && (i >= chars.count || chars[i] == ")") {
                    if simple { break }
                    throw error("Encountered \"<EOF>\"")
                }
            }
            var mod = Mod.none
            if i < chars.count {
                if chars[i] == "+" { mod = .req; i += 1 }
                else if chars[i] == "-" { mod = .not; i += 1 }
                else if chars[i] == "!" && !simple { mod = .not; i += 1 }
                else if !simple && word("NOT") { mod = .not; i += 3 }
            }
            skipSpace()
            let q = try parseClause()
            let isFirst = clauses.isEmpty
            if !isFirst && conj == .and, clauses[clauses.count - 1].occur != .mustNot { clauses[clauses.count - 1].occur = .must }
            if !isFirst && defaultAnd && conj == .or, clauses[clauses.count - 1].occur != .mustNot { clauses[clauses.count - 1].occur = .should }
            let occur: LuceneQuery.Occur
            if mod == .not {
                occur = .mustNot
            } else if !defaultAnd {
                occur = mod == .req || conj == .and ? .must : .should
            } else {
                occur = conj == .or ? .should : .must
            }
            clauses.append(.init(occur: occur, query: q))
            first = false
        }
        if clauses.count == 1 && clauses[0].occur != .mustNot { return clauses[0].query }
        return .boolean(clauses)
    }

    mutating func match(_ s: String) -> Bool {
        let end = i + s.count
        guard end <= chars.count, String(chars[i..<end]) == s else { return false }
        i = end
        return true
    }

    mutating func parseClause() throws(QueryDSLError) -> LuceneQuery {
        guard i < chars.count else { throw error("Encountered \"<EOF>\"") }
        var field: String?
        // A field name: a term followed by ':' (not in simple syntax).
        if !simple, chars[i] != "(", chars[i] != "\"", chars[i] != "/", chars[i] != "[", chars[i] != "{" {
            let save = i
            let (name, _) = readTerm()
            if !name.isEmpty, i < chars.count, chars[i] == ":" {
                i += 1
                field = name
                skipSpace()
            } else {
                i = save
            }
        }
        guard i < chars.count else { throw error("Encountered \"<EOF>\"") }
        if chars[i] == "(" {
            let open = i
            i += 1
            depth += 1
            defer { depth -= 1 }
            if depth > LuceneParser.maxDepth { throw error("groups nested more than \(LuceneParser.maxDepth) deep", at: open) }
            let inner = try parseQuery(defaultAnd: false)
            guard i < chars.count, chars[i] == ")" else {
                if simple { return inner }
                throw error("Encountered \"<EOF>\" (the \"(\" at column \(open + 1) is not closed)")
            }
            i += 1
            return .group(field: field, inner, boost: try readBoost())
        }
        if field == "_exists_" {
            let (name, _) = readTerm()
            guard !name.isEmpty else { throw error("_exists_ needs a field name") }
            return .leaf(field: name, .exists, boost: try readBoost())
        }
        let term = try readValue()
        return .leaf(field: field, term, boost: try readBoost())
    }

    mutating func readBoost() throws(QueryDSLError) -> Double {
        guard i < chars.count, chars[i] == "^" else { return 1 }
        i += 1
        let start = i
        while i < chars.count && (chars[i].isNumber || chars[i] == ".") { i += 1 }
        guard let b = Double(String(chars[start..<i])) else {
            if simple { return 1 }
            throw error("Encountered \"^\" without a number")
        }
        return b
    }

    mutating func readValue() throws(QueryDSLError) -> LuceneTerm {
        let c = chars[i]
        if c == "\"" {
            let open = i
            i += 1
            var text = ""
            while i < chars.count && chars[i] != "\"" {
                if chars[i] == "\\" && i + 1 < chars.count { i += 1 }
                text.append(chars[i])
                i += 1
            }
            guard i < chars.count else {
                if simple { return .phrase(text, slop: 0) }
                throw error("Lexical error: the phrase starting at column \(open + 1) is not closed", at: open)
            }
            i += 1
            var slop = 0
            if i < chars.count && chars[i] == "~" {
                i += 1
                let start = i
                while i < chars.count && chars[i].isNumber { i += 1 }
                slop = Int(String(chars[start..<i])) ?? 0
            }
            return .phrase(text, slop: slop)
        }
        if !simple && c == "/" {
            let open = i
            i += 1
            var text = ""
            while i < chars.count && chars[i] != "/" {
                if chars[i] == "\\" && i + 1 < chars.count && chars[i + 1] == "/" { i += 1 }
                text.append(chars[i])
                i += 1
            }
            guard i < chars.count else { throw error("Lexical error: the regular expression starting at column \(open + 1) is not closed", at: open) }
            i += 1
            return .regex(text)
        }
        if !simple && (c == "[" || c == "{") {
            let includeLower = c == "["
            i += 1
            skipSpace()
            let lo = try readEndpoint()
            skipSpace()
            guard match("TO") else { throw error("Encountered a range without \"TO\"") }
            skipSpace()
            let hi = try readEndpoint()
            skipSpace()
            guard i < chars.count, chars[i] == "]" || chars[i] == "}" else { throw error("Encountered an unclosed range") }
            let includeUpper = chars[i] == "]"
            i += 1
            return .range(lower: lo, upper: hi, includeLower: includeLower, includeUpper: includeUpper)
        }
        if !simple && (c == ">" || c == "<") {
            i += 1
            let inclusive = i < chars.count && chars[i] == "="
            if inclusive { i += 1 }
            let (v, _) = readTerm()
            guard !v.isEmpty else { throw error("Encountered a comparison without a value") }
            return c == ">" ? .range(lower: v, upper: nil, includeLower: inclusive, includeUpper: false)
                : .range(lower: nil, upper: v, includeLower: false, includeUpper: inclusive)
        }
        let (text, wildcard) = readTerm()
        guard !text.isEmpty || wildcard else {
            if simple {
                i += 1
                return .term(String(c), wildcard: false)
            }
            throw error("Encountered \"\(c)\"")
        }
        if i < chars.count && chars[i] == "~" {
            i += 1
            while i < chars.count && (chars[i].isNumber || chars[i] == ".") { i += 1 }
            return simple ? .term(text, wildcard: wildcard) : .fuzzy(text)
        }
        return .term(text, wildcard: wildcard)
    }

    /// A run of term characters with escapes removed, and whether an unescaped `*` or `?` was
    /// in it; a wildcard term comes back as a Lucene wildcard (a literal `*`, `?` or `\\`
    /// escaped with `\\`).
    mutating func readTerm(inRange: Bool = false) -> (String, Bool) {
        var text = ""
        var pattern = ""
        var wildcard = false
        let start = i
        while i < chars.count {
            let c = chars[i]
            if c == "\\" && i + 1 < chars.count {
                let n = chars[i + 1]
                text.append(n)
                if n == "*" || n == "?" || n == "\\" { pattern.append("\\") }
                pattern.append(n)
                i += 2
                continue
            }
            if c.isWhitespace { break }
            if inRange {
                if c == "]" || c == "}" { break }
            } else if simple {
                if "|\"()~".contains(c) || (c == "+" && i == start) { break }
            } else if "()[]{}^\"~:/!".contains(c) {
                break
            }
            if c == "*" || c == "?" { wildcard = true }
            text.append(c)
            pattern.append(c)
            i += 1
        }
        if wildcard && !inRange { text = pattern }
        return (text, wildcard)
    }

    /// One end of `[a TO b]`: a term or a quoted string (which may hold spaces and `]`);
    /// nil for an open end (`*`).
    mutating func readEndpoint() throws(QueryDSLError) -> String? {
        guard i < chars.count, chars[i] == "\"" else {
            let (text, _) = readTerm(inRange: true)
            return text == "*" ? nil : text
        }
        let open = i
        i += 1
        var text = ""
        while i < chars.count, chars[i] != "\"" {
            if chars[i] == "\\", i + 1 < chars.count { i += 1 }
            text.append(chars[i])
            i += 1
        }
        guard i < chars.count else { throw error("Lexical error: unterminated quoted range bound", at: open) }
        i += 1
        return text
    }
}
