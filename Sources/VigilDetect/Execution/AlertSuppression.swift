public import VigilJSON
import VigilStore

/// Alert suppression (`alert_suppression`): the alerts of a run that share the values of the
/// `group_by` fields become one alert that counts the others (`kibana.alert.suppression.*`).
/// Without a duration the grouping is per rule execution; with one, later events of a group
/// are added to the group's alert while that alert is younger than the duration.
public struct AlertSuppression: Sendable {
    public var fields: [String]
    /// Milliseconds, or nil for per-execution suppression.
    public var duration: Int64?
    /// `missing_fields_strategy: suppress` (the default): events missing a field form a group
    /// of their own; `doNotSuppress`: each such event keeps its alert.
    public var suppressMissing: Bool

    public init?(_ rule: Rule) {
        guard case .object(let s)? = rule.json["alert_suppression"] else { return nil }
        var fields = s["group_by"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if fields.isEmpty, rule.kind == .threshold { fields = rule.threshold?.fields ?? [] }
        if fields.isEmpty && s["duration"] == nil { return nil }
        self.fields = fields
        if case .object(let d)? = s["duration"], let v = d["value"]?.int64Value, let unit = d["unit"]?.stringValue {
            duration = RuleSchedule.duration("\(v)\(unit)")
        }
        suppressMissing = s["missing_fields_strategy"]?.stringValue != "doNotSuppress"
    }

    /// The group of an alert: the JSON text of each field's value (nil when missing).
    func key(_ a: Alert) -> [String?] {
        fields.map { f in FieldPath.value(at: f, in: .object(a.document)).map { String(decoding: JSONWriter().encode($0), as: UTF8.self) } }
    }

    static func time(_ a: Alert) -> Int64 {
        a.document["kibana.alert.original_time"]?.stringValue.flatMap(DateFormats.parseISO) ?? 0
    }

    /// What a group's existing alert (within the duration) looks like.
    public struct Existing: Sendable {
        public var id: String
        public var end: Int64
        public var docsCount: Int64
        public init(id: String, end: Int64, docsCount: Int64) {
            self.id = id
            self.end = end
            self.docsCount = docsCount
        }
    }

    /// Partial updates of existing alerts: id and the fields to set.
    public typealias Update = (id: String, doc: JSONObject)

    /// The run's alerts, suppressed: new alerts, and updates to alerts of groups that are
    /// still within their duration (`existing` finds them by instance id).
    ///
    /// An EQL sequence is suppressed whole, as Kibana does: it is grouped by its sequence
    /// alert's fields (those its events share), and its building-block alerts go with it:
    /// kept when it is kept, dropped when it is suppressed.
    public func apply(_ alerts: [Alert], rule: Rule, now: Int64, existing: (String) throws -> Existing?) rethrows -> (alerts: [Alert], updates: [Update]) {
        var blocks: [String: [Alert]] = [:]
        var heads: [Alert] = []
        for a in alerts {
            if a.document["kibana.alert.group.index"] != nil, let group = a.document["kibana.alert.group.id"]?.stringValue {
                blocks[group, default: []].append(a)
            } else {
                heads.append(a)
            }
        }
        func withBlocks(_ a: Alert) -> [Alert] {
            [a] + (a.document["kibana.alert.group.id"]?.stringValue.flatMap { blocks[$0] } ?? [])
        }
        var order: [[String?]] = []
        var groups: [[String?]: [Alert]] = [:]
        var out: [Alert] = []
        for a in heads.sorted(by: { AlertSuppression.time($0) < AlertSuppression.time($1) }) {
            let k = key(a)
            if !suppressMissing && k.contains(where: { $0 == nil }) {
                out += withBlocks(a)
                continue
            }
            if groups[k] == nil { order.append(k) }
            groups[k, default: []].append(a)
        }
        var updates: [Update] = []
        for k in order {
            let members = groups[k]!
            let instance = AlertBuilder.id([rule.json["id"]?.stringValue ?? rule.ruleId, "suppression"] + k.map { $0 ?? "\u{0}" })
            let first = AlertSuppression.time(members[0]), last = AlertSuppression.time(members[members.count - 1])
            if duration != nil, let old = try existing(instance) {
                let fresh = members.filter { AlertSuppression.time($0) > old.end }
                if fresh.isEmpty { continue }
                updates.append((old.id, [
                    "kibana.alert.suppression.end": .string(DateFormats.formatISO(last)),
                    "kibana.alert.suppression.docs_count": .int(old.docsCount + Int64(fresh.count)),
                    "kibana.alert.last_detected": .string(DateFormats.formatISO(now)),
                ]))
                continue
            }
            var doc = members[0].document
            doc["kibana.alert.instance.id"] = .string(instance)
            doc["kibana.alert.suppression.terms"] = .array(zip(fields, k).map { f, v in
                ["field": .string(f), "value": v.flatMap { try? JSONParser().parse(Array($0.utf8)) } ?? .null]
            })
            doc["kibana.alert.suppression.start"] = .string(DateFormats.formatISO(first))
            doc["kibana.alert.suppression.end"] = .string(DateFormats.formatISO(last))
            doc["kibana.alert.suppression.docs_count"] = .int(Int64(members.count - 1))
            out += withBlocks(Alert(id: members[0].id, document: doc))
        }
        return (out, updates)
    }
}
