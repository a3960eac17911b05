/// Copies out of JSON documents only the fields a query reads, as a smaller document.
///
/// Offline hunting reads every event of a file but a query looks at a handful of fields: the
/// projector walks each document's bytes, steps over what no projected path needs without
/// decoding it, and copies the values it needs verbatim. Dotted keys and nested objects name
/// the same field, as in `FieldPath`. A value at a projected path is copied whole, whatever it
/// holds; an array met on the way to a projected path is copied whole too (arrays of objects
/// hold their fields per element). Objects are kept nested as in the document, and an object
/// that contributes nothing is left out.
public struct JSONProjector: Sendable {
    struct Node: Sendable {
        var children: [(key: [UInt8], node: Int)] = []
        var terminal = false
        /// Bits of the projected paths at or below this node (path `i` is bit `min(i, 63)`).
        var paths: UInt64 = 0
    }

    var nodes: [Node] = [Node()]
    /// Bits of every projected path; see `project(_:into:found:)`.
    public private(set) var allPaths: UInt64 = 0

    /// The paths to keep, e.g. `process.parent.name`; a path that is a prefix of another keeps the whole subtree.
    public init(paths: some Sequence<String>) {
        for (i, path) in paths.enumerated() {
            let bit: UInt64 = 1 << min(i, 63)
            allPaths |= bit
            var n = 0
            nodes[0].paths |= bit
            for part in path.split(separator: ".", omittingEmptySubsequences: false) {
                let key = Array(part.utf8)
                if let c = nodes[n].children.first(where: { $0.key == key }) {
                    n = c.node
                } else {
                    nodes.append(Node())
                    nodes[n].children.append((key, nodes.count - 1))
                    n = nodes.count - 1
                }
                nodes[n].paths |= bit
            }
            nodes[n].terminal = true
        }
    }

    /// Appends the projection of `document` (one JSON object) to `out`. Returns false, leaving
    /// `out` as it was, when the document is not an object or is malformed where it was read.
    /// Values that are stepped over are neither decoded nor validated.
    public func project(_ document: UnsafeRawBufferPointer, into out: inout [UInt8]) -> Bool {
        var found: UInt64 = 0
        return project(document, into: &out, found: &found)
    }

    /// `project(_:into:)`, also setting in `found` the bits of the paths (in the order given; the
    /// 64th and later share bit 63) that had a non-null value copied, whole or within an array.
    public func project(_ document: UnsafeRawBufferPointer, into out: inout [UInt8], found: inout UInt64) -> Bool {
        project(document, into: &out, found: &found, spans: nil)
    }

    /// Where one projected value was copied to in the output.
    public struct Span: Sendable {
        /// Bits of the paths the value holds (see `found`).
        public var paths: UInt64
        /// The value's bytes in the output.
        public var range: Range<Int>
        /// The value is an array met on the way to the paths, not a value at one of them.
        public var enclosing: Bool
    }

    /// `project(_:into:found:)`, also listing in `spans` where each copied value is in `out`.
    public func project(_ document: UnsafeRawBufferPointer, into out: inout [UInt8], found: inout UInt64, spans: inout [Span]) -> Bool {
        withUnsafeMutablePointer(to: &spans) { project(document, into: &out, found: &found, spans: $0) }
    }

    private func project(_ document: UnsafeRawBufferPointer, into out: inout [UInt8], found: inout UInt64, spans: UnsafeMutablePointer<[Span]>?) -> Bool {
        let start = out.count
        // A leading UTF-8 byte order mark is skipped, as the parser skips it.
        let bom = document.count >= 3 && document[0] == 0xEF && document[1] == 0xBB && document[2] == 0xBF ? 3 : 0
        var i = JSONProjector.skipSpace(document, bom)
        guard i < document.count, document[i] == UInt8(ascii: "{"), object(document, &i, node: 0, into: &out, found: &found, spans: spans) else {
            out.removeSubrange(start...)
            return false
        }
        i = JSONProjector.skipSpace(document, i)
        if i != document.count {
            out.removeSubrange(start...)
            return false
        }
        return true
    }

