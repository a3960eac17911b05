import Foundation
import Synchronization
import Testing
import VigilEQL
import VigilJSON
import VigilStore
@testable import VigilServer

/// Elasticsearch's own EQL spec suite (`../shared/data/eql-spec`), run case by case through the
/// `_eql/search` request path on the data sets it was written for. A case listed in
/// `docs/eql-differences.md` is expected to differ (and fails here when it starts to agree,
/// so the list stays true).
@Suite struct EQLSpecTests {
    static let specDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/data/eql-spec").path

    static let repoDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// Which data a spec file runs on, and the field holding each event's id.
    struct DataSet: Sendable {
        var name: String
        /// (index name, data file, mapping file)
        var indices: [(String, String, String)]
        var idField: String
        var tiebreaker: String?
        var timestampField = "@timestamp"
        var filetime = false
    }

    static let endgame = DataSet(name: "endgame", indices: [("endgame", "test_data.json", "mapping-default.json")],
                                 idField: "serial_event_id", tiebreaker: "event.sequence", filetime: true)

    static let files: [(String, DataSet)] = [
        ("test_queries.toml", endgame),
        ("additional_test_queries.toml", endgame),
        ("test_queries_supported.toml", endgame),
        ("test_queries_date.toml", endgame),
        ("test_between_queries.toml", endgame),
        ("test_extra.toml", DataSet(name: "extra", indices: [("extra", "data/extra.data", "data/extra.mapping")], idField: "sequence", tiebreaker: "event.sequence")),
        ("test_missing_events.toml", DataSet(name: "missing-events", indices: [("missing-events", "data/missing-events.data", "data/missing-events.mapping")], idField: "sequence", tiebreaker: "event.sequence")),
        ("test_sample.toml", DataSet(name: "sample", indices: (1...3).map { ("sample\($0)", "data/sample\($0).data", "data/sample\($0).mapping") }, idField: "id", timestampField: "@timestamp_pretty")),
        ("test_sample_multi.toml", DataSet(name: "sample-multi", indices: [("sample-multi", "data/sample-multi.data", "data/sample-multi.mapping")], idField: "id", timestampField: "@timestamp")),
        ("test_sampling.toml", DataSet(name: "sampling", indices: (1...3).map { ("sampling\($0)", "data/sampling\($0).data", "data/sampling\($0).mapping") }, idField: "id", timestampField: "@timestamp_pretty")),
    ]

    struct Case: Sendable, CustomTestStringConvertible {
        var file: String
        var name: String
        var query: String
        /// Acceptable results: flattened ids, -1 for a missing event.
        var expected: [[Int64]]
        var joinKeys: [String?]?
        var size: Int?
        var maxSamplesPerKey: Int?
        var dataSet: DataSet

        var testDescription: String { "\(file) \(name)" }
    }

    static let cases: [Case] = {
        var out: [Case] = []
        for (file, set) in files {
            guard let text = try? String(contentsOfFile: specDirectory + "/" + file, encoding: .utf8),
                let tables = try? SpecTOML.queries(text)
            else { continue }
            for (n, t) in tables.enumerated() {
                guard case .string(let query)? = t["query"] else { continue }
                var name = "#\(n + 1)"
                if case .string(let s)? = t["name"] { name = s }
                var expected: [[Int64]] = []
                if case .array(let items)? = t["expected_event_ids"] {
                    if case .array? = items.first {
                        for alt in items { if case .array(let ids) = alt { expected.append(ids.compactMap { if case .int(let i) = $0 { i } else { nil } }) } }
                    } else {
                        expected = [items.compactMap { if case .int(let i) = $0 { i } else { nil } }]
                    }
                }
                var keys: [String?]?
                if case .array(let items)? = t["join_keys"] {
                    keys = items.map { v -> String? in
                        switch v {
                        case .string(let s): s
                        case .int(let i): String(i)
                        case .bool(let b): String(b)
                        default: nil
                        }
                    }
                }
                var size: Int?
                if case .int(let s)? = t["size"] { size = Int(s) }
                var perKey: Int?
                if case .int(let s)? = t["max_samples_per_key"] { perKey = Int(s) }
                out.append(Case(file: file, name: name, query: query, expected: expected, joinKeys: keys, size: size, maxSamplesPerKey: perKey, dataSet: set))
            }
        }
        return out
    }()

    /// Cases expected to differ, from `docs/eql-differences.md` lines "- `file` `name`: reason".
    static let differences: Set<String> = {
        guard let text = try? String(contentsOfFile: repoDirectory + "/docs/eql-differences.md", encoding: .utf8) else { return [] }
        var out = Set<String>()
        for line in text.split(separator: "\n") where line.hasPrefix("- `") {
            let parts = line.split(separator: "`")
            if parts.count >= 4 { out.insert("\(parts[1]) \(parts[3])") }
        }
        return out
    }()

    /// One store per data set, loaded once.
    static let stores = Mutex<[String: Store]>([:])

