public import VigilJSON
public import VigilStore

/// Index templates for Elastic Defend's event data streams, typed from ECS (the table
/// `scripts/generate-ecs-fields` generates from `detection-rules/schemas`, with the non-ECS
/// fields rules read, Elastic Defend's `*.Ext.*` among them), so that events written to `logs-endpoint.events.process-default` and
/// its siblings have the types rules compare them as. Installed at start when missing; a
/// template a user has put under the same name is left alone.
public enum EndpointTemplates {
    public static let streams = ["process", "file", "network", "library", "registry", "security", "api"]

    /// The template of one data stream, as `PUT _index_template` takes it.
    public static func template(_ stream: String) -> JSONObject {
        // ECS and the non-ECS fields Elastic's rules read (Elastic Defend's `*.Ext.*` among
        // them): a rule that names a field the index lacks fails its EQL verification.
        var mappings = ECSFields.ruleMapping.json.objectValue ?? JSONObject()
        mappings["_meta"] = ["managed_by": "vigil", "package": ["name": "endpoint"]]
        return [
            "index_patterns": [.string("logs-endpoint.events.\(stream)-*")],
            "data_stream": .object(JSONObject()),
            "priority": 200,
            "template": [
                "settings": ["index.mapping.total_fields.limit": 10000],
                "mappings": .object(mappings),
            ],
            "_meta": ["managed_by": "vigil", "description": .string("Elastic Defend \(stream) events, typed from ECS")],
        ]
    }

    /// Puts each missing template; returns the names put.
    @discardableResult
    public static func install(_ store: Store) throws -> [String] {
        var put: [String] = []
        for stream in streams {
            let name = "logs-endpoint.events.\(stream)"
            if (try? store.templates(matching: name))?.isEmpty == false { continue }
            try store.putTemplate(name, body: template(stream), create: true)
            put.append(name)
        }
        return put
    }
}
