import Foundation
public import VigilJSON
import VigilQuery
import VigilStore

/// Kibana's exception lists (`/api/exception_lists`), their items, and value lists
/// (`/api/lists`), in the control store; and the query a rule's `exceptions_list` adds:
/// an event that any item matches (every entry of the item holds) raises no alert.
public struct ExceptionService: Sendable {
    public let control: ControlStore
    public var clock: @Sendable () -> Int64 = { Clock.nowMillis() }

    public init(control: ControlStore) { self.control = control }

    static let listKind = "exception_list", itemKind = "exception_item"
    static let valueListKind = "value_list", valueKind = "value_list_item"

    static func key(_ namespace: String, _ id: String) -> String { namespace + ":" + id }

    static func namespace(_ v: JSONValue?) throws(RuleAPIError) -> String {
        let n = v?.stringValue ?? "single"
        guard n == "single" || n == "agnostic" else { throw .badRequest("namespace_type: Invalid enum value. Expected 'agnostic' | 'single', received '\(n)'") }
        return n
    }

    func stamps(_ o: inout JSONObject, old: JSONObject?) {
        let now = JSONValue.string(DateFormats.formatISO(clock()))
        o["created_at"] = old?["created_at"] ?? now
        o["created_by"] = old?["created_by"] ?? "elastic"
        o["updated_at"] = now
        o["updated_by"] = "elastic"
        o["tie_breaker_id"] = old?["tie_breaker_id"] ?? .string(UUID().uuidString.lowercased())
        o["_version"] = .string(UUID().uuidString.lowercased().prefix(8).description)
    }

    static func require(_ o: JSONObject, _ keys: [String]) throws(RuleAPIError) {
        let missing = keys.filter { o[$0]?.stringValue == nil }
        if !missing.isEmpty { throw .badRequest(missing.map { "\($0): Required" }.joined(separator: ", ")) }
    }

    // MARK: - lists

    public func createList(_ body: JSONObject) throws -> JSONObject {
        try ExceptionService.require(body, ["name", "description", "type"])
        let types: Set<String> = ["detection", "rule_default", "endpoint", "endpoint_trusted_apps", "endpoint_events", "endpoint_host_isolation_exceptions", "endpoint_blocklists"]
        guard let type = body["type"]?.stringValue, types.contains(type) else { throw RuleAPIError.badRequest("type: Invalid enum value") }
        let namespace = try ExceptionService.namespace(body["namespace_type"])
        var o = body
        let listId = body["list_id"]?.stringValue ?? UUID().uuidString.lowercased()
        o["list_id"] = .string(listId)
        o["id"] = .string(UUID().uuidString.lowercased())
        o["namespace_type"] = .string(namespace)
        for (k, v) in [("tags", JSONValue.array([])), ("os_types", []), ("immutable", false), ("version", 1)] where o[k] == nil { o[k] = v }
        stamps(&o, old: nil)
        let object = ControlStore.Object(id: o["id"]!.stringValue!, key: ExceptionService.key(namespace, listId), parent: nil, json: o)
        guard try control.put(ExceptionService.listKind, [object]) else { throw RuleAPIError(409, "exception list id: \"\(listId)\" already exists") }
        return o
    }

    func list(id: String?, listId: String?, namespace: JSONValue?) throws -> ControlStore.Object {
        let ns = try ExceptionService.namespace(namespace)
        if let id, let o = try control.object(ExceptionService.listKind, id: id) { return o }
        if let listId, let o = try control.object(ExceptionService.listKind, key: ExceptionService.key(ns, listId)) { return o }
        if id == nil && listId == nil { throw RuleAPIError.badRequest("either \"list_id\" or \"id\" needs to be defined in the request") }
        throw RuleAPIError(404, "exception list \(id != nil ? "id" : "list_id"): \"\(id ?? listId ?? "")\" does not exist")
    }

