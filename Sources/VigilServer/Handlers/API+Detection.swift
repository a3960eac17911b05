import NIOPosix
import Synchronization
import Foundation
import VigilDetect
import VigilJSON
import VigilQuery
import VigilStore

/// Kibana's detection engine API: rules (`/api/detection_engine/rules…`) and alerts
/// (`/api/detection_engine/signals/…`). Answers and errors are Kibana's, not Elasticsearch's.
extension API {
    func addDetectionRoutes(_ r: inout Router) {
        let base = "/api/detection_engine"
        r.add(["POST"], base + "/rules") { req, _ in try await rulesCall(req) { s in try s.create(try API.ruleBody(req)) } }
        r.add(["GET"], base + "/rules") { req, _ in try await rulesCall(req) { s in try s.output(try s.find(id: req.params["id"], ruleId: req.params["rule_id"])) } }
        r.add(["PUT"], base + "/rules") { req, _ in try await rulesCall(req) { s in try s.update(try API.ruleBody(req)) } }
        r.add(["PATCH"], base + "/rules") { req, _ in try await rulesCall(req) { s in try s.patch(try API.ruleBody(req)) } }
        r.add(["DELETE"], base + "/rules") { req, _ in try await rulesCall(req) { s in try s.delete(id: req.params["id"], ruleId: req.params["rule_id"]) } }
        r.add(["GET"], base + "/rules/_find") { req, _ in try await rulesCall(req) { s in try s.find(params: req.params) } }
        r.add(["POST"], base + "/rules/_bulk_action") { req, _ in try await bulkRuleAction(req) }
        r.add(["POST"], base + "/rules/_import") { req, _ in try await importRules(req) }
        r.add(["POST"], base + "/rules/_export") { req, _ in try await exportRules(req) }
        for prefix in ["/api", "/internal"] {
            r.add(["GET"], prefix + "/detection_engine/rules/{id}/execution/results") { req, c in try await ruleRuns(req, id: c[0]) }
        }
        r.add(["POST"], base + "/signals/search") { req, _ in try await search(req, expression: DetectionEngine.alertsIndex) }
        r.add(["POST"], base + "/signals/status") { req, _ in try await setAlertStatus(req) }
        addExceptionRoutes(&r)
        let connector = "/api/actions/connector"
        r.add(["POST"], connector) { req, _ in try await detectionCall { .object(try $0.connectors.create(id: nil, try API.ruleBody(req))) } }
        r.add(["POST"], connector + "/{id}") { req, c in try await detectionCall { .object(try $0.connectors.create(id: c[0], try API.ruleBody(req))) } }
        r.add(["GET"], connector + "/{id}") { _, c in try await detectionCall { .object(try $0.connectors.read(c[0])) } }
        r.add(["PUT"], connector + "/{id}") { req, c in try await detectionCall { .object(try $0.connectors.update(c[0], try API.ruleBody(req))) } }
        r.add(["DELETE"], connector + "/{id}") { _, c in
            let r = try await detectionCall { try $0.connectors.delete(c[0]); return .null }
            return r.isError ? r : .empty(204)
        }
        r.add(["GET"], "/api/actions/connectors") { _, _ in try await detectionCall { .array(try $0.connectors.list()) } }
        r.add(["POST"], connector + "/{id}/_execute") { req, c in
            guard let detection else { return API.kibana(RuleAPIError(503, "the detection engine is not running")) }
            let params = try API.ruleBody(req)["params"]?.objectValue ?? JSONObject()
            do {
                return .json(.object(try await connectorCalls.run { try detection.connectors.execute(c[0], params: params) }))
            } catch let e as RuleAPIError {
                return API.kibana(e)
            }
        }
        r.add(["GET"], "/api/actions/connector_types") { _, _ in
            .json([["id": ".webhook", "name": "Webhook", "enabled": true, "enabled_in_config": true, "enabled_in_license": true, "minimum_license_required": "basic",
                    "supported_feature_ids": ["alerting", "siem"], "is_system_action_type": false],
                   ["id": ".index", "name": "Index", "enabled": true, "enabled_in_config": true, "enabled_in_license": true, "minimum_license_required": "basic",
                    "supported_feature_ids": ["alerting", "siem"], "is_system_action_type": false]])
        }
    }

