import Synchronization
import VigilJSON

extension Index {
    /// Applies writes in order and returns one result per write, after the log holding them is fsynced.
    public func write(_ operations: [WriteOperation]) -> [WriteResult] {
        commit(prepare(operations))
    }

    /// A request's writes mapped, and when possible laid out as columns and log records, ready
    /// to be applied by `commit`. Preparing takes no lock, so requests prepare in parallel;
    /// committing them in a chosen order gives their documents that arrival order.
    package struct PreparedWrite: ~Copyable {
        var operations: [WriteOperation]
        var snapshot: DocumentMapper
        var streaming: StreamingMapper
        var tape: IngestTape
        var streamed: [StreamedDocument?]
        var parsed: [Result<JSONObject, StoreError>?]
        var batch: BatchColumns?
        var pending: PendingLog?
        var ids: [String]
    }

    /// The lock-free first half of `write`.
    package func prepare(_ operations: [WriteOperation]) -> PreparedWrite {
        // Map sources outside the lock, so concurrent requests use both cores: the streaming
        // path on a snapshot of the mapper, and a JSON tree for the documents it declines.
        var (snapshot, streaming) = state.withLock { ($0.mapper, $0.streaming) }
        streaming.sync(with: snapshot)
        var tape = IngestTape()
        var streamed = [StreamedDocument?](repeating: nil, count: operations.count)
        var parsed = [Result<JSONObject, StoreError>?](repeating: nil, count: operations.count)
        for i in operations.indices {
            guard case .index(let id, let source, _, _, _) = operations[i] else { continue }
            streamed[i] = source.withUnsafeBufferPointer { streaming.map($0, mapper: snapshot, into: &tape) }
            if streamed[i] == nil { parsed[i] = Index.parseSource(source, id: id) }
        }
        // When every document of the request streamed, its columns and log records are built
        // here too, outside the lock; under it they are merged and the records' tails filled in.
        var batch: BatchColumns?
        var pending: PendingLog?
        var ids: [String] = []
        if operations.indices.allSatisfy({ i in
            switch operations[i] {
            case .index: streamed[i] != nil
            case .delete: true
            case .update: false
            }
        }) {
            var b = BatchColumns()
            for doc in streamed { if let doc { b.add(doc, tape: tape) } }
            batch = b
            var p = PendingLog(enabled: durable)
            if durable {
                p.bytes.reserveCapacity(operations.reduce(0) { total, op in
                    if case .index(_, let source, _, _, _) = op { return total + 64 + source.count }
                    return total + 64
                })
            }
            ids = operations.map { op in
                switch op {
                case .index(let given, let source, _, _, _):
                    let id = given ?? DocumentID.generate()
                    _ = p.reserve(id: id, source: source)
                    return id
                case .delete(let id, _, _), .update(let id, _, _, _):
                    _ = p.reserve(id: id, source: [])
                    return id
                }
            }
            pending = p
        }
        return PreparedWrite(operations: operations, snapshot: snapshot, streaming: streaming, tape: tape, streamed: streamed,
                             parsed: parsed, batch: batch, pending: pending, ids: ids)
    }

