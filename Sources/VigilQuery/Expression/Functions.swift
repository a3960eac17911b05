import Foundation
public import VigilStore

/// EQL's scalar functions and arithmetic, over `QueryValue`s. A null argument gives null.
public enum Functions {
    static func arithmetic(_ op: Expr.Arithmetic, _ a: QueryValue, _ b: QueryValue) -> QueryValue {
        switch (a, b) {
        case (.int(let x), .int(let y)):
            switch op {
            case .add:
                let (r, o) = x.addingReportingOverflow(y)
                return o ? .double(Double(x) + Double(y)) : .int(r)
            case .subtract:
                let (r, o) = x.subtractingReportingOverflow(y)
                return o ? .double(Double(x) - Double(y)) : .int(r)
            case .multiply:
                let (r, o) = x.multipliedReportingOverflow(by: y)
                return o ? .double(Double(x) * Double(y)) : .int(r)
            case .divide:
                return y == 0 || (x == Int64.min && y == -1) ? .null : .int(x / y)
            case .modulo:
                return y == 0 || (x == Int64.min && y == -1) ? .null : .int(x % y)
            }
        default:
            guard let x = a.number, let y = b.number else { return .null }
            switch op {
            case .add: return .double(x + y)
            case .subtract: return .double(x - y)
            case .multiply: return .double(x * y)
            case .divide: return .double(x / y)
            case .modulo: return .double(x.truncatingRemainder(dividingBy: y))
            }
        }
    }

    public static func call(_ f: Expr.Function, _ args: [QueryValue], insensitive: Bool) -> QueryValue {
        func str(_ i: Int) -> String? {
            guard i < args.count else { return nil }
            switch args[i] {
            case .string(let s): return s
            case .null: return nil
            default: return args[i].description
            }
        }
        func fold(_ s: String) -> String { insensitive ? s.lowercased() : s }
        switch f {
        case .add: return args.count == 2 ? arithmetic(.add, args[0], args[1]) : .null
        case .subtract: return args.count == 2 ? arithmetic(.subtract, args[0], args[1]) : .null
        case .multiply: return args.count == 2 ? arithmetic(.multiply, args[0], args[1]) : .null
        case .divide: return args.count == 2 ? arithmetic(.divide, args[0], args[1]) : .null
        case .modulo: return args.count == 2 ? arithmetic(.modulo, args[0], args[1]) : .null
        case .between:
            guard let source = str(0), let left = str(1), let right = str(2) else { return .null }
            var greedy = false
            if args.count > 3 {
                guard case .bool(let g) = args[3] else { return .null }
                greedy = g
            }
            if source.isEmpty || left.isEmpty || right.isEmpty { return .string(source) }
            return .string(between(source, left, right, greedy: greedy, insensitive: insensitive))
        case .cidrMatch:
            guard let text = str(0) else { return .null }
            guard let ip = IPAddress(text) else { return .bool(false) }
            for i in 1..<args.count {
                if let block = str(i), let net = CIDR(block), net.contains(ip) { return .bool(true) }
            }
            return .bool(false)
        case .concat:
            var out = ""
            for i in args.indices {
                guard let s = str(i) else { return .null }
                out += s
            }
            return .string(out)
        // Code units, as Java compares: no Unicode equivalence.
        case .endsWith:
            guard let s = str(0), let suffix = str(1) else { return .null }
            return .bool(Array(fold(s).utf16).reversed().starts(with: Array(fold(suffix).utf16).reversed()))
        case .startsWith:
            guard let s = str(0), let prefix = str(1) else { return .null }
            return .bool(fold(s).utf16.starts(with: fold(prefix).utf16))
        case .stringContains:
            guard let s = str(0), let sub = str(1) else { return .null }
            if s.isEmpty || sub.isEmpty { return .bool(false) }
            let hay = Array(fold(s).utf16), needle = Array(fold(sub).utf16)
            return .bool(find16(needle, in: hay) != nil)
        case .indexOf:
            guard let s = str(0), let sub = str(1) else { return .null }
            var start = 0
            if args.count > 2 {
                switch args[2] {
                case .int(let v): start = Int(max(0, v))
                case .null: start = 0
                default: return .null
                }
            }
            let hay = Array(fold(s).utf16), needle = Array(fold(sub).utf16)
            if start > hay.count { return .null }
            if needle.isEmpty { return .int(Int64(start)) }
            var i = start
            while i + needle.count <= hay.count {
                if Array(hay[i..<(i + needle.count)]) == needle { return .int(Int64(i)) }
                i += 1
            }
            return .null
        case .length:
            guard let s = str(0) else { return .null }
            // Java's String.length(): UTF-16 code units.
            return .int(Int64(s.utf16.count))
        case .number:
            guard let s = str(0) else { return .null }
            var base: Int?
            if args.count > 1 {
                switch args[1] {
                case .int(let b): base = Int(b)
                case .null: base = nil
                default: return .null
                }
            }
            return number(s, base: base)
        case .versionOrder:
            guard let s = str(0) else { return .null }
            return .string(versionOrder(s))
        case .ipOrder:
            guard let s = str(0), let ip = IPAddress(s) else { return .null }
            return .string(ipOrder(ip))
        case .string:
            guard args.count == 1, !args[0].isNull else { return .null }
            return .string(args[0].description)
        case .substring:
            guard let s = str(0) else { return .null }
            if args.count > 1, args[1].isNull { return .string(s) }
            let chars = Array(s.utf16)
            let n = chars.count
            func index(_ v: QueryValue?, _ fallback: Int) -> Int? {
                guard let v else { return fallback }
                switch v {
                case .null: return fallback
                case .int(let x):
                    let i = Int(x) < 0 ? n + Int(x) : Int(x)
                    return min(max(i, 0), n)
                default: return nil
                }
            }
            guard let start = index(args.count > 1 ? args[1] : nil, 0), let end = index(args.count > 2 ? args[2] : nil, n) else { return .null }
            guard start < end else { return .string("") }
            return .string(String(decoding: chars[start..<end], as: UTF16.self))
        }
    }

