/// Dates written as a `format` asks, in UTC: Elasticsearch's built-in format names and
/// Java `DateTimeFormatter` patterns (`yyyy-MM-dd'T'HH:mm:ss`, `dd/MMM/yyyy`, …), as the
/// `fields` option and `docvalue_fields` print them. `a||b` prints with `a`.
public struct DatePattern: Sendable, Equatable {
    enum Token: Sendable, Equatable {
        case literal(String)
        /// A pattern letter repeated `count` times.
        case field(Character, Int)
        /// Built-in formats' offset: `Z` for UTC.
        case zulu
        case epochMillis
        case epochSecond
        /// The ISO 8601 form of the default formats (`DateFormats.formatISO`).
        case iso
    }

    let tokens: [Token]

    public struct Invalid: Error, Sendable {
        public var message: String
    }

    /// Elasticsearch's built-in names and the patterns they print with.
    private static let named: [String: String] = [
        "date_optional_time": "yyyy-MM-dd'T'HH:mm:ss.SSSX", "strict_date_optional_time": "yyyy-MM-dd'T'HH:mm:ss.SSSX",
        "strict_date_optional_time_nanos": "yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSSX",
        "date_time": "yyyy-MM-dd'T'HH:mm:ss.SSSX", "strict_date_time": "yyyy-MM-dd'T'HH:mm:ss.SSSX",
        "date_time_no_millis": "yyyy-MM-dd'T'HH:mm:ssX", "strict_date_time_no_millis": "yyyy-MM-dd'T'HH:mm:ssX",
        "date": "yyyy-MM-dd", "strict_date": "yyyy-MM-dd",
        "basic_date": "yyyyMMdd", "basic_date_time": "yyyyMMdd'T'HHmmss.SSSX", "basic_date_time_no_millis": "yyyyMMdd'T'HHmmssX",
        "basic_time": "HHmmss.SSSX", "basic_time_no_millis": "HHmmssX", "basic_t_time": "'T'HHmmss.SSSX",
        "basic_t_time_no_millis": "'T'HHmmssX", "basic_ordinal_date": "yyyyDDD", "basic_ordinal_date_time": "yyyyDDD'T'HHmmss.SSSX",
        "date_hour": "yyyy-MM-dd'T'HH", "strict_date_hour": "yyyy-MM-dd'T'HH",
        "date_hour_minute": "yyyy-MM-dd'T'HH:mm", "strict_date_hour_minute": "yyyy-MM-dd'T'HH:mm",
        "date_hour_minute_second": "yyyy-MM-dd'T'HH:mm:ss", "strict_date_hour_minute_second": "yyyy-MM-dd'T'HH:mm:ss",
        "date_hour_minute_second_millis": "yyyy-MM-dd'T'HH:mm:ss.SSS", "strict_date_hour_minute_second_millis": "yyyy-MM-dd'T'HH:mm:ss.SSS",
        "date_hour_minute_second_fraction": "yyyy-MM-dd'T'HH:mm:ss.SSS", "strict_date_hour_minute_second_fraction": "yyyy-MM-dd'T'HH:mm:ss.SSS",
        "hour": "HH", "strict_hour": "HH", "hour_minute": "HH:mm", "strict_hour_minute": "HH:mm",
        "hour_minute_second": "HH:mm:ss", "strict_hour_minute_second": "HH:mm:ss",
        "hour_minute_second_millis": "HH:mm:ss.SSS", "strict_hour_minute_second_millis": "HH:mm:ss.SSS",
        "hour_minute_second_fraction": "HH:mm:ss.SSS", "strict_hour_minute_second_fraction": "HH:mm:ss.SSS",
        "ordinal_date": "yyyy-DDD", "strict_ordinal_date": "yyyy-DDD",
        "ordinal_date_time": "yyyy-DDD'T'HH:mm:ss.SSSX", "strict_ordinal_date_time": "yyyy-DDD'T'HH:mm:ss.SSSX",
        "ordinal_date_time_no_millis": "yyyy-DDD'T'HH:mm:ssX", "strict_ordinal_date_time_no_millis": "yyyy-DDD'T'HH:mm:ssX",
        "time": "HH:mm:ss.SSSX", "strict_time": "HH:mm:ss.SSSX", "time_no_millis": "HH:mm:ssX", "strict_time_no_millis": "HH:mm:ssX",
        "t_time": "'T'HH:mm:ss.SSSX", "strict_t_time": "'T'HH:mm:ss.SSSX", "t_time_no_millis": "'T'HH:mm:ssX", "strict_t_time_no_millis": "'T'HH:mm:ssX",
        "year": "yyyy", "strict_year": "yyyy", "year_month": "yyyy-MM", "strict_year_month": "yyyy-MM",
        "year_month_day": "yyyy-MM-dd", "strict_year_month_day": "yyyy-MM-dd",
    ]

    /// Pattern letters this formatter prints; Java knows more (week-based fields, eras, zone names).
    private static let letters: Set<Character> = ["y", "u", "M", "L", "d", "D", "H", "k", "h", "K", "m", "s", "S", "a", "E", "X", "x", "Z", "z", "V", "n"]

