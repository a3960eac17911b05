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
        // A closed or failed index is left alone: a failed one is opened again from its files.
        if state.withLock({ $0.closed || $0.failure != nil }) { return false }
        let changed = try refreshing.withLock { (_) throws(StoreError) -> Bool in
            // Phase 1: swap the buffer out and start a new log generation.
            struct Job {
                var buffer: WriteBuffer
                var paths: [String]
                var name: String
                var generation: Int
                /// Each segment's deletions now: what searches see once this refresh is done.
                var deletes: [String: Bitmap]
            }
            let job = try state.withLock { (s) throws(StoreError) -> Job? in
                if s.buffer.isEmpty && !s.deletesDirty && !s.mappingDirty && s.segments.allSatisfy({ $0.visibleDeletes == $0.deletes }) {
                    if s.buffer.docCount > 0 {
                        s.buffer = WriteBuffer()
                        s.bufferIndex = [:]
                        s.bufferIndexed = 0
                    }
                    return nil
                }
                let generation = try wal.roll()
                let deletes = Dictionary(s.segments.map { ($0.segment.name, $0.deletes) }, uniquingKeysWith: { a, _ in a })
                let job = Job(buffer: s.buffer, paths: s.mapper.slots.paths, name: "seg-" + String(format6: s.nextSegment), generation: generation, deletes: deletes)
                if !s.buffer.isEmpty { s.nextSegment += 1 }
                s.sealing = s.buffer
                s.sealingIndex = s.bufferIndex
                s.sealingIndexed = s.bufferIndexed
                s.sealingKills = []
                s.buffer = s.spareBuffer.take() ?? WriteBuffer(sizedLike: s.buffer)
                s.bufferIndex = [:]
                s.bufferIndexed = 0
                return job
            }
            guard var job else { return false }
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
            try state.withLock { (s) throws(StoreError) in
                if let failure {
                    // The documents stay in the log, which replays them on the next start.
                    s.failure = failure
                    throw failure
                }
                // Searches now see the deletions made before phase 1 (the writes that replaced
                // those documents are in the new segment). A segment a merge installed meanwhile
                // shows all of its own.
                for i in s.segments.indices {
                    s.segments[i].visibleDeletes = job.deletes[s.segments[i].segment.name] ?? s.segments[i].deletes
                }
                if let (segment, rank) = built {
                    // Documents of the new segment replaced since phase 1 stay visible until the
                    // next refresh shows their replacements.
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
            }
            // Nothing else holds the sealed buffer now: keep its memory for the next cycle.
            job.buffer.reset()
            state.withLock { $0.spareBuffer = job.buffer }
            return true
        }
        // A merge is housekeeping: if it fails, the refresh still succeeded and the next one
        // retries; while one runs, other refreshes go on and do not wait for it.
        if changed { _ = merging.withLockIfAvailable { _ in try? mergeIfNeeded(all: false) } }
        return changed
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
            Index.commitJSON(segments: s.segments.map(\.segment.name), walGeneration: walGeneration, nextSegment: s.nextSegment, maxSeqNo: maxSeqNo,
                             deleted: Dictionary(s.segments.map { ($0.segment.name, $0.deletes.cardinality) }, uniquingKeysWith: { a, _ in a }))))
        s.committedGeneration = walGeneration
    }

    static let mergeFactor = 8

    /// Tiered merging: when more than `mergeFactor` segments exist, the smallest ones, and any
    /// segment that is mostly deleted, are chosen to be rewritten as one.
    static func chooseMerge(_ segments: [SegmentEntry]) -> [Int] {
        let mostlyDeleted = segments.indices.filter { segments[$0].visibleDeletes.cardinality * 2 > segments[$0].segment.docCount }
        guard segments.count > Index.mergeFactor || !mostlyDeleted.isEmpty else { return [] }
        var chosen = Set(mostlyDeleted)
        if segments.count > Index.mergeFactor {
            let bySize = segments.indices.sorted { segments[$0].liveCount < segments[$1].liveCount }
            for i in bySize.prefix(segments.count - Index.mergeFactor / 2) { chosen.insert(i) }
        }
        return chosen.sorted()
    }

    /// Rewrites chosen segments' live documents into one segment, column by column, outside
    /// the index lock; deletions that reach the old segments meanwhile are carried over.
    /// Call with `merging` held. Refreshes may append segments meanwhile; the chosen ones are
    /// found again by name when the merged segment is installed.
    func mergeIfNeeded(all: Bool) throws(StoreError) {
        // Phase 1: choose, and take the segments with their deletions as they are now.
        struct Job {
            var chosen: [Int]
            var names: [String]
            var entries: [SegmentEntry]
            var slots: FieldSlots
            var name: String
        }
        let job = state.withLock { s -> Job? in
            let chosen = all
                ? (s.segments.count > 1 || s.segments.contains { $0.deletes.cardinality > 0 } ? Array(s.segments.indices) : [])
                : Index.chooseMerge(s.segments)
            guard !chosen.isEmpty else { return nil }
            for i in chosen { for path in s.segments[i].segment.columns.keys { _ = s.mapper.slot(for: path) } }
            let name = "seg-" + String(format6: s.nextSegment)
            s.nextSegment += 1
            return Job(chosen: chosen, names: chosen.map { s.segments[$0].segment.name }, entries: chosen.map { s.segments[$0] }, slots: s.mapper.slots, name: name)
        }
        guard let job else { return }
        // Phase 2: build and write the merged segment while writes go on.
        var merged = WriteBuffer()
        var ordinals: [[Int32]] = []
        // Documents searches still see are kept, even if deleted since the last refresh.
        for e in job.entries { ordinals.append(merged.append(segment: e.segment, deletes: e.visibleDeletes, slots: job.slots)) }
        var built: (Segment, [Int32])?
        if !merged.isEmpty {
            let (_, rank) = try SegmentWriter.write(merged, paths: job.slots.paths, name: job.name, directory: directory + "/segments")
            built = (try Segment(directory: directory + "/segments/" + job.name), rank)
        }
        // Phase 3: swap it in, with the deletions that arrived meanwhile, and commit.
        let removed = try state.withLock { (s) throws(StoreError) -> [String] in
            // Where the chosen segments are now (refreshes only append). Should one be gone,
            // the merge is dropped and its output removed.
            let found = job.names.compactMap { name in s.segments.firstIndex { $0.segment.name == name } }
            guard found.count == job.names.count, !s.closed else { return built.map { [$0.0.directory] } ?? [] }
            let current = found
            var replacement: SegmentEntry?
            if let (segment, rank) = built {
                var entry = SegmentEntry(segment: segment, deletes: Bitmap(count: segment.docCount))
                // Deletions of the documents carried over (all of them, and those searches see).
                for (k, i) in current.enumerated() {
                    let then = job.entries[k].visibleDeletes
                    for visible in [false, true] {
                        let now = visible ? s.segments[i].visibleDeletes : s.segments[i].deletes
                        for w in now.words.indices where now.words[w] != then.words[w] {
                            var fresh = now.words[w] & ~then.words[w]
                            while fresh != 0 {
                                let doc = w * 64 + fresh.trailingZeroBitCount
                                fresh &= fresh - 1
                                let ordinal = ordinals[k][doc]
                                guard ordinal >= 0, rank[Int(ordinal)] >= 0 else { continue }
                                if visible {
                                    entry.visibleDeletes.insert(Int(rank[Int(ordinal)]))
                                } else {
                                    entry.deletes.insert(Int(rank[Int(ordinal)]))
                                    entry.deletesDirty = true
                                }
                            }
                        }
                    }
                }
                replacement = entry
            }
            let removed = current.map { s.segments[$0].segment.directory }
            var kept = s.segments.enumerated().filter { !current.contains($0.offset) }.map(\.element)
            if let replacement { kept.append(replacement) }
            s.segments = kept
            try commit(&s, walGeneration: s.committedGeneration)
            return removed
        }
        for dir in removed { FileIO.removeTree(dir) }
    }

    /// Merges all segments into one (`_forcemerge?max_num_segments=1`).
    public func forceMerge() throws(StoreError) {
        try refresh()
        try merging.withLock { (_) throws(StoreError) in try mergeIfNeeded(all: true) }
    }

    /// Whether unrefreshed writes are waiting.
    /// Whether a failed write or refresh stopped the index taking writes.
    var hasFailed: Bool { state.withLock { $0.failure != nil } }

    public var hasPendingWrites: Bool {
        state.withLock { s in s.buffer.docCount > 0 || s.deletesDirty || s.segments.contains { $0.visibleDeletes != $0.deletes } }
    }
}