    /// Applies prepared writes (the second half of `write`): under the lock, then the log.
    package func commit(_ prepared: consuming PreparedWrite) -> [WriteResult] {
        let operations = prepared.operations
        let snapshot = prepared.snapshot
        let streaming = prepared.streaming
        let tape = prepared.tape
        let ids = prepared.ids
        var streamed = prepared.streamed
        var parsed = prepared.parsed
        var batch = prepared.batch
        var pending = prepared.pending
        var results: [WriteResult] = []
        results.reserveCapacity(operations.count)
        var log: [UInt8] = []
        // The log is appended outside the lock, in the order of tickets taken under it.
        let ticket: UInt64? = state.withLock { s -> UInt64? in
            if s.closed || s.failure != nil {
                let e = s.failure ?? StoreError(.indexNotFound, "no such index [\(name)]", index: name)
                for op in operations { results.append(.failure(index: name, id: op.id ?? "", e)) }
                return nil
            }
            if s.mapper.layoutGeneration != snapshot.layoutGeneration {
                // Existing fields may have changed since the snapshot: map those documents again, the general way.
                for i in operations.indices where streamed[i] != nil {
                    if case .index(let id, let source, _, _, _) = operations[i] { parsed[i] = Index.parseSource(source, id: id) }
                    streamed[i] = nil
                }
                batch = nil
                pending = nil
            } else if s.mapper.generation == streaming.generation {
                s.streaming = streaming
            }
            let firstDoc = s.buffer.docCount
            // Take the mapper out so it stays uniquely referenced (no copy when it grows) while
            // `apply` also mutates the rest of the state.
            var mapper = s.mapper
            s.mapper = .placeholder
            if var p = pending, let b = batch {
                var ordinals: [Int32] = []
                ordinals.reserveCapacity(b.docCount)
                var scratch: [UInt8] = []
                for i in operations.indices {
                    let result: WriteResult
                    if let doc = streamed[i] {
                        let ordinal: Int?
                        (result, ordinal) = applyStreamed(operations[i], doc, id: ids[i], tape: nil, logged: durable ? p.sourceStart(i) : nil, state: &s, log: &scratch)
                        ordinals.append(Int32(ordinal ?? -1))
                        p.finish(i, op: result.error == nil ? .index : nil, seqNo: result.seqNo, version: result.version)
                    } else {
                        result = apply(operations[i], parsed: nil, mapper: &mapper, state: &s, log: &scratch)
                        p.finish(i, op: result.outcome == .deleted ? .delete : nil, seqNo: result.seqNo, version: result.version)
                    }
                    results.append(result)
                }
                s.buffer.merge(b, ordinals: ordinals)
                log = p.bytes
            } else {
                for (i, op) in operations.enumerated() {
                    if let doc = streamed[i] {
                        if case .index(let given, _, _, _, _) = op {
                            results.append(applyStreamed(op, doc, id: given ?? DocumentID.generate(), tape: tape, logged: nil, state: &s, log: &log).0)
                        }
                    } else {
                        results.append(apply(op, parsed: parsed[i], mapper: &mapper, state: &s, log: &log))
                    }
                }
            }
            if mapper.changed {
                mapper.clearChanged()
                s.mappingDirty = true
            }
            s.mapper = mapper
            guard !log.isEmpty, durable else { return nil }
            let place = wal.takeTicket(bytes: log.count)
            s.buffer.resolveLogged(from: firstDoc, file: wal.path(of: place.generation), base: place.offset)
            return place.ticket
        }
        if let ticket {
            do throws(StoreError) {
                let lsn = try wal.append(log, ticket: ticket)
                try wal.sync(upTo: lsn)
            } catch {
                // The documents are in memory but maybe not logged: stop accepting writes.
                state.withLock { $0.failure = error }
                return results.map { $0.error == nil ? .failure(index: name, id: $0.id, error) : $0 }
            }
        }
        // Like Elasticsearch's indexing buffer: a full buffer is sealed without waiting for the interval.
        if state.withLock({ $0.buffer.byteSize > Index.maxBufferBytes }) { _ = try? refresh() }
        return results
    }

    static let maxBufferBytes = 128 << 20

    static func parseSource(_ source: [UInt8], id: String?) -> Result<JSONObject, StoreError> {
        do {
            let v = try JSONParser().parse(source)
            guard case .object(let o) = v else {
                return .failure(StoreError(.mapperParsing, "failed to parse, document is empty",
                    causedBy: .init(type: "not_x_content_exception", reason: "Compressor detection can only be called on some xcontent bytes or compressed xcontent bytes")))
            }
            return .success(o)
        } catch {
            return .failure(StoreError(.mapperParsing, "failed to parse",
                causedBy: .init(type: "x_content_parse_exception", reason: "[\(error.line):\(error.column)] \(error.message)")))
        }
    }

