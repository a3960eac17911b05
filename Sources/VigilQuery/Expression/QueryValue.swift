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

    /// Doubles as Java prints them: `2.0`, `0.5`, `1.0E10`.
    static func format(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
        if d == d.rounded(), abs(d) < 1e7 { return String(Int64(d)) + ".0" }
        return String(d)
    }

    public var number: Double? {
        switch self {
        case .int(let v): Double(v)
        case .double(let d): d
        default: nil
        }
    }
}
