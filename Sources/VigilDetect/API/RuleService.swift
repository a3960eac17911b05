import Foundation
public import VigilJSON
import VigilQuery
import VigilStore

/// An error of Kibana's detection engine API: an HTTP status and a message, shaped as Kibana
/// answers (`{"message": …, "status_code": …}`).
public struct RuleAPIError: Error, Sendable {
    public var status: Int
    public var message: String
    public init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }
    public var body: JSONObject { ["message": .string(message), "status_code": .int(Int64(status))] }
    public static func badRequest(_ m: String) -> RuleAPIError { RuleAPIError(400, m) }
}

/// Kibana's detection rule API (`/api/detection_engine/rules…`) over the control store:
/// validation and defaults as Kibana applies them, find, bulk actions, import and export.
/// HTTP-free: bodies in, JSON out.
public struct RuleService: Sendable {
    public let control: ControlStore
    /// Compiles a rule to check that it runs; nil skips the check.
    public var check: (@Sendable (Rule) -> String?)?
    public var clock: @Sendable () -> Int64 = { Clock.nowMillis() }

    public init(control: ControlStore) {
        self.control = control
    }

    static let severities: Set<String> = ["low", "medium", "high", "critical"]
    static let types: Set<String> = ["query", "eql", "threshold", "threat_match", "new_terms", "esql", "machine_learning", "saved_query"]

    // MARK: - validation and defaults

