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

/// Where `ingest` sends `_bulk` bodies; returns the number of rejected items.
protocol BatchSink: Sendable {
    /// Sends one `_bulk` body; returns (documents sent, documents rejected).
    func send(_ body: [UInt8], index: String) throws -> (Int, Int)
    func finish(index: String) throws
}

struct DirectSink: BatchSink {
    let store: Store

    func send(_ body: [UInt8], index: String) throws -> (Int, Int) {
        var items: [BulkItem] = []
        var lineStart = 0
        var isAction = true
        for i in 0..<body.count where body[i] == 0x0A {
            if !isAction {
                items.append(BulkItem(target: index, operation: .index(id: nil, source: Array(body[lineStart..<i]), create: true, ifSeqNo: nil, ifPrimaryTerm: nil)))
            }
            isAction.toggle()
            lineStart = i + 1
        }
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

    func send(_ body: [UInt8], index: String) throws -> (Int, Int) {
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

/// Reads event files and sends them as `_bulk` bodies: one reader cuts the files into
/// bodies, two writers send them, so mapping runs on both cores and one writer's fsync or
/// seal never idles the other.
enum Loader {
    /// Returns the number of rejected documents; `progress` gets each batch's document count.
    static func load(_ files: [String], into sink: any BatchSink, index: String, batch: Int, progress: @escaping @Sendable (Int) -> Void) throws -> Int {
        let errors = Atomic<Int>(0)
        let failure = Mutex<(any Error)?>(nil)
        let workers = 2
        let queue = Mutex<[[UInt8]]>([])
        let filled = DispatchSemaphore(value: 0)
        let room = DispatchSemaphore(value: workers * 2)
        // Real threads: `concurrentPerform` runs at most one iteration per core at a time, which
        // on two cores would leave the second writer waiting for the reader to finish.
        let finished = DispatchSemaphore(value: 0)
        @Sendable func work(_ worker: Int) {
            if worker == 0 {
                defer {
                    for _ in 0..<workers {
                        queue.withLock { $0.append([]) }
                        filled.signal()
                    }
                }
                do {
                    for path in files {
                        let file = try EventFile(path: path)
                        var pending: [UInt8] = []
                        var count = 0
                        func flush() {
                            room.wait()
                            queue.withLock { $0.append(pending) }
                            filled.signal()
                            pending = []
                            count = 0
                        }
                        for d in file.documents.indices {
                            pending.append(contentsOf: #"{"create":{}}"#.utf8)
                            pending.append(0x0A)
                            pending.append(contentsOf: file.line(d))
                            pending.append(0x0A)
                            count += 1
                            if count == batch { flush() }
                        }
                        if count > 0 { flush() }
                    }
                } catch {
                    failure.withLock { $0 = error }
                }
            } else {
                while true {
                    filled.wait()
                    let body = queue.withLock { $0.removeFirst() }
                    if body.isEmpty { return }
                    room.signal()
                    do {
                        let (docs, rejected) = try sink.send(body, index: index)
                        errors.add(rejected, ordering: .relaxed)
                        progress(docs)
                    } catch {
                        failure.withLock { $0 = error }
                    }
                }
            }
        }
        for worker in 0...workers {
            let thread = Thread {
                work(worker)
                finished.signal()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        for _ in 0...workers { finished.wait() }
        if let error = failure.withLock({ $0 }) { throw error }
        return errors.load(ordering: .relaxed)
    }
}
