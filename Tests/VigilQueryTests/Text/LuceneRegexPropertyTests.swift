@testable import VigilQuery
import Testing

/// A small deterministic generator, so failures reproduce.
struct RegexRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// Random patterns over {a, b} in the syntax Lucene and Swift's Regex share (no optional operators).
func randomPattern(_ rng: inout RegexRNG, depth: Int) -> String {
    let atoms = ["a", "b", ".", "[ab]", "[^a]", "[a-b]", "()", "(a)"]
    if depth == 0 { return atoms[rng.below(atoms.count)] }
    switch rng.below(7) {
    case 0, 1: return randomPattern(&rng, depth: depth - 1) + randomPattern(&rng, depth: depth - 1)
    case 2: return "(" + randomPattern(&rng, depth: depth - 1) + "|" + randomPattern(&rng, depth: depth - 1) + ")"
    case 3, 4:
        let quantifiers = ["*", "+", "?", "{2}", "{0,2}", "{1,}", "{1,3}", "{0}"]
        return "(" + randomPattern(&rng, depth: depth - 1) + ")" + quantifiers[rng.below(quantifiers.count)]
    case 5: return atoms[rng.below(atoms.count)] + ["*", "+", "?"][rng.below(3)]
    default: return atoms[rng.below(atoms.count)]
    }
}

/// Every string over {a, b} up to length 6.
let regexShortStrings: [String] = {
    var all = [""]
    var layer = [""]
    for _ in 0..<6 {
        layer = layer.flatMap { [$0 + "a", $0 + "b"] }
        all += layer
    }
    return all
}()

@Test func agreesWithSwiftRegexWholeMatch() throws {
    var rng = RegexRNG(seed: 42)
    for _ in 0..<250 {
        let pattern = randomPattern(&rng, depth: 3)
        let ours = try LuceneRegex(pattern)
        let reference = try Regex(pattern)
        for input in regexShortStrings {
            let expected = (try? reference.wholeMatch(in: input)) != nil
            #expect(ours.matches(input) == expected, "/\(pattern)/ on \"\(input)\"")
        }
    }
}

@Test func complementAndIntersectionFollowSetLogic() throws {
    var rng = RegexRNG(seed: 1234)
    for _ in 0..<150 {
        let a = randomPattern(&rng, depth: 3)
        let b = randomPattern(&rng, depth: 3)
        let ra = try LuceneRegex(a)
        let rb = try LuceneRegex(b)
        let and = try LuceneRegex("(\(a))&(\(b))")
        let notA = try LuceneRegex("~(\(a))")
        let aButNotB = try LuceneRegex("(\(a))&~(\(b))")
        let everythingButA = try LuceneRegex("@&~(\(a))")
        let orEmpty = try LuceneRegex("#|(\(a))")
        for input in regexShortStrings + ["c", "ac", "é"] {
            let inA = ra.matches(input)
            let inB = rb.matches(input)
            #expect(and.matches(input) == (inA && inB), "\(a) & \(b) on \(input)")
            #expect(notA.matches(input) == !inA, "~\(a) on \(input)")
            #expect(aButNotB.matches(input) == (inA && !inB), "\(a) &~ \(b) on \(input)")
            #expect(everythingButA.matches(input) == !inA)
            #expect(orEmpty.matches(input) == inA)
        }
    }
}

@Test func caseInsensitiveEqualsExplicitClasses() throws {
    // Over ASCII letters, folding is the same as writing [xX] for each letter.
    var rng = RegexRNG(seed: 99)
    for _ in 0..<100 {
        let pattern = randomPattern(&rng, depth: 3)
        let folded = try LuceneRegex(pattern, caseInsensitive: true)
        // Single characters fold, inside classes too; a range such as [a-b] does not.
        var spelled = ""
        var rest = Substring(pattern)
        while let ch = rest.first {
            if ch == "[", let close = rest.firstIndex(of: "]") {
                let body = rest[rest.index(after: rest.startIndex)..<close]
                spelled += "[" + (body == "ab" ? "abAB" : body == "^a" ? "^aA" : String(body)) + "]"
                rest = rest[rest.index(after: close)...]
                continue
            }
            spelled += ch == "a" || ch == "b" ? "[\(ch)\(ch.uppercased())]" : String(ch)
            rest = rest.dropFirst()
        }
        let explicit = try LuceneRegex(spelled)
        for input in regexShortStrings {
            let mixed = String(input.enumerated().map { $0.offset % 2 == 0 ? Character($0.element.uppercased()) : $0.element })
            #expect(folded.matches(mixed) == explicit.matches(mixed), "\(pattern) on \(mixed)")
            #expect(folded.matches(input) == explicit.matches(input), "\(pattern) on \(input)")
        }
    }
}