    /// The exception lists and items of a Kibana rule export (`_import`): each list with its
    /// items. A list whose `list_id` exists is replaced, items and all, with `overwrite`, and
    /// skipped (with an error) otherwise. Returns how many lists and items were imported, the
    /// errors in Kibana's shape, and each imported list's new `id` by `list_id`.
    public func importExceptions(lists: [JSONObject], items: [JSONObject], overwrite: Bool) -> (count: Int, errors: [JSONValue], ids: [String: String]) {
        var count = 0
        var errors: [JSONValue] = []
        var ids: [String: String] = [:]
        let stored = ["id", "created_at", "created_by", "updated_at", "updated_by", "tie_breaker_id", "_version", "meta"]
        func failure(_ e: any Error, _ keys: JSONObject) {
            let error = (e as? RuleAPIError) ?? RuleAPIError(500, "\(e)")
            var entry = keys
            entry["error"] = ["status_code": .int(Int64(error.status)), "message": .string(error.message)]
            errors.append(.object(entry))
        }
        for list in lists {
            var o = list
            for key in stored { o[key] = nil }
            let listId = o["list_id"]?.stringValue ?? ""
            let namespace = o["namespace_type"]?.stringValue ?? "single"
            do {
                if (try? self.list(id: nil, listId: listId, namespace: .string(namespace))) != nil {
                    guard overwrite else {
                        throw RuleAPIError(409, "Found that list_id: \"\(listId)\" already exists. Import of list_id: \"\(listId)\" skipped.")
                    }
                    _ = try deleteList(["list_id": listId, "namespace_type": namespace])
                }
                let made = try createList(o)
                ids[listId] = made["id"]?.stringValue
                count += 1
            } catch {
                failure(error, ["list_id": .string(listId)])
            }
        }
        for item in items {
            var o = item
            for key in stored { o[key] = nil }
            let listId = o["list_id"]?.stringValue ?? ""
            // Items of a list that was not imported (it existed) stay as they are.
            guard ids[listId] != nil else { continue }
            do {
                _ = try createItem(o)
                count += 1
            } catch {
                failure(error, ["list_id": .string(listId), "item_id": o["item_id"] ?? .null])
            }
        }
        return (count, errors, ids)
    }

    public func readList(_ params: [String: String]) throws -> JSONObject {
        try list(id: params["id"], listId: params["list_id"], namespace: params["namespace_type"].map { .string($0) }).json
    }

    public func updateList(_ body: JSONObject) throws -> JSONObject {
        let old = try list(id: body["id"]?.stringValue, listId: body["list_id"]?.stringValue, namespace: body["namespace_type"])
        try ExceptionService.require(body, ["name", "description", "type"])
        var o = old.json
        for e in body.entries where !["id", "list_id", "namespace_type"].contains(e.key) { o[e.key] = e.value }
        o["version"] = .int((old.json["version"]?.int64Value ?? 1) + 1)
        stamps(&o, old: old.json)
        _ = try control.put(ExceptionService.listKind, [ControlStore.Object(id: old.id, key: old.key, parent: nil, json: o)])
        return o
    }

    public func deleteList(_ params: [String: String]) throws -> JSONObject {
        let old = try list(id: params["id"], listId: params["list_id"], namespace: params["namespace_type"].map { .string($0) })
        try control.delete(ExceptionService.listKind, ids: [old.id], childKind: ExceptionService.itemKind)
        return old.json
    }

    public func findLists(_ params: [String: String]) throws -> JSONObject {
        let namespaces = Set((params["namespace_type"] ?? "single").split(separator: ",").map(String.init))
        var lists = try control.objects(ExceptionService.listKind).map(\.json).filter { namespaces.contains($0["namespace_type"]?.stringValue ?? "single") }
        if let filter = params["filter"], !filter.isEmpty {
            let node = try ExceptionService.parseFilter(filter)
            lists = lists.filter { RuleFilter.matches(node, $0) }
        }
        return try ExceptionService.page(lists, params)
    }

    // MARK: - items

