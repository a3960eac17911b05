/// Elasticsearch's default date handling: `strict_date_optional_time||epoch_millis`, in UTC milliseconds.
public enum DateFormats {
    /// Milliseconds since the epoch of a civil UTC date-time (proleptic Gregorian).
    public static func epochMillis(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, millis: Int = 0) -> Int64 {
        let days = daysFromCivil(year, month, day)
        return ((Int64(days) * 24 + Int64(hour)) * 60 + Int64(minute)) * 60_000 + Int64(second) * 1000 + Int64(millis)
    }

    /// Howard Hinnant's days_from_civil.
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// (year, month, day) of a day count since the epoch.
    public static func civilFromDays(_ z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// Parses `strict_date_optional_time` or, failing that, `epoch_millis`.
    public static func parse(_ s: String) -> Int64? {
        if let v = parseISO(s) { return v }
        return parseEpochMillis(s)
    }

    /// What rounding up adds to an ISO date's parsed instant: Elasticsearch fills the parts
    /// the text leaves out with their maximum (`2026-11-22` → 23:59:59.999, `…T10:15` →
    /// 10:15:59.999). A missing month or day stays 1, as in Elasticsearch. Zero when the
    /// text has a fraction of a second.
    public static func roundUpSpan(_ iso: String) -> Int64 {
        guard let t = iso.firstIndex(of: "T") else { return 86_400_000 - 1 }
        var time = iso[iso.index(after: t)...]
        if let zone = time.firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" }) { time = time[..<zone] }
        if time.contains(".") || time.contains(",") { return 0 }
        switch time.count(where: { $0 == ":" }) {
        case 0: return 3_600_000 - 1
        case 1: return 60_000 - 1
        default: return 999
        }
    }

    /// `epoch_millis`: an integer or decimal number of milliseconds, possibly negative.
    public static func parseEpochMillis(_ s: String) -> Int64? {
        if let i = Int64(s) { return i }
        if s.contains("."), !s.contains("e"), !s.contains("E"), let d = Double(s), d.isFinite, abs(d) < 9.2e18 {
            return Int64(d.rounded(.down))
        }
        return nil
    }

    /// `strict_date_optional_time`: `yyyy[-MM[-dd['T'HH[:mm[:ss[.SSSSSSSSS]]]][zone]]]`.
    public static func parseISO(_ s: String) -> Int64? {
        var s = s
        return s.withUTF8 { parseISO(bytes: $0) }
    }

    /// `strict_date_optional_time` straight from UTF-8 bytes.
    public static func parseISO(bytes u: UnsafeBufferPointer<UInt8>) -> Int64? {
        if u.isEmpty { return nil }
        var p = 0
        func digits(_ n: Int) -> Int? {
            guard p + n <= u.count else { return nil }
            var v = 0
            for i in 0..<n {
                let c = u[p + i]
                guard c >= 0x30 && c <= 0x39 else { return nil }
                v = v * 10 + Int(c - 0x30)
            }
            p += n
            return v
        }
        func eat(_ c: Unicode.Scalar) -> Bool {
            if p < u.count && u[p] == UInt8(truncatingIfNeeded: c.value) { p += 1; return true }
            return false
        }
        guard let year = digits(4) else { return nil }
        var month = 1, day = 1, hour = 0, minute = 0, second = 0, nanos = 0
        var offsetMinutes = 0
        if eat("-") {
            guard let m = digits(2), (1...12).contains(m) else { return nil }
            month = m
            if eat("-") {
                guard let d = digits(2), d >= 1, d <= daysIn(month: m, year: year) else { return nil }
                day = d
                if eat("T") {
                    guard let h = digits(2), h < 24 else { return nil }
                    hour = h
                    if eat(":") {
                        guard let mi = digits(2), mi < 60 else { return nil }
                        minute = mi
                        if eat(":") {
                            guard let se = digits(2), se < 60 else { return nil }
                            second = se
                            if eat(".") || eat(",") {
                                var n = 0
                                var scale = 100_000_000
                                while p < u.count, u[p] >= 0x30, u[p] <= 0x39, n < 9 {
                                    nanos += Int(u[p] - 0x30) * scale
                                    scale /= 10
                                    p += 1
                                    n += 1
                                }
                                if n == 0 { return nil }
                            }
                        }
                    }
                    if p < u.count {
                        if eat("Z") {
                        } else if p < u.count, u[p] == 0x2B || u[p] == 0x2D {
                            let sign = u[p] == 0x2D ? -1 : 1
                            p += 1
                            guard let oh = digits(2), oh <= 18 else { return nil }
                            var om = 0
                            if eat(":") {
                                guard let m2 = digits(2) else { return nil }
                                om = m2
                            } else if p < u.count {
                                guard let m2 = digits(2) else { return nil }
                                om = m2
                            }
                            offsetMinutes = sign * (oh * 60 + om)
                        } else {
                            return nil
                        }
                    }
                }
            }
        }
        guard p == u.count else { return nil }
        return epochMillis(year: year, month: month, day: day, hour: hour, minute: minute, second: second, millis: nanos / 1_000_000)
            - Int64(offsetMinutes) * 60_000
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// `2026-11-23T10:00:00.123Z`; years beyond 9999 get a sign as Java's formatter writes them.
    public static func formatISO(_ millis: Int64) -> String {
        var days = millis / 86_400_000
        var rem = millis % 86_400_000
        if rem < 0 {
            rem += 86_400_000
            days -= 1
        }
        let (y, m, d) = civilFromDays(Int(days))
        let h = rem / 3_600_000, mi = rem / 60_000 % 60, s = rem / 1000 % 60, ms = rem % 1000
        func pad(_ v: Int64, _ n: Int) -> String {
            let t = String(v)
            return String(repeating: "0", count: max(0, n - t.count)) + t
        }
        let year = y > 9999 ? "+" + String(y) : (y < 0 ? "-" + pad(Int64(-y), 4) : pad(Int64(y), 4))
        return "\(year)-\(pad(Int64(m), 2))-\(pad(Int64(d), 2))T\(pad(h, 2)):\(pad(mi, 2)):\(pad(s, 2)).\(pad(ms, 3))Z"
    }

    /// The ISO day of the week of an instant, in UTC: 1 is Monday, 7 Sunday.
    public static func dayOfWeek(_ millis: Int64) -> Int {
        let days = millis / 86_400_000 - (millis % 86_400_000 < 0 ? 1 : 0)
        return Int(((days % 7) + 7 + 3) % 7) + 1  // 1970-01-01 was a Thursday
    }

    /// English day names, Monday first, as Java's `DayOfWeek` displays them.
    public static let weekdayNames = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

    /// `yyyy.MM.dd` as used in data stream backing index names.
    public static func formatDotted(_ millis: Int64) -> String {
        let (y, m, d) = civilFromDays(Int(millis / 86_400_000))
        func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : String(v) }
        return "\(y).\(pad(m)).\(pad(d))"
    }
}
