public import VigilJSON
import VigilStore

/// An alert: the document for `.alerts-security.alerts-default`, under a deterministic id so
/// that running a rule again over the same events never doubles it.
public struct Alert: Sendable {
    public var id: String
    public var document: JSONObject
}

/// An event an alert is about: where it is stored and its source.
public struct SourceEvent: Sendable {
    public var index: String
    public var id: String
    public var timestamp: Int64
    public var source: JSONObject
}

/// Builds alert documents in Kibana's shape (`kibana.alert.*`, `event.kind: signal`, the
/// source event's fields).
struct AlertBuilder {
    let rule: Rule
    let now: Int64
    let spaceId: String

    /// The fields every alert of the rule carries.
    func base(reason: String, originalTime: Int64?) -> JSONObject {
        var o = JSONObject()
        o["@timestamp"] = .string(DateFormats.formatISO(now))
        o["event.kind"] = "signal"
        o["kibana.alert.status"] = "active"
        o["kibana.alert.workflow_status"] = "open"
        o["kibana.alert.reason"] = .string(reason)
        o["kibana.alert.severity"] = .string(rule.severity)
        o["kibana.alert.risk_score"] = .int(Int64(rule.riskScore))
        o["kibana.alert.depth"] = 1
        if let originalTime { o["kibana.alert.original_time"] = .string(DateFormats.formatISO(originalTime)) }
        o["kibana.space_ids"] = [.string(spaceId)]
        o["kibana.alert.rule.rule_id"] = .string(rule.ruleId)
        o["kibana.alert.rule.uuid"] = .string(rule.json["id"]?.stringValue ?? rule.ruleId)
        o["kibana.alert.rule.name"] = .string(rule.name)
        o["kibana.alert.rule.type"] = .string(rule.typeName)
        o["kibana.alert.rule.description"] = rule.json["description"] ?? ""
        o["kibana.alert.rule.severity"] = .string(rule.severity)
        o["kibana.alert.rule.risk_score"] = .int(Int64(rule.riskScore))
        o["kibana.alert.rule.tags"] = rule.json["tags"] ?? []
        o["kibana.alert.rule.threat"] = rule.json["threat"] ?? []
        o["kibana.alert.rule.version"] = rule.json["version"] ?? 1
        o["kibana.alert.rule.from"] = .string(rule.from)
        o["kibana.alert.rule.interval"] = .string(rule.interval)
        o["kibana.alert.rule.category"] = .string(AlertBuilder.category(rule.kind))
        o["kibana.alert.rule.consumer"] = "siem"
        o["kibana.alert.rule.producer"] = "siem"
        o["kibana.alert.rule.rule_type_id"] = .string("siem." + AlertBuilder.typeId(rule.kind))
        if let bb = rule.buildingBlockType { o["kibana.alert.building_block_type"] = .string(bb) }
        return o
    }

    /// An alert on one event: the event's fields, its ancestry, and the rule's.
    func event(_ e: SourceEvent, reason: String? = nil, extra: JSONObject = JSONObject(), salt: String = "") -> Alert {
        var o = JSONObject()
        for entry in e.source.entries where entry.key != "@timestamp" && entry.key != "event" { o[entry.key] = entry.value }
        // The source's `event` object minus `kind`, which becomes `signal`.
        if case .object(var ev)? = e.source["event"] {
            ev["kind"] = nil
            if !ev.isEmpty { o["event"] = .object(ev) }
        }
        o["kibana.alert.original_event"] = e.source["event"] ?? .object(JSONObject())
        for entry in base(reason: reason ?? defaultReason(e), originalTime: e.timestamp).entries { o[entry.key] = entry.value }
        o["kibana.alert.ancestors"] = [ancestor(e)]
        for entry in extra.entries { o[entry.key] = entry.value }
        let id = AlertBuilder.id([rule.ruleId, e.index, e.id, salt])
        o["kibana.alert.uuid"] = .string(id)
        return Alert(id: id, document: o)
    }

    func ancestor(_ e: SourceEvent) -> JSONValue {
        ["id": .string(e.id), "type": "event", "index": .string(e.index), "depth": 0]
    }

    func defaultReason(_ e: SourceEvent) -> String {
        let category = e.source["event"]?["category"].map { $0.arrayValue?.first?.stringValue ?? $0.stringValue ?? "event" } ?? "event"
        var text = "\(category) event"
        if let user = e.source["user"]?["name"]?.stringValue { text += " by \(user)" }
        if let host = e.source["host"]?["name"]?.stringValue { text += " on \(host)" }
        return text + " created \(rule.severity) alert \(rule.name)."
    }

    static func category(_ kind: Rule.Kind?) -> String {
        switch kind {
        case .eql: "Event Correlation Rule"
        case .threshold: "Threshold Rule"
        case .newTerms: "New Terms Rule"
        case .threatMatch: "Indicator Match Rule"
        case .esql: "ES|QL Rule"
        default: "Custom Query Rule"
        }
    }

    static func typeId(_ kind: Rule.Kind?) -> String {
        switch kind {
        case .eql: "eqlRule"
        case .threshold: "thresholdRule"
        case .newTerms: "newTermsRule"
        case .threatMatch: "indicatorRule"
        case .esql: "esqlRule"
        default: "queryRule"
        }
    }

    /// A stable 128-bit id (hex) of the parts: two FNV-1a hashes with different offsets.
    static func id(_ parts: [String]) -> String {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325, b: UInt64 = 0x6c62_272e_07bb_0142
        for part in parts {
            for byte in part.utf8 {
                a = (a ^ UInt64(byte)) &* 0x100_0000_01b3
                b = (b ^ UInt64(byte)) &* 0x100_0000_01b3
                b = b &+ (a >> 29)
            }
            a = (a ^ 0x1f) &* 0x100_0000_01b3
            b = (b ^ 0x1e) &* 0x100_0000_01b3
        }
        func hex(_ v: UInt64) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }
        return hex(a) + hex(b)
    }
}
