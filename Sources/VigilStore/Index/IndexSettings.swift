public import VigilJSON

/// An index's settings, flat by dotted key (`index.number_of_shards`), values as strings as Elasticsearch shows them.
public struct IndexSettings: Sendable, Equatable {
    public var values: [String: String]

    public init(values: [String: String] = [:]) {
        self.values = values
    }

    /// Reads a settings body (`{"number_of_shards": 1}`, `{"index": {"number_of_shards": 1}}` or dotted keys).
    public init(json: JSONValue?) throws(StoreError) {
        values = [:]
        guard let json else { return }
        guard case .object(let o) = json else { throw StoreError(.illegalArgument, "settings must be an object") }
        func flatten(_ o: JSONObject, _ prefix: String) throws(StoreError) {
            for e in o.entries {
                let key = prefix.isEmpty ? e.key : prefix + "." + e.key
                switch e.value {
                case .object(let inner): try flatten(inner, key)
                case .string(let s): values[key] = s
                case .int(let i): values[key] = String(i)
                case .double(let d): values[key] = String(d)
                case .bool(let b): values[key] = String(b)
                case .null: values[key] = nil
                case .array(let a): values[key] = a.map { $0.stringValue ?? $0.jsonString }.joined(separator: ",")
                case .uint(let u): values[key] = String(u)
                }
            }
        }
        try flatten(o, "")
        for k in Array(values.keys) where !k.hasPrefix("index.") {
            values["index." + k] = values.removeValue(forKey: k)
        }
        if let k = values.keys.sorted().first(where: { $0.hasPrefix("index.analysis.") }) {
            throw StoreError(.illegalArgument,
                "[index.analysis] settings are not supported by Vigil yet (found [\(k)]): text fields are analyzed with the standard analyzer only")
        }
        for key in ["index.number_of_shards", "index.number_of_replicas"] {
            if let v = values[key], Int(v) == nil || Int(v)! < 0 {
                throw StoreError(.illegalArgument, "Failed to parse value [\(v)] for setting [\(key)] must be >= 0")
            }
        }
        if let v = values["index.number_of_shards"], Int(v) == 0 {
            throw StoreError(.illegalArgument, "Failed to parse value [0] for setting [index.number_of_shards] must be >= 1")
        }
    }

    public mutating func merge(_ other: IndexSettings) {
        for (k, v) in other.values { values[k] = v }
    }

    public var numberOfShards: Int { Int(values["index.number_of_shards"] ?? "1") ?? 1 }
    public var numberOfReplicas: Int { Int(values["index.number_of_replicas"] ?? "1") ?? 1 }
    public var uuid: String { values["index.uuid"] ?? "" }
    public var creationDate: Int64 { Int64(values["index.creation_date"] ?? "0") ?? 0 }
    public var hidden: Bool { values["index.hidden"] == "true" }
    /// `index.mapping.total_fields.limit` (Elasticsearch's default 1000).
    public var totalFieldsLimit: Int { values["index.mapping.total_fields.limit"].flatMap { Int($0) } ?? Mapping.totalFieldsLimit }

    /// Nested `{"index": {...}}` as `GET _settings` shows it.
    public var json: JSONValue {
        var root = JSONObject()
        for key in values.keys.sorted() {
            let parts = key.split(separator: ".").map(String.init)
            IndexSettings.put(&root, parts[...], .string(values[key]!))
        }
        return .object(root)
    }

    static func put(_ o: inout JSONObject, _ parts: ArraySlice<String>, _ v: JSONValue) {
        guard let head = parts.first else { return }
        if parts.count == 1 {
            o[head] = v
            return
        }
        var child = o[head]?.objectValue ?? JSONObject()
        put(&child, parts.dropFirst(), v)
        o[head] = .object(child)
    }
}
