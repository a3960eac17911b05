/// A fixed-size bitmap of document ordinals.
public struct Bitmap: Sendable, Equatable {
    public private(set) var words: [UInt64]
    public let count: Int

    public init(count: Int) {
        self.count = count
        words = [UInt64](repeating: 0, count: (count + 63) / 64)
    }

    public init(count: Int, words: [UInt64]) {
        self.count = count
        self.words = words
    }

    @inline(__always)
    public func contains(_ i: Int) -> Bool { words[i >> 6] & (1 << UInt64(i & 63)) != 0 }

    /// Sets bit `i`; returns whether it was clear before.
    @discardableResult
    public mutating func insert(_ i: Int) -> Bool {
        let mask: UInt64 = 1 << UInt64(i & 63)
        let was = words[i >> 6] & mask
        words[i >> 6] |= mask
        return was == 0
    }

    /// Removes every member, keeping the size.
    public mutating func clearAll() { words.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }

    public var cardinality: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }
}

extension Bitmap {
    /// Every document of `count`.
    public static func full(_ count: Int) -> Bitmap {
        var words = [UInt64](repeating: UInt64.max, count: (count + 63) / 64)
        if count % 64 != 0, !words.isEmpty { words[words.count - 1] = (1 << UInt64(count % 64)) - 1 }
        return Bitmap(count: count, words: words)
    }

    public mutating func formIntersection(_ other: Bitmap) {
        words.withUnsafeMutableBufferPointer { w in
            other.words.withUnsafeBufferPointer { o in for i in w.indices { w[i] &= o[i] } }
        }
    }

    public mutating func formUnion(_ other: Bitmap) {
        words.withUnsafeMutableBufferPointer { w in
            other.words.withUnsafeBufferPointer { o in for i in w.indices { w[i] |= o[i] } }
        }
    }

    /// Removes the members of `other`.
    public mutating func subtract(_ other: Bitmap) {
        words.withUnsafeMutableBufferPointer { w in
            other.words.withUnsafeBufferPointer { o in for i in w.indices { w[i] &= ~o[i] } }
        }
    }

    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    /// Whether no member is also in `other`.
    public func isDisjoint(with other: Bitmap) -> Bool {
        words.withUnsafeBufferPointer { w in
            other.words.withUnsafeBufferPointer { o in
                for i in w.indices where w[i] & o[i] != 0 { return false }
                return true
            }
        }
    }

    /// Whether every member is also in `other`.
    public func isSubset(of other: Bitmap) -> Bool {
        words.withUnsafeBufferPointer { w in
            other.words.withUnsafeBufferPointer { o in
                for i in w.indices where w[i] & ~o[i] != 0 { return false }
                return true
            }
        }
    }

    /// The members in increasing order, as a sequence a loop can leave early.
    public var members: Members { Members(words: words) }

    public struct Members: Sequence, IteratorProtocol {
        let words: [UInt64]
        var w = 0
        var bits: UInt64 = 0

        init(words: [UInt64]) {
            self.words = words
            bits = words.first ?? 0
        }

        public mutating func next() -> Int? {
            while bits == 0 {
                w += 1
                guard w < words.count else { return nil }
                bits = words[w]
            }
            let member = w * 64 + bits.trailingZeroBitCount
            bits &= bits - 1
            return member
        }
    }

    /// Calls `body` with each member in increasing order.
    @inline(__always)
    public func forEach(_ body: (Int) throws -> Void) rethrows {
        for (w, word) in words.enumerated() where word != 0 {
            var bits = word
            while bits != 0 {
                try body(w * 64 + bits.trailingZeroBitCount)
                bits &= bits - 1
            }
        }
    }
}
