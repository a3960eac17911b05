import Synchronization
import VigilJSON

extension Index {
    /// Seals buffered documents into a new segment and commits; afterwards searches see them
    /// and the write-ahead log generations before the commit are removed.
    /// Returns whether anything changed.
    @discardableResult
    public func refresh() throws(StoreError) -> Bool {
        try state.withLock { (s) throws(StoreError) -> Bool in
            if s.buffer.isEmpty && !s.deletesDirty && !s.mappingDirty {
                if s.buffer.docCount > 0 { s.buffer = WriteBuffer() }
                return false
            }
            let generation = try wal.roll()
            if !s.buffer.isEmpty {
                let segName = "seg-" + String(format6: s.nextSegment)
                _ = try SegmentWriter.write(s.buffer, paths: s.mapper.slots.paths, name: segName, directory: directory + "/segments")
                let segment = try Segment(directory: directory + "/segments/" + segName)
                s.nextSegment += 1
                s.segments.append(SegmentEntry(segment: segment, deletes: Bitmap(count: segment.docCount)))
            }
            try commit(&s, walGeneration: generation)
            s.buffer = WriteBuffer()
            s.bufferIndex = [:]
            wal.removeGenerations(before: generation)
            try maybeMerge(&s)
            return true
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
        try state.withLock { (s) throws(StoreError) in
            guard s.segments.count > 1 || s.segments.contains(where: { $0.deletes.cardinality > 0 }) else { return }
            try merge(Array(s.segments.indices), &s)
        }
    }

    /// Whether unrefreshed writes are waiting.
    public var hasPendingWrites: Bool { state.withLock { $0.buffer.docCount > 0 || $0.deletesDirty } }
}
