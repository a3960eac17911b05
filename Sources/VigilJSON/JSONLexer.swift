/// Byte-level JSON lexing shared by the tree parser and the streaming ingest mapper.
/// Each function reads at `i`, advances it past what it read, and reports failure with
/// Jackson-style wording and an error code; it never allocates.
package enum JSONLexer {
    package struct Failure: Error {
        package var code: JSONError.Code
        package var message: String
    }

    /// A number token: an exact integer when `isFloat` is false and `overflow` is false.
    package struct Number {
        package var isFloat: Bool
        package var negative: Bool
        package var magnitude: UInt64
        package var overflow: Bool
    }

    @inline(__always)
    static func isDigit(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        i < p.count && p[i] >= 0x30 && p[i] <= 0x39
    }

    /// Scans `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    package static func number(_ p: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> Result<Number, Failure> {
        var n = Number(isFloat: false, negative: false, magnitude: 0, overflow: false)
        if i < p.count, p[i] == UInt8(ascii: "-") {
            n.negative = true
            i += 1
        }
        guard isDigit(p, i) else { return .failure(Failure(code: .invalidNumber, message: "Invalid numeric value: expected a digit")) }
        if p[i] == 0x30 {
            i += 1
            if isDigit(p, i) { return .failure(Failure(code: .invalidNumber, message: "Invalid numeric value: leading zeroes not allowed")) }
        } else {
            while isDigit(p, i) {
                let (m1, o1) = n.magnitude.multipliedReportingOverflow(by: 10)
                let (m2, o2) = m1.addingReportingOverflow(UInt64(p[i] - 0x30))
                n.overflow = n.overflow || o1 || o2
                n.magnitude = m2
                i += 1
            }
        }
        if i < p.count, p[i] == UInt8(ascii: ".") {
            n.isFloat = true
            i += 1
            guard isDigit(p, i) else { return .failure(Failure(code: .invalidNumber, message: "Invalid numeric value: decimal point must be followed by a digit")) }
            while isDigit(p, i) { i += 1 }
        }
        if i < p.count, p[i] == UInt8(ascii: "e") || p[i] == UInt8(ascii: "E") {
            n.isFloat = true
            i += 1
            if i < p.count, p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-") { i += 1 }
            guard isDigit(p, i) else { return .failure(Failure(code: .invalidNumber, message: "Invalid numeric value: exponent must have a digit")) }
            while isDigit(p, i) { i += 1 }
        }
        return .success(n)
    }

    /// Validates one multi-byte UTF-8 sequence at `i` (RFC 3629: no overlongs, no surrogates) and steps over it.
    @inline(__always)
    package static func utf8Sequence(_ p: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> Failure? {
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
        default: return Failure(code: .invalidUTF8, message: "Invalid UTF-8 start byte 0x\(String(c, radix: 16))")
        }
        guard i + need < p.count else { return Failure(code: .invalidUTF8, message: "Invalid UTF-8: truncated sequence") }
        let b1 = p[i + 1]
        guard b1 >= lower && b1 <= upper else { return Failure(code: .invalidUTF8, message: "Invalid UTF-8 middle byte 0x\(String(b1, radix: 16))") }
        var k = 2
        while k <= need {
            let b = p[i + k]
            guard b & 0xC0 == 0x80 else { return Failure(code: .invalidUTF8, message: "Invalid UTF-8 middle byte 0x\(String(b, radix: 16))") }
            k += 1
        }
        i += need + 1
        return nil
    }

    /// Decodes the escape whose backslash is at `i`, appending its UTF-8 to `out`.
    package static func escape(_ p: UnsafeBufferPointer<UInt8>, _ i: inout Int, into out: inout [UInt8]) -> Failure? {
        i += 1
        guard i < p.count else { return Failure(code: .unexpectedEnd, message: "Unexpected end of input in an escape sequence") }
        let e = p[i]
        i += 1
        switch e {
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "/"): out.append(0x2F)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            guard var scalar = hex4(p, &i) else {
                return Failure(code: .invalidEscape, message: "Unexpected character: expected a hex-digit for character escape sequence")
            }
            if scalar >= 0xD800 && scalar < 0xDC00 {
                guard i + 1 < p.count, p[i] == UInt8(ascii: "\\"), p[i + 1] == UInt8(ascii: "u") else {
                    return Failure(code: .invalidEscape, message: "Unpaired surrogate in a \\u escape")
                }
                i += 2
                guard let low = hex4(p, &i), low >= 0xDC00 && low < 0xE000 else {
                    return Failure(code: .invalidEscape, message: "Invalid low surrogate in a \\u escape")
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if scalar >= 0xDC00 && scalar < 0xE000 {
                return Failure(code: .invalidEscape, message: "Unpaired low surrogate in a \\u escape")
            }
            JSONWriter.appendUTF8(scalar, to: &out)
        default:
            i -= 1
            return Failure(code: .invalidEscape, message: "Unrecognized character escape (code \(e))")
        }
        return nil
    }

    static func hex4(_ p: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> UInt32? {
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
}
