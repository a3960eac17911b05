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

/// A document turned into typed values per indexed field path.
public struct MappedDocument: Sendable {
    public var fields: [String: [FieldValue]] = [:]
}

/// Maps source documents against a mapping, growing it by dynamic mapping where allowed.
public struct DocumentMapper {
    public private(set) var mapping: Mapping
    public private(set) var changed = false
    var docID = ""
    var fields: [String: [FieldValue]] = [:]

    public init(mapping: Mapping) {
        self.mapping = mapping
    }

    /// Maps one document; on error the mapping is left as it was before this document.
    public mutating func map(_ source: JSONObject, id: String) throws(StoreError) -> MappedDocument {
        let before = mapping
        let beforeChanged = changed
        docID = id
        fields = [:]
        do throws(StoreError) {
            try mapObject(source, path: [], dynamic: mapping.dynamic, depth: 1)
        } catch {
            mapping = before
            changed = beforeChanged
            throw error
        }
        return MappedDocument(fields: fields)
    }

    private func lookup(_ parts: [String]) -> FieldMapping? {
        var props = mapping.properties
        var current: FieldMapping?
        for p in parts {
            guard let f = props[p] else { return nil }
            current = f
            props = f.properties
        }
        return current
    }

    private mutating func mapObject(_ object: JSONObject, path: [String], dynamic: String, depth: Int) throws(StoreError) {
        for e in object.entries {
            let keyParts = e.key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if e.key.isEmpty || keyParts.contains(where: \.isEmpty) {
                throw StoreError(.mapperParsing, "field name cannot be an empty string or contain only dots: [\(e.key)]")
            }
            var parts = path
            var mode = dynamic
            // Intermediate objects of a dotted key take their own dynamic setting.
            for (i, k) in keyParts.enumerated() {
                parts.append(k)
                if i < keyParts.count - 1 {
                    if let f = lookup(parts) {
                        if !f.isObject {
                            throw StoreError(.mapperParsing, "Could not dynamically add mapping for field [\((path + keyParts).joined(separator: "."))]. Existing mapping for [\(parts.joined(separator: "."))] must be of type object but found [\(f.type.rawValue)].")
                        }
                        mode = f.dynamic ?? mode
                    } else if !(try ensureObject(parts, mode: mode)) {
                        parts = []
                        break
                    }
                }
            }
            if parts.isEmpty { continue }
            try mapValue(e.value, parts: parts, dynamic: mode, depth: depth + keyParts.count - 1)
        }
    }

    /// Adds an object mapping at `parts` when dynamic mapping allows; false when the subtree is ignored.
    private mutating func ensureObject(_ parts: [String], mode: String) throws(StoreError) -> Bool {
        switch mode {
        case "strict":
            throw StoreError(.mapperParsing, "[\(parts.joined(separator: "."))] mapping set to strict, dynamic introduction of [\(parts.last!)] within [\(parts.count > 1 ? parts.dropLast().joined(separator: ".") : "_doc")] is not allowed",
                causedBy: nil).withType("strict_dynamic_mapping_exception")
        case "false", "runtime":
            return false
        default:
            if parts.count > Mapping.depthLimit - 1 {
                throw StoreError(.mapperParsing, "Limit of mapping depth [\(Mapping.depthLimit)] has been exceeded due to object field [\(parts.joined(separator: "."))]")
            }
            mapping.insert(FieldMapping(type: .object), at: parts)
            changed = true
            return true
        }
    }

    private mutating func mapValue(_ value: JSONValue, parts: [String], dynamic: String, depth: Int) throws(StoreError) {
        let existing = lookup(parts)
        switch value {
        case .object(let o):
            if let f = existing {
                if !f.isObject {
                    throw parseFailure(parts, f, value, cause: "Can't get text on a START_OBJECT")
                }
                if f.parameters["enabled"]?.boolValue == false { return }
                try mapObject(o, path: parts, dynamic: f.dynamic ?? dynamic, depth: depth + 1)
            } else {
                if depth + 1 > Mapping.depthLimit {
                    throw StoreError(.mapperParsing, "Limit of mapping depth [\(Mapping.depthLimit)] has been exceeded due to object field [\(parts.joined(separator: "."))]")
                }
                guard try ensureObject(parts, mode: dynamic) else { return }
                try mapObject(o, path: parts, dynamic: dynamic, depth: depth + 1)
            }
        case .array(let items):
            for item in items { try mapValue(item, parts: parts, dynamic: dynamic, depth: depth) }
        case .null:
            if let f = existing, !f.isObject, let nv = f.nullValue, !nv.isNull {
                try addLeaf(nv, parts: parts, field: f)
            }
        default:
            if let f = existing {
                if f.isObject {
                    let p = parts.joined(separator: ".")
                    throw StoreError(.mapperParsing, "object mapping for [\(p)] tried to parse field [\(parts.last!)] as object, but found a concrete value")
                }
                try addLeaf(value, parts: parts, field: f)
            } else {
                switch dynamic {
                case "strict":
                    let parent = parts.count > 1 ? parts.dropLast().joined(separator: ".") : "_doc"
                    throw StoreError(.mapperParsing, "[\(parts.joined(separator: "."))] mapping set to strict, dynamic introduction of [\(parts.last!)] within [\(parent)] is not allowed").withType("strict_dynamic_mapping_exception")
                case "false", "runtime":
                    return
                default:
                    let f = DocumentMapper.infer(value)
                    if mapping.leaves.count + 2 > Mapping.totalFieldsLimit {
                        throw StoreError(.illegalArgument, "Limit of total fields [\(Mapping.totalFieldsLimit)] has been exceeded while adding new fields [1]")
                    }
                    mapping.insert(f, at: parts)
                    changed = true
                    try addLeaf(value, parts: parts, field: f)
                }
            }
        }
    }

