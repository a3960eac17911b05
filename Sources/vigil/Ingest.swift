import ArgumentParser
import Foundation
import Synchronization
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import VigilEQL
import VigilJSON
import VigilStore

struct Ingest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load NDJSON, JSON-array or _bulk files into an index, offline into a data directory or through a server.")

    @Argument(help: "Files to load.") var files: [String]
    @Option(help: "Target index or data stream.") var index: String
    @Option(help: "Data directory to write into directly (the server must not be running on it).") var data = "./vigil-data"
    @Option(help: "Send through a running server instead, e.g. http://127.0.0.1:9200.") var url: String?
    @Option(help: "Documents per batch.") var batch = 5000
    @Flag(help: "No progress line.") var quiet = false

    func run() async throws {
        let sink: any BatchSink = try url.map { try HTTPSink(url: $0) } ?? DirectSink(store: Store(directory: data))
        let progress = Mutex(Progress(quiet: quiet))
        let rejected = try Loader.load(files, into: sink, index: index, batch: batch) { docs in progress.withLock { $0.add(docs) } }
        try sink.finish(index: index)
        progress.withLock { $0.done() }
        if rejected > 0 {
            FileHandleOutput.stderr("vigil ingest: \(rejected) documents were rejected\n")
            throw ExitCode(2)
        }
    }
}

/// Where `ingest` sends batches of documents (each one JSON object's bytes).
protocol BatchSink: Sendable {
    /// Indexes one batch; returns (documents sent, documents rejected).
    func send(_ documents: [[UInt8]], index: String) throws -> (Int, Int)
    func finish(index: String) throws
}

/// Straight into a data directory: documents go to the store as they are, no `_bulk` text.
struct DirectSink: BatchSink {
    let store: Store

    func send(_ documents: [[UInt8]], index: String) throws -> (Int, Int) {
        let items = documents.map { BulkItem(target: index, operation: .index(id: nil, source: $0, create: true, ifSeqNo: nil, ifPrimaryTerm: nil)) }
        let results = store.bulk(items)
        for r in results.prefix(3) where r.error != nil { FileHandleOutput.stderr("rejected: \(r.error!)\n") }
        return (results.count, results.filter { $0.error != nil }.count)
    }

    func finish(index: String) throws {
        for i in try store.resolve(index) { try i.refresh() }
    }
}

struct HTTPSink: BatchSink {
    let base: URL

    init(url: String) throws {
        guard let u = URL(string: url) else { throw ValidationError("bad --url \(url)") }
        base = u
    }

    func request(_ path: String, method: String, body: [UInt8]?) throws -> (Int, JSONValue?) {
        var req = URLRequest(url: base.appendingPathComponent(path))
        req.httpMethod = method
        req.setValue("application/x-ndjson", forHTTPHeaderField: "Content-Type")
        if let body { req.httpBody = Data(body) }
        let box = ResultBox()
        let sem = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: req) { data, response, error in
            box.set((response as? HTTPURLResponse)?.statusCode ?? 0, data.map { Array($0) }, error.map { "\($0)" })
            sem.signal()
        }.resume()
        sem.wait()
        let (status, data, error) = box.get()
        if let error { throw ValidationError("request to \(base) failed: \(error)") }
        return (status, data.flatMap { try? JSONParser().parse($0) })
    }

    func send(_ documents: [[UInt8]], index: String) throws -> (Int, Int) {
        var body: [UInt8] = []
        body.reserveCapacity(documents.reduce(0) { $0 + $1.count + 16 })
        for d in documents {
            body.append(contentsOf: #"{"create":{}}"#.utf8)
            body.append(0x0A)
            body.append(contentsOf: d)
            body.append(0x0A)
        }
        let (status, json) = try request(index + "/_bulk", method: "POST", body: body)
        guard status == 200, let items = json?["items"]?.arrayValue else {
            throw ValidationError("_bulk answered \(status): \(json?.jsonString ?? "")")
        }
        return (items.count, items.filter { $0.objectValue?.entries.first?.value["error"] != nil }.count)
    }

    func finish(index: String) throws {
        _ = try request(index + "/_refresh", method: "POST", body: nil)
    }
}

final class ResultBox: @unchecked Sendable {
    // Written once by the URLSession callback before the semaphore is signalled, read after.
    private var value: (Int, [UInt8]?, String?) = (0, nil, nil)
    func set(_ s: Int, _ d: [UInt8]?, _ e: String?) { value = (s, d, e) }
    func get() -> (Int, [UInt8]?, String?) { value }
}

/// A progress line on stderr for long loads.
struct Progress {
    let quiet: Bool
    let started = Clock.monotonicNanos()
    var total = 0
    var lastPrint: UInt64 = 0

    init(quiet: Bool) { self.quiet = quiet }

    mutating func add(_ n: Int) {
        total += n
        let now = Clock.monotonicNanos()
        if !quiet && now - lastPrint > 500_000_000 {
            lastPrint = now
            FileHandleOutput.stderr("\r\(total) docs, \(rate(now)) docs/s   ")
        }
    }

    func rate(_ now: UInt64) -> Int {
        let secs = Double(now - started) / 1e9
        return secs > 0 ? Int(Double(total) / secs) : 0
    }

    func done() {
        let now = Clock.monotonicNanos()
        let secs = Double(now - started) / 1e9
        FileHandleOutput.stderr("\(quiet ? "" : "\r")ingested \(total) docs in \(String(format: "%.2f", secs)) s (\(rate(now)) docs/s)\n")
    }
}

/// Reads event files and sends their documents in batches: two threads each take the next
/// batch of the file and send it, so mapping runs on both cores and one sender's fsync or
/// seal never idles the other.
enum Loader {
    /// Returns the number of rejected documents; `progress` gets each batch's document count.
    static func load(_ files: [String], into sink: any BatchSink, index: String, batch: Int, progress: @escaping @Sendable (Int) -> Void) throws -> Int {
        let errors = Atomic<Int>(0)
        let failure = Mutex<(any Error)?>(nil)
        for path in files {
            let file = try EventFile(path: path)
            let batches = (file.documents.count + batch - 1) / batch
            let next = Atomic<Int>(0)
            let finished = DispatchSemaphore(value: 0)
            let workers = 3
            // Real threads: each blocks in fsync, which a cooperative pool must not.
            for _ in 0..<workers {
                let thread = Thread {
                    defer { finished.signal() }
                    while failure.withLock({ $0 == nil }) {
                        let k = next.add(1, ordering: .relaxed).oldValue
                        guard k < batches else { return }
                        let range = k * batch..<min(file.documents.count, (k + 1) * batch)
                        do {
                            let (docs, rejected) = try sink.send(range.map { file.line($0) }, index: index)
                            errors.add(rejected, ordering: .relaxed)
                            progress(docs)
                        } catch {
                            failure.withLock { $0 = error }
                        }
                    }
                }
                thread.stackSize = 1 << 20
                thread.start()
            }
            for _ in 0..<workers { finished.wait() }
            if let error = failure.withLock({ $0 }) { throw error }
        }
        return errors.load(ordering: .relaxed)
    }
}
