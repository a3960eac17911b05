public import VigilStore

/// What an event's JSON text must contain for a query to match it, found from the query alone.
///
/// Offline hunting reads files of JSON events; most events of a selective query can be passed
/// over by a byte search for the strings its conditions compare with, before any parsing. The
/// conditions derived here are necessary, never sufficient: the query itself still decides.
public enum RequiredText {
    /// Text that appears inside a JSON string of any event that can match.
    public struct Needle: Sendable, Hashable {
        /// The text as JSON writes it inside a string (`"` and `\` escaped), without quotes.
        public var bytes: [UInt8]
        /// Matched with ASCII letters folded; the text is all ASCII then, its letters lower case.
        public var caseInsensitive: Bool
        /// The needle ends with the string's closing quote: a hit followed by `:` is a key, not a value.
        public var endsValue: Bool
    }

    /// Per stage (one for an event query; every stage, missing ones and `until` included, for
    /// sequences and samples): groups of needles such that an event matching that stage contains,
    /// for each group, at least one of its needles. A stage with no groups constrains nothing.
    ///
    /// JSON may write the same text with `\u` escapes or `\/`, and two non-ASCII letters (`İ`,
    /// U+0130, and the Kelvin sign) fold to ASCII ones: a searcher treats events containing any of
    /// `escapeMarkers(for:)` as candidates whatever their needles.
    public static func stages(of statement: EQLStatement, eventCategoryField: String) -> [[[Needle]]] {
        func stage(_ f: EventFilter) -> [[Needle]] {
            var groups = required(f.condition)
            if let category = f.category, let n = needle(category, caseInsensitive: false, start: true, end: true) {
                groups.append([n])
            }
            return groups
        }
        switch statement.query {
        case .event(let f):
            return [stage(f)]
        case .sequence(let s):
            return (s.stages + (s.until.map { [$0] } ?? [])).map { stage($0.filter) }
        case .sample(let s):
            return s.stages.map { stage($0.filter) }
        }
    }

