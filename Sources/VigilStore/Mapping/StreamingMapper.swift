import VigilJSON

/// Typed values of a batch of documents, mapped straight from their JSON bytes.
struct IngestTape {
    /// One mapped value: its field slot, kind and payload. Strings: `a` = start in `bytes`,
    /// `b` = length; numbers, booleans, dates: `a`; doubles: `a` = bit pattern; IPs: `a` = high, `b` = low.
    struct Value {
        var slot: Int32
        var kind: ColumnKind
        var a: Int64
        var b: Int64
    }

    var values: [Value] = []
    var bytes: [UInt8] = []

    mutating func reset() {
        values.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
    }

    var count: Int { values.count }

    @inline(__always)
    mutating func add(_ slot: Int, _ kind: ColumnKind, _ x: Int64, _ y: Int64 = 0) {
        values.append(Value(slot: Int32(truncatingIfNeeded: slot), kind: kind, a: x, b: y))
    }

    /// Drops the values from `value` and the string bytes from `byte` on.
    mutating func truncate(values value: Int, bytes byte: Int) {
        values.removeSubrange(value...)
        bytes.removeSubrange(byte...)
    }
}

/// One document mapped by the streaming path: a range of tape values and its timestamp.
struct StreamedDocument {
    var values: Range<Int>
    var timestamp: Int64?
    var timestampCount: Int
}

/// Maps documents from JSON bytes into an `IngestTape` without building a JSON tree.
///
/// It handles the steady state of log ingest: every field already mapped, values of the
/// mapped type. Anything else (a new field, a dotted key, an escape in a key, a value that
/// needs coercion, `null_value`, malformed JSON) makes `map` return nil, and the document
/// takes the general path through `DocumentMapper`, which also produces the error.
struct StreamingMapper {
    /// What to do with a value at one path, precomputed from the mapping as plain data, so the
    /// per-value loop touches no reference-counted storage.
    enum Plan: UInt8 {
        case unknown, object, string, long, double, bool, dateISOOrEpoch, dateISO, dateEpoch, ip
    }

    /// A trie of key paths: node 0 is the document root.
    private struct Node {
        var parent: Int32
        var hash: UInt64
        var keyStart: Int32
        var keyLength: Int32
        var plan: Plan
        var slot: Int32
        var ignoreAbove: Int
        /// The smallest `ignore_above` of the field and its multi-fields: shorter byte strings need no counting.
        var lowestLimit: Int
        var min: Int64
        var max: Int64
        /// Multi-fields: `subfields[subStart..<subStart+subCount]`.
        var subStart: Int32
        var subCount: Int32
    }

    private struct Subfield {
        var slot: Int32
        var ignoreAbove: Int
    }

    private var nodes: [Node] = [Node(parent: -1, hash: 0, keyStart: 0, keyLength: 0, plan: .object, slot: -1, ignoreAbove: Int.max, lowestLimit: Int.max, min: 0, max: 0, subStart: 0, subCount: 0)]
    private var subfields: [Subfield] = []
    private var paths: [String] = [""]
    private var keys: [UInt8] = []
    private var table = [Int32](repeating: -1, count: 256)
    private(set) var generation = -1
    private var timestampSlot = -1
    static let maxDepth = 64

    /// Drops what was learned when the mapping has changed since.
    mutating func sync(with mapper: DocumentMapper) {
        guard mapper.generation != generation else { return }
        startOver(for: mapper)
    }

    private mutating func startOver(for mapper: DocumentMapper) {
        self = StreamingMapper()
        generation = mapper.generation
        timestampSlot = mapper.slots.slot(ifKnown: Index.timestampField) ?? -1
    }

    private static func combine(_ parent: Int32, _ keyHash: UInt64) -> UInt64 {
        (keyHash ^ (UInt64(UInt32(bitPattern: parent)) &* 0x9E37_79B9_7F4A_7C15)) &* 0xBF58_476D_1CE4_E5B9
    }

