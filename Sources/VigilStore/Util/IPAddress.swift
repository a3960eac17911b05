#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address as 128 bits; IPv4 is held IPv4-mapped (`::ffff:a.b.c.d`) as Elasticsearch does.
public struct IPAddress: Sendable, Hashable, Comparable {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public init?(_ text: String) {
        var s = text
        if s.hasPrefix("[") && s.hasSuffix("]") { s = String(s.dropFirst().dropLast()) }
        if let pct = s.firstIndex(of: "%") { s = String(s[..<pct]) }
        var v4 = in_addr()
        if inet_pton(AF_INET, s, &v4) == 1 {
            high = 0
            low = 0x0000_FFFF_0000_0000 | UInt64(UInt32(bigEndian: v4.s_addr))
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, s, &v6) == 1 else { return nil }
        var h: UInt64 = 0
        var l: UInt64 = 0
        withUnsafeBytes(of: &v6) { raw in
            for i in 0..<8 { h = h << 8 | UInt64(raw[i]) }
            for i in 8..<16 { l = l << 8 | UInt64(raw[i]) }
        }
        high = h
        low = l
    }

    /// An address from its UTF-8 text; dotted-quad IPv4 is read straight from the bytes (as
    /// strictly as `inet_pton`: four decimal parts up to 255, no leading zeros), anything else
    /// through `init(_:)`.
    public init?(utf8 p: UnsafeBufferPointer<UInt8>) {
        var value: UInt32 = 0
        var part: UInt32 = 0
        var digits = 0
        var parts = 0
        var plain = true
        for b in p {
            if b >= 0x30 && b <= 0x39 {
                if digits > 0 && part == 0 { plain = false; break }
                part = part * 10 + UInt32(b - 0x30)
                digits += 1
                if part > 255 { plain = false; break }
            } else if b == UInt8(ascii: "."), digits > 0, parts < 3 {
                value = value << 8 | part
                parts += 1
                part = 0
                digits = 0
            } else {
                plain = false
                break
            }
        }
        if plain, parts == 3, digits > 0 {
            self.init(high: 0, low: 0x0000_FFFF_0000_0000 | UInt64(value << 8 | part))
        } else {
            self.init(String(decoding: p, as: UTF8.self))
        }
    }

    public var isIPv4: Bool { high == 0 && low >> 32 == 0xFFFF }

    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        a.high != b.high ? a.high < b.high : a.low < b.low
    }

    public var description: String {
        if isIPv4 {
            let v = UInt32(truncatingIfNeeded: low)
            return "\(v >> 24).\(v >> 16 & 0xFF).\(v >> 8 & 0xFF).\(v & 0xFF)"
        }
        var addr = in6_addr()
        withUnsafeMutableBytes(of: &addr) { raw in
            for i in 0..<8 { raw[i] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i))) }
            for i in 0..<8 { raw[8 + i] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i))) }
        }
        var buf = [CChar](repeating: 0, count: 64)
        _ = inet_ntop(AF_INET6, &addr, &buf, 64)
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
