import Foundation
public import VigilJSON
public import VigilStore

/// A search request's `runtime_mappings`: fields computed per document for one search,
/// which queries then read like mapped fields (they shadow a mapped field of the same name).
///
/// A field with no script takes its values from `_source` at its own path, parsed as its
/// type; one with a script runs it (`PainlessScript`) and keeps what it emits.
public struct RuntimeField: Sendable {
    public var path: String
    public var type: FieldType
    public var script: PainlessScript?
    public var params: [String: JSONValue]

    /// The runtime types Elasticsearch has that Vigil computes.
    static let types: [String: FieldType] = ["keyword": .keyword, "long": .long, "double": .double, "boolean": .boolean, "date": .date, "ip": .ip]

    public struct Failure: Error, Sendable {
        /// Elasticsearch's error type: `mapper_parsing_exception` or `script_exception`.
        public var type: String
        public var reason: String
    }

    /// Parses a `runtime_mappings` object.
    public static func parse(_ json: JSONValue) throws(Failure) -> [RuntimeField] {
        guard case .object(let o) = json else {
            throw Failure(type: "parsing_exception", reason: "[runtime_mappings] must be an object")
        }
        var out: [RuntimeField] = []
        for e in o.entries {
            guard case .object(let def) = e.value else {
                throw Failure(type: "mapper_parsing_exception", reason: "Expected map for runtime field [\(e.key)] definition but got a \(e.value.tokenName)")
            }
            guard let typeName = def["type"]?.stringValue else {
                throw Failure(type: "mapper_parsing_exception", reason: "No type specified for runtime field [\(e.key)]")
            }
            guard let type = types[typeName] else {
                throw Failure(type: "mapper_parsing_exception", reason: "No handler for type [\(typeName)] declared on runtime field [\(e.key)]")
            }
            var field = RuntimeField(path: e.key, type: type, script: nil, params: [:])
            for p in def.entries where !["type", "script", "format"].contains(p.key) {
                throw Failure(type: "mapper_parsing_exception", reason: "unknown parameter [\(p.key)] on runtime field [\(e.key)] of type [\(typeName)]")
            }
            if let script = def["script"] {
                let source: String
                switch script {
                case .string(let s): source = s
                case .object(let so):
                    guard let s = so["source"]?.stringValue else {
                        throw Failure(type: "script_exception", reason: "runtime field [\(e.key)]: a script needs [source] (stored scripts are not supported)")
                    }
                    if let lang = so["lang"]?.stringValue, lang != "painless" {
                        throw Failure(type: "illegal_argument_exception", reason: "script_lang not supported [\(lang)]")
                    }
                    source = s
                    for p in so["params"]?.objectValue?.entries ?? [] { field.params[p.key] = p.value }
                default:
                    throw Failure(type: "mapper_parsing_exception", reason: "runtime field [\(e.key)]: [script] must be a string or an object")
                }
                do { field.script = try PainlessScript(source) } catch {
                    throw Failure(type: "script_exception", reason: "\(error.phase) in the script of runtime field [\(e.key)]: \(error.message)")
                }
            }
            out.append(field)
        }
        return out
    }

