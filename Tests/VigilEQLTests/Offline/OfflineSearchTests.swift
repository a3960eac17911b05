import Foundation
import Testing
@testable import VigilEQL

@Suite struct RequiredTextTests {
    typealias Needle = RequiredText.Needle

    func stages(_ query: String) throws -> [[[String]]] {
        try RequiredText.stages(of: EQLParser.parse(query), eventCategoryField: "event.category").map { groups in
            groups.map { g in g.map { n in String(decoding: n.bytes, as: UTF8.self) + (n.caseInsensitive ? "~" : "") }.sorted() }
        }
    }

    @Test func equalityNeedsTheWholeStringValue() throws {
        #expect(try stages(#"process where process.name == "bash""#) == [[[#""bash""#], [#""process""#]]])
        #expect(try stages(#"any where "bash" == process.name"#) == [[[#""bash""#]]])
    }

    @Test func wildcardsKeepTheLongestRunCaseFolded() throws {
        #expect(try stages(#"any where process.name : "Python*""#) == [[[#""python~"#]]])
        #expect(try stages(#"any where process.name : "*\\Windows\\Sys*""#) == [[[#"windows~"#]]])
        #expect(try stages(#"any where process.name like "*.EXE""#) == [[[#".EXE""#]]])
        #expect(try stages(#"any where process.name : ("a*b", "cmd*")"#) == [[]])
    }

    @Test func listsAndFunctions() throws {
        #expect(try stages(#"any where process.name in ("bash", "zsh")"#) == [[[#""bash""#, #""zsh""#]]])
        #expect(try stages(#"any where process.name in~ ("BASH", "zsh")"#) == [[[#""bash"~"#, #""zsh"~"#]]])
        #expect(try stages(#"any where startsWith(process.name, "pow")"#) == [[[#""pow"#]]])
        #expect(try stages(#"any where endsWith~(process.name, ".EXE")"#) == [[[#".exe"~"#]]])
        #expect(try stages(#"any where stringContains(process.name, "ell")"#) == [[["ell"]]])
    }

    @Test(arguments: [
        #"any where x == "10.0.0.1""#, #"any where x == "fe80::1""#, #"any where x == "2026-01-01""#,
        #"any where x == "1e5""#, #"any where x != "bash""#, #"any where not x == "bash""#,
        #"any where x in ("bash", 1)"#, #"any where x not in ("bash")"#, #"any where concat(x, y) == "bash""#,
        #"any where x == "a""#, #"any where x regex "bash.*""#, #"any where x == "tab\there""#,
    ])
    func constrainsNothingWhenTheTextMayDiffer(_ query: String) throws {
        #expect(try stages(query) == [[]])
    }

    @Test func booleansAndNumbersInKeywordFieldsHaveNoQuotes() throws {
        #expect(try stages(#"any where x == "true""#) == [[["true"]]])
        #expect(try stages(#"any where x : "fals*""#) == [[["fals~"]]])
        #expect(try stages(#"any where x : "-v*""#) == [[["-v~"]]])
        #expect(try stages(#"any where x : "*v2""#) == [[["v2~"]]])
    }

    @Test func quotesAndBackslashesAreEscapedAsJSONWritesThem() throws {
        #expect(try stages(#"any where x == "say \"hi\"""#) == [[[#""say \"hi\"""#]]])
        #expect(try stages(#"any where x == "C:\\Temp""#) == [[[#""C:\\Temp""#]]])
    }

    @Test func orTakesOneGroupFromEachSide() throws {
        #expect(try stages(#"any where x == "bash" or (y == "zsh" and z == "fish")"#) == [[[#""bash""#, #""fish""#]]])
        #expect(try stages(#"any where x == "bash" or y != "zsh""#) == [[]])
    }

