import Foundation
import Testing
import VigilJSON
import VigilStore
@testable import VigilQuery

@Suite struct QueryLanguageTests {
    @Test func standardAnalyzerSplitsAsUAX29() {
        #expect(TextAnalyzer.tokens("C:\\Windows\\System32\\regsvr32.exe /s") == ["c", "windows", "system32", "regsvr32", "exe", "s"])
        #expect(TextAnalyzer.tokens("cmd.exe ran 10.1.2.3, don't") == ["cmd.exe", "ran", "10.1.2.3", "don't"])
        #expect(TextAnalyzer.tokens("Ünïcode_Word 1,000") == ["ünïcode_word", "1,000"])
        #expect(TextAnalyzer.tokens("  ") == [])
    }

    @Test func textMatchPhrasesAndSlop() {
        #expect(TextMatch.phrase(["quick", "fox"], slop: 0, prefix: false).matches("the quick fox") == true)
        #expect(TextMatch.phrase(["quick", "fox"], slop: 0, prefix: false).matches("the quick brown fox") == false)
        #expect(TextMatch.phrase(["quick", "fox"], slop: 1, prefix: false).matches("the quick brown fox") == true)
        #expect(TextMatch.phrase(["quick", "br"], slop: 0, prefix: true).matches("the quick brown fox") == true)
        #expect(TextMatch.terms(["a", "b", "c"], minimum: 2).matches("b x c") == true)
        #expect(TextMatch.terms(["a", "b", "c"], minimum: 2).matches("b x") == false)
    }

