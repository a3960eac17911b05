/// One logged write. Layout: `[u32 length][u32 crc32][payload]`, payload
/// `[u8 op][u64 seqNo][u64 version][u16 idLength][id][u32 sourceLength][source]`, little-endian.
public struct WALRecord: Sendable, Equatable {
    public enum Op: UInt8, Sendable {
        case index = 1
        case delete = 2
    }

    public var op: Op
    public var seqNo: Int64
    public var version: Int64
    public var id: String
    public var source: [UInt8]

    public init(op: Op, seqNo: Int64, version: Int64, id: String, source: [UInt8] = []) {
        self.op = op
        self.seqNo = seqNo
        self.version = version
        self.id = id
        self.source = source
    }

    func append(to out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: [0, 0, 0, 0, 0, 0, 0, 0])
        out.append(op.rawValue)
        WALRecord.put(UInt64(bitPattern: seqNo), 8, &out)
        WALRecord.put(UInt64(bitPattern: version), 8, &out)
        let idBytes = Array(id.utf8)
        WALRecord.put(UInt64(idBytes.count), 2, &out)
        out.append(contentsOf: idBytes)
        WALRecord.put(UInt64(source.count), 4, &out)
        out.append(contentsOf: source)
        let length = out.count - start - 8
        let crc = out.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[(start + 8)...])) }
        for i in 0..<4 {
            out[start + i] = UInt8(truncatingIfNeeded: length >> (8 * i))
            out[start + 4 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i)))
        }
    }

    static func put(_ v: UInt64, _ n: Int, _ out: inout [UInt8]) {
        for i in 0..<n { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }

    static func get(_ b: UnsafeRawBufferPointer, _ at: Int, _ n: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<n { v |= UInt64(b[at + i]) << (8 * UInt64(i)) }
        return v
    }

    /// Decodes the records of one log file, stopping at the first torn or corrupt record.
    /// Returns the records and the byte length of the valid prefix.
    static func decodeAll(_ b: UnsafeRawBufferPointer) -> ([WALRecord], Int) {
        var out: [WALRecord] = []
        var p = 0
        while p + 8 <= b.count {
            let length = Int(get(b, p, 4))
            let crc = UInt32(get(b, p + 4, 4))
            guard length >= 23, p + 8 + length <= b.count else { break }
            let payload = UnsafeRawBufferPointer(rebasing: b[(p + 8)..<(p + 8 + length)])
            guard CRC32.checksum(payload) == crc, let op = Op(rawValue: payload[0]) else { break }
            let seqNo = Int64(bitPattern: get(payload, 1, 8))
            let version = Int64(bitPattern: get(payload, 9, 8))
            let idLength = Int(get(payload, 17, 2))
            guard 19 + idLength + 4 <= length else { break }
            let id = String(decoding: UnsafeRawBufferPointer(rebasing: payload[19..<(19 + idLength)]), as: UTF8.self)
            let sourceLength = Int(get(payload, 19 + idLength, 4))
            let sourceStart = 23 + idLength
            guard sourceStart + sourceLength == length else { break }
            let source = [UInt8](UnsafeRawBufferPointer(rebasing: payload[sourceStart..<(sourceStart + sourceLength)]))
            out.append(WALRecord(op: op, seqNo: seqNo, version: version, id: id, source: source))
            p += 8 + length
        }
        return (out, p)
    }
}
