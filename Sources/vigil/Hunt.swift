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
        guard ["head", "tail"].contains(resultPosition) else { throw ValidationError("--result-position must be head or tail") }
        // Refuse a bad query before reading any file.
        let statement: EQLStatement
        do {
            statement = try EQLParser.parse(query)
        } catch {
            FileHandleOutput.stderr("vigil eql: \(error.typeName): \(error.description)\n")
            throw ExitCode(2)
        }
        let opened = Clock.monotonicNanos()
        var events: [EventFile] = []
        for path in files {
            do { events.append(try EventFile(path: path)) } catch {
                FileHandleOutput.stderr("vigil eql: \(error)\n")
                throw ExitCode(2)
            }
        }
        if ProcessInfo.processInfo.environment["VIGIL_HUNT_TIMING"] != nil {
            FileHandleOutput.stderr("open \((Clock.monotonicNanos() - opened) / 1_000_000) ms\n")
        }
        var options = EQLOptions()
        options.size = size ?? Int(Int32.max)
        options.tail = resultPosition == "tail"
        options.timestampField = timestampField
        options.eventCategoryField = eventCategoryField
        options.tiebreakerField = tiebreakerField
        options.maxSamplesPerKey = maxSamplesPerKey
        // Counting events needs none of them fetched.
        if count, case .event = statement.query { options.size = 0 }
        // A scratch store, in memory when /dev/shm is there (its fsyncs cost nothing).
        let base = FileIO.scratchDirectory
        let dir = base + "/vigil-eql-\(getpid())-\(UInt32.random(in: 0..<UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result: OfflineHunt.Result
        do throws(EQLError) {
            result = try OfflineHunt(files: events, options: options, mapping: Hunt.ecsMapping, scratch: dir).run(query)
        } catch {
            FileHandleOutput.stderr("vigil eql: \(error.typeName): \(error.description)\n")
            throw ExitCode(2)
        }
        if result.rejected > 0 { FileHandleOutput.stderr("vigil eql: \(result.rejected) events could not be read and were skipped\n") }
        if count {
            print(result.total)
            return
        }
        var out: [UInt8] = []
        func flush(force: Bool) {
            if force || out.count > 1 << 20 {
                FileHandle.standardOutput.write(Data(out))
                out.removeAll(keepingCapacity: true)
            }
        }
        switch result.matches {
        case .events(let found):
            for e in found {
                out.append(contentsOf: events[e.file].line(e.document))
                out.append(0x0A)
                flush(force: false)
            }
        case .sequences(let found):
            let writer = JSONWriter()
            for s in found {
                out.append(UInt8(ascii: "{"))
                if !s.joinKeys.isEmpty {
                    out.append(contentsOf: #""join_keys":"#.utf8)
                    out.append(contentsOf: writer.encode(.array(s.joinKeys.map(\.jsonValue))))
                    out.append(UInt8(ascii: ","))
                }
                out.append(contentsOf: #""events":["#.utf8)
                for (i, e) in s.events.enumerated() {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    if let e { out.append(contentsOf: events[e.file].line(e.document)) } else { out.append(contentsOf: "null".utf8) }
                }
                out.append(contentsOf: "]}\n".utf8)
                flush(force: false)
            }
        }
        flush(force: true)
    }
}
