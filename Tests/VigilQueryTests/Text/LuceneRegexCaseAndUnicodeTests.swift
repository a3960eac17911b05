@testable import VigilQuery
import Testing

/// Lucene 10 case-insensitive matching (CASE_INSENSITIVE; ASCII_CASE_INSENSITIVE now behaves the same).
@Test(arguments: [
    RegexCase("hello", "HeLLo", true), RegexCase("QUICK", "quick", true), RegexCase("A", "a", true),
    RegexCase("\"QuOtEd\"", "quoted", true), RegexCase("[abc]", "B", true), RegexCase("[^a]", "A", false), RegexCase("[^a]", "b", true),
    // Ranges do not fold (Elasticsearch does not set CASE_INSENSITIVE_RANGE).
    RegexCase("[a-c]", "B", false), RegexCase("[a-c]", "b", true),
    // Escaped characters inside a class do not fold; outside they do.
    RegexCase("[\\é]", "É", false), RegexCase("[é]", "É", true), RegexCase("\\é", "É", true),
    // Predefined classes are what they are.
    RegexCase("\\w", "é", false),
    // Unicode simple folding plus Lucene's extra fold classes.
    RegexCase("Σ", "σ", true), RegexCase("Σ", "ς", true), RegexCase("σ", "ς", true), RegexCase("ς", "Σ", true),
    RegexCase("k", "\u{212A}", true), RegexCase("[k]", "\u{212A}", true), RegexCase("\u{212A}", "k", true), RegexCase("K", "\u{212A}", true),
    RegexCase("s", "ſ", true), RegexCase("ſ", "S", true), RegexCase("ß", "ẞ", true), RegexCase("straße", "STRASSE", false),
    RegexCase("ǅ", "ǆ", true), RegexCase("ǅ", "Ǆ", true), RegexCase("µ", "μ", true), RegexCase("µ", "Μ", true),
    RegexCase("ῼ", "ῳ", true), RegexCase("ῼ", "ΩΙ", false), RegexCase("ᾳ", "ᾼ", true), RegexCase("ﬗ", "ՄԽ", false),
    RegexCase("é", "É", true), RegexCase("straße", "STRAßE", true), RegexCase("ＡＢ", "ａｂ", true), RegexCase("Ꭰ", "ꭰ", true),
    // Not symmetric, as in Lucene: İ → i, but i → {i, I}.
    RegexCase("İ", "i", true), RegexCase("İ", "I", false), RegexCase("i", "İ", false), RegexCase("I", "ı", false), RegexCase("ı", "I", true),
    RegexCase("\\d", "٣", false),
])
func caseInsensitive(_ c: RegexCase) throws { try checkRegex(c, caseInsensitive: true) }

@Test func caseSensitiveByDefault() throws {
    #expect(try LuceneRegex("A").matches("a") == false)
    #expect(try LuceneRegex("Σ").matches("σ") == false)
    #expect(try LuceneRegex("k").matches("\u{212A}") == false)
}

/// Bytes and String agree, also on invalid UTF-8 (each maximal ill-formed subsequence reads as one U+FFFD).
@Test func invalidUTF8ReadsAsReplacementCharacters() throws {
    let samples: [[UInt8]] = [
        [0x61, 0xFF, 0x62], [0xC0, 0xAF], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
        [0xF0, 0x9F, 0x98], [0xE2, 0x82], [0x80], [0xC3], [0xF0, 0x9F, 0x98, 0x80], [0xE2, 0x82, 0xAC],
    ]
    for bytes in samples {
        let decoded = String(decoding: bytes, as: UTF8.self)
        let count = decoded.unicodeScalars.count
        for k in 0...5 {
            let regex = try LuceneRegex(".{\(k)}")
            #expect(regex.matches(utf8: bytes) == (k == count), "\(bytes) as \(k) scalars")
        }
        let replacements = decoded.unicodeScalars.filter { $0 == "\u{FFFD}" }.count
        let onlyReplacements = try LuceneRegex("[^\u{FFFD}]*(\u{FFFD}[^\u{FFFD}]*){\(replacements)}")
        #expect(onlyReplacements.matches(utf8: bytes), "\(bytes)")
    }
    #expect(try LuceneRegex("a\u{FFFD}b").matches(utf8: [0x61, 0xFF, 0x62]))
}

/// A byte-level property: random byte strings give the same answer as their repaired String.
@Test func bytesAgreeWithRepairedStrings() throws {
    var rng = RegexRNG(seed: 7)
    let palette: [[UInt8]] = [
        [0x61], [0x62], [0x80], [0xBF], [0xC2], [0xC3, 0xA9], [0xE0], [0xE0, 0xA0], [0xED, 0xA0], [0xE2, 0x82, 0xAC],
        [0xF0], [0xF0, 0x90], [0xF0, 0x90, 0x80], [0xF0, 0x9F, 0x98, 0x80], [0xF4, 0x90], [0xF5], [0xFF], [0xC0],
    ]
    let patterns = try ["(a|b|é)*", ".{3}", ".{4,6}", "[^a]*", "a.*b", "\u{FFFD}+", "(.\u{FFFD})*", "[a-\u{10FFFF}]+"]
        .map { try LuceneRegex($0) }
    for _ in 0..<3_000 {
        var bytes: [UInt8] = []
        for _ in 0..<Int(rng.next() % 7) { bytes += palette[Int(rng.next() % UInt64(palette.count))] }
        let repaired = String(decoding: bytes, as: UTF8.self)
        for regex in patterns {
            #expect(regex.matches(utf8: bytes) == regex.matches(repaired), "\(regex.pattern) on \(bytes)")
        }
    }
}
