@testable import VigilQuery
import Testing

/// A pattern, an input, and whether the input matches (the whole value, as in Lucene).
struct RegexCase: CustomTestStringConvertible, Sendable {
    let pattern: String
    let input: String
    let expected: Bool
    init(_ pattern: String, _ input: String, _ expected: Bool) {
        self.pattern = pattern
        self.input = input
        self.expected = expected
    }
    var testDescription: String { "/\(pattern)/ \(expected ? "matches" : "rejects") \"\(input)\"" }
}

func checkRegex(_ c: RegexCase, flags: LuceneRegex.Flags = .all, caseInsensitive: Bool = false) throws {
    let regex = try LuceneRegex(c.pattern, flags: flags, caseInsensitive: caseInsensitive)
    #expect(regex.matches(c.input) == c.expected, "\(c.testDescription)")
    let viaBytes = Array(c.input.utf8).withUnsafeBufferPointer { regex.matches(utf8: $0) }
    #expect(viaBytes == c.expected, "bytes: \(c.testDescription)")
}

/// The examples of Elasticsearch's "Regular expression syntax" reference page.
@Test(arguments: [
    // Anchoring: patterns always match the whole string.
    RegexCase("ab.*", "abcde", true), RegexCase("abcd", "abcde", false),
    RegexCase("ab...", "abcde", true), RegexCase("a.c.e", "abcde", true),
    RegexCase("ab.", "aba", true), RegexCase("ab.", "abz", true), RegexCase("ab.", "ab", false),
    RegexCase("abc?", "ab", true), RegexCase("abc?", "abc", true), RegexCase("abc?", "abcc", false),
    RegexCase("ab+", "ab", true), RegexCase("ab+", "abbb", true), RegexCase("ab+", "a", false),
    RegexCase("ab*", "a", true), RegexCase("ab*", "abbb", true),
    RegexCase("a{2}", "aa", true), RegexCase("a{2}", "a", false), RegexCase("a{2}", "aaa", false),
    RegexCase("a{2,4}", "aaaa", true), RegexCase("a{2,4}", "aaaaa", false), RegexCase("a{2,}", "aaaaaaa", true),
    RegexCase("abc|xyz", "abc", true), RegexCase("abc|xyz", "xyz", true), RegexCase("abc|xyz", "abcxyz", false),
    RegexCase("abc(def)?", "abc", true), RegexCase("abc(def)?", "abcdef", true), RegexCase("abc(def)?", "abcd", false),
    RegexCase("[abc]", "a", true), RegexCase("[abc]", "d", false),
    RegexCase("[-abc]", "-", true), RegexCase("[abc\\-]", "-", true),
    RegexCase("[a-c]", "b", true), RegexCase("[a-c]", "d", false),
    RegexCase("[^abc]", "d", true), RegexCase("[^abc]", "a", false), RegexCase("[^abc]", "", false),
    RegexCase("[^a-c]", "z", true), RegexCase("[^a-c]", "b", false), RegexCase("[^-abc]", "-", false),
    // Reserved characters escaped with a backslash or quoted.
    RegexCase("\\@", "@", true), RegexCase("\\\\", "\\", true), RegexCase("\"john@smith.com\"", "john@smith.com", true),
    RegexCase("john\"@smith.com\"", "john@smith.com", true), RegexCase("a\\\\.*", "a\\b", true),
    // Optional operators.
    RegexCase("a~bc", "adc", true), RegexCase("a~bc", "aec", true), RegexCase("a~bc", "abc", false),
    RegexCase("foo<1-100>", "foo1", true), RegexCase("foo<1-100>", "foo99", true), RegexCase("foo<1-100>", "foo100", true),
    RegexCase("foo<1-100>", "foo101", false), RegexCase("foo<1-100>", "foo0", false),
    RegexCase("foo<01-100>", "foo01", true), RegexCase("foo<01-100>", "foo100", true),
    RegexCase("aaa.+&.+bbb", "aaabbb", true), RegexCase("aaa.+&.+bbb", "aaabb", false),
    RegexCase("@&~(abc.+)", "abcd", false), RegexCase("@&~(abc.+)", "abc", true), RegexCase("@&~(abc.+)", "xyz", true),
])
func elasticsearchReferenceExamples(_ c: RegexCase) throws { try checkRegex(c) }

