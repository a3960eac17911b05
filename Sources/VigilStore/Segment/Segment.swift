import VigilJSON

/// A sealed, immutable, time-sorted segment, memory-mapped.
///
/// `@unchecked Sendable`: all state is immutable after `init`; the mapped files live as long as the object.
public final class Segment: @unchecked Sendable {
    public let name: String
    public let docCount: Int
    public let minTimestamp: Int64?
    public let maxTimestamp: Int64?
    public let maxSeqNo: Int64
    /// The `event.category` values present, for skipping whole segments.
    public let categories: Set<String>
    let directory: String
    let columnsFile: MappedFile
    /// `_source` files: `source.bin`, written with the segment, and files linked into the
    /// segment directory (write-ahead log generations, older segments' source files).
    let sourceFiles: [MappedFile]
    /// Their paths, in the same order.
    let sourceFilePaths: [String]
    /// Segments written before linked sources: document i is `offsets[i]..<offsets[i + 1]` of `source.bin`.
    let sourceOffsets: UnsafeBufferPointer<UInt64>
    /// Otherwise document i is `lengths[i]` bytes at `refs[i] & (1 << 48 - 1)` of file `refs[i] >> 48`.
    let sourceRefs: UnsafeBufferPointer<UInt64>
    let sourceLengths: UnsafeBufferPointer<UInt32>
    let seqNos: UnsafeBufferPointer<Int64>
    let versions: UnsafeBufferPointer<Int64>
    public let timestamps: UnsafeBufferPointer<Int64>
    let ids: StringDictionary
    let idDocs: UnsafeBufferPointer<Int32>
    let idEntries: UnsafeBufferPointer<Int32>
    public let columns: [String: Column]
    /// Segments whose mapped files back some of `columns` (computed columns; see `adding`).
    private let backing: [Segment]

    init(directory: String) throws(StoreError) {
        self.directory = directory
        backing = []
        let meta = try SegmentMeta(json: StoredJSON.read(directory + "/meta.json"))
        name = meta.name
        docCount = meta.docCount
        minTimestamp = meta.minTimestamp
        maxTimestamp = meta.maxTimestamp
        maxSeqNo = meta.maxSeqNo
        categories = Set(meta.categories)
        columnsFile = try MappedFile(path: directory + "/columns.bin")
        let file = columnsFile.bytes
        // Every column value is trusted once mapped (codes index dictionaries), so the file is
        // checked whole before any of it is used: a damaged segment is reported, never read.
        if let length = meta.columnsLength, let expected = meta.columnsChecksum {
            guard file.count == length else {
                throw StoreError(.corrupt, "segment [\(meta.name)]: columns.bin holds \(file.count) bytes, meta.json says \(length)")
            }
            let actual = CRC32C.checksum(UnsafeRawBufferPointer(file))
            guard actual == expected else {
                throw StoreError(.corrupt, "segment [\(meta.name)]: columns.bin fails its checksum (CRC-32C \(actual), expected \(expected))")
            }
        }
        func section<T>(_ o: JSONObject?, _ key: String, _: T.Type) throws(StoreError) -> UnsafeBufferPointer<T> {
            guard let pair = o?[key]?.arrayValue, pair.count == 2, let off = pair[0].int64Value, let n = pair[1].int64Value,
                off >= 0, n >= 0, Int(off) <= file.count, n <= (file.count - Int(off)) / MemoryLayout<T>.stride,
                Int(off) % MemoryLayout<T>.alignment == 0
            else { throw StoreError(.corrupt, "corrupt segment section [\(key)] in segment [\(meta.name)]") }
            if n == 0 { return UnsafeBufferPointer(start: nil, count: 0) }
            return UnsafeBufferPointer(start: (file.baseAddress! + Int(off)).assumingMemoryBound(to: T.self), count: Int(n))
        }
        let b = meta.builtins
        if let linked = b["_source"]?.objectValue {
            sourceFilePaths = (linked["files"]?.arrayValue ?? []).compactMap(\.stringValue).map { directory + "/" + $0 }
            sourceOffsets = UnsafeBufferPointer(start: nil, count: 0)
            sourceRefs = try section(linked, "refs", UInt64.self)
            sourceLengths = try section(linked, "lengths", UInt32.self)
        } else {
            sourceFilePaths = [directory + "/source.bin"]
            sourceOffsets = try section(b["_source_offsets"]?.objectValue, "values", UInt64.self)
            sourceRefs = UnsafeBufferPointer(start: nil, count: 0)
            sourceLengths = UnsafeBufferPointer(start: nil, count: 0)
        }
        var files: [MappedFile] = []
        for path in sourceFilePaths { files.append(try MappedFile(path: path)) }
        sourceFiles = files
        seqNos = try section(b["_seq_no"]?.objectValue, "values", Int64.self)
        versions = try section(b["_version"]?.objectValue, "values", Int64.self)
        timestamps = try section(b["_timestamp"]?.objectValue, "values", Int64.self)
        let idObject = b["_id"]?.objectValue
        ids = StringDictionary(
            offsets: try section(idObject, "dict_offsets", UInt32.self), bytes: try section(idObject, "dict_bytes", UInt8.self))
        idDocs = try section(idObject, "docs", Int32.self)
        idEntries = try section(idObject, "entries", Int32.self)
        guard seqNos.count == docCount, idDocs.count == docCount, idEntries.count == docCount,
            Segment.sourcesInBounds(docCount: docCount, linked: b["_source"] != nil, offsets: sourceOffsets, refs: sourceRefs, lengths: sourceLengths, files: files)
        else { throw StoreError(.corrupt, "corrupt segment [\(meta.name)]") }
        var cols: [String: Column] = [:]
        var shared: [(String, String)] = []
        for e in meta.fields.entries {
            if let target = e.value["same_as"]?.stringValue {
                shared.append((e.key, target))
                continue
            }
            guard let o = e.value.objectValue, let kind = o["kind"]?.stringValue.flatMap(ColumnKind.init(rawValue:)) else { continue }
            let multi = o["multi"]?.boolValue ?? false
            var c = Column(kind: kind, docCount: meta.docCount)
            c.present = try section(o, "present", UInt64.self)
            if multi { c.docOffsets = try section(o, "doc_offsets", UInt32.self) }
            if o["ranks"] != nil { c.ranks = try section(o, "ranks", UInt32.self) }
            switch kind {
            case .string:
                c.dictionary = StringDictionary(offsets: try section(o, "dict_offsets", UInt32.self), bytes: try section(o, "dict_bytes", UInt8.self))
                c.codes = try section(o, "codes", Int32.self)
            case .int64, .date: c.ints = try section(o, "values", Int64.self)
            case .double: c.doubles = try section(o, "values", Double.self)
            case .bool: c.bools = try section(o, "values", UInt8.self)
            case .ip: c.ips = try section(o, "values", UInt64.self)
            case .none: break
            }
            cols[e.key] = c
        }
        for (path, target) in shared {
            guard let c = cols[target] else { throw StoreError(.corrupt, "segment column [\(path)] refers to missing [\(target)]") }
            cols[path] = c
        }
        columns = cols
    }

