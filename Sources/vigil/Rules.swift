import ArgumentParser
import Foundation
import Synchronization
import VigilDetect
import VigilEQL
import VigilJSON
import VigilQuery
import VigilStore

struct Rules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Detection rules: Elastic's prebuilt TOML rules and Kibana rule exports.",
        subcommands: [RulesRun.self, RulesImport.self])

    /// The rules of files and directories (TOML, Kibana NDJSON exports); problems go to stderr
    /// prefixed with `command`, and a path that cannot be read ends the command (exit 2).
    static func load(_ paths: [String], command: String) throws -> [Rule] {
        var rules: [Rule] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                FileHandleOutput.stderr("\(command): no such file or directory: \(path)\n")
                throw ExitCode(2)
            }
            if isDirectory.boolValue {
                let loaded = PrebuiltRules.load(directory: path)
                for f in loaded.failures { FileHandleOutput.stderr("\(command): \(f.path): \(f.error)\n") }
                rules += loaded.rules.map(\.rule)
            } else {
                do { rules += try RulesRun.read(path) } catch {
                    FileHandleOutput.stderr("\(command): \(path): \(error)\n")
                    throw ExitCode(2)
                }
            }
        }
        return rules
    }
}

/// `vigil rules import`: rule files into a running Vigil, through Kibana's `_import` API.
struct RulesImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import detection rules (TOML files, directories, Kibana exports) into a running Vigil.",
        discussion: """
            Prebuilt rules arrive as Kibana installs them: disabled unless --enable is given. Rules whose \
            rule_id exists are replaced with --overwrite and reported as errors otherwise.
            """)

    @Argument(help: "Rule files or directories.") var paths: [String]
    @Option(help: "The Vigil server.") var url = "http://127.0.0.1:9200"
    @Flag(help: "Replace rules that exist (same rule_id).") var overwrite = false
    @Flag(help: "Enable the imported rules.") var enable = false

    func run() async throws {
        var rules = try Rules.load(paths, command: "vigil rules import")
        if enable { for i in rules.indices { rules[i].json["enabled"] = true } }
        var body: [UInt8] = []
        let writer = JSONWriter()
        for r in rules {
            body += writer.encode(.object(r.json))
            body.append(0x0A)
        }
        // A Kibana export's exception lists and items go along, for the server to import.
        for path in paths where !path.hasSuffix(".toml") {
            guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { continue }
            let (lists, items) = RuleService.exceptionLines([UInt8](data))
            for o in lists + items {
                body += writer.encode(.object(o))
                body.append(0x0A)
            }
        }
        let base = url.hasSuffix("/") ? String(url.dropLast()) : url
        let answer: (status: Int, body: [UInt8])
        do {
            answer = try await HTTPClient.post(base + "/api/detection_engine/rules/_import?overwrite=\(overwrite)&overwrite_exceptions=\(overwrite)", body: body, contentType: "application/x-ndjson")
        } catch {
            FileHandleOutput.stderr("vigil rules import: cannot reach \(base): \(error.localizedDescription)\n")
            throw ExitCode(1)
        }
        guard answer.status == 200, case .object(let o)? = try? JSONParser().parse(answer.body) else {
            FileHandleOutput.stderr("vigil rules import: HTTP \(answer.status): \(String(decoding: answer.body, as: UTF8.self))\n")
            throw ExitCode(1)
        }
        let errors = o["errors"]?.arrayValue ?? []
        for e in errors {
            FileHandleOutput.stderr("vigil rules import: \(e["rule_id"]?.stringValue ?? e["id"]?.stringValue ?? "?"): \(e["error"]?["message"]?.stringValue ?? "")\n")
        }
        let exceptionErrors = o["exceptions_errors"]?.arrayValue ?? []
        for e in exceptionErrors {
            FileHandleOutput.stderr("vigil rules import: exception list \(e["list_id"]?.stringValue ?? "?"): \(e["error"]?["message"]?.stringValue ?? "")\n")
        }
        let lists = o["exceptions_success_count"]?.int64Value ?? 0
        print("imported \(o["success_count"]?.int64Value ?? 0) of \(rules.count) rules\(errors.isEmpty ? "" : ", \(errors.count) failed")"
              + (lists > 0 ? "; \(lists) exception lists and items" : ""))
        if !errors.isEmpty || !exceptionErrors.isEmpty { throw ExitCode(1) }
    }
}

