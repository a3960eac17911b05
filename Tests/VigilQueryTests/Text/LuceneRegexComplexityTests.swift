@testable import VigilQuery
import Testing

/// Patterns that make backtracking engines take exponential time; a DFA answers in one pass.
/// Arguments: pattern, whether it matches 10,000 a's then "b", whether it matches 10,000 a's.
@Test(arguments: [
    ("(a+)+$", false, false), ("(a+)+", false, true), ("(a|aa)*b", true, false), ("(a|a)*", false, true),
    ("(a*)*b", true, false), ("((a+)+)+b", true, false), ("(a|aa|aaa)+c", false, false), ("(.*a){20}", false, true),
    ("(x+x+)+y", false, false), ("(a?){30}a{30}", false, false), ("(\\w+\\s?)+z", false, false),
    ("([a-z]+)*[0-9]", false, false), ("(a|a?)+b", true, false), ("(.*){1,30}[bc]", true, false),
])
func catastrophicBacktrackingPatterns(_ pattern: String, _ withB: Bool, _ allA: Bool) throws {
    let regex = try LuceneRegex(pattern)
    let a = String(repeating: "a", count: 10_000)
    #expect(regex.matches(a + "b") == withB)
    #expect(regex.matches(a) == allA)
}

@Test func dollarIsALiteral() throws {
    #expect(try LuceneRegex("(a+)+$").matches(String(repeating: "a", count: 10_000) + "$"))
}

@Test func longInputsAreOnePass() throws {
    let regex = try LuceneRegex("(.*[0-9]){3}.*")
    let big = String(repeating: "x", count: 1_000_000) + "1x2y3"
    #expect(regex.matches(big))
    #expect(regex.matches(String(repeating: "x", count: 1_000_000)) == false)
    let bytes = [UInt8](repeating: 0xFF, count: 1_000_000)
    #expect(try LuceneRegex("\u{FFFD}*").matches(utf8: bytes))
}

@Test func determinizationLimit() throws {
    // (a|b)*a(a|b){n} needs 2^(n+1) DFA states.
    do {
        _ = try LuceneRegex("(a|b)*a(a|b){20}")
        Issue.record("compiled")
    } catch {
        #expect(error.kind == .tooComplex)
        #expect(error.elasticsearchType == "too_complex_to_determinize_exception")
        #expect(error.message.hasPrefix("Determinizing automaton with "))
        #expect(error.message.hasSuffix(" transitions would require more than 10000 effort."))
        #expect(error.message.contains(" states and "))
    }
    let small = try LuceneRegex("(a|b)*a(a|b){5}")
    #expect(small.matches("bbbbabbbbb"))
    #expect(small.matches("bbbbbabbbb") == false)
    // max_determinized_states is the limit the message reports, and raising it admits bigger DFAs.
    do {
        _ = try LuceneRegex("(a|b)*a(a|b){8}", maxDeterminizedStates: 100)
        Issue.record("compiled")
    } catch {
        #expect(error.message.hasSuffix("would require more than 100 effort."))
    }
    let big = try LuceneRegex("(a|b)*a(a|b){12}", maxDeterminizedStates: 100_000)
    #expect(big.stateCount > 8_000)
    #expect(big.matches("ba" + String(repeating: "b", count: 12)))
    #expect(big.matches("ab" + String(repeating: "b", count: 12)) == false)
}

@Test func complementHasLucenesFixedLimit() throws {
    // Lucene 10 determinizes `~` within its default limit, whatever max_determinized_states says.
    #expect(throws: LuceneRegexError.self) {
        try LuceneRegex("~((a|b)*a(a|b){20})", maxDeterminizedStates: 10_000_000)
    }
    let notSixthFromLastA = try LuceneRegex("~((a|b)*a(a|b){5})", maxDeterminizedStates: 1)
    #expect(notSixthFromLastA.matches("abbbbbb"))
    #expect(notSixthFromLastA.matches("babbbbb") == false)
}

@Test(arguments: [
    "a{1000000}", "a{0,2147483647}", "(a{1000}){1000}", "((a{100}){100}){100}", "[a-z]{2000000}",
    "(abc){99999}", "a{1000}{1000}{1000}", ".{0,100000}x.{0,100000}",
])
func hugeRepetitionsFailFast(_ pattern: String) {
    do {
        _ = try LuceneRegex(pattern)
        Issue.record("compiled")
    } catch {
        #expect(error.kind == .tooComplex)
    }
}

@Test func boundedRepetitionsWithinTheLimit() throws {
    let regex = try LuceneRegex("a{1000}")
    #expect(regex.matches(String(repeating: "a", count: 1000)))
    #expect(regex.matches(String(repeating: "a", count: 999)) == false)
    let range = try LuceneRegex("[0-9]{2,4}-x{0,3000}")
    #expect(range.matches("123-" + String(repeating: "x", count: 3000)))
    #expect(range.matches("123-" + String(repeating: "x", count: 3001)) == false)
}

/// Any pattern up to 64 KB compiles or fails within bounded time and memory.
@Test(arguments: [
    String(repeating: "a", count: 65_536),
    String(repeating: "a?", count: 32_768),
    String(repeating: "[a-z]*", count: 10_000),
    String(repeating: "(ab|cd)", count: 9_000),
    String(repeating: ".*", count: 32_768),
    String(repeating: "x|", count: 32_000) + "x",
    String(repeating: "(a|b)*", count: 10_000) + "c",
    String(repeating: "~", count: 65_535) + "a",
    String(repeating: "[^a]", count: 16_000),
    (0..<4_000).map { "w\($0)" }.joined(separator: "|"),
])
func largePatternsStayBounded(_ pattern: String) {
    do {
        let regex = try LuceneRegex(pattern)
        _ = regex.matches(String(repeating: "a", count: 100))
    } catch {
        #expect(error.kind == .tooComplex)
    }
}

@Test func largeLiteralAlternationCompiles() throws {
    let words = (0..<4_000).map { "host-\($0).example.com" }
    let regex = try LuceneRegex(words.joined(separator: "|"))
    #expect(regex.matches("host-1234.example.com"))
    #expect(regex.matches("host-4000.example.com") == false)
}

/// Thousands of distinct characters make states × classes too big for a dense table; the sparse rows must agree.
@Test func sparseTableMatchesLikeDense() throws {
    func word(_ k: Int) -> String {
        var s = ""
        s.unicodeScalars.append(Unicode.Scalar(UInt32(0x4E00 + 2 * k))!)
        s.unicodeScalars.append(Unicode.Scalar(UInt32(0x4E00 + 2 * k + 1))!)
        s.unicodeScalars.append(Unicode.Scalar(UInt32(0x4E00 + (7 * k) % 5000))!)
        return s
    }
    let words = (0..<2_500).map(word)
    let regex = try LuceneRegex("(" + words.joined(separator: "|") + ")x?")
    #expect(regex.stateCount * 5_000 > 1 << 22)
    for k in stride(from: 0, to: 2_500, by: 7) {
        #expect(regex.matches(words[k]))
        #expect(regex.matches(words[k] + "x"))
        #expect(regex.matches(words[k] + "y") == false)
        #expect(regex.matches(String(words[k].unicodeScalars.dropLast())) == false)
    }
    #expect(regex.matches("abc") == false)
    #expect(regex.matches("") == false)
}
