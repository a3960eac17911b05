import Dispatch
import Foundation
import Synchronization
public import VigilJSON
public import VigilQuery
import VigilStore

/// EQL over event files with no server, answering as `_eql/search` would over an index of them.
///
/// Only what the query can use is loaded: events that lack the text its conditions compare
/// with (`RequiredText`) are passed over by a byte search, and of the rest only the fields it
/// reads are copied (`JSONProjector`) into a scratch index, which the ordinary executor then
/// searches. Results point back into the files, so events print as they were written.
public struct OfflineHunt {
    /// Where an event lives: a file of the hunt and an event in it.
    public struct EventLocation: Sendable, Hashable {
        public var file: Int
        public var document: Int
    }

    public enum Matches: Sendable {
        case events([EventLocation])
        /// Join keys and events per sequence or sample; nil for a missing event.
        case sequences([(joinKeys: [QueryValue], events: [EventLocation?])])
    }

    public struct Result: Sendable {
        public var matches: Matches
        public var total: Int
        /// Events that could not be read or indexed (malformed JSON, a field of the wrong type).
        public var rejected: Int
        /// Events whose fields were loaded into the scratch index.
        public var loaded: Int
    }

    public let files: [EventFile]
    public let options: EQLOptions
    /// The scratch index's mapping (`{"properties": …}`); other fields are mapped dynamically.
    public let mapping: JSONObject
    /// A directory for the scratch store, removed afterwards.
    public let scratch: String

    public init(files: [EventFile], options: EQLOptions, mapping: JSONObject, scratch: String) {
        self.files = files
        self.options = options
        self.mapping = mapping
        self.scratch = scratch
    }

    public func run(_ query: String) throws(EQLError) -> Result {
        let statement = try EQLParser.parse(query)
        do {
            return try run(statement, prefilter: true)
        } catch let e where e.code == .verification && e.message.contains("Unknown column") {
            // A field met only in events the byte search passed over is unknown to the scratch
            // index; load every event and ask again before reporting the error.
            return try run(statement, prefilter: false)
        }
    }

    private func run(_ statement: EQLStatement, prefilter: Bool) throws(EQLError) -> Result {
        let directory = scratch + "/\(prefilter ? "narrow" : "all")"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store: Store
        let index: Index
        do {
            store = try Store(directory: directory, durable: false)
            index = try store.createIndex("events", body: ["mappings": .object(mapping)])
        } catch {
            throw EQLError(.internal, "cannot create the scratch index in \(directory): \(error.message)")
        }
        var fields = RequiredText.fields(of: statement)
        fields.insert(options.timestampField)
        fields.insert(options.eventCategoryField)
        if let t = options.tiebreakerField { fields.insert(t) }
        let projector = JSONProjector(paths: fields.sorted())
        let stages = prefilter ? RequiredText.stages(of: statement, eventCategoryField: options.eventCategoryField) : []
        let checks = prefilter ? ValueCheck(statement, mapping: mapping, options: options, projected: fields.sorted()) : nil
        let t0 = Clock.monotonicNanos()
        var rejected = 0
        var loaded = 0
        var bases: [Int] = []
        var base = 0
        var found: UInt64 = 0
        let ordinals = Ordinals()
        for file in files {
            bases.append(base)
            let search = prefilter ? OfflineHunt.search(for: stages, in: file) : nil
            let (l, r) = load(file, base: base, search: search, checks: checks, projector: projector, found: &found, into: index, ordinals: ordinals)
            loaded += l
            rejected += r
            base += file.documents.count
        }
        let t1 = Clock.monotonicNanos()
        let reader: IndexReader
        do {
            try store.refresh([index])
            reader = try index.searchReader()
        } catch {
            throw EQLError(.internal, "cannot read the scratch index: \(error.message)")
        }
        let t2 = Clock.monotonicNanos()
        let plan = try Analyzer.analyze(statement, mapping: reader.mapping, options: options)
        let result = try EQLExecutor(readers: [reader], options: options).run(plan)
        let t3 = Clock.monotonicNanos()
        if ProcessInfo.processInfo.environment["VIGIL_HUNT_TIMING"] != nil {
            FileHandle.standardError.write("load \((t1 - t0) / 1_000_000) ms, refresh \((t2 - t1) / 1_000_000) ms, query \((t3 - t2) / 1_000_000) ms, \(loaded) loaded\n".data(using: .utf8)!)
        }
        let bySeqNo = ordinals.all
        func locate(_ e: EventRef) -> EventLocation {
            let ordinal = Int(bySeqNo[Int(e.seqNo)])
            let f = bases.lastIndex { $0 <= ordinal }!
            return EventLocation(file: f, document: ordinal - bases[f])
        }
        switch result {
        case .events(let events, let total):
            return Result(matches: .events(events.map(locate)), total: total, rejected: rejected, loaded: loaded)
        case .sequences(let sequences, let total):
            let out = sequences.map { s in (joinKeys: s.joinKeys, events: s.events.map { $0.map(locate) }) }
            return Result(matches: .sequences(out), total: total, rejected: rejected, loaded: loaded)
        }
    }

    /// The needles to search `file` for: per stage the group fewest events of a sample contain,
    /// all stages' together; nil when some stage constrains nothing (every event is a candidate).
    static func search(for stages: [[[RequiredText.Needle]]], in file: EventFile) -> NeedleSearch? {
        guard !stages.isEmpty, stages.allSatisfy({ !$0.isEmpty }) else { return nil }
        let sample = file.documents.prefix(2000)
        return file.withBytes { bytes in
            var chosen = Set<RequiredText.Needle>()
            for groups in stages {
                let best = groups.min { a, b in hits(a, sample, bytes) < hits(b, sample, bytes) }!
                chosen.formUnion(best)
            }
            let needles = chosen.sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
            // Other groups are checked on the events the search finds, when there are any.
            let more = stages.contains { $0.count > 1 }
            return NeedleSearch(needles: needles, frequencies: NeedleSearch.frequencies(bytes, documents: sample), stages: more ? stages : [])
        }
    }

