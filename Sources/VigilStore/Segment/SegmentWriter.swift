#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import VigilJSON

/// Builds one immutable segment directory: `columns.bin` (typed columns, 8-byte aligned
/// sections), `source.bin` (each document's `_source` bytes) and `meta.json` (directory of sections).
enum SegmentWriter {
    static let categoryField = "event.category"

    /// `columns.bin` as it is written: each section 8-byte aligned, described by (offset, count).
    struct Sections {
        let file: FileSink

        func add<T>(_ values: [T]) throws(StoreError) -> JSONValue {
            try file.pad(to: 8)
            let offset = file.offset
            try file.append(values)
            return .array([.int(Int64(offset)), .int(Int64(values.count))])
        }
    }

    /// Writes the buffer's live documents, sorted by (timestamp, seqNo), as segment `name`.
    /// Returns the metadata and, for each buffered document, its position in the segment (-1 when dead).
    static func write(_ buffer: WriteBuffer, paths: [String], name: String, directory: String) throws(StoreError) -> (SegmentMeta, [Int32]) {
        let order = timeOrder(buffer)
        let n = order.count
        // rank[old] = new position, or -1 for dead documents.
        var rank = [Int32](repeating: -1, count: buffer.docCount)
        for (newDoc, old) in order.enumerated() { rank[old] = Int32(newDoc) }

        let dir = directory + "/" + name
        try FileIO.makeDirectories(dir)
        let sections = Sections(file: try FileSink(path: dir + "/columns.bin"))
        var builtins = JSONObject()

        for e in try writeSources(buffer, order: order, directory: dir, sections).entries { builtins[e.key] = e.value }
        builtins["_seq_no"] = ["values": try sections.add(order.map { buffer.seqNos[$0] })]
        builtins["_version"] = ["values": try sections.add(order.map { buffer.versions[$0] })]
        let stamps = order.map { buffer.timestamps[$0] }
        builtins["_timestamp"] = ["values": try sections.add(stamps)]
        // _id: a sorted dictionary of unique ids, with the document of each entry and back.
        let idOrder = byteOrder(order.count) { buffer.idBytes[buffer.idOffsets[order[$0]]..<buffer.idOffsets[order[$0] + 1]] }
        var idOffsets: [UInt32] = [0]
        var idBytes: [UInt8] = []
        idBytes.reserveCapacity(buffer.idBytes.count)
        for i in idOrder {
            let old = order[Int(i)]
            idBytes.append(contentsOf: buffer.idBytes[buffer.idOffsets[old]..<buffer.idOffsets[old + 1]])
            idOffsets.append(UInt32(idBytes.count))
        }
        builtins["_id"] = [
            "dict_offsets": try sections.add(idOffsets), "dict_bytes": try sections.add(idBytes),
            "docs": try sections.add(idOrder),
            "entries": try sections.add(inverse(idOrder)),
        ]

        var fields = JSONObject()
        var categories: [String] = []
        var slotOfPath: [String: Int] = [:]
        for slot in buffer.columns.indices where buffer.columns[slot] != nil { slotOfPath[paths[slot]] = slot }
        var sharing = Set<String>()
        for slot in buffer.columns.indices.sorted(by: { paths[$0] < paths[$1] }) {
            guard let raw = buffer.columns[slot] else { continue }
            let path = paths[slot]
            // A multi-field that mirrored its parent throughout shares the parent's column.
            if raw.mirror >= 0, raw.mirrored == buffer.columns[raw.mirror]!.count, !sharing.contains(paths[raw.mirror]) {
                fields[path] = ["same_as": .string(paths[raw.mirror])]
                sharing.insert(path)
                continue
            }
            let b = buffer.column(slot)!
            // A multi-field (`x.keyword`) that holds exactly its parent's values shares the parent's column.
            if let dot = path.lastIndex(of: "."), let parentSlot = slotOfPath[String(path[..<dot])], !sharing.contains(String(path[..<dot])),
                let parent = buffer.column(parentSlot), parent.sameValues(as: b)
            {
                fields[path] = ["same_as": .string(String(path[..<dot]))]
                sharing.insert(path)
                continue
            }
            fields[path] = try buildColumn(b, rank: rank, docCount: n, sections)
            if path == categoryField {
                var used = Set<Int32>()
                for (i, d) in b.docs.enumerated() where rank[Int(d)] >= 0 { used.insert(b.codes[i]) }
                categories = used.map { String(decoding: b.dictionary.entry(Int($0)), as: UTF8.self) }.sorted()
            }
        }
        let present = stamps.filter { $0 != Int64.min }
        let meta = SegmentMeta(
            name: name, docCount: n, minTimestamp: present.first, maxTimestamp: present.last,
            maxSeqNo: order.map { buffer.seqNos[$0] }.max() ?? -1, categories: categories,
            builtins: builtins, fields: fields, columnsLength: sections.file.offset, columnsChecksum: sections.file.checksum)
        try sections.file.finish()
        try FileIO.writeAtomically(dir + "/meta.json", JSONWriter().encode(meta.json))
        return (meta, rank)
    }

