import ArgumentParser
import Foundation
import VigilStore

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen",
        abstract: "Write deterministic, realistic ECS endpoint events (process, file, network, library, registry) as NDJSON.")

    @Option(help: "Number of events.") var events = 1_000_000
    @Option(help: "Number of hosts.") var hosts = 50
    @Option(help: "Random seed; the same seed gives the same events.") var seed: UInt64 = 1
    @Option(help: "Timestamp of the first event (ISO 8601); default yesterday 00:00 UTC, so a seed gives the same events all day.") var start: String?
    @Option(help: "Events per second of simulated time.") var rate = 1000
    @Option(name: .shortAndLong, help: "Output file (default standard output).") var output: String?
    @Flag(help: "Write a _bulk body (a {\"create\":{}} line before each event).") var bulk = false

    func run() throws {
        let startMillis: Int64
        if let start {
            guard let ms = DateFormats.parse(start) else { throw ValidationError("cannot read --start \(start)") }
            startMillis = ms
        } else {
            startMillis = (Clock.nowMillis() / 86_400_000 - 1) * 86_400_000
        }
        var generator = EventGenerator(hosts: max(1, hosts), seed: seed, startMillis: startMillis, eventsPerSecond: max(1, rate))
        let handle: FileHandle
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: nil) else { throw ValidationError("cannot create \(output)") }
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        } else {
            handle = FileHandle.standardOutput
        }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20)
        let action = Array(#"{"create":{}}"#.utf8) + [0x0A]
        for _ in 0..<events {
            if bulk { buffer.append(contentsOf: action) }
            generator.next(into: &buffer)
            if buffer.count >= 1 << 20 {
                handle.write(Data(buffer))
                buffer.removeAll(keepingCapacity: true)
            }
        }
        if !buffer.isEmpty { handle.write(Data(buffer)) }
        if output != nil { try handle.close() }
    }
}