    static func validEntries(_ v: JSONValue?) throws(RuleAPIError) -> [JSONValue] {
        guard let entries = v?.arrayValue else { throw .badRequest("entries: Required") }
        if entries.isEmpty { throw .badRequest("entries: Array must contain at least 1 element(s)") }
        for e in entries {
            guard let field = e["field"]?.stringValue, !field.isEmpty else { throw .badRequest("entries.field: Required") }
            let type = e["type"]?.stringValue ?? ""
            if type != "nested" {
                let op = e["operator"]?.stringValue ?? ""
                guard op == "included" || op == "excluded" else { throw .badRequest("entries.operator: Invalid enum value. Expected 'excluded' | 'included'") }
            }
            switch type {
            case "match", "wildcard":
                guard let s = e["value"]?.stringValue, !s.isEmpty else { throw .badRequest("entries.value: Required for \(type) on \(field)") }
            case "match_any":
                guard let a = e["value"]?.arrayValue, !a.isEmpty, a.allSatisfy({ $0.stringValue != nil }) else { throw .badRequest("entries.value: a non-empty array of strings is required for match_any on \(field)") }
            case "exists": break
            case "list":
                guard e["list"]?["id"]?.stringValue != nil else { throw .badRequest("entries.list.id: Required for list on \(field)") }
            case "nested":
                _ = try validEntries(e["entries"])
            default:
                throw .badRequest("entries.type: Invalid discriminator value. Expected 'exists' | 'list' | 'match' | 'match_any' | 'nested' | 'wildcard'")
            }
        }
        return entries
    }

    public func createItem(_ body: JSONObject, listId forced: String? = nil, namespace forcedNamespace: String? = nil) throws -> JSONObject {
        var o = body
        if let forced { o["list_id"] = .string(forced) }
        if let forcedNamespace { o["namespace_type"] = .string(forcedNamespace) }
        try ExceptionService.require(o, ["list_id", "name", "description"])
        if o["type"] == nil { o["type"] = "simple" }
        guard o["type"]?.stringValue == "simple" else { throw RuleAPIError.badRequest("type: Invalid literal value, expected \"simple\"") }
        _ = try ExceptionService.validEntries(o["entries"])
        let namespace = try ExceptionService.namespace(o["namespace_type"])
        let listId = o["list_id"]!.stringValue!
        guard try control.object(ExceptionService.listKind, key: ExceptionService.key(namespace, listId)) != nil else {
            throw RuleAPIError(404, "exception list id: \"\(listId)\" does not exist")
        }
        let itemId = o["item_id"]?.stringValue ?? UUID().uuidString.lowercased()
        o["item_id"] = .string(itemId)
        o["id"] = .string(UUID().uuidString.lowercased())
        o["namespace_type"] = .string(namespace)
        for (k, v) in [("tags", JSONValue.array([])), ("os_types", []), ("comments", [])] where o[k] == nil { o[k] = v }
        stamps(&o, old: nil)
        let object = ControlStore.Object(id: o["id"]!.stringValue!, key: ExceptionService.key(namespace, itemId), parent: ExceptionService.key(namespace, listId), json: o)
        guard try control.put(ExceptionService.itemKind, [object]) else { throw RuleAPIError(409, "exception list item id: \"\(itemId)\" already exists") }
        return o
    }

    func item(id: String?, itemId: String?, namespace: JSONValue?) throws -> ControlStore.Object {
        let ns = try ExceptionService.namespace(namespace)
        if let id, let o = try control.object(ExceptionService.itemKind, id: id) { return o }
        if let itemId, let o = try control.object(ExceptionService.itemKind, key: ExceptionService.key(ns, itemId)) { return o }
        if id == nil && itemId == nil { throw RuleAPIError.badRequest("either \"item_id\" or \"id\" needs to be defined in the request") }
        throw RuleAPIError(404, "exception list item \(id != nil ? "id" : "item_id"): \"\(id ?? itemId ?? "")\" does not exist")
    }

    public func readItem(_ params: [String: String]) throws -> JSONObject {
        try item(id: params["id"], itemId: params["item_id"], namespace: params["namespace_type"].map { .string($0) }).json
    }