    /// The field's values for one document of `segment`.
    func values(_ segment: Segment, _ doc: Int, mapping: Mapping, runtimeNames: Set<String>) throws(Failure) -> [FieldValue] {
        var parsed: JSONValue?
        func source() -> JSONValue {
            if let parsed { return parsed }
            let v = (try? JSONParser().parse(segment.source(doc))) ?? .null
            parsed = v
            return v
        }
        guard let script else {
            return FieldPath.values(at: path, in: source()).flatMap { v -> [JSONValue] in
                if case .array(let a) = v { return a }
                return [v]
            }.compactMap { convert($0) }
        }
        let document = PainlessScript.Document(
            docValues: { (name) throws(PainlessScript.ScriptError) -> [FieldValue]? in
                if runtimeNames.contains(name) {
                    throw PainlessScript.ScriptError(phase: "runtime error", message: "runtime field [\(name)] read by another runtime field's script is not supported")
                }
                guard let f = mapping.field(at: name), !f.isObject else { return nil }
                if f.type == .text || f.type == .matchOnlyText {
                    throw PainlessScript.ScriptError(phase: "runtime error", message: "Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead. Alternatively, set fielddata=true on [\(name)] in order to load field data by uninverting the inverted index. Note that this can use significant memory.")
                }
                return segment.columns[name]?.values(doc) ?? []
            },
            source: source, params: params)
        let emitted: [PainlessScript.Value]
        do { emitted = try script.run(document) } catch {
            throw Failure(type: "script_exception", reason: "\(error.phase) in runtime field [\(path)]: \(error.message)")
        }
        var out: [FieldValue] = []
        for v in emitted {
            guard let f = convert(v) else {
                throw Failure(type: "script_exception", reason: "runtime error in runtime field [\(path)]: cannot emit a \(PainlessScript.typeName(v)) into a field of type [\(type.rawValue)]")
            }
            out.append(f)
        }
        return out
    }

    /// A `_source` value read as this field's type; nil when it does not parse as one.
    func convert(_ v: JSONValue) -> FieldValue? {
        switch (type, v) {
        case (.keyword, .string(let s)): .string(s)
        case (.keyword, .int(let n)): .string(String(n))
        case (.keyword, .double(let x)): .string(String(x))
        case (.keyword, .bool(let b)): .string(String(b))
        case (.long, .int(let n)): .int(n)
        case (.keyword, .uint(let n)): .string(String(n))
        case (.double, .uint(let n)): .double(Double(n))
        case (.long, .string(let s)): Int64(s).map { .int($0) }
        case (.double, .int(let n)): .double(Double(n))
        case (.double, .double(let x)): .double(x)
        case (.double, .string(let s)): Double(s).map { .double($0) }
        case (.boolean, .bool(let b)): .bool(b)
        case (.boolean, .string("true")): .bool(true)
        case (.boolean, .string("false")): .bool(false)
        case (.date, .int(let n)): .date(n)
        case (.date, .string(let s)): DateFormats.parse(s).map { .date($0) }
        case (.ip, .string(let s)): IPAddress(s).map { .ip($0) }
        default: nil
        }
    }

    /// An emitted value as this field's type; nil when the type does not take it.
    func convert(_ v: PainlessScript.Value) -> FieldValue? {
        switch (type, v) {
        case (.keyword, .string(let s)): .string(s)
        case (.long, .long(let n)): .int(n)
        case (.double, .long(let n)): .double(Double(n))
        case (.double, .double(let x)): .double(x)
        case (.boolean, .bool(let b)): .bool(b)
        case (.date, .long(let n)), (.date, .date(let n)): .date(n)
        case (.ip, .string(let s)): IPAddress(s).map { .ip($0) }
        default: nil
        }
    }

    /// Readers whose segments carry the runtime fields as columns, and their mapping.
    public static func apply(_ fields: [RuntimeField], to readers: [IndexReader]) throws(Failure) -> [IndexReader] {
        guard !fields.isEmpty else { return readers }
        let names = Set(fields.map(\.path))
        let scratch = FileIO.scratchDirectory + "/vigil-runtime-\(getpid())"
        var out: [IndexReader] = []
        for reader in readers {
            var mapping = reader.mapping
            for f in fields { mapping.setField(f.path, type: f.type) }
            var segments: [Segment] = []
            for live in reader.segments {
                var columns: [(path: String, values: [[FieldValue]])] = []
                for f in fields {
                    var values = [[FieldValue]](repeating: [], count: live.segment.docCount)
                    for doc in 0..<live.segment.docCount where live.isLive(doc) {
                        values[doc] = try f.values(live.segment, doc, mapping: reader.mapping, runtimeNames: names)
                    }
                    columns.append((f.path, values))
                }
                do { segments.append(try live.segment.adding(columns: columns, scratch: scratch)) } catch {
                    throw Failure(type: "exception", reason: "cannot lay out runtime fields: \(error.message)")
                }
            }
            out.append(reader.replacing(mapping: mapping, segments: segments))
        }
        return out
    }
}