    /// Checks a rule body as Kibana's schema does; every problem is listed in one message.
    static func validate(_ o: JSONObject) throws(RuleAPIError) {
        var problems: [String] = []
        for key in ["name", "description"] {
            if o[key] == nil { problems.append("\(key): Required") } else if o[key]?.stringValue == nil { problems.append("\(key): Expected string") }
        }
        if let name = o["name"]?.stringValue, name.isEmpty { problems.append("name: String must contain at least 1 character(s)") }
        if let r = o["risk_score"] {
            if let v = r.int64Value, r.stringValue == nil { if v < 0 || v > 100 { problems.append("risk_score: Number must be between 0 and 100") } } else { problems.append("risk_score: Expected number") }
        } else { problems.append("risk_score: Required") }
        if let s = o["severity"] {
            if !(s.stringValue.map(severities.contains) ?? false) { problems.append("severity: Invalid enum value. Expected 'low' | 'medium' | 'high' | 'critical'") }
        } else { problems.append("severity: Required") }
        guard let type = o["type"]?.stringValue else {
            problems.append("type: Required")
            throw .badRequest(problems.joined(separator: ", "))
        }
        guard types.contains(type) else {
            problems.append("type: Invalid discriminator value. Expected 'eql' | 'query' | 'saved_query' | 'threshold' | 'threat_match' | 'machine_learning' | 'new_terms' | 'esql'")
            throw .badRequest(problems.joined(separator: ", "))
        }
        let language = o["language"]?.stringValue
        switch type {
        case "eql":
            if o["query"]?.stringValue == nil { problems.append("query: Required") }
            if language != "eql" { problems.append("language: Invalid literal value, expected \"eql\"") }
        case "esql":
            if o["query"]?.stringValue == nil { problems.append("query: Required") }
            if language != "esql" { problems.append("language: Invalid literal value, expected \"esql\"") }
        case "threshold":
            if o["query"]?.stringValue == nil { problems.append("query: Required") }
            if case .object(let t)? = o["threshold"] {
                if (t["value"]?.int64Value ?? 0) < 1 { problems.append("threshold.value: Number must be greater than or equal to 1") }
            } else { problems.append("threshold: Required") }
        case "new_terms":
            if o["query"]?.stringValue == nil { problems.append("query: Required") }
            let fields = o["new_terms_fields"]?.arrayValue
            if fields == nil { problems.append("new_terms_fields: Required") } else if fields!.isEmpty || fields!.count > 3 {
                problems.append("new_terms_fields: Array must contain between 1 and 3 element(s)")
            }
            if o["history_window_start"]?.stringValue == nil { problems.append("history_window_start: Required") }
        case "threat_match":
            for key in ["query", "threat_query"] where o[key]?.stringValue == nil { problems.append("\(key): Required") }
            if o["threat_index"]?.arrayValue == nil { problems.append("threat_index: Required") }
            if o["threat_mapping"]?.arrayValue == nil { problems.append("threat_mapping: Required") }
        case "machine_learning":
            if o["anomaly_threshold"] == nil { problems.append("anomaly_threshold: Required") }
            if o["machine_learning_job_id"] == nil { problems.append("machine_learning_job_id: Required") }
        case "saved_query":
            if o["saved_id"]?.stringValue == nil { problems.append("saved_id: Required") }
        default:
            if let language, language != "kuery" && language != "lucene" {
                problems.append("language: Invalid enum value. Expected 'kuery' | 'lucene', received '\(language)'")
            }
        }
        problems += RuleSchedule.problems(interval: o["interval"]?.stringValue, from: o["from"]?.stringValue, to: o["to"]?.stringValue,
                                          historyWindowStart: o["history_window_start"]?.stringValue, now: Clock.nowMillis())
        for key in ["interval", "from", "to", "history_window_start"] where o[key] != nil && o[key]?.stringValue == nil {
            problems.append("\(key): Expected string")
        }
        if let sup = o["alert_suppression"] {
            if case .object(let a) = sup {
                let fields = a["group_by"]?.arrayValue
                if type != "threshold" {
                    if fields == nil { problems.append("alert_suppression.group_by: Required") } else if fields!.isEmpty || fields!.count > 3 {
                        problems.append("alert_suppression.group_by: Array must contain between 1 and 3 element(s)")
                    }
                }
                if let d = a["duration"] {
                    let unit = d["unit"]?.stringValue ?? ""
                    let value = d["value"]?.int64Value ?? 0
                    if value < 1 || !["s", "m", "h"].contains(unit) || RuleSchedule.duration("\(value)\(unit)") == nil {
                        problems.append("alert_suppression.duration: expected {value: >= 1, unit: 's' | 'm' | 'h'}")
                    }
                } else if type == "threshold" {
                    problems.append("alert_suppression.duration: Required")
                }
                if let m = a["missing_fields_strategy"]?.stringValue, m != "suppress" && m != "doNotSuppress" {
                    problems.append("alert_suppression.missing_fields_strategy: Invalid enum value. Expected 'doNotSuppress' | 'suppress'")
                }
            } else {
                problems.append("alert_suppression: Expected object")
            }
        }
        if let m = o["max_signals"], (m.int64Value ?? 0) < 1 { problems.append("max_signals: Number must be greater than or equal to 1") }
        if !problems.isEmpty { throw .badRequest(problems.joined(separator: ", ")) }
    }

    /// Kibana's defaults for what a body leaves out.
    static func withDefaults(_ body: JSONObject) -> JSONObject {
        var o = body
        let type = o["type"]?.stringValue ?? "query"
        var defaults: [(String, JSONValue)] = [
            ("enabled", true), ("interval", "5m"), ("from", "now-6m"), ("to", "now"), ("max_signals", 100),
            ("version", 1), ("tags", []), ("threat", []), ("references", []), ("false_positives", []),
            ("author", []), ("exceptions_list", []), ("risk_score_mapping", []), ("severity_mapping", []),
            ("related_integrations", []), ("required_fields", []), ("setup", ""), ("actions", []),
            ("output_index", ""), ("immutable", false), ("rule_source", ["type": "internal"]),
        ]
        switch type {
        case "query", "threshold", "threat_match", "new_terms", "saved_query": defaults.append(("language", "kuery"))
        default: break
        }
        if type == "query" { defaults.append(("query", "")) }
        for (key, value) in defaults where o[key] == nil { o[key] = value }
        return o
    }

    // MARK: - reading

