#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
    /// Sources that lie in no file (see `SourceRef`): `sourceBytes[sourceOffsets[i]..<sourceOffsets[i + 1]]`.
    private(set) var sourceBytes: [UInt8] = []
    private(set) var sourceOffsets: [Int] = [0]
    /// The bytes of all buffered sources, in the arena or not.
    private(set) var sourceByteCount = 0
    /// Where each document's `_source` lies in a file, if it does (see `SourceRef`).
    private(set) var sourceRefs: [SourceRef] = []
    /// The files `SourceRef.file` points into: log generations, or sealed segments' source files.
    private(set) var sourceFiles: [String] = []
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
        sourceRefs.reserveCapacity(docs)
    }

    /// Empties the buffer but keeps its memory (already faulted in), for the next refresh cycle.
    /// Column builders are kept aside per slot and taken back when that slot sees a value again.
    mutating func reset() {
        docCount = 0
        idBytes.removeAll(keepingCapacity: true)
        idOffsets.removeAll(keepingCapacity: true)
        idOffsets.append(0)
        seqNos.removeAll(keepingCapacity: true)
        versions.removeAll(keepingCapacity: true)
        timestamps.removeAll(keepingCapacity: true)
        sourceBytes.removeAll(keepingCapacity: true)
        sourceOffsets.removeAll(keepingCapacity: true)
        sourceOffsets.append(0)
        sourceRefs.removeAll(keepingCapacity: true)
        sourceFiles.removeAll()
        sourceByteCount = 0
        dead.clearAll()
        deadCount = 0
        if spareColumns.count < columns.count { spareColumns.append(contentsOf: [ColumnBuilder?](repeating: nil, count: columns.count - spareColumns.count)) }
        for slot in columns.indices where columns[slot] != nil {
            var b = columns[slot].take()!
            b.reset()
            spareColumns[slot] = b
        }
    }

    private var spareColumns: [ColumnBuilder?] = []

    /// A new builder for `slot`, reusing the spare one's memory when it has the same kind.
    private mutating func makeColumn(_ slot: Int, kind: ColumnKind) -> ColumnBuilder {
        if slot < spareColumns.count, let spare = spareColumns[slot].take(), spare.kind == kind { return spare }
        return ColumnBuilder(kind: kind)
    }

    var liveCount: Int { docCount - deadCount }
    var isEmpty: Bool { liveCount == 0 }
    var byteSize: Int { sourceByteCount + docCount * 64 }

    /// Appends a document; returns its ordinal in the buffer. A source that also lies in a
    /// file (`stored`: a file number, or `SourceRef.pending`, and the offset) is not copied.
    @discardableResult
    mutating func append(id: String, seqNo: Int64, version: Int64, timestamp: Int64?, source: some Collection<UInt8>,
                         stored: (file: Int32, offset: Int)? = nil, fields: [(slot: Int, value: FieldValue)]) -> Int {
        let doc = docCount
        docCount += 1
        idBytes.append(contentsOf: id.utf8)
        idOffsets.append(idBytes.count)
        seqNos.append(seqNo)
        versions.append(version)
        timestamps.append(timestamp ?? Int64.min)
        if let stored {
            sourceRefs.append(SourceRef(file: stored.file, length: UInt32(source.count), offset: UInt64(stored.offset)))
        } else {
            sourceBytes.append(contentsOf: source)
            sourceRefs.append(SourceRef(file: SourceRef.none, length: UInt32(sourceBytes.count - sourceOffsets[doc]), offset: 0))
        }
        sourceOffsets.append(sourceBytes.count)
        sourceByteCount += Int(sourceRefs[doc].length)
        if dead.count < docCount { dead.grow(to: max(1024, docCount * 2)) }
        for (slot, value) in fields {
            if slot >= columns.count { columns.append(contentsOf: [ColumnBuilder?](repeating: nil, count: slot + 1 - columns.count)) }
            if columns[slot] == nil { columns[slot] = makeColumn(slot, kind: SegmentWriter.kind(of: value)) }
            ColumnBuilder.ownValues(slot, in: &columns)
            columns[slot]!.append(doc: Int32(doc), value)
        }
        return doc
    }

    /// Appends a document mapped by the streaming path, its values read off the tape.
    @discardableResult
    mutating func append(id: String, seqNo: Int64, version: Int64, source: [UInt8], stored: (file: Int32, offset: Int)?, streamed: StreamedDocument, tape: IngestTape) -> Int {
        let doc = append(id: id, seqNo: seqNo, version: version, timestamp: streamed.timestamp, source: source, stored: stored, fields: [])
        var cols = columns, spares = spareColumns
        columns = []
        spareColumns = []
        ColumnBuilder.append(streamed, tape, doc: Int32(doc), into: &cols) { slot, kind in
            if slot < spares.count, let spare = spares[slot].take(), spare.kind == kind { return spare }
            return ColumnBuilder(kind: kind)
        }
        columns = cols
        spareColumns = spares
        return doc
    }

    /// Adds the column values of a request's streamed documents, built outside the lock;
    /// `ordinals[j]` is the buffer document of the batch's document j, or -1 where it was rejected.
    ///
    /// A batch column that mirrors its parent (see `ColumnBuilder.mirror`) goes on mirroring
    /// the buffer's parent column when that one has taken all the same values; otherwise its
    /// values are spelled out.
    mutating func merge(_ batch: BatchColumns, ordinals: [Int32]) {
        if batch.columns.count > columns.count { columns.append(contentsOf: [ColumnBuilder?](repeating: nil, count: batch.columns.count - columns.count)) }
        var before = [Int](repeating: 0, count: batch.columns.count)
        for slot in batch.columns.indices {
            guard let local = batch.columns[slot], local.mirror < 0 else { continue }
            if columns[slot] == nil { columns[slot] = makeColumn(slot, kind: local.kind) }
            ColumnBuilder.ownValues(slot, in: &columns)
            before[slot] = columns[slot]!.count
            columns[slot]!.append(local, ordinals: ordinals)
        }
        for slot in batch.columns.indices {
            guard let local = batch.columns[slot], local.mirror >= 0 else { continue }
            let parent = local.mirror
            if local.mirrored == batch.columns[parent]!.count && columns[parent]!.mirror < 0 {
                let added = columns[parent]!.count - before[parent]
                if columns[slot] == nil && before[parent] == 0 {
                    columns[slot] = .mirroring(parent, count: added)
                    continue
                }
                if let c = columns[slot], c.mirror == parent, c.mirrored == before[parent] {
                    columns[slot]!.mirrored += added
                    continue
                }
            }
            if columns[slot] == nil { columns[slot] = makeColumn(slot, kind: local.kind) }
            ColumnBuilder.ownValues(slot, in: &columns)
            columns[slot]!.append(local.materialized(parent: batch.columns[parent]!), ordinals: ordinals)
        }
    }

    /// Column `slot` with its values spelled out, whether it mirrors its parent or not.
    func column(_ slot: Int) -> ColumnBuilder? {
        guard let c = columns[slot] else { return nil }
        return c.mirror < 0 ? c : c.materialized(parent: columns[c.mirror]!)
    }

    mutating func kill(_ doc: Int) {
        if dead.insert(doc) { deadCount += 1 }
    }

    func isLive(_ doc: Int) -> Bool { !dead.contains(doc) }

    func id(_ doc: Int) -> String { String(decoding: idBytes[idOffsets[doc]..<idOffsets[doc + 1]], as: UTF8.self) }

    /// A document's `_source`: from the arena, or read from its file. `pendingLog` is the
    /// log bytes of the request being applied, for documents it wrote (`SourceRef.pending`).
    ///
    /// A log record is in the buffer before its bytes reach the file (the append waits for
    /// its turn outside the index lock), so a read that comes up short waits for them.
    func source(_ doc: Int, pendingLog: [UInt8] = []) -> [UInt8] {
        let r = sourceRefs[doc]
        switch r.file {
        case SourceRef.none:
            return Array(sourceBytes[sourceOffsets[doc]..<sourceOffsets[doc + 1]])
        case SourceRef.pending:
            return Array(pendingLog[Int(r.offset)..<(Int(r.offset) + Int(r.length))])
        default:
            let deadline = Clock.monotonicNanos() + 10_000_000_000
            while true {
                if let bytes = try? FileIO.read(sourceFiles[Int(r.file)], offset: Int(r.offset), count: Int(r.length)) { return bytes }
                if Clock.monotonicNanos() > deadline { return [] }
                sched_yield()
            }
        }
    }

    /// Where a document's `_source` is, to read it after the index lock is released: the bytes
    /// themselves (arena), or a byte range of a log file.
    enum SourceLocation {
        case bytes([UInt8])
        case file(path: String, offset: Int, length: Int)
    }

    func sourceLocation(_ doc: Int) -> SourceLocation {
        let r = sourceRefs[doc]
        switch r.file {
        case SourceRef.none, SourceRef.pending: return .bytes(source(doc))
        default: return .file(path: sourceFiles[Int(r.file)], offset: Int(r.offset), length: Int(r.length))
        }
    }

    /// The number of `path` in `sourceFiles`, added when new.
    mutating func sourceFile(_ path: String) -> Int32 {
        if let i = sourceFiles.lastIndex(of: path) { return Int32(i) }
        sourceFiles.append(path)
        return Int32(sourceFiles.count - 1)
    }

    /// Resolves the documents from `first` on appended as `SourceRef.pending` (offsets in the
    /// request's log bytes): those bytes start at `base` of `file`.
    mutating func resolveLogged(from first: Int, file path: String, base: UInt64) {
        guard first < docCount else { return }
        var index: Int32?
        for doc in first..<docCount where sourceRefs[doc].file == SourceRef.pending {
            let i = index ?? sourceFile(path)
            index = i
            sourceRefs[doc].file = i
            sourceRefs[doc].offset += base
        }
    }


    /// Adds a sealed segment's live documents (for merging), column by column; returns the
    /// buffer ordinal of each segment document (-1 for deleted ones). Every column path must
    /// already have a slot.
    ///
    /// Sources stay where they are (the merged segment links their files) unless most of a
    /// file's bytes belong to deleted documents: those live sources are copied, so the file can go.
    @discardableResult
    mutating func append(segment seg: Segment, deletes: Bitmap, slots: FieldSlots) -> [Int32] {
        var ordinal = [Int32](repeating: -1, count: seg.docCount)
        var live = [Int](repeating: 0, count: seg.sourceFilePaths.count)
        for doc in 0..<seg.docCount where !deletes.contains(doc) {
            let at = seg.sourceLocation(doc)
            live[at.file] += at.length
        }
        var kept = [Int32](repeating: SourceRef.none, count: live.count)
        for f in live.indices where live[f] * 2 >= seg.sourceFileSize(f) { kept[f] = sourceFile(seg.sourceFilePaths[f]) }
        for doc in 0..<seg.docCount where !deletes.contains(doc) {
            let ts = seg.timestamps[doc]
            let at = seg.sourceLocation(doc)
            let file = kept[at.file]
            ordinal[doc] = Int32(append(id: seg.id(doc), seqNo: seg.seqNo(doc), version: seg.version(doc), timestamp: ts == Int64.min ? nil : ts,
                                        source: seg.source(doc), stored: file >= 0 ? (file, at.offset) : nil, fields: []))
        }
        for (path, column) in seg.columns {
            guard let slot = slots.slot(ifKnown: path) else { continue }
            if slot >= columns.count { columns.append(contentsOf: [ColumnBuilder?](repeating: nil, count: slot + 1 - columns.count)) }
            if columns[slot] != nil { ColumnBuilder.ownValues(slot, in: &columns) }
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

/// Where a buffered document's `_source` also lies in a file, so that sealing links the file
/// into the segment instead of writing the bytes a second time.
struct SourceRef {
    /// Index into `WriteBuffer.sourceFiles`, or `none` (the bytes are only in the arena), or
    /// `pending` (`offset` is still relative to the request's log bytes).
    var file: Int32
    var length: UInt32
    var offset: UInt64

    static let none: Int32 = -1
    static let pending: Int32 = -2
}

/// The column values of one request's streamed documents, built outside the index lock and
/// merged into the buffer under it. Document j is the request's j-th streamed document.
struct BatchColumns {
    var columns: [ColumnBuilder?] = []
    private(set) var docCount = 0

    mutating func add(_ doc: StreamedDocument, tape: IngestTape) {
        ColumnBuilder.append(doc, tape, doc: Int32(docCount), into: &columns) { ColumnBuilder(kind: $1) }
        docCount += 1
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
    /// A multi-field (`x.keyword`) that so far holds exactly its parent's first `mirrored`
    /// values keeps none of its own: `mirror` is the parent's slot, or -1 when the column
    /// holds its values. A dynamically mapped string arrives as text and as keyword, and
    /// mirroring interns it once instead of twice; sealing writes such a column as `same_as`.
    /// The parent only ever appends, so its prefix stays this column's values.
    var mirror = -1
    var mirrored = 0

    init(kind: ColumnKind) { self.kind = kind }

    /// (mirror, mirrored, count), read through a mutating accessor: `columns[slot]!.mirrorState()`
    /// then works on the builder in place, where a plain read through the optional would copy it.
    @inline(__always)
    mutating func mirrorState() -> (mirror: Int, mirrored: Int, count: Int) { (mirror, mirrored, docs.count) }

    /// A string column mirroring the first `count` values of column `parent`.
    static func mirroring(_ parent: Int, count: Int) -> ColumnBuilder {
        var c = ColumnBuilder(kind: .string)
        c.mirror = parent
        c.mirrored = count
        return c
    }

    /// A mirroring column's values as a column of their own (with only the dictionary entries they use).
    func materialized(parent p: ColumnBuilder) -> ColumnBuilder {
        guard mirror >= 0 else { return self }
        var c = ColumnBuilder(kind: .string)
        c.docs = Array(p.docs.prefix(mirrored))
        var remap = [Int32](repeating: -1, count: p.dictionary.count)
        c.codes.reserveCapacity(mirrored)
        p.dictionary.arena.withUnsafeBufferPointer { a in
            for code in p.codes.prefix(mirrored) {
                if remap[Int(code)] < 0 {
                    let e = p.dictionary.entry(Int(code))
                    remap[Int(code)] = c.dictionary.intern(UnsafeBufferPointer(rebasing: a[e.startIndex..<e.endIndex]))
                }
                c.codes.append(remap[Int(code)])
            }
        }
        c.multiValued = c.docs.indices.dropFirst().contains { c.docs[$0] == c.docs[$0 - 1] }
        return c
    }

    /// Spells out column `slot`'s values if it mirrors its parent, before it takes values of its own.
    @inline(__always)
    static func ownValues(_ slot: Int, in columns: inout [ColumnBuilder?]) {
        guard columns[slot] != nil else { return }
        let parent = columns[slot]!.mirrorState().mirror
        guard parent >= 0 else { return }
        columns[slot] = columns[slot]!.materialized(parent: columns[parent]!)
    }

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

    mutating func reset() {
        docs.removeAll(keepingCapacity: true)
        codes.removeAll(keepingCapacity: true)
        dictionary.reset()
        mirror = -1
        mirrored = 0
        ints.removeAll(keepingCapacity: true)
        doubles.removeAll(keepingCapacity: true)
        bools.removeAll(keepingCapacity: true)
        ips.removeAll(keepingCapacity: true)
        multiValued = false
    }

    /// Whether another column holds the same values for the same documents (neither mirroring).
    func sameValues(as other: ColumnBuilder) -> Bool {
        kind == other.kind && kind == .string && multiValued == other.multiValued && docs == other.docs
            && codes == other.codes && dictionary.arena == other.dictionary.arena && dictionary.offsets == other.dictionary.offsets
    }

    /// Appends the values of a tape document (the streaming ingest path) as document `d`.
    @inline(__always)
    static func append(_ streamed: StreamedDocument, _ tape: IngestTape, doc d: Int32, into columns: inout [ColumnBuilder?], make: (Int, ColumnKind) -> ColumnBuilder) {
        tape.bytes.withUnsafeBufferPointer { arena in
            tape.values.withUnsafeBufferPointer { values in
                var previous = -1
                for v in streamed.values {
                    defer { previous = v }
                    let value = values[v]
                    let slot = Int(value.slot)
                    if slot >= columns.count { columns.append(contentsOf: [ColumnBuilder?](repeating: nil, count: slot + 1 - columns.count)) }
                    // A multi-field's value follows its parent's, the same bytes: mirror it.
                    if value.kind == .string, previous >= 0, values[previous].kind == .string,
                        values[previous].a == value.a, values[previous].b == value.b
                    {
                        let parent = Int(values[previous].slot)
                        let p = columns[parent]!.mirrorState()
                        if p.mirror < 0 {
                            if columns[slot] == nil {
                                if p.count == 1 {
                                    columns[slot] = .mirroring(parent, count: 1)
                                    continue
                                }
                            } else if columns[slot]!.mirrorState() == (mirror: parent, mirrored: p.count - 1, count: 0) {
                                columns[slot]!.mirrored += 1
                                continue
                            }
                        }
                    }
                    if columns[slot] == nil { columns[slot] = make(slot, value.kind) }
                    ownValues(slot, in: &columns)
                    switch value.kind {
                    case .string:
                        let start = Int(value.a)
                        columns[slot]!.appendString(doc: d, UnsafeBufferPointer(rebasing: arena[start..<(start + Int(value.b))]))
                    case .int64, .date:
                        columns[slot]!.appendInt(doc: d, value.a)
                    case .bool:
                        columns[slot]!.append(doc: d, .bool(value.a != 0))
                    case .double:
                        columns[slot]!.appendDouble(doc: d, Double(bitPattern: UInt64(bitPattern: value.a)))
                    case .ip:
                        columns[slot]!.append(doc: d, .ip(IPAddress(high: UInt64(bitPattern: value.a), low: UInt64(bitPattern: value.b))))
                    case .none:
                        break
                    }
                }
            }
        }
    }

    /// Appends another builder's values (of the same kind), renumbering its documents by
    /// `ordinals` and dropping those mapped to -1. Each distinct string is interned once.
    mutating func append(_ other: ColumnBuilder, ordinals: [Int32]) {
        precondition(other.mirror < 0 && mirror < 0, "mirroring columns are spelled out before they are appended")
        guard other.kind == kind else { return }
        if other.multiValued { multiValued = true }
        let remap = kind == .string ? dictionary.codes(for: other.dictionary) : []
        let width = kind == .ip ? 2 : 1
        docs.reserveCapacity(docs.count + other.docs.count)
        for i in other.docs.indices {
            let d = ordinals[Int(other.docs[i])]
            guard d >= 0 else { continue }
            docs.append(d)
            switch kind {
            case .string: codes.append(remap[Int(other.codes[i])])
            case .int64, .date: ints.append(other.ints[i])
            case .double: doubles.append(other.doubles[i])
            case .bool: bools.append(other.bools[i])
            case .ip:
                ips.append(other.ips[i * width])
                ips.append(other.ips[i * width + 1])
            case .none: break
            }
        }
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
