public import VigilJSON

/// The `fields` option of searches: per hit, the values of the mapped fields a request names,
/// read from `_source` and typed by the mapping, as Elasticsearch's fields API returns them.
///
/// Patterns may use `*`. Multi-fields (`x.keyword`) and aliases are fields of their own; objects
/// are not. Values come back as arrays; a keyword value over `ignore_above` is left out, dates
/// are printed in UTC by the requested format or the mapping's (`DatePattern`: Elasticsearch's
/// built-in names and Java patterns).
public struct FieldFetcher: Sendable {
    public struct Request: Sendable, Equatable {
        public var pattern: String
        public var format: String?

        public init(pattern: String, format: String? = nil) {
            self.pattern = pattern
            self.format = format
        }

        /// Reads the `fields` array of a request body: names and `{"field": …, "format": …}` objects.
        public static func parse(_ value: JSONValue) -> [Request]? {
            guard case .array(let items) = value else { return nil }
            var out: [Request] = []
            for item in items {
                switch item {
                case .string(let s): out.append(Request(pattern: s))
                case .object(let o):
                    guard let field = o["field"]?.stringValue else { return nil }
                    out.append(Request(pattern: field, format: o["format"]?.stringValue))
                default: return nil
                }
            }
            return out
        }
    }

    struct Target: Sendable {
        var name: String
        var sourcePath: String
        var field: FieldMapping
        /// How dates print: the requested format, else the mapping's (ISO 8601 when neither parses).
        var pattern: DatePattern?
    }

    let targets: [Target]

    public init(_ requests: [Request], mapping: Mapping) {
        var out: [Target] = []
        for (path, field) in mapping.leaves {
            guard let request = requests.first(where: { Wildcard.matches($0.pattern, path) }) else { continue }
            var sourcePath = path
            var typed = field
            if field.type == .alias {
                sourcePath = mapping.resolvingAliases(path)
                guard let target = mapping.field(at: sourcePath), !target.isObject else { continue }
                typed = target
            } else if let dot = path.lastIndex(of: "."), let parent = mapping.field(at: String(path[..<dot])), !parent.isObject,
                parent.fields[String(path[path.index(after: dot)...])] != nil
            {
                // A multi-field is indexed from its parent's value.
                sourcePath = String(path[..<dot])
            }
            let format = request.format ?? typed.parameters["format"]?.stringValue
            out.append(Target(name: path, sourcePath: sourcePath, field: typed, pattern: format.flatMap { try? DatePattern($0) }))
        }
        targets = out
    }

    /// The fields of one document, by name; empty when it has none of them. `computed` gives
    /// the values of fields that are not read from the source (script runtime fields).
    public func fetch(_ source: JSONValue, computed: (String) -> [FieldValue]? = { _ in nil }) -> JSONObject {
        var out = JSONObject()
        for t in targets {
            if let given = computed(t.name) {
                let values = given.compactMap { FieldFetcher.json($0, t) }
                if !values.isEmpty { out[t.name] = .array(values) }
                continue
            }
            var values: [JSONValue] = []
            func add(_ v: JSONValue) {
                if case .array(let items) = v {
                    items.forEach(add)
                } else if let typed = try? DocumentMapper.convert(v, t.field, t.name, docID: ""), let json = FieldFetcher.json(typed, t) {
                    values.append(json)
                }
            }
            FieldPath.values(at: t.sourcePath, in: source).forEach(add)
            if !values.isEmpty { out[t.name] = .array(values) }
        }
        return out
    }

    static func json(_ v: FieldValue, _ t: Target) -> JSONValue? {
        switch v {
        case .string(let s): return .string(s)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .bool(let b): return .bool(b)
        case .ip(let ip): return .string(ip.description)
        case .date(let ms):
            return .string(t.pattern?.format(ms) ?? DateFormats.formatISO(ms))
        }
    }
}
