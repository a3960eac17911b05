/// Interns UTF-8 byte strings to dense codes without creating `String`s: bytes live in one
/// arena, and an open-addressing table maps a hash to a code.
package struct ByteDictionary: Sendable {
    private(set) var arena: [UInt8] = []
    private(set) var offsets: [UInt32] = [0]
    /// Open addressing; an entry packs the upper 32 bits of the hash with `code + 1` (0 is empty),
    /// so most probes are settled without touching the arena.
    private var table: [UInt64] = [UInt64](repeating: 0, count: 16)
    private var hashes: [UInt64] = []

    package init() {}

    package var count: Int { offsets.count - 1 }

    /// Empties the dictionary, keeping its memory.
    mutating func reset() {
        arena.removeAll(keepingCapacity: true)
        offsets.removeAll(keepingCapacity: true)
        offsets.append(0)
        hashes.removeAll(keepingCapacity: true)
        table.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }

    package func entry(_ code: Int) -> ArraySlice<UInt8> { arena[Int(offsets[code])..<Int(offsets[code + 1])] }

    @inline(__always)
    static func hash(_ p: UnsafeBufferPointer<UInt8>) -> UInt64 {
        // FNV-1a over 8-byte words, then a final mix: fast for short keys, good enough spread.
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        var i = 0
        let n = p.count
        if let base = p.baseAddress {
            while i + 8 <= n {
                let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                h = (h ^ w) &* 0x100_0000_01B3
                h ^= h >> 29
                i += 8
            }
            while i < n {
                h = (h ^ UInt64(base[i])) &* 0x100_0000_01B3
                i += 1
            }
        }
        h ^= UInt64(n)
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        return h
    }

    /// The code of `bytes`, adding it when new.
    @inline(__always)
    package mutating func intern(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32 {
        intern(bytes, hash: ByteDictionary.hash(bytes))
    }

    /// Codes in this dictionary for every entry of `other`, adding the new ones (`other`'s
    /// hashes are reused, so each distinct string is hashed once per batch).
    mutating func codes(for other: ByteDictionary) -> [Int32] {
        var out = [Int32](repeating: 0, count: other.count)
        other.arena.withUnsafeBufferPointer { a in
            for code in 0..<other.count {
                let start = Int(other.offsets[code]), end = Int(other.offsets[code + 1])
                out[code] = intern(UnsafeBufferPointer(rebasing: a[start..<end]), hash: other.hashes[code])
            }
        }
        return out
    }

    mutating func intern(_ bytes: UnsafeBufferPointer<UInt8>, hash h: UInt64) -> Int32 {
        let tag = h & 0xFFFF_FFFF_0000_0000
        let found: Int32? = table.withUnsafeBufferPointer { t in
            let mask = t.count - 1
            var slot = Int(truncatingIfNeeded: h) & mask
            while true {
                let e = t[slot]
                if e == 0 {
                    emptySlot = slot
                    return nil
                }
                if e & 0xFFFF_FFFF_0000_0000 == tag {
                    let code = Int32(truncatingIfNeeded: e & 0xFFFF_FFFF) - 1
                    if equal(Int(code), bytes) { return code }
                }
                slot = (slot + 1) & mask
            }
        }
        if let found { return found }
        let code = Int32(count)
        arena.append(contentsOf: bytes)
        offsets.append(UInt32(arena.count))
        hashes.append(h)
        table[emptySlot] = tag | UInt64(UInt32(code) + 1)
        if count * 2 > table.count { rehash() }
        return code
    }

    /// The code of `bytes` when present; nothing is added.
    package func find(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
        let h = ByteDictionary.hash(bytes)
        let tag = h & 0xFFFF_FFFF_0000_0000
        return table.withUnsafeBufferPointer { t in
            let mask = t.count - 1
            var slot = Int(truncatingIfNeeded: h) & mask
            while true {
                let e = t[slot]
                if e == 0 { return nil }
                if e & 0xFFFF_FFFF_0000_0000 == tag {
                    let code = Int32(truncatingIfNeeded: e & 0xFFFF_FFFF) - 1
                    if equal(Int(code), bytes) { return code }
                }
                slot = (slot + 1) & mask
            }
        }
    }

    /// Where the last failed lookup ended; the next insert goes there.
    private var emptySlot = 0

    package mutating func intern(_ s: String) -> Int32 {
        var s = s
        return s.withUTF8 { intern($0) }
    }

    private func equal(_ code: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = Int(offsets[code]), end = Int(offsets[code + 1])
        guard end - start == bytes.count else { return false }
        return arena.withUnsafeBufferPointer { a in
            guard let ab = a.baseAddress, let bb = bytes.baseAddress else { return true }
            return memcmpBytes(ab + start, bb, bytes.count)
        }
    }

    private mutating func rehash() {
        let size = table.count * 2
        var t = [UInt64](repeating: 0, count: size)
        let mask = size - 1
        for code in 0..<count {
            let h = hashes[code]
            var slot = Int(truncatingIfNeeded: h) & mask
            while t[slot] != 0 { slot = (slot + 1) & mask }
            t[slot] = (h & 0xFFFF_FFFF_0000_0000) | UInt64(UInt32(code) + 1)
        }
        table = t
    }

    /// Codes ordered by their bytes (Lucene's term order).
    func sortedCodes() -> [Int] {
        arena.withUnsafeBufferPointer { a in
            (0..<count).sorted { x, y in
                let xs = Int(offsets[x]), xe = Int(offsets[x + 1]), ys = Int(offsets[y]), ye = Int(offsets[y + 1])
                return StringDictionary.compare(UnsafeBufferPointer(rebasing: a[xs..<xe]), UnsafeBufferPointer(rebasing: a[ys..<ye])) < 0
            }
        }
    }
}

@inline(__always)
func memcmpBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    var i = 0
    while i + 8 <= n {
        if UnsafeRawPointer(a + i).loadUnaligned(as: UInt64.self) != UnsafeRawPointer(b + i).loadUnaligned(as: UInt64.self) { return false }
        i += 8
    }
    while i < n {
        if a[i] != b[i] { return false }
        i += 1
    }
    return true
}
