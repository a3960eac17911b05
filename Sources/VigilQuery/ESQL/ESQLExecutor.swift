public import VigilJSON
public import VigilStore

/// A value of an ES|QL row: null, a scalar, or several values (a multi-valued field).
public enum ESQLValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    /// Milliseconds since the epoch.
    case date(Int64)
    case ip(String)
    case multi([ESQLValue])

    /// A multi-value of one value is that value; of none, null.
    static func of(_ values: [ESQLValue]) -> ESQLValue {
        switch values.count {
        case 0: return .null
        case 1: return values[0]
        default: return .multi(values)
        }
    }

    var values: [ESQLValue] {
        switch self {
        case .null: return []
        case .multi(let vs): return vs
        default: return [self]
        }
    }

    public var isNull: Bool { if case .null = self { true } else { false } }

    var text: String? {
        switch self {
        case .string(let s), .ip(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return QueryValue.double(d).description
        case .bool(let b): return String(b)
        case .date(let t): return DateFormats.formatISO(t)
        default: return nil
        }
    }

    var number: Double? {
        switch self {
        case .int(let i), .date(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    public var json: JSONValue {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s), .ip(let s): return .string(s)
        case .date(let t): return .string(DateFormats.formatISO(t))
        case .multi(let vs): return .array(vs.map(\.json))
        }
    }

    /// ES|QL's column type name for the value.
    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "long"
        case .double: return "double"
        case .string: return "keyword"
        case .date: return "date"
        case .ip: return "ip"
        case .multi(let vs): return vs.first?.typeName ?? "null"
        }
    }
}

/// An error of an ES|QL query that parsed: an unknown column or function, a wrong argument.
public struct ESQLRunError: Error, Sendable {
    public var message: String
    /// The query would hold more than the request's memory budget (`circuit_breaking_exception`).
    public var tooLarge = false
    public init(_ message: String) { self.message = message }
}

/// The result of an ES|QL query: columns in order and rows of values. While rows still
/// stand for stored documents (no STATS yet), `origins` says which.
public struct ESQLResult: Sendable {
    /// Elasticsearch's `Warning` texts: evaluations that failed into null.
    public var warnings: [String] = []
    public var columns: [String]
    public var rows: [[ESQLValue]]
    /// The document of each row (reader, segment, document), while rows are documents.
    public var origins: [(reader: Int, segment: Int, doc: Int)]?

    /// Column types, from the first non-null value of each column (keyword when all are null).
    public var types: [String] {
        columns.indices.map { c in rows.lazy.map { $0[c] }.first { !$0.isNull }?.typeName ?? "keyword" }
    }
}

/// Runs ES|QL over index readers, one row per live document, command after command. The
/// fields a query reads (and those its KEEP/DROP patterns name) are the only ones loaded.
public struct ESQLExecutor: Sendable {
    public let readers: [IndexReader]
    public let now: Int64
    /// Only documents matching this are rows (a request's `filter`, a rule's window).
    public var filter: Expr?
    public var cache: LeafCache?
    /// Whether a query without KEEP loads every mapped field (as `_query` shows them); rules
    /// load only the fields their query names.
    public var loadAllColumns = true
    /// Evaluations that failed into null during the run (reported in the result).
    let warnings = ESQLWarnings()

    public init(readers: [IndexReader], now: Int64 = Clock.nowMillis()) {
        self.readers = readers
        self.now = now
    }

    struct Row {
        var values: [String: ESQLValue]
        var origin: (reader: Int, segment: Int, doc: Int)?
    }

    struct Table {
        var columns: [String]
        var rows: [Row]
    }

