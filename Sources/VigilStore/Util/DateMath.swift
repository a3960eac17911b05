/// Elasticsearch's date math: an anchor (`now`, or a date followed by `||`) then any number
/// of `+N<unit>`, `-N<unit>` and `/<unit>` (round), with units `y` `M` `w` `d` `h` `H` `m` `s`.
/// Computed in UTC, as Elasticsearch does without a `time_zone`.
public enum DateMath {
    /// Whether `text` is date math rather than a plain date.
    public static func isMath(_ text: String) -> Bool { text.hasPrefix("now") || text.contains("||") }

    /// The instant `text` names, given `now` (epoch milliseconds). Rounding goes down to the
    /// start of the unit, or, with `roundUp` (a range's `lte` and `gt`), to its last millisecond.
    /// Nil when `text` does not parse.
    public static func evaluate(_ text: String, now: Int64, roundUp: Bool) -> Int64? {
        var value: Int64
        var rest: Substring
        if text.hasPrefix("now") {
            value = now
            rest = text.dropFirst(3)
        } else if let bars = text.firstRange(of: "||") {
            guard let anchor = DateFormats.parse(String(text[..<bars.lowerBound])) else { return nil }
            value = anchor
            rest = text[bars.upperBound...]
        } else {
            return nil
        }
        while let op = rest.first {
            rest = rest.dropFirst()
            switch op {
            case "/":
                guard let unit = rest.first else { return nil }
                rest = rest.dropFirst()
                guard let start = round(value, unit) else { return nil }
                value = roundUp ? (add(start, 1, unit) ?? start) - 1 : start
            case "+", "-":
                var digits = ""
                while let d = rest.first, d.isASCII, d.isNumber {
                    digits.append(d)
                    rest = rest.dropFirst()
                }
                guard let unit = rest.first, let n = digits.isEmpty ? 1 : Int64(digits) else { return nil }
                rest = rest.dropFirst()
                guard let moved = add(value, op == "+" ? n : -n, unit) else { return nil }
                value = moved
            default:
                return nil
            }
        }
        return value
    }

    private static let day: Int64 = 86_400_000

    private static func split(_ ms: Int64) -> (days: Int64, rem: Int64) {
        var days = ms / day, rem = ms % day
        if rem < 0 {
            rem += day
            days -= 1
        }
        return (days, rem)
    }

    /// `ms` moved by `n` units; months and years keep the day, clamped to the month's last (as Java's `plusMonths`).
    static func add(_ ms: Int64, _ n: Int64, _ unit: Character) -> Int64? {
        switch unit {
        case "s": return ms + n * 1000
        case "m": return ms + n * 60_000
        case "h", "H": return ms + n * 3_600_000
        case "d": return ms + n * day
        case "w": return ms + n * 7 * day
        case "M", "y":
            let (days, rem) = split(ms)
            let (y, m, d) = DateFormats.civilFromDays(Int(days))
            let months = y * 12 + (m - 1) + Int(n) * (unit == "y" ? 12 : 1)
            let year = months >= 0 ? months / 12 : (months - 11) / 12
            let month = months - year * 12 + 1
            let clamped = min(d, DateFormats.daysIn(month: month, year: year))
            return Int64(DateFormats.daysFromCivil(year, month, clamped)) * day + rem
        default: return nil
        }
    }

    /// The start of the unit `ms` falls in (weeks start on Monday).
    static func round(_ ms: Int64, _ unit: Character) -> Int64? {
        let (days, rem) = split(ms)
        switch unit {
        case "s": return ms - rem % 1000
        case "m": return ms - rem % 60_000
        case "h", "H": return ms - rem % 3_600_000
        case "d": return days * day
        case "w": return (days - Int64(DateFormats.dayOfWeek(ms) - 1)) * day
        case "M":
            let (y, m, _) = DateFormats.civilFromDays(Int(days))
            return Int64(DateFormats.daysFromCivil(y, m, 1)) * day
        case "y":
            let (y, _, _) = DateFormats.civilFromDays(Int(days))
            return Int64(DateFormats.daysFromCivil(y, 1, 1)) * day
        default: return nil
        }
    }
}
