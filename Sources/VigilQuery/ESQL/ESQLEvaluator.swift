import Synchronization
import VigilStore

/// Evaluates ES|QL expressions on rows: three-valued logic (null propagates; WHERE keeps
/// true), comparisons of numbers, dates (a string compared to a date is read as one), text
/// and addresses, and the scalar and aggregate functions Elastic's ES|QL rules call.
struct ESQLEvaluator {
    let now: Int64
    let kql: [String: [[Bitmap]]]
    /// Where evaluations that failed into null are recorded (nil: nowhere).
    var warnings: ESQLWarnings? = nil
    let regexes = RegexCache()

    final class RegexCache {
        var compiled: [String: Regex<AnyRegexOutput>] = [:]
        func get(_ pattern: String) throws(ESQLRunError) -> Regex<AnyRegexOutput> {
            if let r = compiled[pattern] { return r }
            do {
                let r = try Regex(pattern)
                compiled[pattern] = r
                return r
            } catch {
                throw ESQLRunError("invalid regular expression [\(pattern)]")
            }
        }
    }

    static let aggregates: Set<String> = ["COUNT", "COUNT_DISTINCT", "VALUES", "MIN", "MAX", "SUM", "AVG", "MEDIAN"]
    /// The scalar functions `call` knows.
    static let functions: Set<String> = [
        "TO_LOWER", "TO_UPPER", "TRIM", "LTRIM", "RTRIM", "LENGTH", "CONCAT", "SUBSTRING", "LEFT", "RIGHT", "REPLACE",
        "STARTS_WITH", "ENDS_WITH", "LOCATE", "SPLIT", "COALESCE", "CASE", "GREATEST", "LEAST", "MV_FIRST", "MV_LAST",
        "MV_COUNT", "MV_MIN", "MV_MAX", "MV_CONCAT", "MV_DEDUPE", "MV_SORT", "MV_SLICE", "MV_CONTAINS", "MV_INTERSECTION",
        "TO_STRING", "TO_INTEGER", "TO_LONG", "TO_UNSIGNED_LONG", "TO_DOUBLE", "TO_BOOLEAN", "TO_IP", "TO_DATETIME",
        "CIDR_MATCH", "NOW", "DATE_TRUNC", "DATE_DIFF", "ABS", "ROUND", "FLOOR", "CEIL", "KQL", "MATCH", "SPACE", "URL_DECODE",
    ]

    // MARK: - scalars

