import Testing
@testable import VigilStore

@Suite struct CRC32Tests {
    @Test(arguments: [
        ("", UInt32(0)),
        ("a", UInt32(0xE8B7_BE43)),
        ("123456789", UInt32(0xCBF4_3926)),
        ("The quick brown fox jumps over the lazy dog", UInt32(0x414F_A339)),
    ])
    func knownValues(_ text: String, _ crc: UInt32) {
        let bytes = Array(text.utf8)
        #expect(bytes.withUnsafeBytes { CRC32.checksum($0) } == crc)
    }
}