    /// The rule named by `id` or `rule_id` (one of them is required).
    public func find(id: String?, ruleId: String?) throws -> Rule {
        if let id {
            guard let r = try control.rule(id: id) else { throw RuleAPIError(404, "id: \"\(id)\" not found") }
            return r
        }
        if let ruleId {
            guard let r = try control.rule(ruleId: ruleId) else { throw RuleAPIError(404, "rule_id: \"\(ruleId)\" not found") }
            return r
        }
        throw RuleAPIError.badRequest("either \"id\" or \"rule_id\" must be set")
    }

    /// The rule as the API returns it: its JSON with the last execution's summary.
    public func output(_ rule: Rule) throws -> JSONObject {
        var o = rule.json
        if let id = rule.json["id"]?.stringValue, let summary = try control.state(id: id)?.lastSummary {
            o["execution_summary"] = ["last_execution": .object(summary)]
        }
        return o
    }

    // MARK: - create, update, patch, delete

    public func create(_ body: JSONObject) throws -> JSONObject {
        try output(try insert(body))
    }

    func insert(_ body: JSONObject) throws -> Rule {
        let rule = try prepare(body, overwrite: false)
        try control.save([rule], now: clock())
        return rule
    }

    /// A new rule (or, with `overwrite`, the replacement of the rule with its `rule_id`) from a
    /// body: validated, with defaults, ids and stamps; not saved yet.
    func prepare(_ body: JSONObject, overwrite: Bool) throws -> Rule {
        if body["id"] != nil && !overwrite { throw RuleAPIError.badRequest("id: Unrecognized key; create takes rule_id") }
        try RuleService.validate(body)
        var o = RuleService.withDefaults(body)
        let now = clock()
        let stamp = JSONValue.string(DateFormats.formatISO(now))
        let ruleId = o["rule_id"]?.stringValue ?? UUID().uuidString.lowercased()
        var existing: Rule?
        if let r = try control.rule(ruleId: ruleId) {
            guard overwrite else { throw RuleAPIError(409, "rule_id: \"\(ruleId)\" already exists") }
            existing = r
        }
        o["rule_id"] = .string(ruleId)
        o["id"] = existing?.json["id"] ?? .string(UUID().uuidString.lowercased())
        o["created_at"] = existing?.json["created_at"] ?? stamp
        o["created_by"] = existing?.json["created_by"] ?? "elastic"
        o["updated_at"] = stamp
        o["updated_by"] = "elastic"
        o["revision"] = .int((existing?.json["revision"]?.int64Value).map { $0 + 1 } ?? 0)
        let rule = Rule(json: o)
        try checked(rule)
        return rule
    }

    /// Refuses a rule whose query does not compile, with the compiler's reason.
    func checked(_ rule: Rule) throws {
        if let check, let problem = check(rule) { throw RuleAPIError.badRequest(problem) }
    }

    /// PUT: the body replaces the rule (defaults fill what it leaves out); `id`, `rule_id` and
    /// the creation stamp stay.
    public func update(_ body: JSONObject) throws -> JSONObject {
        let old = try find(id: body["id"]?.stringValue, ruleId: body["rule_id"]?.stringValue)
        try RuleService.validate(body)
        var o = RuleService.withDefaults(body)
        if body["version"] == nil { o["version"] = old.json["version"] ?? 1 }
        return try output(try replace(old, with: o))
    }

    /// PATCH: the body's fields replace the rule's.
    public func patch(_ body: JSONObject) throws -> JSONObject {
        let old = try find(id: body["id"]?.stringValue, ruleId: body["rule_id"]?.stringValue)
        var o = old.json
        for e in body.entries { o[e.key] = e.value }
        if body["type"] != nil && body["type"] != old.json["type"] { o = RuleService.withDefaults(o) }
        try RuleService.validate(o)
        return try output(try replace(old, with: o))
    }

