import Synchronization
import VigilStore

/// Matches strings against `Pattern`s: exact, wildcard (`*`, `?`) or Lucene-style regex.
enum PatternMatcher {
    static func matches(_ p: Pattern, _ s: String) -> Bool {
        switch p.kind {
        case .exact(let x):
            if !p.insensitive { return s.utf8.elementsEqual(x.utf8) }
            if let r = bytes(s, x, { t, q in t.count == q.count && prefixEqual(t, q, fold: true) }) { return r }
            return s.lowercased().utf8.elementsEqual(x.lowercased().utf8)
        case .wildcard(let w):
            if let r = bytes(s, w, { t, q in byteWildcard(t, q, fold: p.insensitive) }) { return r }
            let text = Array((p.insensitive ? s.lowercased() : s).unicodeScalars)
            let pattern = Array((p.insensitive ? w.lowercased() : w).unicodeScalars)
            return wildcard(text, pattern)
        case .prefix(let x):
            if !p.insensitive { return s.utf8.starts(with: x.utf8) }
            if let r = bytes(s, x, { t, q in t.count >= q.count && prefixEqual(t, q, fold: true) }) { return r }
            return s.lowercased().hasPrefix(x.lowercased())
        case .regex(let r):
            return compiled(r, insensitive: p.insensitive)?.matches(s) ?? false
        }
    }

    /// `body` over the UTF-8 bytes of text and pattern, when bytes give the same answer as
    /// characters: both ASCII (so `?` is one byte and folding case is ASCII's). Nil otherwise.
    @inline(__always)
    private static func bytes(_ s: String, _ p: String, _ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>) -> Bool) -> Bool? {
        s.utf8.withContiguousStorageIfAvailable { t -> Bool? in
            p.utf8.withContiguousStorageIfAvailable { q -> Bool? in
                guard isASCII(t), isASCII(q) else { return nil }
                return body(t, q)
            } ?? nil
        } ?? nil
    }

    @inline(__always)
    private static func isASCII(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var any: UInt8 = 0
        for c in b { any |= c }
        return any < 0x80
    }

    /// ASCII lowercase.
    @inline(__always)
    private static func fold(_ c: UInt8) -> UInt8 { c &- 0x41 < 26 ? c | 0x20 : c }

    /// Whether `t` starts with `q` (byte for byte, or ASCII case folded).
    @inline(__always)
    static func prefixEqual(_ t: UnsafeBufferPointer<UInt8>, _ q: UnsafeBufferPointer<UInt8>, fold folding: Bool) -> Bool {
        for i in 0..<q.count where t[i] != q[i] {
            if !folding || fold(t[i]) != fold(q[i]) { return false }
        }
        return true
    }

    /// `*` and `?` wildcards over ASCII bytes.
    static func byteWildcard(_ t: UnsafeBufferPointer<UInt8>, _ p: UnsafeBufferPointer<UInt8>, fold folding: Bool) -> Bool {
        let star = UInt8(ascii: "*"), single = UInt8(ascii: "?")
        if folding { return Wildcard.matches(t, p, star: star, single: single) { fold($0) == fold($1) } }
        return Wildcard.matches(t, p, star: star, single: single, equal: ==)
    }

    static func wildcard(_ t: [Unicode.Scalar], _ p: [Unicode.Scalar]) -> Bool {
        Wildcard.matches(t, p, star: "*", single: "?")
    }

    private static let cache = Mutex<[String: LuceneRegex?]>([:])

    /// Lucene regular expressions, compiled once to a DFA (linear in the value, whatever the
    /// pattern) and kept for reuse; nil for a pattern that does not compile.
    static func compiled(_ r: String, insensitive: Bool) -> LuceneRegex? {
        let key = (insensitive ? "i:" : "s:") + r
        if let hit = cache.withLock({ $0[key] }) { return hit }
        let re = try? LuceneRegex(r, caseInsensitive: insensitive)
        cache.withLock { c in
            if c.count > 1_000 { c.removeAll() }
            c[key] = re
        }
        return re
    }

    /// Why a regex does not compile, in Lucene's words, or nil when it does.
    static func regexError(_ r: String) -> LuceneRegexError? {
        do {
            _ = try LuceneRegex(r)
            return nil
        } catch {
            return error
        }
    }
}

/// Exact, prefix and wildcard patterns prepared once as bytes, to test many raw UTF-8 values
/// (a dictionary's entries) without making strings. `matches` answers nil for what bytes
/// cannot decide (a non-ASCII value or pattern, a regex): ask `PatternMatcher` with a string.
struct BytePatterns {
    private struct Item {
        var kind: UInt8  // 0 exact, 1 prefix, 2 wildcard
        var bytes: [UInt8]
        var fold: Bool
    }

    private let items: [Item]
    /// Regular expressions run on the raw bytes of any value, ASCII or not.
    private let regexes: [LuceneRegex]

    /// Nil when some pattern is not ASCII or a regex does not compile.
    init?(_ patterns: [Pattern]) {
        var items: [Item] = []
        var regexes: [LuceneRegex] = []
        for p in patterns {
            let (kind, text): (UInt8, String)
            switch p.kind {
            case .exact(let x): (kind, text) = (0, x)
            case .prefix(let x): (kind, text) = (1, x)
            case .wildcard(let w): (kind, text) = (2, w)
            case .regex(let r):
                guard let re = PatternMatcher.compiled(r, insensitive: p.insensitive) else { return nil }
                regexes.append(re)
                continue
            }
            let bytes = Array(text.utf8)
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
            items.append(Item(kind: kind, bytes: bytes, fold: p.insensitive))
        }
        self.items = items
        self.regexes = regexes
    }

    /// Whether any pattern matches the value; nil when the value is not ASCII and some
    /// pattern is not a regex.
    func matches(_ t: UnsafeBufferPointer<UInt8>) -> Bool? {
        for re in regexes where re.matches(utf8: t) { return true }
        if items.isEmpty { return false }
        var any: UInt8 = 0
        for c in t { any |= c }
        guard any < 0x80 else { return nil }
        for item in items {
            let hit = item.bytes.withUnsafeBufferPointer { q -> Bool in
                switch item.kind {
                case 0: return t.count == q.count && PatternMatcher.prefixEqual(t, q, fold: item.fold)
                case 1: return t.count >= q.count && PatternMatcher.prefixEqual(t, q, fold: item.fold)
                default: return PatternMatcher.byteWildcard(t, q, fold: item.fold)
                }
            }
            if hit { return true }
        }
        return false
    }
}