/// Facts from Lucene's RegExp grammar and TestRegExp (Lucene 10).
@Test(arguments: [
    RegexCase("a(b+|c+)d", "abbbbbd", true), RegexCase("a(b+|c+)d", "acd", true), RegexCase("a(b+|c+)d", "ad", false),
    // ^ and $ are ordinary characters.
    RegexCase("^abc$", "^abc$", true), RegexCase("^abc$", "abc", false), RegexCase("(a+)+$", "aaa$", true),
    // A reserved character where an operand is expected is a literal.
    RegexCase("*a", "*a", true), RegexCase("+", "+", true), RegexCase("{", "{", true), RegexCase(")", ")", true),
    RegexCase("]", "]", true), RegexCase("(|a)", "|a", true), RegexCase("a||b", "|b", true), RegexCase("a||b", "b", false),
    RegexCase("[]a]", "]", true), RegexCase("[]a]", "a", true), RegexCase("[[]", "[", true),
    // Empty pattern and empty group are the empty string.
    RegexCase("", "", true), RegexCase("", "a", false), RegexCase("()", "", true), RegexCase("a()b", "ab", true),
    RegexCase("\"\"", "", true),
    // Predefined classes.
    RegexCase("\\d", "7", true), RegexCase("\\d", "a", false), RegexCase("\\D", "a", true), RegexCase("\\D", "٣", true),
    RegexCase("\\s", "\t", true), RegexCase("\\s", "\n", true), RegexCase("\\s", "\r", true), RegexCase("\\s", " ", true),
    RegexCase("\\s", "\u{0B}", false), RegexCase("\\S", "x", true), RegexCase("\\S", " ", false),
    RegexCase("\\w+", "a_Z9", true), RegexCase("\\w", "é", false), RegexCase("\\W", "-", true), RegexCase("\\W", "_", false),
    RegexCase("\\d{2,3}", "123", true), RegexCase("x{2,}", "xxxx", true),
    // Lucene 10 classes: '-' after a predefined class or an escaped character is a literal.
    RegexCase("[\\d-z]", "-", true), RegexCase("[\\d-z]", "5", true), RegexCase("[\\d-z]", "m", false),
    RegexCase("[\\.-z]", "-", true), RegexCase("[\\.-z]", "m", false),
    RegexCase("[\\\\]", "\\", true), RegexCase("[a\\]b]", "]", true),
    // Escapes that Lucene allows.
    RegexCase("\\0", "0", true), RegexCase("\\[", "[", true), RegexCase("\\*", "*", true), RegexCase("\\&", "&", true),
    RegexCase("\\^", "^", true), RegexCase("\\$", "$", true), RegexCase("\\!", "!", true), RegexCase("\\/", "/", true),
    // `.` is any code point, including astral ones and newlines.
    RegexCase("..", "é😀", true), RegexCase(".", "\n", true), RegexCase(".", "😀", true), RegexCase(".", "ab", false),
    RegexCase("[😀-😂]", "😁", true), RegexCase("[^😀]", "😀", false),
    // Intervals: equal widths fix the length; otherwise leading zeros are free.
    RegexCase("<1-100>", "0042", true), RegexCase("<01-10>", "07", true), RegexCase("<01-10>", "7", false),
    RegexCase("<10-1>", "5", true), RegexCase("<0-0>", "0", true), RegexCase("<0-0>", "000", false), RegexCase("<0-10>", "000", true), RegexCase("<5-5>", "5", true), RegexCase("<5-5>", "6", false),
    RegexCase("<0-2147483647>", "2147483647", true), RegexCase("<0-2147483647>", "2147483648", false),
    // Empty language and any string.
    RegexCase("#", "", false), RegexCase("a|#", "a", true), RegexCase("#*", "", true), RegexCase("#+", "", false),
    RegexCase("#?", "", true), RegexCase("#{2,10}", "", false), RegexCase("[^y]*{1,2}", "xx", true),
    RegexCase("@", "", true), RegexCase("@", "anything", true), RegexCase("@&~(a.*)", "ba", true), RegexCase("@&~(a.*)", "ab", false),
    // Complement binds to the shortest following operand; quantifiers apply to the complement.
    RegexCase("~(abcd)", "abcd", false), RegexCase("~(abcd)", "abc", true), RegexCase("~(abcd)", "", true),
    RegexCase("~a", "b", true), RegexCase("~a", "a", false), RegexCase("~a", "aa", true), RegexCase("~~a", "a", true),
    RegexCase("~a*", "aaa", true), RegexCase("~[a-z]", "a", false), RegexCase("~[a-z]", "ab", true),
    // Intersection binds looser than concatenation and tighter than union.
    RegexCase("ab&ab|c", "c", true), RegexCase("a.&.b", "ab", true), RegexCase("a.&.b", "aa", false),
    RegexCase("(a|b)+&(.*a.*)&(.*b.*)", "ab", true), RegexCase("(a|b)+&(.*a.*)&(.*b.*)", "aa", false),
    // Repetition corner cases.
    RegexCase("a{0}", "", true), RegexCase("a{0}", "a", false), RegexCase("a{0,0}", "", true), RegexCase("(ab){2,3}", "ababab", true),
    RegexCase("(ab){2,3}", "ab", false), RegexCase("(a?){3}", "aa", true), RegexCase("(a*){2,}", "", true),
    RegexCase("a+?", "", true), RegexCase("a?+", "aaa", true), RegexCase("a++", "aa", true), RegexCase("a??", "aa", false),
])
func luceneSemantics(_ c: RegexCase) throws { try checkRegex(c) }

