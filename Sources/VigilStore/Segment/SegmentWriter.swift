#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import VigilJSON

/// A document ready to be sealed into a segment.
struct SealDocument {
    var id: String
    var seqNo: Int64
    var version: Int64
    var source: [UInt8]
    var fields: [String: [FieldValue]]
    var timestamp: Int64?
}

/// Builds one immutable segment directory: `columns.bin` (typed columns, 8-byte aligned
/// sections), `source.bin` (each document's `_source` bytes) and `meta.json` (directory of sections).
enum SegmentWriter {
    static let categoryField = "event.category"

    struct Sections {
        var bytes: [UInt8] = []

        mutating func add<T>(_ values: [T]) -> JSONValue {
            while bytes.count % 8 != 0 { bytes.append(0) }
            let offset = bytes.count
            values.withUnsafeBytes { bytes.append(contentsOf: $0) }
            return .array([.int(Int64(offset)), .int(Int64(values.count))])
        }
    }

    /// Writes the documents (any order) as segment `name` under `directory`; returns its metadata.
    static func write(_ input: [SealDocument], name: String, directory: String) throws(StoreError) -> SegmentMeta {
        let docs = input.sorted { a, b in
            let ta = a.timestamp ?? Int64.min, tb = b.timestamp ?? Int64.min
            return ta != tb ? ta < tb : a.seqNo < b.seqNo
        }
        let dir = directory + "/" + name
        try FileIO.makeDirectories(dir)
        var sections = Sections()
        var columns = JSONObject()

        // Built-in columns.
        var sourceOffsets: [UInt64] = [0]
        var sourceBytes: [UInt8] = []
        sourceOffsets.reserveCapacity(docs.count + 1)
        for d in docs {
            sourceBytes.append(contentsOf: d.source)
            sourceOffsets.append(UInt64(sourceBytes.count))
        }
        columns["_source_offsets"] = .object(["values": sections.add(sourceOffsets)])
        columns["_seq_no"] = .object(["values": sections.add(docs.map(\.seqNo))])
        columns["_version"] = .object(["values": sections.add(docs.map(\.version))])
        columns["_timestamp"] = .object(["values": sections.add(docs.map { $0.timestamp ?? Int64.min })])
        // _id: a sorted dictionary of unique ids, with the document of each entry.
        let idOrder = docs.indices.sorted { docs[$0].id.utf8.lexicographicallyPrecedes(docs[$1].id.utf8) }
        var idOffsets: [UInt32] = [0]
        var idBytes: [UInt8] = []
        for i in idOrder {
            idBytes.append(contentsOf: docs[i].id.utf8)
            idOffsets.append(UInt32(idBytes.count))
        }
        columns["_id"] = .object([
            "dict_offsets": sections.add(idOffsets), "dict_bytes": sections.add(idBytes),
            "docs": sections.add(idOrder.map { Int32($0) }),
            "entries": sections.add(inverse(idOrder)),
        ])

        // Field columns.
        var kinds: [String: ColumnKind] = [:]
        for d in docs {
            for (path, values) in d.fields where kinds[path] == nil {
                if let v = values.first { kinds[path] = kind(of: v) }
            }
        }
        var fieldColumns = JSONObject()
        for path in kinds.keys.sorted() {
            fieldColumns[path] = buildColumn(path, kinds[path]!, docs, &sections)
        }

        var categories = Set<String>()
        for d in docs {
            for v in d.fields[categoryField] ?? [] { if case .string(let s) = v { categories.insert(s) } }
        }
        let stamps = docs.compactMap(\.timestamp)
        let meta = SegmentMeta(
            name: name, docCount: docs.count, minTimestamp: stamps.min(), maxTimestamp: stamps.max(),
            maxSeqNo: docs.map(\.seqNo).max() ?? -1, categories: categories.sorted(),
            builtins: columns, fields: fieldColumns)
        try writeFile(dir + "/columns.bin", sections.bytes)
        try writeFile(dir + "/source.bin", sourceBytes)
        try FileIO.writeAtomically(dir + "/meta.json", JSONWriter().encode(meta.json))
        return meta
    }