    private static func hits(_ group: [RequiredText.Needle], _ sample: ArraySlice<Range<Int>>, _ bytes: UnsafeRawBufferPointer) -> Int {
        sample.count { doc in
            group.contains { NeedleSearch.contains($0, in: bytes, doc) }
        }
    }

    /// Loads the candidate events of `file` into the scratch store, two threads projecting and
    /// each batch indexed in file order (equal timestamps then sort as the file has them).
    /// Returns (events loaded, events rejected).
    ///
    /// Until every field the query reads has been met (`found`, carried across files), every
    /// event is loaded: a field is mapped by its first value in the file, as a full load would
    /// map it, not by its first value among the candidates. Loading more events than the
    /// candidates never changes an answer.
    private func load(_ file: EventFile, base: Int, search: NeedleSearch?, checks: ValueCheck?, projector: JSONProjector, found: inout UInt64, into index: Index, ordinals: Ordinals) -> (Int, Int) {
        var seeded = 0
        var seedItems: [WriteOperation] = []
        var seedMalformed = 0
        var seedOrdinals: [Int32] = []
        file.withBytes { bytes in
            var narrow: [UInt8] = []
            while found != projector.allPaths, seeded < file.documents.count {
                narrow.removeAll(keepingCapacity: true)
                if projector.project(UnsafeRawBufferPointer(rebasing: bytes[file.documents[seeded]]), into: &narrow, found: &found) {
                    seedItems.append(.index(id: nil, source: narrow, create: true, ifSeqNo: nil, ifPrimaryTerm: nil))
                    seedOrdinals.append(Int32(base + seeded))
                } else {
                    seedMalformed += 1
                }
                seeded += 1
            }
        }
        let seedResults = seedItems.isEmpty ? [] : index.write(seedItems)
        ordinals.record(seedResults, seedOrdinals)
        let first = seeded
        let chunk = 4096
        let chunks = (file.documents.count - first + chunk - 1) / chunk
        let next = Atomic<Int>(0)
        let turn = Mutex<Int>(0)
        let turnChanged = NSCondition()
        let loaded = Atomic<Int>(seedItems.count)
        let rejected = Atomic<Int>(seedMalformed + seedResults.count { $0.error != nil })
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            var candidate = [Bool](repeating: search == nil, count: chunk)
            var narrow: [UInt8] = []
            var spans: [JSONProjector.Span] = []
            var unused: UInt64 = 0
            while true {
                let k = next.add(1, ordering: .relaxed).oldValue
                guard k < chunks else { return }
                let range = first + k * chunk..<min(file.documents.count, first + (k + 1) * chunk)
                var items: [WriteOperation] = []
                var itemOrdinals: [Int32] = []
                var malformed = 0
                file.withBytes { bytes in
                    if let search {
                        for i in candidate.indices { candidate[i] = false }
                        search.mark(bytes, documents: file.documents, range: range, candidate: &candidate)
                    }
                    for d in range where candidate[d - range.lowerBound] {
                        narrow.removeAll(keepingCapacity: true)
                        spans.removeAll(keepingCapacity: true)
                        let projected = checks == nil
                            ? projector.project(UnsafeRawBufferPointer(rebasing: bytes[file.documents[d]]), into: &narrow)
                            : projector.project(UnsafeRawBufferPointer(rebasing: bytes[file.documents[d]]), into: &narrow, found: &unused, spans: &spans)
                        guard projected else {
                            malformed += 1
                            continue
                        }
                        if let checks, checks.rules(out: narrow, spans: spans) { continue }
                        items.append(.index(id: nil, source: narrow, create: true, ifSeqNo: nil, ifPrimaryTerm: nil))
                        itemOrdinals.append(Int32(base + d))
                    }
                }
                // Mapped here in parallel; applied in file order.
                let prepared = index.prepare(items)
                turnChanged.lock()
                while turn.withLock({ $0 }) != k { turnChanged.wait() }
                turnChanged.unlock()
                let results = index.commit(prepared)
                ordinals.record(results, itemOrdinals)
                turnChanged.lock()
                turn.withLock { $0 = k + 1 }
                turnChanged.broadcast()
                turnChanged.unlock()
                loaded.add(items.count, ordering: .relaxed)
                rejected.add(malformed + results.count { $0.error != nil }, ordering: .relaxed)
            }
        }
        return (loaded.load(ordering: .relaxed), rejected.load(ordering: .relaxed))
    }

    /// Which event of the files each loaded document is, by its sequence number: documents get
    /// generated ids (which cost the store no lookups), and the results of each write say
    /// which sequence number each took.
    final class Ordinals: Sendable {
        private let bySeqNo = Mutex<[Int32]>([])

        func record(_ results: [WriteResult], _ ordinals: [Int32]) {
            bySeqNo.withLock { all in
                for (r, o) in zip(results, ordinals) where r.error == nil {
                    let n = Int(r.seqNo)
                    if n >= all.count { all.append(contentsOf: repeatElement(-1, count: n - all.count + 1)) }
                    all[n] = o
                }
            }
        }

        var all: [Int32] { bySeqNo.withLock { $0 } }
    }
}
