public import VigilJSON
/// A scalar value as queries see it. Dates are epoch milliseconds (`int`), IPs their text.
public enum QueryValue: Sendable, Hashable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)

    public var isNull: Bool { if case .null = self { true } else { false } }

    public var description: String {
        switch self {
        case .null: "null"
        case .bool(let b): String(b)
        case .int(let v): String(v)
        case .double(let d): QueryValue.format(d)
        case .string(let s): s
        }
    }

    /// Doubles as Java's `Double.toString` prints them: `2.0`, `0.5`, `1.0E7`, `1.0E-4`.
    static func format(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
        if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
        // Shortest round-trip digits and a decimal exponent, from Swift's own shortest form.
        let text = String(abs(d))
        var mantissa = Substring(text), exp = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exp = Int(text[text.index(after: e)...]) ?? 0
        }
        let point = mantissa.firstIndex(of: ".")
        let intPart = point.map { mantissa[..<$0] } ?? mantissa
        let fracPart = point.map { mantissa[mantissa.index(after: $0)...] } ?? ""
        var digits = Array(intPart + fracPart)
        var pointAt = intPart.count + exp
        while digits.count > 1 && digits.first == "0" {
            digits.removeFirst()
            pointAt -= 1
        }
        while digits.count > 1 && digits.last == "0" { digits.removeLast() }
        let sign = d < 0 ? "-" : ""
        let a = abs(d)
        if a >= 1e-3 && a < 1e7 {
            if pointAt <= 0 { return sign + "0." + String(repeating: "0", count: -pointAt) + String(digits) }
            if pointAt >= digits.count { return sign + String(digits) + String(repeating: "0", count: pointAt - digits.count) + ".0" }
            return sign + String(digits[..<pointAt]) + "." + String(digits[pointAt...])
        }
        let frac = digits.count > 1 ? String(digits[1...]) : "0"
        return sign + String(digits[0]) + "." + frac + "E" + String(pointAt - 1)
    }

    public var number: Double? {
        switch self {
        case .int(let v): Double(v)
        case .double(let d): d
        default: nil
        }
    }
}

extension QueryValue {
    /// The value as JSON, as responses show it (`join_keys`, fields).
    public var jsonValue: JSONValue {
        switch self {
        case .null: .null
        case .bool(let b): .bool(b)
        case .int(let i): .int(i)
        case .double(let d): .double(d)
        case .string(let s): .string(s)
        }
    }
}