    private func apply(_ op: WriteOperation, parsed: Result<JSONObject, StoreError>?, mapper: inout DocumentMapper, state s: inout IndexState, log: inout [UInt8]) -> WriteResult {
        switch op {
        case .index(let givenID, let source, let create, let ifSeqNo, let ifPrimaryTerm):
            let id = givenID ?? DocumentID.generate()
            let object: JSONObject
            switch parsed! {
            case .success(let o): object = o
            case .failure(let e): return .failure(index: name, id: id, e)
            }
            let current = givenID == nil ? nil : Index.locate(id, in: &s)
            if let failure = checkConflict(id: id, current: current, create: create, ifSeqNo: ifSeqNo, ifPrimaryTerm: ifPrimaryTerm, state: s) {
                return .failure(index: name, id: id, failure)
            }
            return index(id: id, source: source, object: object, current: current, mapper: &mapper, state: &s, log: &log)
        case .delete(let id, let ifSeqNo, let ifPrimaryTerm):
            let current = Index.locate(id, in: &s)
            if let failure = checkConflict(id: id, current: current, create: false, ifSeqNo: ifSeqNo, ifPrimaryTerm: ifPrimaryTerm, state: s) {
                return .failure(index: name, id: id, failure)
            }
            guard let current else {
                let version = (s.tombstones[id] ?? 0) + 1
                let seqNo = s.nextSeqNo
                s.nextSeqNo += 1
                s.tombstones[id] = version
                return WriteResult(index: name, id: id, version: version, seqNo: seqNo, outcome: .notFound, status: 404)
            }
            let version = Index.version(of: current, in: s) + 1
            let seqNo = s.nextSeqNo
            s.nextSeqNo += 1
            Index.remove(current, id: id, state: &s)
            s.tombstones[id] = version
            WALRecord(op: .delete, seqNo: seqNo, version: version, id: id).append(to: &log)
            return WriteResult(index: name, id: id, version: version, seqNo: seqNo, outcome: .deleted, status: 200)
        case .update(let id, let doc, let upsert, let docAsUpsert):
            let current = Index.locate(id, in: &s)
            var merged: JSONObject
            if let current {
                let stored = Index.source(of: current, in: s, pendingLog: log)
                guard case .object(let existing)? = try? JSONParser().parse(stored) else {
                    return .failure(index: name, id: id, StoreError(.internal, "stored source of [\(id)] is unreadable"))
                }
                merged = existing
                if let doc { Index.deepMerge(&merged, doc) }
                if merged == existing {
                    let version = Index.version(of: current, in: s)
                    let seqNo = Index.seqNo(of: current, in: s)
                    return WriteResult(index: name, id: id, version: version, seqNo: seqNo, outcome: .noop, status: 200)
                }
            } else if let upsert {
                merged = upsert
            } else if docAsUpsert, let doc {
                merged = doc
            } else {
                return .failure(index: name, id: id, StoreError(.documentMissing, "[\(id)]: document missing", index: name))
            }
            let source = JSONWriter().encode(.object(merged))
            return index(id: id, source: source, object: merged, current: current, mapper: &mapper, state: &s, log: &log)
        }
    }

