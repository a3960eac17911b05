/// One logged write. Layout: `[u32 length | 0x8000_0000][u32 crc32][payload]`, payload
/// `[u16 idLength][id][u32 sourceLength][source][u8 op][u64 seqNo][u64 version]`, little-endian.
///
/// What is assigned under the index lock (op, seqNo, version) comes last, so a request's records
/// are laid out and almost all of their checksums computed before the lock is taken
/// (`PendingLog`). Records of the first layout (`[u8 op][u64 seqNo][u64 version]` first, no
/// flag bit in the length) are still read.
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

    /// Appends the encoded record; returns where its source bytes start in `out`.
    @discardableResult
    func append(to out: inout [UInt8]) -> Int {
        var log = PendingLog(bytes: out)
        out = []  // so the bytes stay uniquely referenced and grow in place
        let k = log.reserve(id: id, source: source)
        log.finish(k, op: op, seqNo: seqNo, version: version)
        out = log.bytes
        return log.sourceStart(k)
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
    /// Returns the records, each with the offset of its source bytes in the file, and the
    /// byte length of the valid prefix.
    static func decodeAll(_ b: UnsafeRawBufferPointer) -> ([(WALRecord, Int)], Int) {
        var out: [(WALRecord, Int)] = []
        var p = 0
        while p + 8 <= b.count {
            let word = UInt32(get(b, p, 4))
            let length = Int(word & 0x7FFF_FFFF)
            let crc = UInt32(get(b, p + 4, 4))
            guard length >= 23, p + 8 + length <= b.count else { break }
            let payload = UnsafeRawBufferPointer(rebasing: b[(p + 8)..<(p + 8 + length)])
            guard CRC32C.checksum(payload) == crc || LegacyCRC32.checksum(payload) == crc else { break }
            let opAt: Int, seqAt: Int, idAt: Int
            if word & 0x8000_0000 != 0 {
                (opAt, seqAt, idAt) = (length - 17, length - 16, 0)
            } else {
                (opAt, seqAt, idAt) = (0, 1, 17)
            }
            let idLength = Int(get(payload, idAt, 2))
            guard idAt + 2 + idLength + 4 <= length else { break }
            let id = String(decoding: UnsafeRawBufferPointer(rebasing: payload[(idAt + 2)..<(idAt + 2 + idLength)]), as: UTF8.self)
            let sourceLength = Int(get(payload, idAt + 2 + idLength, 4))
            let sourceStart = idAt + 6 + idLength
            guard sourceStart + sourceLength + (idAt == 0 ? 17 : 0) == length else { break }
            p += 8 + length
            // A reserved slot whose write was rejected.
            if payload[opAt] == 0 && idAt == 0 { continue }
            guard let op = Op(rawValue: payload[opAt]) else { break }
            let source = [UInt8](UnsafeRawBufferPointer(rebasing: payload[sourceStart..<(sourceStart + sourceLength)]))
            out.append((WALRecord(op: op, seqNo: Int64(bitPattern: get(payload, seqAt, 8)), version: Int64(bitPattern: get(payload, seqAt + 8, 8)), id: id, source: source),
                        p - length + sourceStart))
        }
        return (out, p)
    }
}

/// Log records laid out before the index lock is taken: ids and sources copied and checksummed
/// up to the tail, which `finish` fills in (op, seqNo, version) under the lock.
struct PendingLog {
    var bytes: [UInt8] = []
    private var starts: [Int] = []
    /// The running CRC of each record up to its tail.
    private var crcs: [UInt32] = []

    /// A disabled log (a store that is not durable) lays nothing out.
    private let enabled: Bool

    init(bytes: [UInt8] = [], enabled: Bool = true) {
        self.bytes = bytes
        self.enabled = enabled
    }

    var count: Int { starts.count }

    /// Lays out a record for `id` and `source`; returns its number for `finish`.
    mutating func reserve(id: String, source: [UInt8]) -> Int {
        guard enabled else { return 0 }
        let start = bytes.count
        bytes.append(contentsOf: [0, 0, 0, 0, 0, 0, 0, 0])
        var id = id
        id.withUTF8 { u in
            WALRecord.put(UInt64(u.count), 2, &bytes)
            bytes.append(contentsOf: u)
        }
        WALRecord.put(UInt64(source.count), 4, &bytes)
        bytes.append(contentsOf: source)
        let crc = bytes.withUnsafeBytes { CRC32C.update(CRC32C.start, UnsafeRawBufferPointer(rebasing: $0[(start + 8)...])) }
        bytes.append(contentsOf: repeatElement(0, count: 17))
        starts.append(start)
        crcs.append(crc)
        return starts.count - 1
    }

    /// Where record `k`'s source bytes start in `bytes`.
    func sourceStart(_ k: Int) -> Int {
        let start = starts[k]
        let idLength = Int(bytes[start + 8]) | Int(bytes[start + 9]) << 8
        return start + 8 + 2 + idLength + 4
    }

    /// Completes record `k`; a nil `op` marks a write that was rejected, which replay skips.
    mutating func finish(_ k: Int, op: WALRecord.Op?, seqNo: Int64, version: Int64) {
        guard enabled else { return }
        let start = starts[k]
        let end = k + 1 < starts.count ? starts[k + 1] : bytes.count
        let tail = end - 17
        let crc = crcs[k]
        bytes.withUnsafeMutableBytes { b in
            b[tail] = op?.rawValue ?? 0
            b.storeBytes(of: UInt64(bitPattern: seqNo).littleEndian, toByteOffset: tail + 1, as: UInt64.self)
            b.storeBytes(of: UInt64(bitPattern: version).littleEndian, toByteOffset: tail + 9, as: UInt64.self)
            let sum = CRC32C.update(crc, UnsafeRawBufferPointer(rebasing: b[tail..<end])) ^ 0xFFFF_FFFF
            b.storeBytes(of: (UInt32(end - start - 8) | 0x8000_0000).littleEndian, toByteOffset: start, as: UInt32.self)
            b.storeBytes(of: sum.littleEndian, toByteOffset: start + 4, as: UInt32.self)
        }
    }
}