    /// The child of `parent` named by `key`, learning it from the mapper when new.
    private mutating func child(_ parent: Int32, _ key: UnsafeBufferPointer<UInt8>, _ mapper: DocumentMapper) -> Int32 {
        let h = StreamingMapper.combine(parent, ByteDictionary.hash(key))
        var mask = table.count - 1
        var slot = Int(truncatingIfNeeded: h) & mask
        while true {
            let n = table[slot]
            if n < 0 { break }
            let node = nodes[Int(n)]
            if node.hash == h && node.parent == parent && Int(node.keyLength) == key.count {
                let same = keys.withUnsafeBufferPointer { k in
                    key.count == 0 || memcmpBytes(k.baseAddress! + Int(node.keyStart), key.baseAddress!, key.count)
                }
                if same { return n }
            }
            slot = (slot + 1) & mask
        }
        let keyString = String(decoding: key, as: UTF8.self)
        let path = parent == 0 ? keyString : paths[Int(parent)] + "." + keyString
        let id = Int32(nodes.count)
        var node = Node(parent: parent, hash: h, keyStart: Int32(keys.count), keyLength: Int32(key.count), plan: .unknown, slot: -1,
            ignoreAbove: Int.max, lowestLimit: Int.max, min: Int64.min, max: Int64.max, subStart: Int32(subfields.count), subCount: 0)
        if let r = mapper.resolved[path] { plan(&node, r) }
        nodes.append(node)
        paths.append(path)
        keys.append(contentsOf: key)
        table[slot] = id
        if nodes.count * 2 > table.count {
            var t = [Int32](repeating: -1, count: table.count * 2)
            mask = t.count - 1
            for (i, node) in nodes.enumerated() where i > 0 {
                var s = Int(truncatingIfNeeded: node.hash) & mask
                while t[s] >= 0 { s = (s + 1) & mask }
                t[s] = Int32(i)
            }
            table = t
        }
        return id
    }

    /// Derives a node's plan; fields the streaming path does not handle keep `.unknown`.
    private mutating func plan(_ node: inout Node, _ r: DocumentMapper.Resolved) {
        let f = r.field
        node.slot = Int32(r.slot)
        if f.isObject {
            node.plan = f.parameters["enabled"] == nil ? .object : .unknown
            return
        }
        if f.type == .alias || f.type == .constantKeyword || f.nullValue != nil { return }
        let storage = f.type.storage
        if storage != .string && !r.subfields.isEmpty { return }
        switch storage {
        case .string:
            for sub in r.subfields {
                guard sub.field.type.storage == .string, sub.field.type != .constantKeyword else { return }
            }
            for sub in r.subfields { subfields.append(Subfield(slot: Int32(sub.slot), ignoreAbove: sub.field.ignoreAbove ?? Int.max)) }
            node.subCount = Int32(r.subfields.count)
            node.ignoreAbove = f.ignoreAbove ?? Int.max
            node.lowestLimit = min(node.ignoreAbove, r.subfields.map { $0.field.ignoreAbove ?? Int.max }.min() ?? Int.max)
            node.plan = .string
        case .int64:
            switch f.type {
            case .integer: (node.min, node.max) = (Int64(Int32.min), Int64(Int32.max))
            case .short: (node.min, node.max) = (Int64(Int16.min), Int64(Int16.max))
            case .byte: (node.min, node.max) = (Int64(Int8.min), Int64(Int8.max))
            case .unsignedLong: node.min = 0
            default: break
            }
            node.plan = .long
        case .double: node.plan = .double
        case .bool: node.plan = .bool
        case .date:
            let format = f.parameters["format"]?.stringValue
            if format == nil {
                node.plan = .dateISOOrEpoch
            } else if format!.hasPrefix("strict_date_optional_time") {
                node.plan = format!.contains("epoch_millis") ? .dateISOOrEpoch : .dateISO
            } else if format == "epoch_millis" {
                node.plan = .dateEpoch
            }
        case .ip: node.plan = .ip
        case .none: break
        }
    }

    /// Paths learned before the trie starts over: keys that never become fields (`dynamic: false`,
    /// rejected documents) must not grow it without bound.
    static let maxNodes = 20_000

    /// Maps one document onto the tape; nil sends it down the general path (the tape is rolled back).
    mutating func map(_ source: UnsafeBufferPointer<UInt8>, mapper: DocumentMapper, into tape: inout IngestTape) -> StreamedDocument? {
        if nodes.count > StreamingMapper.maxNodes { startOver(for: mapper) }
        let mark = (tape.count, tape.bytes.count)
        var scan = Scan(p: source, tape: tape)
        tape = IngestTape()
        var doc = StreamedDocument(values: mark.0..<mark.0, timestamp: nil, timestampCount: 0)
        var ok = false
        scan.skipWhitespace()
        if scan.peek == UInt8(ascii: "{") {
            ok = object(node: 0, depth: 1, &scan, mapper, &doc)
            scan.skipWhitespace()
            ok = ok && scan.i == source.count
        }
        tape = scan.tape
        if !ok {
            tape.truncate(values: mark.0, bytes: mark.1)
            return nil
        }
        doc.values = mark.0..<tape.count
        return doc
    }

