import VigilJSON
import VigilStore

extension API {
    /// One `_cat` column: its name, aliases, and whether numbers align right.
    struct CatColumn {
        var name: String
        var aliases: [String]
        var right: Bool
        var description: String { API.catDescriptions[name] ?? name.split(separator: ".").joined(separator: " ") }
    }

    static let catDescriptions: [String: String] = [
        "health": "current health status", "status": "open/close status", "index": "index name", "uuid": "index uuid",
        "pri": "number of primary shards", "rep": "number of replica shards", "docs.count": "available docs",
        "docs.deleted": "deleted docs", "store.size": "store size of primaries & replicas", "pri.store.size": "store size of primaries",
        "dataset.size": "total size of dataset", "creation.date": "index creation date (millisecond value)",
        "creation.date.string": "index creation date (as string)", "segments.count": "number of segments",
        "epoch": "seconds since 1970-01-01 00:00:00", "timestamp": "time in HH:MM:SS", "cluster": "cluster name",
        "node.total": "total number of nodes", "node.data": "number of nodes that can store data", "shards": "total number of shards",
        "relo": "number of relocating nodes", "init": "number of initializing nodes", "unassign": "number of unassigned shards",
        "unassign.pri": "number of unassigned primary shards", "pending_tasks": "number of pending tasks",
        "max_task_wait_time": "wait time of longest task pending", "active_shards_percent": "active number of shards in percent",
        "count": "the document count",
    ]

    /// Renders rows as `_cat` does: a text table (`v` for headers, `h` to pick columns, `s` to sort)
    /// or, with `format=json`, an array of objects with string values.
    func catTable(_ req: ESRequest, columns: [CatColumn], defaults: [String], rows: [[String: String]]) throws(RequestError) -> ESResponse {
        if req.params["help"] != nil {
            let nameWidth = columns.map(\.name.count).max() ?? 0
            let aliasWidth = columns.map { $0.aliases.joined(separator: ",").count }.max() ?? 0
            var out = ""
            for c in columns {
                let aliases = c.aliases.joined(separator: ",")
                out += c.name + String(repeating: " ", count: nameWidth - c.name.count) + " | "
                out += aliases + String(repeating: " ", count: aliasWidth - aliases.count) + " | " + c.description + "\n"
            }
            return .text(out)
        }
        var chosen: [CatColumn] = []
        if let h = req.params["h"], !h.isEmpty {
            for name in h.split(separator: ",").map(String.init) {
                let matches = columns.filter { c in name.contains("*") ? FilterPath.wildcard(name, c.name) : (c.name == name || c.aliases.contains(name)) }
                // Elasticsearch drops unknown columns silently.
                chosen.append(contentsOf: matches)
            }
        } else {
            chosen = defaults.compactMap { d in columns.first { $0.name == d } }
        }
        var rows = rows
        if let s = req.params["s"] {
            let keys = s.split(separator: ",").map { part -> (String, Bool) in
                let p = part.split(separator: ":").map(String.init)
                let c = columns.first { $0.name == p[0] || $0.aliases.contains(p[0]) }?.name ?? p[0]
                return (c, p.count > 1 && p[1] == "desc")
            }
            rows.sort { a, b in
                for (k, desc) in keys {
                    let x = a[k] ?? "", y = b[k] ?? ""
                    if x == y { continue }
                    let lt: Bool
                    if let xi = Double(x), let yi = Double(y) { lt = xi < yi } else { lt = x < y }
                    return desc ? !lt : lt
                }
                return false
            }
        }
        if req.params["format"] == "json" {
            return .json(.array(rows.map { row in
                var o = JSONObject()
                for c in chosen { o[c.name] = row[c.name].map { .string($0) } ?? .null }
                return .object(o)
            }))
        }
        let verbose = try req.flag("v")
        var table: [[String]] = []
        if verbose { table.append(chosen.map(\.name)) }
        for row in rows { table.append(chosen.map { row[$0.name] ?? "" }) }
        var widths = [Int](repeating: 0, count: chosen.count)
        for line in table { for (i, cell) in line.enumerated() { widths[i] = max(widths[i], cell.count) } }
        var out = ""
        for line in table {
            var cells: [String] = []
            for (i, cell) in line.enumerated() {
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                cells.append(chosen[i].right ? pad + cell : cell + pad)
            }
            var text = cells.joined(separator: " ")
            while text.last == " " { text.removeLast() }
            out += text + "\n"
        }
        return .text(out)
    }

