// Lucene regular expressions (the `regexp` query, `/…/` in Lucene syntax, KQL and EQL regex), compiled
// to a DFA and matched. Input: one byte of options, then `PATTERN`, then after the first 0x00 byte
// the subject (raw bytes, possibly invalid UTF-8). Matching the bytes must agree with matching the
// repaired String, as LuceneRegex documents.
import VigilQuery

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRegex(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let options = data[0]
    let rest = UnsafeBufferPointer(start: data + 1, count: size - 1)
    let split = rest.firstIndex(of: 0) ?? rest.count
    let pattern = String(decoding: UnsafeBufferPointer(rebasing: rest[..<split]), as: UTF8.self)
    let subject = split < rest.count ? UnsafeBufferPointer(rebasing: rest[(split + 1)...]) : UnsafeBufferPointer(rebasing: rest[rest.count...])
    let flags: LuceneRegex.Flags = options & 1 == 0 ? .all : LuceneRegex.Flags(rawValue: Int(options >> 2) | (options & 2 == 0 ? 0 : 0x1_0000))
    guard let regex = try? LuceneRegex(pattern, flags: flags, caseInsensitive: options & 0x80 != 0) else { return 0 }
    let viaBytes = regex.matches(utf8: subject)
    let viaString = regex.matches(String(decoding: subject, as: UTF8.self))
    precondition(viaBytes == viaString, "LuceneRegex: bytes and String disagree (\(viaBytes) vs \(viaString)) for /\(pattern)/")
    precondition(regex.matches(utf8: Array(subject)) == viaBytes, "LuceneRegex: collection and buffer matching disagree")
    _ = regex.matchesNothing
    _ = regex.matchesEverything
    // The pattern matched against itself exercises the non-trivial paths more often than random subjects.
    _ = regex.matches(pattern)
    _ = try? LuceneRegex.parseFlags(pattern)
    return 0
}