    /// A sort key for IP addresses: the 128-bit address as 32 hex digits.
    public static func ipOrder(_ ip: IPAddress) -> String {
        func hex(_ v: UInt64) -> String {
            let h = String(v, radix: 16)
            return String(repeating: "0", count: 16 - h.count) + h
        }
        return hex(ip.high) + hex(ip.low)
    }

    /// A sort key for `version` values: valid semantic versions ("0" then padded numbers, a
    /// release after its pre-releases) before anything else ("1" then the text).
    public static func versionOrder(_ v: String) -> String {
        var main = Substring(v)
        if let plus = main.firstIndex(of: "+") { main = main[..<plus] }
        var pre: Substring?
        if let dash = main.firstIndex(of: "-") {
            pre = main[main.index(after: dash)...]
            main = main[..<dash]
        }
        let parts = main.split(separator: ".", omittingEmptySubsequences: false)
        func pad(_ n: Substring) -> String? {
            guard !n.isEmpty, n.allSatisfy(\.isASCII), n.allSatisfy(\.isNumber), n.count <= 19 else { return nil }
            return String(repeating: "0", count: 19 - n.count) + n
        }
        let numbers = parts.map(pad)
        guard parts.count == 3, numbers.allSatisfy({ $0 != nil }) else { return "1" + v }
        var key = "0" + numbers.map { $0! }.joined(separator: ".")
        if let pre, !pre.isEmpty {
            key += "-" + pre.split(separator: ".", omittingEmptySubsequences: false).map { id in pad(id).map { "0" + $0 } ?? "1" + id }.joined(separator: ".")
        } else {
            key += "~"
        }
        return key
    }

