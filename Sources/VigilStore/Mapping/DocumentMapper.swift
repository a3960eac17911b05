public import VigilJSON

/// A typed value of one indexed field.
public enum FieldValue: Sendable, Equatable, Hashable {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    /// Milliseconds since the epoch.
    case date(Int64)
    case ip(IPAddress)
}

/// A document turned into typed values per indexed field, in document order.
/// Fields are named by slot: `DocumentMapper.slots.paths[slot]` is the dotted path.
public struct MappedDocument: Sendable {
    public var fields: [(slot: Int, value: FieldValue)] = []
}

/// Numbers every indexed field path once, so per-value work indexes arrays instead of hashing paths.
public struct FieldSlots: Sendable {
    public private(set) var paths: [String] = []
    private var slotOf: [String: Int] = [:]

    public mutating func slot(_ path: String) -> Int {
        if let s = slotOf[path] { return s }
        let s = paths.count
        paths.append(path)
        slotOf[path] = s
        return s
    }

    public func slot(ifKnown path: String) -> Int? { slotOf[path] }
}

/// Maps source documents against a mapping, growing it by dynamic mapping where allowed.
/// Kept for the life of an index so its lookup tables are built once.
public struct DocumentMapper: Sendable {
    public private(set) var mapping: Mapping
    public private(set) var changed = false
    public private(set) var slots = FieldSlots()
    /// Bumped whenever the mapping changes, so caches built from `resolved` know they are stale.
    public private(set) var generation = 0
    /// Bumped only when existing fields may have changed (a new mapping was put); dynamic
    /// mapping only adds fields, so documents mapped before it by known fields stay valid.
    public private(set) var layoutGeneration = 0
    var docID = ""
    var fields: [(slot: Int, value: FieldValue)] = []

    /// A mapped field with its column slots precomputed.
    struct Resolved: Sendable {
        var field: FieldMapping
        var slot: Int
        var subfields: [(slot: Int, field: FieldMapping)]
    }

    /// Every field of the mapping by full dotted path, so a lookup is one hash.
    var resolved: [String: Resolved] = [:]

    public init(mapping: Mapping) {
        self.mapping = mapping
        rebuild()
    }

    /// An empty mapper that stands in the index state while a write holds the real one.
    static let placeholder = DocumentMapper(mapping: Mapping())

    /// Replaces the mapping (after `PUT _mapping`), keeping slot numbers.
    public mutating func reset(to mapping: Mapping) {
        self.mapping = mapping
        rebuild()
    }

    public mutating func clearChanged() { changed = false }

    /// The slot of a path, registering it if new (merges use this for columns of old segments).
    public mutating func slot(for path: String) -> Int { slots.slot(path) }

    private mutating func rebuild() {
        generation += 1
        layoutGeneration += 1
        resolved = [:]
        func walk(_ props: [String: FieldMapping], _ prefix: String) {
            for (k, f) in props {
                let path = prefix.isEmpty ? k : prefix + "." + k
                register(f, path)
                if f.isObject { walk(f.properties, path) }
            }
        }
        walk(mapping.properties, "")
    }

    private mutating func register(_ f: FieldMapping, _ path: String) {
        if f.isObject || f.type == .alias {
            resolved[path] = Resolved(field: f, slot: -1, subfields: [])
            return
        }
        let slot = slots.slot(path)
        let subs = f.fields.keys.sorted().map { (slots.slot(path + "." + $0), f.fields[$0]!) }
        resolved[path] = Resolved(field: f, slot: slot, subfields: subs)
    }

    /// Maps one document; on error the mapping is left as it was before this document.
    public mutating func map(_ source: JSONObject, id: String) throws(StoreError) -> MappedDocument {
        let before = mapping
        let beforeChanged = changed
        let beforeResolved = resolved
        changed = false
        docID = id
        fields.removeAll(keepingCapacity: true)
        do throws(StoreError) {
            try mapObject(source, prefix: "", dynamic: mapping.dynamic, depth: 1)
        } catch {
            if changed {
                mapping = before
                resolved = beforeResolved
            }
            changed = beforeChanged
            throw error
        }
        changed = changed || beforeChanged
        return MappedDocument(fields: fields)
    }

    private mutating func insertField(_ f: FieldMapping, at path: String) {
        mapping.insert(f, at: path.split(separator: ".", omittingEmptySubsequences: false).map(String.init))
        register(f, path)
        changed = true
        generation += 1
    }

    static func lastPart(_ path: String) -> String {
        String(path.split(separator: ".", omittingEmptySubsequences: false).last ?? "")
    }

    static func parent(_ path: String) -> String {
        let parts = path.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count > 1 ? parts.dropLast().joined(separator: ".") : "_doc"
    }

