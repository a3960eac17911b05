public import VigilJSON

/// One write to one index, as `_bulk`, `_doc`, `_create` and `_update` describe it.
public enum WriteOperation: Sendable {
    /// `create` fails when the id exists; `id == nil` asks for a generated id.
    case index(id: String?, source: [UInt8], create: Bool, ifSeqNo: Int64?, ifPrimaryTerm: Int64?)
    case delete(id: String, ifSeqNo: Int64?, ifPrimaryTerm: Int64?)
    /// A partial update: `doc` merged into the stored source; `upsert` (or `doc` with `docAsUpsert`) when missing.
    case update(id: String, doc: JSONObject?, upsert: JSONObject?, docAsUpsert: Bool)

    public enum Kind: Sendable {
        case index, create, delete, update
    }

    /// What kind of write this is (read without copying the payload's id and source).
    public var kind: Kind {
        switch self {
        case .index(_, _, let create, _, _): create ? .create : .index
        case .delete: .delete
        case .update: .update
        }
    }

    /// About how many bytes the write logs (its source; a few hundred for deletes and updates).
    var approximateBytes: Int {
        switch self {
        case .index(_, let source, _, _, _): return source.count + 64
        case .delete: return 64
        case .update: return 1024
        }
    }

    public var id: String? {
        switch self {
        case .index(let id, _, _, _, _): return id
        case .delete(let id, _, _), .update(let id, _, _, _): return id
        }
    }
}

/// The outcome of one write, shaped like a `_bulk` item.
public struct WriteResult: Sendable {
    public enum Outcome: String, Sendable {
        case created, updated, deleted
        case notFound = "not_found"
        case noop
    }

    public var index: String
    public var id: String
    public var version: Int64
    public var seqNo: Int64
    public var outcome: Outcome?
    public var status: Int
    public var error: StoreError?

    public init(index: String, id: String, version: Int64 = -1, seqNo: Int64 = -2, outcome: Outcome? = nil, status: Int, error: StoreError? = nil) {
        self.index = index
        self.id = id
        self.version = version
        self.seqNo = seqNo
        self.outcome = outcome
        self.status = status
        self.error = error
    }

    public static func failure(index: String, id: String, _ error: StoreError) -> WriteResult {
        WriteResult(index: index, id: id, status: error.status, error: error)
    }
}

extension StoreError {
    /// The HTTP status Elasticsearch answers with for this error.
    public var status: Int {
        switch code {
        case .indexNotFound, .documentMissing, .resourceNotFound: return 404
        case .versionConflict: return 409
        case .clusterBlock: return 429
        case .io, .internal, .corrupt: return 500
        default: return 400
        }
    }
}

/// A stored document as `GET _doc` returns it.
public struct StoredDocument: Sendable {
    public var index: String
    public var id: String
    public var version: Int64
    public var seqNo: Int64
    public var source: [UInt8]
}
