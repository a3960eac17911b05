import VigilJSON

/// Typed values of a batch of documents, mapped straight from their JSON bytes.
struct IngestTape {
    enum Kind: UInt8 {
        case string, int, double, bool, date, ip
    }

    /// Per value: its field slot, kind and payload. Strings: `a` = start in `bytes`, `b` = length;
    /// numbers, booleans, dates: `a`; doubles: `a` = bit pattern; IPs: `a` = high, `b` = low.
    var slots: [Int32] = []
    var kinds: [Kind] = []
    var a: [Int64] = []
    var b: [Int64] = []
    var bytes: [UInt8] = []

    mutating func reset() {
        slots.removeAll(keepingCapacity: true)
        kinds.removeAll(keepingCapacity: true)
        a.removeAll(keepingCapacity: true)
        b.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
    }

    var count: Int { slots.count }

    @inline(__always)
    mutating func add(_ slot: Int, _ kind: Kind, _ x: Int64, _ y: Int64 = 0) {
        slots.append(Int32(slot))
        kinds.append(kind)
        a.append(x)
        b.append(y)
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
    /// A trie of key paths: node 0 is the document root.
    private struct Node {
        var parent: Int32
        var hash: UInt64
        var keyStart: Int32
        var keyLength: Int32
        var resolved: DocumentMapper.Resolved?
        var ignoreAbove: Int
        var subIgnoreAbove: [Int]
    }

    private var nodes: [Node] = [Node(parent: -1, hash: 0, keyStart: 0, keyLength: 0, resolved: nil, ignoreAbove: Int.max, subIgnoreAbove: [])]
    private var paths: [String] = [""]
    private var keys: [UInt8] = []
    private var table = [Int32](repeating: -1, count: 256)
    private(set) var generation = -1
    private var timestampSlot = -1
    static let maxDepth = 64

    /// Drops what was learned when the mapping has changed since.
    mutating func sync(with mapper: DocumentMapper) {
        guard mapper.generation != generation else { return }
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
        let resolved = mapper.resolved[path]
        let id = Int32(nodes.count)
        nodes.append(Node(
            parent: parent, hash: h, keyStart: Int32(keys.count), keyLength: Int32(key.count), resolved: resolved,
            ignoreAbove: resolved?.field.ignoreAbove ?? Int.max, subIgnoreAbove: resolved?.subfields.map { $0.field.ignoreAbove ?? Int.max } ?? []))
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

    /// Maps one document onto the tape; nil sends it down the general path (the tape is rolled back).
    mutating func map(_ source: UnsafeBufferPointer<UInt8>, mapper: DocumentMapper, into tape: inout IngestTape) -> StreamedDocument? {
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
            tape.slots.removeSubrange(mark.0...)
            tape.kinds.removeSubrange(mark.0...)
            tape.a.removeSubrange(mark.0...)
            tape.b.removeSubrange(mark.0...)
            tape.bytes.removeSubrange(mark.1...)
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
        guard let r = nodes[Int(node)].resolved else { return false }
        let c = s.peek
        if c == UInt8(ascii: "{") {
            guard r.field.isObject, r.field.parameters["enabled"] == nil else { return false }
            return object(node: node, depth: depth + 1, &s, mapper, &doc)
        }
        if c == UInt8(ascii: "[") {
            guard depth < StreamingMapper.maxDepth else { return false }
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
        if r.field.isObject || r.field.type == .alias || r.field.type == .constantKeyword { return false }
        if c == UInt8(ascii: "n") {
            guard s.literal("null"), r.field.nullValue == nil else { return false }
            return true
        }
        switch r.field.type.storage {
        case .string:
            guard c == UInt8(ascii: "\""), let (start, length) = s.stringValue() else { return false }
            let chars = s.characterCount(start, length)
            if chars <= nodes[Int(node)].ignoreAbove { s.tape.add(r.slot, .string, Int64(start), Int64(length)) }
            for (k, sub) in r.subfields.enumerated() {
                guard sub.field.type.storage == .string, sub.field.type != .constantKeyword else { return false }
                if chars <= nodes[Int(node)].subIgnoreAbove[k] { s.tape.add(sub.slot, .string, Int64(start), Int64(length)) }
            }
            return true
        case .int64:
            guard r.subfields.isEmpty, let n = s.number(), !n.isDouble else { return false }
            switch r.field.type {
            case .integer: guard n.int >= Int64(Int32.min) && n.int <= Int64(Int32.max) else { return false }
            case .short: guard n.int >= Int64(Int16.min) && n.int <= Int64(Int16.max) else { return false }
            case .byte: guard n.int >= Int64(Int8.min) && n.int <= Int64(Int8.max) else { return false }
            case .unsignedLong: guard n.int >= 0 else { return false }
            default: break
            }
            s.tape.add(r.slot, .int, n.int)
            return true
        case .double:
            guard r.subfields.isEmpty, let n = s.number() else { return false }
            s.tape.add(r.slot, .double, Int64(bitPattern: (n.isDouble ? n.double : Double(n.int)).bitPattern))
            return true
        case .bool:
            guard r.subfields.isEmpty else { return false }
            if c == UInt8(ascii: "t"), s.literal("true") {
                s.tape.add(r.slot, .bool, 1)
                return true
            }
            if c == UInt8(ascii: "f"), s.literal("false") {
                s.tape.add(r.slot, .bool, 0)
                return true
            }
            return false
        case .date:
            guard r.subfields.isEmpty else { return false }
            let format = r.field.parameters["format"]?.stringValue
            var millis: Int64
            if c == UInt8(ascii: "\"") {
                guard format == nil || format!.hasPrefix("strict_date_optional_time"), let (start, length) = s.stringValue() else { return false }
                let parsed: Int64? = s.tape.bytes.withUnsafeBufferPointer { b in
                    DateFormats.parseISO(bytes: UnsafeBufferPointer(rebasing: b[start..<(start + length)]))
                }
                s.tape.bytes.removeSubrange(start...)
                guard let ms = parsed else { return false }
                millis = ms
            } else {
                guard format == nil || format!.contains("epoch_millis"), let n = s.number(), !n.isDouble else { return false }
                millis = n.int
            }
            s.tape.add(r.slot, .date, millis)
            if r.slot == timestampSlot {
                if doc.timestampCount == 0 { doc.timestamp = millis }
                doc.timestampCount += 1
            }
            return true
        case .ip:
            guard r.subfields.isEmpty, c == UInt8(ascii: "\""), let (start, length) = s.stringValue() else { return false }
            let text = s.tape.bytes.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[start..<(start + length)]), as: UTF8.self) }
            s.tape.bytes.removeSubrange(start...)
            guard let ip = IPAddress(text) else { return false }
            s.tape.add(r.slot, .ip, Int64(bitPattern: ip.high), Int64(bitPattern: ip.low))
            return true
        case .none:
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
        guard i + 1 < p.count else { return false }
        let e = p[i + 1]
        i += 2
        switch e {
        case UInt8(ascii: "\""): tape.bytes.append(0x22)
        case UInt8(ascii: "\\"): tape.bytes.append(0x5C)
        case UInt8(ascii: "/"): tape.bytes.append(0x2F)
        case UInt8(ascii: "b"): tape.bytes.append(0x08)
        case UInt8(ascii: "f"): tape.bytes.append(0x0C)
        case UInt8(ascii: "n"): tape.bytes.append(0x0A)
        case UInt8(ascii: "r"): tape.bytes.append(0x0D)
        case UInt8(ascii: "t"): tape.bytes.append(0x09)
        case UInt8(ascii: "u"):
            guard var scalar = hex4() else { return false }
            if scalar >= 0xD800 && scalar < 0xDC00 {
                guard i + 1 < p.count, p[i] == UInt8(ascii: "\\"), p[i + 1] == UInt8(ascii: "u") else { return false }
                i += 2
                guard let low = hex4(), low >= 0xDC00 && low < 0xE000 else { return false }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if scalar >= 0xDC00 && scalar < 0xE000 {
                return false
            }
            JSONUTF8.append(scalar, to: &tape.bytes)
        default:
            return false
        }
        return true
    }

    private mutating func hex4() -> UInt32? {
        guard i + 4 <= p.count else { return nil }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = p[i]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: return nil
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    /// Validates one multi-byte UTF-8 sequence at `i` (no overlongs, no surrogates) and steps over it.
    @inline(__always)
    private mutating func validUTF8() -> Bool {
        let c = p[i]
        var need: Int
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        switch c {
        case 0xC2...0xDF: need = 1
        case 0xE0: need = 2; lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: need = 2
        case 0xED: need = 2; upper = 0x9F
        case 0xF0: need = 3; lower = 0x90
        case 0xF1...0xF3: need = 3
        case 0xF4: need = 3; upper = 0x8F
        default: return false
        }
        guard i + need < p.count else { return false }
        guard p[i + 1] >= lower && p[i + 1] <= upper else { return false }
        var k = 2
        while k <= need {
            guard p[i + k] & 0xC0 == 0x80 else { return false }
            k += 1
        }
        i += need + 1
        return true
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
        var negative = false
        if peek == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        guard i < p.count, p[i] >= 0x30, p[i] <= 0x39 else { return nil }
        var magnitude: UInt64 = 0
        var overflow = false
        if p[i] == 0x30 {
            i += 1
            if i < p.count, p[i] >= 0x30, p[i] <= 0x39 { return nil }
        } else {
            while i < p.count, p[i] >= 0x30, p[i] <= 0x39 {
                let (m1, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (m2, o2) = m1.addingReportingOverflow(UInt64(p[i] - 0x30))
                overflow = overflow || o1 || o2
                magnitude = m2
                i += 1
            }
        }
        var isDouble = false
        if i < p.count, p[i] == UInt8(ascii: ".") {
            isDouble = true
            i += 1
            guard i < p.count, p[i] >= 0x30, p[i] <= 0x39 else { return nil }
            while i < p.count, p[i] >= 0x30, p[i] <= 0x39 { i += 1 }
        }
        if i < p.count, p[i] == UInt8(ascii: "e") || p[i] == UInt8(ascii: "E") {
            isDouble = true
            i += 1
            if i < p.count, p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-") { i += 1 }
            guard i < p.count, p[i] >= 0x30, p[i] <= 0x39 else { return nil }
            while i < p.count, p[i] >= 0x30, p[i] <= 0x39 { i += 1 }
        }
        if isDouble {
            return Number(isDouble: true, int: 0, double: JSONNumber.parseDouble(p, start, i))
        }
        guard !overflow, magnitude <= UInt64(Int64.max) else { return nil }
        let v = Int64(magnitude)
        return Number(isDouble: false, int: negative ? -v : v, double: 0)
    }
}
