// `_bulk`, NDJSON and JSON-array bodies as `vigil eql`, `vigil ingest` and `vigil rules run` split them
// (EventFile.split: format detection, line trimming, action lines, array elements), then each event
// parsed as the store would take it.
//
// The server's own `_bulk` parser, API.parseBulk, is in VigilServer (which imports Hummingbird), so it is
// not reached here; see Fuzz/README.md.
import VigilJSON
@testable import VigilEQL

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBulk(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let raw = UnsafeRawBufferPointer(start: data, count: size)
    let (format, documents) = EventFile.split(raw)
    var previousEnd = 0
    for r in documents {
        // Events are non-empty, in file order, inside the body and never overlapping.
        precondition(r.lowerBound >= previousEnd && r.upperBound <= size && !r.isEmpty,
                     "event range \(r) out of order or out of the body (\(size) bytes, format \(format))")
        previousEnd = r.upperBound
        _ = try? JSONParser().parse(UnsafeRawBufferPointer(rebasing: raw[r]))
    }
    return 0
}
