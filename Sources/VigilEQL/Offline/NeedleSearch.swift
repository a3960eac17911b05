#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CVigilLinux

/// Needles searched for together in one pass (the C loop compares two rare bytes of every
/// needle at 32 text positions a step), each hit then checked with `NeedleSearch.accept`.
struct NeedleSet {
    let needles: [RequiredText.Needle]
    /// The needles' bytes end to end, and per needle where they are and which two of its bytes
    /// are compared first.
    private let packedBytes: [UInt8]
    private let packed: [vigil_needle]

    init(_ needles: [RequiredText.Needle], frequencies: [Int]) {
        self.needles = needles
        var bytes: [UInt8] = []
        var packed: [vigil_needle] = []
        for needle in needles {
            let (a1, a2) = NeedleSet.anchorPair(needle, frequencies: frequencies)
            packed.append(vigil_needle(start: UInt32(bytes.count), length: UInt32(needle.bytes.count), anchor1: UInt32(a1), anchor2: UInt32(a2), fold: needle.caseInsensitive ? 1 : 0))
            bytes.append(contentsOf: needle.bytes)
        }
        packedBytes = bytes
        self.packed = packed
    }

    /// The two rarest positions of a needle by `frequencies`, in order (the same one twice for a one-byte needle).
    static func anchorPair(_ needle: RequiredText.Needle, frequencies f: [Int]) -> (Int, Int) {
        func count(_ b: UInt8) -> Int { needle.caseInsensitive && NeedleSearch.isLetter(b) ? f[Int(b | 0x20)] + f[Int(b & ~0x20)] : f[Int(b)] }
        let ranked = needle.bytes.indices.sorted { (count(needle.bytes[$0]), $0) < (count(needle.bytes[$1]), $1) }
        guard let first = ranked.first else { return (0, 0) }
        let second = ranked.count > 1 ? ranked[1] : first
        return (min(first, second), max(first, second))
    }

    /// The first position in `bytes[from..<to]` where some needle lies whole and matches.
    func first(in bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> Int? {
        guard let base = bytes.baseAddress, from < to, to <= bytes.count, !packed.isEmpty else { return nil }
        let p = packedBytes.withUnsafeBufferPointer { nb in
            packed.withUnsafeBufferPointer { specs in
                vigil_needles_find(base.assumingMemoryBound(to: UInt8.self), Int64(from), Int64(to), specs.baseAddress, Int32(specs.count), nb.baseAddress)
            }
        }
        return p < 0 ? nil : Int(p)
    }

    /// Whether needle `k` matches at `p`, wholly before `to`.
    func matches(_ k: Int, _ bytes: UnsafeRawBufferPointer, at p: Int, to: Int) -> Bool {
        guard let base = bytes.baseAddress, to <= bytes.count else { return false }
        return packedBytes.withUnsafeBufferPointer { nb in
            packed.withUnsafeBufferPointer { specs in
                vigil_needle_matches(base.assumingMemoryBound(to: UInt8.self), Int64(p), Int64(to), specs.baseAddress! + k, nb.baseAddress) != 0
            }
        }
    }

    /// Whether `bytes[range]` holds an accepted hit of some needle.
    func contained(in bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        var at = range.lowerBound
        while let hit = first(in: bytes, from: at, to: range.upperBound) {
            for k in needles.indices where matches(k, bytes, at: hit, to: range.upperBound) && NeedleSearch.accept(needles[k], at: hit, in: bytes) {
                return true
            }
            at = hit + 1
        }
        return false
    }
}

/// Finds which events of a run of a file contain some needle of a group: a byte search over the
/// whole run, each hit attributed to the event around it, so events without a hit cost nothing
/// but the search.
struct NeedleSearch {
    /// The needles searched for, then the escape markers.
    let search: NeedleSet
    let markerStart: Int
    /// When not empty, an event a needle hits is a candidate only if it also meets every group of
    /// some stage (`RequiredText.stages`): the searched needles are only one group per stage.
    let stages: [[NeedleSet]]

    var needles: [RequiredText.Needle] { search.needles }

    init(needles: [RequiredText.Needle], frequencies: [Int], stages: [[[RequiredText.Needle]]] = []) {
        markerStart = needles.count
        // Every stage's needles decide the markers: `confirm` checks them all.
        let all = needles + stages.flatMap { $0.flatMap { $0 } }
        let markers = RequiredText.escapeMarkers(for: all).map { RequiredText.Needle(bytes: $0, caseInsensitive: false, endsValue: false) }
        search = NeedleSet(needles + markers, frequencies: frequencies)
        self.stages = stages.map { groups in groups.map { NeedleSet($0, frequencies: frequencies) } }
    }

    /// Whether the event at `doc` meets every group of some stage (true without stages).
    func confirm(_ bytes: UnsafeRawBufferPointer, _ doc: Range<Int>) -> Bool {
        stages.isEmpty || stages.contains { groups in groups.allSatisfy { $0.contained(in: bytes, doc) } }
    }

