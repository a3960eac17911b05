public import VigilJSON

/// A composable index template (`PUT _index_template/NAME`).
public struct IndexTemplate: Sendable, Equatable {
    public var name: String
    public var patterns: [String]
    public var priority: Int64
    public var dataStream: Bool
    public var mapping: Mapping?
    public var settings: IndexSettings
    /// The body as given, returned by `GET _index_template`.
    public var body: JSONObject

    public init(name: String, body: JSONObject) throws(StoreError) {
        self.name = name
        self.body = body
        for e in body.entries {
            switch e.key {
            case "index_patterns", "template", "priority", "data_stream", "composed_of", "version", "_meta",
                "allow_auto_create", "ignore_missing_component_templates", "deprecated":
                continue
            default:
                throw StoreError(.parsing, "[index_template] unknown field [\(e.key)]").withType("x_content_parse_exception")
            }
        }
        switch body["index_patterns"] {
        case .string(let s)?: patterns = s.split(separator: ",").map { String($0).trimmed }
        case .array(let a)?: patterns = a.compactMap(\.stringValue)
        default: throw StoreError(.illegalArgument, "index patterns are missing")
        }
        guard !patterns.isEmpty else { throw StoreError(.illegalArgument, "index patterns are missing") }
        priority = body["priority"]?.int64Value ?? 0
        guard priority >= 0 else { throw StoreError(.illegalArgument, "index template priority must be >= 0") }
        dataStream = body["data_stream"].map { if case .object = $0 { return true } else { return false } } ?? false
        if let components = body["composed_of"]?.arrayValue, !components.isEmpty, body["ignore_missing_component_templates"] == nil {
            let names = components.compactMap(\.stringValue)
            throw StoreError(.illegalArgument, "index template [\(name)] specifies component templates \(names) that do not exist")
        }
        let template = body["template"]?.objectValue
        if let aliases = template?["aliases"], aliases.objectValue?.isEmpty != true {
            throw StoreError(.illegalArgument, "[aliases] in index templates are not supported by Vigil yet: remove them from [template]")
        }
        mapping = try template?["mappings"].map { (v) throws(StoreError) -> Mapping in try Mapping(json: v) }
        settings = try IndexSettings(json: template?["settings"])
    }

    public func matches(_ index: String) -> Bool {
        patterns.contains { Wildcard.matches($0, index) }
    }
}

/// A data stream: a name, its backing indices (the last is the write index), and its template.
public struct DataStream: Sendable, Equatable {
    public var name: String
    public var template: String
    public var indices: [String]
    public var generation: Int

    public var writeIndex: String { indices.last! }

    static func backingIndexName(_ stream: String, generation: Int, millis: Int64) -> String {
        ".ds-\(stream)-\(DateFormats.formatDotted(millis))-\(String(format6: generation))"
    }

    var json: JSONValue {
        .object([
            "name": .string(name), "template": .string(template),
            "indices": .array(indices.map { .string($0) }), "generation": .int(Int64(generation)),
        ])
    }

    init(name: String, template: String, indices: [String], generation: Int) {
        self.name = name
        self.template = template
        self.indices = indices
        self.generation = generation
    }

    init?(json: JSONValue) {
        guard let name = json["name"]?.stringValue, let indices = json["indices"]?.arrayValue?.compactMap(\.stringValue), !indices.isEmpty else { return nil }
        self.name = name
        template = json["template"]?.stringValue ?? ""
        self.indices = indices
        generation = Int(json["generation"]?.int64Value ?? 1)
    }
}

/// Elasticsearch's simple wildcard: `*` matches any run of characters.
public enum Wildcard {
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        if !pattern.contains("*") { return pattern == text }
        return matches(Array(text.utf8), Array(pattern.utf8), star: UInt8(ascii: "*"), single: nil)
    }

    /// Wildcard matching over any elements: `star` matches any run, `single` (when given) any
    /// one element. Iterative with one backtrack point, so never exponential.
    package static func matches<T: Equatable>(_ t: [T], _ p: [T], star: T, single: T?) -> Bool {
        matches(t, p, star: star, single: single, equal: ==)
    }

    /// The same over any indexable collections, with the element equality given (a case
    /// fold, say). Inlinable, so each caller gets a loop specialized to its elements.
    @inlinable
    package static func matches<C: RandomAccessCollection>(_ t: C, _ p: C, star: C.Element, single: C.Element?, equal: (C.Element, C.Element) -> Bool) -> Bool
    where C.Index == Int, C.Element: Equatable {
        var ti = 0, pi = 0, starAt = -1, mark = 0
        while ti < t.count {
            if pi < p.count && p[pi] != star && (equal(p[pi], t[ti]) || (single != nil && p[pi] == single!)) {
                ti += 1
                pi += 1
            } else if pi < p.count && p[pi] == star {
                starAt = pi
                mark = ti
                pi += 1
            } else if starAt >= 0 {
                pi = starAt + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == star { pi += 1 }
        return pi == p.count
    }
}

extension String {
    package var trimmed: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s = s.dropFirst() }
        while s.last?.isWhitespace == true { s = s.dropLast() }
        return String(s)
    }
}
