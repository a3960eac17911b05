// KQL: parse, compile against the fixture's mapping (case-sensitive and not), filter the tiny index.
import FuzzSupport
import VigilJSON
import VigilStore
@testable import VigilQuery

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKQL(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzString(data, size)
    guard let node = try? KQLParser.parse(text) else { return 0 }
    let dsl = QueryDSL(mapping: Fixture.indexMapping, now: Fixture.now)
    var options = KQLOptions()
    if let compiled = try? KQLCompiler(dsl: dsl, options: options).compile(node) { Fixture.match(compiled.expr) }
    options.caseInsensitive = true
    options.timeZone = "+01:00"
    if let compiled = try? KQLCompiler(dsl: dsl, options: options).compile(node) { Fixture.match(compiled.expr) }
    return 0
}