    /// Writes `_source` in segment order; returns the builtin section that finds it.
    ///
    /// A source that already lies in a file (its log record, or an older segment's source
    /// file) stays there: the file is linked into the segment directory, under a name unique
    /// in the index, and the segment records where each document's bytes are. The rest is
    /// written to `source.bin`. A buffer with no such files (a store without a log) gets the
    /// plain layout: `source.bin` and one offset per document.
    static func writeSources(_ buffer: WriteBuffer, order: [Int], directory dir: String, _ sections: Sections) throws(StoreError) -> JSONObject {
        var inline: FileSink?
        var failure: StoreError?
        func copy(_ old: Int, to sink: FileSink) {
            buffer.sourceBytes.withUnsafeBytes { src in
                do throws(StoreError) {
                    try sink.append(UnsafeRawBufferPointer(rebasing: src[buffer.sourceOffsets[old]..<buffer.sourceOffsets[old + 1]]))
                } catch {
                    failure = error
                }
            }
        }
        guard order.contains(where: { buffer.sourceRefs[$0].file >= 0 }) else {
            let sink = try FileSink(path: dir + "/source.bin")
            var offsets: [UInt64] = [0]
            offsets.reserveCapacity(order.count + 1)
            for old in order {
                copy(old, to: sink)
                if let failure { throw failure }
                offsets.append(UInt64(sink.offset))
            }
            try sink.finish()
            return ["_source_offsets": ["values": try sections.add(offsets)]]
        }
        var names: [String] = []
        var slotOfFile = [Int?](repeating: nil, count: buffer.sourceFiles.count)
        var inlineSlot: Int?
        var refs: [UInt64] = [], lengths: [UInt32] = []
        refs.reserveCapacity(order.count)
        lengths.reserveCapacity(order.count)
        for old in order {
            let r = buffer.sourceRefs[old]
            var slot: Int?
            if r.file >= 0 {
                slot = slotOfFile[Int(r.file)]
                if slot == nil && names.count < 0xFFFF {
                    let path = buffer.sourceFiles[Int(r.file)]
                    let name = linkName(path)
                    try FileIO.hardLink(path, dir + "/" + name)
                    slot = names.count
                    slotOfFile[Int(r.file)] = slot
                    names.append(name)
                }
            }
            if let slot {
                refs.append(UInt64(slot) << 48 | r.offset)
            } else {
                // Only in the arena, or (past 65,535 files) copied out of its file.
                if inline == nil {
                    inline = try FileSink(path: dir + "/source.bin")
                    inlineSlot = names.count
                    names.append("source.bin")
                }
                refs.append(UInt64(inlineSlot!) << 48 | UInt64(inline!.offset))
                if r.file == SourceRef.none {
                    copy(old, to: inline!)
                    if let failure { throw failure }
                } else {
                    try inline!.append(buffer.source(old))
                }
            }
            lengths.append(r.length)
        }
        try inline?.finish()
        return ["_source": [
            "files": .array(names.map { .string($0) }),
            "refs": try sections.add(refs), "lengths": try sections.add(lengths),
        ]]
    }

    /// The name a source file gets when linked into a segment, the same in every segment it
    /// moves to: a log generation keeps its name (`wal-000007.log`), a segment's own
    /// `source.bin` becomes `seg-000003.source.bin`.
    static func linkName(_ path: String) -> String {
        let parts = path.split(separator: "/")
        guard let base = parts.last else { return path }
        if base == "source.bin", parts.count >= 2 { return parts[parts.count - 2] + ".source.bin" }
        return String(base)
    }

    /// Live documents in (timestamp, seqNo) order. Buffer ordinals follow seqNo, so sorting
    /// flat (timestamp, ordinal) pairs gives that order without looking anything up.
    static func timeOrder(_ buffer: WriteBuffer) -> [Int] {
        var keys: [(Int64, Int32)] = []
        keys.reserveCapacity(buffer.liveCount)
        buffer.timestamps.withUnsafeBufferPointer { t in
            for doc in 0..<buffer.docCount where buffer.isLive(doc) { keys.append((t[doc], Int32(doc))) }
        }
        keys.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        return keys.map { Int($0.1) }
    }