    func replace(_ old: Rule, with body: JSONObject) throws -> Rule {
        var o = body
        for key in ["id", "rule_id", "created_at", "created_by", "immutable", "rule_source"] { o[key] = old.json[key] }
        o["execution_summary"] = nil
        o["updated_at"] = .string(DateFormats.formatISO(clock()))
        o["updated_by"] = "elastic"
        o["revision"] = .int((old.json["revision"]?.int64Value ?? 0) + 1)
        let rule = Rule(json: o)
        try checked(rule)
        try control.save([rule], now: clock())
        return rule
    }

    public func delete(id: String?, ruleId: String?) throws -> JSONObject {
        let rule = try find(id: id, ruleId: ruleId)
        let out = try output(rule)
        try control.delete(ids: [rule.json["id"]?.stringValue ?? ""])
        return out
    }

    // MARK: - find

    /// `_find`: `filter` (KQL over `alert.attributes.*`), `sort_field`, `sort_order`, `page`,
    /// `per_page`.
    public func find(params: [String: String]) throws -> JSONObject {
        let page = try RuleService.positive(params["page"], "page", default: 1)
        let perPage = try RuleService.positive(params["per_page"], "per_page", default: 20)
        var rules = try control.rules()
        if let filter = params["filter"], !filter.trimmingCharacters(in: .whitespaces).isEmpty {
            let node: KQLNode
            do { node = try KQLParser.parse(filter) } catch { throw RuleAPIError.badRequest("filter: \(error.message)") }
            rules = rules.filter { RuleFilter.matches(node, $0.json) }
        }
        if let field = params["sort_field"] {
            let key = RuleFilter.ruleField(field)
            let descending = params["sort_order"] == "desc"
            rules.sort { a, b in
                let (x, y) = (RuleFilter.sortKey(a.json[key]), RuleFilter.sortKey(b.json[key]))
                return descending ? y < x : x < y
            }
        }
        let (skip, overflow) = (page - 1).multipliedReportingOverflow(by: perPage)
        let start = overflow ? rules.count : min(skip, rules.count)
        let slice = rules[start..<(start + min(perPage, rules.count - start))]
        return [
            "page": .int(Int64(page)), "perPage": .int(Int64(perPage)), "total": .int(Int64(rules.count)),
            "data": .array(try slice.map { .object(try output($0)) }),
        ]
    }

    static func positive(_ text: String?, _ name: String, default d: Int) throws(RuleAPIError) -> Int {
        guard let text else { return d }
        guard let v = Int(text), v >= 1 else { throw .badRequest("\(name): Number must be greater than or equal to 1") }
        return v
    }

    // MARK: - bulk actions