    private mutating func mapObject(_ object: JSONObject, prefix: String, dynamic: String, depth: Int) throws(StoreError) {
        for e in object.entries {
            let key = e.key
            if key.isEmpty {
                throw StoreError(.mapperParsing, "field name cannot be an empty string")
            }
            if prefix.isEmpty && key.hasPrefix("_") && DocumentMapper.metadataFields.contains(key) {
                throw StoreError(.mapperParsing, "Field [\(key)] is a metadata field and cannot be added inside a document. Use the index API request parameters.")
            }
            if !key.utf8.contains(UInt8(ascii: ".")) {
                try mapValue(e.value, path: prefix.isEmpty ? key : prefix + "." + key, dynamic: dynamic, depth: depth)
                continue
            }
            // A dotted key names nested objects; each intermediate one may set its own dynamic mode.
            let keyParts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if keyParts.contains(where: \.isEmpty) {
                throw StoreError(.mapperParsing, "field name cannot contain only whitespace or dots: [\(key)]")
            }
            var path = prefix
            var mode = dynamic
            var ignored = false
            for k in keyParts.dropLast() {
                path = path.isEmpty ? k : path + "." + k
                if let r = resolved[path] {
                    if !r.field.isObject {
                        throw StoreError(.mapperParsing, "Could not dynamically add mapping for field [\(prefix.isEmpty ? key : prefix + "." + key)]. Existing mapping for [\(path)] must be of type object but found [\(r.field.type.rawValue)].")
                    }
                    mode = r.field.dynamic ?? mode
                } else if !(try ensureObject(path, mode: mode)) {
                    ignored = true
                    break
                }
            }
            if ignored { continue }
            path = path.isEmpty ? keyParts.last! : path + "." + keyParts.last!
            try mapValue(e.value, path: path, dynamic: mode, depth: depth + keyParts.count - 1)
        }
    }

    /// Adds an object mapping at `path` when dynamic mapping allows; false when the subtree is ignored.
    private mutating func ensureObject(_ path: String, mode: String) throws(StoreError) -> Bool {
        switch mode {
        case "strict":
            throw StoreError(.mapperParsing, "[\(path)] mapping set to strict, dynamic introduction of [\(DocumentMapper.lastPart(path))] within [\(DocumentMapper.parent(path))] is not allowed").withType("strict_dynamic_mapping_exception")
        case "false", "runtime":
            return false
        default:
            if path.split(separator: ".").count > Mapping.depthLimit - 1 {
                throw StoreError(.mapperParsing, "Limit of mapping depth [\(Mapping.depthLimit)] has been exceeded due to object field [\(path)]")
            }
            insertField(FieldMapping(type: .object), at: path)
            return true
        }
    }

    private mutating func mapValue(_ value: JSONValue, path: String, dynamic: String, depth: Int) throws(StoreError) {
        let existing = resolved[path]
        switch value {
        case .object(let o):
            if let r = existing {
                if !r.field.isObject {
                    throw parseFailure(path, r.field, value, cause: "Can't get text on a START_OBJECT")
                }
                if r.field.parameters["enabled"]?.boolValue == false { return }
                try mapObject(o, prefix: path, dynamic: r.field.dynamic ?? dynamic, depth: depth + 1)
            } else {
                if depth + 1 > Mapping.depthLimit {
                    throw StoreError(.mapperParsing, "Limit of mapping depth [\(Mapping.depthLimit)] has been exceeded due to object field [\(path)]")
                }
                guard try ensureObject(path, mode: dynamic) else { return }
                try mapObject(o, prefix: path, dynamic: dynamic, depth: depth + 1)
            }
        case .array(let items):
            for item in items { try mapValue(item, path: path, dynamic: dynamic, depth: depth) }
        case .null:
            if let r = existing, !r.field.isObject, let nv = r.field.nullValue, !nv.isNull {
                try addLeaf(nv, path: path, r)
            }
        default:
            if let r = existing {
                if r.field.isObject {
                    throw StoreError(.mapperParsing, "object mapping for [\(path)] tried to parse field [\(DocumentMapper.lastPart(path))] as object, but found a concrete value")
                }
                try addLeaf(value, path: path, r)
            } else {
                switch dynamic {
                case "strict":
                    throw StoreError(.mapperParsing, "[\(path)] mapping set to strict, dynamic introduction of [\(DocumentMapper.lastPart(path))] within [\(DocumentMapper.parent(path))] is not allowed").withType("strict_dynamic_mapping_exception")
                case "false", "runtime":
                    return
                default:
                    let f = try DocumentMapper.dynamicField(value, path: path, mapping)
                    if resolved.count + 2 > mapping.fieldsLimit {
                        throw StoreError(.illegalArgument, "Limit of total fields [\(mapping.fieldsLimit)] has been exceeded while adding new fields [1]")
                    }
                    insertField(f, at: path)
                    try addLeaf(value, path: path, resolved[path]!)
                }
            }
        }
    }