    /// Elasticsearch's dynamic field mapping for a JSON scalar.
    static func infer(_ value: JSONValue) -> FieldMapping {
        switch value {
        case .bool: return FieldMapping(type: .boolean)
        case .int, .uint: return FieldMapping(type: .long)
        case .double: return FieldMapping(type: .float)
        case .string(let s):
            if looksLikeDate(s) { return FieldMapping(type: .date) }
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

    private func parseFailure(_ parts: [String], _ f: FieldMapping, _ value: JSONValue, cause: String) -> StoreError {
        let path = parts.joined(separator: ".")
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

    private mutating func addLeaf(_ value: JSONValue, parts: [String], field f: FieldMapping) throws(StoreError) {
        let path = parts.joined(separator: ".")
        if f.type == .alias {
            throw StoreError(.mapperParsing, "Cannot write to a field alias [\(path)].")
        }
        if let v = try convert(value, f, parts) {
            fields[path, default: []].append(v)
        }
        for (name, sub) in f.fields {
            if let v = try? convert(value, sub, parts + [name]) {
                fields[path + "." + name, default: []].append(v)
            }
        }
    }

    private func convert(_ value: JSONValue, _ f: FieldMapping, _ parts: [String]) throws(StoreError) -> FieldValue? {
        switch f.type.storage {
        case .string:
            let s: String
            switch value {
            case .string(let x): s = x
            case .int(let i): s = String(i)
            case .uint(let u): s = String(u)
            case .double(let d): s = String(d)
            case .bool(let b): s = b ? "true" : "false"
            default: throw parseFailure(parts, f, value, cause: "unexpected token \(value.tokenName)")
            }
            if let limit = f.ignoreAbove, s.count > limit { return nil }
            if f.type == .constantKeyword, let fixed = f.parameters["value"]?.stringValue, fixed != s {
                throw StoreError(.illegalArgument, "[constant_keyword] field [\(parts.joined(separator: "."))] only accepts values that are equal to the value defined in the mappings [\(fixed)], but got [\(s)]")
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
                    throw parseFailure(parts, f, value, cause: "For input string: \"\(s)\"")
                }
            case .uint(let u):
                throw parseFailure(parts, f, value, cause: "Value [\(u)] is out of range for a long")
            default:
                throw parseFailure(parts, f, value, cause: "Current token (\(value.tokenName)) not numeric, can not use numeric value accessors")
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
                throw parseFailure(parts, f, value, cause: "Value [\(v)] is out of range for \(f.type == .integer ? "an" : "a") \(f.type.rawValue)")
            }
            return .int(v)
        case .double:
            switch value {
            case .int, .uint, .double:
                return .double(value.doubleValue!)
            case .string(let s):
                guard let d = Double(s), d.isFinite else { throw parseFailure(parts, f, value, cause: "For input string: \"\(s)\"") }
                return .double(d)
            default:
                throw parseFailure(parts, f, value, cause: "Current token (\(value.tokenName)) not numeric, can not use numeric value accessors")
            }
        case .bool:
            switch value {
            case .bool(let b): return .bool(b)
            case .string("true"): return .bool(true)
            case .string("false"), .string(""): return .bool(false)
            default:
                throw parseFailure(parts, f, value, cause: "Failed to parse value [\(value.stringValue ?? value.jsonString)] as only [true] or [false] are allowed.")
            }
        case .date:
            let format = f.parameters["format"]?.stringValue
            switch value {
            case .int(let i):
                if let format, !format.contains("epoch") {
                    throw parseFailure(parts, f, value, cause: "failed to parse date field [\(i)] with format [\(format)]")
                }
                return .date(format?.hasPrefix("epoch_second") == true ? i * 1000 : i)
            case .double(let d) where d.isFinite && abs(d) < 9.2e18:
                return .date(Int64(d.rounded(.down)))
            case .string(let s):
                guard let ms = DateFormatSpec.parse(s, format: format) else {
                    throw parseFailure(parts, f, value, cause: "failed to parse date field [\(s)] with format [\(format ?? "strict_date_optional_time||epoch_millis")]")
                }
                return .date(ms)
            default:
                throw parseFailure(parts, f, value, cause: "failed to parse date field with format [\(format ?? "strict_date_optional_time||epoch_millis")]")
            }
        case .ip:
            guard case .string(let s) = value, let ip = IPAddress(s) else {
                throw parseFailure(parts, f, value, cause: "'\(value.stringValue ?? value.jsonString)' is not an IP string literal.")
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
