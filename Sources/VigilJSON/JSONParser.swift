#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A byte-level JSON reader: validates UTF-8, bounds nesting, and reports errors by byte offset.
///
/// The parser is iterative (an explicit container stack), so hostile nesting cannot exhaust
/// the thread's stack; `maxDepth` bounds memory instead.
public struct JSONParser {
    public static let defaultMaxDepth = 1000

    public var maxDepth: Int

    public init(maxDepth: Int = JSONParser.defaultMaxDepth) {
        self.maxDepth = maxDepth
    }

    public func parse(_ text: String) throws(JSONError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    public func parse(_ bytes: [UInt8]) throws(JSONError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buf) throws(JSONError) -> JSONValue in try parse(buf) }
    }

    public func parse(_ bytes: ArraySlice<UInt8>) throws(JSONError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buf) throws(JSONError) -> JSONValue in try parse(buf) }
    }

    public func parse(_ raw: UnsafeRawBufferPointer) throws(JSONError) -> JSONValue {
        try parse(UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count))
    }

    /// Parses exactly one JSON value; only whitespace may follow it.
    public func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws(JSONError) -> JSONValue {
        var reader = Reader(buffer: buffer, maxDepth: maxDepth)
        do throws(JSONError) {
            let value = try reader.readDocument()
            reader.skipWhitespace()
            if reader.pos < buffer.count {
                throw reader.error(.trailingData, "Unexpected character after the end of the JSON value")
            }
            return value
        } catch {
            throw JSONError.locate(error, in: buffer)
        }
    }
}

extension JSONError {
    /// Fills in the 1-based line and column of the error's offset.
    static func locate(_ e: JSONError, in buffer: UnsafeBufferPointer<UInt8>) -> JSONError {
        var line = 1
        var column = 1
        let end = min(e.offset, buffer.count)
        var i = 0
        while i < end {
            if buffer[i] == 0x0A {
                line += 1
                column = 1
            } else if buffer[i] & 0xC0 != 0x80 {
                column += 1
            }
            i += 1
        }
        var located = e
        located.line = line
        located.column = column
        return located
    }
}

struct Reader {
    let buffer: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var pos = 0

    init(buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.buffer = buffer
        self.maxDepth = maxDepth
    }

    /// An open container. A struct mutated in place in the stack, so appending to its items never
    /// copies them (an enum's payload taken out and put back was copied on every append: a
    /// 32,000-key object took seconds to parse).
    private struct Frame {
        var isObject: Bool
        var items: [JSONValue] = []
        var entries: [JSONObject.Entry] = []
        var key = ""
    }

    func error(_ code: JSONError.Code, _ message: String) -> JSONError {
        JSONError(code, offset: pos, message: message)
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < buffer.count {
            let c = buffer[pos]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { pos += 1 } else { return }
        }
    }

    private mutating func peekNonWhitespace() throws(JSONError) -> UInt8 {
        skipWhitespace()
        guard pos < buffer.count else { throw error(.unexpectedEnd, "Unexpected end of input") }
        return buffer[pos]
    }

