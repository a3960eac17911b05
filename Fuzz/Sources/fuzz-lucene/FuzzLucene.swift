// Lucene syntax (`query_string`, `simple_query_string`, `q=`): parse, compile against the fixture's
// mapping with the default fields and with one field, filter the tiny index.
import FuzzSupport
import VigilJSON
import VigilStore
@testable import VigilQuery

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLucene(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzString(data, size)
    let dsl = QueryDSL(mapping: Fixture.indexMapping, now: Fixture.now)
    let simple = LuceneQuery.parseSimple(text)
    if let compiled = try? LuceneCompiler(dsl: dsl, options: LuceneOptions()).compile(simple) { Fixture.match(compiled.expr) }
    guard let query = try? LuceneQuery.parse(text) else { return 0 }
    var options = LuceneOptions()
    if let compiled = try? LuceneCompiler(dsl: dsl, options: options).compile(query) { Fixture.match(compiled.expr) }
    options.defaultFields = [("message", 1), ("process.name", 2)]
    options.defaultAnd = true
    options.lenient = false
    options.analyzeWildcard = true
    options.allowLeadingWildcard = false
    options.timeZone = "Europe/Paris"
    if let compiled = try? LuceneCompiler(dsl: dsl, options: options).compile(query) { Fixture.match(compiled.expr) }
    return 0
}
