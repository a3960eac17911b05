/// Writes since the last refresh, kept column by column so sealing a segment is a
/// permutation and a copy rather than a transpose of per-document maps.
struct WriteBuffer {
    private(set) var docCount = 0
    /// Document ids, UTF-8 in one arena: `idBytes[idOffsets[i]..<idOffsets[i + 1]]`.
    private(set) var idBytes: [UInt8] = []
    private(set) var idOffsets: [Int] = [0]
    private(set) var seqNos: [Int64] = []
    private(set) var versions: [Int64] = []
    /// `Int64.min` where the document has no timestamp.
    private(set) var timestamps: [Int64] = []
    private(set) var sourceBytes: [UInt8] = []
    private(set) var sourceOffsets: [Int] = [0]
    /// Documents replaced or deleted after they were buffered.
    private(set) var dead = Bitmap(count: 0)
    private(set) var deadCount = 0
    /// Indexed by field slot (`DocumentMapper.slots`).
    private(set) var columns: [ColumnBuilder?] = []

    init() {}

    /// A buffer sized like a previous one, so a steady load does not regrow (and re-fault) its arrays.
    init(sizedLike other: WriteBuffer) {
        let docs = other.docCount
        idBytes.reserveCapacity(other.idBytes.count)
        idOffsets.reserveCapacity(docs + 1)
        seqNos.reserveCapacity(docs)
        versions.reserveCapacity(docs)
        timestamps.reserveCapacity(docs)
        sourceBytes.reserveCapacity(other.sourceBytes.count)
        sourceOffsets.reserveCapacity(docs + 1)
    }

    var liveCount: Int { docCount - deadCount }
    var isEmpty: Bool { liveCount == 0 }
    var byteSize: Int { sourceBytes.count + docCount * 64 }

    /// Appends a document; returns its ordinal in the buffer.
    @discardableResult
    mutating func append(id: String, seqNo: Int64, version: Int64, timestamp: Int64?, source: some Collection<UInt8>, fields: [(slot: Int, value: FieldValue)]) -> Int {
        let doc = docCount
        docCount += 1
        idBytes.append(contentsOf: id.utf8)
        idOffsets.append(idBytes.count)
        seqNos.append(seqNo)
        versions.append(version)
        timestamps.append(timestamp ?? Int64.min)
        sourceBytes.append(contentsOf: source)
        sourceOffsets.append(sourceBytes.count)
        if dead.count < docCount { dead.grow(to: max(1024, docCount * 2)) }
        for (slot, value) in fields {
            if slot >= columns.count { columns.append(contentsOf: [ColumnBuilder?](repeating: nil, count: slot + 1 - columns.count)) }
            if columns[slot] == nil { columns[slot] = ColumnBuilder(kind: SegmentWriter.kind(of: value)) }
            columns[slot]!.append(doc: Int32(doc), value)
        }
        return doc
    }

    /// Appends a document mapped by the streaming path, its values read off the tape.
    @discardableResult
    mutating func append(id: String, seqNo: Int64, version: Int64, source: [UInt8], streamed: StreamedDocument, tape: IngestTape) -> Int {
        let doc = append(id: id, seqNo: seqNo, version: version, timestamp: streamed.timestamp, source: source, fields: [])
        let d = Int32(doc)
        tape.bytes.withUnsafeBufferPointer { arena in
            for v in streamed.values {
                let slot = Int(tape.slots[v])
                let kind = tape.kinds[v]
                if slot >= columns.count { columns.append(contentsOf: [ColumnBuilder?](repeating: nil, count: slot + 1 - columns.count)) }
                if columns[slot] == nil { columns[slot] = ColumnBuilder(kind: kind) }
                switch kind {
                case .string:
                    let start = Int(tape.a[v])
                    columns[slot]!.appendString(doc: d, UnsafeBufferPointer(rebasing: arena[start..<(start + Int(tape.b[v]))]))
                case .int64, .date, .bool:
                    if kind == .bool {
                        columns[slot]!.append(doc: d, .bool(tape.a[v] != 0))
                    } else {
                        columns[slot]!.appendInt(doc: d, tape.a[v])
                    }
                case .double:
                    columns[slot]!.appendDouble(doc: d, Double(bitPattern: UInt64(bitPattern: tape.a[v])))
                case .ip:
                    columns[slot]!.append(doc: d, .ip(IPAddress(high: UInt64(bitPattern: tape.a[v]), low: UInt64(bitPattern: tape.b[v]))))
                case .none:
                    break
                }
            }
        }
        return doc
    }

