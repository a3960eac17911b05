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

    /// Elasticsearch's limit on `_id`, checked before anything is logged.
    static let maxIdLength = 512

    /// The records of one log file, each with the offset of its source bytes in the file, and
    /// the damaged byte ranges skipped over. A record that does not check out is skipped to the
    /// next one that does (found by its flag bit, bounds and checksum), so one flipped byte costs
    /// one record, not the rest of the file; a bad stretch with no good record after it is the
    /// torn tail of an interrupted append.
    static func decodeAll(_ b: UnsafeRawBufferPointer) -> (records: [(WALRecord, Int)], damaged: [Range<Int>], tail: Range<Int>?) {
        var out: [(WALRecord, Int)] = []
        var damaged: [Range<Int>] = []
        var p = 0
        while p < b.count {
            switch record(b, at: p) {
            case .record(let r, let sourceAt, let next):
                if let r { out.append((r, sourceAt)) }
                p = next
            case .bad:
                var q = p + 1
                while q < b.count, !isRecord(b, at: q) { q += 1 }
                if q >= b.count { return (out, damaged, p..<b.count) }
                damaged.append(p..<q)
                p = q
            }
        }
        return (out, damaged, nil)
    }

    private enum Decoded {
        /// A record (nil for a reserved slot whose write was rejected) and where the next starts.
        case record(WALRecord?, sourceAt: Int, next: Int)
        case bad
    }

    /// Whether a record of the current layout starts at `p` and checks out; used to find the
    /// next good record after damage, so only candidates with the layout's flag bit are tried.
    private static func isRecord(_ b: UnsafeRawBufferPointer, at p: Int) -> Bool {
        guard p + 8 <= b.count, b[p + 3] & 0x80 != 0 else { return false }
        if case .record = record(b, at: p) { return true }
        return false
    }

    private static func record(_ b: UnsafeRawBufferPointer, at p: Int) -> Decoded {
        guard p + 8 <= b.count else { return .bad }
        let word = UInt32(get(b, p, 4))
        let length = Int(word & 0x7FFF_FFFF)
        let crc = UInt32(get(b, p + 4, 4))
        guard length >= 23, length <= b.count - p - 8 else { return .bad }
        let payload = UnsafeRawBufferPointer(rebasing: b[(p + 8)..<(p + 8 + length)])
        guard CRC32C.checksum(payload) == crc || LegacyCRC32.checksum(payload) == crc else { return .bad }
        let opAt: Int, seqAt: Int, idAt: Int
        if word & 0x8000_0000 != 0 {
            (opAt, seqAt, idAt) = (length - 17, length - 16, 0)
        } else {
            (opAt, seqAt, idAt) = (0, 1, 17)
        }
        let idLength = Int(get(payload, idAt, 2))
        guard idAt + 2 + idLength + 4 <= length else { return .bad }
        let id = String(decoding: UnsafeRawBufferPointer(rebasing: payload[(idAt + 2)..<(idAt + 2 + idLength)]), as: UTF8.self)
        let sourceLength = Int(get(payload, idAt + 2 + idLength, 4))
        let sourceStart = idAt + 6 + idLength
        guard sourceLength <= length, sourceStart + sourceLength + (idAt == 0 ? 17 : 0) == length else { return .bad }
        let next = p + 8 + length
        // A reserved slot whose write was rejected.
        if payload[opAt] == 0 && idAt == 0 { return .record(nil, sourceAt: 0, next: next) }
        guard let op = Op(rawValue: payload[opAt]) else { return .bad }
        let source = [UInt8](UnsafeRawBufferPointer(rebasing: payload[sourceStart..<(sourceStart + sourceLength)]))
        let r = WALRecord(op: op, seqNo: Int64(bitPattern: get(payload, seqAt, 8)), version: Int64(bitPattern: get(payload, seqAt + 8, 8)), id: id, source: source)
        return .record(r, sourceAt: p + 8 + sourceStart, next: next)
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
            // An id over 512 bytes is refused once its slot exists; its record keeps no id, so
            // the 16-bit length is never wrong and replay never stops there.
            let kept = u.count <= WALRecord.maxIdLength ? u.count : 0
            WALRecord.put(UInt64(kept), 2, &bytes)
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: u[0..<kept]))
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