    /// An index or create whose document the streaming mapper has already mapped, under `id`
    /// (given or generated). Its column values are appended from `tape`, or, when nil, merged
    /// later from the request's batch, whose log record the caller completes (nothing is added
    /// to `log` then). Returns the result and the document's buffer ordinal when it was added.
    ///
    /// A durable index keeps the source in the log only: `logged` is where the caller laid out
    /// its record's source, or, with a tape, the record is appended to `log` here.
    private func applyStreamed(_ op: WriteOperation, _ doc: StreamedDocument, id: String, tape: IngestTape?, logged: Int?, state s: inout IndexState, log: inout [UInt8]) -> (WriteResult, Int?) {
        guard case .index(let givenID, let source, let create, let ifSeqNo, let ifPrimaryTerm) = op else {
            return (.failure(index: name, id: op.id ?? "", StoreError(.internal, "streamed document for a non-index operation")), nil)
        }
        guard id.utf8.count <= 512 else {
            return (.failure(index: name, id: id, StoreError(.illegalArgument, "id [\(id)] is too long, must be no longer than 512 bytes but was: \(id.utf8.count)")), nil)
        }
        let current = givenID == nil ? nil : Index.locate(id, in: &s)
        if let failure = checkConflict(id: id, current: current, create: create, ifSeqNo: ifSeqNo, ifPrimaryTerm: ifPrimaryTerm, state: s) {
            return (.failure(index: name, id: id, failure), nil)
        }
        if dataStream != nil && doc.timestampCount != 1 {
            let why = doc.timestampCount == 0 ? "is missing" : "encountered multiple values"
            return (.failure(index: name, id: id, StoreError(.mapperParsing, "data stream timestamp field [\(Index.timestampField)] \(why)")), nil)
        }
        let version = (current.map { Index.version(of: $0, in: s) } ?? s.tombstones[id] ?? 0) + 1
        let seqNo = s.nextSeqNo
        s.nextSeqNo += 1
        if let current { Index.remove(current, id: id, state: &s) }
        s.tombstones[id] = nil
        var at = logged
        if tape != nil {
            let start = WALRecord(op: .index, seqNo: seqNo, version: version, id: id, source: source).append(to: &log)
            if durable { at = start }
        }
        let stored = at.map { (SourceRef.pending, $0) }
        let ordinal = tape.map { s.buffer.append(id: id, seqNo: seqNo, version: version, source: source, stored: stored, streamed: doc, tape: $0) }
            ?? s.buffer.append(id: id, seqNo: seqNo, version: version, timestamp: doc.timestamp, source: source, stored: stored, fields: [])
        if givenID != nil { s.bufferIndex[id] = ordinal }
        return (WriteResult(index: name, id: id, version: version, seqNo: seqNo, outcome: current == nil ? .created : .updated, status: current == nil ? 201 : 200), ordinal)
    }

    private func index(id: String, source: [UInt8], object: JSONObject, current: Location?, mapper: inout DocumentMapper, state s: inout IndexState, log: inout [UInt8]) -> WriteResult {
        guard id.utf8.count <= 512 else {
            return .failure(index: name, id: id, StoreError(.illegalArgument, "id [\(id)] is too long, must be no longer than 512 bytes but was: \(id.utf8.count)"))
        }
        let mapped: MappedDocument
        do throws(StoreError) {
            mapped = try mapper.map(object, id: id)
        } catch {
            return .failure(index: name, id: id, error)
        }
        let timestamp = Index.timestamp(of: mapped, mapper.slots)
        if dataStream != nil {
            let slot = mapper.slots.slot(ifKnown: Index.timestampField)
            let count = mapped.fields.reduce(0) { $0 + ($1.slot == slot ? 1 : 0) }
            if count == 0 {
                return .failure(index: name, id: id, StoreError(.mapperParsing, "data stream timestamp field [\(Index.timestampField)] is missing"))
            }
            if count > 1 {
                return .failure(index: name, id: id, StoreError(.mapperParsing, "data stream timestamp field [\(Index.timestampField)] encountered multiple values"))
            }
        }
        let version = (current.map { Index.version(of: $0, in: s) } ?? s.tombstones[id] ?? 0) + 1
        let seqNo = s.nextSeqNo
        s.nextSeqNo += 1
        if let current { Index.remove(current, id: id, state: &s) }
        s.tombstones[id] = nil
        let at = WALRecord(op: .index, seqNo: seqNo, version: version, id: id, source: source).append(to: &log)
        s.bufferIndex[id] = s.buffer.append(id: id, seqNo: seqNo, version: version, timestamp: timestamp, source: source,
                                            stored: durable ? (SourceRef.pending, at) : nil, fields: mapped.fields)
        return WriteResult(index: name, id: id, version: version, seqNo: seqNo, outcome: current == nil ? .created : .updated, status: current == nil ? 201 : 200)
    }