    /// Reads the object at `i` (its `{`), copying what nodes below `node` need; `i` ends past its `}`.
    private func object(_ p: UnsafeRawBufferPointer, _ i: inout Int, node: Int, into out: inout [UInt8], found: inout UInt64, spans: UnsafeMutablePointer<[Span]>?) -> Bool {
        out.append(UInt8(ascii: "{"))
        let open = out.count
        i += 1
        i = JSONProjector.skipSpace(p, i)
        if i < p.count, p[i] == UInt8(ascii: "}") {
            i += 1
            out.append(UInt8(ascii: "}"))
            return true
        }
        while true {
            guard i < p.count, p[i] == UInt8(ascii: "\"") else { return false }
            let keyStart = i
            guard let keyEnd = JSONProjector.skipString(p, i) else { return false }
            i = JSONProjector.skipSpace(p, keyEnd)
            guard i < p.count, p[i] == UInt8(ascii: ":") else { return false }
            i = JSONProjector.skipSpace(p, i + 1)
            guard i < p.count else { return false }
            let valueStart = i
            switch match(p, keyStart + 1, keyEnd - 1, from: node) {
            case .none:
                guard let e = JSONProjector.skipValue(p, i) else { return false }
                i = e
            case .whole(let at):
                guard let e = JSONProjector.skipValue(p, i) else { return false }
                i = e
                if p[valueStart] != UInt8(ascii: "n") { found |= nodes[at].paths }
                if out.count > open { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[keyStart..<keyEnd]))
                out.append(UInt8(ascii: ":"))
                spans?.pointee.append(Span(paths: nodes[at].paths, range: out.count..<(out.count + i - valueStart), enclosing: false))
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[valueStart..<i]))
            case .descend(let child):
                if p[i] == UInt8(ascii: "{") {
                    let mark = out.count
                    if out.count > open { out.append(UInt8(ascii: ",")) }
                    out.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[keyStart..<keyEnd]))
                    out.append(UInt8(ascii: ":"))
                    let inner = out.count
                    guard object(p, &i, node: child, into: &out, found: &found, spans: spans) else { return false }
                    // `{}` written for an object none of whose fields are needed: drop it.
                    if out.count == inner + 2 { out.removeSubrange(mark...) }
                } else {
                    guard let e = JSONProjector.skipValue(p, i) else { return false }
                    i = e
                    if p[valueStart] == UInt8(ascii: "[") {
                        found |= nodes[child].paths
                        if out.count > open { out.append(UInt8(ascii: ",")) }
                        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[keyStart..<keyEnd]))
                        out.append(UInt8(ascii: ":"))
                        spans?.pointee.append(Span(paths: nodes[child].paths, range: out.count..<(out.count + i - valueStart), enclosing: true))
                        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[valueStart..<i]))
                    }
                }
            }
            i = JSONProjector.skipSpace(p, i)
            guard i < p.count else { return false }
            if p[i] == UInt8(ascii: ",") {
                i = JSONProjector.skipSpace(p, i + 1)
                continue
            }
            guard p[i] == UInt8(ascii: "}") else { return false }
            i += 1
            out.append(UInt8(ascii: "}"))
            return true
        }
    }

    enum Match {
        case none
        /// The key reaches a projected path (at this node): keep its value whole.
        case whole(Int)
        /// The key leads towards projected paths below this node.
        case descend(Int)
    }

    /// Follows the key's dot-separated parts (bytes `s..<e` of `p`, without quotes) down from `node`.
    private func match(_ p: UnsafeRawBufferPointer, _ s: Int, _ e: Int, from node: Int) -> Match {
        var key = UnsafeRawBufferPointer(rebasing: p[s..<e])
        var decoded: [UInt8] = []
        if key.contains(UInt8(ascii: "\\")) {
            // An escaped key: decode it (rare), then match the text it stands for.
            guard case .string(let text)? = try? JSONParser().parse(UnsafeRawBufferPointer(rebasing: p[(s - 1)...e])) else { return .none }
            decoded = Array(text.utf8)
        }
        return decoded.withUnsafeBytes { d in
            if !decoded.isEmpty { key = d }
            var n = node
            var partStart = 0
            while true {
                var partEnd = partStart
                while partEnd < key.count, key[partEnd] != UInt8(ascii: ".") { partEnd += 1 }
                guard let child = child(of: n, key, partStart, partEnd) else { return .none }
                if nodes[child].terminal { return .whole(child) }
                n = child
                if partEnd == key.count { return .descend(n) }
                partStart = partEnd + 1
            }
        }
    }

    @inline(__always)
    private func child(of n: Int, _ key: UnsafeRawBufferPointer, _ s: Int, _ e: Int) -> Int? {
        let length = e - s
        for c in nodes[n].children where c.key.count == length {
            var same = true
            var k = 0
            while k < length {
                if c.key[k] != key[s + k] {
                    same = false
                    break
                }
                k += 1
            }
            if same { return c.node }
        }
        return nil
    }

    @inline(__always)
    static func skipSpace(_ p: UnsafeRawBufferPointer, _ i: Int) -> Int {
        var i = i
        while i < p.count {
            let b = p[i]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { break }
            i += 1
        }
        return i
    }

    /// Past the string whose opening quote is at `i`, or nil when it does not end.
    @inline(__always)
    static func skipString(_ p: UnsafeRawBufferPointer, _ i: Int) -> Int? {
        var i = i + 1
        // Eight bytes at a time while none is a quote or a backslash (SWAR: a byte equal to
        // the pattern's leaves a zero, which the borrow trick finds).
        if let base = p.baseAddress {
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            let quotes = ones &* 0x22, slashes = ones &* 0x5C
            while i + 8 <= p.count {
                let w = (base + i).loadUnaligned(as: UInt64.self)
                let q = w ^ quotes, s = w ^ slashes
                if ((q &- ones) & ~q | (s &- ones) & ~s) & highs != 0 { break }
                i += 8
            }
        }
        while i < p.count {
            let b = p[i]
            if b == UInt8(ascii: "\"") { return i + 1 }
            i += b == UInt8(ascii: "\\") ? 2 : 1
        }
        return nil
    }

    /// Past the JSON value starting at `i` (no leading space), without decoding or validating it;
    /// nil when it is not a value or does not end.
    public static func skipValue(_ p: UnsafeRawBufferPointer, _ i: Int) -> Int? {
        guard i < p.count else { return nil }
        switch p[i] {
        case UInt8(ascii: "\""):
            return skipString(p, i)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            // Brackets are counted, strings stepped over; their pairing is not checked.
            var depth = 1
            var i = i + 1
            while i < p.count {
                switch p[i] {
                case UInt8(ascii: "\""):
                    guard let e = skipString(p, i) else { return nil }
                    i = e
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return i + 1 }
                default:
                    break
                }
                i += 1
            }
            return nil
        default:
            // A number, true, false or null.
            var e = i
            while e < p.count {
                let b = p[e]
                if b == UInt8(ascii: ",") || b == UInt8(ascii: "}") || b == UInt8(ascii: "]") || b == 0x20 || b == 0x0A
                    || b == 0x0D || b == 0x09
                {
                    break
                }
                e += 1
            }
            return e > i ? e : nil
        }
    }
}