    /// A rule request body: a JSON object, or Kibana's 400.
    static func ruleBody(_ req: ESRequest) throws(RuleAPIError) -> JSONObject {
        guard req.hasBody else { throw .badRequest("[request body]: Expected object, received null") }
        guard case .object(let o)? = try? JSONParser().parse(req.body) else {
            throw .badRequest("[request body]: Unexpected token in JSON; the body must be a JSON object")
        }
        return o
    }

    static func kibana(_ e: RuleAPIError) -> ESResponse { .json(.object(e.body), status: e.status) }

    /// Runs a rule service call off the event loops and shapes its answer or error.
    func rulesCall(_ req: ESRequest, _ body: @escaping @Sendable (RuleService) throws -> JSONObject) async throws -> ESResponse {
        try await detectionCall { .object(try body($0.rules)) }
    }

    func detectionCall(_ body: @escaping @Sendable (Detection) throws -> JSONValue) async throws -> ESResponse {
        guard let detection else { return API.kibana(RuleAPIError(503, "the detection engine is not running")) }
        do {
            return .json(try await blocking { try body(detection) })
        } catch let e as RuleAPIError {
            return API.kibana(e)
        }
    }

    func addExceptionRoutes(_ r: inout Router) {
        let lists = "/api/exception_lists"
        r.add(["POST"], lists) { req, _ in try await detectionCall { .object(try $0.exceptions.createList(try API.ruleBody(req))) } }
        r.add(["GET"], lists) { req, _ in try await detectionCall { .object(try $0.exceptions.readList(req.params)) } }
        r.add(["PUT"], lists) { req, _ in try await detectionCall { .object(try $0.exceptions.updateList(try API.ruleBody(req))) } }
        r.add(["DELETE"], lists) { req, _ in try await detectionCall { .object(try $0.exceptions.deleteList(req.params)) } }
        r.add(["GET"], lists + "/_find") { req, _ in try await detectionCall { .object(try $0.exceptions.findLists(req.params)) } }
        r.add(["POST"], lists + "/items") { req, _ in try await detectionCall { .object(try $0.exceptions.createItem(try API.ruleBody(req))) } }
        r.add(["GET"], lists + "/items") { req, _ in try await detectionCall { .object(try $0.exceptions.readItem(req.params)) } }
        r.add(["PUT"], lists + "/items") { req, _ in try await detectionCall { .object(try $0.exceptions.updateItem(try API.ruleBody(req))) } }
        r.add(["DELETE"], lists + "/items") { req, _ in try await detectionCall { .object(try $0.exceptions.deleteItem(req.params)) } }
        r.add(["GET"], lists + "/items/_find") { req, _ in try await detectionCall { .object(try $0.exceptions.findItems(req.params)) } }
        r.add(["POST"], "/api/detection_engine/rules/{id}/exceptions") { req, c in
            try await detectionCall { d in .array(try d.exceptions.addRuleExceptions(rules: d.rules, ruleId: c[0], body: try API.ruleBody(req))) }
        }
        // Value lists (`is in list` entries).
        r.add(["POST"], "/api/lists/index") { _, _ in .json(["acknowledged": true]) }
        r.add(["GET"], "/api/lists/index") { _, _ in .json(["list_index": true, "list_item_index": true]) }
        r.add(["POST"], "/api/lists") { req, _ in try await detectionCall { .object(try $0.exceptions.createValueList(try API.ruleBody(req))) } }
        r.add(["GET"], "/api/lists") { req, _ in try await detectionCall { .object(try $0.exceptions.readValueList(req.params)) } }
        r.add(["DELETE"], "/api/lists") { req, _ in try await detectionCall { .object(try $0.exceptions.deleteValueList(req.params)) } }
        r.add(["GET"], "/api/lists/_find") { req, _ in try await detectionCall { .object(try $0.exceptions.findValueLists(req.params)) } }
        r.add(["POST"], "/api/lists/items") { req, _ in
            try await detectionCall { d in
                let body = try API.ruleBody(req)
                guard let value = body["value"]?.stringValue else { throw RuleAPIError.badRequest("value: Required") }
                return .object(try d.exceptions.addValues(listId: body["list_id"]?.stringValue, [value]).first ?? JSONObject())
            }
        }
        r.add(["GET"], "/api/lists/items") { req, _ in try await detectionCall { try $0.exceptions.readValue(req.params) } }
        r.add(["DELETE"], "/api/lists/items") { req, _ in try await detectionCall { try $0.exceptions.deleteValue(req.params) } }
        r.add(["GET"], "/api/lists/items/_find") { req, _ in try await detectionCall { .object(try $0.exceptions.findValues(req.params)) } }
        r.add(["POST"], "/api/lists/items/_import") { req, _ in
            // A file of values, one per line (a multipart form as Kibana sends it, or the bare text).
            var content = req.body
            if let type = req.contentType, type.lowercased().hasPrefix("multipart/form-data") {
                guard let file = Multipart.firstFile(req.body, contentType: type) else { return API.kibana(.badRequest("expected a file part in the multipart form")) }
                content = file
            }
            let values = String(decoding: content, as: UTF8.self).split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            return try await detectionCall { d in
                _ = try d.exceptions.addValues(listId: req.params["list_id"], values)
                return .object(try d.exceptions.readValueList(["id": req.params["list_id"] ?? ""]))
            }
        }
    }