    public func run(_ query: ESQLQuery, limit defaultLimit: Int = 1000) throws(ESQLRunError) -> ESQLResult {
        let mapping = Mapping.union(readers.map(\.mapping))
        let leaves = mapping.leaves.filter { !$0.field.isObject && $0.field.type != .alias }
        var wanted = Set<String>()
        ESQLExecutor.collectFields(query, into: &wanted)
        if !loadAllColumns { wanted.remove("*") }
        // The leading WHERE's plain conditions narrow the documents before any row is made.
        var docFilter = filter
        if let pushed = ESQLPushdown.filter(query, mapping: mapping, now: now) {
            docFilter = docFilter.map { .and([.isTrue($0), .isTrue(pushed)]) } ?? pushed
        }
        var columns = leaves.map(\.path)
        for m in query.source.metadata { columns.append(m) }
        let loaded = Set(columns.filter { c in
            wanted.contains(c) || wanted.contains { $0.contains("*") && Wildcard.matches($0, c) }
        })
        // KQL() and MATCH run on the documents: their matches are found once per segment.
        var kql: [String: [[Bitmap]]] = [:]
        for text in ESQLExecutor.kqlQueries(query) {
            guard let expr = try? QueryDSL(mapping: mapping, now: now).translate(["kql": ["query": .string(text)]]) else {
                throw ESQLRunError("KQL query [\(text)] could not be parsed")
            }
            kql[text] = readers.map { r in r.segments.map { SegmentFilter(segment: $0.segment).matching(expr) } }
        }
        // The leading commands that work row by row run on batches of rows as documents are
        // read, so a LIMIT (or the default limit, when nothing after them needs every row)
        // stops the reading: `FROM * | LIMIT 1` reads one document, not the index.
        let commands = query.commands
        var head = 0
        while head < commands.count, ESQLExecutor.streams(commands[head]) { head += 1 }
        var cap = Int.max
        if head < commands.count, case .limit(let n) = commands[head] {
            cap = n
        } else if head == commands.count {
            cap = defaultLimit
        }
        var table = Table(columns: columns, rows: [])
        var limited = false
        var held = 0
        var batch = Table(columns: columns, rows: [])
        func flush() throws(ESQLRunError) {
            // The batch's rows move out (no copy when the commands change them in place).
            var b = Table(columns: batch.columns, rows: [])
            swap(&b.rows, &batch.rows)
            for command in commands[..<head] { try apply(command, to: &b, kql: kql, limited: &limited) }
            table.columns = b.columns
            if table.rows.isEmpty && b.rows.count <= cap {
                table.rows = b.rows
            } else {
                table.rows.append(contentsOf: b.rows.prefix(cap - table.rows.count))
            }
            batch.rows.reserveCapacity(ESQLExecutor.batchSize)
        }
        scan: for (ri, r) in readers.enumerated() {
            for (si, live) in r.segments.enumerated() {
                let seg = live.segment
                let cols = loaded.compactMap { f in seg.columns[f].map { (f, $0, mapping.field(at: f)?.type) } }
                var docs = docFilter.map { SegmentFilter(segment: seg, cache: cache).matching($0) } ?? Bitmap.full(seg.docCount)
                docs.subtract(live.deletes)
                for doc in docs.members {
                    var values: [String: ESQLValue] = [:]
                    for (f, c, type) in cols {
                        let vs = c.slots(doc).map { ESQLExecutor.value(c.value(atSlot: $0), type: type) }
                        if !vs.isEmpty { values[f] = .of(vs) }
                    }
                    if loaded.contains("_id") { values["_id"] = .string(seg.id(doc)) }
                    if loaded.contains("_index") { values["_index"] = .string(r.index) }
                    held += values.count + 1
                    if held > ESQLExecutor.maxValues {
                        var e = ESQLRunError("[esql] Data too large: the query would hold more than \(ESQLExecutor.maxValues) values in memory; narrow it with WHERE or LIMIT")
                        e.tooLarge = true
                        throw e
                    }
                    batch.rows.append(Row(values: values, origin: (ri, si, doc)))
                    if batch.rows.count == ESQLExecutor.batchSize {
                        try flush()
                        if table.rows.count >= cap { break scan }
                    }
                }
            }
        }
        try flush()
        for command in commands[head...] {
            try apply(command, to: &table, kql: kql, limited: &limited)
        }
        if !limited && table.rows.count > defaultLimit { table.rows.removeLast(table.rows.count - defaultLimit) }
        let origins: [(reader: Int, segment: Int, doc: Int)]? = table.rows.allSatisfy({ $0.origin != nil }) ? table.rows.map { $0.origin! } : nil
        return ESQLResult(warnings: warnings.messages, columns: table.columns, rows: table.rows.map { row in table.columns.map { row.values[$0] ?? .null } }, origins: origins)
    }