    public func updateItem(_ body: JSONObject) throws -> JSONObject {
        let old = try item(id: body["id"]?.stringValue, itemId: body["item_id"]?.stringValue, namespace: body["namespace_type"])
        try ExceptionService.require(body, ["name", "description"])
        _ = try ExceptionService.validEntries(body["entries"])
        var o = old.json
        for e in body.entries where !["id", "item_id", "list_id", "namespace_type"].contains(e.key) { o[e.key] = e.value }
        stamps(&o, old: old.json)
        _ = try control.put(ExceptionService.itemKind, [ControlStore.Object(id: old.id, key: old.key, parent: old.parent, json: o)])
        return o
    }

    public func deleteItem(_ params: [String: String]) throws -> JSONObject {
        let old = try item(id: params["id"], itemId: params["item_id"], namespace: params["namespace_type"].map { .string($0) })
        try control.delete(ExceptionService.itemKind, ids: [old.id])
        return old.json
    }

    public func findItems(_ params: [String: String]) throws -> JSONObject {
        guard let ids = params["list_id"] else { throw RuleAPIError.badRequest("list_id: Required") }
        let listIds = ids.split(separator: ",").map(String.init)
        let namespaces = (params["namespace_type"] ?? "single").split(separator: ",").map(String.init)
        var items: [JSONObject] = []
        for (i, listId) in listIds.enumerated() {
            let ns = i < namespaces.count ? namespaces[i] : namespaces.last ?? "single"
            let key = ExceptionService.key(ns, listId)
            guard try control.object(ExceptionService.listKind, key: key) != nil else {
                throw RuleAPIError(404, "exception list id: \"\(listId)\" does not exist")
            }
            items += try control.objects(ExceptionService.itemKind, parent: key).map(\.json)
        }
        if let filter = params["filter"], !filter.isEmpty {
            let node = try ExceptionService.parseFilter(filter)
            items = items.filter { RuleFilter.matches(node, $0) }
        }
        return try ExceptionService.page(items, params)
    }

    /// `POST /api/detection_engine/rules/{id}/exceptions`: items on the rule's own list
    /// (a `rule_default` list, made and attached to the rule the first time).
    public func addRuleExceptions(rules: RuleService, ruleId id: String, body: JSONObject) throws -> [JSONValue] {
        guard let items = body["items"]?.arrayValue else { throw RuleAPIError.badRequest("items: Required") }
        var rule = try rules.find(id: id, ruleId: nil)
        var lists = rule.json["exceptions_list"]?.arrayValue ?? []
        let existing = lists.first { $0["type"]?.stringValue == "rule_default" }
        let listId: String
        if let existing, let l = existing["list_id"]?.stringValue {
            listId = l
        } else {
            let made = try createList(["name": .string("Exceptions for rule - \(rule.name)"), "description": .string("Exceptions for rule - \(rule.name)"), "type": "rule_default", "namespace_type": "single"])
            listId = made["list_id"]!.stringValue!
            lists.append(["id": made["id"]!, "list_id": .string(listId), "type": "rule_default", "namespace_type": "single"])
            rule.json["exceptions_list"] = .array(lists)
            try rules.control.save([rule], now: clock())
        }
        return try items.map { item in
            guard case .object(let o) = item else { throw RuleAPIError.badRequest("items: Expected object") }
            return .object(try createItem(o, listId: listId, namespace: "single"))
        }
    }

    // MARK: - value lists

    static let valueTypes: Set<String> = ["keyword", "ip", "ip_range", "text", "binary", "boolean", "byte", "date", "date_nanos", "date_range",
                                          "double", "double_range", "float", "float_range", "half_float", "integer", "integer_range", "long", "long_range", "short", "shape", "geo_point", "geo_shape"]

