#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds which events of a run of a file contain some needle of a group: a byte search over the
/// whole run, each hit attributed to the event around it, so events without a hit cost nothing
/// but the search.
struct NeedleSearch {
    /// The needles searched for, then the escape markers.
    let needles: [RequiredText.Needle]
    /// Per needle, which of its bytes to search for first.
    let anchors: [Int]
    let markerStart: Int
    /// When not empty, an event a needle hits is a candidate only if it also meets every group of
    /// some stage (`RequiredText.stages`): the searched needles are only one group per stage.
    let stages: [[[RequiredText.Needle]]]

    init(needles: [RequiredText.Needle], frequencies: [Int], stages: [[[RequiredText.Needle]]] = []) {
        markerStart = needles.count
        // Every stage's needles decide the markers: `confirm` checks them all.
        let all = needles + stages.flatMap { $0.flatMap { $0 } }
        self.needles = needles + RequiredText.escapeMarkers(for: all).map { RequiredText.Needle(bytes: $0, caseInsensitive: false, endsValue: false) }
        anchors = self.needles.map { NeedleSearch.anchor($0, frequencies: frequencies) }
        self.stages = stages
    }

    /// Whether the event at `doc` meets every group of some stage (true without stages).
    func confirm(_ bytes: UnsafeRawBufferPointer, _ doc: Range<Int>) -> Bool {
        stages.isEmpty || stages.contains { groups in
            groups.allSatisfy { group in group.contains { NeedleSearch.contains($0, in: bytes, doc) } }
        }
    }

    /// Marks in `candidate` the events of `documents[range]` (event `d` at `d - range.lowerBound`)
    /// that contain a needle or an escape marker (see `RequiredText.stages`).
    func mark(_ bytes: UnsafeRawBufferPointer, documents: [Range<Int>], range: Range<Int>, candidate: inout [Bool]) {
        guard !range.isEmpty else { return }
        let lo = documents[range.lowerBound].lowerBound
        let hi = documents[range.upperBound - 1].upperBound
        for (k, (needle, anchor)) in zip(needles, anchors).enumerated() {
            let n = needle.bytes.count
            var at = lo
            var d = range.lowerBound
            while let hit = NeedleSearch.find(needle, anchor: anchor, in: bytes, from: at, to: hi) {
                // The event holding the hit: events are in file order, so search forward from the last one.
                while d < range.upperBound, documents[d].upperBound <= hit { d += 1 }
                guard d < range.upperBound else { break }
                if documents[d].lowerBound <= hit, hit + n <= documents[d].upperBound, NeedleSearch.accept(needle, at: hit, in: bytes) {
                    if k >= markerStart || confirm(bytes, documents[d]) { candidate[d - range.lowerBound] = true }
                    at = documents[d].upperBound
                } else {
                    at = hit + 1
                }
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

    /// The index of the needle's byte that is rarest by `frequencies` (case folded when the needle is).
    static func anchor(_ needle: RequiredText.Needle, frequencies f: [Int]) -> Int {
        var best = 0
        var bestCount = Int.max
        for (k, b) in needle.bytes.enumerated() {
            let count = needle.caseInsensitive && isLetter(b) ? f[Int(b | 0x20)] + f[Int(b & ~0x20)] : f[Int(b)]
            if count < bestCount {
                best = k
                bestCount = count
            }
        }
        return best
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