    /// At `{`: maps every member.
    private mutating func object(node: Int32, depth: Int, _ s: inout Scan, _ mapper: DocumentMapper, _ doc: inout StreamedDocument) -> Bool {
        guard depth <= StreamingMapper.maxDepth else { return false }
        s.i += 1
        s.skipWhitespace()
        if s.peek == UInt8(ascii: "}") {
            s.i += 1
            return true
        }
        while true {
            guard s.peek == UInt8(ascii: "\"") else { return false }
            guard let key = s.plainKey() else { return false }
            let child = self.child(node, key, mapper)
            s.skipWhitespace()
            guard s.peek == UInt8(ascii: ":") else { return false }
            s.i += 1
            s.skipWhitespace()
            guard value(node: child, depth: depth, &s, mapper, &doc, inArray: false) else { return false }
            s.skipWhitespace()
            if s.peek == UInt8(ascii: ",") {
                s.i += 1
                s.skipWhitespace()
                continue
            }
            if s.peek == UInt8(ascii: "}") {
                s.i += 1
                return true
            }
            return false
        }
    }

    private mutating func value(node: Int32, depth: Int, _ s: inout Scan, _ mapper: DocumentMapper, _ doc: inout StreamedDocument, inArray: Bool) -> Bool {
        let n = nodes[Int(node)]
        let c = s.peek
        if c == UInt8(ascii: "[") {
            guard n.plan != .unknown, depth < StreamingMapper.maxDepth else { return false }
            s.i += 1
            s.skipWhitespace()
            if s.peek == UInt8(ascii: "]") {
                s.i += 1
                return true
            }
            while true {
                guard value(node: node, depth: depth + 1, &s, mapper, &doc, inArray: true) else { return false }
                s.skipWhitespace()
                if s.peek == UInt8(ascii: ",") {
                    s.i += 1
                    s.skipWhitespace()
                    continue
                }
                if s.peek == UInt8(ascii: "]") {
                    s.i += 1
                    return true
                }
                return false
            }
        }
        switch n.plan {
        case .unknown:
            return false
        case .object:
            guard c == UInt8(ascii: "{") else { return false }
            return object(node: node, depth: depth + 1, &s, mapper, &doc)
        default:
            break
        }
        if c == UInt8(ascii: "n") { return s.literal("null") }
        let slot = Int(n.slot)
        switch n.plan {
        case .string:
            guard c == UInt8(ascii: "\""), let (start, length) = s.stringValue() else { return false }
            let chars = length <= n.lowestLimit ? length : s.characterCount(start, length)
            if chars <= n.ignoreAbove { s.tape.add(slot, .string, Int64(start), Int64(length)) }
            var k = Int(n.subStart)
            let end = k + Int(n.subCount)
            while k < end {
                let sub = subfields[k]
                if chars <= sub.ignoreAbove { s.tape.add(Int(sub.slot), .string, Int64(start), Int64(length)) }
                k += 1
            }
            return true
        case .long:
            guard let v = s.number(), !v.isDouble, v.int >= n.min, v.int <= n.max else { return false }
            s.tape.add(slot, .int64, v.int)
            return true
        case .double:
            guard let v = s.number() else { return false }
            s.tape.add(slot, .double, Int64(bitPattern: (v.isDouble ? v.double : Double(v.int)).bitPattern))
            return true
        case .bool:
            if c == UInt8(ascii: "t"), s.literal("true") {
                s.tape.add(slot, .bool, 1)
                return true
            }
            if c == UInt8(ascii: "f"), s.literal("false") {
                s.tape.add(slot, .bool, 0)
                return true
            }
            return false
        case .dateISOOrEpoch, .dateISO, .dateEpoch:
            var millis: Int64
            if c == UInt8(ascii: "\"") {
                guard n.plan != .dateEpoch, let (start, length) = s.stringValue() else { return false }
                let parsed: Int64? = s.tape.bytes.withUnsafeBufferPointer { b in
                    DateFormats.parseISO(bytes: UnsafeBufferPointer(rebasing: b[start..<(start + length)]))
                }
                s.tape.bytes.removeSubrange(start...)
                guard let ms = parsed else { return false }
                millis = ms
            } else {
                guard n.plan != .dateISO, let v = s.number(), !v.isDouble else { return false }
                millis = v.int
            }
            s.tape.add(slot, .date, millis)
            if slot == timestampSlot {
                if doc.timestampCount == 0 { doc.timestamp = millis }
                doc.timestampCount += 1
            }
            return true
        case .ip:
            guard c == UInt8(ascii: "\""), let (start, length) = s.stringValue() else { return false }
            let parsed = s.tape.bytes.withUnsafeBufferPointer { IPAddress(utf8: UnsafeBufferPointer(rebasing: $0[start..<(start + length)])) }
            s.tape.bytes.removeSubrange(start...)
            guard let ip = parsed else { return false }
            s.tape.add(slot, .ip, Int64(bitPattern: ip.high), Int64(bitPattern: ip.low))
            return true
        case .unknown, .object:
            return false
        }
    }
}