    /// Rows made per batch of the streamed commands.
    static let batchSize = 1024
    /// The memory budget of one query, in row values read from documents (a breaker, as
    /// Elasticsearch's request breaker answers 429 rather than running out of memory).
    static let maxValues = 50_000_000

    /// Whether a command works row by row, so it can run on batches as documents are read.
    static func streams(_ c: ESQLCommand) -> Bool {
        switch c {
        case .where, .eval, .keep, .drop, .rename, .mvExpand, .grok, .dissect: return true
        default: return false
        }
    }

    static func value(_ v: FieldValue, type: FieldType?) -> ESQLValue {
        switch v {
        case .string(let s): return .string(s)
        case .int(let i): return type == .date || type == .dateNanos ? .date(i) : .int(i)
        case .date(let t): return .date(t)
        case .double(let d): return .double(d)
        case .bool(let b): return .bool(b)
        case .ip(let a): return .ip(a.description)
        }
    }

    // MARK: - commands

    func apply(_ command: ESQLCommand, to t: inout Table, kql: [String: [[Bitmap]]], limited: inout Bool) throws(ESQLRunError) {
        let ev = ESQLEvaluator(now: now, kql: kql, warnings: warnings)
        switch command {
        case .where(let e):
            var kept: [Row] = []
            for row in t.rows where try ev.eval(e, row) == .bool(true) { kept.append(row) }
            t.rows = kept
        case .eval(let assignments):
            for a in assignments {
                for i in t.rows.indices {
                    let v = try ev.eval(a.expr, t.rows[i])
                    t.rows[i].values[a.name] = v
                }
                t.columns.removeAll { $0 == a.name }
                t.columns.append(a.name)
            }
        case .stats(let aggregates, let by, let inline):
            try stats(aggregates, by: by, inline: inline, &t, ev)
        case .keep(let patterns):
            var out: [String] = []
            for p in patterns {
                let matched = t.columns.filter { p.contains("*") ? Wildcard.matches(p, $0) : $0 == p }
                if matched.isEmpty && !p.contains("*") { throw ESQLRunError("Unknown column [\(p)]") }
                for c in matched {
                    out.removeAll { $0 == c }
                    out.append(c)
                }
            }
            t.columns = out
        case .drop(let patterns):
            for p in patterns where !p.contains("*") && !t.columns.contains(p) { throw ESQLRunError("Unknown column [\(p)]") }
            t.columns.removeAll { c in patterns.contains { p in p.contains("*") ? Wildcard.matches(p, c) : p == c } }
        case .rename(let renames):
            for r in renames {
                guard let i = t.columns.firstIndex(of: r.from) else { throw ESQLRunError("Unknown column [\(r.from)]") }
                t.columns.removeAll { $0 == r.to }
                t.columns[t.columns.firstIndex(of: r.from) ?? i] = r.to
                for k in t.rows.indices { t.rows[k].values[r.to] = t.rows[k].values.removeValue(forKey: r.from) }
            }
        case .sort(let orders):
            var keyed: [([ESQLValue], Row)] = []
            for row in t.rows { keyed.append((try orders.map { o throws(ESQLRunError) in try ev.eval(o.expr, row) }, row)) }
            keyed.sort { a, b in
                for (i, o) in orders.enumerated() {
                    let (x, y) = (a.0[i], b.0[i])
                    if x == y { continue }
                    let nullsFirst = o.nullsFirst ?? !o.ascending
                    if x.isNull { return nullsFirst }
                    if y.isNull { return !nullsFirst }
                    let less = ESQLEvaluator.compare(x, y).map { $0 < 0 } ?? false
                    return o.ascending ? less : !less && ESQLEvaluator.compare(x, y) != 0
                }
                return false
            }
            t.rows = keyed.map(\.1)
        case .limit(let n):
            if t.rows.count > n { t.rows.removeLast(t.rows.count - n) }
            limited = true
        case .mvExpand(let field):
            guard t.columns.contains(field) else { throw ESQLRunError("Unknown column [\(field)]") }
            var out: [Row] = []
            for row in t.rows {
                let vs = row.values[field]?.values ?? []
                if vs.count <= 1 {
                    out.append(row)
                    continue
                }
                for v in vs {
                    var r = row
                    r.values[field] = v
                    out.append(r)
                }
            }
            t.rows = out
        case .grok(let input, let pattern):
            let p = try ESQLGrok.compile(pattern)
            let regex = try ev.regexes.get(p.regex)
            for i in t.rows.indices {
                let v = try ev.eval(input, t.rows[i])
                let found = v.values.count == 1 ? v.text.flatMap { ESQLGrok.match(p, regex, $0) } : nil
                for (k, c) in p.columns.enumerated() { t.rows[i].values[c.name] = found?[k] ?? .null }
            }
            for c in p.columns {
                t.columns.removeAll { $0 == c.name }
                t.columns.append(c.name)
            }
        case .dissect(let input, let pattern, _):
            var names: [String] = []
            for i in t.rows.indices {
                let v = try ev.eval(input, t.rows[i])
                let parts = v.values.count == 1 ? v.text.flatMap { ESQLGrok.dissect(pattern, $0) } : nil
                for (name, value) in parts ?? [] {
                    t.rows[i].values[name] = .string(value)
                    if !names.contains(name) { names.append(name) }
                }
            }
            for name in ESQLExecutor.dissectKeys(pattern) where !names.contains(name) { names.append(name) }
            for name in names {
                t.columns.removeAll { $0 == name }
                t.columns.append(name)
            }
        case .lookupJoin, .completion, .sample:
            throw ESQLRunError("ES|QL command [\(ESQLExecutor.name(command))] is not supported yet")
        }
    }