    /// `0..<count` ordered by the byte strings `bytes(i)` (ties keep index order). Sorting is on
    /// the first 16 bytes as two big-endian words; only equal prefixes compare the rest.
    static func byteOrder(_ count: Int, _ bytes: (Int) -> ArraySlice<UInt8>) -> [Int32] {
        @inline(__always) func word(_ b: ArraySlice<UInt8>, _ from: Int) -> UInt64 {
            var w: UInt64 = 0
            var i = b.startIndex + from
            for _ in 0..<8 {
                w <<= 8
                if i < b.endIndex { w |= UInt64(b[i]) }
                i += 1
            }
            return w
        }
        var keys: [(UInt64, UInt64, Int32)] = []
        keys.reserveCapacity(count)
        for i in 0..<count {
            let b = bytes(i)
            keys.append((word(b, 0), word(b, 8), Int32(i)))
        }
        keys.sort { x, y in
            if x.0 != y.0 { return x.0 < y.0 }
            if x.1 != y.1 { return x.1 < y.1 }
            let a = bytes(Int(x.2)), b = bytes(Int(y.2))
            if a.count > 16 || b.count > 16 {
                let c = a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in StringDictionary.compare(pa, pb) } }
                if c != 0 { return c < 0 }
            } else if a.count != b.count {
                return a.count < b.count
            }
            return x.2 < y.2
        }
        return keys.map { $0.2 }
    }

    /// Lays one column out in the new document order. Single-valued columns get one slot
    /// per document; multi-valued ones a run per document delimited by `doc_offsets`.
    private static func buildColumn(_ b: ColumnBuilder, rank: [Int32], docCount n: Int, _ sections: Sections) throws(StoreError) -> JSONValue {
        var o = JSONObject()
        o["kind"] = .string(b.kind.rawValue)
        o["multi"] = .bool(b.multiValued)
        var present = [UInt64](repeating: 0, count: (n + 63) / 64)
        // slotOf[i] = where value i of the builder goes, or -1 when its document is dead.
        var slotOf = [Int32](repeating: -1, count: b.count)
        let slotCount: Int
        if b.multiValued {
            var counts = [UInt32](repeating: 0, count: n + 1)
            for d in b.docs where rank[Int(d)] >= 0 { counts[Int(rank[Int(d)]) + 1] += 1 }
            for i in 0..<n { counts[i + 1] += counts[i] }
            var next = counts
            for (i, d) in b.docs.enumerated() {
                let r = rank[Int(d)]
                guard r >= 0 else { continue }
                slotOf[i] = Int32(next[Int(r)])
                next[Int(r)] += 1
                present[Int(r) >> 6] |= 1 << UInt64(Int(r) & 63)
            }
            o["doc_offsets"] = try sections.add(counts)
            slotCount = Int(counts[n])
        } else {
            for (i, d) in b.docs.enumerated() {
                let r = rank[Int(d)]
                guard r >= 0 else { continue }
                slotOf[i] = r
                present[Int(r) >> 6] |= 1 << UInt64(Int(r) & 63)
            }
            let filled = present.reduce(0) { $0 + $1.nonzeroBitCount }
            if filled * 2 < n {
                // Sparse: values only for documents that have one; `ranks` counts them per 64 documents.
                var ranks = [UInt32](repeating: 0, count: present.count)
                var total: UInt32 = 0
                for w in present.indices {
                    ranks[w] = total
                    total += UInt32(present[w].nonzeroBitCount)
                }
                for i in 0..<b.count where slotOf[i] >= 0 {
                    let r = Int(slotOf[i])
                    let below = present[r >> 6] & ((1 << UInt64(r & 63)) &- 1)
                    slotOf[i] = Int32(ranks[r >> 6]) + Int32(below.nonzeroBitCount)
                }
                o["ranks"] = try sections.add(ranks)
                slotCount = filled
            } else {
                slotCount = n
            }
        }
        o["present"] = try sections.add(present)
        func scatter<T>(_ values: [T], fill: T, width: Int = 1) -> [T] {
            var out = [T](repeating: fill, count: slotCount * width)
            for i in 0..<b.count where slotOf[i] >= 0 {
                for w in 0..<width { out[Int(slotOf[i]) * width + w] = values[i * width + w] }
            }
            return out
        }
        switch b.kind {
        case .string:
            // Sort the dictionary bytewise and renumber the codes.
            let sorted = b.dictionary.sortedCodes()
            var remap = [Int32](repeating: 0, count: b.dictionary.count)
            var offsets: [UInt32] = [0]
            var bytes: [UInt8] = []
            bytes.reserveCapacity(b.dictionary.arena.count)
            for (newCode, old) in sorted.enumerated() {
                remap[old] = Int32(newCode)
                bytes.append(contentsOf: b.dictionary.entry(old))
                offsets.append(UInt32(bytes.count))
            }
            o["dict_offsets"] = try sections.add(offsets)
            o["dict_bytes"] = try sections.add(bytes)
            o["codes"] = try sections.add(scatter(b.codes.map { remap[Int($0)] }, fill: -1))
        case .int64, .date:
            o["values"] = try sections.add(scatter(b.ints, fill: 0))
        case .double:
            o["values"] = try sections.add(scatter(b.doubles, fill: 0))
        case .bool:
            o["values"] = try sections.add(scatter(b.bools, fill: 0))
        case .ip:
            o["values"] = try sections.add(scatter(b.ips, fill: 0, width: 2))
        case .none:
            break
        }
        return .object(o)
    }

    static func inverse(_ order: [Int32]) -> [Int32] {
        var out = [Int32](repeating: 0, count: order.count)
        for (entry, doc) in order.enumerated() { out[Int(doc)] = Int32(entry) }
        return out
    }

    static func kind(of v: FieldValue) -> ColumnKind {
        switch v {
        case .string: return .string
        case .int: return .int64
        case .double: return .double
        case .bool: return .bool
        case .date: return .date
        case .ip: return .ip
        }
    }
}