    /// `_bulk_action`: enable, disable, delete, duplicate or export the rules named by `ids` or
    /// matching `query` (a `_find` filter; all rules when neither is given).
    public func bulkAction(_ body: JSONObject) throws -> (json: JSONObject?, export: [UInt8]?) {
        guard let action = body["action"]?.stringValue else { throw RuleAPIError.badRequest("action: Required") }
        var rules: [Rule]
        var failed: [JSONValue] = []
        if let ids = body["ids"]?.arrayValue {
            rules = []
            for id in ids.compactMap(\.stringValue) {
                if let r = try control.rule(id: id) { rules.append(r) } else {
                    failed.append(["message": .string("Rule not found"), "status_code": 404, "rules": [["id": .string(id)]]])
                }
            }
        } else {
            rules = try control.rules()
            if let q = body["query"]?.stringValue, !q.isEmpty {
                let node: KQLNode
                do { node = try KQLParser.parse(q) } catch { throw RuleAPIError.badRequest("query: \(error.message)") }
                rules = rules.filter { RuleFilter.matches(node, $0.json) }
            }
        }
        var updated: [JSONValue] = [], created: [JSONValue] = [], deleted: [JSONValue] = [], skipped: [JSONValue] = []
        let now = clock()
        switch action {
        case "enable", "disable":
            let on = action == "enable"
            var changed: [Rule] = []
            for var r in rules {
                if r.enabled == on { skipped.append(["id": r.json["id"] ?? .null, "name": .string(r.name), "skip_reason": "RULE_NOT_MODIFIED"]); continue }
                r.json["enabled"] = .bool(on)
                r.json["updated_at"] = .string(DateFormats.formatISO(now))
                r.json["revision"] = .int((r.json["revision"]?.int64Value ?? 0) + 1)
                changed.append(r)
            }
            try control.save(changed, now: now)
            updated = try changed.map { .object(try output($0)) }
        case "delete":
            deleted = try rules.map { .object(try output($0)) }
            try control.delete(ids: rules.compactMap { $0.json["id"]?.stringValue })
        case "duplicate":
            for r in rules {
                var o = r.json
                for key in ["id", "rule_id", "created_at", "updated_at", "created_by", "updated_by", "revision", "execution_summary"] { o[key] = nil }
                o["name"] = .string(r.name + " [Duplicate]")
                o["enabled"] = false
                o["immutable"] = false
                o["rule_source"] = ["type": "internal"]
                if case .object(let d)? = body["duplicate"], d["include_exceptions"]?.boolValue == false { o["exceptions_list"] = [] }
                created.append(.object(try output(try insert(o))))
            }
        case "export":
            return (nil, try export(rules))
        default:
            throw RuleAPIError.badRequest("action: Invalid enum value. Expected 'delete' | 'disable' | 'duplicate' | 'enable' | 'export' | 'edit', received '\(action)'")
        }
        let succeeded = updated.count + created.count + deleted.count
        let summary: JSONObject = ["failed": .int(Int64(failed.count)), "skipped": .int(Int64(skipped.count)), "succeeded": .int(Int64(succeeded)), "total": .int(Int64(failed.count + skipped.count + succeeded))]
        var out: JSONObject = [
            "success": .bool(failed.isEmpty), "rules_count": .int(Int64(rules.count + failed.count)),
            "attributes": ["results": ["updated": .array(updated), "created": .array(created), "deleted": .array(deleted), "skipped": .array(skipped)], "summary": .object(summary)],
        ]
        if !failed.isEmpty {
            out["attributes"]?.setErrors(failed)
            out["status_code"] = 500
            out["message"] = "Bulk edit partially failed"
        }
        return (out, nil)
    }

    // MARK: - import and export

    /// NDJSON: one rule per line, then Kibana's export summary.
    public func export(_ rules: [Rule], missing: [String] = []) throws -> [UInt8] {
        var out: [UInt8] = []
        let writer = JSONWriter()
        for r in rules {
            var o = r.json
            o["execution_summary"] = nil
            out += writer.encode(.object(o))
            out.append(0x0A)
        }
        let summary: JSONObject = [
            "exported_count": .int(Int64(rules.count)), "exported_rules_count": .int(Int64(rules.count)),
            "missing_rules": .array(missing.map { ["rule_id": .string($0)] }), "missing_rules_count": .int(Int64(missing.count)),
            "exported_exception_list_count": 0, "exported_exception_list_item_count": 0,
            "missing_exception_list_item_count": 0, "missing_exception_list_items": [],
            "missing_exception_lists": [], "missing_exception_lists_count": 0,
            "exported_action_connector_count": 0, "missing_action_connection_count": 0,
            "missing_action_connections": [], "excluded_action_connection_count": 0, "excluded_action_connections": [],
        ]
        out += writer.encode(.object(summary))
        out.append(0x0A)
        return out
    }

    /// `_export`: every rule, or those whose `rule_id` the body's `objects` name.
    public func export(body: JSONObject?) throws -> [UInt8] {
        guard let objects = body?["objects"]?.arrayValue else { return try export(try control.rules()) }
        var rules: [Rule] = [], missing: [String] = []
        for ruleId in objects.compactMap({ $0["rule_id"]?.stringValue }) {
            if let r = try control.rule(ruleId: ruleId) { rules.append(r) } else { missing.append(ruleId) }
        }
        return try export(rules, missing: missing)
    }