    static func dissectKeys(_ pattern: String) -> [String] {
        var out: [String] = []
        var rest = Substring(pattern)
        while let open = rest.range(of: "%{"), let close = rest[open.upperBound...].firstIndex(of: "}") {
            var k = String(rest[open.upperBound..<close])
            if k.hasSuffix("->") { k.removeLast(2) }
            if k.hasPrefix("+") { k.removeFirst() }
            if !k.isEmpty && !k.hasPrefix("?") && !out.contains(k) { out.append(k) }
            rest = rest[rest.index(after: close)...]
        }
        return out
    }

    static func name(_ c: ESQLCommand) -> String {
        switch c {
        case .grok: "GROK"
        case .dissect: "DISSECT"
        case .lookupJoin: "LOOKUP JOIN"
        case .completion: "COMPLETION"
        case .sample: "SAMPLE"
        default: "command"
        }
    }

    func stats(_ aggregates: [ESQLAssignment], by: [ESQLAssignment], inline: Bool, _ t: inout Table, _ ev: ESQLEvaluator) throws(ESQLRunError) {
        var order: [[ESQLValue]] = []
        var groups: [[ESQLValue]: [Int]] = [:]
        for (i, row) in t.rows.enumerated() {
            var key: [ESQLValue] = []
            for b in by { key.append(try ev.eval(b.expr, row)) }
            // A multi-valued group key puts the row in one group per value.
            var keys: [[ESQLValue]] = [[]]
            for k in key {
                let vs = k.values.isEmpty ? [ESQLValue.null] : k.values
                keys = keys.flatMap { prefix in vs.map { prefix + [$0] } }
            }
            for k in keys {
                if groups[k] == nil { order.append(k) }
                groups[k, default: []].append(i)
            }
        }
        if by.isEmpty && order.isEmpty {
            order = [[]]
            groups[[]] = []
        }
        var results: [[ESQLValue]: [ESQLValue]] = [:]
        for k in order {
            let members = groups[k]!.map { t.rows[$0] }
            var values: [ESQLValue] = []
            for a in aggregates { values.append(try ev.aggregate(a, members)) }
            results[k] = values
        }
        if inline {
            for i in t.rows.indices {
                var key: [ESQLValue] = []
                for b in by { key.append(try ev.eval(b.expr, t.rows[i])) }
                let vs = results[key] ?? aggregates.map { _ in .null }
                for (a, v) in zip(aggregates, vs) { t.rows[i].values[a.name] = v }
            }
            for a in aggregates {
                t.columns.removeAll { $0 == a.name }
                t.columns.append(a.name)
            }
            return
        }
        t.columns = aggregates.map(\.name) + by.map(\.name)
        t.rows = order.map { k in
            var values: [String: ESQLValue] = [:]
            for (a, v) in zip(aggregates, results[k]!) { values[a.name] = v }
            for (b, v) in zip(by, k) { values[b.name] = v }
            return Row(values: values, origin: nil)
        }
    }

