import CVigilLinux

/// CRC-32C (Castagnoli), used to detect torn or corrupt write-ahead log records. The CPU's
/// CRC instruction computes it where there is one (SSE 4.2, ARMv8), a table otherwise.
enum CRC32C {
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        update(start, bytes) ^ 0xFFFF_FFFF
    }

    /// The running state before any byte; `checksum` = `update(start, bytes) ^ 0xFFFF_FFFF`.
    static let start: UInt32 = 0xFFFF_FFFF

    /// Continues a running CRC over more bytes, so a record can be checksummed in two parts.
    @inline(__always)
    static func update(_ state: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        vigil_crc32c_update(state, bytes.baseAddress, bytes.count)
    }
}

/// CRC-32 (IEEE 802.3), which logs written before CRC-32C carry: read only when replaying them.
enum LegacyCRC32 {
    static let table: [UInt32] = (0..<256).map { i in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
