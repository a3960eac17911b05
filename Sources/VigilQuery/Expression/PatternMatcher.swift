import Foundation
import Synchronization
import VigilStore

/// Matches strings against `Pattern`s: exact, wildcard (`*`, `?`) or Lucene-style regex.
enum PatternMatcher {
    static func matches(_ p: Pattern, _ s: String) -> Bool {
        switch p.kind {
        case .exact(let x):
            return p.insensitive ? s.lowercased().utf8.elementsEqual(x.lowercased().utf8) : s.utf8.elementsEqual(x.utf8)
        case .wildcard(let w):
            let text = Array((p.insensitive ? s.lowercased() : s).unicodeScalars)
            let pattern = Array((p.insensitive ? w.lowercased() : w).unicodeScalars)
            return wildcard(text, pattern)
        case .prefix(let x):
            return p.insensitive ? s.lowercased().hasPrefix(x.lowercased()) : s.utf8.starts(with: x.utf8)
        case .regex(let r):
            guard let re = compiled(r, insensitive: p.insensitive) else { return false }
            let ns = s as NSString
            return re.firstMatch(in: s, options: [], range: NSRange(location: 0, length: ns.length)) != nil
        }
    }

    static func wildcard(_ t: [Unicode.Scalar], _ p: [Unicode.Scalar]) -> Bool {
        Wildcard.matches(t, p, star: "*", single: "?")
    }

    private static let cache = Mutex<[String: NSRegularExpression?]>([:])

    /// Lucene regular expressions match the whole value and have no anchors; the common
    /// subset maps onto ICU's syntax once anchored.
    static func compiled(_ r: String, insensitive: Bool) -> NSRegularExpression? {
        let key = (insensitive ? "i:" : "s:") + r
        if let hit = cache.withLock({ $0[key] }) { return hit }
        let re = try? NSRegularExpression(pattern: "\\A(?:" + r + ")\\z", options: insensitive ? [.caseInsensitive, .dotMatchesLineSeparators] : [.dotMatchesLineSeparators])
        cache.withLock { c in
            if c.count > 10_000 { c.removeAll() }
            c[key] = re
        }
        return re
    }

    /// Whether a regex compiles (for verification before a query runs).
    static func isValidRegex(_ r: String) -> Bool { compiled(r, insensitive: false) != nil }
}