/// What `meta.json` records about a segment.
struct SegmentMeta {
    var name: String
    var docCount: Int
    var minTimestamp: Int64?
    var maxTimestamp: Int64?
    var maxSeqNo: Int64
    var categories: [String]
    var builtins: JSONObject
    var fields: JSONObject
    /// Length and CRC-32C of `columns.bin`, checked when the segment is opened (format 2 on;
    /// segments of format 1 carry none and are opened unchecked).
    var columnsLength: Int?
    var columnsChecksum: UInt32?

    /// The newest layout this build writes and reads.
    static let format: Int64 = 2

    var json: JSONValue {
        var o = JSONObject()
        o["format"] = .int(SegmentMeta.format)
        if let columnsLength, let columnsChecksum {
            o["columns"] = ["length": .int(Int64(columnsLength)), "crc32c": .int(Int64(columnsChecksum))]
        }
        o["name"] = .string(name)
        o["doc_count"] = .int(Int64(docCount))
        o["min_timestamp"] = minTimestamp.map { .int($0) } ?? .null
        o["max_timestamp"] = maxTimestamp.map { .int($0) } ?? .null
        o["max_seq_no"] = .int(maxSeqNo)
        o["categories"] = .array(categories.map { .string($0) })
        o["builtins"] = .object(builtins)
        o["fields"] = .object(fields)
        return .object(o)
    }

    init(name: String, docCount: Int, minTimestamp: Int64?, maxTimestamp: Int64?, maxSeqNo: Int64, categories: [String], builtins: JSONObject, fields: JSONObject,
         columnsLength: Int? = nil, columnsChecksum: UInt32? = nil) {
        self.columnsLength = columnsLength
        self.columnsChecksum = columnsChecksum
        self.name = name
        self.docCount = docCount
        self.minTimestamp = minTimestamp
        self.maxTimestamp = maxTimestamp
        self.maxSeqNo = maxSeqNo
        self.categories = categories
        self.builtins = builtins
        self.fields = fields
    }

    init(json: JSONValue) throws(StoreError) {
        guard let name = json["name"]?.stringValue, let docs = json["doc_count"]?.int64Value,
            let builtins = json["builtins"]?.objectValue, let fields = json["fields"]?.objectValue
        else { throw StoreError(.corrupt, "corrupt segment metadata") }
        let format = json["format"]?.int64Value ?? 1
        guard format >= 1 && format <= SegmentMeta.format else {
            throw StoreError(.corrupt, "segment [\(name)] has format \(format); this build reads formats 1 to \(SegmentMeta.format)")
        }
        if let c = json["columns"]?.objectValue {
            guard let length = c["length"]?.int64Value, let crc = c["crc32c"]?.int64Value, let crc32 = UInt32(exactly: crc), length >= 0 else {
                throw StoreError(.corrupt, "segment [\(name)]: corrupt columns checksum in meta.json")
            }
            columnsLength = Int(length)
            columnsChecksum = crc32
        }
        self.name = name
        docCount = Int(docs)
        minTimestamp = json["min_timestamp"]?.int64Value
        maxTimestamp = json["max_timestamp"]?.int64Value
        maxSeqNo = json["max_seq_no"]?.int64Value ?? -1
        categories = json["categories"]?.arrayValue?.compactMap(\.stringValue) ?? []
        self.builtins = builtins
        self.fields = fields
    }
}
