import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Mustache
public import VigilJSON
public import VigilStore

/// Kibana's connectors (`/api/actions/connector…`) of the two kinds a rule's actions fire per
/// alert batch here: `.webhook` (an HTTP request with a templated body) and `.index` (documents
/// written to an index of this store). Secrets are kept, never returned.
public struct ConnectorService: Sendable {
    public let control: ControlStore
    public let store: Store
    static let kind = "connector"
    static let types: Set<String> = [".webhook", ".index"]

    public init(control: ControlStore, store: Store) {
        self.control = control
        self.store = store
    }

    /// A connector as the API shows it (without its secrets).
    static func output(_ o: JSONObject) -> JSONObject {
        var out = o
        out["secrets"] = nil
        out["is_preconfigured"] = false
        out["is_deprecated"] = false
        out["is_system_action"] = false
        out["is_missing_secrets"] = false
        return out
    }

    static func validate(type: String, config: JSONObject) throws(RuleAPIError) {
        guard types.contains(type) else {
            throw .badRequest("connector type [\(type)] is not supported here; Vigil runs .webhook and .index connectors")
        }
        switch type {
        case ".webhook":
            guard let url = config["url"]?.stringValue, let u = URL(string: url), ["http", "https"].contains(u.scheme ?? "") else {
                throw .badRequest("error validating connector type config: [url]: expected an http or https URL")
            }
            if let m = config["method"]?.stringValue, !["post", "put", "patch"].contains(m.lowercased()) {
                throw .badRequest("error validating connector type config: [method]: expected post, put or patch")
            }
        default:
            guard let index = config["index"]?.stringValue, !index.isEmpty else {
                throw .badRequest("error validating connector type config: [index]: expected value of type [string] but got [undefined]")
            }
        }
    }

    public func create(id: String?, _ body: JSONObject) throws -> JSONObject {
        guard let name = body["name"]?.stringValue, !name.isEmpty else { throw RuleAPIError.badRequest("[request body.name]: expected value of type [string] but got [undefined]") }
        guard let type = body["connector_type_id"]?.stringValue else { throw RuleAPIError.badRequest("[request body.connector_type_id]: expected value of type [string] but got [undefined]") }
        let config = body["config"]?.objectValue ?? JSONObject()
        try ConnectorService.validate(type: type, config: config)
        let id = id ?? UUID().uuidString.lowercased()
        if try control.object(ConnectorService.kind, id: id) != nil { throw RuleAPIError(409, "This connector id is already in use: \(id)") }
        let o: JSONObject = ["id": .string(id), "name": .string(name), "connector_type_id": .string(type), "config": .object(config),
                             "secrets": body["secrets"] ?? .object(JSONObject())]
        _ = try control.put(ConnectorService.kind, [ControlStore.Object(id: id, key: id, parent: nil, json: o)])
        return ConnectorService.output(o)
    }

    func connector(_ id: String) throws -> JSONObject {
        guard let o = try control.object(ConnectorService.kind, id: id) else { throw RuleAPIError(404, "Saved object [action/\(id)] not found") }
        return o.json
    }

    public func read(_ id: String) throws -> JSONObject { ConnectorService.output(try connector(id)) }

    public func update(_ id: String, _ body: JSONObject) throws -> JSONObject {
        var o = try connector(id)
        if let name = body["name"] { o["name"] = name }
        if let config = body["config"]?.objectValue {
            try ConnectorService.validate(type: o["connector_type_id"]?.stringValue ?? "", config: config)
            o["config"] = .object(config)
        }
        if let secrets = body["secrets"] { o["secrets"] = secrets }
        _ = try control.put(ConnectorService.kind, [ControlStore.Object(id: id, key: id, parent: nil, json: o)])
        return ConnectorService.output(o)
    }

    public func delete(_ id: String) throws {
        _ = try connector(id)
        try control.delete(ConnectorService.kind, ids: [id])
    }

    public func list() throws -> [JSONValue] {
        try control.objects(ConnectorService.kind).map { .object(ConnectorService.output($0.json)) }
    }

    /// `_execute`: runs the connector once with `params`, answering as Kibana does.
    public func execute(_ id: String, params: JSONObject) throws -> JSONObject {
        let c = try connector(id)
        do {
            let data = try run(c, params: params)
            return ["status": "ok", "connector_id": .string(id), "data": data]
        } catch let e as ActionError {
            return ["status": "error", "connector_id": .string(id), "message": .string(e.message), "service_message": .string(e.detail), "retry": false]
        }
    }

    struct ActionError: Error {
        var message: String
        var detail: String
    }