    private func describe(_ c: UInt8) -> String {
        if c >= 0x20 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))' (code \(c))" }
        return "(code \(c))"
    }

    mutating func readDocument() throws(JSONError) -> JSONValue {
        if buffer.count >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF { pos = 3 }
        var stack: [Frame] = []
        while true {
            // Read one value, or open a container.
            var value: JSONValue
            let c = try peekNonWhitespace()
            switch c {
            case UInt8(ascii: "{"):
                if stack.count >= maxDepth {
                    throw error(.tooDeep, "The nesting depth exceeds the maximum allowed (\(maxDepth))")
                }
                pos += 1
                if try peekNonWhitespace() == UInt8(ascii: "}") {
                    pos += 1
                    value = .object(JSONObject())
                } else {
                    let key = try readKey()
                    stack.append(Frame(isObject: true, key: key))
                    continue
                }
            case UInt8(ascii: "["):
                if stack.count >= maxDepth {
                    throw error(.tooDeep, "The nesting depth exceeds the maximum allowed (\(maxDepth))")
                }
                pos += 1
                if try peekNonWhitespace() == UInt8(ascii: "]") {
                    pos += 1
                    value = .array([])
                } else {
                    stack.append(Frame(isObject: false))
                    continue
                }
            default:
                value = try readScalar(c)
            }
            // Attach the value to its container; close containers as far as they end.
            while true {
                guard !stack.isEmpty else { return value }
                let top = stack.count - 1
                if !stack[top].isObject {
                    stack[top].items.append(value)
                    let d = try peekNonWhitespace()
                    pos += 1
                    if d == UInt8(ascii: "]") {
                        value = .array(stack.removeLast().items)
                        continue
                    } else if d != UInt8(ascii: ",") {
                        pos -= 1
                        throw error(.unexpectedCharacter, "Unexpected character \(describe(d)): expected ',' or ']'")
                    }
                } else {
                    stack[top].entries.append(JSONObject.Entry(key: stack[top].key, value: value))
                    let d = try peekNonWhitespace()
                    pos += 1
                    if d == UInt8(ascii: ",") {
                        stack[top].key = try readKey()
                    } else if d == UInt8(ascii: "}") {
                        value = .object(JSONObject(stack.removeLast().entries))
                        continue
                    } else {
                        pos -= 1
                        throw error(.unexpectedCharacter, "Unexpected character \(describe(d)): expected ',' or '}'")
                    }
                }
                break
            }
        }
    }

    private mutating func readKey() throws(JSONError) -> String {
        let c = try peekNonWhitespace()
        guard c == UInt8(ascii: "\"") else {
            throw error(.unexpectedCharacter, "Unexpected character \(describe(c)): was expecting double-quote to start field name")
        }
        let key = try readString()
        let d = try peekNonWhitespace()
        guard d == UInt8(ascii: ":") else {
            throw error(.unexpectedCharacter, "Unexpected character \(describe(d)): was expecting a colon to separate field name and value")
        }
        pos += 1
        return key
    }

    private mutating func readScalar(_ c: UInt8) throws(JSONError) -> JSONValue {
        switch c {
        case UInt8(ascii: "\""):
            return .string(try readString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try readNumber()
        default:
            throw error(.unexpectedCharacter, "Unexpected character \(describe(c)): expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')")
        }
    }

    private mutating func expectLiteral(_ word: StaticString) throws(JSONError) {
        let n = word.utf8CodeUnitCount
        guard pos + n <= buffer.count else { throw error(.unexpectedEnd, "Unexpected end of input in a literal") }
        let p = word.utf8Start
        for i in 0..<n where buffer[pos + i] != p[i] {
            throw error(.unexpectedCharacter, "Unrecognized token: was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')")
        }
        pos += n
    }

    mutating func readNumber() throws(JSONError) -> JSONValue {
        let start = pos
        let n: JSONLexer.Number
        switch JSONLexer.number(buffer, &pos) {
        case .success(let v): n = v
        case .failure(let f): throw error(f.code, f.message)
        }
        if !n.isFloat && !n.overflow {
            if n.negative {
                if n.magnitude <= UInt64(Int64.max) { return .int(-Int64(n.magnitude)) }
                if n.magnitude == UInt64(Int64.max) + 1 { return .int(Int64.min) }
            } else {
                if n.magnitude <= UInt64(Int64.max) { return .int(Int64(n.magnitude)) }
                return .uint(n.magnitude)
            }
        }
        return .double(Reader.parseDouble(buffer, start, pos))
    }

    static func parseDouble(_ buffer: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Double {
        let n = end - start
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { tmp in
            for i in 0..<n { tmp[i] = CChar(bitPattern: buffer[start + i]) }
            tmp[n] = 0
            return strtod(tmp.baseAddress!, nil)
        }
    }

    /// Reads a string starting at the opening quote; validates UTF-8 and escapes.
    mutating func readString() throws(JSONError) -> String {
        pos += 1
        let start = pos
        // Fast path: plain ASCII/UTF-8 with no escapes.
        while pos < buffer.count {
            let c = buffer[pos]
            if c == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<pos]), as: UTF8.self)
                pos += 1
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw error(.unexpectedCharacter, "Illegal unquoted character (code \(c)): has to be escaped using backslash to be included in string value") }
            if c >= 0x80 { try skipUTF8Sequence() } else { pos += 1 }
        }
        guard pos < buffer.count else { throw error(.unexpectedEnd, "Unexpected end of input in a string value") }
        var bytes = [UInt8](UnsafeBufferPointer(rebasing: buffer[start..<pos]))
        while pos < buffer.count {
            let c = buffer[pos]
            if c == UInt8(ascii: "\"") {
                pos += 1
                return String(decoding: bytes, as: UTF8.self)
            }
            if c == UInt8(ascii: "\\") {
                try readEscape(into: &bytes)
            } else if c < 0x20 {
                throw error(.unexpectedCharacter, "Illegal unquoted character (code \(c)): has to be escaped using backslash to be included in string value")
            } else if c >= 0x80 {
                let s = pos
                try skipUTF8Sequence()
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[s..<pos]))
            } else {
                bytes.append(c)
                pos += 1
            }
        }
        throw error(.unexpectedEnd, "Unexpected end of input in a string value")
    }

    private mutating func readEscape(into bytes: inout [UInt8]) throws(JSONError) {
        if let f = JSONLexer.escape(buffer, &pos, into: &bytes) { throw error(f.code, f.message) }
    }

    @inline(__always)
    private mutating func skipUTF8Sequence() throws(JSONError) {
        if let f = JSONLexer.utf8Sequence(buffer, &pos) { throw error(f.code, f.message) }
    }
}