    func eval(_ e: ESQLExpr, _ row: ESQLExecutor.Row) throws(ESQLRunError) -> ESQLValue {
        switch e {
        case .literal(let l):
            switch l {
            case .null: return .null
            case .bool(let b): return .bool(b)
            case .int(let i): return .int(i)
            case .double(let d): return .double(d)
            case .string(let s): return .string(s)
            case .timeSpan(let n, let unit): return ESQLEvaluator.checked(n.multipliedReportingOverflow(by: ESQLEvaluator.unitMillis(unit)))
            }
        case .field(let f): return row.values[f] ?? .null
        case .star: return .null
        case .map: return .null
        case .unary(.not, let a):
            guard case .bool(let b) = try eval(a, row) else { return .null }
            return .bool(!b)
        case .unary(.negate, let a):
            switch try eval(a, row) {
            case .int(let i): return i == .min ? .null : .int(-i)
            case .double(let d): return .double(-d)
            default: return .null
            }
        case .binary(let op, let a, let b):
            return try binary(op, a, b, row)
        case .in(let a, let list, let negated):
            let v = try eval(a, row)
            if v.isNull || v.values.count > 1 { return .null }
            var sawNull = false
            for x in list {
                let w = try eval(x, row)
                if w.isNull { sawNull = true; continue }
                if ESQLEvaluator.compare(v, w) == 0 { return .bool(!negated) }
            }
            return sawNull ? .null : .bool(negated)
        case .like(let a, let patterns, let negated, let regex):
            let v = try eval(a, row)
            guard let s = v.values.count == 1 ? v.text : nil else { return .null }
            var hit = false
            for p in patterns {
                if regex {
                    // Lucene's syntax as a DFA: linear in the value whatever the pattern.
                    if PatternMatcher.compiled(p, insensitive: false)?.matches(s) == true { hit = true }
                } else if ESQLEvaluator.like(s, p) {
                    hit = true
                }
                if hit { break }
            }
            return .bool(hit != negated)
        case .isNull(let a, let negated):
            return .bool(try eval(a, row).isNull != negated)
        case .cast(let a, let type):
            return try ESQLEvaluator.convert(try eval(a, row), to: type)
        case .match(let field, let text):
            let words = text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber })
            let have = (row.values[field] ?? .null).values.compactMap(\.text).map { $0.lowercased() }
            return .bool(have.contains { h in h == text.lowercased() || words.allSatisfy { h.contains($0) } })
        case .call(let name, let args):
            if ESQLEvaluator.aggregates.contains(name) { throw ESQLRunError("aggregate function [\(name)] is only allowed in STATS") }
            return try call(name, args, row)
        }
    }

    static func unitMillis(_ unit: String) -> Int64 {
        switch unit {
        case "nanosecond", "microsecond": return 0
        case "millisecond": return 1
        case "second": return 1000
        case "minute": return 60_000
        case "hour": return 3_600_000
        case "day": return 86_400_000
        case "week": return 7 * 86_400_000
        case "month": return 30 * 86_400_000
        case "quarter": return 91 * 86_400_000
        default: return 365 * 86_400_000
        }
    }

    func binary(_ op: ESQLBinary, _ a: ESQLExpr, _ b: ESQLExpr, _ row: ESQLExecutor.Row) throws(ESQLRunError) -> ESQLValue {
        switch op {
        case .and:
            let x = try eval(a, row)
            if x == .bool(false) { return .bool(false) }
            let y = try eval(b, row)
            if y == .bool(false) { return .bool(false) }
            return x == .bool(true) && y == .bool(true) ? .bool(true) : .null
        case .or:
            let x = try eval(a, row)
            if x == .bool(true) { return .bool(true) }
            let y = try eval(b, row)
            if y == .bool(true) { return .bool(true) }
            return x == .bool(false) && y == .bool(false) ? .bool(false) : .null
        default: break
        }
        let x = try eval(a, row), y = try eval(b, row)
        if x.isNull || y.isNull || x.values.count > 1 || y.values.count > 1 { return .null }
        switch op {
        case .eq, .neq, .lt, .lte, .gt, .gte:
            guard let c = ESQLEvaluator.compare(x, y) else { return .null }
            switch op {
            case .eq: return .bool(c == 0)
            case .neq: return .bool(c != 0)
            case .lt: return .bool(c < 0)
            case .lte: return .bool(c <= 0)
            case .gt: return .bool(c > 0)
            default: return .bool(c >= 0)
            }
        default:
            let result = ESQLEvaluator.arithmetic(op, x, y)
            // Elasticsearch answers null for a failed evaluation and says why in a warning.
            if result.isNull, let warnings, x.number != nil, y.number != nil {
                let why = (op == .div || op == .mod) && y.number == 0 ? "java.lang.ArithmeticException: / by zero" : "java.lang.ArithmeticException: long overflow"
                warnings.add(ESQLExpr.binary(op, a, b).description, why)
            }
            return result
        }
    }

    private static func checked(_ r: (partialValue: Int64, overflow: Bool)) -> ESQLValue {
        r.overflow ? .null : .int(r.partialValue)
    }

    /// A double as a long when it is one (truncated toward zero, as Java's cast for values in range); nil otherwise.
    static func long(_ d: Double) -> Int64? {
        guard d.isFinite, d > -9.3e18, d < 9.3e18 else { return nil }
        return Int64(exactly: d.rounded(.towardZero))
    }

    static func arithmetic(_ op: ESQLBinary, _ x: ESQLValue, _ y: ESQLValue) -> ESQLValue {
        switch (x, y) {
        case (.date(let t), .int(let span)):
            let (moved, overflow) = op == .add ? t.addingReportingOverflow(span) : t.subtractingReportingOverflow(span)
            return (op == .add || op == .sub) && !overflow ? .date(moved) : .null
        case (.int(let i), .int(let j)):
            switch op {
            // Overflow and division by zero are null, as Elasticsearch answers them.
            case .add: return checked(i.addingReportingOverflow(j))
            case .sub: return checked(i.subtractingReportingOverflow(j))
            case .mul: return checked(i.multipliedReportingOverflow(by: j))
            case .div: return j == 0 ? .null : checked(i.dividedReportingOverflow(by: j))
            case .mod: return j == 0 ? .null : checked(i.remainderReportingOverflow(dividingBy: j))
            default: return .null
            }
        default:
            guard let i = x.number, let j = y.number else { return .null }
            switch op {
            case .add: return .double(i + j)
            case .sub: return .double(i - j)
            case .mul: return .double(i * j)
            case .div: return j == 0 ? .null : .double(i / j)
            case .mod: return j == 0 ? .null : .double(i.truncatingRemainder(dividingBy: j))
            default: return .null
            }
        }
    }

    /// The order of two values (nil when they cannot be compared).
    static func compare(_ x: ESQLValue, _ y: ESQLValue) -> Int? {
        func cmp<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : a > b ? 1 : 0 }
        switch (x, y) {
        case (.date(let a), .date(let b)): return cmp(a, b)
        case (.date(let a), .string(let s)): return DateFormats.parse(s).map { cmp(a, $0) }
        case (.string(let s), .date(let b)): return DateFormats.parse(s).map { cmp($0, b) }
        case (.int(let a), .int(let b)): return cmp(a, b)
        case (.bool(let a), .bool(let b)): return cmp(a ? 1 : 0, b ? 1 : 0)
        case (.ip(let a), .ip(let b)), (.ip(let a), .string(let b)), (.string(let a), .ip(let b)):
            if let p = IPAddress(a), let q = IPAddress(b) { return cmp(p, q) }
            return cmp(a, b)
        case (.string(let a), .string(let b)): return cmp(a, b)
        default:
            if let a = x.number, let b = y.number { return cmp(a, b) }
            return nil
        }
    }

    /// LIKE: `*` any run, `?` one character; case-sensitive, whole value. Plain patterns
    /// (a literal, `x*`, `*x`, `*x*`) skip the general matcher.
    static func like(_ s: String, _ pattern: String) -> Bool {
        if pattern.utf8.contains(UInt8(ascii: "?")) {
            return Wildcard.matches(Array(s.unicodeScalars), Array(pattern.unicodeScalars), star: "*", single: "?")
        }
        // Only `*`: the literal pieces between stars, found in order on the UTF-8 bytes (a
        // piece never matches inside another character's bytes).
        var subject = s, pat = pattern
        return subject.withUTF8 { t in pat.withUTF8 { p in starMatch(t, p) } }
    }

    static func starMatch(_ t: UnsafeBufferPointer<UInt8>, _ p: UnsafeBufferPointer<UInt8>) -> Bool {
        let star = UInt8(ascii: "*")
        guard let firstStar = p.firstIndex(of: star) else { return t.elementsEqual(p) }
        let lastStar = p.lastIndex(of: star)!
        let head = p[..<firstStar], tail = p[(lastStar + 1)...]
        guard t.count >= head.count + tail.count, t.starts(with: head), t.reversed().starts(with: tail.reversed()) else { return false }
        var at = head.count
        let end = t.count - tail.count
        var i = firstStar + 1
        while i < lastStar {
            var j = i
            while j < lastStar && p[j] != star { j += 1 }
            let piece = p[i..<j]
            if !piece.isEmpty {
                guard let found = find(piece, in: t, from: at, to: end) else { return false }
                at = found + piece.count
            }
            i = j + 1
        }
        return true
    }

    /// The first offset in `t[from..<to]` where `piece` starts.
    static func find(_ piece: Slice<UnsafeBufferPointer<UInt8>>, in t: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int? {
        guard let first = piece.first, to - from >= piece.count else { return nil }
        var k = from
        while k + piece.count <= to {
            if t[k] == first && t[k..<(k + piece.count)].elementsEqual(piece) { return k }
            k += 1
        }
        return nil
    }

    static func convert(_ v: ESQLValue, to type: String) throws(ESQLRunError) -> ESQLValue {
        if case .multi(let vs) = v {
            var out: [ESQLValue] = []
            for x in vs { out.append(try convert(x, to: type)) }
            return .of(out.filter { !$0.isNull })
        }
        if v.isNull { return .null }
        switch type {
        case "keyword", "string", "text": return v.text.map { .string($0) } ?? .null
        case "long", "integer", "int", "unsigned_long":
            if case .int = v { return v }
            if let d = v.number { return long(d).map { .int($0) } ?? .null }
            if let s = v.text, let i = Int64(s) { return .int(i) }
            if let s = v.text, let d = Double(s) { return long(d).map { .int($0) } ?? .null }
            return .null
        case "double", "float":
            if let d = v.number { return .double(d) }
            return v.text.flatMap(Double.init).map { .double($0) } ?? .null
        case "boolean", "bool":
            if case .bool = v { return v }
            switch v.text?.lowercased() {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: return v.number.map { .bool($0 != 0) } ?? .null
            }
        case "ip":
            guard let s = v.text, let a = IPAddress(s) else { return .null }
            return .ip(a.description)
        case "datetime", "date", "date_nanos":
            if case .date = v { return v }
            if case .int(let i) = v { return .date(i) }
            return v.text.flatMap(DateFormats.parse).map { .date($0) } ?? .null
        default:
            throw ESQLRunError("unknown type [\(type)]")
        }
    }

    // MARK: - functions

    func call(_ name: String, _ args: [ESQLExpr], _ row: ESQLExecutor.Row) throws(ESQLRunError) -> ESQLValue {
        func arg(_ i: Int) throws(ESQLRunError) -> ESQLValue { i < args.count ? try eval(args[i], row) : .null }
        func text(_ i: Int) throws(ESQLRunError) -> String? {
            let v = try arg(i)
            return v.values.count == 1 ? v.text : nil
        }
        // Counts and positions are Java ints in Elasticsearch; anything beyond is no answer (null), never a trap.
        func int(_ i: Int) throws(ESQLRunError) -> Int? {
            guard let d = try arg(i).number, d.isFinite, d >= -2_147_483_648, d <= 2_147_483_647 else { return nil }
            return Int(d)
        }
        func need(_ n: ClosedRange<Int>) throws(ESQLRunError) {
            if !n.contains(args.count) { throw ESQLRunError("function [\(name)] takes \(n.lowerBound == n.upperBound ? "\(n.lowerBound)" : "\(n.lowerBound) to \(n.upperBound)") arguments, not \(args.count)") }
        }
        func mapText(_ f: (String) -> String) throws(ESQLRunError) -> ESQLValue {
            try need(1...1)
            return .of(try arg(0).values.compactMap { $0.text.map { .string(f($0)) } })
        }
        switch name {
        case "TO_LOWER": return try mapText { $0.lowercased() }
        case "TO_UPPER": return try mapText { $0.uppercased() }
        case "TRIM": return try mapText { ESQLEvaluator.trim($0, leading: true, trailing: true) }
        case "LTRIM": return try mapText { ESQLEvaluator.trim($0, leading: true, trailing: false) }
        case "RTRIM": return try mapText { ESQLEvaluator.trim($0, leading: false, trailing: true) }
        case "LENGTH":
            try need(1...1)
            return try text(0).map { .int(Int64($0.count)) } ?? .null
        case "CONCAT":
            var out = ""
            for i in args.indices {
                guard let s = try text(i) else { return .null }
                out += s
            }
            return .string(out)
        case "SUBSTRING":
            try need(2...3)
            guard let s = try text(0), let start = try int(1) else { return .null }
            let chars = Array(s)
            let from = max(0, start - 1)
            let length = args.count > 2 ? (try int(2) ?? 0) : chars.count
            guard from < chars.count, length > 0 else { return .string("") }
            return .string(String(chars[from..<min(chars.count, from + length)]))
        case "LEFT", "RIGHT":
            try need(2...2)
            guard let s = try text(0), let n = try int(1) else { return .null }
            return .string(String(name == "LEFT" ? s.prefix(max(0, n)) : s.suffix(max(0, n))))
        case "REPLACE":
            try need(3...3)
            guard let s = try text(0), let pattern = try text(1), let with = try text(2) else { return .null }
            return .string(s.replacing(try regexes.get(pattern), with: with))
        case "STARTS_WITH", "ENDS_WITH":
            try need(2...2)
            guard let s = try text(0), let p = try text(1) else { return .null }
            return .bool(name == "STARTS_WITH" ? s.hasPrefix(p) : s.hasSuffix(p))
        case "LOCATE":
            try need(2...3)
            guard let s = try text(0), let p = try text(1) else { return .null }
            let chars = Array(s), needle = Array(p)
            let from = args.count > 2 ? max(0, (try int(2) ?? 1) - 1) : 0
            if needle.isEmpty { return .int(Int64(from + 1)) }
            var i = from
            while i + needle.count <= chars.count {
                if Array(chars[i..<i + needle.count]) == needle { return .int(Int64(i + 1)) }
                i += 1
            }
            return .int(0)
        case "SPLIT":
            try need(2...2)
            guard let s = try text(0), let d = try text(1), !d.isEmpty else { return .null }
            return .of(s.split(separator: d, omittingEmptySubsequences: false).map { .string(String($0)) })
        case "COALESCE":
            for i in args.indices {
                let v = try arg(i)
                if !v.isNull { return v }
            }
            return .null
        case "CASE":
            var i = 0
            while i + 1 < args.count {
                if try arg(i) == .bool(true) { return try arg(i + 1) }
                i += 2
            }
            return i < args.count ? try arg(i) : .null
        case "GREATEST", "LEAST":
            var best: ESQLValue = .null
            for i in args.indices {
                for v in try arg(i).values {
                    if best.isNull { best = v; continue }
                    if let c = ESQLEvaluator.compare(v, best), name == "GREATEST" ? c > 0 : c < 0 { best = v }
                }
            }
            return best
        case "MV_FIRST": try need(1...1); return try arg(0).values.first ?? .null
        case "MV_LAST": try need(1...1); return try arg(0).values.last ?? .null
        case "MV_COUNT": try need(1...1); let n = try arg(0).values.count; return n == 0 ? .null : .int(Int64(n))
        case "MV_MIN", "MV_MAX":
            try need(1...1)
            let vs = try arg(0).values
            return vs.dropFirst().reduce(vs.first ?? .null) { best, v in
                guard let c = ESQLEvaluator.compare(v, best) else { return best }
                return (name == "MV_MIN" ? c < 0 : c > 0) ? v : best
            }
        case "MV_CONCAT":
            try need(2...2)
            guard let d = try text(1) else { return .null }
            let vs = try arg(0).values.compactMap(\.text)
            return vs.isEmpty ? .null : .string(vs.joined(separator: d))
        case "MV_DEDUPE":
            try need(1...1)
            var seen = Set<ESQLValue>()
            return .of(try arg(0).values.filter { seen.insert($0).inserted })
        case "MV_SORT":
            try need(1...2)
            let desc = (try text(1))?.uppercased() == "DESC"
            let vs = try arg(0).values.sorted { (ESQLEvaluator.compare($0, $1) ?? 0) < 0 }
            return .of(desc ? vs.reversed() : vs)
        case "MV_SLICE":
            try need(2...3)
            let vs = try arg(0).values
            guard var from = try int(1) else { return .null }
            var to = args.count > 2 ? (try int(2) ?? from) : from
            if from < 0 { from += vs.count }
            if to < 0 { to += vs.count }
            guard from >= 0, from <= to, from < vs.count else { return .null }
            return .of(Array(vs[from...min(to, vs.count - 1)]))
        case "MV_CONTAINS":
            try need(2...2)
            let have = Set(try arg(0).values), want = try arg(1).values
            if want.isEmpty { return .bool(true) }
            return .bool(want.allSatisfy(have.contains))
        case "MV_INTERSECTION":
            try need(2...2)
            let b = Set(try arg(1).values)
            return .of(try arg(0).values.filter(b.contains))
        case "TO_STRING": try need(1...1); return try ESQLEvaluator.convert(try arg(0), to: "keyword")
        case "TO_INTEGER", "TO_LONG", "TO_UNSIGNED_LONG":
            try need(1...1)
            let v = try arg(0)
            let r = try ESQLEvaluator.convert(v, to: "long")
            if r.isNull, !v.isNull, let warnings, let text = v.text, Double(text) != nil || v.number != nil {
                warnings.add(ESQLExpr.call(name, args).description,
                             "org.elasticsearch.xpack.esql.core.InvalidArgumentException: [\(text)] out of [long] range")
            }
            return r
        case "TO_DOUBLE": try need(1...1); return try ESQLEvaluator.convert(try arg(0), to: "double")
        case "TO_BOOLEAN": try need(1...1); return try ESQLEvaluator.convert(try arg(0), to: "boolean")
        case "TO_IP": try need(1...1); return try ESQLEvaluator.convert(try arg(0), to: "ip")
        case "TO_DATETIME": try need(1...1); return try ESQLEvaluator.convert(try arg(0), to: "datetime")
        case "CIDR_MATCH":
            guard args.count >= 2 else { throw ESQLRunError("function [CIDR_MATCH] takes an address and at least one block") }
            let ips = try arg(0).values.compactMap { $0.text.flatMap(IPAddress.init) }
            guard !ips.isEmpty else { return .null }
            for i in 1..<args.count {
                for block in try arg(i).values.compactMap(\.text) {
                    if let net = CIDR(block), ips.contains(where: net.contains) { return .bool(true) }
                }
            }
            return .bool(false)
        case "SPACE":
            try need(1...1)
            guard let n = try int(0), n >= 0, n <= 1 << 20 else { return .null }
            return .string(String(repeating: " ", count: n))
        case "URL_DECODE":
            try need(1...1)
            return try mapText(ESQLEvaluator.urlDecode)
        case "NOW": return .date(now)
        case "DATE_TRUNC":
            try need(2...2)
            guard case .int(let span) = try arg(0), span > 0, case .date(let t) = try arg(1) else { return .null }
            let r = t % span
            let (start, overflow) = t.subtractingReportingOverflow(r < 0 ? r + span : r)
            return overflow ? .null : .date(start)
        case "DATE_DIFF":
            try need(3...3)
            guard let unit = try text(0), case .date(let a) = try arg(1), case .date(let b) = try arg(2) else { return .null }
            let u = ESQLEvaluator.unitMillis(ESQLEvaluator.unitName(unit))
            let (millis, overflow) = b.subtractingReportingOverflow(a)
            if overflow { return .null }
            return u == 0 ? ESQLEvaluator.checked(millis.multipliedReportingOverflow(by: 1_000_000)) : .int(millis / u)
        case "ABS":
            switch try arg(0) {
            case .int(let i): return i == .min ? .null : .int(abs(i))
            case .double(let d): return .double(abs(d))
            default: return .null
            }
        case "ROUND":
            guard let d = try arg(0).number else { return .null }
            let digits = args.count > 1 ? (try int(1) ?? 0) : 0
            var scale = 1.0
            // Past 400 digits the scale is infinite anyway; no loop runs longer than that.
            for _ in 0..<min(max(0, digits), 400) { scale *= 10 }
            if case .int = try arg(0), digits >= 0 { return try arg(0) }
            let rounded = (d * scale).rounded() / scale
            return .double(rounded.isFinite ? rounded : d)
        case "FLOOR", "CEIL":
            let v = try arg(0)
            if case .int = v { return v }
            guard let d = v.number else { return .null }
            return .double(name == "FLOOR" ? d.rounded(.down) : d.rounded(.up))
        case "KQL":
            guard case .literal(.string(let q))? = args.first, let docs = kql[q] else { throw ESQLRunError("KQL takes a string literal") }
            guard let o = row.origin else { throw ESQLRunError("KQL can only be used on the documents of FROM, before STATS") }
            return .bool(docs[o.reader][o.segment].contains(o.doc))
        case "MATCH":
            guard args.count >= 2, case .field(let f) = args[0], let q = try text(1) else { throw ESQLRunError("MATCH takes a field and a query") }
            return try eval(.match(f, q), row)
        default:
            throw ESQLRunError("Unknown function [\(name)]")
        }
    }

    /// Percent-decoding, `+` as a space; invalid escapes stay as written.
    static func urlDecode(_ s: String) -> String {
        var out: [UInt8] = []
        let u = Array(s.utf8)
        var i = 0
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x41...0x46: c - 0x37
            case 0x61...0x66: c - 0x57
            default: nil
            }
        }
        while i < u.count {
            if u[i] == 0x25, i + 2 < u.count, let h = hex(u[i + 1]), let l = hex(u[i + 2]) {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(u[i] == 0x2B ? 0x20 : u[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func trim(_ s: String, leading: Bool, trailing: Bool) -> String {
        var sub = Substring(s)
        if leading { sub = sub.drop { $0.isWhitespace } }
        if trailing { while let last = sub.last, last.isWhitespace { sub = sub.dropLast() } }
        return String(sub)
    }

    static func unitName(_ s: String) -> String {
        switch s.lowercased() {
        case "ms", "millisecond", "milliseconds": return "millisecond"
        case "s", "ss", "second", "seconds": return "second"
        case "mi", "n", "minute", "minutes": return "minute"
        case "h", "hh", "hour", "hours": return "hour"
        case "d", "dd", "day", "days": return "day"
        case "wk", "ww", "week", "weeks": return "week"
        case "mm", "m", "month", "months": return "month"
        case "qq", "q", "quarter", "quarters": return "quarter"
        case "nanosecond", "nanoseconds", "ns", "microsecond", "microseconds", "mcs": return "nanosecond"
        default: return "year"
        }
    }

    // MARK: - aggregates

    /// One aggregate column of a STATS group: the aggregate calls in the expression are
    /// computed over the group's rows (those passing the assignment's WHERE), then the rest.
    func aggregate(_ a: ESQLAssignment, _ rows: [ESQLExecutor.Row]) throws(ESQLRunError) -> ESQLValue {
        var members = rows
        if let filter = a.filter {
            var kept: [ESQLExecutor.Row] = []
            for r in rows where try eval(filter, r) == .bool(true) { kept.append(r) }
            members = kept
        }
        var computed: [String: ESQLValue] = [:]
        func rewrite(_ e: ESQLExpr) throws(ESQLRunError) -> ESQLExpr {
            switch e {
            case .call(let name, let args) where ESQLEvaluator.aggregates.contains(name):
                let key = "\u{1}agg\(computed.count)"
                computed[key] = try aggregateCall(name, args, members)
                return .field(key)
            case .call(let name, let args):
                var out: [ESQLExpr] = []
                for x in args { out.append(try rewrite(x)) }
                return .call(name, out)
            case .binary(let op, let x, let y): return .binary(op, try rewrite(x), try rewrite(y))
            case .unary(let op, let x): return .unary(op, try rewrite(x))
            case .cast(let x, let t): return .cast(try rewrite(x), t)
            default: return e
            }
        }
        let expr = try rewrite(a.expr)
        if computed.isEmpty { throw ESQLRunError("expected an aggregate function in STATS, found [\(a.name)]") }
        return try eval(expr, ESQLExecutor.Row(values: computed, origin: nil))
    }

    func aggregateCall(_ name: String, _ args: [ESQLExpr], _ rows: [ESQLExecutor.Row]) throws(ESQLRunError) -> ESQLValue {
        if name == "COUNT", args.isEmpty || args.first == .star { return .int(Int64(rows.count)) }
        guard let e = args.first else { throw ESQLRunError("function [\(name)] needs a field") }
        var values: [ESQLValue] = []
        for r in rows { values += try eval(e, r).values }
        switch name {
        case "COUNT": return .int(Int64(values.count))
        case "COUNT_DISTINCT": return .int(Int64(Set(values).count))
        case "VALUES":
            var seen = Set<ESQLValue>()
            return .of(values.filter { seen.insert($0).inserted }.sorted { (ESQLEvaluator.compare($0, $1) ?? 0) < 0 })
        case "MIN", "MAX":
            return values.dropFirst().reduce(values.first ?? .null) { best, v in
                guard let c = ESQLEvaluator.compare(v, best) else { return best }
                return (name == "MIN" ? c < 0 : c > 0) ? v : best
            }
        case "SUM":
            if values.allSatisfy({ if case .int = $0 { true } else { false } }) {
                return values.isEmpty ? .null : .int(values.reduce(0) { if case .int(let i) = $1 { $0 &+ i } else { $0 } })
            }
            return values.isEmpty ? .null : .double(values.compactMap(\.number).reduce(0, +))
        case "AVG":
            let ns = values.compactMap(\.number)
            return ns.isEmpty ? .null : .double(ns.reduce(0, +) / Double(ns.count))
        case "MEDIAN":
            let ns = values.compactMap(\.number).sorted()
            if ns.isEmpty { return .null }
            return .double(ns.count % 2 == 1 ? ns[ns.count / 2] : (ns[ns.count / 2 - 1] + ns[ns.count / 2]) / 2)
        default:
            throw ESQLRunError("aggregate function [\(name)] is not supported yet")
        }
    }
}

/// The evaluations of one query that failed into null, as Elasticsearch reports them in
/// `Warning` headers: the first 20, each with the expression and the reason.
final class ESQLWarnings: Sendable {
    static let limit = 20
    private let recorded = Mutex<[(expression: String, reason: String)]>([])

    func add(_ expression: String, _ reason: String) {
        recorded.withLock { r in
            if r.count < ESQLWarnings.limit && !r.contains(where: { $0 == (expression, reason) }) { r.append((expression, reason)) }
        }
    }

    /// The warning texts, Elasticsearch's wording: one line naming each failed expression, one with its reason.
    var messages: [String] {
        recorded.withLock { r in
            r.flatMap { ["evaluation of [\($0.expression)] failed, treating result as null. Only first \(ESQLWarnings.limit) failures recorded.", $0.reason] }
        }
    }
}