    /// Runs a connector with rendered params.
    func run(_ connector: JSONObject, params: JSONObject) throws -> JSONValue {
        let config = connector["config"]?.objectValue ?? JSONObject()
        switch connector["connector_type_id"]?.stringValue {
        case ".webhook":
            let body = params["body"]?.stringValue ?? ""
            let (status, answer) = try ConnectorService.send(config: config, secrets: connector["secrets"]?.objectValue ?? JSONObject(), body: body)
            guard (200..<300).contains(status) else {
                throw ActionError(message: "error calling webhook, retry later", detail: "status \(status): \(answer)")
            }
            return .string(answer)
        case ".index":
            let index = config["index"]?.stringValue ?? ""
            var docs = params["documents"]?.arrayValue ?? []
            if let field = config["executionTimeField"]?.stringValue, !field.isEmpty {
                let now = JSONValue.string(DateFormats.formatISO(Clock.nowMillis()))
                docs = docs.map { d in
                    guard case .object(var o) = d else { return d }
                    o[field] = now
                    return .object(o)
                }
            }
            let writer = JSONWriter()
            let ops = docs.map { WriteOperation.index(id: nil, source: writer.encode($0), create: false, ifSeqNo: nil, ifPrimaryTerm: nil) }
            let results = store.bulk(targets: Array(repeating: index, count: ops.count), operations: ops)
            if let bad = results.first(where: { $0.status >= 300 }) {
                throw ActionError(message: "error indexing documents", detail: bad.error?.message ?? "status \(bad.status)")
            }
            if config["refresh"]?.boolValue == true, let i = store.index(named: index) { try? i.refresh() }
            return ["errors": false, "items": .int(Int64(results.count))]
        default:
            throw ActionError(message: "unsupported connector", detail: connector["connector_type_id"]?.stringValue ?? "")
        }
    }

    /// One HTTP request, waited for (the scheduler runs on a worker thread).
    static func send(config: JSONObject, secrets: JSONObject, body: String) throws -> (Int, String) {
        guard let url = URL(string: config["url"]?.stringValue ?? "") else { throw ActionError(message: "error calling webhook", detail: "bad URL") }
        var request = URLRequest(url: url)
        request.httpMethod = (config["method"]?.stringValue ?? "post").uppercased()
        request.httpBody = Data(body.utf8)
        request.timeoutInterval = 30
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        for e in config["headers"]?.objectValue?.entries ?? [] {
            if let v = e.value.stringValue { request.setValue(v, forHTTPHeaderField: e.key) }
        }
        if let user = secrets["user"]?.stringValue, let password = secrets["password"]?.stringValue {
            request.setValue("Basic " + Data("\(user):\(password)".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
        }
        final class Box: @unchecked Sendable {
            var status = 0
            var text = ""
            var error: (any Error)?
        }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            box.status = (response as? HTTPURLResponse)?.statusCode ?? 0
            box.text = data.map { String(decoding: $0, as: UTF8.self) } ?? ""
            box.error = error
            done.signal()
        }.resume()
        done.wait()
        if let error = box.error { throw ActionError(message: "error calling webhook, retry later", detail: error.localizedDescription) }
        return (box.status, box.text)
    }

    // MARK: - rule actions

    /// Fires a rule's actions for the new alerts of one execution: a summary action once per
    /// batch, a per-alert action once per alert. Returns what each did.
    public func fire(rule: Rule, alerts: [Alert], now: Int64) -> [JSONValue] {
        guard !alerts.isEmpty, rule.json["throttle"]?.stringValue != "no_actions" else { return [] }
        var out: [JSONValue] = []
        for action in rule.json["actions"]?.arrayValue ?? [] {
            guard let id = action["id"]?.stringValue else { continue }
            let summary = action["frequency"]?["summary"]?.boolValue ?? true
            let batches = summary ? [alerts] : alerts.map { [$0] }
            for batch in batches {
                var result: JSONObject = ["id": .string(id), "action_type_id": action["action_type_id"] ?? .null]
                do {
                    let c = try connector(id)
                    let context = ActionContext.context(rule: rule, alerts: batch, now: now)
                    let escaping = c["connector_type_id"]?.stringValue == ".webhook" ? "JSON" : "TEXT"
                    let params = ActionContext.render(action["params"] ?? .object(JSONObject()), context: context, contentType: escaping)
                    _ = try run(c, params: params.objectValue ?? JSONObject())
                    result["status"] = "ok"
                } catch let e as ActionError {
                    result["status"] = "error"
                    result["message"] = .string("\(e.message): \(e.detail)")
                } catch let e as RuleAPIError {
                    result["status"] = "error"
                    result["message"] = .string(e.message)
                } catch {
                    result["status"] = "error"
                    result["message"] = .string("\(error)")
                }
                out.append(.object(result))
            }
        }
        return out
    }
}

/// The variables of a rule action's templates, as Kibana's security rules offer them:
/// `context.rule.*`, `context.alerts` (each alert with dotted keys expanded), `state.signals_count`,
/// `alerts.new.count`/`data`, `rule.id`/`name`/`tags`, `date`.
enum ActionContext {
    /// JSON text escaping for values put inside a JSON body.
    struct JSONContentType: MustacheContentType {
        func escapeText(_ text: String) -> String {
            let encoded = String(decoding: JSONWriter().encode(.string(text)), as: UTF8.self)
            return String(encoded.dropFirst().dropLast())
        }
    }

