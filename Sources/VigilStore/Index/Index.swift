import Synchronization
public import VigilJSON

/// One index: mapping, settings, write-ahead log, in-memory buffer and sealed segments.
///
/// All mutable state sits behind one lock. Writes append to the log under the lock and wait
/// for the group fsync outside it, so concurrent `_bulk` requests share fsyncs.
public final class Index: Sendable {
    public let name: String
    let directory: String
    let wal: WriteAheadLog
    let state: Mutex<IndexState>
    /// One refresh at a time; held while a segment is written outside `state`.
    let refreshing = Mutex<Void>(())
    /// One merge at a time. Merges run beside refreshes (not under `refreshing`), so writers
    /// keep sealing buffers while a large merge rewrites old segments.
    let merging = Mutex<Void>(())
    /// Set when the index backs a data stream, whose documents need `@timestamp`.
    public let dataStream: String?
    /// Writes go to the write-ahead log, fsynced before they are acknowledged (see `Store.durable`).
    let durable: Bool

    public static let timestampField = "@timestamp"

    struct SegmentEntry {
        var segment: Segment
        /// Every deletion, as writes and gets see them (and as committed).
        var deletes: Bitmap
        /// The deletions searches see: those made before the last refresh. An update hides
        /// the old version only when the refresh that shows the new one happens.
        var visibleDeletes: Bitmap
        var deletesDirty = false
        /// Live documents as searches see them.
        var liveCount: Int { segment.docCount - visibleDeletes.cardinality }

        init(segment: Segment, deletes: Bitmap, visibleDeletes: Bitmap? = nil) {
            self.segment = segment
            self.deletes = deletes
            self.visibleDeletes = visibleDeletes ?? deletes
        }
    }

    struct IndexState {
        var mapper: DocumentMapper
        var streaming = StreamingMapper()
        var settings: IndexSettings
        var segments: [SegmentEntry] = []
        var buffer = WriteBuffer()
        /// Ids in the buffer. Generated ids are left out when written (they cannot collide)
        /// and added on the first lookup that misses, so append-only loads never hash ids.
        var bufferIndex: [String: Int] = [:]
        var bufferIndexed = 0
        /// The buffer being sealed by a refresh, outside the lock; still readable by id.
        var sealing: WriteBuffer?
        /// The last sealed buffer, emptied, whose memory the next refresh cycle reuses.
        var spareBuffer: WriteBuffer?
        var sealingIndex: [String: Int] = [:]
        var sealingIndexed = 0
        /// Sealing documents replaced or deleted meanwhile, deleted from the new segment once installed.
        var sealingKills: [Int] = []
        var tombstones: [String: Int64] = [:]
        var nextSeqNo: Int64 = 0
        var nextSegment = 1
        var mappingDirty = false
        var deletesDirty = false
        var failure: StoreError?
        var closed = false
        /// The log generation the last commit replays from; a merge commits with this one,
        /// never with a generation a refresh has rolled to but not yet sealed.
        var committedGeneration = 1
        /// Monotonic milliseconds of the last search, for Elasticsearch's search-idle shards.
        var lastSearch = Int64(Clock.monotonicNanos() / 1_000_000)

        var mapping: Mapping { mapper.mapping }

        init(mapping: Mapping, settings: IndexSettings) {
            mapper = DocumentMapper(mapping: mapping)
            self.settings = settings
        }
    }

    /// Where an id currently lives.
    enum Location {
        case buffer(Int)
        /// In the buffer a refresh is writing out right now.
        case sealing(Int)
        case segment(Int, Int)
    }

    /// Creates a new, empty index on disk.
    init(create name: String, directory: String, mapping: Mapping, settings: IndexSettings, dataStream: String?, durable: Bool = true) throws(StoreError) {
        self.name = name
        self.durable = durable
        self.directory = directory
        self.dataStream = dataStream
        try FileIO.makeDirectories(directory + "/segments")
        try FileIO.writeAtomically(directory + "/settings.json", JSONWriter().encode(Index.settingsFile(settings, dataStream: dataStream)))
        try FileIO.writeAtomically(directory + "/mapping.json", JSONWriter().encode(mapping.json))
        try FileIO.writeAtomically(directory + "/commit.json", JSONWriter().encode(Index.commitJSON(segments: [], walGeneration: 1, nextSegment: 1, maxSeqNo: -1)))
        wal = try WriteAheadLog(directory: directory + "/wal", generation: 1)
        state = Mutex(IndexState(mapping: mapping, settings: settings))
    }

