// The query DSL compiler on arbitrary JSON (the `query` of `_search`, `_count`, EQL's `filter`, rule
// filters), the filter run over the tiny index; and the `aggs` parser on the same value.
import FuzzSupport
import VigilJSON
import VigilStore
@testable import VigilQuery

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDSL(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let json = try? JSONParser().parse(UnsafeBufferPointer(start: data, count: size)) else { return 0 }
    if let compiled = try? QueryDSL(mapping: Fixture.indexMapping, now: Fixture.now).compile(json) {
        Fixture.match(compiled.expr)
    }
    _ = try? Aggregator.parse(json)
    return 0
}
