public import VigilJSON

/// One entry of a mapping's `dynamic_templates`: how a new field whose name, path and detected
/// JSON type match is mapped, in place of Elasticsearch's default dynamic mapping. The first
/// template that matches wins, as in Elasticsearch.
///
/// Applied to new leaf fields (strings, numbers, booleans, dates). Templates that would map
/// objects (`match_mapping_type: object`), `match_pattern: regex` and `runtime` templates are
/// refused when the mapping is written, never stored unapplied.
public struct DynamicTemplate: Sendable, Equatable {
    public var name: String
    /// Detected types (`string`, `long`, `double`, `boolean`, `date`, `binary`); empty for any.
    var matchMappingType: [String] = []
    var unmatchMappingType: [String] = []
    /// Patterns with `*` wildcards on the leaf name (`match`) and on the dotted path (`path_match`).
    var match: [String] = []
    var unmatch: [String] = []
    var pathMatch: [String] = []
    var pathUnmatch: [String] = []
    var mapping: JSONObject

    static let types: Set<String> = ["string", "long", "double", "boolean", "date", "binary", "*"]

    /// The templates of a `dynamic_templates` value, checked as Elasticsearch checks them.
    static func parse(_ json: JSONValue?) throws(StoreError) -> [DynamicTemplate] {
        guard let json else { return [] }
        guard case .array(let items) = json else {
            throw StoreError(.mapperParsing, "Failed to parse mapping: Dynamic template syntax error. An array of named objects is expected.")
        }
        var out: [DynamicTemplate] = []
        for item in items {
            guard case .object(let named) = item, named.count == 1, let entry = named.entries.first, case .object(let body) = entry.value else {
                throw StoreError(.mapperParsing, "Failed to parse mapping: Dynamic template syntax error. An array of named objects is expected.")
            }
            out.append(try DynamicTemplate(name: entry.key, body))
        }
        return out
    }

    init(name: String, _ body: JSONObject) throws(StoreError) {
        self.name = name
        func patterns(_ v: JSONValue) throws(StoreError) -> [String] {
            if let s = v.stringValue { return [s] }
            guard let a = v.arrayValue, a.allSatisfy({ $0.stringValue != nil }) else {
                throw StoreError(.mapperParsing, "Failed to parse mapping: [\(name)] expects a string or an array of strings")
            }
            return a.compactMap(\.stringValue)
        }
        var found: JSONObject?
        for e in body.entries {
            switch e.key {
            case "match": match = try patterns(e.value)
            case "unmatch": unmatch = try patterns(e.value)
            case "path_match": pathMatch = try patterns(e.value)
            case "path_unmatch": pathUnmatch = try patterns(e.value)
            case "match_mapping_type", "unmatch_mapping_type":
                let list = try patterns(e.value)
                if list.contains("object") {
                    throw StoreError(.mapperParsing,
                        "dynamic template [\(name)]: templates for objects (\(e.key): object) are not supported by Vigil yet")
                }
                if let bad = list.first(where: { !DynamicTemplate.types.contains($0) }) {
                    throw StoreError(.mapperParsing, "No field type matched on [\(bad)], possible values are [object, string, long, double, boolean, date, binary]")
                }
                if e.key == "match_mapping_type" { matchMappingType = list.contains("*") ? [] : list } else { unmatchMappingType = list }
            case "match_pattern":
                guard e.value.stringValue == "simple" else {
                    throw StoreError(.mapperParsing, "dynamic template [\(name)]: match_pattern [\(e.value.stringValue ?? e.value.jsonString)] is not supported by Vigil yet (only simple)")
                }
            case "mapping":
                guard case .object(let m) = e.value else { throw StoreError(.mapperParsing, "dynamic template [\(name)]: [mapping] must be an object") }
                found = m
            case "runtime":
                throw StoreError(.mapperParsing, "dynamic template [\(name)]: runtime templates are not supported by Vigil yet")
            default:
                throw StoreError(.mapperParsing, "Illegal dynamic template parameter: [\(e.key)]")
            }
        }
        guard let found else { throw StoreError(.mapperParsing, "template [\(name)] must have either mapping or runtime set") }
        mapping = found
        // A mapping that does not parse is refused now, not when a document first meets it.
        _ = try field(leaf: "{name}", type: "string")
    }

    /// Whether the template applies to a new field at `path` (dotted) of detected JSON type `type`.
    func matches(path: String, leaf: String, type: String) -> Bool {
        if !matchMappingType.isEmpty && !matchMappingType.contains(type) { return false }
        if unmatchMappingType.contains(type) || unmatchMappingType.contains("*") { return false }
        if !match.isEmpty && !match.contains(where: { Wildcard.matches($0, leaf) }) { return false }
        if unmatch.contains(where: { Wildcard.matches($0, leaf) }) { return false }
        if !pathMatch.isEmpty && !pathMatch.contains(where: { Wildcard.matches($0, path) }) { return false }
        if pathUnmatch.contains(where: { Wildcard.matches($0, path) }) { return false }
        return true
    }

    /// The field the template maps to, with `{name}` and `{dynamic_type}` filled in.
    func field(leaf: String, type: String) throws(StoreError) -> FieldMapping {
        // `{dynamic_type}` is the type Elasticsearch would have chosen: text for strings, float for decimals.
        let dynamicType = type == "string" ? "text" : type == "double" ? "float" : type
        func fill(_ v: JSONValue) -> JSONValue {
            switch v {
            case .string(let s):
                return .string(s.replacingOccurrences(of: "{name}", with: leaf).replacingOccurrences(of: "{dynamic_type}", with: dynamicType))
            case .object(let o): return .object(JSONObject(o.entries.map { .init(key: $0.key, value: fill($0.value)) }))
            case .array(let a): return .array(a.map(fill))
            default: return v
            }
        }
        return try FieldMapping.parse(name: leaf, fill(.object(mapping)), path: leaf)
    }
}