    /// Opens an existing index directory, replaying its write-ahead log.
    init(open directory: String, durable: Bool = true) throws(StoreError) {
        self.directory = directory
        self.durable = durable
        let settingsJSON = try StoredJSON.read(directory + "/settings.json")
        let settings = try IndexSettings(json: settingsJSON["settings"] ?? settingsJSON)
        name = settings.values["index.provided_name"] ?? String(directory.split(separator: "/").last ?? "")
        dataStream = settingsJSON["data_stream"]?.stringValue
        var mapping = try Mapping(json: StoredJSON.read(directory + "/mapping.json"))
        mapping.fieldsLimit = settings.totalFieldsLimit
        let commit = try StoredJSON.read(directory + "/commit.json")
        var st = IndexState(mapping: mapping, settings: settings)
        let listed = commit["segments"]?.arrayValue?.compactMap(\.stringValue) ?? []
        for segName in listed {
            let segDir = directory + "/segments/" + segName
            let segment = try Segment(directory: segDir)
            var deletes = Bitmap(count: segment.docCount)
            let expected = Int(commit["deleted"]?[segName]?.int64Value ?? 0)
            if FileIO.exists(segDir + "/deletes.bin") {
                let bytes = try FileIO.read(segDir + "/deletes.bin")
                var words = [UInt64](repeating: 0, count: (segment.docCount + 63) / 64)
                guard bytes.count == words.count * 8 else {
                    throw StoreError(.corrupt, "segment [\(segName)]: deletes.bin holds \(bytes.count) bytes, expected \(words.count * 8)")
                }
                bytes.withUnsafeBytes { src in words.withUnsafeMutableBytes { $0.copyMemory(from: src) } }
                deletes = Bitmap(count: segment.docCount, words: words)
            }
            // The file may be newer than the commit (more deletions), never older or gone.
            if deletes.cardinality < expected {
                throw StoreError(.corrupt, "segment [\(segName)]: deletes.bin marks \(deletes.cardinality) deleted documents, the commit recorded \(expected)")
            }
            st.segments.append(SegmentEntry(segment: segment, deletes: deletes))
        }
        // Segments a crash left half-written are not in the commit: remove them.
        for leftover in FileIO.list(directory + "/segments") where !listed.contains(leftover) {
            FileIO.removeTree(directory + "/segments/" + leftover)
        }
        st.nextSegment = Int(commit["next_segment"]?.int64Value ?? 1)
        st.nextSeqNo = (commit["max_seq_no"]?.int64Value ?? -1) + 1
        for e in st.segments { st.nextSeqNo = max(st.nextSeqNo, e.segment.maxSeqNo + 1) }
        let walGeneration = Int(commit["wal_generation"]?.int64Value ?? 1)
        st.committedGeneration = walGeneration
        let walDirectory = directory + "/wal"
        let (records, problems) = try WriteAheadLog.replay(directory: walDirectory, from: walGeneration)
        for problem in problems { StoreLog.warn("index [\(name)]: \(problem)") }
        let existing = WriteAheadLog.generations(in: walDirectory)
        wal = try WriteAheadLog(directory: walDirectory, generation: max(walGeneration, (existing.last ?? 0) + 1))
        state = Mutex(st)
        state.withLock { s in
            for r in records { Index.replay(r.record, file: walDirectory + "/" + WriteAheadLog.fileName(r.generation), sourceOffset: r.sourceOffset, into: &s) }
        }
    }

    static func settingsFile(_ settings: IndexSettings, dataStream: String?) -> JSONValue {
        var o = JSONObject()
        o["settings"] = settings.json
        if let dataStream { o["data_stream"] = .string(dataStream) }
        return .object(o)
    }