    func bulkRuleAction(_ req: ESRequest) async throws -> ESResponse {
        guard let detection else { return API.kibana(RuleAPIError(503, "the detection engine is not running")) }
        do {
            let body = try API.ruleBody(req)
            let (json, export) = try await blocking { try detection.rules.bulkAction(body) }
            if let export { return API.ndjson(export, file: "rules_export.ndjson") }
            let status = Int(json?["status_code"]?.int64Value ?? 200)
            return .json(.object(json ?? JSONObject()), status: status)
        } catch let e as RuleAPIError {
            return API.kibana(e)
        }
    }

    static func ndjson(_ bytes: [UInt8], file: String) -> ESResponse {
        ESResponse(status: 200, body: .text(String(decoding: bytes, as: UTF8.self)),
                   headers: [("Content-Type", "application/ndjson"), ("Content-Disposition", "attachment; filename=\"\(file)\"")])
    }

    func exportRules(_ req: ESRequest) async throws -> ESResponse {
        guard let detection else { return API.kibana(RuleAPIError(503, "the detection engine is not running")) }
        do {
            let body = req.hasBody ? try API.ruleBody(req) : nil
            var bytes = try await blocking { try detection.rules.export(body: body) }
            if req.params["exclude_export_details"] == "true" {
                // The last line is the summary.
                if let cut = bytes.dropLast().lastIndex(of: 0x0A) { bytes = Array(bytes[...cut]) } else { bytes = [] }
            }
            return API.ndjson(bytes, file: req.params["file_name"] ?? "export.ndjson")
        } catch let e as RuleAPIError {
            return API.kibana(e)
        }
    }

