import VigilJSON
import VigilStore

/// Elasticsearch's `filter_path`: comma-separated dotted paths with `*` and `**` wildcards;
/// paths starting with `-` exclude.
struct FilterPath {
    var includes: [[String]] = []
    var excludes: [[String]] = []

    init?(_ spec: String?) {
        guard let spec, !spec.isEmpty else { return nil }
        for raw in spec.split(separator: ",") {
            let p = String(raw).trimmingSpaces
            if p.isEmpty { continue }
            if p.hasPrefix("-") {
                excludes.append(p.dropFirst().split(separator: ".").map(String.init))
            } else {
                includes.append(p.split(separator: ".").map(String.init))
            }
        }
        if includes.isEmpty && excludes.isEmpty { return nil }
    }

    func apply(_ value: JSONValue) -> JSONValue {
        var v = value
        if !includes.isEmpty { v = FilterPath.keep(v, includes.map { $0[...] }) ?? .object(JSONObject()) }
        if !excludes.isEmpty { v = FilterPath.drop(v, excludes.map { $0[...] }) ?? .object(JSONObject()) }
        return v
    }

    static func segmentMatches(_ pattern: String, _ key: String) -> Bool {
        pattern == "*" || (pattern.contains("*") ? wildcard(pattern, key) : pattern == key)
    }

    static func wildcard(_ pattern: String, _ text: String) -> Bool { Wildcard.matches(pattern, text) }

    /// The patterns that apply below `key`, and whether one of them ends at `key` (keep it whole).
    /// A key with dots (`"kibana.alert.uuid": …`) is the path of its parts, as Elasticsearch reads it.
    static func advance(_ patterns: [ArraySlice<String>], _ key: String) -> (rest: [ArraySlice<String>], whole: Bool) {
        guard key.contains("."), !patterns.isEmpty else { return advanceOne(patterns, key) }
        var current = patterns
        for part in key.split(separator: ".", omittingEmptySubsequences: false) {
            let (rest, whole) = advanceOne(current, String(part))
            if whole { return ([], true) }
            if rest.isEmpty { return ([], false) }
            current = rest
        }
        return (current, false)
    }

    static func advanceOne(_ patterns: [ArraySlice<String>], _ key: String) -> (rest: [ArraySlice<String>], whole: Bool) {
        var rest: [ArraySlice<String>] = []
        var whole = false
        for p in patterns {
            guard let head = p.first else { continue }
            if head == "**" {
                // `**` matches zero or more levels.
                let after = p.dropFirst()
                if after.isEmpty {
                    whole = true
                    continue
                }
                rest.append(p)
                let (r, w) = advanceOne([after], key)
                rest.append(contentsOf: r)
                whole = whole || w
            } else if segmentMatches(head, key) {
                let after = p.dropFirst()
                if after.isEmpty { whole = true } else { rest.append(after) }
            }
        }
        return (rest, whole)
    }

    static func keep(_ value: JSONValue, _ patterns: [ArraySlice<String>]) -> JSONValue? {
        switch value {
        case .object(let o):
            var out = JSONObject()
            for e in o.entries {
                let (rest, whole) = advance(patterns, e.key)
                if whole {
                    out.entries.append(e)
                } else if !rest.isEmpty, let kept = keep(e.value, rest) {
                    out.entries.append(JSONObject.Entry(key: e.key, value: kept))
                }
            }
            return out.isEmpty ? nil : .object(out)
        case .array(let items):
            let kept = items.compactMap { keep($0, patterns) }
            return kept.isEmpty ? nil : .array(kept)
        default:
            return nil
        }
    }

    static func drop(_ value: JSONValue, _ patterns: [ArraySlice<String>]) -> JSONValue? {
        switch value {
        case .object(let o):
            var out = JSONObject()
            for e in o.entries {
                let (rest, whole) = advance(patterns, e.key)
                if whole { continue }
                if rest.isEmpty {
                    out.entries.append(e)
                } else if let kept = drop(e.value, rest) {
                    out.entries.append(JSONObject.Entry(key: e.key, value: kept))
                }
            }
            return .object(out)
        case .array(let items):
            return .array(items.compactMap { drop($0, patterns) })
        default:
            return value
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