/// `vigil rules run`: every rule over event files, with no server.
struct RulesRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run detection rules over event files, offline, and print their alerts as NDJSON.",
        discussion: """
            Rules are Elastic detection-rules TOML files (or directories of them) and Kibana rule exports
            (NDJSON, one rule per line). Events: NDJSON, JSON arrays or _bulk bodies (gzip too). Each rule runs
            once over all the events: a threshold counts over all of them, a new terms rule looks back
            history_window_start from each event. A summary goes to stderr.
            """)

    @Option(name: .customLong("rules"), help: "Rule files or directories (repeatable).") var rulePaths: [String]
    @Argument(help: "Event files.") var files: [String]
    @Flag(help: "Print the number of alerts per rule instead of the alerts.") var count = false
    @Option(help: "Only rules of these types, comma-separated: query, eql, threshold, new_terms, threat_match, esql.") var types: String?
    @Option(help: "Write each rule's time (NDJSON: rule_id, name, type, language, ms, alerts) to this file.") var timings: String?

    func run() async throws {
        let started = Clock.monotonicNanos()
        var rules = try Rules.load(rulePaths, command: "vigil rules run")
        if let types {
            let wanted = Set(types.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            rules = rules.filter { wanted.contains($0.typeName) }
        }
        // Compile against ECS to learn the fields the rules read; only those are indexed.
        let ecs = RuleCompiler(mapping: ECSFields.ruleMapping)
        var runnable: [Rule] = []
        var fields = Set<String>()
        var notRun = 0
        for rule in rules {
            do {
                fields.formUnion(try ecs.compile(rule).fields)
                runnable.append(rule)
            } catch {
                notRun += 1
                if !error.unsupported { FileHandleOutput.stderr("vigil rules run: rule \(rule.ruleId) (\(rule.name)): \(error.reason)\n") }
            }
        }
        var events: [EventFile] = []
        for path in files {
            do { events.append(try EventFile(path: path)) } catch {
                FileHandleOutput.stderr("vigil rules run: \(error)\n")
                throw ExitCode(2)
            }
        }
        let dir = FileIO.scratchDirectory + "/vigil-rules-\(getpid())-\(UInt32.random(in: 0..<UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let reader: IndexReader
        var loaded = 0, rejected = 0
        do {
            let store = try Store(directory: dir, durable: false)
            let mapping = RulesRun.mapping(for: fields)
            let index = try store.createIndex("events", body: ["mappings": .object(mapping)])
            // Only the mapped fields are indexed; alerts read the whole event from its file.
            let projector = JSONProjector(paths: mapping["properties"]?.objectValue?.keys ?? [])
            // Chunks of 4,096 events, written from two threads (documents are mapped outside the
            // index lock, so both cores work).
            let chunks = events.enumerated().flatMap { f, file in
                stride(from: 0, to: file.documents.count, by: 4096).map { (file: f, range: $0..<min($0 + 4096, file.documents.count)) }
            }
            let files = events
            let next = Atomic<Int>(0)
            let counts = Mutex((loaded: 0, rejected: 0))
            DispatchQueue.concurrentPerform(iterations: 2) { _ in
                while true {
                    let k = next.add(1, ordering: .relaxed).oldValue
                    guard k < chunks.count else { return }
                    let (f, range) = chunks[k]
                    // `<file>:<document>` (both from 0, in command-line and file order): the id
                    // alerts name their events by, and what makes alert ids the same every run.
                    var batch: [WriteOperation] = []
                    files[f].withBytes { bytes in
                        for d in range {
                            var narrow: [UInt8] = []
                            let document = UnsafeRawBufferPointer(rebasing: bytes[files[f].documents[d]])
                            // A document that is not JSON goes as it is, for the index to refuse.
                            let source = projector.project(document, into: &narrow) ? narrow : [UInt8](document)
                            batch.append(.index(id: "\(f):\(d)", source: source, create: true, ifSeqNo: nil, ifPrimaryTerm: nil))
                        }
                    }
                    let results = index.write(batch)
                    counts.withLock {
                        $0.rejected += results.count { $0.error != nil }
                        $0.loaded += results.count { $0.error == nil }
                    }
                }
            }
            (loaded, rejected) = counts.withLock { ($0.loaded, $0.rejected) }
            try store.refresh([index])
            reader = try index.searchReader()
        } catch {
            FileHandleOutput.stderr("vigil rules run: \(error)\n")
            throw ExitCode(2)
        }
        let loadedAt = Clock.monotonicNanos()
        let compiler = RuleCompiler(mapping: reader.mapping)
        // The rules share one cache of leaf conditions: most ask the same few questions.
        var executor = RuleExecutor(readers: [reader], now: Clock.nowMillis(), cache: LeafCache())
        let sources = events
        executor.source = { id in
            let parts = id.split(separator: ":")
            guard parts.count == 2, let f = Int(parts[0]), let d = Int(parts[1]), f < sources.count, d < sources[f].documents.count else { return nil }
            return (try? JSONParser().parse(sources[f].line(d)))?.objectValue
        }
        // Rules run on every core (each takes the next rule not yet taken); their alerts are
        // printed in rule order.
        struct Outcome {
            var alerts: [Alert] = []
            var ms = 0.0
        }
        let rulesToRun = runnable
        let outcomes = Mutex([Outcome?](repeating: nil, count: rulesToRun.count))
        let nextRule = Atomic<Int>(0)
        let shared = executor
        DispatchQueue.concurrentPerform(iterations: ProcessInfo.processInfo.activeProcessorCount) { _ in
            while true {
                let k = nextRule.add(1, ordering: .relaxed).oldValue
                guard k < rulesToRun.count else { return }
                let rule = rulesToRun[k]
                let ruleStarted = Clock.monotonicNanos()
                var outcome = Outcome()
                do throws(RuleCompileError) {
                    outcome.alerts = try shared.run(try compiler.compile(rule))
                } catch {
                    FileHandleOutput.stderr("vigil rules run: rule \(rule.ruleId) (\(rule.name)): \(error.reason)\n")
                }
                outcome.ms = Double(Clock.monotonicNanos() - ruleStarted) / 1e6
                outcomes.withLock { $0[k] = outcome }
            }
        }
        var out: [UInt8] = []
        let writer = JSONWriter()
        var alertCount = 0, firing = 0
        var times: [UInt8] = []
        for (rule, outcome) in zip(rulesToRun, outcomes.withLock { $0 }) {
            let alerts = outcome?.alerts ?? []
            if timings != nil {
                times += writer.encode(["rule_id": .string(rule.ruleId), "name": .string(rule.name), "type": .string(rule.typeName),
                                        "language": .string(rule.language), "ms": .double(outcome?.ms ?? 0), "alerts": .int(Int64(alerts.count))])
                times.append(0x0A)
            }
            if alerts.isEmpty { continue }
            firing += 1
            alertCount += alerts.count
            if count {
                out.append(contentsOf: writer.encode(["rule_id": .string(rule.ruleId), "name": .string(rule.name), "alerts": .int(Int64(alerts.count))]))
                out.append(0x0A)
            } else {
                for a in alerts {
                    out.append(contentsOf: writer.encode(.object(a.document)))
                    out.append(0x0A)
                }
            }
            if out.count > 1 << 20 {
                FileHandle.standardOutput.write(Data(out))
                out.removeAll(keepingCapacity: true)
            }
        }
        FileHandle.standardOutput.write(Data(out))
        if let timings { FileManager.default.createFile(atPath: timings, contents: Data(times)) }
        let done = Clock.monotonicNanos()
        FileHandleOutput.stderr("""
            vigil rules run: \(rules.count) rules (\(runnable.count) run, \(notRun) not run), \(loaded) events\
            \(rejected > 0 ? " (\(rejected) unreadable, skipped)" : ""); \(alertCount) alerts from \(firing) rules; \
            load \((loadedAt - started) / 1_000_000) ms, rules \((done - loadedAt) / 1_000_000) ms\n
            """)
    }

    /// Rules from one file: a detection-rules TOML file, or a Kibana export (NDJSON rules; the
    /// export's summary line is skipped).
    static func read(_ path: String) throws -> [Rule] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw RuleImportError("cannot read the file as UTF-8")
        }
        if path.hasSuffix(".toml") { return [try PrebuiltRules.rule(fromTOML: text)] }
        var rules: [Rule] = []
        for line in text.split(separator: "\n") where !line.allSatisfy(\.isWhitespace) {
            guard case .object(let o) = try JSONParser().parse(Array(line.utf8)) else { throw RuleImportError("a line is not a JSON object") }
            // The export's summary line, exception lists and items are not rules.
            if o["rule_id"] == nil && (o["exported_count"] != nil || o["list_id"] != nil || o["item_id"] != nil) { continue }
            rules.append(Rule(json: o))
        }
        return rules
    }

    /// An explicit mapping of the fields the rules read, typed as ECS types them (a multi-field
    /// such as `process.name.text` maps its parent); keyword when ECS does not know a field.
    /// Other fields stay in `_source` only.
    static func mapping(for fields: Set<String>) -> JSONObject {
        let ecs = ECSFields.ruleMapping
        var properties = JSONObject()
        func json(_ f: FieldMapping) -> JSONValue {
            var o: JSONObject = ["type": .string(f.type.rawValue)]
            if !f.fields.isEmpty {
                var subs = JSONObject()
                for (name, sub) in f.fields.sorted(by: { $0.key < $1.key }) { subs[name] = ["type": .string(sub.type.rawValue)] }
                o["fields"] = .object(subs)
            }
            return .object(o)
        }
        for path in fields.sorted() {
            let parts = path.split(separator: ".").map(String.init)
            if parts.count > 1 {
                let parent = parts.dropLast().joined(separator: ".")
                if let p = ecs.field(at: parent), !p.isObject, p.fields[parts.last!] != nil {
                    properties[parent] = json(p)
                    continue
                }
            }
            // A field below a leaf (ES|QL names its computed columns freely) cannot be mapped
            // without turning the leaf into an object: it stays in `_source`.
            let prefixes = (1..<max(1, parts.count)).map { parts[0..<$0].joined(separator: ".") }
            if prefixes.contains(where: { properties[$0] != nil || (ecs.field(at: $0).map { !$0.isObject } ?? false) }) { continue }
            if let f = ecs.field(at: path) {
                if f.isObject { continue }
                properties[path] = json(f)
            } else if properties[path] == nil {
                properties[path] = ["type": "keyword"]
            }
        }
        return ["dynamic": false, "properties": .object(properties)]
    }
}
