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
