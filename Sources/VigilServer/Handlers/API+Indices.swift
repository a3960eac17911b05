import VigilJSON
import VigilStore

extension API {
    func createIndex(_ req: ESRequest, name: String) async throws -> ESResponse {
        let body = try req.jsonBody()
        let store = self.store
        _ = try await blocking { try store.createIndex(name, body: body) }
        return .json(["acknowledged": true, "shards_acknowledged": true, "index": .string(name)])
    }

    func indexJSON(_ index: Index) -> JSONValue {
        var o = JSONObject()
        o["aliases"] = .object(JSONObject())
        o["mappings"] = index.mapping.json
        o["settings"] = index.settings.json
        if let ds = index.dataStream { o["data_stream"] = .string(ds) }
        return .object(o)
    }

    func getIndex(_ req: ESRequest, expression: String) async throws -> ESResponse {
        let indices = try store.resolve(expression, options: resolveOptions(req))
        var o = JSONObject()
        for i in indices { o[i.name] = indexJSON(i) }
        return .json(.object(o))
    }

    func indexExists(_ req: ESRequest, expression: String) async throws -> ESResponse {
        do {
            let found = try store.resolve(expression, options: ResolveOptions(allowNoIndices: false))
            return .empty(found.isEmpty ? 404 : 200)
        } catch {
            return .empty(404)
        }
    }

    func deleteIndex(_ req: ESRequest, expression: String) async throws -> ESResponse {
        let store = self.store
        let ignoreUnavailable = try req.flag("ignore_unavailable")
        do {
            _ = try await blocking { try store.deleteIndices(expression) }
        } catch let e as StoreError where e.code == .indexNotFound && ignoreUnavailable {
        }
        return .acknowledged
    }

    func getMapping(_ req: ESRequest, expression: String?) async throws -> ESResponse {
        let indices = try store.resolve(expression ?? "_all", options: resolveOptions(req))
        var o = JSONObject()
        for i in indices { o[i.name] = ["mappings": i.mapping.json] }
        return .json(.object(o))
    }

    func getFieldMapping(_ req: ESRequest, expression: String?, fields: String) async throws -> ESResponse {
        let indices = try store.resolve(expression ?? "_all", options: resolveOptions(req))
        let patterns = fields.split(separator: ",").map(String.init)
        var o = JSONObject()
        for i in indices {
            let mapping = i.mapping
            var found = JSONObject()
            for (path, field) in mapping.leaves where patterns.contains(where: { Wildcard.matches($0, path) }) {
                let leaf = String(path.split(separator: ".").last ?? "")
                found[path] = ["full_name": .string(path), "mapping": .object([leaf: field.json])]
            }
            o[i.name] = ["mappings": .object(found)]
        }
        return .json(.object(o))
    }

    func putMapping(_ req: ESRequest, expression: String) async throws -> ESResponse {
        guard let body = try req.jsonBody() else { throw RequestError("action_request_validation_exception", "Validation Failed: 1: mapping source is missing;") }
        let mapping = try Mapping(json: .object(body))
        let indices = try store.resolve(expression, options: resolveOptions(req))
        if indices.isEmpty { throw StoreError.indexNotFound(expression) }
        try await blocking { for i in indices { try i.putMapping(mapping) } }
        return .acknowledged
    }

    func getSettings(_ req: ESRequest, expression: String?) async throws -> ESResponse {
        let indices = try store.resolve(expression ?? "_all", options: resolveOptions(req))
        var o = JSONObject()
        for i in indices { o[i.name] = ["settings": i.settings.json] }
        return .json(.object(o))
    }

    func putSettings(_ req: ESRequest, expression: String) async throws -> ESResponse {
        guard let body = try req.jsonBody() else { throw RequestError("action_request_validation_exception", "Validation Failed: 1: no settings to update;") }
        let settings = try IndexSettings(json: body["settings"] ?? .object(body))
        let indices = try store.resolve(expression, options: resolveOptions(req))
        try await blocking { for i in indices { try i.updateSettings(settings) } }
        return .acknowledged
    }

