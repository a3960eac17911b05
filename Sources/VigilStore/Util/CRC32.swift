/// CRC-32 (IEEE 802.3), used to detect torn or corrupt write-ahead log records.
/// Slicing-by-8: eight table lookups per 8 input bytes.
enum CRC32 {
    static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            t[i] = c
        }
        for i in 0..<256 {
            for k in 1..<8 {
                let prev = t[(k - 1) * 256 + i]
                t[k * 256 + i] = (prev >> 8) ^ t[Int(prev & 0xFF)]
            }
        }
        return t
    }()

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        update(start, bytes) ^ 0xFFFF_FFFF
    }

    /// The running state before any byte; `checksum` = `update(start, bytes) ^ 0xFFFF_FFFF`.
    static let start: UInt32 = 0xFFFF_FFFF

    /// Continues a running CRC over more bytes, so a record can be checksummed in two parts.
    static func update(_ state: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c = state
        guard let base = bytes.baseAddress else { return c }
        let n = bytes.count
        tables.withUnsafeBufferPointer { t in
            var i = 0
            while i + 8 <= n {
                let lo = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt32.self)) ^ c
                let hi = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self))
                c = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ t[256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
                i += 8
            }
            while i < n {
                c = t[Int((c ^ UInt32(bytes[i])) & 0xFF)] ^ (c >> 8)
                i += 1
            }
        }
        return c
    }
}