    /// `_import`: Kibana takes the NDJSON as a multipart form file; a bare NDJSON body works too.
    func importRules(_ req: ESRequest) async throws -> ESResponse {
        guard let detection else { return API.kibana(RuleAPIError(503, "the detection engine is not running")) }
        var content = req.body
        if let type = req.contentType, type.lowercased().hasPrefix("multipart/form-data") {
            guard let file = Multipart.firstFile(req.body, contentType: type) else {
                return API.kibana(.badRequest("[request body.file]: expected a file part in the multipart form"))
            }
            content = file
        }
        let lines = RuleService.importLines(content)
        let (lists, items) = RuleService.exceptionLines(content)
        let overwrite = req.params["overwrite"] == "true"
        let overwriteExceptions = req.params["overwrite_exceptions"] == "true"
        let out = try await blocking {
            // The exception lists first, so the rules' references find them, as Kibana does.
            let imported = detection.exceptions.importExceptions(lists: lists, items: items, overwrite: overwriteExceptions)
            var o = detection.rules.importRules(lines, overwrite: overwrite, listIds: imported.ids)
            o["exceptions_success"] = .bool(imported.errors.isEmpty)
            o["exceptions_success_count"] = .int(Int64(imported.count))
            o["exceptions_errors"] = .array(imported.errors)
            return o
        }
        return .json(.object(out))
    }

    func ruleRuns(_ req: ESRequest, id: String) async throws -> ESResponse {
        guard let detection else { return API.kibana(RuleAPIError(503, "the detection engine is not running")) }
        do {
            let perPage = Int(req.params["per_page"] ?? "") ?? 20
            let page = Int(req.params["page"] ?? "") ?? 1
            guard perPage >= 1, page >= 1 else { throw RuleAPIError.badRequest("page and per_page must be at least 1") }
            let out: JSONObject = try await blocking {
                let rule = try detection.rules.find(id: id, ruleId: nil)
                let runs = try detection.control.runs(id: rule.json["id"]?.stringValue ?? id, limit: 100)
                let start = min((page - 1) * perPage, runs.count)
                return ["events": .array(runs[start..<min(start + perPage, runs.count)].map { .object($0) }), "total": .int(Int64(runs.count))]
            }
            return .json(.object(out))
        } catch let e as RuleAPIError {
            return API.kibana(e)
        }
    }

    /// `signals/status`: sets `kibana.alert.workflow_status` on the alerts named by
    /// `signal_ids` or matching `query`; answers as `_update_by_query` does.
    func setAlertStatus(_ req: ESRequest) async throws -> ESResponse {
        let started = Clock.monotonicNanos()
        let body: JSONObject
        do { body = try API.ruleBody(req) } catch { return API.kibana(error) }
        let statuses: Set<String> = ["open", "closed", "acknowledged", "in-progress"]
        guard let status = body["status"]?.stringValue, statuses.contains(status) else {
            return API.kibana(.badRequest("status: Invalid enum value. Expected 'open' | 'closed' | 'acknowledged' | 'in-progress'"))
        }
        let ids: [String]
        if let list = body["signal_ids"]?.arrayValue {
            ids = list.compactMap(\.stringValue)
        } else if let query = body["query"] {
            let indices = try store.resolve(DetectionEngine.alertsIndex, options: ResolveOptions(ignoreUnavailable: true))
            let readers = try await blocking { try indices.map { try $0.searchReader() } }
            let compiled = try API.compile(query, readers: readers, now: Clock.nowMillis())
            let matched = API.matching(compiled, readers: readers)
            var found: [String] = []
            for (ri, r) in readers.enumerated() {
                for (si, live) in r.segments.enumerated() { matched[ri][si].forEach { found.append(live.segment.id($0)) } }
            }
            ids = found
        } else {
            return API.kibana(.badRequest("either signal_ids or query must be set"))
        }
        let now = JSONValue.string(DateFormats.formatISO(Clock.nowMillis()))
        let ops = ids.map { id in
            WriteOperation.update(id: id, doc: ["kibana.alert.workflow_status": .string(status), "kibana.alert.workflow_status_updated_at": now,
                                                "kibana.alert.workflow_user": "elastic"], upsert: nil, docAsUpsert: false)
        }
        let results = try await blocking { [store] in
            let r = store.bulk(targets: Array(repeating: DetectionEngine.alertsIndex, count: ops.count), operations: ops)
            if let index = store.index(named: DetectionEngine.alertsIndex) { try index.refresh() }
            return r
        }
        var updated = 0, noops = 0
        var failures: [JSONValue] = []
        for r in results {
            switch r.outcome {
            case .updated?: updated += 1
            case .noop?: noops += 1
            default:
                failures.append(["index": .string(r.index), "id": .string(r.id), "status": .int(Int64(r.status)),
                                 "cause": ["type": .string(r.error?.code.rawValue ?? "exception"), "reason": .string(r.error?.message ?? "")]])
            }
        }
        return .json([
            "took": .int(Int64((Clock.monotonicNanos() - started) / 1_000_000)), "timed_out": false, "total": .int(Int64(ids.count)),
            "updated": .int(Int64(updated)), "deleted": 0, "batches": 1, "version_conflicts": 0, "noops": .int(Int64(noops)),
            "retries": ["bulk": 0, "search": 0], "throttled_millis": 0, "requests_per_second": -1.0,
            "throttled_until_millis": 0, "failures": .array(failures),
        ])
    }
}

