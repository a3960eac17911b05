public import VigilJSON

/// One field of a mapping: a leaf with a type, or an object with properties.
public struct FieldMapping: Sendable, Equatable {
    public var type: FieldType
    /// Children of an `object` or `nested` field.
    public var properties: [String: FieldMapping]
    /// Multi-fields such as `keyword` under a `text` field.
    public var fields: [String: FieldMapping]
    /// Other parameters, kept as given (`format`, `ignore_above`, `null_value`, `path`, …).
    public var parameters: JSONObject
    /// Whether this object was declared with an explicit `"type": "object"`.
    public var explicitObjectType: Bool = false

    public init(type: FieldType, properties: [String: FieldMapping] = [:], fields: [String: FieldMapping] = [:], parameters: JSONObject = JSONObject()) {
        self.type = type
        self.properties = properties
        self.fields = fields
        self.parameters = parameters
    }

    public var isObject: Bool { type == .object || type == .nested }

    public var ignoreAbove: Int? { parameters["ignore_above"]?.int64Value.map { Int($0) } }
    public var nullValue: JSONValue? { parameters["null_value"] }
    public var aliasPath: String? { parameters["path"]?.stringValue }
    public var dynamic: String? {
        switch parameters["dynamic"] {
        case .bool(let b)?: return b ? "true" : "false"
        case .string(let s)?: return s
        default: return nil
        }
    }

    static let knownLeafParameters: Set<String> = [
        "format", "ignore_above", "null_value", "path", "index", "doc_values", "store", "coerce", "ignore_malformed",
        "norms", "analyzer", "search_analyzer", "normalizer", "copy_to", "boost", "meta", "scaling_factor",
        "time_series_dimension", "time_series_metric", "eager_global_ordinals", "index_options", "similarity",
        "split_queries_on_whitespace", "value", "locale", "on_script_error", "script", "fielddata", "term_vector",
        "position_increment_gap", "index_prefixes", "index_phrases", "search_quote_analyzer", "synthetic_source_keep",
        "ignore_z_value", "null_value", "depth_limit", "dimension", "similarity",
    ]

    /// Reads one field definition from a mapping body; dotted names have been expanded by the caller.
    static func parse(name: String, _ value: JSONValue, path: String) throws(StoreError) -> FieldMapping {
        guard case .object(let o) = value else {
            throw StoreError(.mapperParsing, "Expected map for property [fields] on field [\(name)] but got a class java.lang.String")
        }
        var typeName = o["type"]?.stringValue
        if typeName == nil && o["properties"] != nil { typeName = "object" }
        let typeString = typeName ?? "object"
        guard let type = FieldType(rawValue: typeString) else {
            throw StoreError(.mapperParsing, "No handler for type [\(typeString)] declared on field [\(name)]")
        }
        var field = FieldMapping(type: type)
        field.explicitObjectType = o["type"] != nil && type == .object
        for e in o.entries {
            switch e.key {
            case "type": continue
            case "properties":
                guard type.storage == .none || type == .object || type == .nested else {
                    throw StoreError(.mapperParsing, "unknown parameter [properties] on mapper [\(name)] of type [\(type.rawValue)]")
                }
                guard case .object(let props) = e.value else {
                    throw StoreError(.mapperParsing, "Expected map for property [properties] on field [\(name)]")
                }
                field.properties = try Mapping.parseProperties(props, prefix: path)
            case "fields":
                guard case .object(let sub) = e.value else {
                    throw StoreError(.mapperParsing, "Expected map for property [fields] on field [\(name)]")
                }
                for s in sub.entries {
                    field.fields[s.key] = try FieldMapping.parse(name: s.key, s.value, path: path + "." + s.key)
                }
            default:
                if type == .object || type == .nested {
                    if ["dynamic", "enabled", "subobjects", "include_in_parent", "include_in_root"].contains(e.key) {
                        field.parameters[e.key] = e.value
                        continue
                    }
                    throw StoreError(.mapperParsing, "unknown parameter [\(e.key)] on mapper [\(name)] of type [object]")
                }
                guard knownLeafParameters.contains(e.key) else {
                    throw StoreError(.mapperParsing, "unknown parameter [\(e.key)] on mapper [\(name)] of type [\(type.rawValue)]")
                }
                field.parameters[e.key] = e.value
            }
        }
        if type == .alias && field.aliasPath == nil {
            throw StoreError(.mapperParsing, "The [path] property must be specified for field [\(name)].")
        }
        if type == .date || type == .dateNanos, let f = field.parameters["format"]?.stringValue {
            try DateFormatSpec.validate(f, field: name)
        }
        return field
    }

    /// The field as `GET _mapping` shows it.
    public var json: JSONValue {
        var o = JSONObject()
        if type != .object || explicitObjectType { o["type"] = .string(type.rawValue) }
        for e in parameters.entries.sorted(by: { $0.key < $1.key }) { o[e.key] = e.value }
        if !fields.isEmpty {
            var f = JSONObject()
            for k in fields.keys.sorted() { f[k] = fields[k]!.json }
            o["fields"] = .object(f)
        }
        if isObject && !properties.isEmpty {
            o["properties"] = Mapping.propertiesJSON(properties)
        }
        return .object(o)
    }

    /// Whether `other` (from a later put) may replace this definition.
    func checkCompatible(with other: FieldMapping, path: String) throws(StoreError) {
        if type != other.type {
            if isObject && other.isObject { return }
            throw StoreError(.illegalArgument, "mapper [\(path)] cannot be changed from type [\(type.rawValue)] to [\(other.type.rawValue)]")
        }
    }
}

/// The date formats Vigil accepts on `date` fields.
enum DateFormatSpec {
    static let supported: Set<String> = [
        "strict_date_optional_time", "date_optional_time", "epoch_millis", "epoch_second",
        "strict_date_optional_time_nanos", "strict_date_time", "date_time", "strict_date", "date",
        "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd", "yyyy/MM/dd HH:mm:ss||yyyy/MM/dd||epoch_millis", "yyyy/MM/dd HH:mm:ss Z", "yyyy/MM/dd Z", "yyyy/MM/dd HH:mm:ss", "yyyy/MM/dd",
        "strict_date_time_no_millis", "date_time_no_millis", "basic_date_time", "iso8601",
    ]

    static func validate(_ format: String, field: String) throws(StoreError) {
        for part in format.split(separator: "||") where !supported.contains(String(part)) {
            throw StoreError(.mapperParsing, "Invalid format: [\(format)]: Unknown pattern letter or unsupported format [\(part)] on field [\(field)]")
        }
    }

    /// Parses a date value under a field's format list.
    static func parse(_ s: String, format: String?) -> Int64? {
        guard let format else { return DateFormats.parse(s) }
        for part in format.split(separator: "||") {
            switch part {
            case "epoch_millis":
                if let v = DateFormats.parseEpochMillis(s) { return v }
            case "epoch_second":
                if let v = DateFormats.parseEpochMillis(s) { return v * 1000 }
            case "yyyy-MM-dd HH:mm:ss", "yyyy/MM/dd HH:mm:ss", "yyyy/MM/dd", "yyyy/MM/dd HH:mm:ss Z", "yyyy/MM/dd Z":
                let normalized = s.replacingOccurrences(of: "/", with: "-").replacingOccurrences(of: " ", with: "T")
                if let v = DateFormats.parseISO(normalized) { return v }
            default:
                if let v = DateFormats.parseISO(s) { return v }
            }
        }
        return nil
    }
}

extension String {
    func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: a, omittingEmptySubsequences: false).joined(separator: b)
    }
}
