public import VigilJSON

/// A detection rule in Kibana's `detection_engine` shape. The JSON object is the rule (what
/// the API returns and exports); the properties read it.
public struct Rule: Sendable, Equatable {
    public var json: JSONObject

    public init(json: JSONObject) { self.json = json }

    /// The rule types Kibana knows.
    public enum Kind: String, Sendable, CaseIterable {
        case query, eql, threshold
        case threatMatch = "threat_match"
        case newTerms = "new_terms"
        case esql
        case machineLearning = "machine_learning"
        case savedQuery = "saved_query"
    }

    public var ruleId: String { json["rule_id"]?.stringValue ?? "" }
    public var name: String { json["name"]?.stringValue ?? "" }
    public var typeName: String { json["type"]?.stringValue ?? "" }
    public var kind: Kind? { Kind(rawValue: typeName) }
    /// `kuery`, `lucene`, `eql` or `esql`; Kibana's default for query rules is `kuery`.
    public var language: String { json["language"]?.stringValue ?? (kind == .eql ? "eql" : kind == .esql ? "esql" : "kuery") }
    public var query: String { json["query"]?.stringValue ?? "" }
    public var index: [String] { json["index"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
    public var from: String { json["from"]?.stringValue ?? "now-6m" }
    public var to: String { json["to"]?.stringValue ?? "now" }
    public var interval: String { json["interval"]?.stringValue ?? "5m" }
    public var maxSignals: Int { Int(json["max_signals"]?.int64Value ?? 100) }
    public var enabled: Bool { json["enabled"]?.boolValue ?? false }
    public var severity: String { json["severity"]?.stringValue ?? "low" }
    public var riskScore: Int { Int(json["risk_score"]?.int64Value ?? 21) }
    public var timestampOverride: String? { json["timestamp_override"]?.stringValue }
    public var buildingBlockType: String? { json["building_block_type"]?.stringValue }

    /// `threshold`: the group-by fields (possibly none), the count to reach, and the
    /// cardinality conditions (`field` must have at least `value` distinct values).
    public var threshold: (fields: [String], value: Int, cardinality: [(field: String, value: Int)])? {
        guard case .object(let t)? = json["threshold"] else { return nil }
        let fields = t["field"]?.arrayValue?.compactMap(\.stringValue) ?? t["field"]?.stringValue.map { $0.isEmpty ? [] : [$0] } ?? []
        let cardinality = (t["cardinality"]?.arrayValue ?? []).compactMap { c -> (String, Int)? in
            guard let f = c["field"]?.stringValue, let v = c["value"]?.int64Value else { return nil }
            return (f, Int(v))
        }
        return (fields, Int(t["value"]?.int64Value ?? 1), cardinality)
    }

    /// `new_terms`: the fields whose (combined) values must not have been seen since
    /// `history_window_start`.
    public var newTermsFields: [String] { json["new_terms_fields"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
    public var historyWindowStart: String? { json["history_window_start"]?.stringValue }

    /// Indicator match: the indicator indices, their query, and the mappings (entries of one
    /// mapping all match: event `field` against indicator `value`; mappings are alternatives).
    public var threatIndex: [String] { json["threat_index"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
    public var threatQuery: String { json["threat_query"]?.stringValue ?? "" }
    public var threatLanguage: String { json["threat_language"]?.stringValue ?? "kuery" }
    public var threatIndicatorPath: String { json["threat_indicator_path"]?.stringValue ?? "threat.indicator" }
    public var threatMapping: [[(field: String, value: String)]] {
        (json["threat_mapping"]?.arrayValue ?? []).map { m in
            (m["entries"]?.arrayValue ?? []).compactMap { e -> (String, String)? in
                guard let f = e["field"]?.stringValue, let v = e["value"]?.stringValue else { return nil }
                return (f, v)
            }
        }
    }
}