    static func sourcesInBounds(docCount: Int, linked: Bool, offsets: UnsafeBufferPointer<UInt64>, refs: UnsafeBufferPointer<UInt64>,
                                lengths: UnsafeBufferPointer<UInt32>, files: [MappedFile]) -> Bool {
        if !linked {
            guard offsets.count == docCount + 1, files.count == 1 else { return false }
            var last: UInt64 = 0
            for o in offsets {
                if o < last { return false }
                last = o
            }
            return last <= UInt64(files[0].count)
        }
        guard refs.count == docCount, lengths.count == docCount else { return false }
        for i in 0..<docCount {
            let f = Int(refs[i] >> 48), at = Int(refs[i] & (1 << 48 - 1))
            guard f < files.count, at + Int(lengths[i]) <= files[f].count else { return false }
        }
        return true
    }

    /// Where a document's `_source` lies: which of `sourceFilePaths`, and the byte range.
    func sourceLocation(_ doc: Int) -> (file: Int, offset: Int, length: Int) {
        if sourceOffsets.count > 0 {
            let start = Int(sourceOffsets[doc])
            return (0, start, Int(sourceOffsets[doc + 1]) - start)
        }
        return (Int(sourceRefs[doc] >> 48), Int(sourceRefs[doc] & (1 << 48 - 1)), Int(sourceLengths[doc]))
    }

    func sourceFileSize(_ file: Int) -> Int { sourceFiles[file].count }

    /// This segment with `extra` columns laid over its own (same documents, same order).
    private init(_ base: Segment, extra: Segment) {
        directory = base.directory
        name = base.name
        docCount = base.docCount
        minTimestamp = base.minTimestamp
        maxTimestamp = base.maxTimestamp
        maxSeqNo = base.maxSeqNo
        categories = base.categories
        columnsFile = base.columnsFile
        sourceFiles = base.sourceFiles
        sourceFilePaths = base.sourceFilePaths
        sourceOffsets = base.sourceOffsets
        sourceRefs = base.sourceRefs
        sourceLengths = base.sourceLengths
        seqNos = base.seqNos
        versions = base.versions
        timestamps = base.timestamps
        ids = base.ids
        idDocs = base.idDocs
        idEntries = base.idEntries
        columns = base.columns.merging(extra.columns) { _, new in new }
        backing = base.backing + [extra]
    }

    /// A view of this segment with more columns, whose values are given per document
    /// (`values[doc]` of each column; runtime fields computed for one search). They are laid
    /// out as a small segment in `scratch`, mapped, and the files removed at once.
    public func adding(columns extra: [(path: String, values: [[FieldValue]])], scratch: String) throws(StoreError) -> Segment {
        guard !extra.isEmpty else { return self }
        var buffer = WriteBuffer()
        for doc in 0..<docCount {
            var fields: [(slot: Int, value: FieldValue)] = []
            for (slot, column) in extra.enumerated() {
                for v in column.values[doc] { fields.append((slot, v)) }
            }
            let ts = timestamps[doc]
            buffer.append(id: String(doc), seqNo: Int64(doc), version: 1, timestamp: ts == Int64.min ? nil : ts, source: EmptyCollection<UInt8>(), fields: fields)
        }
        let name = "computed-\(UInt64.random(in: 0...UInt64.max))"
        try FileIO.makeDirectories(scratch)
        defer { FileIO.removeTree(scratch + "/" + name) }
        _ = try SegmentWriter.write(buffer, paths: extra.map(\.path), name: name, directory: scratch)
        let computed = try Segment(directory: scratch + "/" + name)
        return Segment(self, extra: computed)
    }

