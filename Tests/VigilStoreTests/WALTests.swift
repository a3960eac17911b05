import Testing
@testable import VigilStore

@Suite struct WALTests {
    private func decode(_ bytes: [UInt8]) -> ([WALRecord], Int) {
        let decoded = bytes.withUnsafeBytes { WALRecord.decodeAll($0) }
        return (decoded.records.map(\.0), decoded.tail?.lowerBound ?? bytes.count)
    }

    /// Segments point into the log for `_source`: the offset a record's encoder returns and the
    /// one the decoder reports both frame exactly its source bytes.
    @Test func sourceOffsetsFrameTheSource() {
        let records = [
            WALRecord(op: .index, seqNo: 0, version: 1, id: "first", source: Array(#"{"x":1}"#.utf8)),
            WALRecord(op: .delete, seqNo: 1, version: 2, id: "first"),
            WALRecord(op: .index, seqNo: 2, version: 1, id: String(repeating: "é", count: 30), source: Array(#"{"a":"b","c":[1,2]}"#.utf8)),
        ]
        var bytes: [UInt8] = []
        var written: [Int] = []
        for r in records { written.append(r.append(to: &bytes)) }
        let decoded = bytes.withUnsafeBytes { WALRecord.decodeAll($0).records }
        #expect(decoded.map(\.1) == written)
        for (r, at) in decoded { #expect(Array(bytes[at..<(at + r.source.count)]) == r.source) }
    }

    @Test func recordsRoundTrip() {
        let records = [
            WALRecord(op: .index, seqNo: 0, version: 1, id: "a", source: Array(#"{"x":1}"#.utf8)),
            WALRecord(op: .delete, seqNo: 1, version: 2, id: "a"),
            WALRecord(op: .index, seqNo: Int64.max, version: 7, id: String(repeating: "é", count: 200), source: []),
        ]
        var bytes: [UInt8] = []
        for r in records { r.append(to: &bytes) }
        let (decoded, valid) = decode(bytes)
        #expect(decoded == records)
        #expect(valid == bytes.count)
    }

    /// Records laid out before the lock and finished out of order decode like records written whole;
    /// a rejected slot is skipped, not taken for a torn tail.
    @Test func pendingRecordsFinishedLater() {
        var log = PendingLog()
        let a = log.reserve(id: "a", source: Array("{}".utf8))
        let b = log.reserve(id: "b", source: Array(#"{"y":2}"#.utf8))
        let c = log.reserve(id: "c", source: [])
        log.finish(c, op: .delete, seqNo: 5, version: 3)
        log.finish(a, op: .index, seqNo: 3, version: 1)
        log.finish(b, op: nil, seqNo: -2, version: -1)
        var whole: [UInt8] = []
        WALRecord(op: .index, seqNo: 3, version: 1, id: "a", source: Array("{}".utf8)).append(to: &whole)
        let (decoded, valid) = decode(log.bytes)
        #expect(decoded == [
            WALRecord(op: .index, seqNo: 3, version: 1, id: "a", source: Array("{}".utf8)),
            WALRecord(op: .delete, seqNo: 5, version: 3, id: "c"),
        ])
        #expect(valid == log.bytes.count)
        #expect(Array(log.bytes.prefix(whole.count)) == whole)
    }

    /// Logs written before the tail-last layout, and before CRC-32C, still replay.
    @Test(arguments: [false, true]) func firstLayoutStillReads(legacyChecksum: Bool) {
        // [len][crc][op][seqNo][version][idLen]["k"][srcLen]["{}"]
        var payload: [UInt8] = [1]
        WALRecord.put(9, 8, &payload)
        WALRecord.put(2, 8, &payload)
        WALRecord.put(1, 2, &payload)
        payload.append(UInt8(ascii: "k"))
        WALRecord.put(2, 4, &payload)
        payload.append(contentsOf: Array("{}".utf8))
        var bytes: [UInt8] = []
        WALRecord.put(UInt64(payload.count), 4, &bytes)
        WALRecord.put(UInt64(payload.withUnsafeBytes { legacyChecksum ? LegacyCRC32.checksum($0) : CRC32C.checksum($0) }), 4, &bytes)
        bytes.append(contentsOf: payload)
        let (decoded, _) = decode(bytes)
        #expect(decoded == [WALRecord(op: .index, seqNo: 9, version: 2, id: "k", source: Array("{}".utf8))])
    }

    @Test func corruptLastRecordIsATornTail() {
        var bytes: [UInt8] = []
        WALRecord(op: .index, seqNo: 0, version: 1, id: "a", source: Array("{}".utf8)).append(to: &bytes)
        let first = bytes.count
        WALRecord(op: .index, seqNo: 1, version: 1, id: "b", source: Array("{}".utf8)).append(to: &bytes)
        bytes[bytes.count - 3] ^= 0xFF
        let (decoded, valid) = decode(bytes)
        #expect(decoded.map(\.id) == ["a"])
        #expect(valid == first)
    }

    /// A flipped byte in the middle of a log costs the record it falls in; the records after it
    /// are found again and the damage is reported, not taken for the end of the log.
    @Test(arguments: [0, 3, 8, 12, 20]) func damageIsSkippedAndReported(offsetInSecond: Int) {
        var bytes: [UInt8] = []
        var starts: [Int] = []
        for (i, id) in ["a", "b", "c", "d"].enumerated() {
            starts.append(bytes.count)
            WALRecord(op: .index, seqNo: Int64(i), version: 1, id: id, source: Array(#"{"n":\#(i)}"#.utf8)).append(to: &bytes)
        }
        bytes[starts[1] + offsetInSecond] ^= 0x5A
        let decoded = bytes.withUnsafeBytes { WALRecord.decodeAll($0) }
        #expect(decoded.records.map(\.0.id) == ["a", "c", "d"])
        #expect(decoded.damaged == [starts[1]..<starts[2]])
        #expect(decoded.tail == nil)
    }

    /// An id too long for the record's 16-bit length is laid out empty (the write is refused
    /// after its slot exists), so replay goes on past it.
    @Test func overlongIdNeverBreaksTheLog() {
        var log = PendingLog()
        let a = log.reserve(id: String(repeating: "x", count: 70_000), source: Array("{}".utf8))
        let b = log.reserve(id: "b", source: Array("{}".utf8))
        log.finish(a, op: nil, seqNo: -2, version: -1)
        log.finish(b, op: .index, seqNo: 0, version: 1)
        let (decoded, valid) = decode(log.bytes)
        #expect(decoded == [WALRecord(op: .index, seqNo: 0, version: 1, id: "b", source: Array("{}".utf8))])
        #expect(valid == log.bytes.count)
    }

    @Test func crcContinues() {
        let text = Array("The quick brown fox jumps over the lazy dog".utf8)
        let whole = text.withUnsafeBytes { CRC32C.checksum($0) }
        let split = text.withUnsafeBytes { b in
            CRC32C.update(CRC32C.update(CRC32C.start, UnsafeRawBufferPointer(rebasing: b[..<13])), UnsafeRawBufferPointer(rebasing: b[13...])) ^ 0xFFFF_FFFF
        }
        #expect(split == whole)
    }
}
