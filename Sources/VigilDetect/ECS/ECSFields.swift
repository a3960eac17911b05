public import VigilStore

/// The Elastic Common Schema as mappings, from the table `scripts/generate-ecs-fields` writes
/// out of Elastic's published schema: each field typed as ECS types it, with its
/// multi-fields (`process.name.text`).
public enum ECSFields {
    /// Every ECS field.
    public static let mapping: Mapping = {
        var m = Mapping()
        for line in table.split(separator: "\n") {
            let parts = line.split(separator: " ").map(String.init)
            guard parts.count >= 2 else { continue }
            var field = FieldMapping(type: FieldType(rawValue: parts[1]) ?? .keyword)
            for multi in parts.dropFirst(2) {
                let nt = multi.split(separator: ":").map(String.init)
                if nt.count == 2 { field.fields[nt[0]] = FieldMapping(type: FieldType(rawValue: nt[1]) ?? .keyword) }
            }
            m.insert(field, at: parts[0].split(separator: ".").map(String.init))
        }
        return m
    }()

    /// ECS plus the fields outside it that Elastic's rules read from any index pattern
    /// (`auditd.data.*`, `winlog.event_data.*`, …); what rules are checked against.
    public static let ruleMapping: Mapping = {
        var m = mapping
        for line in nonECSTable.split(separator: "\n") {
            let parts = line.split(separator: " ").map(String.init)
            guard parts.count == 3, m.field(at: parts[1]) == nil else { continue }
            m.insert(FieldMapping(type: FieldType(rawValue: parts[2]) ?? .keyword), at: parts[1].split(separator: ".").map(String.init))
        }
        return m
    }()
}