    /// `_import`: NDJSON rules (an export's summary line is skipped); `overwrite` replaces
    /// rules whose `rule_id` exists. Each line succeeds or fails alone.
    /// `listIds`: the new `id` of each exception list imported with the rules, by `list_id`;
    /// the rules' references to those lists are pointed at them.
    public func importRules(_ rules: [Result<JSONObject, RuleAPIError>], overwrite: Bool, listIds: [String: String] = [:]) -> JSONObject {
        var errors: [JSONValue] = []
        var ready: [Rule] = []
        var seen = Set<String>()
        for (line, item) in rules.enumerated() {
            do {
                var o = try item.get()
                o["id"] = nil
                for key in ["created_at", "updated_at", "created_by", "updated_by", "revision", "execution_summary"] { o[key] = nil }
                if case .array(let refs)? = o["exceptions_list"], !listIds.isEmpty {
                    o["exceptions_list"] = .array(refs.map { ref in
                        guard case .object(var r) = ref, let listId = r["list_id"]?.stringValue, let id = listIds[listId] else { return ref }
                        r["id"] = .string(id)
                        return .object(r)
                    })
                }
                if let ruleId = o["rule_id"]?.stringValue, !seen.insert(ruleId).inserted {
                    throw RuleAPIError(400, "More than one rule with rule-id: \"\(ruleId)\" found")
                }
                ready.append(try prepare(o, overwrite: overwrite))
            } catch {
                let e = (error as? RuleAPIError) ?? RuleAPIError(500, "\(error)")
                var entry: JSONObject = ["error": ["status_code": .int(Int64(e.status)), "message": .string(e.message)]]
                if let ruleId = (try? item.get())?["rule_id"] { entry["rule_id"] = ruleId } else { entry["id"] = .string("line \(line + 1)") }
                errors.append(.object(entry))
            }
        }
        var ok = ready.count
        do {
            try control.save(ready, now: clock())
        } catch {
            errors.append(["error": ["status_code": 500, "message": .string("the rules could not be saved: \(error)")]])
            ok = 0
        }
        return [
            "success": .bool(errors.isEmpty), "success_count": .int(Int64(ok)), "rules_count": .int(Int64(rules.count)),
            "errors": .array(errors),
            "exceptions_success": true, "exceptions_success_count": 0, "exceptions_errors": [],
            "action_connectors_success": true, "action_connectors_success_count": 0, "action_connectors_errors": [],
            "action_connectors_warnings": [],
        ]
    }

    /// The exception lists (`list_id`, no `item_id`) and items (`item_id`) of an NDJSON import.
    public static func exceptionLines(_ bytes: [UInt8]) -> (lists: [JSONObject], items: [JSONObject]) {
        var lists: [JSONObject] = [], items: [JSONObject] = []
        for line in bytes.split(separator: 0x0A) {
            guard case .object(let o)? = try? JSONParser().parse(Array(line)), o["rule_id"] == nil else { continue }
            if o["item_id"] != nil { items.append(o) } else if o["list_id"] != nil { lists.append(o) }
        }
        return (lists, items)
    }

    /// The lines of an NDJSON import: rules, with the export summary line and the exception
    /// lists and items left out.
    public static func importLines(_ bytes: [UInt8]) -> [Result<JSONObject, RuleAPIError>] {
        var out: [Result<JSONObject, RuleAPIError>] = []
        for line in bytes.split(separator: 0x0A) {
            guard line.contains(where: { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }) else { continue }
            do {
                guard case .object(let o) = try JSONParser().parse(Array(line)) else {
                    out.append(.failure(.badRequest("a line is not a JSON object")))
                    continue
                }
                if o["rule_id"] == nil && o["exported_count"] != nil { continue }
                if o["list_id"] != nil || o["item_id"] != nil { continue }
                out.append(.success(o))
            } catch {
                out.append(.failure(.badRequest("Unexpected token in JSON: \(error)")))
            }
        }
        return out
    }
}