    /// The stored `_source` bytes of a document.
    public func source(_ doc: Int) -> UnsafeRawBufferPointer {
        let at = sourceLocation(doc)
        return UnsafeRawBufferPointer(rebasing: sourceFiles[at.file].bytes[at.offset..<(at.offset + at.length)])
    }

    public func sourceBytes(_ doc: Int) -> [UInt8] { [UInt8](source(doc)) }

    public func seqNo(_ doc: Int) -> Int64 { seqNos[doc] }
    public func version(_ doc: Int) -> Int64 { versions[doc] }

    /// The `_id` of a document (a reverse lookup through the id dictionary).
    public func id(_ doc: Int) -> String {
        ids.string(Int(idEntries[doc]))
    }

    /// The document holding `id`, by binary search of the sorted id dictionary.
    public func find(id: String) -> Int? {
        guard let entry = ids.find(id) else { return nil }
        return Int(idDocs[entry])
    }

    public var sizeInBytes: Int { sourceFiles.reduce(columnsFile.count) { $0 + $1.count } }
}

/// A sorted dictionary of UTF-8 strings: `offsets[i]..<offsets[i+1]` in `bytes` is entry `i`.
public struct StringDictionary: @unchecked Sendable {
    let offsets: UnsafeBufferPointer<UInt32>
    let bytes: UnsafeBufferPointer<UInt8>

    public var count: Int { max(0, offsets.count - 1) }

    public func entry(_ i: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[Int(offsets[i])..<Int(offsets[i + 1])])
    }

    public func string(_ i: Int) -> String { String(decoding: entry(i), as: UTF8.self) }

    public func find(_ s: String) -> Int? {
        var key = s
        return key.withUTF8 { k -> Int? in
            var lo = 0, hi = count - 1
            while lo <= hi {
                let mid = (lo + hi) / 2
                let e = entry(mid)
                let c = StringDictionary.compare(e, k)
                if c == 0 { return mid }
                if c < 0 { lo = mid + 1 } else { hi = mid - 1 }
            }
            return nil
        }
    }

    static func compare(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        let n = min(a.count, b.count)
        for i in 0..<n where a[i] != b[i] { return a[i] < b[i] ? -1 : 1 }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }
}

/// One typed column of a segment. Single-valued columns hold one slot per document;
/// multi-valued ones delimit each document's values with `docOffsets`.
public struct Column: @unchecked Sendable {
    public let kind: ColumnKind
    public let docCount: Int
    public var present = UnsafeBufferPointer<UInt64>(start: nil, count: 0)
    public var docOffsets: UnsafeBufferPointer<UInt32>?
    /// Sparse single-valued columns: values only for present documents; `ranks[w]` counts
    /// the present documents before word `w` of `present`.
    public var ranks: UnsafeBufferPointer<UInt32>?
    public var dictionary: StringDictionary?
    public var codes = UnsafeBufferPointer<Int32>(start: nil, count: 0)
    public var ints = UnsafeBufferPointer<Int64>(start: nil, count: 0)
    public var doubles = UnsafeBufferPointer<Double>(start: nil, count: 0)
    public var bools = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
    public var ips = UnsafeBufferPointer<UInt64>(start: nil, count: 0)

    init(kind: ColumnKind, docCount: Int) {
        self.kind = kind
        self.docCount = docCount
    }

    @inline(__always)
    public func has(_ doc: Int) -> Bool { present[doc >> 6] & (1 << UInt64(doc & 63)) != 0 }

    /// The slots of `doc` in the value arrays.
    public func slots(_ doc: Int) -> Range<Int> {
        if let o = docOffsets { return Int(o[doc])..<Int(o[doc + 1]) }
        guard has(doc) else { return 0..<0 }
        if let ranks {
            let below = present[doc >> 6] & ((1 << UInt64(doc & 63)) &- 1)
            let slot = Int(ranks[doc >> 6]) + below.nonzeroBitCount
            return slot..<(slot + 1)
        }
        return doc..<(doc + 1)
    }

    public func value(atSlot i: Int) -> FieldValue {
        switch kind {
        case .string: return .string(dictionary!.string(Int(codes[i])))
        case .int64: return .int(ints[i])
        case .date: return .date(ints[i])
        case .double: return .double(doubles[i])
        case .bool: return .bool(bools[i] != 0)
        case .ip: return .ip(IPAddress(high: ips[2 * i], low: ips[2 * i + 1]))
        case .none: return .string("")
        }
    }

    public func values(_ doc: Int) -> [FieldValue] { slots(doc).map { value(atSlot: $0) } }
}
