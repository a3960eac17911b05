import Testing
@testable import VigilStore

@Suite struct ByteDictionaryTests {
    @Test func internsEqualBytesToOneCodeThroughGrowth() {
        var d = ByteDictionary()
        // Keyed by bytes: `String` equality would merge "é" and "e\u{301}", which are different bytes.
        var codes: [[UInt8]: Int32] = [:]
        let words = (0..<5000).map { "w\($0 % 1700)-" + String(repeating: "x", count: $0 % 13) } + ["", "é", "e\u{301}"]
        for w in words {
            let c = d.intern(w)
            if let seen = codes[Array(w.utf8)] { #expect(seen == c) } else { codes[Array(w.utf8)] = c }
        }
        #expect(d.count == codes.count)
        for (w, c) in codes { #expect(Array(d.entry(Int(c))) == w) }
        let sorted = d.sortedCodes().map { Array(d.entry($0)) }
        #expect(sorted == sorted.sorted { $0.lexicographicallyPrecedes($1) })
    }
}