    public init(_ format: String) throws(Invalid) {
        // `a||b`: the first format prints.
        var first = format
        var i = format.startIndex
        while i < format.endIndex {
            let next = format.index(after: i)
            if format[i] == "|", next < format.endIndex, format[next] == "|" {
                first = String(format[..<i])
                break
            }
            i = next
        }
        switch first {
        case "epoch_millis":
            tokens = [.epochMillis]
            return
        case "epoch_second":
            tokens = [.epochSecond]
            return
        case "strict_date_optional_time", "date_optional_time", "strict_date_time", "date_time":
            tokens = [.iso]
            return
        default:
            break
        }
        let pattern = DatePattern.named[first] ?? first
        let builtIn = DatePattern.named[first] != nil
        var out: [Token] = []
        var chars = Array(pattern)[...]
        while let c = chars.first {
            if c == "'" {
                chars = chars.dropFirst()
                var text = ""
                while true {
                    guard let d = chars.first else { throw Invalid(message: "Invalid format: [\(format)]: unterminated quote") }
                    chars = chars.dropFirst()
                    if d == "'" {
                        if chars.first == "'" {
                            text.append("'")
                            chars = chars.dropFirst()
                            continue
                        }
                        break
                    }
                    text.append(d)
                }
                out.append(.literal(text.isEmpty ? "'" : text))
                continue
            }
            if c == "[" || c == "]" {
                // Optional sections print when the value has their fields, which a date always does.
                chars = chars.dropFirst()
                continue
            }
            if c.isLetter && c.isASCII {
                guard DatePattern.letters.contains(c) else {
                    throw Invalid(message: "Invalid format: [\(format)]: Unknown pattern letter: \(c)")
                }
                var n = 0
                while chars.first == c {
                    n += 1
                    chars = chars.dropFirst()
                }
                out.append(builtIn && c == "X" ? .zulu : .field(c, n))
                continue
            }
            out.append(.literal(String(c)))
            chars = chars.dropFirst()
        }
        tokens = out
    }

    private static let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]

    /// `millis` (epoch milliseconds) printed, in UTC.
    public func format(_ millis: Int64) -> String {
        var days = millis / 86_400_000
        var rem = millis % 86_400_000
        if rem < 0 {
            rem += 86_400_000
            days -= 1
        }
        let (y, m, d) = DateFormats.civilFromDays(Int(days))
        let hour = Int(rem / 3_600_000), minute = Int(rem / 60_000 % 60), second = Int(rem / 1000 % 60), ms = Int(rem % 1000)
        func pad(_ v: Int, _ n: Int) -> String {
            let t = String(abs(v))
            return (v < 0 ? "-" : "") + String(repeating: "0", count: max(0, n - t.count)) + t
        }
        var out = ""
        for t in tokens {
            switch t {
            case .literal(let s): out += s
            case .epochMillis: out += String(millis)
            case .epochSecond: out += String(millis / 1000)
            case .zulu: out += "Z"
            case .iso: out += DateFormats.formatISO(millis)
            case .field(let c, let n):
                switch c {
                case "y", "u":
                    // Four or more letters: a sign once the year outgrows them, as Java's EXCEEDS_PAD.
                    out += n == 2 ? pad(((y % 100) + 100) % 100, 2) : (n >= 4 && y > 9999 ? "+" : "") + pad(y, n)
                case "M", "L":
                    out += n >= 4 ? DatePattern.months[m - 1] : n == 3 ? String(DatePattern.months[m - 1].prefix(3)) : pad(m, n)
                case "d": out += pad(d, n)
                case "D":
                    let yearStart = DateFormats.daysFromCivil(y, 1, 1)
                    out += pad(Int(days) - yearStart + 1, n)
                case "H": out += pad(hour, n)
                case "k": out += pad(hour == 0 ? 24 : hour, n)
                case "h": out += pad(hour % 12 == 0 ? 12 : hour % 12, n)
                case "K": out += pad(hour % 12, n)
                case "m": out += pad(minute, n)
                case "s": out += pad(second, n)
                case "S":
                    // Fraction of the second: its first n digits (milliseconds, then zeros).
                    let digits = pad(ms, 3) + String(repeating: "0", count: max(0, n - 3))
                    out += String(digits.prefix(n))
                case "n": out += String(ms * 1_000_000)
                case "a": out += hour < 12 ? "AM" : "PM"
                case "E":
                    let weekday = DateFormats.weekdayNames[DateFormats.dayOfWeek(millis) - 1]
                    out += n >= 4 ? weekday : String(weekday.prefix(3))
                case "X": out += "Z"
                case "x": out += n == 1 ? "+00" : n == 2 || n == 4 ? "+0000" : "+00:00"
                case "Z": out += n <= 3 ? "+0000" : n == 4 ? "GMT" : "Z"
                case "z", "V": out += "Z"
                default: break
                }
            }
        }
        return out
    }
}