    /// Byte sizes as Elasticsearch prints them: `225b`, `10.1kb`, `3mb`.
    static func byteSize(_ n: Int, _ unit: String?) -> String {
        switch unit {
        case "b": return String(n)
        case "kb": return String(n / 1024)
        case "mb": return String(n / (1024 * 1024))
        default: break
        }
        let units = ["b", "kb", "mb", "gb", "tb", "pb"]
        var v = Double(n)
        var u = 0
        while v >= 1024 && u < units.count - 1 {
            v /= 1024
            u += 1
        }
        if u == 0 { return "\(n)b" }
        let rounded = (v * 10).rounded() / 10
        let text = rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
        return text + units[u]
    }

    func health(of index: Index) -> String {
        index.settings.numberOfReplicas > 0 ? "yellow" : "green"
    }

    func catIndices(_ req: ESRequest, expression: String?) async throws -> ESResponse {
        var options = try resolveOptions(req)
        if expression == nil { options.expandHidden = options.expandHidden || req.params["expand_wildcards"] == nil && false }
        let indices = try store.resolve(expression ?? "_all", options: options)
        let unit = req.params["bytes"]
        // Indices that could not be opened are listed red, as Elasticsearch lists an index whose
        // primary cannot be assigned (resolving one by name reports why).
        let damaged: [[String: String]] = expression == nil
            ? store.damaged.keys.sorted().map { ["health": "red", "status": "open", "index": $0, "pri": "1", "rep": "1"] } : []
        let rows: [[String: String]] = damaged + indices.map { i in
            let st = i.stats
            let settings = i.settings
            return [
                "health": health(of: i), "status": "open", "index": i.name, "uuid": settings.uuid,
                "pri": String(settings.numberOfShards), "rep": String(settings.numberOfReplicas),
                "docs.count": String(st.docs), "docs.deleted": String(st.deleted),
                "store.size": API.byteSize(st.storeBytes, unit), "pri.store.size": API.byteSize(st.storeBytes, unit),
                "dataset.size": API.byteSize(st.storeBytes, unit),
                "creation.date": String(settings.creationDate), "creation.date.string": DateFormats.formatISO(settings.creationDate),
                "segments.count": String(st.segments),
            ]
        }
        let columns = [
            CatColumn(name: "health", aliases: ["h"], right: false), CatColumn(name: "status", aliases: ["s"], right: false),
            CatColumn(name: "index", aliases: ["i", "idx"], right: false), CatColumn(name: "uuid", aliases: ["id", "uuid"], right: false),
            CatColumn(name: "pri", aliases: ["p", "shards.primary", "shardsPrimary"], right: true),
            CatColumn(name: "rep", aliases: ["r", "shards.replica", "shardsReplica"], right: true),
            CatColumn(name: "docs.count", aliases: ["dc", "docsCount"], right: true),
            CatColumn(name: "docs.deleted", aliases: ["dd", "docsDeleted"], right: true),
            CatColumn(name: "store.size", aliases: ["ss", "storeSize"], right: true),
            CatColumn(name: "pri.store.size", aliases: [], right: true),
            CatColumn(name: "dataset.size", aliases: [], right: true),
            CatColumn(name: "creation.date", aliases: ["cd"], right: false),
            CatColumn(name: "creation.date.string", aliases: ["cds"], right: false),
            CatColumn(name: "segments.count", aliases: ["sc", "segmentsCount"], right: true),
        ]
        return try catTable(req, columns: columns,
            defaults: ["health", "status", "index", "uuid", "pri", "rep", "docs.count", "docs.deleted", "store.size", "pri.store.size", "dataset.size"], rows: rows)
    }

    func catCount(_ req: ESRequest, expression: String?) async throws -> ESResponse {
        let indices = try store.resolve(expression ?? "_all", options: resolveOptions(req))
        let now = Clock.nowMillis()
        let readers = try await blocking { try indices.map { try $0.searchReader() } }
        let total = readers.reduce(0) { $0 + $1.liveCount }
        let columns = [CatColumn(name: "epoch", aliases: ["t", "time"], right: true), CatColumn(name: "timestamp", aliases: ["ts", "hms"], right: false), CatColumn(name: "count", aliases: ["dc", "docs.count"], right: true)]
        let row = ["epoch": String(now / 1000), "timestamp": API.hms(now), "count": String(total)]
        return try catTable(req, columns: columns, defaults: ["epoch", "timestamp", "count"], rows: [row])
    }