    /// Elasticsearch's metadata fields, which a document's top level may not set.
    static let metadataFields: Set<String> = [
        "_id", "_index", "_routing", "_source", "_field_names", "_ignored", "_seq_no", "_primary_term", "_version", "_tier",
        "_nested_path", "_data_stream_timestamp",
    ]

    /// A new field's mapping: the first matching dynamic template's, or Elasticsearch's default
    /// dynamic mapping (with the mapping's `date_detection` and `numeric_detection`).
    static func dynamicField(_ value: JSONValue, path: String, _ mapping: Mapping) throws(StoreError) -> FieldMapping {
        var type: String
        switch value {
        case .bool: type = "boolean"
        case .int, .uint: type = "long"
        case .double: type = "double"
        case .string(let s):
            type = "string"
            if mapping.dateDetection && looksLikeDate(s) {
                type = "date"
            } else if mapping.numericDetection {
                if Int64(s) != nil { type = "long" } else if let d = Double(s), d.isFinite { type = "double" }
            }
        default: type = "string"
        }
        let leaf = lastPart(path)
        if let t = mapping.dynamicTemplates.first(where: { $0.matches(path: path, leaf: leaf, type: type) }) {
            return try t.field(leaf: leaf, type: type)
        }
        switch (value, type) {
        case (.string, "string"): return FieldMapping(type: .text, fields: ["keyword": FieldMapping(type: .keyword, parameters: ["ignore_above": .int(256)])])
        case (.string, "long"): return FieldMapping(type: .long)
        case (.string, "double"): return FieldMapping(type: .float)
        default: return infer(value)
        }
    }

    /// Elasticsearch's dynamic field mapping for a JSON scalar.
    static func infer(_ value: JSONValue) -> FieldMapping {
        switch value {
        case .bool: return FieldMapping(type: .boolean)
        case .int, .uint: return FieldMapping(type: .long)
        case .double: return FieldMapping(type: .float)
        case .string(let s):
            if looksLikeDate(s) {
                if s.utf8.dropFirst(4).first == UInt8(ascii: "/") {
                    return FieldMapping(type: .date, parameters: ["format": "yyyy/MM/dd HH:mm:ss||yyyy/MM/dd||epoch_millis"])
                }
                return FieldMapping(type: .date)
            }
            return FieldMapping(type: .text, fields: ["keyword": FieldMapping(type: .keyword, parameters: ["ignore_above": .int(256)])])
        default:
            return FieldMapping(type: .keyword)
        }
    }

    /// Dynamic date detection: `strict_date_optional_time` with at least a full date, or `yyyy/MM/dd`.
    static func looksLikeDate(_ s: String) -> Bool {
        let u = s.utf8
        guard u.count >= 10 else { return false }
        let b = Array(u.prefix(10))
        let sep = b[4]
        guard (sep == UInt8(ascii: "-") || sep == UInt8(ascii: "/")) && b[7] == sep else { return false }
        if sep == UInt8(ascii: "-") { return DateFormats.parseISO(s) != nil }
        return DateFormatSpec.parse(s, format: "yyyy/MM/dd HH:mm:ss Z||yyyy/MM/dd Z") != nil
    }

    private func parseFailure(_ path: String, _ f: FieldMapping, _ value: JSONValue, cause: String) -> StoreError {
        DocumentMapper.parseFailure(path, f, value, docID: docID, cause: cause)
    }

    static func parseFailure(_ path: String, _ f: FieldMapping, _ value: JSONValue, docID: String, cause: String) -> StoreError {
        var preview: String
        switch value {
        case .string(let s): preview = s
        case .object, .array: preview = value.jsonString
        default: preview = value.jsonString
        }
        if preview.count > 40 { preview = String(preview.prefix(40)) + "..." }
        return StoreError(.mapperParsing,
            "failed to parse field [\(path)] of type [\(f.type.rawValue)] in document with id '\(docID)'. Preview of field's value: '\(preview)'",
            causedBy: .init(type: "illegal_argument_exception", reason: cause))
    }

    private mutating func addLeaf(_ value: JSONValue, path: String, _ r: Resolved) throws(StoreError) {
        if r.field.type == .alias {
            throw StoreError(.mapperParsing, "Cannot write to a field alias [\(path)].")
        }
        if let v = try convert(value, r.field, path) {
            fields.append((r.slot, v))
        }
        for (slot, sub) in r.subfields {
            if let v = try? convert(value, sub, path) {
                fields.append((slot, v))
            }
        }
    }

    private func convert(_ value: JSONValue, _ f: FieldMapping, _ path: String) throws(StoreError) -> FieldValue? {
        try DocumentMapper.convert(value, f, path, docID: docID)
    }