    @Test func everyStageOfASequence() throws {
        let s = try stages(#"sequence [process where x == "bash"] ![network where true] [any where true] until [file where y : "t*"]"#)
        #expect(s == [[[#""bash""#], [#""process""#]], [[#""network""#]], [], [[#""file""#]]])
    }

    @Test func fieldsIncludeKeysAndKeywordParents() throws {
        let fields = try RequiredText.fields(of: EQLParser.parse(
            #"sequence by host.id [process where process.command_line.keyword != null] by process.pid [file where length(file.path) > 1] by process.pid"#))
        #expect(fields == ["host.id", "process.command_line.keyword", "process.command_line", "process.pid", "file.path"])
    }
}

@Suite struct NeedleSearchTests {
    func needle(_ s: String, ci: Bool = false, ends: Bool = false) -> RequiredText.Needle {
        RequiredText.Needle(bytes: Array(s.utf8), caseInsensitive: ci, endsValue: ends)
    }

    func find(_ n: RequiredText.Needle, _ hay: String, anchor: Int = 0) -> Int? {
        Array(hay.utf8).withUnsafeBytes { NeedleSearch.find(n, anchor: anchor, in: $0, from: 0, to: $0.count) }
    }

    @Test func findsExactlyAndFolded() {
        #expect(find(needle("bash"), "xx bas bash") == 7)
        #expect(find(needle("bash"), "xx BASH") == nil)
        #expect(find(needle("bash", ci: true), "xx BaSh") == 3)
        #expect(find(needle("bash", ci: true), "xx BaSh", anchor: 3) == 3)
        // Long haystacks go eight bytes at a time; hits at every alignment and the very end.
        for pad in 0..<20 {
            let hay = String(repeating: "q", count: pad) + "PyThOn"
            #expect(find(needle("python", ci: true), hay, anchor: 2) == pad)
            #expect(find(needle("python"), hay.lowercased(), anchor: 5) == pad)
        }
        #expect(find(needle("p-y", ci: true), "P-Y") == 0)
        #expect(find(needle("abc"), "ab") == nil)
    }

    @Test func keysAndEscapedBackslashesAreNotHits() {
        let doc = Array(#"{"bash":1,"x":"bash" ,"p":"C:\\users","q":"\u0062"}"#.utf8)
        doc.withUnsafeBytes { b in
            let quoted = needle(#""bash""#, ends: true)
            #expect(!NeedleSearch.accept(quoted, at: 1, in: b))
            #expect(NeedleSearch.accept(quoted, at: 14, in: b))
            #expect(NeedleSearch.contains(quoted, in: b, 0..<b.count))
            #expect(!NeedleSearch.contains(quoted, in: b, 0..<12))
            let escape = needle(#"\u"#)
            // `\\users` is an escaped backslash then `users`; `\u0062` is an escape.
            #expect(NeedleSearch.contains(escape, in: b, 0..<b.count))
            #expect(!NeedleSearch.contains(escape, in: b, 0..<44))
        }
    }

    /// The documents as NDJSON text and each one's byte range in it.
    func lines(_ docs: [String]) -> ([UInt8], [Range<Int>]) {
        var ranges: [Range<Int>] = []
        var at = 0
        for d in docs {
            ranges.append(at..<at + d.utf8.count)
            at += d.utf8.count + 1
        }
        return (Array(docs.joined(separator: "\n").utf8), ranges)
    }

    @Test func marksTheEventsHoldingHits() {
        let docs = [#"{"a":"bash"}"#, #"{"bash":2}"#, #"{"a":"zsh"}"#, #"{"a":"b\u0061sh"}"#, #"{"a":["x","bash"]}"#]
        let (text, ranges) = lines(docs)
        let search = NeedleSearch(needles: [needle(#""bash""#, ends: true)], frequencies: [Int](repeating: 1, count: 256))
        var candidate = [Bool](repeating: false, count: 4)
        text.withUnsafeBytes { search.mark($0, documents: ranges, range: 1..<5, candidate: &candidate) }
        #expect(candidate == [false, false, true, true])
    }
}

extension NeedleSearchTests {
    @Test func hitsMustMeetEveryGroupOfSomeStage() {
        let docs = [#"{"c":"process","n":"bash"}"#, #"{"c":"network","n":"bash"}"#, #"{"c":"network","n":"curl"}"#, #"{"c":"file","p":"bash"}"#]
        let (text, ranges) = lines(docs)
        let bash = needle(#""bash""#, ends: true)
        let curl = needle(#""curl""#, ends: true)
        let process = needle(#""process""#, ends: true)
        let network = needle(#""network""#, ends: true)
        // Stage 1: process events naming bash; stage 2: network events naming curl.
        let stages = [[[bash], [process]], [[curl], [network]]]
        let search = NeedleSearch(needles: [bash, curl], frequencies: [Int](repeating: 1, count: 256), stages: stages)
        var candidate = [Bool](repeating: false, count: 4)
        text.withUnsafeBytes { search.mark($0, documents: ranges, range: 0..<4, candidate: &candidate) }
        #expect(candidate == [true, false, true, false])
    }
}

extension NeedleSearchTests {
    /// The one-pass search (vector compares of two anchor bytes, then a full compare) finds the
    /// same first position as a plain search, for needles of every length, folded or not, at
    /// every offset from a 32-byte step, with frequencies that put the anchors anywhere.
    @Test func oneSearchForManyNeedlesFindsWhatAPlainSearchFinds() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("abcABC\"\\:u. ".utf8)
        for round in 0..<300 {
            let text = (0..<Int.random(in: 0..<200, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            var needles: [RequiredText.Needle] = []
            for _ in 0..<Int.random(in: 1...5, using: &rng) {
                let folded = Bool.random(using: &rng)
                var bytes = (0..<Int.random(in: 1...5, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
                if folded { bytes = bytes.map { NeedleSearch.isLetter($0) ? $0 | 0x20 : $0 } }
                needles.append(RequiredText.Needle(bytes: bytes, caseInsensitive: folded, endsValue: false))
            }
            let frequencies = (0..<256).map { _ in Int.random(in: 0..<100, using: &rng) }
            let set = NeedleSet(needles, frequencies: frequencies)
            func plain(from: Int, to: Int) -> Int? {
                guard from < to else { return nil }
                for p in from..<to {
                    for n in needles where p + n.bytes.count <= to {
                        let same = (0..<n.bytes.count).allSatisfy { k in
                            let b = text[p + k]
                            return (n.caseInsensitive && NeedleSearch.isLetter(b) ? b | 0x20 : b) == n.bytes[k]
                        }
                        if same { return p }
                    }
                }
                return nil
            }
            text.withUnsafeBytes { b in
                for from in [0, 1, 5, 31, 33] where from <= text.count {
                    for to in [text.count, max(from, text.count - 3)] {
                        #expect(set.first(in: b, from: from, to: to) == plain(from: from, to: to), "round \(round): \(String(decoding: text, as: UTF8.self)) from \(from) to \(to)")
                    }
                }
            }
        }
    }
}

@Suite struct EventFileTests {
    func file(_ text: String, gzip: Bool = false) throws -> EventFile {
        let path = NSTemporaryDirectory() + "/vigil-eventfile-\(UUID().uuidString)" + (gzip ? ".gz" : "")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(text.utf8).write(to: URL(fileURLWithPath: gzip ? path + ".raw" : path))
        if gzip {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", "gzip -c \"$0.raw\" > \"$0\" && rm \"$0.raw\"", path]
            try p.run()
            p.waitUntilExit()
        }
        return try EventFile(path: path)
    }

    func lines(_ f: EventFile) -> [String] {
        f.documents.indices.map { String(decoding: f.line($0), as: UTF8.self) }
    }

    @Test func ndjsonSkipsBlankLinesAndCarriageReturns() throws {
        let f = try file("{\"a\":1}\r\n\n  \n{\"a\":2}  \n{\"a\":3}")
        #expect(f.format == .ndjson)
        #expect(lines(f) == [#"{"a":1}"#, #"{"a":2}"#, #"{"a":3}"#])
    }

    @Test func bulkBodiesSkipActionsAndDeletes() throws {
        let f = try file("""
            {"index":{"_id":"1"}}
            {"a":1}
            {"delete":{"_id":"2"}}
            {"create":{}}
            {"a":2}
            """)
        #expect(f.format == .bulk)
        #expect(lines(f) == [#"{"a":1}"#, #"{"a":2}"#])
    }

    @Test func arraysGiveTheirElementsOnOneLineEach() throws {
        let f = try file("[\n  {\"a\": 1,\n   \"b\": [1, 2]},\n  {\"a\":\"x]\"}\n]\n")
        #expect(f.format == .array)
        #expect(lines(f) == [#"{"a":1,"b":[1,2]}"#, #"{"a":"x]"}"#])
    }

    @Test func gzipIsDecompressed() throws {
        let f = try file("{\"a\":1}\n{\"a\":2}\n", gzip: true)
        #expect(lines(f) == [#"{"a":1}"#, #"{"a":2}"#])
    }

    @Test func missingFileIsAnError() {
        #expect(throws: EventFile.Failure.self) { try EventFile(path: "/nonexistent/vigil-events.ndjson") }
    }
}