    static let registered: Bool = {
        MustacheContentTypes.register(JSONContentType(), named: "JSON")
        return true
    }()

    static func context(rule: Rule, alerts: [Alert], now: Int64) -> JSONValue {
        var ruleContext = rule.json
        ruleContext["execution_summary"] = nil
        let docs: [JSONValue] = alerts.map { a in
            var d = expand(a.document)
            d["_id"] = .string(a.id)
            d["_index"] = .string(DetectionEngine.alertsIndex)
            return .object(d)
        }
        return [
            "context": ["rule": .object(ruleContext), "alerts": .array(docs), "results_link": ""],
            "state": ["signals_count": .int(Int64(alerts.count))],
            "alerts": ["new": ["count": .int(Int64(alerts.count)), "data": .array(docs)], "all": ["count": .int(Int64(alerts.count))]],
            "rule": ["id": rule.json["id"] ?? .null, "name": .string(rule.name), "tags": rule.json["tags"] ?? [], "type": .string(rule.typeName)],
            "date": .string(DateFormats.formatISO(now)),
        ]
    }

    /// Dotted keys (`kibana.alert.rule.name`) as nested objects, merged with those already there.
    static func expand(_ o: JSONObject) -> JSONObject {
        var out = JSONObject()
        for e in o.entries {
            let parts = e.key.split(separator: ".").map(String.init)
            let value: JSONValue = e.value.objectValue.map { .object(expand($0)) } ?? e.value
            out = insert(out, parts[...], value)
        }
        return out
    }

    static func insert(_ o: JSONObject, _ path: ArraySlice<String>, _ value: JSONValue) -> JSONObject {
        var o = o
        guard let head = path.first else { return o }
        if path.count == 1 {
            if case .object(let existing)? = o[head], case .object(let add) = value {
                var merged = existing
                for e in add.entries { merged = insert(merged, [e.key][...], e.value) }
                o[head] = .object(merged)
            } else {
                o[head] = value
            }
            return o
        }
        o[head] = .object(insert(o[head]?.objectValue ?? JSONObject(), path.dropFirst(), value))
        return o
    }

    /// Every string of the params rendered as a template (a bad template stays as written).
    static func render(_ v: JSONValue, context: JSONValue, contentType: String) -> JSONValue {
        _ = registered
        switch v {
        case .string(let s):
            guard s.contains("{{"), let t = try? MustacheTemplate(string: "{{% CONTENT_TYPE: \(contentType)}}" + s) else { return v }
            return .string(t.render(Node.box(context)))
        case .array(let a): return .array(a.map { render($0, context: context, contentType: contentType) })
        case .object(let o):
            var out = JSONObject()
            for e in o.entries { out[e.key] = render(e.value, context: context, contentType: contentType) }
            return .object(out)
        default: return v
        }
    }

    /// JSON values for the template engine: objects answer their keys and print as JSON,
    /// arrays are sections and print as JSON, scalars print as text.
    struct Node: MustacheParent, MustacheCustomRenderable {
        let value: JSONValue
        func child(named name: String) -> Any? { value[name].map(Node.box) }
        var renderText: String {
            switch value {
            case .string(let s): return s
            case .null: return ""
            case .bool, .int, .uint, .double: return String(decoding: JSONWriter().encode(value), as: UTF8.self)
            default: return String(decoding: JSONWriter().encode(value), as: UTF8.self)
            }
        }
        var isNull: Bool { value.isNull }

        static func box(_ v: JSONValue) -> Any {
            switch v {
            case .array(let a): return List(items: a)
            case .bool(let b): return b
            default: return Node(value: v)
            }
        }
    }

    struct List: MustacheSequence, MustacheCustomRenderable {
        let items: [JSONValue]
        func makeIterator() -> IndexingIterator<[Any]> { items.map(Node.box).makeIterator() }
        var renderText: String { String(decoding: JSONWriter().encode(.array(items)), as: UTF8.self) }
        var isNull: Bool { false }
    }
}
