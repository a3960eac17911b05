import Foundation

/// Time zones by the names Elasticsearch takes: fixed offsets (`+01:00`, `-0530`, `UTC+2`) and
/// IANA names (`Europe/Paris`), as functions from an instant to its offset in milliseconds.
public enum TimeZones {
    public static func named(_ name: String) -> ((Int64) -> Int64)? {
        if let fixed = fixedOffset(name) { return { _ in fixed } }
        guard let tz = TimeZone(identifier: name) else { return nil }
        return { ms in Int64(tz.secondsFromGMT(for: Date(timeIntervalSince1970: Double(ms) / 1000))) * 1000 }
    }

    /// `+HH:MM`, `-HHMM`, `+H`, optionally after `UTC`/`GMT`.
    static func fixedOffset(_ name: String) -> Int64? {
        var s = Substring(name)
        for p in ["UTC", "GMT"] where s.hasPrefix(p) { s = s.dropFirst(3) }
        if s.isEmpty || s == "Z" { return 0 }
        guard let sign = s.first, sign == "+" || sign == "-" else { return nil }
        let digits = s.dropFirst().filter { $0 != ":" }
        guard !digits.isEmpty, digits.count <= 4, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let h: Int64, m: Int64
        if digits.count <= 2 {
            h = Int64(digits)!
            m = 0
        } else {
            h = Int64(digits.dropLast(2))!
            m = Int64(digits.suffix(2))!
        }
        guard h <= 18, m < 60 else { return nil }
        let total = (h * 60 + m) * 60_000
        return sign == "-" ? -total : total
    }
}