    // MARK: - what a query reads

    public static func collectFields(_ q: ESQLQuery, into out: inout Set<String>) {
        for c in q.commands {
            for e in c.expressions {
                e.visit { x in
                    switch x {
                    case .field(let f), .match(let f, _): out.insert(f)
                    default: break
                    }
                }
            }
            switch c {
            case .keep(let ps), .drop(let ps): ps.forEach { out.insert($0) }
            case .rename(let rs): rs.forEach { out.insert($0.from) }
            case .mvExpand(let f): out.insert(f)
            default: break
            }
        }
        // Without KEEP, every column is shown.
        if !q.commands.contains(where: { if case .keep = $0 { true } else if case .stats(_, _, false) = $0 { true } else { false } }) { out.insert("*") }
        for m in q.source.metadata { out.insert(m) }
    }

    /// What in the query Vigil does not run yet (a command or a function), or nil.
    public static func unsupported(_ q: ESQLQuery) -> String? {
        var problem: String?
        for c in q.commands {
            switch c {
            case .lookupJoin, .completion, .sample:
                problem = problem ?? "ES|QL command [\(name(c))] is not supported yet"
            case .grok(_, let pattern):
                do { _ = try ESQLGrok.compile(pattern) } catch { problem = problem ?? error.message }
            default: break
            }
            for e in c.expressions {
                e.visit { x in
                    if case .call(let name, _) = x, !ESQLEvaluator.functions.contains(name) && !ESQLEvaluator.aggregates.contains(name) {
                        problem = problem ?? "ES|QL function [\(name)] is not supported yet"
                    }
                }
            }
        }
        return problem
    }

    static func kqlQueries(_ q: ESQLQuery) -> [String] {
        var out: [String] = []
        for c in q.commands {
            guard case .where(let e) = c else { continue }
            e.visit { x in
                if case .call("KQL", let args) = x, case .literal(.string(let s))? = args.first { out.append(s) }
            }
        }
        return out
    }
}

extension ESQLExpr {
    /// Calls `body` on this expression and every expression inside it, parents first.
    func visit(_ body: (ESQLExpr) -> Void) {
        body(self)
        switch self {
        case .unary(_, let a), .cast(let a, _), .isNull(let a, _), .like(let a, _, _, _): a.visit(body)
        case .binary(_, let a, let b):
            a.visit(body)
            b.visit(body)
        case .call(_, let args): args.forEach { $0.visit(body) }
        case .in(let a, let xs, _):
            a.visit(body)
            xs.forEach { $0.visit(body) }
        case .map(let entries): entries.forEach { $0.value.visit(body) }
        case .literal, .star, .field, .match: break
        }
    }
}

extension ESQLCommand {
    /// The expressions the command evaluates.
    var expressions: [ESQLExpr] {
        switch self {
        case .where(let e): return [e]
        case .eval(let a): return a.map(\.expr)
        case .stats(let a, let b, _): return a.flatMap { [$0.expr] + ($0.filter.map { [$0] } ?? []) } + b.map(\.expr)
        case .sort(let os): return os.map(\.expr)
        case .grok(let e, _), .dissect(let e, _, _): return [e]
        case .completion(let e, _, _): return [e]
        default: return []
        }
    }
}
