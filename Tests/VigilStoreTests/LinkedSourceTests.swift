import Foundation
import Testing
import VigilJSON
@testable import VigilStore

/// `_source` is written once, to the write-ahead log; sealed segments link the log's files
/// rather than copying the bytes. These tests read every source back through each path a
/// document can take: buffer, segment, replay after a restart, merge, and a store without a log.
@Suite struct LinkedSourceTests {
    private func doc(_ i: Int) -> String { #"{"@timestamp":\#(1_000 + i),"n":\#(i),"text":"event number \#(i)"}"# }

    private func files(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    private func sources(_ index: Index) -> [String: String] {
        var out: [String: String] = [:]
        for e in index.reader().segments {
            for d in 0..<e.segment.docCount where !e.deletes.contains(d) {
                out[e.segment.id(d)] = String(decoding: e.segment.source(d), as: UTF8.self)
            }
        }
        return out
    }

    @Test func sealedSegmentsLinkTheLog() throws {
        let dir = TempDirectory()
        let store = try Store(directory: dir.path)
        _ = store.bulk((0..<40).map { BulkItem(target: "l", operation: indexOp("d\($0)", doc($0))) })
        let index = try #require(store.index(named: "l"))
        // Read back from the log before any refresh.
        #expect(index.get(id: "d7").map { String(decoding: $0.source, as: UTF8.self) } == doc(7))
        try index.refresh()
        let segDir = dir.path + "/indices/l/segments/" + index.reader().segments[0].segment.name
        #expect(files(segDir).contains { $0.hasPrefix("wal-") && $0.hasSuffix(".log") })
        #expect(!files(segDir).contains("source.bin"))
        // The log generation itself is gone from the log directory; the segment's link keeps it.
        #expect(!files(dir.path + "/indices/l/wal").contains(files(segDir).first { $0.hasPrefix("wal-") }!))
        #expect(sources(index) == Dictionary(uniqueKeysWithValues: (0..<40).map { ("d\($0)", doc($0)) }))
        let reopened = try Store(directory: dir.path)
        #expect(sources(try #require(reopened.index(named: "l"))) == sources(index))
    }

    /// Sources of one request that an update in the same request reads back before the log
    /// is written, and documents replayed from the log after a restart.
    @Test func pendingAndReplayedSources() throws {
        let dir = TempDirectory()
        do {
            let store = try Store(directory: dir.path)
            let results = store.bulk([
                BulkItem(target: "p", operation: indexOp("a", #"{"x":1,"keep":"yes"}"#)),
                BulkItem(target: "p", operation: .update(id: "a", doc: ["x": 2], upsert: nil, docAsUpsert: false)),
                BulkItem(target: "p", operation: indexOp("b", #"{"x":3}"#)),
            ])
            #expect(results.map(\.status) == [201, 200, 201])
            let index = try #require(store.index(named: "p"))
            #expect(index.get(id: "a").map { String(decoding: $0.source, as: UTF8.self) } == #"{"x":2,"keep":"yes"}"#)
        }
        let store = try Store(directory: dir.path)
        let index = try #require(store.index(named: "p"))
        #expect(index.get(id: "b").map { String(decoding: $0.source, as: UTF8.self) } == #"{"x":3}"#)
        try index.refresh()
        #expect(sources(index) == ["a": #"{"x":2,"keep":"yes"}"#, "b": #"{"x":3}"#])
        let reopened = try Store(directory: dir.path)
        #expect(sources(try #require(reopened.index(named: "p"))) == ["a": #"{"x":2,"keep":"yes"}"#, "b": #"{"x":3}"#])
    }

    /// A merge links its inputs' files again, except a file whose documents are mostly
    /// deleted: those few live sources are copied to the merged segment's own `source.bin`
    /// and the file goes.
    @Test func mergesLinkOrCopy() throws {
        let dir = TempDirectory()
        let store = try Store(directory: dir.path)
        _ = store.bulk([BulkItem(target: "m", operation: indexOp("seed", "{}"))])
        let index = try #require(store.index(named: "m"))
        var expected: [String: String] = ["seed": "{}"]
        for round in 0..<3 {
            _ = store.bulk((0..<20).map { BulkItem(target: "m", operation: indexOp("r\(round)-\($0)", doc(round * 100 + $0))) })
            for i in 0..<20 { expected["r\(round)-\(i)"] = doc(round * 100 + i) }
            try index.refresh()
        }
        // Round 1's file: 18 of its 20 documents deleted.
        for i in 0..<18 {
            _ = store.bulk([BulkItem(target: "m", operation: .delete(id: "r1-\(i)", ifSeqNo: nil, ifPrimaryTerm: nil))])
            expected["r1-\(i)"] = nil
        }
        try index.forceMerge()
        let seg = try #require(index.reader().segments.first?.segment)
        #expect(index.reader().segments.count == 1)
        let names = files(dir.path + "/indices/m/segments/" + seg.name)
        // Round 1's segment is merged away on its own first (mostly deleted), its two live
        // sources copied; the final merge links that copy and the other two log files.
        #expect(names.contains { $0.hasSuffix("source.bin") })
        #expect(names.filter { $0.hasPrefix("wal-") } == ["wal-000001.log", "wal-000003.log"])
        #expect(sources(index) == expected)
        let reopened = try Store(directory: dir.path)
        #expect(sources(try #require(reopened.index(named: "m"))) == expected)
    }

    /// A store without a log (offline hunting) writes sources into the segment as before.
    @Test func storeWithoutALogWritesSourceBin() throws {
        let dir = TempDirectory()
        let store = try Store(directory: dir.path, durable: false)
        _ = store.bulk((0..<5).map { BulkItem(target: "s", operation: indexOp("d\($0)", doc($0))) })
        let index = try #require(store.index(named: "s"))
        #expect(index.get(id: "d2").map { String(decoding: $0.source, as: UTF8.self) } == doc(2))
        try index.refresh()
        let seg = index.reader().segments[0].segment
        #expect(files(dir.path + "/indices/s/segments/" + seg.name).filter { $0.hasSuffix(".log") }.isEmpty)
        #expect(sources(index) == Dictionary(uniqueKeysWithValues: (0..<5).map { ("d\($0)", doc($0)) }))
    }
}
