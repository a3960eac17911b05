import Synchronization

/// Generates 20-character URL-safe ids like Elasticsearch's time-based UUIDs.
public enum DocumentID {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let counter = Atomic<UInt64>(UInt64.random(in: 0..<(1 << 40)))
    private static let node = UInt64.random(in: 0..<(1 << 48))

    public static func generate() -> String {
        let seq = counter.wrappingAdd(1, ordering: .relaxed).newValue
        let time = UInt64(Clock.nowMillis())
        // 120 bits, time (48) | sequence (24) | node (48), written 6 bits a character: the top
        // 60 in `hi`, the bottom 60 in `lo`, so no bit of the sequence is dropped.
        let hi = (time & 0xFFFF_FFFF_FFFF) << 12 | (seq >> 12 & 0xFFF)
        let lo = (seq & 0xFFF) << 48 | node
        // Twenty ASCII bytes: written straight into the string's storage.
        return String(unsafeUninitializedCapacity: 20) { out in
            for i in 0..<10 { out[i] = alphabet[Int(hi >> UInt64(54 - 6 * i) & 63)] }
            for i in 0..<10 { out[10 + i] = alphabet[Int(lo >> UInt64(54 - 6 * i) & 63)] }
            return 20
        }
    }
}
