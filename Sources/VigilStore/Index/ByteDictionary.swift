/// Interns UTF-8 byte strings to dense codes without creating `String`s: bytes live in one
/// arena, and an open-addressing table maps a hash to a code.
struct ByteDictionary {
    private(set) var arena: [UInt8] = []
    private(set) var offsets: [UInt32] = [0]
    private var table: [Int32] = [Int32](repeating: -1, count: 16)
    private var hashes: [UInt64] = []

    var count: Int { offsets.count - 1 }

    func entry(_ code: Int) -> ArraySlice<UInt8> { arena[Int(offsets[code])..<Int(offsets[code + 1])] }

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
    mutating func intern(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32 {
        let h = ByteDictionary.hash(bytes)
        let mask = table.count - 1
        var slot = Int(truncatingIfNeeded: h) & mask
        while true {
            let code = table[slot]
            if code < 0 { break }
            if hashes[Int(code)] == h && equal(Int(code), bytes) { return code }
            slot = (slot + 1) & mask
        }
        let code = Int32(count)
        arena.append(contentsOf: bytes)
        offsets.append(UInt32(arena.count))
        hashes.append(h)
        table[slot] = code
        if count * 2 > table.count { rehash() }
        return code
    }

    mutating func intern(_ s: String) -> Int32 {
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
        var t = [Int32](repeating: -1, count: size)
        let mask = size - 1
        for code in 0..<count {
            var slot = Int(truncatingIfNeeded: hashes[code]) & mask
            while t[slot] >= 0 { slot = (slot + 1) & mask }
            t[slot] = Int32(code)
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