    /// A JSON value as the typed value a field of mapping `f` indexes, coerced as Elasticsearch
    /// does; nil when the field keeps no value for it (over `ignore_above`, objects' own types).
    package static func convert(_ value: JSONValue, _ f: FieldMapping, _ path: String, docID: String) throws(StoreError) -> FieldValue? {
        switch f.type.storage {
        case .string:
            let s: String
            switch value {
            case .string(let x): s = x
            case .int(let i): s = String(i)
            case .uint(let u): s = String(u)
            case .double(let d): s = String(d)
            case .bool(let b): s = b ? "true" : "false"
            default: throw parseFailure(path, f, value, docID: docID, cause: "unexpected token \(value.tokenName)")
            }
            if let limit = f.ignoreAbove, s.count > limit { return nil }
            if f.type == .constantKeyword, let fixed = f.parameters["value"]?.stringValue, fixed != s {
                throw StoreError(.illegalArgument, "[constant_keyword] field [\(path)] only accepts values that are equal to the value defined in the mappings [\(fixed)], but got [\(s)]")
            }
            return .string(s)
        case .int64:
            let v: Int64
            switch value {
            case .int(let i): v = i
            case .double(let d) where d.isFinite && abs(d) < 9.2e18: v = Int64(d.rounded(.towardZero))
            case .string(let s):
                if let i = Int64(s) {
                    v = i
                } else if let d = Double(s), d.isFinite, abs(d) < 9.2e18 {
                    v = Int64(d.rounded(.towardZero))
                } else {
                    throw parseFailure(path, f, value, docID: docID, cause: "For input string: \"\(s)\"")
                }
            case .uint(let u):
                throw parseFailure(path, f, value, docID: docID, cause: "Value [\(u)] is out of range for a long")
            default:
                throw parseFailure(path, f, value, docID: docID, cause: "Current token (\(value.tokenName)) not numeric, can not use numeric value accessors")
            }
            let range: ClosedRange<Int64>
            switch f.type {
            case .integer: range = Int64(Int32.min)...Int64(Int32.max)
            case .short: range = Int64(Int16.min)...Int64(Int16.max)
            case .byte: range = Int64(Int8.min)...Int64(Int8.max)
            case .unsignedLong: range = 0...Int64.max
            default: range = Int64.min...Int64.max
            }
            guard range.contains(v) else {
                throw parseFailure(path, f, value, docID: docID, cause: "Value [\(v)] is out of range for \(f.type == .integer ? "an" : "a") \(f.type.rawValue)")
            }
            return .int(v)
        case .double:
            switch value {
            case .int, .uint, .double:
                return .double(value.doubleValue!)
            case .string(let s):
                guard let d = Double(s), d.isFinite else { throw parseFailure(path, f, value, docID: docID, cause: "For input string: \"\(s)\"") }
                return .double(d)
            default:
                throw parseFailure(path, f, value, docID: docID, cause: "Current token (\(value.tokenName)) not numeric, can not use numeric value accessors")
            }
        case .bool:
            switch value {
            case .bool(let b): return .bool(b)
            case .string("true"): return .bool(true)
            case .string("false"), .string(""): return .bool(false)
            default:
                throw parseFailure(path, f, value, docID: docID, cause: "Failed to parse value [\(value.stringValue ?? value.jsonString)] as only [true] or [false] are allowed.")
            }
        case .date:
            let format = f.parameters["format"]?.stringValue
            switch value {
            case .int(let i):
                if let format, !format.contains("epoch") {
                    throw parseFailure(path, f, value, docID: docID, cause: "failed to parse date field [\(i)] with format [\(format)]")
                }
                return .date(format?.hasPrefix("epoch_second") == true ? i * 1000 : i)
            case .double(let d) where d.isFinite && abs(d) < 9.2e18:
                return .date(Int64(d.rounded(.down)))
            case .string(let s):
                guard let ms = DateFormatSpec.parse(s, format: format) else {
                    throw parseFailure(path, f, value, docID: docID, cause: "failed to parse date field [\(s)] with format [\(format ?? "strict_date_optional_time||epoch_millis")]")
                }
                return .date(ms)
            default:
                throw parseFailure(path, f, value, docID: docID, cause: "failed to parse date field with format [\(format ?? "strict_date_optional_time||epoch_millis")]")
            }
        case .ip:
            guard case .string(let s) = value, let ip = IPAddress(s) else {
                throw parseFailure(path, f, value, docID: docID, cause: "'\(value.stringValue ?? value.jsonString)' is not an IP string literal.")
            }
            return .ip(ip)
        case .none:
            return nil
        }
    }
}

extension StoreError {
    /// Elasticsearch reports some mapping failures under a more specific type name.
    public var typeName: String { overrideType ?? code.rawValue }

    func withType(_ t: String) -> StoreError {
        var e = self
        e.overrideType = t
        return e
    }
}
