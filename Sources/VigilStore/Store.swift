import Synchronization
public import VigilJSON

/// The operations the server needs from a storage backend; the embedded `Store` is the first.
public protocol StorageBackend: Sendable {
    func createIndex(_ name: String, body: JSONObject?) throws(StoreError) -> Index
    func deleteIndices(_ expression: String) throws(StoreError) -> [String]
    func resolve(_ expression: String, options: ResolveOptions) throws(StoreError) -> [Index]
    func bulk(_ items: [BulkItem]) -> [WriteResult]
    func refresh(_ indices: [Index]) throws(StoreError)
}

/// How an index expression (`logs-*,-logs-old`) is resolved.
public struct ResolveOptions: Sendable {
    public var ignoreUnavailable = false
    public var allowNoIndices = true
    public var expandHidden = false

    public init(ignoreUnavailable: Bool = false, allowNoIndices: Bool = true, expandHidden: Bool = false) {
        self.ignoreUnavailable = ignoreUnavailable
        self.allowNoIndices = allowNoIndices
        self.expandHidden = expandHidden
    }
}

/// One `_bulk` (or single-document) write, addressed by index, alias or data stream name.
public struct BulkItem: Sendable {
    public var target: String
    public var operation: WriteOperation

    public init(target: String, operation: WriteOperation) {
        self.target = target
        self.operation = operation
    }
}

/// The embedded store: indices, templates and data streams under one data directory.
public final class Store: StorageBackend {
    public let directory: String

    struct Catalog {
        var indices: [String: Index] = [:]
        var templates: [String: IndexTemplate] = [:]
        var dataStreams: [String: DataStream] = [:]
    }

    let catalog: Mutex<Catalog>

    /// Whether writes are logged and fsynced before they are acknowledged. A scratch store
    /// (offline hunting over files, which can be read again) skips the log.
    public let durable: Bool

    /// Opens (or creates) a data directory and recovers every index in it.
    public init(directory: String, durable: Bool = true) throws(StoreError) {
        self.directory = directory
        self.durable = durable
        try FileIO.makeDirectories(directory + "/indices")
        var c = Catalog()
        let catalogPath = directory + "/catalog.json"
        if FileIO.exists(catalogPath) {
            let json = try StoredJSON.read(catalogPath)
            for e in json["templates"]?.objectValue?.entries ?? [] {
                if let body = e.value.objectValue { c.templates[e.key] = try IndexTemplate(name: e.key, body: body) }
            }
            for d in json["data_streams"]?.arrayValue ?? [] {
                if let ds = DataStream(json: d) { c.dataStreams[ds.name] = ds }
            }
        }
        var damaged: [String: String] = [:]
        for name in FileIO.list(directory + "/indices") {
            let path = directory + "/indices/" + name
            // A deletion that a crash cut short: the index was already renamed away.
            if name.hasPrefix(".deleting-") {
                FileIO.removeTree(path)
                continue
            }
            guard FileIO.exists(path + "/settings.json") else {
                // A creation cut short before its first file holds nothing to lose; anything
                // else without its settings is reported and left on disk as it is.
                if Store.holdsData(path) {
                    damaged[name] = "index [\(name)] cannot be opened: settings.json is missing"
                } else {
                    FileIO.removeTree(path)
                }
                continue
            }
            do {
                let index = try Index(open: path, durable: durable)
                c.indices[index.name] = index
            } catch {
                damaged[name] = "index [\(name)] cannot be opened: \(error.message)"
            }
        }
        catalog = Mutex(c)
        self.damaged = damaged
        disk = DiskGuard(path: directory)
        for name in damaged.keys.sorted() { StoreLog.warn(damaged[name]! + " (left on disk as it is; requests naming it are refused)") }
    }

    /// The flood-stage watermark of the data directory's file system.
    let disk: DiskGuard

    /// Indices found on disk that could not be opened, by folder name, with the reason. They
    /// are neither served nor removed nor replaced: an operator decides.
    public let damaged: [String: String]

