import Synchronization
public import VigilStore

/// The results of leaf conditions per segment, shared by a batch of queries over the same
/// segments: the rules of one detection run ask `host.os.type == "linux"` or
/// `event.type == "start"` hundreds of times, and each is answered once per segment.
/// Entries are kept while they fit in `budget` bytes; past it, results are computed and not
/// kept. Segments are held alive by their entries, so keep a cache only for one batch.
public final class LeafCache: Sendable {
    struct Key: Hashable {
        let segment: ObjectIdentifier
        let expr: Expr
    }

    struct Entry {
        let segment: Segment
        let t: Bitmap
        let f: Bitmap
    }

    private let state = Mutex<(entries: [Key: Entry], bytes: Int, hits: Int, misses: Int)>(([:], 0, 0, 0))
    private let dictionaries = Mutex<[DictionaryKey: [String]]>([:])

    struct DictionaryKey: Hashable {
        let segment: ObjectIdentifier
        let field: String
    }
    public let budget: Int

    public init(budget: Int = 512 << 20) { self.budget = budget }

    /// Lookups answered from the cache, and those computed.
    public var stats: (hits: Int, misses: Int) { state.withLock { ($0.hits, $0.misses) } }

    /// A string column's dictionary as Swift strings, made once per segment and field (each
    /// leaf on the field reads every entry).
    func strings(_ segment: Segment, _ field: String, _ dict: StringDictionary) -> [String] {
        let key = DictionaryKey(segment: ObjectIdentifier(segment), field: field)
        if let hit = dictionaries.withLock({ $0[key] }) { return hit }
        let made = (0..<dict.count).map(dict.string)
        dictionaries.withLock { $0[key] = made }
        return made
    }

    /// The kept answer for `expr`, if there is one (not counted as a lookup).
    func cached(_ segment: Segment, _ expr: Expr) -> (t: Bitmap, f: Bitmap)? {
        state.withLock { $0.entries[Key(segment: ObjectIdentifier(segment), expr: expr)] }.map { ($0.t, $0.f) }
    }

    func value(_ segment: Segment, _ expr: Expr, _ compute: () -> (t: Bitmap, f: Bitmap)) -> (t: Bitmap, f: Bitmap) {
        let key = Key(segment: ObjectIdentifier(segment), expr: expr)
        if let hit = state.withLock({ s -> Entry? in
            let e = s.entries[key]
            if e != nil { s.hits += 1 } else { s.misses += 1 }
            return e
        }) {
            return (hit.t, hit.f)
        }
        let result = compute()
        let size = (result.t.words.count + result.f.words.count) * 8
        state.withLock { s in
            if s.bytes + size <= budget, s.entries[key] == nil {
                s.entries[key] = Entry(segment: segment, t: result.t, f: result.f)
                s.bytes += size
            }
        }
        return result
    }
}