extension JSONValue {
    mutating func setErrors(_ errors: [JSONValue]) {
        if case .object(var o) = self {
            o["errors"] = .array(errors)
            self = .object(o)
        }
    }
}

/// `_find` filters: KQL over the saved object's `alert.attributes.*` names, read from the
/// rule's JSON (`alert.attributes.params.riskScore` is `risk_score`).
enum RuleFilter {
    static func ruleField(_ name: String) -> String {
        var n = name
        for prefix in ["alert.attributes.params.", "alert.attributes."] where n.hasPrefix(prefix) {
            n.removeFirst(prefix.count)
            break
        }
        switch n {
        case "ruleId": return "rule_id"
        case "createdAt": return "created_at"
        case "updatedAt": return "updated_at"
        case "alertTypeId": return "type"
        default: break
        }
        // camelCase → snake_case
        var out = ""
        for c in n {
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
        }
        return out
    }

    static func values(_ v: JSONValue?) -> [String] {
        switch v {
        case .array(let a)?: return a.flatMap { values($0) }
        case .string(let s)?: return [s]
        case .bool(let b)?: return [String(b)]
        case .int(let i)?: return [String(i)]
        case .uint(let u)?: return [String(u)]
        case .double(let d)?: return [String(d)]
        default: return []
        }
    }

    static func value(_ o: JSONObject, _ path: String) -> JSONValue? { FieldPath.value(at: path, in: .object(o)) }

    static func matches(_ node: KQLNode, _ o: JSONObject) -> Bool {
        switch node {
        case .or(let xs): return xs.contains { matches($0, o) }
        case .and(let xs): return xs.allSatisfy { matches($0, o) }
        case .not(let x): return !matches(x, o)
        case .nested(let path, let inner): return matches(inner, value(o, ruleField(path))?.objectValue ?? JSONObject())
        case .match(let field, let values):
            let have = field.map { self.values(value(o, ruleField($0))) } ?? o.entries.flatMap { self.values($0.value) }
            return test(values, have)
        case .range(let field, let op, let bound):
            return self.values(value(o, ruleField(field))).contains { v in
                let c: Bool
                if let a = Double(v), let b = Double(bound.text) {
                    c = compare(a, b, op)
                } else {
                    c = compare(v, bound.text, op)
                }
                return c
            }
        }
    }

    static func compare<T: Comparable>(_ a: T, _ b: T, _ op: Expr.Comparison) -> Bool {
        switch op {
        case .lt: a < b
        case .le: a <= b
        case .gt: a > b
        case .ge: a >= b
        case .eq: a == b
        case .ne: a != b
        }
    }

    static func test(_ values: KQLValues, _ have: [String]) -> Bool {
        switch values {
        case .or(let xs): return xs.contains { test($0, have) }
        case .and(let xs): return xs.allSatisfy { test($0, have) }
        case .not(let x): return !test(x, have)
        case .value(let v):
            if v.wildcard {
                if v.text == "*" { return !have.isEmpty }
                return have.contains { Wildcard.matches(v.text.lowercased(), $0.lowercased()) }
            }
            // Text fields (name, description) match a word; keywords and flags the whole value.
            return have.contains { $0 == v.text || $0.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).contains(Substring(v.text.lowercased())) || (v.quoted && $0.lowercased().contains(v.text.lowercased())) }
        }
    }

    /// Sort order of a rule field: numbers as numbers, the rest as text.
    enum SortKey: Comparable {
        case missing
        case number(Double)
        case text(String)
    }

    static func sortKey(_ v: JSONValue?) -> SortKey {
        switch v {
        case .int(let i)?: return .number(Double(i))
        case .double(let d)?: return .number(d)
        case .bool(let b)?: return .number(b ? 1 : 0)
        case .string(let s)?: return .text(s.lowercased())
        default: return .missing
        }
    }
}
