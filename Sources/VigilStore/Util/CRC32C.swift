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
