/// Elasticsearch's time values (`500ms`, `30s`, `5m`, `1h`, `2d`, `-1`, `0`): the one parser every
/// duration from a request or a stored rule goes through, so no caller multiplies unchecked.
///
/// As Elasticsearch's `TimeValue.parseTimeValue`: the unit is a suffix (`nanos`, `micros`, `ms`,
/// `s`, `m`, `h`, `d`, case-insensitive, spaces around the number allowed), the number a whole
/// Java `long`, `-1` the only negative value, and a value too large for milliseconds saturates as
/// Java's `TimeUnit.toMillis` does, so it is never an overflow.
public struct TimeValue: Sendable, Hashable, Comparable {
    /// Milliseconds, saturated at `Int64.max`; `-1` stays `-1`. Nanos and micros round down.
    public var millis: Int64

    public init(millis: Int64) { self.millis = millis }

    public static func < (a: TimeValue, b: TimeValue) -> Bool { a.millis < b.millis }

    public struct ParseError: Error, Sendable, CustomStringConvertible {
        /// Elasticsearch's wording, naming the setting or parameter.
        public var message: String
        public var description: String { message }
    }

    private static let units: [(suffix: String, millis: Int64, divisor: Int64)] = [
        ("nanos", 1, 1_000_000), ("micros", 1, 1000), ("ms", 1, 1), ("s", 1000, 1), ("m", 60_000, 1),
        ("h", 3_600_000, 1), ("d", 86_400_000, 1),
    ]

    /// `text` as a time value for the parameter `name`, or Elasticsearch's error.
    public static func parse(_ text: String, name: String) throws(ParseError) -> TimeValue {
        let normalized = text.lowercased().trimmed
        for unit in units where normalized.hasSuffix(unit.suffix) {
            let digits = String(normalized.dropLast(unit.suffix.count)).trimmed
            guard let n = Int64(digits) else {
                if Double(digits) != nil {
                    throw ParseError(message: "failed to parse [\(text)], fractional time values are not supported")
                }
                throw ParseError(message: "failed to parse [\(text)]")
            }
            if n < -1 {
                throw ParseError(
                    message: "failed to parse setting [\(name)] with value [\(text)] as a time value: negative durations are not supported")
            }
            if n == -1 { return TimeValue(millis: -1) }
            let (product, overflow) = (n / unit.divisor).multipliedReportingOverflow(by: unit.millis)
            return TimeValue(millis: overflow ? .max : product)
        }
        if normalized == "-1" { return TimeValue(millis: -1) }
        if normalized == "0" { return TimeValue(millis: 0) }
        throw ParseError(
            message: "failed to parse setting [\(name)] with value [\(text)] as a time value: unit is missing or unrecognized")
    }

    /// A strictly positive interval in Kibana's form (`5m`, `1h`, `30s`, `1d`; no `ms`, no zero),
    /// as Kibana's alerting validates a rule's `interval`. Nil when it is not one.
    public static func kibanaInterval(_ text: String) -> TimeValue? {
        guard let unit = text.last, "smhd".contains(unit), let first = text.first, first != "0" else { return nil }
        let digits = text.dropLast()
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int64(digits) else { return nil }
        let factor: Int64 = unit == "s" ? 1000 : unit == "m" ? 60_000 : unit == "h" ? 3_600_000 : 86_400_000
        let (product, overflow) = n.multipliedReportingOverflow(by: factor)
        return overflow ? nil : TimeValue(millis: product)
    }
}

extension Int64 {
    /// `self + other`, pinned to the ends of `Int64` instead of trapping: for instants computed
    /// from request values (`now + keep_alive`, `scheduled + interval`).
    public func addingSaturating(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        if !overflow { return sum }
        return other > 0 ? .max : .min
    }

    /// `self - other`, pinned to the ends of `Int64` instead of trapping.
    public func subtractingSaturating(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        if !overflow { return difference }
        return other < 0 ? .max : .min
    }
}