    static func store(for set: DataSet) throws -> Store {
        if let s = stores.withLock({ $0[set.name] }) { return s }
        let dir = NSTemporaryDirectory() + "vigil-eqlspec-\(set.name)-\(UInt32.random(in: 0..<UInt32.max))"
        let store = try Store(directory: dir)
        for (index, dataFile, mappingFile) in set.indices {
            var mappingText = try String(contentsOfFile: specDirectory + "/" + mappingFile, encoding: .utf8)
            mappingText = mappingText.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("#") }.joined(separator: "\n")
                .replacingOccurrences(of: "[runtime_random_keyword_type]", with: "keyword")
            guard case .object(let mapping) = try JSONParser().parse(Array(mappingText.utf8)) else { throw SpecTOML.Failure(description: "mapping") }
            _ = try store.createIndex(index, body: ["mappings": .object(mapping)])
            var dataText = try String(contentsOfFile: specDirectory + "/" + dataFile, encoding: .utf8)
            dataText = dataText.split(separator: "\n", omittingEmptySubsequences: false).filter { !String($0).trimmingSpaces.hasPrefix("//") }.joined(separator: "\n")
            guard case .array(let events) = try JSONParser().parse(Array(dataText.utf8)) else { throw SpecTOML.Failure(description: "data") }
            var items: [BulkItem] = []
            for case .object(var event) in events {
                if set.filetime, let ft = event["timestamp"]?.int64Value {
                    event["@timestamp"] = .int(ft / 10_000 - 11_644_473_600_000)
                }
                items.append(BulkItem(target: index, operation: .index(id: nil, source: JSONWriter().encode(.object(event)), create: false, ifSeqNo: nil, ifPrimaryTerm: nil)))
            }
            let results = store.bulk(items)
            for r in results where r.error != nil { throw SpecTOML.Failure(description: "\(index): \(r.error!)") }
            // As the upstream runner's `_bulk?refresh=true`.
            try store.refresh(store.resolve(index))
        }
        stores.withLock { $0[set.name] = store }
        return store
    }

    /// Runs a case; returns the ids (and join keys) it produced, or the error text.
    static func run(_ c: Case) throws -> (ids: [Int64], keys: [String?]) {
        let store = try store(for: c.dataSet)
        var body = JSONObject()
        body["query"] = .string(c.query)
        body["size"] = .int(Int64(c.size ?? 50))
        body["event_category_field"] = "event.category"
        body["timestamp_field"] = .string(c.dataSet.timestampField)
        if let t = c.dataSet.tiebreaker { body["tiebreaker_field"] = .string(t) }
        if let k = c.maxSamplesPerKey { body["max_samples_per_key"] = .int(Int64(k)) }
        let request = try API.parseEQLRequest(body, params: [:])
        let response = try API.runEQL(store: store, expression: c.dataSet.indices.map(\.0).joined(separator: ","), request: request, options: ResolveOptions())
        var ids: [Int64] = []
        var keys: [String?] = []
        func id(_ event: JSONValue) -> Int64 {
            if event["missing"]?.boolValue == true { return -1 }
            return event["_source"]?[c.dataSet.idField]?.int64Value ?? -2
        }
        let hits = response["hits"]
        for e in hits?["events"]?.arrayValue ?? [] { ids.append(id(e)) }
        for s in hits?["sequences"]?.arrayValue ?? [] {
            for e in s["events"]?.arrayValue ?? [] { ids.append(id(e)) }
            for k in s["join_keys"]?.arrayValue ?? [] {
                switch k {
                case .null: keys.append(nil)
                case .string(let x): keys.append(x)
                default: keys.append(k.jsonString)
                }
            }
        }
        return (ids, keys)
    }

    static func passes(_ c: Case) -> (Bool, String) {
        do {
            let (ids, keys) = try run(c)
            if !c.expected.contains(ids) { return (false, "ids \(ids), expected \(c.expected.count == 1 ? "\(c.expected[0])" : "one of \(c.expected)")") }
            // The upstream runner compares join keys as strings, null as "null".
            if let want = c.joinKeys, want.map({ $0 ?? "null" }) != keys.map({ $0 ?? "null" }) {
                return (false, "join_keys \(keys), expected \(want)")
            }
            return (true, "")
        } catch {
            return (false, "error: \(error)")
        }
    }

    @Test(arguments: cases)
    func specCase(_ c: Case) {
        let (ok, why) = EQLSpecTests.passes(c)
        if EQLSpecTests.differences.contains("\(c.file) \(c.name)") {
            #expect(!ok, "listed in docs/eql-differences.md but now agrees with Elasticsearch: remove it from the list")
        } else {
            #expect(ok, "\(why)")
        }
    }

    /// Prints the pass count per spec file (the README's conformance table).
    @Test func passCounts() {
        var lines: [String] = []
        for (file, _) in EQLSpecTests.files {
            let mine = EQLSpecTests.cases.filter { $0.file == file }
            let passed = mine.filter { EQLSpecTests.passes($0).0 }.count
            lines.append("\(file): \(passed)/\(mine.count)")
        }
        print("EQL spec pass counts\n" + lines.joined(separator: "\n"))
        #expect(!EQLSpecTests.cases.isEmpty)
    }
}