    @Test func kqlGrammar() throws {
        let q = try KQLParser.parse("process.name : \"bash\" and not user.name : root")
        #expect(q == .and([
            .match(field: "process.name", .value(KQLValue(text: "bash", quoted: true, wildcard: false))),
            .not(.match(field: "user.name", .value(KQLValue(text: "root", quoted: false, wildcard: false)))),
        ]))
        #expect(try KQLParser.parse("destination.port >= 1024") == .range(field: "destination.port", .ge, KQLValue(text: "1024", quoted: false, wildcard: false)))
        #expect(try KQLParser.parse("host.name : web-*") == .match(field: "host.name", .value(KQLValue(text: "web-*", quoted: false, wildcard: true))))
        #expect(try KQLParser.parse("process.parent : { name : sshd }") == .nested(path: "process.parent", .match(field: "name", .value(KQLValue(text: "sshd", quoted: false, wildcard: false)))))
        #expect(try KQLParser.parse("message : hello world OR x:y") == .or([
            .match(field: "message", .value(KQLValue(text: "hello world", quoted: false, wildcard: false))),
            .match(field: "x", .value(KQLValue(text: "y", quoted: false, wildcard: false))),
        ]))
        #expect(try KQLParser.parse("a:(b or c and not d)") == .match(field: "a", .or([
            .value(KQLValue(text: "b", quoted: false, wildcard: false)),
            .and([.value(KQLValue(text: "c", quoted: false, wildcard: false)), .not(.value(KQLValue(text: "d", quoted: false, wildcard: false)))]),
        ])))
        #expect(try KQLParser.parse("path : C\\:\\\\temp\\*") == .match(field: "path", .value(KQLValue(text: "C:\\temp*", quoted: false, wildcard: false))))
        // With a real wildcard the value is a Lucene wildcard: escaped `*`, `?` and `\\` stay escaped.
        #expect(try KQLParser.parse("f : a\\*b?*") == .match(field: "f", .value(KQLValue(text: "a\\*b\\?*", quoted: false, wildcard: true))))
    }

    @Test(arguments: [("a:", 2), ("a : (b or ", 10), ("(a:b", 4), ("a >= *", 5)])
    func kqlErrorsCarryPositions(_ text: String, _ position: Int) {
        #expect(throws: QueryDSLError.self) { try KQLParser.parse(text) }
        do { _ = try KQLParser.parse(text) } catch { #expect(error.position == position, "\(text): \(error.message)") }
    }

    @Test func luceneGrammar() throws {
        #expect(try LuceneQuery.parse("process.name:cmd.exe") == .leaf(field: "process.name", .term("cmd.exe", wildcard: false), boost: 1))
        #expect(try LuceneQuery.parse("a:x AND b:y") == .boolean([
            .init(occur: .must, query: .leaf(field: "a", .term("x", wildcard: false), boost: 1)),
            .init(occur: .must, query: .leaf(field: "b", .term("y", wildcard: false), boost: 1)),
        ]))
        #expect(try LuceneQuery.parse("+a -b c") == .boolean([
            .init(occur: .must, query: .leaf(field: nil, .term("a", wildcard: false), boost: 1)),
            .init(occur: .mustNot, query: .leaf(field: nil, .term("b", wildcard: false), boost: 1)),
            .init(occur: .should, query: .leaf(field: nil, .term("c", wildcard: false), boost: 1)),
        ]))
        #expect(try LuceneQuery.parse("port:[1024 TO *}") == .leaf(field: "port", .range(lower: "1024", upper: nil, includeLower: true, includeUpper: false), boost: 1))
        #expect(try LuceneQuery.parse("t:[2020-01-01T00:00:00Z TO now]") == .leaf(field: "t", .range(lower: "2020-01-01T00:00:00Z", upper: "now", includeLower: true, includeUpper: true), boost: 1))
        #expect(try LuceneQuery.parse("_exists_:dll.name") == .leaf(field: "dll.name", .exists, boost: 1))
        #expect(try LuceneQuery.parse("f:/ab+c/") == .leaf(field: "f", .regex("ab+c"), boost: 1))
        #expect(try LuceneQuery.parse("f:\"a b\"~2^3") == .leaf(field: "f", .phrase("a b", slop: 2), boost: 3))
        // A wildcard term stays a Lucene wildcard: the literal backslash keeps its escape.
        #expect(try LuceneQuery.parse("path:C\\:\\\\x*") == .leaf(field: "path", .term("C:\\\\x*", wildcard: true), boost: 1))
        #expect(try LuceneQuery.parse("f:[\"a b\" TO \"c ]\"}") == .leaf(field: "f", .range(lower: "a b", upper: "c ]", includeLower: true, includeUpper: false), boost: 1))
        #expect(throws: QueryDSLError.self) { try LuceneQuery.parse("f:[\"a TO b]") }
        #expect(throws: QueryDSLError.self) { try LuceneQuery.parse("a:(b OR c") }
        #expect(throws: QueryDSLError.self) { try LuceneQuery.parse("a:\"open") }
        // simple_query_string never fails.
        _ = LuceneQuery.parseSimple("a:(b OR \"c")
    }

    @Test func luceneWildcardEscapes() {
        #expect(QueryDSL.wildcard("a*b?") == .wildcard("a*b?"))
        #expect(QueryDSL.wildcard("a\\*b") == .exact("a*b"))
        let p = Pattern(QueryDSL.wildcard("C:\\\\x\\*?*"), insensitive: false)
        #expect(PatternMatcher.matches(p, "C:\\x*1.exe"))
        #expect(!PatternMatcher.matches(p, "C:\\xy1.exe"))
        #expect(!PatternMatcher.matches(p, "C:\\x*"))
    }

    /// The ASCII byte path of wildcard, exact and prefix matching answers as the character
    /// path does, with and without case folding.
    @Test func bytePatternsAgreeWithCharacters() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("aAbB*?.\\-")
        func random(_ n: Int) -> String { String((0..<Int.random(in: 0...n, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }) }
        for _ in 0..<3000 {
            let text = random(8).replacingOccurrences(of: "*", with: "x").replacingOccurrences(of: "?", with: "y")
            let pattern = random(6)
            for insensitive in [false, true] {
                let t = Array((insensitive ? text.lowercased() : text).unicodeScalars)
                let p = Array((insensitive ? pattern.lowercased() : pattern).unicodeScalars)
                #expect(PatternMatcher.matches(Pattern(.wildcard(pattern), insensitive: insensitive), text) == PatternMatcher.wildcard(t, p), "\(text) ~ \(pattern)")
                #expect(PatternMatcher.matches(Pattern(.exact(pattern), insensitive: insensitive), text) == (insensitive ? text.lowercased() == pattern.lowercased() : text == pattern))
                #expect(PatternMatcher.matches(Pattern(.prefix(pattern), insensitive: insensitive), text) == (insensitive ? text.lowercased().hasPrefix(pattern.lowercased()) : text.hasPrefix(pattern)))
            }
        }
        #expect(PatternMatcher.matches(Pattern(.wildcard("*ÉTÉ?"), insensitive: true), "un été!"))
    }

    @Test func roundingUpFillsMissingDateParts() {
        #expect(DateFormats.roundUpSpan("2026-11-22") == 86_399_999)
        #expect(DateFormats.roundUpSpan("2026") == 86_399_999)
        #expect(DateFormats.roundUpSpan("2026-11-22T10") == 3_599_999)
        #expect(DateFormats.roundUpSpan("2026-11-22T10:15Z") == 59_999)
        #expect(DateFormats.roundUpSpan("2026-11-22T10:15:07+01:00") == 999)
        #expect(DateFormats.roundUpSpan("2026-11-22T10:15:07.5") == 0)
    }

    @Test func rangeBoundsMeetInOneValue() {
        #expect(SegmentFilter.intBounds(.perValue(.and([.compare(.gt, .field("p"), .literal(.int(3))), .compare(.le, .field("p"), .literal(.int(5)))]))) ?? (0, 0, true) == (4, 5, false))
        #expect(SegmentFilter.intBounds(.compare(.lt, .field("p"), .literal(.int(.min)))).map { $0.lo > $0.hi } == true)
        let evaluator = Evaluator()
        let range = Expr.perValue(.and([.compare(.ge, .field("p"), .literal(.int(3))), .compare(.le, .field("p"), .literal(.int(5)))]))
        #expect(evaluator.test(range) { _ in .int(4) })
        #expect(!evaluator.test(range) { _ in .int(9) })
    }

    @Test func minimumShouldMatchForms() throws {
        #expect(try QueryDSL.minimumShouldMatch(.int(2), clauses: 5) == 2)
        #expect(try QueryDSL.minimumShouldMatch(.int(-1), clauses: 5) == 4)
        #expect(try QueryDSL.minimumShouldMatch(.string("75%"), clauses: 5) == 3)
        #expect(try QueryDSL.minimumShouldMatch(.string("-25%"), clauses: 5) == 4)
    }

    @Test func luceneNormsEncodeAsLucene() {
        for i in 0..<24 { #expect(SmallFloat.decode(SmallFloat.encode(i)) == i) }
        #expect(SmallFloat.decode(SmallFloat.encode(100)) == 96)
        #expect(SmallFloat.decode(SmallFloat.encode(1000)) <= 1000)
    }

    static let rulesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/data/detection-rules").path

    /// The `query` of each rule file in a language (`kuery`, `lucene`), by file.
    static func ruleQueries(_ language: String) -> [(String, String)] {
        guard let walker = FileManager.default.enumerator(atPath: rulesDirectory) else { return [] }
        var out: [(String, String)] = []
        for case let path as String in walker where path.hasSuffix(".toml") {
            guard let text = try? String(contentsOfFile: rulesDirectory + "/" + path, encoding: .utf8),
                text.contains("language = \"\(language)\"") else { continue }
            // The rule's own query, in its [rule] table (osquery investigation queries come later).
            guard let table = text.range(of: "\n[rule]\n") else { continue }
            var section = text[table.upperBound...]
            if let next = section.range(of: "\n[") { section = section[..<next.lowerBound] }
            for quote in ["'''", "\"\"\""] {
                guard let start = section.range(of: "\nquery = " + quote) else { continue }
                let rest = section[start.upperBound...]
                guard let end = rest.range(of: quote) else { continue }
                var q = String(rest[..<end.lowerBound])
                if quote == "\"\"\"" { q = q.replacingOccurrences(of: "\\\\", with: "\\") }
                out.append((path, q))
            }
        }
        return out.sorted { $0.0 < $1.0 }
    }

    /// Every KQL rule query of Elastic's detection rules parses, and compiles against a mapping
    /// that has none of their fields.
    @Test func everyKueryDetectionRuleParses() throws {
        let rules = QueryLanguageTests.ruleQueries("kuery")
        #expect(rules.count >= 140)
        var failures: [String] = []
        for (path, q) in rules {
            do {
                let node = try KQLParser.parse(q)
                _ = try KQLCompiler(dsl: QueryDSL(mapping: Mapping()), options: KQLOptions()).compile(node)
            } catch {
                failures.append("\(path): \(error.message)")
            }
        }
        #expect(failures.isEmpty, Comment(rawValue: "\(failures.count) of \(rules.count) failed:\n" + failures.prefix(10).joined(separator: "\n")))
    }

    @Test func everyLuceneDetectionRuleParses() throws {
        var failures: [String] = []
        for (path, q) in QueryLanguageTests.ruleQueries("lucene") {
            do { _ = try LuceneQuery.parse(q) } catch { failures.append("\(path): \(error.message)") }
        }
        #expect(failures.isEmpty, Comment(rawValue: failures.prefix(10).joined(separator: "\n")))
    }
}