    mutating func kill(_ doc: Int) {
        if dead.insert(doc) { deadCount += 1 }
    }

    func isLive(_ doc: Int) -> Bool { !dead.contains(doc) }

    func id(_ doc: Int) -> String { String(decoding: idBytes[idOffsets[doc]..<idOffsets[doc + 1]], as: UTF8.self) }

    func source(_ doc: Int) -> [UInt8] { Array(sourceBytes[sourceOffsets[doc]..<sourceOffsets[doc + 1]]) }

    /// Adds a sealed segment's live documents (for merging), column by column; returns the
    /// buffer ordinal of each segment document (-1 for deleted ones). Every column path must
    /// already have a slot.
    @discardableResult
    mutating func append(segment seg: Segment, deletes: Bitmap, slots: FieldSlots) -> [Int32] {
        var ordinal = [Int32](repeating: -1, count: seg.docCount)
        for doc in 0..<seg.docCount where !deletes.contains(doc) {
            let ts = seg.timestamps[doc]
            ordinal[doc] = Int32(append(id: seg.id(doc), seqNo: seg.seqNo(doc), version: seg.version(doc), timestamp: ts == Int64.min ? nil : ts, source: seg.source(doc), fields: []))
        }
        for (path, column) in seg.columns {
            guard let slot = slots.slot(ifKnown: path) else { continue }
            if slot >= columns.count { columns.append(contentsOf: [ColumnBuilder?](repeating: nil, count: slot + 1 - columns.count)) }
            var builder = columns[slot] ?? ColumnBuilder(kind: column.kind)
            guard builder.kind == column.kind else { continue }
            for doc in 0..<seg.docCount where ordinal[doc] >= 0 {
                for s in column.slots(doc) { builder.append(doc: ordinal[doc], column.value(atSlot: s)) }
            }
            columns[slot] = builder
        }
        return ordinal
    }
}

/// The values of one field across buffered documents, in document order.
struct ColumnBuilder {
    let kind: ColumnKind
    /// The document of each value; non-decreasing.
    var docs: [Int32] = []
    var codes: [Int32] = []
    var dictionary = ByteDictionary()
    var ints: [Int64] = []
    var doubles: [Double] = []
    var bools: [UInt8] = []
    var ips: [UInt64] = []
    var multiValued = false

    init(kind: ColumnKind) { self.kind = kind }

    mutating func append(doc: Int32, _ value: FieldValue) {
        if let last = docs.last, last == doc { multiValued = true }
        switch value {
        case .string(let s):
            guard kind == .string else { return }
            codes.append(dictionary.intern(s))
        case .int(let v), .date(let v):
            guard kind == .int64 || kind == .date else { return }
            ints.append(v)
        case .double(let d):
            guard kind == .double else { return }
            doubles.append(d)
        case .bool(let b):
            guard kind == .bool else { return }
            bools.append(b ? 1 : 0)
        case .ip(let a):
            guard kind == .ip else { return }
            ips.append(a.high)
            ips.append(a.low)
        }
        docs.append(doc)
    }

    var count: Int { docs.count }

    /// Whether another column holds the same values for the same documents.
    func sameValues(as other: ColumnBuilder) -> Bool {
        kind == other.kind && kind == .string && multiValued == other.multiValued && docs == other.docs
            && codes == other.codes && dictionary.arena == other.dictionary.arena && dictionary.offsets == other.dictionary.offsets
    }

    /// Appends a string value given as UTF-8 bytes (the streaming ingest path).
    @inline(__always)
    mutating func appendString(doc: Int32, _ bytes: UnsafeBufferPointer<UInt8>) {
        if let last = docs.last, last == doc { multiValued = true }
        codes.append(dictionary.intern(bytes))
        docs.append(doc)
    }

    @inline(__always)
    mutating func appendInt(doc: Int32, _ v: Int64) {
        if let last = docs.last, last == doc { multiValued = true }
        ints.append(v)
        docs.append(doc)
    }

    @inline(__always)
    mutating func appendDouble(doc: Int32, _ v: Double) {
        if let last = docs.last, last == doc { multiValued = true }
        doubles.append(v)
        docs.append(doc)
    }
}

extension Bitmap {
    mutating func grow(to n: Int) {
        guard n > count else { return }
        var w = words
        w.append(contentsOf: [UInt64](repeating: 0, count: (n + 63) / 64 - w.count))
        self = Bitmap(count: n, words: w)
    }
}
