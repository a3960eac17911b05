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
    @Option(help: "Attack chains to mix into the events: all, or names (comma-separated); see --list-scenarios.") var scenarios: String?
    @Flag(help: "List the attack chains and the prebuilt rules that catch each, then exit.") var listScenarios = false

    func run() throws {
        if listScenarios {
            for sc in AttackScenarios.all {
                print("\(sc.name) (\(sc.os), host \(sc.hostName), \(sc.events.count) events): \(sc.summary)")
                for r in sc.expectedRules { print("  \(r.ruleId)  \(r.name)") }
            }
            return
        }
        let startMillis: Int64
        if let start {
            guard let ms = DateFormats.parse(start) else { throw ValidationError("cannot read --start \(start)") }
            startMillis = ms
        } else {
            startMillis = (Clock.nowMillis() / 86_400_000 - 1) * 86_400_000
        }
        // Attack chains are mixed into benign events: the generator's own suspicious programs stay out.
        var generator = EventGenerator(hosts: max(1, hosts), seed: seed, startMillis: startMillis, eventsPerSecond: max(1, rate), benign: scenarios != nil)
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
        var chain = try ScenarioMixer(names: scenarios, startMillis: startMillis, durationMillis: Int64(events) * 1000 / Int64(max(1, rate)))
        var one: [UInt8] = []
        for _ in 0..<events {
            one.removeAll(keepingCapacity: true)
            generator.next(into: &one)
            // Chain events due before this event go first, so the output stays in time order.
            chain.flush(before: one, bulk: bulk ? action : nil, into: &buffer)
            if bulk { buffer.append(contentsOf: action) }
            buffer.append(contentsOf: one)
            if buffer.count >= 1 << 20 {
                handle.write(Data(buffer))
                buffer.removeAll(keepingCapacity: true)
            }
        }
        chain.flushAll(bulk: bulk ? action : nil, into: &buffer)
        if !buffer.isEmpty { handle.write(Data(buffer)) }
        if output != nil { try handle.close() }
    }
}

/// Puts the events of attack chains among generated events: chain k of n starts at
/// (k + 1) / (n + 1) of the run's simulated time (earlier when it would not fit).
struct ScenarioMixer {
    var pending: [(time: Int64, line: [UInt8])] = []
    var next = 0

    init(names: String?, startMillis: Int64, durationMillis: Int64) throws {
        guard let names else { return }
        let chosen: [AttackScenario]
        if names == "all" {
            chosen = AttackScenarios.all
        } else {
            chosen = try names.split(separator: ",").map { n in
                guard let sc = AttackScenarios.all.first(where: { $0.name == n }) else {
                    throw ValidationError("unknown scenario \(n); known: \(AttackScenarios.all.map(\.name).joined(separator: ", "))")
                }
                return sc
            }
        }
        for (k, sc) in chosen.enumerated() {
            let span = Int64(sc.events.map(\.offsetMillis).max() ?? 0)
            let start = startMillis + max(0, min(durationMillis * Int64(k + 1) / Int64(chosen.count + 1), durationMillis - span - 1))
            let host = #""host":{"name":"\#(sc.hostName)","id":"\#(ScenarioMixer.hostId(sc.hostName))","os":{"type":"\#(sc.os)"}}"#
            for e in sc.events {
                let t = start + Int64(e.offsetMillis)
                let line = "{\"@timestamp\":\"\(DateFormats.formatISO(t))\",\(host),\(e.json.dropFirst())\n"
                pending.append((t, Array(line.utf8)))
            }
        }
        pending.sort { $0.time < $1.time }
    }

    /// A stable 32-hex id for a host name.
    static func hostId(_ name: String) -> String {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325, b: UInt64 = 0x8422_2325_cbf2_9ce4
        for byte in name.utf8 {
            a = (a ^ UInt64(byte)) &* 0x100_0000_01b3
            b = (b ^ UInt64(byte)) &* 0x100_0000_01b3 &+ a
        }
        func hex(_ v: UInt64) -> String { let s = String(v, radix: 16); return String(repeating: "0", count: 16 - s.count) + s }
        return hex(a) + hex(b)
    }

    /// Writes the chain events older than `event` (a generated line starting with its @timestamp).
    mutating func flush(before event: [UInt8], bulk: [UInt8]?, into out: inout [UInt8]) {
        guard next < pending.count else { return }
        // `{"@timestamp":"` is 15 bytes; the ISO time (24 bytes) follows.
        guard event.count > 39, let t = event[15..<39].withUnsafeBufferPointer({ DateFormats.parseISO(bytes: $0) }) else { return }
        while next < pending.count && pending[next].time < t {
            if let bulk { out += bulk }
            out += pending[next].line
            next += 1
        }
    }

    mutating func flushAll(bulk: [UInt8]?, into out: inout [UInt8]) {
        while next < pending.count {
            if let bulk { out += bulk }
            out += pending[next].line
            next += 1
        }
    }
}
