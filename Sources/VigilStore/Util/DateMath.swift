/// Elasticsearch's date math: an anchor (`now`, or a date followed by `||`) then any number
/// of `+N<unit>`, `-N<unit>` and `/<unit>` (round), with units `y` `M` `w` `d` `h` `H` `m` `s`.
/// Computed in UTC, as Elasticsearch does without a `time_zone`.
public enum DateMath {
    /// Whether `text` is date math rather than a plain date.
    public static func isMath(_ text: String) -> Bool { text.hasPrefix("now") || text.contains("||") }

    /// The instant `text` names, given `now` (epoch milliseconds). Rounding goes down to the
    /// start of the unit, or, with `roundUp` (a range's `lte` and `gt`), to its last millisecond.
    /// Nil when `text` does not parse or leaves the range of `Int64` milliseconds (every step is
    /// checked: `now-999999999999999d` is nil, never a trap).
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
                if roundUp {
                    guard let end = add(start, 1, unit), end > .min else { return nil }
                    value = end - 1
                } else {
                    value = start
                }
            case "+", "-":
                var digits = ""
                while let d = rest.first, d.isASCII, d.isNumber {
                    digits.append(d)
                    rest = rest.dropFirst()
                }
                guard digits.count <= 18, let unit = rest.first, let n = digits.isEmpty ? 1 : Int64(digits) else { return nil }
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
    /// Nil on overflow.
    static func add(_ ms: Int64, _ n: Int64, _ unit: Character) -> Int64? {
        func moved(_ factor: Int64) -> Int64? {
            let (delta, o1) = n.multipliedReportingOverflow(by: factor)
            let (sum, o2) = ms.addingReportingOverflow(delta)
            return o1 || o2 ? nil : sum
        }
        switch unit {
        case "s": return moved(1000)
        case "m": return moved(60_000)
        case "h", "H": return moved(3_600_000)
        case "d": return moved(day)
        case "w": return moved(7 * day)
        case "M", "y":
            // Int64 milliseconds span about ±292 million years: more months than that is out of range.
            let limit: Int64 = 4_000_000_000
            guard n > -limit && n < limit else { return nil }
            let (days, rem) = split(ms)
            let (y, m, d) = DateFormats.civilFromDays(Int(days))
            let months = y * 12 + (m - 1) + Int(n) * (unit == "y" ? 12 : 1)
            let year = months >= 0 ? months / 12 : (months - 11) / 12
            let month = months - year * 12 + 1
            let clamped = min(d, DateFormats.daysIn(month: month, year: year))
            let (start, o1) = Int64(DateFormats.daysFromCivil(year, month, clamped)).multipliedReportingOverflow(by: day)
            let (sum, o2) = start.addingReportingOverflow(rem)
            return o1 || o2 ? nil : sum
        default: return nil
        }
    }

    /// The start of the unit `ms` falls in (weeks start on Monday). Nil when it lies before `Int64.min`.
    static func round(_ ms: Int64, _ unit: Character) -> Int64? {
        let (days, rem) = split(ms)
        func at(_ d: Int64) -> Int64? {
            let (v, overflow) = d.multipliedReportingOverflow(by: day)
            return overflow ? nil : v
        }
        func down(_ unit: Int64) -> Int64? {
            let (v, overflow) = ms.subtractingReportingOverflow(rem % unit)
            return overflow ? nil : v
        }
        switch unit {
        case "s": return down(1000)
        case "m": return down(60_000)
        case "h", "H": return down(3_600_000)
        case "d": return at(days)
        case "w": return at(days - Int64(DateFormats.dayOfWeek(ms) - 1))
        case "M":
            let (y, m, _) = DateFormats.civilFromDays(Int(days))
            return at(Int64(DateFormats.daysFromCivil(y, m, 1)))
        case "y":
            let (y, _, _) = DateFormats.civilFromDays(Int(days))
            return at(Int64(DateFormats.daysFromCivil(y, 1, 1)))
        default: return nil
        }
    }
}
