public import VigilJSON

/// An index mapping: the field tree plus a flat index of every field path.
public struct Mapping: Sendable, Equatable {
    public var properties: [String: FieldMapping] = [:]
    /// `true`, `false`, `strict` or `runtime`.
    public var dynamic: String = "true"
    /// Top-level entries kept verbatim (`_source`, `_meta`, `dynamic_templates`, `date_detection`, …).
    public var extras: JSONObject = JSONObject()
    /// `dynamic_templates`, parsed from `extras` whenever they change.
    public private(set) var dynamicTemplates: [DynamicTemplate] = []
    /// `date_detection` (on by default) and `numeric_detection` (off by default).
    public var dateDetection: Bool { extras["date_detection"]?.boolValue ?? (extras["date_detection"]?.stringValue != "false") }
    public var numericDetection: Bool { extras["numeric_detection"]?.boolValue ?? (extras["numeric_detection"]?.stringValue == "true") }

    public init() {}

    public static let depthLimit = 20
    public static let totalFieldsLimit = 1000
    /// `index.mapping.total_fields.limit` of the index the mapping belongs to (not stored with it).
    public var fieldsLimit = Mapping.totalFieldsLimit

    /// Parses a `mappings` body, as given to index creation, templates or `_mapping`.
    public init(json: JSONValue) throws(StoreError) {
        guard case .object(let o) = json else {
            throw StoreError(.mapperParsing, "Failed to parse mapping: mapping must be an object")
        }
        var body = o
        // Typeless `{"_doc": {...}}` bodies of older clients.
        if body.count == 1, let only = body.entries.first, only.key == "_doc", case .object(let inner) = only.value {
            body = inner
        }
        for e in body.entries {
            switch e.key {
            case "properties":
                guard case .object(let props) = e.value else {
                    throw StoreError(.mapperParsing, "Failed to parse mapping: [properties] must be an object")
                }
                properties = try Mapping.parseProperties(props, prefix: "")
            case "dynamic":
                switch e.value {
                case .bool(let b): dynamic = b ? "true" : "false"
                case .string(let s) where ["true", "false", "strict", "runtime"].contains(s): dynamic = s
                default: throw StoreError(.mapperParsing, "Failed to parse mapping: Could not convert [dynamic] to a boolean or a known mode")
                }
            case "_source", "_meta", "dynamic_templates", "date_detection", "numeric_detection", "_routing",
                "runtime", "dynamic_date_formats", "_data_stream_timestamp", "subobjects", "enabled":
                extras[e.key] = e.value
            default:
                throw StoreError(.mapperParsing, "Failed to parse mapping: Root mapping definition has unsupported parameters:  [\(e.key) : \(e.value.jsonString)]")
            }
        }
        dynamicTemplates = try DynamicTemplate.parse(extras["dynamic_templates"])
        if let formats = extras["dynamic_date_formats"] {
            throw StoreError(.mapperParsing, "[dynamic_date_formats] \(formats.jsonString) is not supported by Vigil yet: dynamic dates use strict_date_optional_time")
        }
        // The field count is checked where the index's limit is known (creation, `_mapping`).
        try checkLimits(countFields: false)
        try checkAliases()
    }

    static func parseProperties(_ props: JSONObject, prefix: String) throws(StoreError) -> [String: FieldMapping] {
        var out: [String: FieldMapping] = [:]
        for e in props.entries {
            guard !e.key.isEmpty else { throw StoreError(.mapperParsing, "field name cannot be an empty string") }
            // `"a.b": {...}` means `"a": {"properties": {"b": {...}}}`.
            let parts = e.key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if parts.contains(where: \.isEmpty) {
                throw StoreError(.mapperParsing, "field name cannot contain only whitespace or dots: [\(e.key)]")
            }
            let path = prefix.isEmpty ? e.key : prefix + "." + e.key
            var field = try FieldMapping.parse(name: parts.last!, e.value, path: path)
            for i in stride(from: parts.count - 2, through: 0, by: -1) {
                field = FieldMapping(type: .object, properties: [parts[i + 1]: field])
            }
            let head = parts[0]
            if let existing = out[head], existing.isObject, field.isObject {
                out[head] = Mapping.mergeObjects(existing, field)
            } else {
                out[head] = field
            }
        }
        return out
    }

    static func mergeObjects(_ a: FieldMapping, _ b: FieldMapping) -> FieldMapping {
        var merged = a
        for (k, v) in b.properties {
            if let old = merged.properties[k], old.isObject, v.isObject {
                merged.properties[k] = mergeObjects(old, v)
            } else {
                merged.properties[k] = v
            }
        }
        for e in b.parameters.entries { merged.parameters[e.key] = e.value }
        return merged
    }

    static func propertiesJSON(_ props: [String: FieldMapping]) -> JSONValue {
        var o = JSONObject()
        for k in props.keys.sorted() { o[k] = props[k]!.json }
        return .object(o)
    }

    /// The mapping as `GET _mapping` shows it.
    public var json: JSONValue {
        var o = JSONObject()
        if dynamic != "true" { o["dynamic"] = .string(dynamic) }
        for e in extras.entries { o[e.key] = e.value }
        if !properties.isEmpty { o["properties"] = Mapping.propertiesJSON(properties) }
        return .object(o)
    }