    public func createValueList(_ body: JSONObject) throws -> JSONObject {
        try ExceptionService.require(body, ["name", "type"])
        guard let type = body["type"]?.stringValue, ExceptionService.valueTypes.contains(type) else { throw RuleAPIError.badRequest("type: Invalid enum value") }
        var o = body
        let id = body["id"]?.stringValue ?? UUID().uuidString.lowercased()
        if try control.object(ExceptionService.valueListKind, id: id) != nil { throw RuleAPIError(409, "list id: \"\(id)\" already exists") }
        o["id"] = .string(id)
        if o["description"] == nil { o["description"] = "" }
        o["immutable"] = false
        o["version"] = 1
        stamps(&o, old: nil)
        _ = try control.put(ExceptionService.valueListKind, [ControlStore.Object(id: id, key: id, parent: nil, json: o)])
        return o
    }

    func valueList(_ id: String?) throws -> ControlStore.Object {
        guard let id else { throw RuleAPIError.badRequest("id: Required") }
        guard let o = try control.object(ExceptionService.valueListKind, id: id) else { throw RuleAPIError(404, "list id: \"\(id)\" not found") }
        return o
    }

    public func readValueList(_ params: [String: String]) throws -> JSONObject { try valueList(params["id"]).json }

    public func deleteValueList(_ params: [String: String]) throws -> JSONObject {
        let list = try valueList(params["id"])
        try control.delete(ExceptionService.valueListKind, ids: [list.id], childKind: ExceptionService.valueKind)
        return list.json
    }

    public func findValueLists(_ params: [String: String]) throws -> JSONObject {
        try ExceptionService.page(try control.objects(ExceptionService.valueListKind).map(\.json), params, cursor: true)
    }

    /// Adds values to a value list (a value already there is kept once).
    public func addValues(listId: String?, _ values: [String]) throws -> [JSONObject] {
        let list = try valueList(listId)
        let type = list.json["type"]?.stringValue ?? "keyword"
        var objects: [ControlStore.Object] = []
        var seen = Set<String>()
        for v in values where !v.isEmpty && seen.insert(v).inserted {
            let key = list.id + "\u{1}" + v
            if let existing = try control.object(ExceptionService.valueKind, key: key) {
                objects.append(existing)
                continue
            }
            var o: JSONObject = ["id": .string(UUID().uuidString.lowercased()), "list_id": .string(list.id), "type": .string(type), "value": .string(v)]
            stamps(&o, old: nil)
            objects.append(ControlStore.Object(id: o["id"]!.stringValue!, key: key, parent: list.id, json: o))
        }
        _ = try control.put(ExceptionService.valueKind, objects)
        return objects.map(\.json)
    }

    public func readValue(_ params: [String: String]) throws -> JSONValue {
        if let id = params["id"] {
            guard let o = try control.object(ExceptionService.valueKind, id: id) else { throw RuleAPIError(404, "list item id: \"\(id)\" not found") }
            return .object(o.json)
        }
        let list = try valueList(params["list_id"])
        guard let value = params["value"] else { throw RuleAPIError.badRequest("value: Required") }
        guard let o = try control.object(ExceptionService.valueKind, key: list.id + "\u{1}" + value) else {
            throw RuleAPIError(404, "list item with list_id: \"\(list.id)\" and value: \"\(value)\" not found")
        }
        return .array([.object(o.json)])
    }

    public func deleteValue(_ params: [String: String]) throws -> JSONValue {
        let found = try readValue(params)
        let items = found.arrayValue ?? [found]
        try control.delete(ExceptionService.valueKind, ids: items.compactMap { $0["id"]?.stringValue })
        return found
    }

    public func findValues(_ params: [String: String]) throws -> JSONObject {
        let list = try valueList(params["list_id"])
        return try ExceptionService.page(try control.objects(ExceptionService.valueKind, parent: list.id).map(\.json), params, cursor: true)
    }

    public func values(of listId: String) throws -> [String] {
        try control.objects(ExceptionService.valueKind, parent: listId).compactMap { $0.json["value"]?.stringValue }
    }

    // MARK: - paging and filters