    /// Byte strings whose presence makes an event a candidate whatever `needles` (see `stages`):
    /// a `\u` escape always; `\/` when a needle holds a `/`; for case-insensitive needles, `İ`
    /// and the Kelvin sign, which lowercase to ASCII letters.
    public static func escapeMarkers(for needles: [Needle]) -> [[UInt8]] {
        var out = [Array(#"\u"#.utf8)]
        if needles.contains(where: { $0.bytes.contains(UInt8(ascii: "/")) }) { out.append(Array(#"\/"#.utf8)) }
        if needles.contains(where: \.caseInsensitive) { out += [[0xC4, 0xB0], [0xE2, 0x84, 0xAA]] }
        return out
    }

    /// Every field the statement reads, as written: conditions, join keys, `.keyword`'s parents.
    public static func fields(of statement: EQLStatement) -> Set<String> {
        var out = Set<String>()
        func visit(_ e: EQLExpr) {
            switch e {
            case .literal: break
            case .field(let name, _, _):
                out.insert(name)
                // A sub-field is indexed from its parent's value; only the parent is in the source.
                if let dot = name.lastIndex(of: "."), name[name.index(after: dot)...] == "keyword" {
                    out.insert(String(name[..<dot]))
                }
            case .not(let a, _), .negate(let a, _): visit(a)
            case .and(let a, let b), .or(let a, let b), .compare(_, let a, let b, _), .arithmetic(_, let a, let b, _):
                visit(a)
                visit(b)
            case .insensitiveMatch(let a, let l, _), .membership(let a, let l, _, _, _), .like(let a, let l, _, _),
                .regex(let a, let l, _, _):
                visit(a)
                l.forEach(visit)
            case .call(_, _, let args, _): args.forEach(visit)
            }
        }
        func visit(_ s: SequenceStage) {
            visit(s.filter.condition)
            s.keys.forEach(visit)
        }
        switch statement.query {
        case .event(let f): visit(f.condition)
        case .sequence(let s):
            s.keys.forEach(visit)
            (s.stages + (s.until.map { [$0] } ?? [])).forEach(visit)
        case .sample(let s):
            s.keys.forEach(visit)
            s.stages.forEach(visit)
        }
        return out
    }

    /// Needle groups that `e` being true implies (conjunctive: each group must be met).
    static func required(_ e: EQLExpr) -> [[Needle]] {
        switch e {
        case .and(let a, let b):
            return required(a) + required(b)
        case .or(let a, let b):
            // Either side may hold: one of the needles of a group from each side must be there.
            guard let x = strongest(required(a)), let y = strongest(required(b)) else { return [] }
            return [Array(Set(x).union(y))]
        case .compare(.eq, .field, .literal(.string(let s), _), _), .compare(.eq, .literal(.string(let s), _), .field, _):
            return needle(s, caseInsensitive: false, start: true, end: true).map { [[$0]] } ?? []
        case .insensitiveMatch(.field, let patterns, _):
            return group(patterns, wildcards: true, caseInsensitive: true)
        case .like(.field, let patterns, let insensitive, _):
            return group(patterns, wildcards: true, caseInsensitive: insensitive)
        case .membership(.field, let items, false, let insensitive, _):
            return group(items, wildcards: false, caseInsensitive: insensitive)
        case .call(let name, let insensitive, let args, _):
            let kind = name.lowercased()
            guard ["startswith", "endswith", "stringcontains"].contains(kind), args.count == 2,
                case .field = args[0], case .literal(.string(let s), _) = args[1],
                let n = needle(s, caseInsensitive: insensitive, start: kind == "startswith", end: kind == "endswith")
            else { return [] }
            return [[n]]
        default:
            return []
        }
    }

    /// One group with a needle per item, or none when some item yields no needle.
    private static func group(_ items: [EQLExpr], wildcards: Bool, caseInsensitive: Bool) -> [[Needle]] {
        var out: [Needle] = []
        for item in items {
            guard case .literal(.string(let s), _) = item else { return [] }
            guard wildcards else {
                guard let n = needle(s, caseInsensitive: caseInsensitive, start: true, end: true) else { return [] }
                out.append(n)
                continue
            }
            // The longest run of plain text between wildcards (and escapes).
            let chars = Array(s)
            var runs: [Needle] = []
            var i = 0
            while i < chars.count {
                var j = i
                while j < chars.count, chars[j] != "*", chars[j] != "?", chars[j] != "\\" { j += 1 }
                if j > i, let n = needle(String(chars[i..<j]), caseInsensitive: caseInsensitive, start: i == 0, end: j == chars.count) {
                    runs.append(n)
                }
                i = j + 1
            }
            guard let n = runs.max(by: { $0.bytes.count < $1.bytes.count }) else { return [] }
            out.append(n)
        }
        return out.isEmpty ? [] : [out]
    }

    /// The group whose shortest needle is longest: the likeliest to be rare.
    private static func strongest(_ groups: [[Needle]]) -> [Needle]? {
        groups.max { a, b in
            (a.map(\.bytes.count).min() ?? 0) < (b.map(\.bytes.count).min() ?? 0)
        }
    }

    /// The needle for text compared with a field, or nil when the field's JSON may spell it
    /// differently: numbers, dates, IP addresses (typed fields compare values, not text) and
    /// control characters. `start` and `end` say the text begins or ends the value, so the
    /// string's quote can be part of the needle (unless the value could be a JSON number or
    /// boolean, which a keyword field also takes). Case-insensitive needles keep only the
    /// longest ASCII run.
    static func needle(_ text: String, caseInsensitive: Bool, start: Bool, end: Bool) -> Needle? {
        var s = text
        var start = start
        var end = end
        if caseInsensitive, !s.allSatisfy(\.isASCII) {
            // Only ASCII folds by bytes: keep the longest ASCII run.
            let runs = s.split(whereSeparator: { !$0.isASCII })
            guard let longest = runs.max(by: { $0.utf8.count < $1.utf8.count }) else { return nil }
            start = start && longest.startIndex == s.startIndex
            end = end && longest.endIndex == s.endIndex
            s = String(longest)
        }
        guard s.utf8.count >= 2, let first = s.utf8.first, let last = s.utf8.last else { return nil }
        // Dates and epoch numbers start with a digit.
        if (0x30...0x39).contains(first) || Double(s) != nil || IPAddress(s) != nil {
            return nil
        }
        let lower = s.lowercased()
        // A keyword field also takes JSON booleans, which have no quotes.
        if start && ["true", "false"].contains(where: { $0.hasPrefix(lower) }) { start = false }
        if end && ["true", "false"].contains(where: { $0.hasSuffix(lower) }) { end = false }
        if first == UInt8(ascii: "-") { start = false }
        if (0x30...0x39).contains(last) { end = false }
        var bytes: [UInt8] = start ? [UInt8(ascii: "\"")] : []
        for b in s.utf8 {
            if b < 0x20 { return nil }
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
            let letter = (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z")
            bytes.append(caseInsensitive && letter ? b | 0x20 : b)
        }
        if end { bytes.append(UInt8(ascii: "\"")) }
        return Needle(bytes: bytes, caseInsensitive: caseInsensitive, endsValue: end)
    }
}
