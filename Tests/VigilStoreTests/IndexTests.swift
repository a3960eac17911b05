import Foundation
import Synchronization
import Testing
import VigilJSON
@testable import VigilStore

@Suite struct IndexTests {
    @Test func writeGetRefreshSearch() throws {
        let dir = TempDirectory()
        let store = try Store(directory: dir.path)
        let results = store.bulk([
            BulkItem(target: "logs", operation: indexOp("1", #"{"@timestamp":"2026-01-01T00:00:02Z","a":"x"}"#)),
            BulkItem(target: "logs", operation: indexOp("2", #"{"@timestamp":"2026-01-01T00:00:01Z","a":"y"}"#)),
            BulkItem(target: "logs", operation: indexOp(nil, #"{"@timestamp":"2026-01-01T00:00:03Z","a":"z","rare":7,"word":"a-long-word"}"#)),
        ])
        #expect(results.map(\.status) == [201, 201, 201])
        #expect(results.map(\.seqNo) == [0, 1, 2])
        let index = try #require(store.index(named: "logs"))
        #expect(index.get(id: "1") != nil)
        #expect(index.reader().liveCount == 0)
        try index.refresh()
        let reader = index.reader()
        #expect(reader.liveCount == 3)
        let seg = reader.segments[0].segment
        // Time-sorted: doc 0 is the earliest event.
        #expect(seg.id(0) == "2")
        #expect(seg.timestamps[0] < seg.timestamps[1])
        #expect(seg.find(id: "1") == 1)
        #expect(seg.columns["a.keyword"]?.values(2) == [.string("z")])
        // A field one document in three has is stored sparse; a `.keyword` equal to its text field shares it.
        #expect(seg.columns["rare"]?.ranks != nil)
        #expect(seg.columns["rare"]?.values(0) == [])
        #expect(seg.columns["rare"]?.values(2) == [.int(7)])
        #expect(seg.columns["word.keyword"]?.values(2) == [.string("a-long-word")])
        #expect(seg.columns["a"]?.codes.baseAddress == seg.columns["a.keyword"]?.codes.baseAddress)
        #expect(seg.categories.isEmpty)
    }

    @Test func versionsUpdatesDeletesAndConflicts() throws {
        let dir = TempDirectory()
        let store = try Store(directory: dir.path)
        _ = store.bulk([BulkItem(target: "i", operation: indexOp("a", #"{"n":1}"#))])
        let index = try #require(store.index(named: "i"))
        try index.refresh()
        var r = index.write([indexOp("a", #"{"n":2}"#)])[0]
        #expect(r.version == 2 && r.outcome == .updated)
        r = index.write([indexOp("a", #"{"n":3}"#, create: true)])[0]
        #expect(r.status == 409)
        r = index.write([.update(id: "a", doc: ["m": 5], upsert: nil, docAsUpsert: false)])[0]
        #expect(r.version == 3)
        let doc = try #require(index.get(id: "a"))
        #expect(try JSONParser().parse(doc.source) == parse(#"{"n":2,"m":5}"#))
        r = index.write([.update(id: "a", doc: ["m": 5], upsert: nil, docAsUpsert: false)])[0]
        #expect(r.outcome == .noop)
        r = index.write([.delete(id: "a", ifSeqNo: nil, ifPrimaryTerm: nil)])[0]
        #expect(r.outcome == .deleted && r.version == 4)
        r = index.write([.delete(id: "a", ifSeqNo: nil, ifPrimaryTerm: nil)])[0]
        // As Elasticsearch: a delete that finds nothing still advances the id's tombstone version.
        #expect(r.outcome == .notFound && r.status == 404 && r.version == 5)
        r = index.write([.update(id: "zz", doc: ["m": 1], upsert: nil, docAsUpsert: false)])[0]
        #expect(r.error?.code == .documentMissing)
        r = index.write([indexOp("a", #"{"n":9}"#)])[0]
        #expect(r.version == 6 && r.outcome == .created)
        try index.refresh()
        #expect(index.reader().liveCount == 1)
    }

    @Test func generatedIdsAreFoundAndUpdatedBeforeRefresh() throws {
        let dir = TempDirectory()
        let store = try Store(directory: dir.path)
        let created = store.bulk((0..<50).map { BulkItem(target: "g", operation: indexOp(nil, #"{"n":\#($0)}"#)) })
        let index = try #require(store.index(named: "g"))
        let id = created[17].id
        #expect(index.get(id: id) != nil)
        let update = index.write([indexOp(id, #"{"n":1000}"#)])[0]
        #expect(update.outcome == .updated && update.version == 2)
        try index.refresh()
        #expect(index.reader().liveCount == 50)
        #expect(try JSONParser().parse(try #require(index.get(id: id)).source) == parse(#"{"n":1000}"#))
    }

    @Test func ifSeqNoGuardsConcurrentChanges() throws {
        let dir = TempDirectory()
        let store = try Store(directory: dir.path)
        let r0 = store.bulk([BulkItem(target: "i", operation: indexOp("a", "{}"))])[0]
        let index = try #require(store.index(named: "i"))
        let stale = index.write([.index(id: "a", source: source("{}"), create: false, ifSeqNo: r0.seqNo + 5, ifPrimaryTerm: 1)])[0]
        #expect(stale.status == 409)
        let fresh = index.write([.index(id: "a", source: source("{}"), create: false, ifSeqNo: r0.seqNo, ifPrimaryTerm: 1)])[0]
        #expect(fresh.status == 200)
    }

    @Test func oneBadDocumentFailsOnlyItself() throws {
        let dir = TempDirectory()
        let store = try Store(directory: dir.path)
        let results = store.bulk([
            BulkItem(target: "i", operation: indexOp("1", #"{"count":5}"#)),
            BulkItem(target: "i", operation: indexOp("2", #"{"count":"five"}"#)),
            BulkItem(target: "i", operation: indexOp("3", #"{"count":6"#)),
            BulkItem(target: "i", operation: indexOp("4", #"{"count":7}"#)),
        ])
        #expect(results.map(\.status) == [201, 400, 400, 201])
        #expect(results[1].error?.code == .mapperParsing)
        #expect(results[2].error?.code == .mapperParsing)
    }

    @Test func recoveryReplaysTheLogAndKeepsSegments() throws {
        let dir = TempDirectory()
        do {
            let store = try Store(directory: dir.path)
            _ = store.bulk((0..<50).map { BulkItem(target: "r", operation: indexOp("s\($0)", #"{"i":\#($0)}"#)) })
            try store.index(named: "r")!.refresh()
            _ = store.bulk((0..<30).map { BulkItem(target: "r", operation: indexOp("w\($0)", #"{"i":\#($0)}"#)) })
            _ = store.bulk([BulkItem(target: "r", operation: .delete(id: "s3", ifSeqNo: nil, ifPrimaryTerm: nil))])
        }
        let reopened = try Store(directory: dir.path)
        let index = try #require(reopened.index(named: "r"))
        #expect(index.get(id: "w29") != nil)
        #expect(index.get(id: "s3") == nil)
        #expect(index.get(id: "s4") != nil)
        try index.refresh()
        #expect(index.reader().liveCount == 79)
        let next = index.write([indexOp("new", "{}")])[0]
        #expect(next.seqNo == 81)
    }

    @Test func tornLogTailIsIgnored() throws {
        let dir = TempDirectory()
        do {
            let store = try Store(directory: dir.path)
            _ = store.bulk((0..<10).map { BulkItem(target: "t", operation: indexOp("d\($0)", "{}")) })
        }
        let walDir = dir.path + "/indices/t/wal"
        let last = try #require(try FileManager.default.contentsOfDirectory(atPath: walDir).sorted().last)
        let handle = try #require(FileHandle(forWritingAtPath: walDir + "/" + last))
        handle.seekToEndOfFile()
        handle.write(Data([0x40, 0, 0, 0, 1, 2, 3, 4, 1, 9, 9]))
        try handle.close()
        let reopened = try Store(directory: dir.path)
        let index = try #require(reopened.index(named: "t"))
        try index.refresh()
        #expect(index.reader().liveCount == 10)
    }

    @Test func mergeKeepsEveryLiveDocument() throws {
        let dir = TempDirectory()
        let store = try Store(directory: dir.path)
        for round in 0..<12 {
            _ = store.bulk((0..<20).map { BulkItem(target: "m", operation: indexOp("r\(round)-\($0)", #"{"@timestamp":\#(round * 100 + $0),"tags":["a","b"],"ip":"10.0.0.\#($0)"}"#)) })
            _ = store.bulk([BulkItem(target: "m", operation: .delete(id: "r\(round)-0", ifSeqNo: nil, ifPrimaryTerm: nil))])
            try store.index(named: "m")!.refresh()
        }
        let index = try #require(store.index(named: "m"))
        #expect(index.reader().segments.count <= Index.mergeFactor)
        #expect(index.reader().liveCount == 12 * 19)
        try index.forceMerge()
        let reader = index.reader()
        #expect(reader.segments.count == 1)
        let seg = reader.segments[0].segment
        #expect(seg.docCount == 12 * 19)
        let doc = try #require(seg.find(id: "r5-7"))
        #expect(seg.columns["tags.keyword"]?.values(doc) == [.string("a"), .string("b")])
        #expect(seg.columns["ip.keyword"]?.values(doc) == [.string("10.0.0.7")])
        #expect(Array(seg.timestamps) == Array(seg.timestamps).sorted())
        let reopened = try Store(directory: dir.path)
        #expect(reopened.index(named: "m")!.reader().liveCount == 12 * 19)
    }

    @Test func dataStreamsComeFromTemplates() throws {
        let dir = TempDirectory()
        let store = try Store(directory: dir.path)
        guard case .object(let body) = try parse(#"{"index_patterns":["ds*"],"data_stream":{},"priority":500}"#) else { return }
        try store.putTemplate("t", body: body)
        let ok = store.bulk([BulkItem(target: "ds1", operation: indexOp(nil, #"{"@timestamp":131883571822010000}"#, create: true))])[0]
        #expect(ok.status == 201)
        #expect(ok.index.hasPrefix(".ds-ds1-"))
        #expect(ok.index.hasSuffix("-000001"))
        let noTimestamp = store.bulk([BulkItem(target: "ds1", operation: indexOp(nil, "{}", create: true))])[0]
        #expect(noTimestamp.status == 400)
        let notCreate = store.bulk([BulkItem(target: "ds1", operation: indexOp("x", #"{"@timestamp":1}"#))])[0]
        #expect(notCreate.error?.code == .illegalArgument)
        #expect(try store.resolve("ds1").count == 1)
        #expect(try store.resolve("ds*").count == 1)
        #expect(try store.resolve("*").count == 1)
        #expect(throws: StoreError.self) { try store.deleteTemplate("t") }
        let reopened = try Store(directory: dir.path)
        #expect(reopened.dataStream(named: "ds1")?.indices == [ok.index])
    }

    @Test(arguments: ["UPPER", "_under", "a b", "a/b", "..", String(repeating: "x", count: 256)])
    func invalidIndexNames(_ name: String) {
        #expect(throws: StoreError.self) { try Store.validateIndexName(name) }
    }
}

@Suite struct ConcurrentRefreshTests {
    /// Writers update and delete documents while refreshes seal buffers outside the lock:
    /// every id must end with exactly its last write, once.
    @Test func writesDuringSealingLandOnce() throws {
        let dir = TempDirectory()
        let store = try Store(directory: dir.path)
        _ = store.bulk([BulkItem(target: "c", operation: indexOp("seed", "{}"))])
        let index = try #require(store.index(named: "c"))
        let ids = 200
        // Enough refreshes to pass the merge threshold several times while writes go on.
        let rounds = 40
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            if worker == 0 {
                for round in 0..<rounds {
                    let ops = (0..<ids).map { i -> WriteOperation in
                        i % 7 == 3 && round % 2 == 1
                            ? .delete(id: "d\(i)", ifSeqNo: nil, ifPrimaryTerm: nil)
                            : indexOp("d\(i)", #"{"round":\#(round),"i":\#(i)}"#)
                    }
                    _ = index.write(ops)
                }
            } else {
                for _ in 0..<rounds { _ = try? index.refresh() }
            }
        }
        try index.refresh()
        // Merges ran meanwhile: forty refreshes did not leave forty segments.
        #expect(index.reader().segments.count <= Index.mergeFactor)
        let last = rounds - 1
        var expected = 1
        for i in 0..<ids {
            let deletedLast = i % 7 == 3 && last % 2 == 1
            let doc = index.get(id: "d\(i)")
            if deletedLast {
                #expect(doc == nil)
            } else {
                expected += 1
                let source = try JSONParser().parse(try #require(doc).source)
                #expect(source["round"] == .int(Int64(last)))
            }
        }
        #expect(index.reader().liveCount == expected)
        let reopened = try Store(directory: dir.path)
        let again = try #require(reopened.index(named: "c"))
        try again.refresh()
        #expect(again.reader().liveCount == expected)
    }
}

/// Searches see the index as of the last refresh: an update or a delete hides the old version
/// only when the refresh that shows the change happens, so a document is never missing from (or
/// twice in) a search in between.
@Suite struct RefreshVisibilityTests {
    /// Each visible document's `n`, by id (an id seen twice fails).
    static func visible(_ index: Index) throws -> [String: Int64] {
        var out: [String: Int64] = [:]
        for live in index.reader().segments {
            for doc in 0..<live.segment.docCount where live.isLive(doc) {
                let id = live.segment.id(doc)
                #expect(out[id] == nil, "\(id) is visible twice")
                out[id] = try JSONParser().parse(live.segment.sourceBytes(doc))["n"]?.int64Value ?? -1
            }
        }
        return out
    }

    @Test func updatesAndDeletesShowAtTheRefresh() throws {
        let dir = TempDirectory()
        let store = try Store(directory: dir.path)
        _ = store.bulk([BulkItem(target: "v", operation: indexOp("a", #"{"n":1}"#)), BulkItem(target: "v", operation: indexOp("b", #"{"n":1}"#))])
        let index = try #require(store.index(named: "v"))
        try index.refresh()
        _ = index.write([indexOp("a", #"{"n":2}"#), .delete(id: "b", ifSeqNo: nil, ifPrimaryTerm: nil)])
        // Gets are real-time; searches still see the refreshed versions.
        #expect(index.get(id: "b") == nil)
        #expect(try JSONParser().parse(try #require(index.get(id: "a")).source)["n"] == .int(2))
        #expect(try Self.visible(index) == ["a": 1, "b": 1])
        #expect(index.hasPendingWrites)
        // A merge in between keeps what searches see.
        try index.merging.withLock { (_) throws(StoreError) in try index.mergeIfNeeded(all: true) }
        #expect(try Self.visible(index) == ["a": 1, "b": 1])
        try index.refresh()
        #expect(try Self.visible(index) == ["a": 2])
        #expect(index.stats.docs == 1)
        // A delete alone (no new document) shows at the next refresh too.
        _ = index.write([.delete(id: "a", ifSeqNo: nil, ifPrimaryTerm: nil)])
        #expect(try Self.visible(index) == ["a": 2])
        try index.refresh()
        #expect(try Self.visible(index).isEmpty)
        // What was committed comes back after a restart.
        let reopened = try Store(directory: dir.path)
        #expect(try Self.visible(try #require(reopened.index(named: "v"))).isEmpty)
    }

    /// Writers update every document over and over while refreshes (and the merges they start)
    /// run: every search sees each document exactly once.
    @Test func searchesNeverLoseADocumentBeingUpdated() throws {
        let dir = TempDirectory()
        let store = try Store(directory: dir.path)
        let ids = 100
        _ = store.bulk((0..<ids).map { BulkItem(target: "u", operation: indexOp("d\($0)", #"{"n":0}"#)) })
        let index = try #require(store.index(named: "u"))
        try index.refresh()
        let done = Atomic<Bool>(false)
        let problems = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 3) { worker in
            switch worker {
            case 0:
                for round in 1...60 {
                    _ = index.write((0..<ids).map { indexOp("d\($0)", #"{"n":\#(round)}"#) })
                    if round % 3 == 0 { _ = try? index.refresh() }
                }
                done.store(true, ordering: .releasing)
            case 1:
                while !done.load(ordering: .acquiring) { _ = try? index.refresh() }
            default:
                while !done.load(ordering: .acquiring) {
                    let reader = index.reader()
                    var seen = Set<String>()
                    for live in reader.segments {
                        for doc in 0..<live.segment.docCount where live.isLive(doc) { seen.insert(live.segment.id(doc)) }
                    }
                    if reader.liveCount != ids || seen.count != ids {
                        problems.withLock { $0.append("\(reader.liveCount) visible, \(seen.count) ids") }
                    }
                }
            }
        }
        #expect(problems.withLock { $0 }.isEmpty, "\(problems.withLock { $0.prefix(5) })")
        try index.refresh()
        #expect(try Self.visible(index) == Dictionary(uniqueKeysWithValues: (0..<ids).map { ("d\($0)", Int64(60)) }))
    }
}

@Suite struct BatchWriteTests {
    /// A request that streams whole (the batch path) with conflicts, repeated ids and deletes
    /// ends in the same state as the per-document path, live and after replaying its log.
    @Test func batchPathMatchesAndReplays() throws {
        let dir = TempDirectory()
        let ops: [WriteOperation] = [
            .index(id: "a", source: Array(#"{"h":"x","n":1}"#.utf8), create: true, ifSeqNo: nil, ifPrimaryTerm: nil),
            .index(id: "b", source: Array(#"{"h":"y","n":2}"#.utf8), create: true, ifSeqNo: nil, ifPrimaryTerm: nil),
            .index(id: "a", source: Array(#"{"h":"z","n":3}"#.utf8), create: true, ifSeqNo: nil, ifPrimaryTerm: nil),
            .index(id: "b", source: Array(#"{"h":"x","n":4}"#.utf8), create: false, ifSeqNo: nil, ifPrimaryTerm: nil),
            .delete(id: "a", ifSeqNo: nil, ifPrimaryTerm: nil),
            .delete(id: "nope", ifSeqNo: nil, ifPrimaryTerm: nil),
            .index(id: nil, source: Array(#"{"h":"w","n":5}"#.utf8), create: true, ifSeqNo: nil, ifPrimaryTerm: nil),
        ]
        var generated = ""
        do {
            let store = try Store(directory: dir.path)
            // The first write maps the fields, so the second request streams as a whole.
            _ = store.bulk([BulkItem(target: "b", operation: .index(id: "seed", source: Array(#"{"h":"s","n":0}"#.utf8), create: true, ifSeqNo: nil, ifPrimaryTerm: nil))])
            let index = try #require(store.index(named: "b"))
            let results = index.write(ops)
            #expect(results.map(\.status) == [201, 201, 409, 200, 200, 404, 201])
            generated = results[6].id
            #expect(index.get(id: "b")?.version == 2)
            #expect(index.get(id: "a") == nil)
        }
        let index = try #require(try Store(directory: dir.path).index(named: "b"))
        #expect(index.get(id: "a") == nil)
        #expect(index.get(id: "b").map { String(decoding: $0.source, as: UTF8.self) } == #"{"h":"x","n":4}"#)
        #expect(index.get(id: "b")?.version == 2)
        #expect(index.get(id: generated) != nil)
        try index.refresh()
        #expect(index.reader().liveCount == 3)
        #expect(index.write([.index(id: nil, source: Array("{}".utf8), create: true, ifSeqNo: nil, ifPrimaryTerm: nil)])[0].seqNo == 7)
    }

    /// Columns built per request and merged under the lock hold the values the general mapper
    /// gives each document, including multi-valued fields and rejected documents left out.
    @Test func batchColumnsHoldEachDocumentsValues() throws {
        let dir = TempDirectory()
        let store = try Store(directory: dir.path)
        let docs = (0..<300).map { i in
            #"{"@timestamp":\#(1_700_000_000_000 + i),"host":{"name":"h\#(i % 7)","ip":"10.0.\#(i % 3).\#(i % 250)"},"tags":["t\#(i % 2)","u\#(i % 5)"],"n":\#(i),"f":\#(i).5,"ok":\#(i % 2 == 0)}"#
        }
        _ = store.bulk([BulkItem(target: "c", operation: .index(id: "d0", source: Array(docs[0].utf8), create: true, ifSeqNo: nil, ifPrimaryTerm: nil))])
        let index = try #require(store.index(named: "c"))
        for chunk in stride(from: 1, to: docs.count, by: 100) {
            // Each request repeats one id of the previous one, which `create` rejects.
            var ops = (chunk..<min(chunk + 100, docs.count)).map { WriteOperation.index(id: "d\($0)", source: Array(docs[$0].utf8), create: true, ifSeqNo: nil, ifPrimaryTerm: nil) }
            ops.insert(.index(id: "d\(chunk - 1)", source: Array(#"{"n":-1}"#.utf8), create: true, ifSeqNo: nil, ifPrimaryTerm: nil), at: 50)
            #expect(index.write(ops).filter { $0.status == 409 }.count == 1)
        }
        try index.refresh()
        #expect(try columnsMatchTheGeneralMapper(index) == 300)
    }

    /// Multi-fields mirror their parent (one interning for both) until a value reaches one
    /// and not the other: a keyword's `ignore_above`, a parent's `ignore_above` with a text
    /// sub-field, documents that take the general path. Every column must still hold what the
    /// general mapper gives each document, in every combination of batch and buffer.
    @Test(arguments: [1, 7, 40])
    func multiFieldsMirrorUntilTheyDiffer(seed: Int) throws {
        let dir = TempDirectory()
        let store = try Store(directory: dir.path)
        _ = try store.createIndex("mf", body: ["mappings": ["properties": [
            "code": ["type": "keyword", "ignore_above": 8, "fields": ["text": ["type": "text"]]],
        ]]])
        let index = try #require(store.index(named: "mf"))
        var state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        var n = 0
        // Every field seen once, so later requests stream (the batch path) unless they hold a
        // document with a dotted key, which sends that request down the per-document path.
        _ = index.write([indexOp("seed", #"{"@timestamp":1,"msg":"m","code":"c","tags":["t"],"x.y":1}"#)])
        try index.refresh()
        for request in 0..<9 {
            var ops: [WriteOperation] = []
            let count = 20 + Int(next() % 60)
            for i in 0..<count {
                // Request 4 (first after a refresh) starts the buffer's mirrors; request 5
                // ends on a value the keyword skips, so its batch mirror is cut short at the end.
                let long = request == 5 ? i == count - 1 : request != 4 && next() % UInt64(seed) == 0
                let msg = long ? String(repeating: "m", count: 257 + Int(next() % 5)) : "msg \(next() % 9)"
                let code = next() % 5 == 0 ? "c-longer-than-eight-\(n % 3)" : "c\(n % 4)"
                let extra = request % 3 == 0 && next() % 5 == 0 ? #","x.y":1"# : ""
                let tags = next() % 3 == 0 ? #""t1","t\#(n % 2)""# : #""t\#(n % 3)""#
                ops.append(indexOp("d\(n)", #"{"@timestamp":\#(1_700_000_000_000 + n),"msg":"\#(msg)","code":"\#(code)","tags":[\#(tags)]\#(extra)}"#))
                n += 1
            }
            #expect(index.write(ops).allSatisfy { $0.error == nil })
            if request % 4 == 3 { try index.refresh() }
        }
        try index.refresh()
        #expect(try columnsMatchTheGeneralMapper(index) == n + 1)
    }

    /// Checks every stored document's columns against the general mapper's reading of its
    /// source; returns how many documents it checked.
    private func columnsMatchTheGeneralMapper(_ index: Index) throws -> Int {
        var mapper = DocumentMapper(mapping: index.mapping)
        var seen = 0
        for live in index.reader().segments {
            let seg = live.segment
            for doc in 0..<seg.docCount {
                guard case .object(let o) = try JSONParser().parse(seg.sourceBytes(doc)) else { continue }
                var expected: [String: [FieldValue]] = [:]
                for (slot, v) in try mapper.map(o, id: seg.id(doc)).fields { expected[mapper.slots.paths[slot], default: []].append(v) }
                for path in Set(expected.keys).union(seg.columns.keys) {
                    let values = seg.columns[path]?.values(doc) ?? []
                    #expect(values == expected[path] ?? [], "\(seg.id(doc)) \(path)")
                }
                seen += 1
            }
        }
        return seen
    }
}

@Suite struct MergeBesideRefreshTests {
    /// The moment that matters, made deterministic: a refresh has rolled the log (its buffer is
    /// not sealed yet) when a merge commits. The merge's commit must still replay the rolled
    /// generation, or a crash right then would lose acknowledged writes.
    @Test func mergeCommitKeepsUnsealedWritesReplayable() throws {
        let dir = TempDirectory()
        let store = try Store(directory: dir.path)
        for round in 0..<3 {
            _ = store.bulk((0..<20).map { BulkItem(target: "c", operation: indexOp("s\(round)-\($0)", #"{"n":\#($0)}"#)) })
            try store.index(named: "c")!.refresh()
        }
        let index = try #require(store.index(named: "c"))
        _ = store.bulk((0..<5).map { BulkItem(target: "c", operation: indexOp("pending-\($0)", #"{"n":1}"#)) })
        // What a refresh's first phase does before it writes the segment.
        _ = try index.wal.roll()
        try index.merging.withLock { (_) throws(StoreError) in try index.mergeIfNeeded(all: true) }
        let reopened = try #require(try Store(directory: dir.path).index(named: "c"))
        for i in 0..<5 { #expect(reopened.get(id: "pending-\(i)") != nil) }
        #expect(reopened.get(id: "s2-19") != nil)
    }

    /// Merges run beside refreshes and writes; afterwards every acknowledged document is
    /// there, also for a store opened again on the same directory.
    @Test func acknowledgedWritesSurviveAConcurrentMerge() throws {
        let dir = TempDirectory()
        let store = try Store(directory: dir.path)
        for round in 0..<10 {
            _ = store.bulk((0..<200).map { BulkItem(target: "g", operation: indexOp("s\(round)-\($0)", #"{"n":\#($0),"t":"x\#(round)"}"#)) })
            try store.index(named: "g")!.refresh()
        }
        let index = try #require(store.index(named: "g"))
        let acknowledged = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            if worker == 0 {
                try? index.forceMerge()
            } else {
                for round in 0..<30 {
                    let ids = (0..<50).map { "w\(round)-\($0)" }
                    let results = store.bulk(ids.map { BulkItem(target: "g", operation: indexOp($0, #"{"n":1}"#)) })
                    acknowledged.withLock { $0.append(contentsOf: zip(ids, results).filter { $0.1.error == nil }.map(\.0)) }
                    if round % 3 == 0 { try? index.refresh() }
                }
            }
        }
        // A second store on the same directory sees what a restart after a crash would.
        let reopened = try #require(try Store(directory: dir.path).index(named: "g"))
        for id in acknowledged.withLock({ $0 }) { #expect(reopened.get(id: id) != nil, "lost \(id)") }
        #expect(reopened.get(id: "s9-199") != nil)
    }
}
