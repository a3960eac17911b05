@testable import VigilQuery
import Testing

/// A pattern Lucene rejects, its exact message, and the position field.
struct BadPattern: CustomTestStringConvertible, Sendable {
    let pattern: String
    let message: String
    let position: Int?
    let flags: LuceneRegex.Flags
    init(_ pattern: String, _ message: String, _ position: Int? = nil, flags: LuceneRegex.Flags = .all) {
        self.pattern = pattern
        self.message = message
        self.position = position
        self.flags = flags
    }
    var testDescription: String { "/\(pattern)/ → \(message)" }
}

@Test(arguments: [
    BadPattern("(abcd", "expected ')' at position 5", 5),
    BadPattern("((a)", "expected ')' at position 4", 4),
    BadPattern("(a|)+b", "expected ')' at position 6", 6),  // ')' after '|' is a literal operand
    BadPattern("[abc", "expected ']' at position 4", 4),
    BadPattern("[]", "expected ']' at position 2", 2),
    BadPattern("\"abc", "expected '\"' at position 4", 4),
    BadPattern("a{2", "expected '}' at position 3", 3),
    BadPattern("a{2,5", "expected '}' at position 5", 5),
    BadPattern("a{", "integer expected at position 2", 2),
    BadPattern("a{,3}", "integer expected at position 2", 2),
    BadPattern("a{3,1}", "invalid repetition range(out of order): 3..1", 5),
    BadPattern("a{99,11}", "invalid repetition range(out of order): 99..11", 7),
    BadPattern("a{99999999999}", "For input string: \"99999999999\"", 2),
    BadPattern("a)", "end-of-string expected at position 1", 1),
    BadPattern("a)b", "end-of-string expected at position 1", 1),
    BadPattern("a|", "unexpected end-of-string", 2),
    BadPattern("\\", "unexpected end-of-string", 1),
    BadPattern("[", "unexpected end-of-string", 1),
    BadPattern("a~", "unexpected end-of-string", 2),
    BadPattern("a&", "unexpected end-of-string", 2),
    BadPattern("[a-", "unexpected end-of-string", 3),
    BadPattern("[z-a]", "invalid range: from (122) cannot be > to (97)"),
    BadPattern("[a-\\]]", "invalid range: from (97) cannot be > to (93)"),
    BadPattern("[a-]", "invalid range: from (97) cannot be > to (93)"),
    BadPattern("[z-a", "invalid range: from (122) cannot be > to (97)"),  // before the missing ']'
    BadPattern("\\q", "invalid character class \\113", 1),
    BadPattern("[\\a]", "invalid character class \\97", 2),
    BadPattern("<1-2", "expected '>' at position 4", 4),
    BadPattern("<abc>", "'abc' not found"),
    BadPattern("<abc>", "interval syntax error at position 4", 4, flags: .interval),
    BadPattern("<1-2>", "illegal identifier at position 4", 4, flags: .automaton),
    BadPattern("<1-a>", "interval syntax error at position 4", 4),
    BadPattern("<-2>", "interval syntax error at position 3", 3),
    BadPattern("<1->", "interval syntax error at position 3", 3),
    BadPattern("<1-2-3>", "interval syntax error at position 6", 6),
    BadPattern("<1-99999999999>", "interval syntax error at position 14", 14),
    // Positions count UTF-16 code units, as Java does: 𝄞 is two.
    BadPattern("𝄞(x", "expected ')' at position 4", 4),
    BadPattern("𝄞(", "unexpected end-of-string", 3),
    BadPattern("é(x", "expected ')' at position 3", 3),
])
func luceneParseErrors(_ bad: BadPattern) {
    do {
        _ = try LuceneRegex(bad.pattern, flags: bad.flags)
        Issue.record("\(bad.pattern) compiled")
    } catch {
        #expect(error.kind == .syntax)
        #expect(error.message == bad.message)
        if let position = bad.position { #expect(error.position == position) }
        #expect(error.elasticsearchType == "illegal_argument_exception")
    }
}

/// Lucene's TestRegExp.testIllegalBackslashChars / testLegalBackslashChars.
@Test func backslashBeforeLetters() throws {
    for c in "abcefghijklmnopqrtuvxyzABCEFGHIJKLMNOPQRTUVXYZ" {
        #expect(throws: LuceneRegexError.self) { try LuceneRegex("\\\(c)") }
        do { _ = try LuceneRegex("\\\(c)") } catch { #expect(error.message.contains("invalid character class")) }
    }
    for c in "dDsSWw0123456789[]*&^$@!{}\\/" {
        _ = try LuceneRegex("\\\(c)")
    }
}

@Test func groupNestingIsBoundedWithoutRecursion() throws {
    let depth = 500
    let ok = String(repeating: "(", count: depth) + "a" + String(repeating: ")", count: depth)
    #expect(try LuceneRegex(ok).matches("a"))
    for tooDeep in [501, 1_000, 100_000] {
        let pattern = String(repeating: "(", count: tooDeep) + "a" + String(repeating: ")", count: tooDeep)
        #expect(throws: LuceneRegexError.self) { try LuceneRegex(pattern) }
    }
    do {
        _ = try LuceneRegex(String(repeating: "(", count: 1_000))
    } catch {
        #expect(error.message == "too many nested groups (more than 500) at position 500")
    }
    // Long flat chains stay iterative too (Lucene's testRegExpNoStackOverflow).
    let unions = String(repeating: "(a)|", count: 50_000) + "(a)"
    #expect(try LuceneRegex(unions).matches("a"))
    #expect(try LuceneRegex(String(repeating: "~", count: 100_001) + "a").matches("a") == false)
    #expect(try LuceneRegex("a" + String(repeating: "?*+", count: 20_000)).matches("aaa"))
}