@Test(arguments: [
    // With no optional operator every operator character is a literal.
    RegexCase("a&b", "a&b", true), RegexCase("#", "#", true), RegexCase("@", "@", true), RegexCase("~a", "~a", true),
    RegexCase("<1-5>", "<1-5>", true), RegexCase("<abc>", "<abc>", true),
])
func noOptionalOperators(_ c: RegexCase) throws { try checkRegex(c, flags: .none) }

@Test func eachFlagEnablesOnlyItsOperator() throws {
    #expect(try LuceneRegex("a&b", flags: .intersection).matches("a") == false)
    #expect(try LuceneRegex("a.&.b", flags: .intersection).matches("ab"))
    #expect(try LuceneRegex("a.&.b", flags: .complement).matches("a.&.b"))
    #expect(try LuceneRegex("~a", flags: .complement).matches("b"))
    #expect(try LuceneRegex("~a", flags: .intersection).matches("~a"))
    #expect(try LuceneRegex("a|#", flags: .empty).matches("#") == false)
    #expect(try LuceneRegex("a|#", flags: .anyString).matches("#"))
    #expect(try LuceneRegex("x@", flags: .anyString).matches("xyz"))
    #expect(try LuceneRegex("x@", flags: .empty).matches("x@"))
    #expect(try LuceneRegex("<1-3>", flags: .interval).matches("2"))
    #expect(try LuceneRegex("<1-3>", flags: .anyString).matches("<1-3>"))
    // Elasticsearch's `flags: ""` is Lucene's RegExp.ALL, which has no complement in Lucene 10.
    let allButComplement = try LuceneRegex.parseFlags("")
    #expect(try LuceneRegex("~a", flags: allButComplement).matches("~a"))
    #expect(try LuceneRegex("@&a", flags: allButComplement).matches("a"))
}

@Test func elasticsearchFlagsString() throws {
    #expect(try LuceneRegex.parseFlags("ALL") == .all)
    #expect(try LuceneRegex.parseFlags("all") == .all)
    #expect(try LuceneRegex.parseFlags("") == LuceneRegex.Flags(rawValue: 0xFF))
    #expect(try LuceneRegex.parseFlags("NONE") == [])
    #expect(try LuceneRegex.parseFlags("INTERSECTION|COMPLEMENT|EMPTY") == [.intersection, .complement, .empty])
    #expect(try LuceneRegex.parseFlags("anystring|Interval") == [.anyString, .interval])
    #expect(try LuceneRegex.parseFlags("NONE|INTERVAL") == [.interval])
    #expect(try LuceneRegex.parseFlags("EMPTY||ANYSTRING|") == [.empty, .anyString])
    // Elasticsearch returns at ALL without looking further.
    #expect(try LuceneRegex.parseFlags("ALL|BOGUS") == .all)
    for bad in ["BOGUS", "AUTOMATON", "EMPTY|nope", " EMPTY"] {
        #expect(throws: LuceneRegexError.self) { try LuceneRegex.parseFlags(bad) }
    }
    do {
        _ = try LuceneRegex.parseFlags("EMPTY|nope")
    } catch {
        #expect(error.message == "Unknown regexp flag [nope]")
        #expect(error.kind == .syntax)
    }
    // flags_value bits are Elasticsearch's; unknown bits are masked away.
    #expect(try LuceneRegex("a&b", flags: .init(rawValue: 0x7FFF_0000)).matches("a&b"))
}

@Test func matchAllAndMatchNone() throws {
    #expect(try LuceneRegex("#").matchesNothing)
    #expect(try LuceneRegex("a&b").matchesNothing)
    #expect(try LuceneRegex(".*").matchesEverything)
    #expect(try LuceneRegex("@").matchesEverything)
    #expect(try LuceneRegex("~#").matchesEverything)
    #expect(try LuceneRegex("a.*").matchesEverything == false)
    #expect(try LuceneRegex("a.*").matchesNothing == false)
}
