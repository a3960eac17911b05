import VigilJSON
import VigilStore

/// Writes one successful `_bulk` response item,
/// `{"create":{"_index":…,"_id":…,"_version":1,"result":"created","_shards":{…},"_seq_no":…,"_primary_term":1,"status":201}}`,
/// through one pointer into room reserved for it: a load of a million documents writes a
/// million of these, and appending them a few bytes at a time showed in profiles.
enum BulkItemWriter {
    static func success(opName: String, _ r: WriteResult, forcedRefresh: Bool, to out: inout [UInt8]) {
        var opName = opName, index = r.index, id = r.id
        opName.withUTF8 { op in
            index.withUTF8 { ix in
                id.withUTF8 { idBytes in
                    let room = 200 + JSONWriter.maxStringBytes(op.count + ix.count + idBytes.count)
                    JSONWriter.appendRaw(&out, room: room) { begin in
                        var p = begin
                        func put(_ s: StaticString) {
                            p.update(from: s.utf8Start, count: s.utf8CodeUnitCount)
                            p += s.utf8CodeUnitCount
                        }
                        put("{")
                        p += JSONWriter.writeString(op, at: p)
                        put(":{\"_index\":")
                        p += JSONWriter.writeString(ix, at: p)
                        put(",\"_id\":")
                        p += JSONWriter.writeString(idBytes, at: p)
                        put(",\"_version\":")
                        p += JSONWriter.writeInt(r.version, at: p)
                        put(",\"result\":")
                        var result = r.outcome?.rawValue ?? "noop"
                        p += result.withUTF8 { JSONWriter.writeString($0, at: p) }
                        if forcedRefresh { put(",\"forced_refresh\":true") }
                        if r.outcome == .noop {
                            put(",\"_shards\":{\"total\":0,\"successful\":0,\"failed\":0}")
                        } else {
                            put(",\"_shards\":{\"total\":2,\"successful\":1,\"failed\":0}")
                        }
                        put(",\"_seq_no\":")
                        p += JSONWriter.writeInt(r.seqNo, at: p)
                        put(",\"_primary_term\":1,\"status\":")
                        p += JSONWriter.writeInt(Int64(r.status), at: p)
                        put("}}")
                        return begin.distance(to: p)
                    }
                }
            }
        }
    }
}