    static func holdsData(_ path: String) -> Bool {
        if !FileIO.list(path + "/segments").isEmpty { return true }
        return FileIO.list(path + "/wal").contains { FileIO.fileSize(path + "/wal/" + $0) > 0 }
            || FileIO.exists(path + "/commit.json") || FileIO.exists(path + "/mapping.json")
    }

    func damagedError(_ name: String) -> StoreError? {
        damaged[name].map { StoreError(.corrupt, $0, index: name) }
    }

    func persistCatalog(_ c: Catalog) throws(StoreError) {
        var templates = JSONObject()
        for k in c.templates.keys.sorted() { templates[k] = .object(c.templates[k]!.body) }
        let json: JSONValue = .object([
            "templates": .object(templates),
            "data_streams": .array(c.dataStreams.keys.sorted().map { c.dataStreams[$0]!.json }),
        ])
        try FileIO.writeAtomically(directory + "/catalog.json", JSONWriter().encode(json))
    }

    // MARK: Names

    public static func validateIndexName(_ name: String) throws(StoreError) {
        func invalid(_ why: String) -> StoreError {
            StoreError(.invalidIndexName, "Invalid index name [\(name)], \(why)", index: name)
        }
        if name.isEmpty { throw invalid("must not be empty") }
        if name != name.lowercased() { throw invalid("must be lowercase") }
        let forbidden: [Character] = ["\\", "/", "*", "?", "\"", "<", ">", "|", " ", ",", "#", ":"]
        if name.contains(where: { forbidden.contains($0) }) {
            throw invalid("must not contain the following characters [' ','\"','*',',','/','<','>','?','\\\\','|']")
        }
        if let f = name.first, "_-+".contains(f) { throw invalid("must not start with '_', '-', or '+'") }
        // The name is a folder name here: control characters (a NUL cuts the path short) and
        // the replacement character of undecodable UTF-8 in the request are refused.
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0.value == 0xFFFD }) {
            throw invalid("must not contain control characters or invalid UTF-8")
        }
        if name == "." || name == ".." { throw invalid("must not be '.' or '..'") }
        if name.utf8.count > 255 {
            throw StoreError(.invalidIndexName, "Invalid index name [\(name)], index name is too long, (\(name.utf8.count) > 255)", index: name)
        }
    }

    // MARK: Indices

    public func createIndex(_ name: String, body: JSONObject?) throws(StoreError) -> Index {
        try catalog.withLock { (c) throws(StoreError) -> Index in
            try createIndexLocked(name, body: body, dataStream: nil, catalog: &c)
        }
    }

    private func createIndexLocked(_ name: String, body: JSONObject?, dataStream: String?, catalog c: inout Catalog) throws(StoreError) -> Index {
        try Store.validateIndexName(name)
        if let e = damagedError(name) { throw e }
        if c.indices[name] != nil {
            throw StoreError(.resourceAlreadyExists, "index [\(name)/\(c.indices[name]!.uuid)] already exists", index: name)
        }
        if c.dataStreams[name] != nil {
            throw StoreError(.resourceAlreadyExists, "data stream [\(name)] already exists", index: name)
        }
        if let body {
            for e in body.entries where !["mappings", "settings", "aliases"].contains(e.key) {
                throw StoreError(.parsing, "unknown key [\(e.key)] for create index")
            }
            if let aliases = body["aliases"], aliases.objectValue?.isEmpty != true {
                throw StoreError(.illegalArgument, "[aliases] are not supported by Vigil yet: create the index without them")
            }
        }
        // Templates apply first, the request's own mappings and settings on top. A backing
        // index takes its data stream's template (matched on the stream's name).
        var mapping = Mapping()
        var settings = IndexSettings()
        let template = Store.matchingTemplate(dataStream ?? name, c.templates)
        if let template { settings.merge(template.settings) }
        settings.merge(try IndexSettings(json: body?["settings"]))
        mapping.fieldsLimit = settings.totalFieldsLimit
        if let m = template?.mapping { try mapping.merge(m) }
        if let m = body?["mappings"] { try mapping.merge(Mapping(json: m)) }
        if dataStream != nil, mapping.field(at: Index.timestampField) == nil {
            try mapping.merge(Mapping(json: ["properties": ["@timestamp": ["type": "date"]]]))
        }
        if let shards = Int(settings.values["index.number_of_shards"] ?? "1"), shards > 1024 {
            throw StoreError(.illegalArgument, "Failed to parse value [\(shards)] for setting [index.number_of_shards] must be <= 1024")
        }
        settings.values["index.number_of_shards"] = settings.values["index.number_of_shards"] ?? "1"
        settings.values["index.number_of_replicas"] = settings.values["index.number_of_replicas"] ?? "1"
        settings.values["index.uuid"] = Store.uuid()
        settings.values["index.creation_date"] = String(Clock.nowMillis())
        settings.values["index.provided_name"] = name
        settings.values["index.version.created"] = ServerInfo.versionID
        if name.hasPrefix(".ds-") { settings.values["index.hidden"] = "true" }
        let index = try Index(create: name, directory: directory + "/indices/" + name, mapping: mapping, settings: settings, dataStream: dataStream, durable: durable)
        c.indices[name] = index
        return index
    }

    static func uuid() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        return String((0..<22).map { _ in alphabet.randomElement()! })
    }

    static func matchingTemplate(_ name: String, _ templates: [String: IndexTemplate]) -> IndexTemplate? {
        templates.values.filter { $0.matches(name) }.max { a, b in a.priority != b.priority ? a.priority < b.priority : a.name > b.name }
    }

    public func deleteIndices(_ expression: String) throws(StoreError) -> [String] {
        try catalog.withLock { (c) throws(StoreError) -> [String] in
            var names: [String] = []
            for part in expression.split(separator: ",").map(String.init) {
                if part.contains("*") || part == "_all" {
                    throw StoreError(.illegalArgument, "Wildcard expressions or all indices are not allowed")
                }
                guard let index = c.indices[part] else {
                    if c.dataStreams[part] != nil {
                        throw StoreError(.illegalArgument, "The provided expression [\(part)] matches a data stream, specify the corresponding concrete indices instead.")
                    }
                    throw StoreError.indexNotFound(part)
                }
                if let ds = index.dataStream, let stream = c.dataStreams[ds], stream.writeIndex == part {
                    throw StoreError(.illegalArgument, "index [\(part)] is the write index for data stream [\(ds)] and cannot be deleted")
                }
                names.append(part)
            }
            for name in names { try dropIndexLocked(name, &c) }
            try persistCatalog(c)
            return names
        }
    }

    private func dropIndexLocked(_ name: String, _ c: inout Catalog) throws(StoreError) {
        guard let index = c.indices.removeValue(forKey: name) else { return }
        index.markClosed()
        if let ds = index.dataStream, var stream = c.dataStreams[ds] {
            stream.indices.removeAll { $0 == name }
            c.dataStreams[ds] = stream
        }
        // Rename first so a crash mid-delete never leaves a half index that looks whole.
        let path = directory + "/indices/" + name
        let trash = directory + "/indices/.deleting-" + Store.uuid()
        if rename(path, trash) == 0 {
            FileIO.syncDirectory(of: path)
            FileIO.removeTree(trash)
        } else {
            FileIO.removeTree(path)
        }
    }

    public func index(named name: String) -> Index? { catalog.withLock { $0.indices[name] } }

    public var allIndices: [Index] { catalog.withLock { c in c.indices.keys.sorted().map { c.indices[$0]! } } }

    /// Resolves an index expression to concrete indices, expanding wildcards and data streams.
    public func resolve(_ expression: String, options: ResolveOptions = ResolveOptions()) throws(StoreError) -> [Index] {
        try catalog.withLock { (c) throws(StoreError) -> [Index] in
            var chosen: [String] = []
            var seen = Set<String>()
            func add(_ n: String) {
                if seen.insert(n).inserted { chosen.append(n) }
            }
            let parts = expression.isEmpty ? ["_all"] : expression.split(separator: ",").map { String($0).trimmed }
            var sawWildcard = false
            for part in parts {
                if part == "_all" || part == "*" {
                    sawWildcard = true
                    for n in c.indices.keys.sorted() where options.expandHidden || !Store.isHidden(n, c) { add(n) }
                    for ds in c.dataStreams.keys.sorted() { c.dataStreams[ds]!.indices.forEach(add) }
                    continue
                }
                if part.hasPrefix("-") && sawWildcard {
                    let pattern = String(part.dropFirst())
                    let excluded = Set(c.indices.keys.filter { Wildcard.matches(pattern, $0) }
                        + c.dataStreams.values.filter { Wildcard.matches(pattern, $0.name) }.flatMap(\.indices))
                    chosen.removeAll { excluded.contains($0) }
                    seen.subtract(excluded)
                    continue
                }
                if part.contains("*") {
                    sawWildcard = true
                    let hiddenOK = options.expandHidden || part.hasPrefix(".")
                    for n in c.indices.keys.sorted() where Wildcard.matches(part, n) && (hiddenOK || !Store.isHidden(n, c)) { add(n) }
                    for ds in c.dataStreams.keys.sorted() where Wildcard.matches(part, ds) { c.dataStreams[ds]!.indices.forEach(add) }
                    continue
                }
                if c.indices[part] != nil {
                    add(part)
                } else if let ds = c.dataStreams[part] {
                    ds.indices.forEach(add)
                } else if let e = damagedError(part) {
                    throw e
                } else if !options.ignoreUnavailable {
                    throw StoreError.indexNotFound(part)
                }
            }
            if chosen.isEmpty && !options.allowNoIndices {
                throw StoreError.indexNotFound(expression)
            }
            // A damaged backing index fails the request: answering without it would be wrong.
            for name in chosen where c.indices[name] == nil {
                if let e = damagedError(name) { throw e }
            }
            return chosen.compactMap { c.indices[$0] }
        }
    }

    static func isHidden(_ name: String, _ c: Catalog) -> Bool {
        name.hasPrefix(".") || c.indices[name]?.settings.hidden == true
    }

    // MARK: Writes

    public func bulk(_ items: [BulkItem]) -> [WriteResult] {
        bulk(targets: items.map(\.target), operations: items.map(\.operation))
    }

    /// Writes `operations[i]` to `targets[i]`, each index's share in one group; returns one
    /// result per operation. A request that writes to one index passes its array through as is.
    public func bulk(targets: [String], operations: [WriteOperation]) -> [WriteResult] {
        var results = [WriteResult?](repeating: nil, count: operations.count)
        // A full disk refuses every write but deletes, before anything is logged or applied.
        if durable && disk.blocks(adding: operations.reduce(0) { $0 + $1.approximateBytes }) {
            var allowed: [Int] = []
            for i in operations.indices {
                if operations[i].kind == .delete { allowed.append(i) } else { results[i] = .failure(index: targets[i], id: operations[i].id ?? "", DiskGuard.blockError(targets[i])) }
            }
            if allowed.count < operations.count {
                let done = allowed.isEmpty ? [] : bulk(targets: allowed.map { targets[$0] }, operations: allowed.map { operations[$0] }, checked: true)
                for (j, i) in allowed.enumerated() { results[i] = done[j] }
                return results.map { $0! }
            }
        }
        return bulk(targets: targets, operations: operations, checked: true)
    }

    private func bulk(targets: [String], operations: [WriteOperation], checked: Bool) -> [WriteResult] {
        var results = [WriteResult?](repeating: nil, count: operations.count)
        var groups: [(Index, [Int])] = []
        var groupOf: [ObjectIdentifier: Int] = [:]
        catalog.withLock { c in
            var changed = false
            for i in operations.indices {
                do throws(StoreError) {
                    let index = try writeTarget(targets[i], operations[i].kind, &c, &changed)
                    let key = ObjectIdentifier(index)
                    if let g = groupOf[key] {
                        groups[g].1.append(i)
                    } else {
                        groupOf[key] = groups.count
                        groups.append((index, [i]))
                    }
                } catch {
                    results[i] = .failure(index: targets[i], id: operations[i].id ?? "", error)
                }
            }
            if changed { try? persistCatalog(c) }
        }
        if groups.count == 1 && groups[0].1.count == operations.count { return groups[0].0.write(operations) }
        for (index, positions) in groups {
            let out = index.write(positions.map { operations[$0] })
            for (j, p) in positions.enumerated() { results[p] = out[j] }
        }
        return results.map { $0! }
    }

    private func writeTarget(_ name: String, _ kind: WriteOperation.Kind, _ c: inout Catalog, _ changed: inout Bool) throws(StoreError) -> Index {
        if let stream = c.dataStreams[name] {
            guard kind == .create else {
                throw StoreError(.illegalArgument, "only write ops with an op_type of create are allowed in data streams")
            }
            guard let index = c.indices[stream.writeIndex] else { throw StoreError.indexNotFound(stream.writeIndex) }
            return index
        }
        if let index = c.indices[name] { return index }
        try Store.validateIndexName(name)
        if kind == .delete || kind == .update { throw StoreError.indexNotFound(name) }
        if let template = Store.matchingTemplate(name, c.templates), template.dataStream {
            guard kind == .create else {
                throw StoreError(.illegalArgument, "only write ops with an op_type of create are allowed in data streams")
            }
            changed = true
            return try createDataStreamLocked(name, template: template, &c)
        }
        return try createIndexLocked(name, body: nil, dataStream: nil, catalog: &c)
    }

    public func refresh(_ indices: [Index]) throws(StoreError) {
        for index in indices { try index.refresh() }
    }

    /// Refreshes every index with pending writes (the periodic `refresh_interval`).
    /// Search-idle indices are skipped: their next search refreshes them.
    public func refreshPending(includingIdle: Bool = false) {
        recoverFailedIndices()
        for index in allIndices where index.hasPendingWrites && (includingIdle || index.isSearchActive) { _ = try? index.refresh() }
    }

    /// Indices that stopped taking writes after a write or refresh failed (a full disk) are
    /// opened again from their files once the disk has room: the log replays every
    /// acknowledged write, so nothing waits for a restart.
    func recoverFailedIndices() {
        let failed = catalog.withLock { c in c.indices.values.filter(\.hasFailed) }
        guard !failed.isEmpty, !disk.blocked else { return }
        for old in failed {
            old.markClosed()
            do {
                let reopened = try Index(open: old.directory, durable: durable)
                catalog.withLock { c in if c.indices[old.name] === old { c.indices[old.name] = reopened } }
                StoreLog.warn("index [\(old.name)] reopened after a failed write: its log was replayed")
            } catch {
                StoreLog.warn("index [\(old.name)] could not be reopened after a failed write: \(error.message)")
            }
        }
    }

    // MARK: Templates

    public func putTemplate(_ name: String, body: JSONObject, create: Bool = false) throws(StoreError) {
        let template = try IndexTemplate(name: name, body: body)
        try catalog.withLock { (c) throws(StoreError) in
            if create && c.templates[name] != nil {
                throw StoreError(.illegalArgument, "index template [\(name)] already exists")
            }
            for other in c.templates.values where other.name != name && other.priority == template.priority {
                let overlap = template.patterns.filter { p in other.patterns.contains { Store.patternsOverlap(p, $0) } }
                if !overlap.isEmpty {
                    throw StoreError(.illegalArgument, "index template [\(name)] has index patterns \(template.patterns) matching patterns from existing templates [\(other.name)] with patterns (\(other.name) => \(other.patterns)) that have the same priority [\(template.priority)], multiple index templates may not match during index creation, please use a different priority")
                }
            }
            var next = c
            next.templates[name] = template
            try persistCatalog(next)
            c = next
        }
    }

    static func patternsOverlap(_ a: String, _ b: String) -> Bool {
        Wildcard.matches(a, b.replacingOccurrences(of: "*", with: "x")) || Wildcard.matches(b, a.replacingOccurrences(of: "*", with: "x"))
    }

    public func templates(matching pattern: String?) throws(StoreError) -> [IndexTemplate] {
        try catalog.withLock { (c) throws(StoreError) -> [IndexTemplate] in
            let all = c.templates.keys.sorted().map { c.templates[$0]! }
            guard let pattern else { return all }
            let found = all.filter { t in pattern.split(separator: ",").contains { Wildcard.matches(String($0), t.name) } }
            if found.isEmpty && !pattern.contains("*") {
                throw StoreError(.resourceNotFound, "index template matching [\(pattern)] not found")
            }
            return found
        }
    }

    public func deleteTemplate(_ name: String) throws(StoreError) {
        try catalog.withLock { (c) throws(StoreError) in
            let names = c.templates.keys.filter { Wildcard.matches(name, $0) }
            if names.isEmpty { throw StoreError(.resourceNotFound, "index_template [\(name)] missing").withType("index_template_missing_exception") }
            for n in names {
                if let ds = c.dataStreams.values.first(where: { $0.template == n }) {
                    throw StoreError(.illegalArgument, "unable to remove composable templates [\(n)] as they are in use by a data streams [\(ds.name)]")
                }
            }
            var next = c
            for n in names { next.templates[n] = nil }
            try persistCatalog(next)
            c = next
        }
    }

    // MARK: Data streams

    private func createDataStreamLocked(_ name: String, template: IndexTemplate, _ c: inout Catalog) throws(StoreError) -> Index {
        if c.dataStreams[name] != nil { throw StoreError(.resourceAlreadyExists, "data_stream [\(name)] already exists") }
        if name.hasPrefix(".ds-") { throw StoreError(.illegalArgument, "data_stream [\(name)] must not start with '.ds-'") }
        let backing = DataStream.backingIndexName(name, generation: 1, millis: Clock.nowMillis())
        let index = try createIndexLocked(backing, body: nil, dataStream: name, catalog: &c)
        c.dataStreams[name] = DataStream(name: name, template: template.name, indices: [backing], generation: 1)
        try persistCatalog(c)
        return index
    }

    public func createDataStream(_ name: String) throws(StoreError) {
        try catalog.withLock { (c) throws(StoreError) in
            try Store.validateIndexName(name)
            if c.dataStreams[name] != nil { throw StoreError(.resourceAlreadyExists, "data_stream [\(name)] already exists") }
            if c.indices[name] != nil { throw StoreError(.resourceAlreadyExists, "index [\(name)] already exists", index: name) }
            guard let template = Store.matchingTemplate(name, c.templates), template.dataStream else {
                throw StoreError(.illegalArgument, "no matching index template found for data stream [\(name)]")
            }
            _ = try createDataStreamLocked(name, template: template, &c)
        }
    }

    public func dataStreams(matching pattern: String?) throws(StoreError) -> [DataStream] {
        try catalog.withLock { (c) throws(StoreError) -> [DataStream] in
            let all = c.dataStreams.keys.sorted().map { c.dataStreams[$0]! }
            guard let pattern, pattern != "*", pattern != "_all" else { return all }
            var out: [DataStream] = []
            for p in pattern.split(separator: ",").map(String.init) {
                let found = all.filter { Wildcard.matches(p, $0.name) }
                if found.isEmpty && !p.contains("*") { throw StoreError.indexNotFound(p) }
                out.append(contentsOf: found.filter { f in !out.contains { $0.name == f.name } })
            }
            return out
        }
    }

    public func deleteDataStreams(_ pattern: String) throws(StoreError) -> [String] {
        try catalog.withLock { (c) throws(StoreError) -> [String] in
            var names: [String] = []
            for p in pattern.split(separator: ",").map(String.init) {
                let found = c.dataStreams.keys.filter { Wildcard.matches(p, $0) }.sorted()
                if found.isEmpty && !p.contains("*") { throw StoreError.indexNotFound(p) }
                names.append(contentsOf: found)
            }
            for n in names {
                guard let ds = c.dataStreams.removeValue(forKey: n) else { continue }
                for idx in ds.indices { try dropIndexLocked(idx, &c) }
            }
            try persistCatalog(c)
            return names
        }
    }

    public func dataStream(named name: String) -> DataStream? { catalog.withLock { $0.dataStreams[name] } }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the server reports as its Elasticsearch version.
public enum ServerInfo {
    public static let version = "8.19.0"
    public static let versionID = "8523000"
    public static let luceneVersion = "9.12.1"
}