    static func hms(_ millis: Int64) -> String {
        let iso = DateFormats.formatISO(millis)
        let t = iso.split(separator: "T")[1]
        return String(t.prefix(8))
    }

    struct ClusterState {
        var status: String
        var indices: Int
        var primaries: Int
        var unassigned: Int
    }

    /// `damaged`: indices that could not be opened, whose primaries count as unassigned (red).
    func clusterState(_ indices: [Index], damaged: Int = 0) -> ClusterState {
        let primaries = indices.reduce(0) { $0 + $1.settings.numberOfShards }
        let unassigned = indices.reduce(0) { $0 + $1.settings.numberOfShards * $1.settings.numberOfReplicas } + damaged
        let status = damaged > 0 ? "red" : unassigned > 0 ? "yellow" : "green"
        return ClusterState(status: status, indices: indices.count, primaries: primaries, unassigned: unassigned)
    }

    func catHealth(_ req: ESRequest) async throws -> ESResponse {
        let st = clusterState(store.allIndices, damaged: store.damaged.count)
        let now = Clock.nowMillis()
        let total = st.primaries + st.unassigned
        let percent = total == 0 ? 100.0 : Double(st.primaries) * 100 / Double(total)
        let row = [
            "epoch": String(now / 1000), "timestamp": API.hms(now), "cluster": "vigil", "status": st.status,
            "node.total": "1", "node.data": "1", "shards": String(st.primaries), "pri": String(st.primaries), "relo": "0",
            "init": "0", "unassign": String(st.unassigned), "unassign.pri": "0", "pending_tasks": "0", "max_task_wait_time": "-",
            "active_shards_percent": String(format1: percent) + "%",
        ]
        let names = ["epoch", "timestamp", "cluster", "status", "node.total", "node.data", "shards", "pri", "relo", "init", "unassign", "unassign.pri", "pending_tasks", "max_task_wait_time", "active_shards_percent"]
        let right: Set<String> = ["epoch", "node.total", "node.data", "shards", "pri", "relo", "init", "unassign", "unassign.pri", "pending_tasks", "max_task_wait_time", "active_shards_percent"]
        let columns = names.map { CatColumn(name: $0, aliases: [], right: right.contains($0)) }
        return try catTable(req, columns: columns, defaults: names, rows: [row])
    }

    func clusterHealth(_ req: ESRequest, expression: String?) async throws -> ESResponse {
        let indices = expression == nil ? store.allIndices : try store.resolve(expression!, options: resolveOptions(req))
        let st = clusterState(indices, damaged: expression == nil ? store.damaged.count : 0)
        let total = st.primaries + st.unassigned
        var timedOut = false
        if let want = req.params["wait_for_status"] {
            let rank = ["green": 0, "yellow": 1, "red": 2]
            guard let w = rank[want] else { throw RequestError.illegalArgument("unknown cluster health status [\(want)]") }
            timedOut = rank[st.status]! > w
        }
        let body: JSONValue = [
            "cluster_name": "vigil", "status": .string(st.status), "timed_out": .bool(timedOut),
            "number_of_nodes": 1, "number_of_data_nodes": 1,
            "active_primary_shards": .int(Int64(st.primaries)), "active_shards": .int(Int64(st.primaries)),
            "relocating_shards": 0, "initializing_shards": 0, "unassigned_shards": .int(Int64(st.unassigned)),
            "unassigned_primary_shards": 0, "delayed_unassigned_shards": 0, "number_of_pending_tasks": 0,
            "number_of_in_flight_fetch": 0, "task_max_waiting_in_queue_millis": 0,
            "active_shards_percent_as_number": .double(total == 0 ? 100.0 : Double(st.primaries) * 100 / Double(total)),
        ]
        return .json(body, status: timedOut ? 408 : 200)
    }
}

extension String {
    init(format1 v: Double) {
        let r = (v * 10).rounded() / 10
        self = String(r)
    }
}