    /// Marks in `candidate` the events of `documents[range]` (event `d` at `d - range.lowerBound`)
    /// that contain a needle or an escape marker (see `RequiredText.stages`).
    func mark(_ bytes: UnsafeRawBufferPointer, documents: [Range<Int>], range: Range<Int>, candidate: inout [Bool]) {
        guard !range.isEmpty else { return }
        let lo = documents[range.lowerBound].lowerBound
        let hi = documents[range.upperBound - 1].upperBound
        // One pass for every needle and marker. `unconfirmed` is the event whose needle hit
        // failed `confirm`: only a marker can still make it a candidate.
        var at = lo
        var d = range.lowerBound
        var unconfirmed = -1
        while let hit = search.first(in: bytes, from: at, to: hi) {
            // The event holding the hit: events are in file order, so search forward from the last one.
            while d < range.upperBound, documents[d].upperBound <= hit { d += 1 }
            guard d < range.upperBound else { break }
            let doc = documents[d]
            guard doc.lowerBound <= hit else {
                at = doc.lowerBound
                continue
            }
            var marked = false
            for k in needles.indices where search.matches(k, bytes, at: hit, to: doc.upperBound) && NeedleSearch.accept(needles[k], at: hit, in: bytes) {
                if k >= markerStart {
                    marked = true
                    break
                }
                if unconfirmed == d { continue }
                if confirm(bytes, doc) {
                    marked = true
                    break
                }
                unconfirmed = d
            }
            if marked {
                candidate[d - range.lowerBound] = true
                at = doc.upperBound
            } else {
                at = hit + 1
            }
        }
    }

    /// Whether `bytes[range]` holds an accepted hit of `needle`.
    static func contains(_ needle: RequiredText.Needle, in bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        var at = range.lowerBound
        while let hit = find(needle, in: bytes, from: at, to: range.upperBound) {
            if accept(needle, at: hit, in: bytes) { return true }
            at = hit + 1
        }
        return false
    }

    /// Whether a hit counts: a needle ending a string value is not followed by `:` (a key), and
    /// an escape marker's backslash is not itself escaped.
    static func accept(_ needle: RequiredText.Needle, at hit: Int, in bytes: UnsafeRawBufferPointer) -> Bool {
        if needle.endsValue {
            var j = hit + needle.bytes.count
            while j < bytes.count, bytes[j] == 0x20 || bytes[j] == 0x09 || bytes[j] == 0x0A || bytes[j] == 0x0D { j += 1 }
            return j == bytes.count || bytes[j] != UInt8(ascii: ":")
        }
        if needle.bytes.first == UInt8(ascii: "\\") {
            var k = hit
            while k > 0, bytes[k - 1] == UInt8(ascii: "\\") { k -= 1 }
            return (hit - k) % 2 == 0
        }
        return true
    }

    /// How often each byte value occurs in `documents`: the rarest byte of a needle is the one searched for.
    static func frequencies(_ bytes: UnsafeRawBufferPointer, documents: some Collection<Range<Int>>) -> [Int] {
        var counts = [Int](repeating: 0, count: 256)
        for d in documents { for i in d { counts[Int(bytes[i])] += 1 } }
        return counts
    }

    /// The first position in `bytes[from..<to]` where `needle` starts, or nil. The byte at
    /// `anchor` in the needle is searched for first (a rare one makes fewer compares).
    static func find(_ needle: RequiredText.Needle, anchor a: Int = 0, in bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> Int? {
        let n = needle.bytes.count
        guard n > 0, to - from >= n, let base = bytes.baseAddress else { return nil }
        let folded = needle.caseInsensitive
        return needle.bytes.withUnsafeBytes { nb -> Int? in
            @inline(__always) func same(_ s: Int) -> Bool {
                if !folded {
                    // Needles are short: an inline compare beats a call.
                    for k in 0..<n where base.load(fromByteOffset: s + k, as: UInt8.self) != nb[k] { return false }
                    return true
                }
                for k in 0..<n {
                    let b = base.load(fromByteOffset: s + k, as: UInt8.self)
                    if (isLetter(b) ? b | 0x20 : b) != nb[k] { return false }
                }
                return true
            }
            let c = nb[a]
            // Positions of the anchor byte run from `from + a` to `to - n + a`.
            var i = from + a
            let end = to - n + a
            if folded && isLetter(c) {
                // Eight bytes at a time, folded by setting bit 5 (exact for letters); a zero
                // byte of `x` is a hit (the classic has-zero-byte test; false hits are compared away).
                let pattern = UInt64(c) &* 0x0101_0101_0101_0101
                while i + 8 <= end + 1 {
                    let x = (base.loadUnaligned(fromByteOffset: i, as: UInt64.self) | 0x2020_2020_2020_2020) ^ pattern
                    var hits = (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080
                    while hits != 0 {
                        let s = i + hits.trailingZeroBitCount >> 3 - a
                        if same(s) { return s }
                        hits &= hits &- 1
                    }
                    i += 8
                }
                while i <= end {
                    if base.load(fromByteOffset: i, as: UInt8.self) | 0x20 == c, same(i - a) { return i - a }
                    i += 1
                }
                return nil
            }
            // memchr (vectorized in libc) for the anchor, then a compare.
            while i <= end {
                guard let p = memchr(base + i, Int32(c), end - i + 1) else { return nil }
                let hit = UnsafeRawPointer(p) - base
                if same(hit - a) { return hit - a }
                i = hit + 1
            }
            return nil
        }
    }

    @inline(__always)
    static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") }
}