    static func page(_ all: [JSONObject], _ params: [String: String], cursor: Bool = false) throws(RuleAPIError) -> JSONObject {
        let page = try RuleService.positive(params["page"], "page", default: 1)
        let perPage = try RuleService.positive(params["per_page"], "per_page", default: 20)
        var items = all
        if let field = params["sort_field"] {
            let desc = params["sort_order"] == "desc"
            items.sort { a, b in
                let (x, y) = (RuleFilter.sortKey(a[field]), RuleFilter.sortKey(b[field]))
                return desc ? y < x : x < y
            }
        }
        let start = min((page - 1) * perPage, items.count)
        var out: JSONObject = [
            "data": .array(items[start..<min(start + perPage, items.count)].map { .object($0) }),
            "page": .int(Int64(page)), "per_page": .int(Int64(perPage)), "total": .int(Int64(items.count)),
        ]
        if cursor { out["cursor"] = .string(String(start + perPage)) }
        return out
    }

    /// Saved-object filters name `exception-list.attributes.name` or `exception-list-agnostic.attributes.*`.
    static func parseFilter(_ text: String) throws(RuleAPIError) -> KQLNode {
        var t = text
        for prefix in ["exception-list-agnostic.attributes.", "exception-list.attributes."] { t = t.replacingOccurrences(of: prefix, with: "") }
        do { return try KQLParser.parse(t) } catch { throw .badRequest("filter: \(error.message)") }
    }

    // MARK: - the exceptions of a rule

    /// The query that matches the events a rule's exceptions exclude (nil: none), in the
    /// query DSL: any item, each item all its entries. Expired items are left out.
    public func exclusion(for rule: Rule) throws -> JSONValue? {
        var items: [JSONValue] = []
        let now = clock()
        for ref in rule.json["exceptions_list"]?.arrayValue ?? [] {
            guard let listId = ref["list_id"]?.stringValue else { continue }
            let ns = (try? ExceptionService.namespace(ref["namespace_type"])) ?? "single"
            for item in try control.objects(ExceptionService.itemKind, parent: ExceptionService.key(ns, listId)) {
                if let expires = item.json["expire_time"]?.stringValue, let t = DateFormats.parseISO(expires), t <= now { continue }
                let entries = item.json["entries"]?.arrayValue ?? []
                let clauses = try entries.map { try clause($0, prefix: "") }
                if !clauses.isEmpty { items.append(["bool": ["filter": .array(clauses)]]) }
            }
        }
        if items.isEmpty { return nil }
        return ["bool": ["should": .array(items), "minimum_should_match": 1]]
    }

    /// One entry as a query: `is`, `is one of`, `exists`, `matches`, `is in list`, and their
    /// negations (`excluded`); nested entries read their fields under the parent path.
    func clause(_ e: JSONValue, prefix: String) throws -> JSONValue {
        let field = prefix + (e["field"]?.stringValue ?? "")
        let query: JSONValue
        switch e["type"]?.stringValue ?? "" {
        case "match":
            query = ["match_phrase": [field: e["value"] ?? ""]]
        case "match_any":
            query = ["bool": ["should": .array((e["value"]?.arrayValue ?? []).map { ["match_phrase": [field: $0]] }), "minimum_should_match": 1]]
        case "exists":
            query = ["exists": ["field": .string(field)]]
        case "wildcard":
            query = ["wildcard": [field: ["value": e["value"] ?? "", "case_insensitive": false]]]
        case "list":
            let values = try self.values(of: e["list"]?["id"]?.stringValue ?? "")
            query = values.isEmpty ? ["match_none": [:]] : ["terms": [field: .array(values.map { .string($0) })]]
        case "nested":
            let inner = try (e["entries"]?.arrayValue ?? []).map { try clause($0, prefix: field + ".") }
            return ["bool": ["filter": .array(inner)]]
        default:
            throw RuleAPIError.badRequest("unknown exception entry type on \(field)")
        }
        return e["operator"]?.stringValue == "excluded" ? ["bool": ["must_not": query]] : query
    }
}