    /// Merges a later mapping into this one (`PUT _mapping`, templates); new fields are added,
    /// existing ones may not change type.
    public mutating func merge(_ other: Mapping) throws(StoreError) {
        var merged = properties
        try Mapping.mergeProperties(into: &merged, other.properties, prefix: "")
        properties = merged
        if other.dynamic != "true" { dynamic = other.dynamic }
        for e in other.extras.entries { extras[e.key] = e.value }
        dynamicTemplates = try DynamicTemplate.parse(extras["dynamic_templates"])
        try checkLimits()
        try checkAliases()
    }

    static func mergeProperties(into target: inout [String: FieldMapping], _ add: [String: FieldMapping], prefix: String) throws(StoreError) {
        for (k, v) in add {
            let path = prefix.isEmpty ? k : prefix + "." + k
            guard var old = target[k] else {
                target[k] = v
                continue
            }
            try old.checkCompatible(with: v, path: path)
            if old.isObject {
                var props = old.properties
                try mergeProperties(into: &props, v.properties, prefix: path)
                old.properties = props
                for e in v.parameters.entries { old.parameters[e.key] = e.value }
                target[k] = old
            } else {
                var merged = v
                for (fk, fv) in old.fields where merged.fields[fk] == nil { merged.fields[fk] = fv }
                target[k] = merged
            }
        }
    }

    /// An alias must point at an existing concrete field.
    func checkAliases() throws(StoreError) {
        for (path, field) in leaves where field.type == .alias {
            let target = field.aliasPath ?? ""
            guard let t = self.field(at: target), !t.isObject, t.type != .alias else {
                throw StoreError(.mapperParsing, "Invalid [path] value [\(target)] for field alias [\(path)]: an alias must refer to an existing field in the mappings.")
            }
        }
    }

    func checkLimits(countFields: Bool = true) throws(StoreError) {
        var count = 0
        func walk(_ props: [String: FieldMapping], _ depth: Int, _ prefix: String) throws(StoreError) {
            for (k, v) in props {
                count += 1 + v.fields.count
                if v.isObject {
                    if depth + 1 > Mapping.depthLimit {
                        throw StoreError(.illegalArgument, "Limit of mapping depth [\(Mapping.depthLimit)] has been exceeded due to object field [\(prefix)\(k)]")
                    }
                    try walk(v.properties, depth + 1, prefix + k + ".")
                }
            }
        }
        try walk(properties, 1, "")
        if countFields && count > fieldsLimit {
            throw StoreError(.illegalArgument, "Limit of total fields [\(fieldsLimit)] has been exceeded")
        }
    }

    /// A path with aliases followed to the field they name (at most 8 hops).
    public func resolvingAliases(_ path: String) -> String {
        var p = path
        var hops = 0
        while let m = field(at: p), m.type == .alias, let target = m.aliasPath, hops < 8 {
            p = target
            hops += 1
        }
        return p
    }

    /// The field at a dotted path, following object properties and multi-fields.
    public func field(at path: String) -> FieldMapping? {
        var props = properties
        var current: FieldMapping?
        var parts = path.split(separator: ".", omittingEmptySubsequences: false)[...]
        while let part = parts.first {
            parts = parts.dropFirst()
            let key = String(part)
            if let f = props[key] {
                current = f
                props = f.properties
            } else if let c = current, let sub = c.fields[key], parts.isEmpty {
                return sub
            } else {
                return nil
            }
        }
        return current
    }

    /// The fields of several indices seen as one (a search over a pattern): each path as the
    /// first mapping that has it defines it. Unlike `merge`, conflicts are not errors.
    public static func union(_ mappings: [Mapping]) -> Mapping {
        var out = mappings.first ?? Mapping()
        for m in mappings.dropFirst() {
            for (path, f) in m.leaves where out.field(at: path) == nil {
                let parts = path.split(separator: ".").map(String.init)
                // Multi-fields are reached through their parent and are inserted with it.
                if parts.count > 1, let parent = out.field(at: parts.dropLast().joined(separator: ".")), !parent.isObject { continue }
                out.insert(f, at: parts)
            }
        }
        return out
    }

    /// Every leaf field (including multi-fields and aliases) by full dotted path.
    public var leaves: [(path: String, field: FieldMapping)] {
        var out: [(String, FieldMapping)] = []
        func walk(_ props: [String: FieldMapping], _ prefix: String) {
            for k in props.keys.sorted() {
                let f = props[k]!
                let path = prefix + k
                if f.isObject {
                    walk(f.properties, path + ".")
                } else {
                    out.append((path, f))
                    for sk in f.fields.keys.sorted() { out.append((path + "." + sk, f.fields[sk]!)) }
                }
            }
        }
        walk(properties, "")
        return out
    }

    /// Inserts a dynamically inferred leaf or object at a dotted path whose parents exist as objects.
    /// Puts a field of `type` at `path`, replacing what was there (runtime fields shadow mapped ones).
    public mutating func setField(_ path: String, type: FieldType) {
        insert(FieldMapping(type: type), at: path.split(separator: ".").map(String.init))
    }

    package mutating func insert(_ field: FieldMapping, at path: [String]) {
        func put(_ props: inout [String: FieldMapping], _ i: Int) {
            let key = path[i]
            if i == path.count - 1 {
                props[key] = field
                return
            }
            var child = props[key] ?? FieldMapping(type: .object)
            put(&child.properties, i + 1)
            props[key] = child
        }
        put(&properties, 0)
    }
}