    func refresh(_ req: ESRequest, expression: String?) async throws -> ESResponse {
        let indices = try store.resolve(expression ?? "_all", options: resolveOptions(req))
        try await blocking { for i in indices { try i.refresh() } }
        return .json(["_shards": ["total": .int(Int64(indices.count * 2)), "successful": .int(Int64(indices.count)), "failed": 0]])
    }

    func forceMerge(_ req: ESRequest, expression: String?) async throws -> ESResponse {
        let indices = try store.resolve(expression ?? "_all", options: resolveOptions(req))
        try await blocking { for i in indices { try i.forceMerge() } }
        return .json(["_shards": ["total": .int(Int64(indices.count * 2)), "successful": .int(Int64(indices.count)), "failed": 0]])
    }

    // MARK: Templates

    func putTemplate(_ req: ESRequest, name: String) async throws -> ESResponse {
        guard let body = try req.jsonBody() else { throw RequestError("action_request_validation_exception", "Validation Failed: 1: index template is missing;") }
        let create = try req.flag("create")
        let store = self.store
        try await blocking { try store.putTemplate(name, body: body, create: create) }
        return .acknowledged
    }

    func getTemplates(_ req: ESRequest, name: String?) async throws -> ESResponse {
        let templates = try store.templates(matching: name)
        return .json(["index_templates": .array(templates.map { ["name": .string($0.name), "index_template": .object(API.templateView($0.body))] })])
    }

    /// A template as `GET _index_template` shows it (with `composed_of` always present).
    static func templateView(_ body: JSONObject) -> JSONObject {
        var o = body
        if case .string(let s)? = o["index_patterns"] { o["index_patterns"] = .array([.string(s)]) }
        if o["composed_of"] == nil { o["composed_of"] = .array([]) }
        if case .object(var ds)? = o["data_stream"] {
            if ds["hidden"] == nil { ds["hidden"] = false }
            if ds["allow_custom_routing"] == nil { ds["allow_custom_routing"] = false }
            o["data_stream"] = .object(ds)
        }
        return o
    }

    func templateExists(_ req: ESRequest, name: String) async throws -> ESResponse {
        let found = (try? store.templates(matching: name)) ?? []
        return .empty(found.isEmpty ? 404 : 200)
    }

    func deleteTemplate(_ req: ESRequest, name: String) async throws -> ESResponse {
        let store = self.store
        try await blocking { try store.deleteTemplate(name) }
        return .acknowledged
    }

    // MARK: Data streams

    func createDataStream(_ req: ESRequest, name: String) async throws -> ESResponse {
        let store = self.store
        try await blocking { try store.createDataStream(name) }
        return .acknowledged
    }

    func deleteDataStream(_ req: ESRequest, name: String) async throws -> ESResponse {
        let store = self.store
        _ = try await blocking { try store.deleteDataStreams(name) }
        return .acknowledged
    }

    func getDataStreams(_ req: ESRequest, name: String?) async throws -> ESResponse {
        let streams = try store.dataStreams(matching: name)
        var out: [JSONValue] = []
        for ds in streams {
            let indices = ds.indices.compactMap { store.index(named: $0) }
            let yellow = indices.contains { $0.settings.numberOfReplicas > 0 }
            out.append([
                "name": .string(ds.name),
                "timestamp_field": ["name": "@timestamp"],
                "indices": .array(indices.map { ["index_name": .string($0.name), "index_uuid": .string($0.uuid), "prefer_ilm": true, "managed_by": "Unmanaged"] }),
                "generation": .int(Int64(ds.generation)),
                "status": .string(yellow ? "YELLOW" : "GREEN"),
                "template": .string(ds.template),
                "next_generation_managed_by": "Unmanaged",
                "prefer_ilm": true,
                "hidden": false,
                "system": false,
                "allow_custom_routing": false,
                "replicated": false,
                "rollover_on_write": false,
            ])
        }
        return .json(["data_streams": .array(out)])
    }
}
