import Synchronization

/// Generates 20-character URL-safe ids like Elasticsearch's time-based UUIDs.
public enum DocumentID {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let counter = Atomic<UInt64>(UInt64.random(in: 0..<(1 << 40)))
    private static let node = UInt64.random(in: 0..<(1 << 48))

    public static func generate() -> String {
        let seq = counter.wrappingAdd(1, ordering: .relaxed).newValue
        let time = UInt64(Clock.nowMillis())
        // 120 bits: time (48) | sequence (24) | node (48), written 6 bits a character.
        let hi = time << 16 | (seq >> 8 & 0xFFFF)
        let lo = (seq & 0xFF) << 48 | node
        var bytes = [UInt8](repeating: 0, count: 20)
        for i in 0..<10 { bytes[i] = alphabet[Int(hi >> UInt64(58 - 6 * i) & 63)] }
        for i in 0..<10 { bytes[10 + i] = alphabet[Int(lo >> UInt64(54 - 6 * i) & 63)] }
        return String(decoding: bytes, as: UTF8.self)
    }
}
