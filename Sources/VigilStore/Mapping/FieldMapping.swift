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
                // Accepting an analyzer Vigil does not run would answer every text query wrongly.
                if ["analyzer", "search_analyzer", "search_quote_analyzer"].contains(e.key), e.value.stringValue != "standard" {
                    throw StoreError(.mapperParsing,
                        "[\(e.key)] [\(e.value.stringValue ?? e.value.jsonString)] on field [\(name)] is not supported by Vigil yet: text fields are analyzed with the standard analyzer only")
                }
                if e.key == "fielddata", e.value.boolValue == true {
                    throw StoreError(.mapperParsing, "[fielddata] on field [\(name)] is not supported by Vigil yet: aggregate and sort on a keyword field")
                }
                if e.key == "normalizer" {
                    throw StoreError(.mapperParsing, "[normalizer] on field [\(name)] is not supported by Vigil yet: keyword values are kept as written")
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
        for part in format.split(separator: "||") where !supported.contains(String(part)) && pattern(String(part)) == nil {
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
                if !supported.contains(String(part)), let fields = pattern(String(part)) {
                    if let v = parse(s, fields) { return v }
                } else if let v = DateFormats.parseISO(s) {
                    return v
                }
            }
        }
        return nil
    }

    /// One element of a Java-style date pattern (`dd-MM-yyyy`): a run of one letter, or literal text.
    enum PatternPart: Equatable {
        case field(Character, Int)
        case literal(String)
    }

    /// The parts of a custom pattern, or nil when it uses letters Vigil does not read.
    static func pattern(_ p: String) -> [PatternPart]? {
        var parts: [PatternPart] = []
        var chars = Array(p)[...]
        while let c = chars.first {
            if c == "'" {
                chars = chars.dropFirst()
                var lit = ""
                while let d = chars.first, d != "'" {
                    lit.append(d)
                    chars = chars.dropFirst()
                }
                chars = chars.dropFirst()
                parts.append(.literal(lit))
            } else if c.isLetter {
                guard "yuMdHhmsSa".contains(c) else { return nil }
                var n = 0
                while chars.first == c {
                    n += 1
                    chars = chars.dropFirst()
                }
                parts.append(.field(c, n))
            } else {
                parts.append(.literal(String(c)))
                chars = chars.dropFirst()
            }
        }
        return parts.contains { if case .field = $0 { true } else { false } } ? parts : nil
    }

    static func parse(_ s: String, _ parts: [PatternPart]) -> Int64? {
        var text = Array(s.utf8)[...]
        var year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, millis = 0
        var pm: Bool?
        for (k, part) in parts.enumerated() {
            switch part {
            case .literal(let l):
                let u = Array(l.utf8)
                guard text.starts(with: u) else { return nil }
                text = text.dropFirst(u.count)
            case .field(let c, let n):
                if c == "a" {
                    let word = String(decoding: text.prefix(2), as: UTF8.self).uppercased()
                    guard word == "AM" || word == "PM" else { return nil }
                    pm = word == "PM"
                    text = text.dropFirst(2)
                    continue
                }
                // A field followed directly by another field reads exactly its width.
                let adjacent = k + 1 < parts.count && { if case .field = parts[k + 1] { true } else { false } }()
                var digits = 0
                var v = 0
                while let d = text.first, d >= 0x30, d <= 0x39, !(adjacent && digits == n) {
                    // Nine digits at most per field: more is no date, and would overflow.
                    guard digits < 9 else { return nil }
                    v = v * 10 + Int(d - 0x30)
                    digits += 1
                    text = text.dropFirst()
                }
                guard digits > 0 else { return nil }
                switch c {
                case "y", "u": year = n == 2 && digits == 2 ? 2000 + v : v
                case "M": month = v
                case "d": day = v
                case "H", "h": hour = v
                case "m": minute = v
                case "s": second = v
                case "S":
                    var ms = v
                    var width = digits
                    while width > 3 { ms /= 10; width -= 1 }
                    while width < 3 { ms *= 10; width += 1 }
                    millis = ms
                default: return nil
                }
            }
        }
        // Epoch milliseconds in an Int64 reach about 292 million years either side.
        guard text.isEmpty, (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60,
              (-292_000_000...292_000_000).contains(year) else { return nil }
        if let pm, hour <= 12 { hour = hour % 12 + (pm ? 12 : 0) }
        return DateFormats.epochMillis(year: year, month: month, day: day, hour: hour, minute: minute, second: second, millis: millis)
    }
}

extension String {
    package func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: a, omittingEmptySubsequences: false).joined(separator: b)
    }
}