    /// `deleted`: per segment, how many of its documents `deletes.bin` marks at least, so a lost or
    /// truncated file is noticed instead of bringing deleted documents back.
    static func commitJSON(segments: [String], walGeneration: Int, nextSegment: Int, maxSeqNo: Int64, deleted: [String: Int] = [:]) -> JSONValue {
        var deletes = JSONObject()
        for name in segments { if let n = deleted[name], n > 0 { deletes[name] = .int(Int64(n)) } }
        return .object([
            "segments": .array(segments.map { .string($0) }), "wal_generation": .int(Int64(walGeneration)),
            "next_segment": .int(Int64(nextSegment)), "max_seq_no": .int(maxSeqNo), "deleted": .object(deletes),
        ])
    }

    public var mapping: Mapping { state.withLock { $0.mapping } }
    public var settings: IndexSettings { state.withLock { $0.settings } }
    public var uuid: String { settings.uuid }

    /// Merges a mapping update (`PUT _mapping`) and persists it.
    public func putMapping(_ update: Mapping) throws(StoreError) {
        try state.withLock { (s) throws(StoreError) in
            var m = s.mapping
            try m.merge(update)
            try FileIO.writeAtomically(directory + "/mapping.json", JSONWriter().encode(m.json))
            s.mapper.reset(to: m)
        }
    }

    public func updateSettings(_ update: IndexSettings) throws(StoreError) {
        try state.withLock { (s) throws(StoreError) in
            for k in update.values.keys where ["index.number_of_shards", "index.uuid", "index.creation_date", "index.provided_name"].contains(k) {
                throw StoreError(.illegalArgument, "final \(s.settings.values["index.provided_name"] ?? name) setting [\(k)], not updateable")
            }
            var merged = s.settings
            merged.merge(update)
            if merged.totalFieldsLimit != s.settings.totalFieldsLimit {
                var m = s.mapping
                m.fieldsLimit = merged.totalFieldsLimit
                try m.checkLimits()
                s.mapper.reset(to: m)
            }
            try FileIO.writeAtomically(directory + "/settings.json", JSONWriter().encode(Index.settingsFile(merged, dataStream: dataStream)))
            s.settings = merged
        }
    }

    /// Closes the log; the object must not be written to afterwards.
    func markClosed() {
        state.withLock { $0.closed = true }
    }

    // MARK: Reading

    static func locate(_ id: String, in s: inout IndexState) -> Location? {
        if s.bufferIndexed < s.buffer.docCount && s.bufferIndex[id] == nil {
            catchUp(&s.bufferIndex, s.buffer, from: s.bufferIndexed)
            s.bufferIndexed = s.buffer.docCount
        }
        if let i = s.bufferIndex[id] { return .buffer(i) }
        if let sealing = s.sealing, s.sealingIndexed < sealing.docCount, s.sealingIndex[id] == nil {
            catchUp(&s.sealingIndex, sealing, from: s.sealingIndexed)
            s.sealingIndexed = sealing.docCount
        }
        if let i = s.sealingIndex[id] { return .sealing(i) }
        for (si, e) in s.segments.enumerated().reversed() {
            if let doc = e.segment.find(id: id), !e.deletes.contains(doc) { return .segment(si, doc) }
        }
        return nil
    }

    static func catchUp(_ index: inout [String: Int], _ buffer: WriteBuffer, from: Int) {
        for doc in from..<buffer.docCount where buffer.isLive(doc) {
            let id = buffer.id(doc)
            if index[id] == nil { index[id] = doc }
        }
    }

