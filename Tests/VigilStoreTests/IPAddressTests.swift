import Testing
import VigilStore

@Suite struct IPAddressTests {
    @Test(arguments: [
        "1.2.3.4", "0.0.0.0", "255.255.255.255", "10.20.30.40", "256.1.1.1", "01.2.3.4", "1.2.3.04", "1.2.3", "1.2.3.4.5",
        "1..2.3", ".1.2.3", "1.2.3.", "", "::1", "::ffff:1.2.3.4", "fe80::1%eth0", "[::1]", " 1.2.3.4", "1.2.3.4 ", "a.b.c.d",
        "1.2.3.-4", "4294967296.1.1.1",
    ])
    func bytesAgreeWithText(_ text: String) {
        let fromBytes = Array(text.utf8).withUnsafeBufferPointer { IPAddress(utf8: $0) }
        #expect(fromBytes == IPAddress(text))
    }
}
