import Testing
@testable import VigilStore

@Suite struct CRC32CTests {
    // Check values of CRC-32C (RFC 3720, appendix B.4, and the common "123456789" check).
    @Test(arguments: [
        ("", UInt32(0)),
        ("a", UInt32(0xC1D0_4330)),
        ("123456789", UInt32(0xE306_9283)),
        ("The quick brown fox jumps over the lazy dog", UInt32(0x2262_0404)),
    ])
    func knownValues(_ text: String, _ crc: UInt32) {
        let bytes = Array(text.utf8)
        #expect(bytes.withUnsafeBytes { CRC32C.checksum($0) } == crc)
    }

    @Test func rfc3720Vectors() {
        #expect([UInt8](repeating: 0, count: 32).withUnsafeBytes { CRC32C.checksum($0) } == 0x8A91_36AA)
        #expect([UInt8](repeating: 0xFF, count: 32).withUnsafeBytes { CRC32C.checksum($0) } == 0x62A8_AB43)
        #expect((0..<32).map { UInt8($0) }.withUnsafeBytes { CRC32C.checksum($0) } == 0x46DD_794E)
    }

    @Test func legacyLogsStillCheck() {
        #expect(Array("123456789".utf8).withUnsafeBytes { LegacyCRC32.checksum($0) } == 0xCBF4_3926)
    }

    /// Any split of the input gives the same CRC, whatever the alignment of the parts.
    @Test func splitsAgree() {
        let bytes = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let whole = bytes.withUnsafeBytes { CRC32C.checksum($0) }
        for cut in [0, 1, 7, 8, 9, 63, 150, 299, 300] {
            let parts = bytes.withUnsafeBytes { b in
                CRC32C.update(CRC32C.update(CRC32C.start, UnsafeRawBufferPointer(rebasing: b[..<cut])), UnsafeRawBufferPointer(rebasing: b[cut...])) ^ 0xFFFF_FFFF
            }
            #expect(parts == whole)
        }
    }
}