/// The detection engine as the API sees it.
struct Detection: Sendable {
    let rules: RuleService
    let exceptions: ExceptionService
    let connectors: ConnectorService
    let engine: DetectionEngine
    var control: ControlStore { rules.control }
}

/// Just enough of multipart/form-data to take the uploaded file out of a form.
enum Multipart {
    static func firstFile(_ body: [UInt8], contentType: String) -> [UInt8]? {
        guard let b = contentType.split(separator: ";").map({ String($0).trimmingSpaces }).first(where: { $0.lowercased().hasPrefix("boundary=") }) else { return nil }
        var boundary = String(b.dropFirst("boundary=".count))
        if boundary.hasPrefix("\""), boundary.hasSuffix("\""), boundary.count >= 2 { boundary = String(boundary.dropFirst().dropLast()) }
        let delimiter = Array(("--" + boundary).utf8)
        var parts: [ArraySlice<UInt8>] = []
        var i = 0, start: Int?
        while i + delimiter.count <= body.count {
            if body[i] == delimiter[0] && Array(body[i..<i + delimiter.count]) == delimiter {
                if let s = start { parts.append(body[s..<i]) }
                i += delimiter.count
                start = i
            } else {
                i += 1
            }
        }
        let separator: [UInt8] = [13, 10, 13, 10]
        for part in parts {
            let bytes = Array(part)
            guard let head = (0...max(0, bytes.count - 4)).first(where: { bytes.count >= $0 + 4 && Array(bytes[$0..<$0 + 4]) == separator }) else { continue }
            let headers = String(decoding: bytes[..<head], as: UTF8.self).lowercased()
            guard headers.contains("filename=") || headers.contains("name=\"file\"") else { continue }
            var content = Array(bytes[(head + 4)...])
            if content.suffix(2) == [13, 10] { content.removeLast(2) }
            return content
        }
        return nil
    }
}

/// Where connector calls run: a few threads of their own and a bounded number waiting, so
/// slow or silent webhook listeners cannot take the threads searches and writes need; past
/// the bound a call is refused with 429 at once.
final class ConnectorCalls: Sendable {
    static let threads = 4
    static let maxInFlight = 16
    private let pool: NIOThreadPool
    private let inFlight = Atomic<Int>(0)

    init() {
        pool = NIOThreadPool(numberOfThreads: ConnectorCalls.threads)
        pool.start()
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        guard inFlight.add(1, ordering: .relaxed).newValue <= ConnectorCalls.maxInFlight else {
            inFlight.subtract(1, ordering: .relaxed)
            throw RuleAPIError(429, "too many connector calls in flight (\(ConnectorCalls.maxInFlight)); try again later")
        }
        defer { inFlight.subtract(1, ordering: .relaxed) }
        return try await pool.runIfActive(body)
    }
}