    private func checkConflict(id: String, current: Location?, create: Bool, ifSeqNo: Int64?, ifPrimaryTerm: Int64?, state s: IndexState) -> StoreError? {
        if create, let current {
            return StoreError(.versionConflict, "[\(id)]: version conflict, document already exists (current version [\(Index.version(of: current, in: s))])", index: name)
        }
        if let ifSeqNo {
            let currentSeqNo = current.map { Index.seqNo(of: $0, in: s) }
            if currentSeqNo != ifSeqNo || (ifPrimaryTerm ?? 1) != 1 {
                if let currentSeqNo {
                    return StoreError(.versionConflict, "[\(id)]: version conflict, required seqNo [\(ifSeqNo)], primary term [\(ifPrimaryTerm ?? 1)]. current document has seqNo [\(currentSeqNo)] and primary term [1]", index: name)
                }
                return StoreError(.versionConflict, "[\(id)]: version conflict, required seqNo [\(ifSeqNo)], primary term [\(ifPrimaryTerm ?? 1)] but no document was found", index: name)
            }
        }
        return nil
    }

    static func timestamp(of mapped: MappedDocument, _ slots: FieldSlots) -> Int64? {
        guard let slot = slots.slot(ifKnown: timestampField) else { return nil }
        for (s, value) in mapped.fields where s == slot {
            if case .date(let ms) = value { return ms }
        }
        return nil
    }

    static func version(of location: Location, in s: IndexState) -> Int64 {
        switch location {
        case .buffer(let i): return s.buffer.versions[i]
        case .sealing(let i): return s.sealing!.versions[i]
        case .segment(let si, let doc): return s.segments[si].segment.version(doc)
        }
    }

    static func seqNo(of location: Location, in s: IndexState) -> Int64 {
        switch location {
        case .buffer(let i): return s.buffer.seqNos[i]
        case .sealing(let i): return s.sealing!.seqNos[i]
        case .segment(let si, let doc): return s.segments[si].segment.seqNo(doc)
        }
    }

    /// The stored source at `location`; `pendingLog` is the log bytes of the request being applied.
    static func source(of location: Location, in s: IndexState, pendingLog: [UInt8] = []) -> [UInt8] {
        switch location {
        case .buffer(let i): return s.buffer.source(i, pendingLog: pendingLog)
        case .sealing(let i): return s.sealing!.source(i)
        case .segment(let si, let doc): return s.segments[si].segment.sourceBytes(doc)
        }
    }

    static func remove(_ location: Location, id: String, state s: inout IndexState) {
        switch location {
        case .buffer(let i):
            s.buffer.kill(i)
            s.bufferIndex[id] = nil
        case .sealing(let i):
            s.sealingKills.append(i)
            s.sealingIndex[id] = nil
        case .segment(let si, let doc):
            s.segments[si].deletes.insert(doc)
            s.segments[si].deletesDirty = true
            s.deletesDirty = true
        }
    }

    /// Merges `patch` into `target` as a partial update does: objects merge recursively, other values replace.
    static func deepMerge(_ target: inout JSONObject, _ patch: JSONObject) {
        for e in patch.entries {
            if case .object(let inner) = e.value, case .object(var existing)? = target[e.key] {
                deepMerge(&existing, inner)
                target[e.key] = .object(existing)
            } else {
                target[e.key] = e.value
            }
        }
    }

    /// Re-applies a logged write during recovery, with the version and seqNo it was given;
    /// `file` and `sourceOffset` say where its source lies in the log.
    static func replay(_ r: WALRecord, file: String, sourceOffset: Int, into s: inout IndexState) {
        let file = s.buffer.sourceFile(file)
        s.nextSeqNo = max(s.nextSeqNo, r.seqNo + 1)
        let current = locate(r.id, in: &s)
        if let current { remove(current, id: r.id, state: &s) }
        switch r.op {
        case .delete:
            s.tombstones[r.id] = r.version
        case .index:
            guard case .success(let object) = parseSource(r.source, id: r.id), let mapped = try? s.mapper.map(object, id: r.id) else { return }
            if s.mapper.changed {
                s.mapper.clearChanged()
                s.mappingDirty = true
            }
            s.bufferIndex[r.id] = s.buffer.append(id: r.id, seqNo: r.seqNo, version: r.version, timestamp: timestamp(of: mapped, s.mapper.slots),
                                                  source: r.source, stored: (file, sourceOffset), fields: mapped.fields)
        }
    }
}
