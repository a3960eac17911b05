/// GROK and DISSECT: new columns taken out of a text column.
enum ESQLGrok {
    /// The grok patterns Elastic's rules use (from the standard grok library), by name.
    static let library: [String: String] = [
        "INT": "(?:[+-]?(?:[0-9]+))",
        "POSINT": "\\b(?:[1-9][0-9]*)\\b",
        "NONNEGINT": "\\b(?:[0-9]+)\\b",
        "NUMBER": "(?:[+-]?(?:(?:[0-9]+(?:\\.[0-9]+)?)|(?:\\.[0-9]+)))",
        "BASE10NUM": "(?:[+-]?(?:(?:[0-9]+(?:\\.[0-9]+)?)|(?:\\.[0-9]+)))",
        "WORD": "\\b\\w+\\b",
        "NOTSPACE": "\\S+",
        "SPACE": "\\s*",
        "DATA": ".*?",
        "GREEDYDATA": ".*",
        "USERNAME": "[a-zA-Z0-9._-]+",
        "USER": "%{USERNAME}",
        "QUOTEDSTRING": "(?:\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*')",
        "IPV4": "(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])",
        "IPV6": "(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}",
        "IP": "(?:%{IPV6}|%{IPV4})",
        "HOSTNAME": "\\b(?:[0-9A-Za-z][0-9A-Za-z-]{0,62})(?:\\.(?:[0-9A-Za-z][0-9A-Za-z-]{0,62}))*(?:\\.?|\\b)",
        "IPORHOST": "(?:%{IP}|%{HOSTNAME})",
        "HOSTPORT": "%{IPORHOST}:%{POSINT}",
        "URIPROTO": "[A-Za-z](?:[A-Za-z0-9+\\-.]+)+",
        "URIHOST": "%{IPORHOST}(?::%{POSINT})?",
        "URIPATH": "(?:/[A-Za-z0-9$.+!*'(){},~:;=@#%&_\\-]*)+",
        "EMAILADDRESS": "[a-zA-Z0-9!#$%&'*+\\-/=?^_`{|}~]+(?:\\.[a-zA-Z0-9!#$%&'*+\\-/=?^_`{|}~]+)*@%{HOSTNAME}",
        "UUID": "[A-Fa-f0-9]{8}-(?:[A-Fa-f0-9]{4}-){3}[A-Fa-f0-9]{12}",
        "MAC": "(?:[A-Fa-f0-9]{2}[:-]){5}[A-Fa-f0-9]{2}",
    ]

    /// A compiled grok pattern: a regex whose groups are `g0`, `g1`, … and what each becomes.
    struct Pattern {
        var regex: String
        var columns: [(group: String, name: String, type: String?)]
    }

    static func compile(_ grok: String) throws(ESQLRunError) -> Pattern {
        var columns: [(String, String, String?)] = []
        func expand(_ text: String, depth: Int) throws(ESQLRunError) -> String {
            if depth > 10 { throw ESQLRunError("grok pattern nests too deep") }
            var out = ""
            var i = text.startIndex
            while i < text.endIndex {
                if text[i...].hasPrefix("%{"), let close = text[i...].firstIndex(of: "}") {
                    let spec = text[text.index(i, offsetBy: 2)..<close].split(separator: ":", maxSplits: 2).map(String.init)
                    guard let syntax = spec.first, let body = library[syntax] else {
                        throw ESQLRunError("Unable to find pattern [\(spec.first ?? "")] in Grok's pattern dictionary")
                    }
                    let inner = try expand(body, depth: depth + 1)
                    if spec.count > 1 {
                        let group = "g\(columns.count)"
                        columns.append((group, spec[1], spec.count > 2 ? spec[2] : nil))
                        out += "(?<\(group)>\(inner))"
                    } else {
                        out += "(?:\(inner))"
                    }
                    i = text.index(after: close)
                } else if depth == 0, text[i...].hasPrefix("(?<"), let close = text[i...].firstIndex(of: ">"),
                          !text[text.index(i, offsetBy: 3)...].hasPrefix("="), !text[text.index(i, offsetBy: 3)...].hasPrefix("!") {
                    // A named group of the raw regex: names may hold dots, regex names may not.
                    let name = String(text[text.index(i, offsetBy: 3)..<close])
                    let group = "g\(columns.count)"
                    columns.append((group, name, nil))
                    out += "(?<\(group)>"
                    i = text.index(after: close)
                } else {
                    out.append(text[i])
                    i = text.index(after: i)
                }
            }
            return out
        }
        let regex = try expand(grok, depth: 0)
        return Pattern(regex: regex, columns: columns)
    }

    /// The values of the pattern's columns in `text` (nil when it does not match).
    static func match(_ p: Pattern, _ regex: Regex<AnyRegexOutput>, _ text: String) -> [ESQLValue]? {
        guard let m = try? regex.firstMatch(in: text) else { return nil }
        return p.columns.map { c in
            guard let sub = m.output[c.group]?.substring else { return .null }
            let s = String(sub)
            switch c.type {
            case "int", "long": return Int64(s).map { .int($0) } ?? .null
            case "float", "double": return Double(s).map { .double($0) } ?? .null
            default: return .string(s)
            }
        }
    }

    /// A dissect pattern: literal delimiters between `%{key}`s (`%{}` and `%{?key}` skip a part).
    static func dissect(_ pattern: String, _ text: String) -> [(String, String)]? {
        var keys: [String] = [], delimiters: [String] = []
        var rest = Substring(pattern)
        var leading = ""
        while let open = rest.range(of: "%{") {
            let literal = String(rest[..<open.lowerBound])
            if keys.isEmpty { leading = literal } else { delimiters.append(literal) }
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { return nil }
            keys.append(String(rest[open.upperBound..<close]))
            rest = rest[rest.index(after: close)...]
        }
        let trailing = String(rest)
        var s = Substring(text)
        guard s.hasPrefix(leading) else { return nil }
        s = s.dropFirst(leading.count)
        var out: [(String, String)] = []
        for (k, key) in keys.enumerated() {
            let value: Substring
            if k < delimiters.count {
                let d = delimiters[k]
                guard !d.isEmpty, let r = s.range(of: d) else { return nil }
                value = s[..<r.lowerBound]
                s = s[r.upperBound...]
            } else {
                guard trailing.isEmpty || s.hasSuffix(trailing) else { return nil }
                value = s.dropLast(trailing.count)
            }
            var name = key.hasSuffix("->") ? String(key.dropLast(2)) : key
            if name.isEmpty || name.hasPrefix("?") { continue }
            if name.hasPrefix("+") { name.removeFirst() }
            out.append((name, String(value)))
        }
        return out
    }
}