    static func find16(_ needle: [UInt16], in hay: [UInt16]) -> Int? {
        guard needle.count <= hay.count else { return nil }
        var i = 0
        while i + needle.count <= hay.count {
            if hay[i] == needle[0] && hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    static func between(_ source: String, _ left: String, _ right: String, greedy: Bool, insensitive: Bool) -> String {
        let s = Array(source.unicodeScalars)
        let hay = insensitive ? Array(source.lowercased().unicodeScalars) : s
        let l = Array((insensitive ? left.lowercased() : left).unicodeScalars)
        let r = Array((insensitive ? right.lowercased() : right).unicodeScalars)
        // Lowercasing can change lengths; fall back to exact positions only when it does not.
        guard hay.count == s.count else { return "" }
        guard let li = find(l, in: hay, from: 0) else { return "" }
        let from = li + l.count
        let ri = greedy ? findLast(r, in: hay, from: from) : find(r, in: hay, from: from)
        guard let ri else { return "" }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: s[from..<ri])
        return String(out)
    }

    private static func find(_ needle: [Unicode.Scalar], in hay: [Unicode.Scalar], from: Int) -> Int? {
        if needle.isEmpty { return from <= hay.count ? from : nil }
        var i = from
        while i + needle.count <= hay.count {
            if hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }

    private static func findLast(_ needle: [Unicode.Scalar], in hay: [Unicode.Scalar], from: Int) -> Int? {
        if needle.isEmpty { return hay.count }
        var i = hay.count - needle.count
        while i >= from {
            if Array(hay[i..<(i + needle.count)]) == needle { return i }
            i -= 1
        }
        return nil
    }

    /// As Elasticsearch's `number`: `0x` selects base 16 when no base is given; base 10 tries
    /// a long, then a double (which tolerates surrounding spaces). Unparsable text is null.
    static func number(_ text: String, base: Int?) -> QueryValue {
        let hex = text.hasPrefix("0x")
        let radix = base ?? (hex ? 16 : 10)
        var s = Substring(text)
        if hex && radix == 16 { s = s.dropFirst(2) }
        if radix == 10 {
            // Java's Long.valueOf, then Double.valueOf (which trims spaces; no hex here).
            if javaLong(s), let v = Int64(s.hasPrefix("+") ? s.dropFirst() : s) { return .int(v) }
            let trimmed = s.trimmingCharacters(in: .whitespaces)
            if ["NaN", "Infinity", "+Infinity"].contains(trimmed) { return .double(trimmed == "NaN" ? .nan : .infinity) }
            if trimmed == "-Infinity" { return .double(-.infinity) }
            if javaDecimal(Substring(trimmed)), let d = Double(trimmed.trimmingCharacters(in: CharacterSet(charactersIn: "fFdD"))) { return .double(d) }
            return .null
        }
        guard (2...36).contains(radix), javaLong(s, radix: radix), let v = Int64(s.hasPrefix("+") ? s.dropFirst() : s, radix: radix) else { return .null }
        return .int(v)
    }

    /// An optional sign then digits of the radix, nothing else.
    static func javaLong(_ s: Substring, radix: Int = 10) -> Bool {
        var body = s
        if body.first == "+" || body.first == "-" { body = body.dropFirst() }
        return !body.isEmpty && body.allSatisfy { c in c.isASCII && c.hexDigitValue.map { $0 < radix } ?? (c.isLetter && radix > 16 && Int(c.asciiValue! | 0x20) - 87 < radix) }
    }

    /// Java's decimal floating-point literal: sign, digits with one point, exponent, f/d suffix.
    static func javaDecimal(_ s: Substring) -> Bool {
        var u = Array(s.utf8)[...]
        if u.first == UInt8(ascii: "+") || u.first == UInt8(ascii: "-") { u = u.dropFirst() }
        if let last = u.last, [UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "d"), UInt8(ascii: "D")].contains(last) { u = u.dropLast() }
        var digits = 0, points = 0
        while let c = u.first, c != UInt8(ascii: "e") && c != UInt8(ascii: "E") {
            if c == UInt8(ascii: ".") { points += 1 } else if c >= 0x30 && c <= 0x39 { digits += 1 } else { return false }
            u = u.dropFirst()
        }
        guard digits > 0, points <= 1 else { return false }
        if u.isEmpty { return true }
        u = u.dropFirst()
        if u.first == UInt8(ascii: "+") || u.first == UInt8(ascii: "-") { u = u.dropFirst() }
        return !u.isEmpty && u.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}

/// An IPv4 or IPv6 network in CIDR notation (a bare address is a /32 or /128).
public struct CIDR: Sendable, Equatable {
    var network: IPAddress
    var prefix: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard let first = parts.first, let ip = IPAddress(String(first)) else { return nil }
        let full = ip.isIPv4 ? 32 : 128
        var bits = full
        if parts.count == 2 {
            guard let b = Int(parts[1]), b >= 0, b <= full else { return nil }
            bits = b
        }
        // IPv4 lives in the last 32 bits of the mapped address.
        prefix = ip.isIPv4 ? 96 + bits : bits
        network = CIDR.mask(ip, prefix)
    }

    public func contains(_ ip: IPAddress) -> Bool { CIDR.mask(ip, prefix) == network }

    static func mask(_ ip: IPAddress, _ bits: Int) -> IPAddress {
        let high = bits >= 64 ? ip.high : (bits == 0 ? 0 : ip.high & ~(UInt64.max >> UInt64(bits)))
        let lowBits = bits - 64
        let low = lowBits <= 0 ? 0 : (lowBits >= 64 ? ip.low : ip.low & ~(UInt64.max >> UInt64(lowBits)))
        return IPAddress(high: high, low: low)
    }
}
