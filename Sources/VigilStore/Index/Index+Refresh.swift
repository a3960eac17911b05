import Synchronization
import VigilJSON

extension Index {
    /// Seals buffered documents into a new segment and commits; afterwards searches see them
    /// and the write-ahead log generations before the commit are removed.
    /// Returns whether anything changed.
    ///
    /// The segment is written outside the index lock: writes go on into a fresh buffer, and
    /// the sealing documents stay readable by id until the segment is installed.
    @discardableResult
    public func refresh() throws(StoreError) -> Bool {
        try refreshing.withLock { (_) throws(StoreError) -> Bool in
            // Phase 1: swap the buffer out and start a new log generation.
            struct Job {
                var buffer: WriteBuffer
                var paths: [String]
                var name: String
                var generation: Int
            }
            let job = try state.withLock { (s) throws(StoreError) -> Job? in
                if s.buffer.isEmpty && !s.deletesDirty && !s.mappingDirty {
                    if s.buffer.docCount > 0 {
                        s.buffer = WriteBuffer()
                        s.bufferIndex = [:]
                        s.bufferIndexed = 0
                    }
                    return nil
                }
                let generation = try wal.roll()
                let job = Job(buffer: s.buffer, paths: s.mapper.slots.paths, name: "seg-" + String(format6: s.nextSegment), generation: generation)
                if !s.buffer.isEmpty { s.nextSegment += 1 }
                s.sealing = s.buffer
                s.sealingIndex = s.bufferIndex
                s.sealingIndexed = s.bufferIndexed
                s.sealingKills = []
                s.buffer = WriteBuffer(sizedLike: s.buffer)
                s.bufferIndex = [:]
                s.bufferIndexed = 0
                return job
            }
            guard let job else { return false }
            // Phase 2: write the segment while writers continue.
            var built: (Segment, [Int32])?
            var failure: StoreError?
            if !job.buffer.isEmpty {
                do throws(StoreError) {
                    let (_, rank) = try SegmentWriter.write(job.buffer, paths: job.paths, name: job.name, directory: directory + "/segments")
                    built = (try Segment(directory: directory + "/segments/" + job.name), rank)
                } catch {
                    failure = error
                }
            }
            // Phase 3: install it, with the deletions that arrived meanwhile, and commit.
            return try state.withLock { (s) throws(StoreError) -> Bool in
                if let failure {
                    // The documents stay in the log, which replays them on the next start.
                    s.failure = failure
                    throw failure
                }
                if let (segment, rank) = built {
                    var entry = SegmentEntry(segment: segment, deletes: Bitmap(count: segment.docCount))
                    for k in s.sealingKills where rank[k] >= 0 {
                        entry.deletes.insert(Int(rank[k]))
                        entry.deletesDirty = true
                        s.deletesDirty = true
                    }
                    s.segments.append(entry)
                }
                s.sealing = nil
                s.sealingIndex = [:]
                s.sealingIndexed = 0
                s.sealingKills = []
                try commit(&s, walGeneration: job.generation)
                wal.removeGenerations(before: job.generation)
                try maybeMerge(&s)
                return true
            }
        }
    }

    /// Persists deletions, the mapping and the list of segments; the log replays from `walGeneration`.
    func commit(_ s: inout IndexState, walGeneration: Int) throws(StoreError) {
        for i in s.segments.indices where s.segments[i].deletesDirty {
            let words = s.segments[i].deletes.words
            let bytes = words.withUnsafeBytes { [UInt8]($0) }
            try FileIO.writeAtomically(s.segments[i].segment.directory + "/deletes.bin", bytes)
            s.segments[i].deletesDirty = false
        }
        s.deletesDirty = false
        if s.mappingDirty {
            try FileIO.writeAtomically(directory + "/mapping.json", JSONWriter().encode(s.mapping.json))
            s.mappingDirty = false
        }
        let maxSeqNo = s.nextSeqNo - 1
        try FileIO.writeAtomically(directory + "/commit.json", JSONWriter().encode(
            Index.commitJSON(segments: s.segments.map(\.segment.name), walGeneration: walGeneration, nextSegment: s.nextSegment, maxSeqNo: maxSeqNo)))
    }

    static let mergeFactor = 8

    /// Tiered merging: when more than `mergeFactor` segments exist, the smallest ones, and any
    /// segment that is mostly deleted, are rewritten as one.
    func maybeMerge(_ s: inout IndexState) throws(StoreError) {
        let mostlyDeleted = s.segments.indices.filter { s.segments[$0].deletes.cardinality * 2 > s.segments[$0].segment.docCount }
        guard s.segments.count > Index.mergeFactor || !mostlyDeleted.isEmpty else { return }
        var chosen = Set(mostlyDeleted)
        if s.segments.count > Index.mergeFactor {
            let bySize = s.segments.indices.sorted { s.segments[$0].liveCount < s.segments[$1].liveCount }
            for i in bySize.prefix(s.segments.count - Index.mergeFactor / 2) { chosen.insert(i) }
        }
        try merge(Array(chosen).sorted(), &s)
    }

    /// Rewrites the chosen segments' live documents into one segment, from their columns.
    func merge(_ chosen: [Int], _ s: inout IndexState) throws(StoreError) {
        var merged = WriteBuffer()
        for i in chosen { merged.append(segment: s.segments[i].segment, deletes: s.segments[i].deletes, mapper: &s.mapper) }
        var kept = s.segments.enumerated().filter { !chosen.contains($0.offset) }.map(\.element)
        if !merged.isEmpty {
            let segName = "seg-" + String(format6: s.nextSegment)
            _ = try SegmentWriter.write(merged, paths: s.mapper.slots.paths, name: segName, directory: directory + "/segments")
            let segment = try Segment(directory: directory + "/segments/" + segName)
            s.nextSegment += 1
            kept.append(SegmentEntry(segment: segment, deletes: Bitmap(count: segment.docCount)))
        }
        let removed = chosen.map { s.segments[$0].segment.directory }
        s.segments = kept
        try commit(&s, walGeneration: wal.generation)
        for dir in removed { FileIO.removeTree(dir) }
    }

    /// Merges all segments into one (`_forcemerge?max_num_segments=1`).
    public func forceMerge() throws(StoreError) {
        try refresh()
        try refreshing.withLock { (_) throws(StoreError) in
            try state.withLock { (s) throws(StoreError) in
                guard s.segments.count > 1 || s.segments.contains(where: { $0.deletes.cardinality > 0 }) else { return }
                try merge(Array(s.segments.indices), &s)
            }
        }
    }

    /// Whether unrefreshed writes are waiting.
    public var hasPendingWrites: Bool { state.withLock { $0.buffer.docCount > 0 || $0.deletesDirty } }
}
