/// Writes `JSONValue`s as bytes, compact or in Elasticsearch's `pretty` layout.
public struct JSONWriter {
    public var pretty: Bool

    public init(pretty: Bool = false) {
        self.pretty = pretty
    }

    public func encode(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, to: &out, indent: 0)
        return out
    }

    public func encodeString(_ value: JSONValue) -> String {
        String(decoding: encode(value), as: UTF8.self)
    }

    public func write(_ value: JSONValue, to out: inout [UInt8], indent: Int = 0) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): JSONWriter.appendInt(i, to: &out)
        case .uint(let u): out.append(contentsOf: String(u).utf8)
        case .double(let d): JSONWriter.appendDouble(d, to: &out)
        case .string(let s): JSONWriter.appendString(s, to: &out)
        case .array(let items):
            if items.isEmpty {
                out.append(contentsOf: (pretty ? "[ ]" : "[]").utf8)
                return
            }
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { newline(&out, indent + 1) }
                write(item, to: &out, indent: indent + 1)
            }
            if pretty { newline(&out, indent) }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            if o.isEmpty {
                out.append(contentsOf: (pretty ? "{ }" : "{}").utf8)
                return
            }
            out.append(UInt8(ascii: "{"))
            for (i, e) in o.entries.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { newline(&out, indent + 1) }
                JSONWriter.appendString(e.key, to: &out)
                out.append(contentsOf: (pretty ? " : " : ":").utf8)
                write(e.value, to: &out, indent: indent + 1)
            }
            if pretty { newline(&out, indent) }
            out.append(UInt8(ascii: "}"))
        }
    }

    private func newline(_ out: inout [UInt8], _ indent: Int) {
        out.append(0x0A)
        for _ in 0..<indent { out.append(0x20); out.append(0x20) }
    }

    public static func appendInt(_ value: Int64, to out: inout [UInt8]) {
        appendRaw(&out, room: 20) { writeInt(value, at: $0) }
    }

    /// Appends what `body` writes through a pointer into `room` bytes; it returns how many it wrote.
    @inline(__always)
    public static func appendRaw(_ out: inout [UInt8], room: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: room))
        let used = out.withUnsafeMutableBufferPointer { body($0.baseAddress! + start) }
        out.removeLast(room - used)
    }

    /// Writes a decimal integer (at most 20 bytes); returns its length.
    public static func writeInt(_ value: Int64, at p: UnsafeMutablePointer<UInt8>) -> Int {
        if value == 0 {
            p.pointee = 0x30
            return 1
        }
        var v = value.magnitude
        var n = 0
        if value < 0 {
            p.pointee = UInt8(ascii: "-")
            n = 1
        }
        var digits = 0
        var t = v
        while t > 0 {
            digits += 1
            t /= 10
        }
        var i = n + digits
        while v > 0 {
            i -= 1
            p[i] = UInt8(truncatingIfNeeded: v % 10) &+ 0x30
            v /= 10
        }
        return n + digits
    }

    /// The most bytes `writeString` takes for `count` bytes of UTF-8: quotes, and every byte escaped as `\u00XX`.
    public static func maxStringBytes(_ count: Int) -> Int { 2 + 6 * count }

    /// Writes a quoted, escaped JSON string from valid UTF-8 bytes; returns its length.
    public static func writeString(_ bytes: UnsafeBufferPointer<UInt8>, at p: UnsafeMutablePointer<UInt8>) -> Int {
        var q = p
        q.pointee = UInt8(ascii: "\"")
        q += 1
        for c in bytes {
            if c >= 0x20 && c != 0x22 && c != 0x5C {
                q.pointee = c
                q += 1
                continue
            }
            q[0] = UInt8(ascii: "\\")
            switch c {
            case 0x22: q[1] = 0x22
            case 0x5C: q[1] = 0x5C
            case 0x0A: q[1] = UInt8(ascii: "n")
            case 0x0D: q[1] = UInt8(ascii: "r")
            case 0x09: q[1] = UInt8(ascii: "t")
            case 0x08: q[1] = UInt8(ascii: "b")
            case 0x0C: q[1] = UInt8(ascii: "f")
            default:
                q[1] = UInt8(ascii: "u")
                q[2] = 0x30
                q[3] = 0x30
                q[4] = hex[Int(c >> 4)]
                q[5] = hex[Int(c & 0xF)]
                q += 4
            }
            q += 2
        }
        q.pointee = UInt8(ascii: "\"")
        return p.distance(to: q) + 1
    }

    public static func appendDouble(_ value: Double, to out: inout [UInt8]) {
        if value.isNaN || value.isInfinite {
            out.append(contentsOf: "null".utf8)
            return
        }
        out.append(contentsOf: "\(value)".utf8)
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    public static func appendString(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { appendString(bytes: $0, to: &out) }
    }

    /// Appends a quoted, escaped JSON string from valid UTF-8 bytes.
    public static func appendString(bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        var room = 2 + bytes.count
        for c in bytes where c < 0x20 || c == 0x22 || c == 0x5C { room += 5 }
        appendRaw(&out, room: room) { writeString(bytes, at: $0) }
    }

    static func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            out.append(UInt8(scalar))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | (scalar >> 6)))
            out.append(UInt8(0x80 | (scalar & 0x3F)))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | (scalar >> 12)))
            out.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (scalar & 0x3F)))
        default:
            out.append(UInt8(0xF0 | (scalar >> 18)))
            out.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (scalar & 0x3F)))
        }
    }
}

extension JSONValue {
    /// Compact JSON text of this value.
    public var jsonString: String { JSONWriter().encodeString(self) }
}

/// UTF-8 encoding of one scalar, for byte-level readers in other targets.
package enum JSONUTF8 {
    package static func append(_ scalar: UInt32, to out: inout [UInt8]) {
        JSONWriter.appendUTF8(scalar, to: &out)
    }
}

/// Number text to `Double`, for byte-level readers in other targets.
package enum JSONNumber {
    package static func parseDouble(_ buffer: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Double {
        Reader.parseDouble(buffer, start, end)
    }
}
