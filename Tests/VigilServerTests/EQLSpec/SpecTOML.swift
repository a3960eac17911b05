/// Reads the TOML of Elasticsearch's EQL spec files: `[[queries]]` tables of `key = value`,
/// values being strings (all four quotings), integers, booleans, arrays, and the bare `null`
/// those files use inside arrays (which strict TOML parsers reject, hence this reader).
enum SpecTOML {
    indirect enum Value: Equatable {
        case string(String)
        case int(Int64)
        case bool(Bool)
        case null
        case array([Value])
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func queries(_ text: String) throws -> [[String: Value]] {
        var p = Reader(bytes: Array(text.utf8))
        var tables: [[String: Value]] = []
        while true {
            p.skipBlank()
            guard let c = p.peek() else { break }
            if c == UInt8(ascii: "[") {
                let line = p.line()
                guard line.trimmingSpaces == "[[queries]]" else { throw Failure(description: "unexpected table \(line)") }
                tables.append([:])
            } else {
                let key = p.key()
                p.skipSpaces()
                guard p.next() == UInt8(ascii: "=") else { throw Failure(description: "expected = after \(key)") }
                p.skipSpaces()
                let value = try p.value()
                guard !tables.isEmpty else { throw Failure(description: "key \(key) outside [[queries]]") }
                tables[tables.count - 1][key] = value
            }
        }
        return tables
    }

    private struct Reader {
        let bytes: [UInt8]
        var i = 0

        func peek(_ k: Int = 0) -> UInt8? { i + k < bytes.count ? bytes[i + k] : nil }

        mutating func next() -> UInt8? {
            defer { i += 1 }
            return peek()
        }

        mutating func skipSpaces() { while let c = peek(), c == 0x20 || c == 0x09 { i += 1 } }

        /// Whitespace, newlines and comments.
        mutating func skipBlank() {
            while let c = peek() {
                if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == UInt8(ascii: ",") {
                    i += 1
                } else if c == UInt8(ascii: "#") {
                    while let d = peek(), d != 0x0A { i += 1 }
                } else {
                    return
                }
            }
        }

        mutating func line() -> String {
            let start = i
            while let c = peek(), c != 0x0A { i += 1 }
            return String(decoding: bytes[start..<i], as: UTF8.self)
        }

        mutating func key() -> String {
            let start = i
            while let c = peek(), c != UInt8(ascii: "="), c != 0x20, c != 0x09 { i += 1 }
            return String(decoding: bytes[start..<i], as: UTF8.self)
        }

        func starts(_ s: String) -> Bool {
            let u = Array(s.utf8)
            return i + u.count <= bytes.count && Array(bytes[i..<(i + u.count)]) == u
        }

        mutating func value() throws -> Value {
            if starts("'''") || starts("\"\"\"") {
                let quote = peek()!
                i += 3
                // A newline right after the opening quotes is not part of the string.
                if peek() == 0x0A { i += 1 }
                let start = i
                while i + 2 < bytes.count && !(bytes[i] == quote && bytes[i + 1] == quote && bytes[i + 2] == quote) { i += 1 }
                let raw = String(decoding: bytes[start..<i], as: UTF8.self)
                i += 3
                return .string(quote == UInt8(ascii: "\"") ? try SpecTOML.unescape(raw) : raw)
            }
            guard let c = peek() else { throw Failure(description: "missing value") }
            switch c {
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                i += 1
                let start = i
                while let d = peek(), d != c {
                    if d == UInt8(ascii: "\\") && c == UInt8(ascii: "\"") { i += 1 }
                    i += 1
                }
                let raw = String(decoding: bytes[start..<i], as: UTF8.self)
                i += 1
                return .string(c == UInt8(ascii: "\"") ? try SpecTOML.unescape(raw) : raw)
            case UInt8(ascii: "["):
                i += 1
                var items: [Value] = []
                while true {
                    skipBlank()
                    if peek() == UInt8(ascii: "]") {
                        i += 1
                        return .array(items)
                    }
                    items.append(try value())
                }
            default:
                let start = i
                while let d = peek(), d != UInt8(ascii: ","), d != UInt8(ascii: "]"), d != 0x0A, d != 0x20, d != UInt8(ascii: "#") { i += 1 }
                let word = String(decoding: bytes[start..<i], as: UTF8.self)
                switch word {
                case "true": return .bool(true)
                case "false": return .bool(false)
                case "null": return .null
                default:
                    guard let n = Int64(word.replacingOccurrences(of: "_", with: "")) else { throw Failure(description: "bad value \(word)") }
                    return .int(n)
                }
            }
        }
    }

    static func unescape(_ s: String) throws -> String {
        var out = ""
        var it = s.unicodeScalars.makeIterator()
        while let c = it.next() {
            guard c == "\\" else {
                out.unicodeScalars.append(c)
                continue
            }
            guard let e = it.next() else { throw Failure(description: "dangling escape") }
            switch e {
            case "n": out += "\n"
            case "t": out += "\t"
            case "r": out += "\r"
            case "\"": out += "\""
            case "\\": out += "\\"
            case "u", "U":
                var hex = ""
                for _ in 0..<(e == "u" ? 4 : 8) { if let h = it.next() { hex.unicodeScalars.append(h) } }
                guard let v = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(v) else { throw Failure(description: "bad escape") }
                out.unicodeScalars.append(scalar)
            default: throw Failure(description: "unknown escape \\\(e)")
            }
        }
        return out
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s = s.dropFirst() }
        while s.last?.isWhitespace == true { s = s.dropLast() }
        return String(s)
    }

    func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: a, omittingEmptySubsequences: false).joined(separator: b)
    }
}