/// A validating cursor over one document's bytes; string values land unescaped in the tape's arena.
struct Scan {
    let p: UnsafeBufferPointer<UInt8>
    var i = 0
    var tape: IngestTape

    init(p: UnsafeBufferPointer<UInt8>, tape: IngestTape) {
        self.p = p
        self.tape = tape
    }

    var peek: UInt8 { i < p.count ? p[i] : 0 }

    @inline(__always)
    mutating func skipWhitespace() {
        while i < p.count {
            let c = p[i]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 } else { return }
        }
    }

    mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard i + n <= p.count else { return false }
        for k in 0..<n where p[i + k] != word.utf8Start[k] { return false }
        i += n
        return true
    }

    /// A key with no escapes, no dots and valid UTF-8; nil otherwise.
    mutating func plainKey() -> UnsafeBufferPointer<UInt8>? {
        i += 1
        let start = i
        while i < p.count {
            let c = p[i]
            if c == UInt8(ascii: "\"") {
                let key = UnsafeBufferPointer(rebasing: p[start..<i])
                i += 1
                return key.isEmpty ? nil : key
            }
            if c == UInt8(ascii: "\\") || c == UInt8(ascii: ".") || c < 0x20 { return nil }
            if c >= 0x80 {
                guard validUTF8() else { return nil }
            } else {
                i += 1
            }
        }
        return nil
    }

    /// A string value, unescaped into the tape's byte arena: (start, length).
    mutating func stringValue() -> (Int, Int)? {
        i += 1
        let start = tape.bytes.count
        var run = i
        while i < p.count {
            let c = p[i]
            if c == UInt8(ascii: "\"") {
                tape.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: p[run..<i]))
                i += 1
                return (start, tape.bytes.count - start)
            }
            if c == UInt8(ascii: "\\") {
                tape.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: p[run..<i]))
                guard escape() else { return nil }
                run = i
            } else if c < 0x20 {
                return nil
            } else if c >= 0x80 {
                guard validUTF8() else { return nil }
            } else {
                i += 1
            }
        }
        return nil
    }

    private mutating func escape() -> Bool {
        JSONLexer.escape(p, &i, into: &tape.bytes) == nil
    }

    @inline(__always)
    private mutating func validUTF8() -> Bool {
        JSONLexer.utf8Sequence(p, &i) == nil
    }

    /// Characters (Unicode scalars) in a stored string, for `ignore_above`.
    func characterCount(_ start: Int, _ length: Int) -> Int {
        tape.bytes.withUnsafeBufferPointer { b in
            var n = 0
            for k in start..<(start + length) where b[k] & 0xC0 != 0x80 { n += 1 }
            return n
        }
    }

    struct Number {
        var isDouble: Bool
        var int: Int64
        var double: Double
    }

    /// A JSON number; integers beyond Int64 return nil (the general path decides).
    mutating func number() -> Number? {
        let start = i
        guard case .success(let n) = JSONLexer.number(p, &i) else { return nil }
        if n.isFloat {
            return Number(isDouble: true, int: 0, double: JSONNumber.parseDouble(p, start, i))
        }
        guard !n.overflow, n.magnitude <= UInt64(Int64.max) else { return nil }
        let v = Int64(n.magnitude)
        return Number(isDouble: false, int: n.negative ? -v : v, double: 0)
    }
}
