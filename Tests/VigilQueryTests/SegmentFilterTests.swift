import Foundation
import Testing
import VigilJSON
import VigilQuery
import VigilStore

/// A sealed segment of generated events, with each event's JSON kept to compute expected results
/// without going through the store.
final class FilterFixture: Sendable {
    let segment: Segment
    /// The parsed source of each document, by `_id`.
    let documents: [String: JSONValue]
    // Keeps the store alive: its segment files are mapped into memory.
    let store: Store

    static let shared = try! FilterFixture()

    static let names = ["cmd.exe", "CMD.EXE", "powershell.exe", "explorer.exe", "svchost.exe", "a*b", "", "regsvr32.exe", "Ünïcode.exe", "say\"hi\""]
    static let tags = ["alpha", "beta", "Gamma", "delta", "x1", "x2"]

    private init() throws {
        let dir = NSTemporaryDirectory() + "vigil-filter-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // Mapped segment files stay readable after the directory is unlinked (Linux).
        defer { try? FileManager.default.removeItem(atPath: dir) }
        store = try Store(directory: dir)
        let mapping = #"""
            {"mappings": {"properties": {
              "@timestamp": {"type": "date"}, "name": {"type": "keyword"}, "tags": {"type": "keyword"},
              "host": {"type": "keyword"}, "pid": {"type": "long"}, "ports": {"type": "long"},
              "score": {"type": "double"}, "ip": {"type": "ip"}, "ok": {"type": "boolean"}
            }}}
            """#
        let index = try store.createIndex("events", body: try JSONParser().parse(mapping).objectValue)
        var rng = SplitMix64(seed: 0x5EED)
        var docs: [String: JSONValue] = [:]
        var items: [BulkItem] = []
        for n in 0..<200 {
            let json = FilterFixture.document(n, &rng)
            docs["d\(n)"] = try JSONParser().parse(json)
            let op = WriteOperation.index(id: "d\(n)", source: Array(json.utf8), create: false, ifSeqNo: nil, ifPrimaryTerm: nil)
            items.append(BulkItem(target: "events", operation: op))
        }
        let results = store.bulk(items)
        guard results.allSatisfy({ $0.status == 201 }) else { throw FixtureError.rejected(results.map(\.status)) }
        try index.refresh()
        let segments = index.reader().segments
        guard segments.count == 1 else { throw FixtureError.segments(segments.count) }
        segment = segments[0].segment
        documents = docs
    }

    enum FixtureError: Error { case rejected([Int]), segments(Int) }

    static func document(_ n: Int, _ r: inout SplitMix64) -> String {
        func quoted(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        // Timestamps are a permutation of the ids, so segment order differs from insertion order.
        var fields = ["\"@timestamp\": \(1_700_000_000_000 + Int64(n * 7919 % 200) * 1000)"]
        if r.below(10) != 0 { fields.append("\"name\": " + quoted(names[r.below(names.count)])) }
        switch r.below(6) {
        case 0: break
        case 1: fields.append("\"tags\": []")
        case 2: fields.append("\"tags\": " + quoted(tags[r.below(tags.count)]))
        case 3: fields.append("\"tags\": [" + quoted(tags[r.below(tags.count)]) + ", null]")
        default: fields.append("\"tags\": [" + (0...r.below(3)).map { _ in quoted(tags[r.below(tags.count)]) }.joined(separator: ", ") + "]")
        }
        if r.below(5) == 0 { fields.append("\"host\": " + quoted("h\(r.below(3) + 1)")) }
        if r.below(7) != 0 { fields.append("\"pid\": \(r.below(5000))") }
        if r.below(3) == 0 { fields.append("\"ports\": [" + (0...r.below(2)).map { _ in String([22, 80, 443, 8080][r.below(4)]) }.joined(separator: ", ") + "]") }
        if r.below(4) != 0 { fields.append("\"score\": \(Double(r.below(1000)) / 1000)") }
        switch r.below(5) {
        case 0: break
        case 1: fields.append("\"ip\": \"2001:db8::\(String(r.below(4096) + 1, radix: 16))\"")
        case 2: fields.append("\"ip\": \"fe80::\(String(r.below(4096) + 1, radix: 16))\"")
        default: fields.append("\"ip\": \"\([10, 192, 172][r.below(3)]).\(r.below(256)).\(r.below(256)).\(r.below(256))\"")
        }
        if r.below(2) == 0 { fields.append("\"ok\": \(r.below(2) == 0)") }
        return "{" + fields.joined(separator: ", ") + "}"
    }

    /// A field's values in a document's JSON; arrays are flattened and nulls dropped.
    static func values(_ doc: JSONValue, _ field: String) -> [QueryValue] {
        func flatten(_ v: JSONValue) -> [QueryValue] {
            switch v {
            case .null, .object: return []
            case .bool(let b): return [.bool(b)]
            case .int(let i): return [.int(i)]
            case .uint(let u): return [.double(Double(u))]
            case .double(let d): return [.double(d)]
            case .string(let s): return [.string(s)]
            case .array(let a): return a.flatMap(flatten)
            }
        }
        return doc[field].map(flatten) ?? []
    }

    /// Row-by-row reference: `and`/`or`/`not` in three-valued logic; a predicate on one field is
    /// true when any of its values makes it true, false when some value makes it false, and sees
    /// null when the document has none.
    static func reference(_ e: Expr, _ doc: JSONValue) -> QueryValue {
        switch e {
        case .and(let xs):
            let rs = xs.map { reference($0, doc) }
            return rs.contains(.bool(false)) ? .bool(false) : rs.allSatisfy { $0 == .bool(true) } ? .bool(true) : .null
        case .or(let xs):
            let rs = xs.map { reference($0, doc) }
            return rs.contains(.bool(true)) ? .bool(true) : rs.allSatisfy { $0 == .bool(false) } ? .bool(false) : .null
        case .not(let x):
            guard case .bool(let b) = reference(x, doc) else { return .null }
            return .bool(!b)
        case .isTrue(let x):
            return .bool(reference(x, doc) == .bool(true))
        default:
            let fields = e.fields
            guard fields.count == 1, let field = fields.first else {
                // Several fields: the cases only combine single-valued ones.
                return Evaluator().evaluate(e) { values(doc, $0).first ?? .null }
            }
            let vs = values(doc, field)
            if vs.isEmpty { return Evaluator().evaluate(e) { _ in .null } }
            var result = QueryValue.null
            for v in vs {
                let r = Evaluator().evaluate(e) { _ in v }
                if r == .bool(true) { return r }
                if r == .bool(false) { result = r }
            }
            return result
        }
    }
}

struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func below(_ n: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(n))
    }
}

struct FilterCase: Sendable, CustomTestStringConvertible {
    var testDescription: String
    var expr: Expr
    /// Whether every or no document is expected to match.
    var trivial = false
}

private func f(_ name: String) -> Expr { .field(name) }
private func s(_ v: String) -> Expr { .literal(.string(v)) }
private func n(_ v: Int64) -> Expr { .literal(.int(v)) }
private func wild(_ p: String, _ insensitive: Bool = false) -> Pattern { Pattern(.wildcard(p), insensitive: insensitive) }
private func fn(_ function: Expr.Function, _ args: Expr..., insensitive: Bool = false) -> Expr {
    .call(function, args, insensitive: insensitive)
}

@Suite struct SegmentFilterTests {
    static let cases: [FilterCase] = [
        // One string field: evaluated per dictionary entry.
        FilterCase(testDescription: "name == cmd.exe", expr: .compare(.eq, f("name"), s("cmd.exe"))),
        FilterCase(testDescription: "name like *.exe", expr: .matches(f("name"), [wild("*.exe")])),
        FilterCase(testDescription: "name like~ cmd*", expr: .matches(f("name"), [wild("cmd*", true)])),
        FilterCase(testDescription: "name regex", expr: .matches(f("name"), [Pattern(.regex("[a-z]+[0-9]*\\.exe"), insensitive: false)])),
        FilterCase(testDescription: "startsWith~(name, POWER)", expr: fn(.startsWith, f("name"), s("POWER"), insensitive: true)),
        FilterCase(testDescription: "length(name) > 10", expr: .compare(.gt, fn(.length, f("name")), n(10))),
        FilterCase(testDescription: "between(name, c, .) == md", expr: .compare(.eq, fn(.between, f("name"), s("c"), s(".")), s("md"))),
        FilterCase(testDescription: "stringContains(name, \"\")", expr: fn(.stringContains, f("name"), s("")), trivial: true),
        FilterCase(testDescription: "name == \"\"", expr: .compare(.eq, f("name"), s(""))),
        FilterCase(testDescription: "name != cmd.exe", expr: .compare(.ne, f("name"), s("cmd.exe"))),
        FilterCase(testDescription: "tags in~ (alpha, GAMMA)", expr: .inList(f("tags"), [s("alpha"), s("GAMMA")], insensitive: true)),
        FilterCase(testDescription: "tags == beta", expr: .compare(.eq, f("tags"), s("beta"))),
        FilterCase(testDescription: "not tags == beta", expr: .not(.compare(.eq, f("tags"), s("beta")))),
        FilterCase(testDescription: "tags != beta", expr: .compare(.ne, f("tags"), s("beta"))),
        FilterCase(testDescription: "tags like x?", expr: .matches(f("tags"), [wild("x?")])),
        FilterCase(testDescription: "tags == alpha and tags == beta",
                   expr: .and([.compare(.eq, f("tags"), s("alpha")), .compare(.eq, f("tags"), s("beta"))])),
        FilterCase(testDescription: "tags == null", expr: .isNull(f("tags"))),
        FilterCase(testDescription: "host == null (sparse)", expr: .isNull(f("host"))),
        FilterCase(testDescription: "host != h1 (sparse)", expr: .compare(.ne, f("host"), s("h1"))),
        FilterCase(testDescription: "ip cidrMatch", expr: fn(.cidrMatch, f("ip"), s("10.0.0.0/8"), s("2001:db8::/32"))),
        FilterCase(testDescription: "ip == null", expr: .isNull(f("ip"))),
        // Numbers: the integer fast path and the general one.
        FilterCase(testDescription: "pid > 2500", expr: .compare(.gt, f("pid"), n(2500))),
        FilterCase(testDescription: "pid <= 100", expr: .compare(.le, f("pid"), n(100))),
        FilterCase(testDescription: "pid != 7", expr: .compare(.ne, f("pid"), n(7))),
        FilterCase(testDescription: "ports == 443 (multi-valued)", expr: .compare(.eq, f("ports"), n(443))),
        FilterCase(testDescription: "ports != 443 (multi-valued)", expr: .compare(.ne, f("ports"), n(443))),
        FilterCase(testDescription: "@timestamp >= t0+100s", expr: .compare(.ge, f("@timestamp"), n(1_700_000_100_000))),
        FilterCase(testDescription: "score < 0.5", expr: .compare(.lt, f("score"), .literal(.double(0.5)))),
        FilterCase(testDescription: "pid > 2500.5", expr: .compare(.gt, f("pid"), .literal(.double(2500.5)))),
        FilterCase(testDescription: "4000 < pid", expr: .compare(.lt, n(4000), f("pid"))),
        FilterCase(testDescription: "pid % 7 == 0", expr: .compare(.eq, .arithmetic(.modulo, f("pid"), n(7)), n(0))),
        FilterCase(testDescription: "ok == true", expr: .compare(.eq, f("ok"), .literal(.bool(true)))),
        // Several fields in one predicate.
        FilterCase(testDescription: "endsWith(concat(name, host), h1)", expr: fn(.endsWith, fn(.concat, f("name"), f("host")), s("h1"))),
        FilterCase(testDescription: "pid + score > 2000", expr: .compare(.gt, .arithmetic(.add, f("pid"), f("score")), n(2000))),
        FilterCase(testDescription: "pid > 1000 and name like *.exe",
                   expr: .and([.compare(.gt, f("pid"), n(1000)), .matches(f("name"), [wild("*.exe")])])),
        // Null handling through not/and/or.
        FilterCase(testDescription: "host == h1 or pid < 50", expr: .or([.compare(.eq, f("host"), s("h1")), .compare(.lt, f("pid"), n(50))])),
        FilterCase(testDescription: "not (host == h2 and score > 0.2)",
                   expr: .not(.and([.compare(.eq, f("host"), s("h2")), .compare(.gt, f("score"), .literal(.double(0.2)))]))),
        FilterCase(testDescription: "not (pid == null or name != svchost.exe)",
                   expr: .not(.or([.isNull(f("pid")), .compare(.ne, f("name"), s("svchost.exe"))]))),
        FilterCase(testDescription: "isTrue(host == h1)", expr: .isTrue(.compare(.eq, f("host"), s("h1")))),
        FilterCase(testDescription: "not isTrue(host == h1)", expr: .not(.isTrue(.compare(.eq, f("host"), s("h1"))))),
        FilterCase(testDescription: "not (tags == alpha or host == h3)",
                   expr: .not(.or([.compare(.eq, f("tags"), s("alpha")), .compare(.eq, f("host"), s("h3"))]))),
        // A column no document has.
        FilterCase(testDescription: "nosuch == x", expr: .compare(.eq, f("nosuch"), s("x")), trivial: true),
        FilterCase(testDescription: "nosuch == null", expr: .isNull(f("nosuch")), trivial: true),
        FilterCase(testDescription: "not nosuch == x", expr: .not(.compare(.eq, f("nosuch"), s("x"))), trivial: true),
        FilterCase(testDescription: "nosuch == 1 or true", expr: .or([.compare(.eq, f("nosuch"), n(1)), .literal(.bool(true))]), trivial: true),
        FilterCase(testDescription: "concat(name, nosuch) == x", expr: .compare(.eq, fn(.concat, f("name"), f("nosuch")), s("x")), trivial: true),
        FilterCase(testDescription: "true", expr: .literal(.bool(true)), trivial: true),
        FilterCase(testDescription: "null", expr: .literal(.null), trivial: true),
    ]

    @Test(arguments: cases)
    func matchesRowByRowEvaluation(_ c: FilterCase) throws {
        let fixture = FilterFixture.shared
        let segment = fixture.segment
        var actual = Set<String>()
        SegmentFilter(segment: segment).matching(c.expr).forEach { actual.insert(segment.id($0)) }
        let expected = Set(fixture.documents.filter { FilterFixture.reference(c.expr, $0.value) == .bool(true) }.keys)
        #expect(actual == expected)
        if !c.trivial {
            #expect(!expected.isEmpty && expected.count < segment.docCount, "the case should select some documents")
        }
    }

    @Test func fixtureCoversEveryColumnLayout() throws {
        let segment = FilterFixture.shared.segment
        #expect(segment.docCount == 200)
        #expect(segment.columns["tags"]?.docOffsets != nil)
        #expect(segment.columns["ports"]?.docOffsets != nil)
        #expect(segment.columns["host"]?.ranks != nil)
        #expect(segment.columns["name"]?.dictionary != nil)
        #expect(segment.columns["pid"]?.kind == .int64)
        #expect(segment.columns["ip"]?.kind == .ip)
        #expect(segment.columns["nosuch"] == nil)
        // Documents are stored in time order, not in the order they were written.
        #expect((0..<segment.docCount).map { segment.id($0) } != (0..<200).map { "d\($0)" })
    }
}

/// Random nestings of `and`/`or`/`not` over leaves of every cost: the filter asks costly leaves
/// only about the documents the cheap ones leave open, and must still answer as the row-by-row
/// reference does, with and without a shared leaf cache.
@Suite struct SegmentFilterNestingTests {
    static func leaves(_ fixture: FilterFixture) -> [Expr] {
        let ips = fixture.documents.values.compactMap { FilterFixture.values($0, "ip").first }.prefix(2)
        return SegmentFilterTests.cases.filter { !$0.trivial }.map(\.expr)
            + ips.flatMap { ip in [Expr.compare(.eq, f("ip"), .literal(ip)), .compare(.ne, f("ip"), .literal(ip))] }
            + [.compare(.eq, fn(.concat, f("host"), s("-"), f("tags")), s("h1-alpha")), .literal(.null)]
    }

    static func random(_ leaves: [Expr], _ r: inout SplitMix64, depth: Int) -> Expr {
        if depth == 0 || r.below(4) == 0 { return leaves[r.below(leaves.count)] }
        let parts = (0..<(2 + r.below(3))).map { _ in random(leaves, &r, depth: depth - 1) }
        switch r.below(5) {
        case 0, 1: return .and(parts)
        case 2, 3: return .or(parts)
        default: return .not(r.below(2) == 0 ? .and(parts) : .or(parts))
        }
    }

    @Test func nestedConditionsMatchTheReference() {
        let fixture = FilterFixture.shared
        let segment = fixture.segment
        let leaves = SegmentFilterNestingTests.leaves(fixture)
        let cache = LeafCache()
        var r = SplitMix64(seed: 0xF11E)
        var nonEmpty = 0
        for _ in 0..<250 {
            let e = SegmentFilterNestingTests.random(leaves, &r, depth: 3)
            let expected = Set(fixture.documents.filter { FilterFixture.reference(e, $0.value) == .bool(true) }.keys)
            for filter in [SegmentFilter(segment: segment), SegmentFilter(segment: segment, cache: cache)] {
                var actual = Set<String>()
                filter.matching(e).forEach { actual.insert(segment.id($0)) }
                #expect(actual == expected, "\(e)")
            }
            if !expected.isEmpty && expected.count < segment.docCount { nonEmpty += 1 }
        }
        // Most conditions should select some documents and not all, or the test proves little.
        #expect(nonEmpty > 90)
    }
}