    /// Real-time get by id: sees writes not yet refreshed. A buffered document's source is read
    /// after the index lock is released, waiting (asleep) for its log bytes if the append that
    /// holds them has not reached the file yet.
    public func get(id: String) -> StoredDocument? {
        enum Found {
            case done(StoredDocument?)
            case buffered(version: Int64, seqNo: Int64, WriteBuffer.SourceLocation)
            case sealed(Segment, Int)
        }
        let found = state.withLock { s -> Found in
            switch Index.locate(id, in: &s) {
            case .buffer(let i)?:
                return .buffered(version: s.buffer.versions[i], seqNo: s.buffer.seqNos[i], s.buffer.sourceLocation(i))
            case .sealing(let i)?:
                let b = s.sealing!
                return .buffered(version: b.versions[i], seqNo: b.seqNos[i], b.sourceLocation(i))
            case .segment(let si, let doc)?:
                return .sealed(s.segments[si].segment, doc)
            case nil:
                return .done(nil)
            }
        }
        switch found {
        case .done(let doc): return doc
        case .sealed(let seg, let doc):
            // Mapped file pages may fault in from disk: read without the lock.
            return StoredDocument(index: name, id: id, version: seg.version(doc), seqNo: seg.seqNo(doc), source: seg.sourceBytes(doc))
        case .buffered(let version, let seqNo, .bytes(let source)):
            return StoredDocument(index: name, id: id, version: version, seqNo: seqNo, source: source)
        case .buffered(let version, let seqNo, .file(let path, let offset, let length)):
            wal.waitUntilWritten(path: path, end: offset + length)
            let source = (try? FileIO.read(path, offset: offset, count: length)) ?? []
            return StoredDocument(index: name, id: id, version: version, seqNo: seqNo, source: source)
        }
    }

    /// `index.search.idle.after`: an index not searched for this long skips periodic refreshes.
    public static let searchIdleMillis: Int64 = 30_000

    public var isSearchActive: Bool {
        let now = Int64(Clock.monotonicNanos() / 1_000_000)
        return state.withLock { now - $0.lastSearch < Index.searchIdleMillis }
    }

    /// The reader a search uses. Like Elasticsearch's search-idle shards, an index that skipped
    /// periodic refreshes is refreshed first, so a search always sees acknowledged writes.
    public func searchReader() throws(StoreError) -> IndexReader {
        let now = Int64(Clock.monotonicNanos() / 1_000_000)
        let wasIdle = state.withLock { s -> Bool in
            let idle = now - s.lastSearch >= Index.searchIdleMillis
            s.lastSearch = now
            return idle
        }
        if wasIdle && hasPendingWrites { try refresh() }
        return reader()
    }

    /// A consistent view of the refreshed documents, for searches.
    public func reader() -> IndexReader {
        state.withLock { s in
            IndexReader(index: name, mapping: s.mapping, segments: s.segments.map { IndexReader.LiveSegment(segment: $0.segment, deletes: $0.visibleDeletes) })
        }
    }

    public struct Stats: Sendable {
        public var docs: Int
        public var deleted: Int
        public var storeBytes: Int
        public var segments: Int
        public var buffered: Int
    }

    public var stats: Stats {
        let (docs, deleted, segments, buffered) = state.withLock { s in
            (s.segments.reduce(0) { $0 + $1.liveCount }, s.segments.reduce(0) { $0 + $1.visibleDeletes.cardinality }, s.segments.count, s.buffer.liveCount)
        }
        return Stats(docs: docs, deleted: deleted, storeBytes: FileIO.treeSize(directory), segments: segments, buffered: buffered)
    }
}

/// A point-in-time view of an index's sealed segments with their deletions.
public struct IndexReader: Sendable {
    public struct LiveSegment: Sendable {
        public let segment: Segment
        public let deletes: Bitmap

        public var liveCount: Int { segment.docCount - deletes.cardinality }
        @inline(__always)
        public func isLive(_ doc: Int) -> Bool { !deletes.contains(doc) }
    }

    public let index: String
    public let mapping: Mapping
    public let segments: [LiveSegment]

    public var liveCount: Int { segments.reduce(0) { $0 + $1.liveCount } }

    /// The same reader with another mapping and its segments replaced, in order, by `views`
    /// (the same documents with computed columns); deletions stay as they are.
    public func replacing(mapping: Mapping, segments views: [Segment]) -> IndexReader {
        precondition(views.count == segments.count)
        return IndexReader(index: index, mapping: mapping, segments: zip(segments, views).map { LiveSegment(segment: $1, deletes: $0.deletes) })
    }
}
