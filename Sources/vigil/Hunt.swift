import ArgumentParser
import Foundation
import VigilEQL
import VigilJSON
import VigilServer
import VigilStore

/// `vigil eql`: EQL over event files with no server, as `_eql/search` would answer it.
struct Hunt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eql",
        abstract: "Hunt with EQL over event files, offline: NDJSON, JSON arrays or _bulk bodies (gzip too).",
        discussion: """
            Prints each matching event's _source as one line of NDJSON, or for sequences and samples one line
            {"join_keys":[…],"events":[…]} each. Events need the timestamp field, as in Elasticsearch.
            """)

    @Argument(help: "The EQL query, e.g. 'process where process.name == \"bash\"'.") var query: String
    @Argument(help: "Event files.") var files: [String]
    @Flag(help: "Print only the number of matching events, sequences or samples.") var count = false
    @Option(help: "At most this many results (default: all).") var size: Int?
    @Option(help: "With --size: the first matches (head) or the last (tail).") var resultPosition = "tail"
    @Option(help: "Field holding each event's time.") var timestampField = "@timestamp"
    @Option(help: "Field holding each event's category.") var eventCategoryField = "event.category"
    @Option(help: "Field that orders events with equal timestamps.") var tiebreakerField: String?
    @Option(help: "Per join key, at most this many samples.") var maxSamplesPerKey = 1

    /// ECS's IP fields typed `ip`, so `cidrMatch` works on them as in an Elastic Defend index,
    /// and `@timestamp` a date; every other field is mapped dynamically, as Elasticsearch would.
    static let ecsMapping: JSONObject = {
        let fields = ["client.ip", "client.nat.ip", "destination.ip", "destination.nat.ip", "host.ip", "observer.ip",
                      "related.ip", "server.ip", "server.nat.ip", "source.ip", "source.nat.ip", "threat.indicator.ip"]
        var properties = JSONObject()
        for f in fields { properties[f] = ["type": "ip"] }
        // As in a data stream: the timestamp is a date (ISO text or epoch milliseconds).
        properties["@timestamp"] = ["type": "date"]
        return ["properties": .object(properties)]
    }()

    func run() async throws {
        // Refuse a bad query before reading any file.
        do {
            _ = try EQLParser.parse(query)
        } catch {
            FileHandleOutput.stderr("vigil eql: \(error.typeName): \(error.description)\n")
            throw ExitCode(2)
        }
        guard ["head", "tail"].contains(resultPosition) else { throw ValidationError("--result-position must be head or tail") }
        // A scratch store, in memory when /dev/shm is there (its fsyncs cost nothing).
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let dir = base + "/vigil-eql-\(getpid())-\(UInt32.random(in: 0..<UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Store(directory: dir)
        _ = try store.createIndex("events", body: ["mappings": .object(Hunt.ecsMapping)])
        let rejected = try Loader.load(files, into: DirectSink(store: store), index: "events", batch: 5000) { _ in }
        if rejected > 0 { FileHandleOutput.stderr("vigil eql: \(rejected) documents could not be read and were skipped\n") }
        try store.refresh(store.resolve("events"))
        var body = JSONObject()
        body["query"] = .string(query)
        body["size"] = .int(Int64(size ?? Int(Int32.max)))
        body["result_position"] = .string(resultPosition)
        body["timestamp_field"] = .string(timestampField)
        body["event_category_field"] = .string(eventCategoryField)
        if let tiebreakerField { body["tiebreaker_field"] = .string(tiebreakerField) }
        body["max_samples_per_key"] = .int(Int64(maxSamplesPerKey))
        let response: JSONObject
        do {
            response = try EQLSearch.run(store: store, index: "events", body: body)
        } catch {
            FileHandleOutput.stderr("vigil eql: \(error)\n")
            throw ExitCode(2)
        }
        let hits = response["hits"]
        if count {
            print(hits?["total"]?["value"]?.int64Value ?? 0)
            return
        }
        var out: [UInt8] = []
        let writer = JSONWriter()
        func flush(force: Bool) {
            if force || out.count > 1 << 20 {
                FileHandle.standardOutput.write(Data(out))
                out.removeAll(keepingCapacity: true)
            }
        }
        for e in hits?["events"]?.arrayValue ?? [] {
            out.append(contentsOf: writer.encode(e["_source"] ?? .null))
            out.append(0x0A)
            flush(force: false)
        }
        for s in hits?["sequences"]?.arrayValue ?? [] {
            var o = JSONObject()
            if let keys = s["join_keys"] { o["join_keys"] = keys }
            o["events"] = .array((s["events"]?.arrayValue ?? []).map { e in e["missing"]?.boolValue == true ? .null : e["_source"] ?? .null })
            out.append(contentsOf: writer.encode(.object(o)))
            out.append(0x0A)
            flush(force: false)
        }
        flush(force: true)
    }
}