    static func inverse(_ order: [Int]) -> [Int32] {
        var out = [Int32](repeating: 0, count: order.count)
        for (entry, doc) in order.enumerated() { out[doc] = Int32(entry) }
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

    private static func buildColumn(_ path: String, _ kind: ColumnKind, _ docs: [SealDocument], _ sections: inout Sections) -> JSONValue {
        var multi = false
        for d in docs where (d.fields[path]?.count ?? 0) > 1 {
            multi = true
            break
        }
        var o = JSONObject()
        o["kind"] = .string(kind.rawValue)
        o["multi"] = .bool(multi)
        // Values in document order; for multi-valued columns, doc_offsets delimit each document's run.
        var docOffsets: [UInt32] = [0]
        var present = [UInt64](repeating: 0, count: (docs.count + 63) / 64)
        var flat: [FieldValue?] = []
        flat.reserveCapacity(docs.count)
        for (i, d) in docs.enumerated() {
            let values = (d.fields[path] ?? []).filter { Self.kind(of: $0) == kind }
            if multi {
                flat.append(contentsOf: values.map { Optional($0) })
                docOffsets.append(UInt32(flat.count))
            } else {
                flat.append(values.first)
            }
            if !values.isEmpty { present[i >> 6] |= 1 << UInt64(i & 63) }
        }
        if multi { o["doc_offsets"] = sections.add(docOffsets) }
        o["present"] = sections.add(present)
        switch kind {
        case .string:
            var unique = Set<String>()
            for case .string(let s)? in flat { unique.insert(s) }
            let dict = unique.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            var index: [String: Int32] = [:]
            index.reserveCapacity(dict.count)
            var offsets: [UInt32] = [0]
            var bytes: [UInt8] = []
            for (i, s) in dict.enumerated() {
                index[s] = Int32(i)
                bytes.append(contentsOf: s.utf8)
                offsets.append(UInt32(bytes.count))
            }
            let codes: [Int32] = flat.map { v in
                if case .string(let s)? = v { return index[s]! }
                return -1
            }
            o["dict_offsets"] = sections.add(offsets)
            o["dict_bytes"] = sections.add(bytes)
            o["codes"] = sections.add(codes)
        case .int64, .date:
            o["values"] = sections.add(flat.map { v -> Int64 in
                switch v {
                case .int(let x)?, .date(let x)?: return x
                default: return 0
                }
            })
        case .double:
            o["values"] = sections.add(flat.map { v -> Double in
                if case .double(let x)? = v { return x }
                return 0
            })
        case .bool:
            o["values"] = sections.add(flat.map { v -> UInt8 in
                if case .bool(let x)? = v { return x ? 1 : 0 }
                return 0
            })
        case .ip:
            var words: [UInt64] = []
            words.reserveCapacity(flat.count * 2)
            for v in flat {
                if case .ip(let a)? = v {
                    words.append(a.high)
                    words.append(a.low)
                } else {
                    words.append(0)
                    words.append(0)
                }
            }
            o["values"] = sections.add(words)
        case .none:
            break
        }
        return .object(o)
    }

    static func writeFile(_ path: String, _ bytes: [UInt8]) throws(StoreError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw FileIO.ioError("cannot create", path) }
        defer { close(fd) }
        try FileIO.writeAll(fd, bytes, path: path)
        guard fsync(fd) == 0 else { throw FileIO.ioError("cannot fsync", path) }
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

    var json: JSONValue {
        var o = JSONObject()
        o["format"] = .int(1)
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

    init(name: String, docCount: Int, minTimestamp: Int64?, maxTimestamp: Int64?, maxSeqNo: Int64, categories: [String], builtins: JSONObject, fields: JSONObject) {
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
        else { throw StoreError(.internal, "corrupt segment metadata") }
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
