// EQL: parse, verify against the mapping of each fixture index (ECS fields, then the EQL spec suite's
// endgame fields), run over the index that verifies; and the required-text analysis offline hunting
// derives from a statement.
import FuzzSupport
import VigilQuery
import VigilStore
import VigilEQL

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEQL(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzString(data, size)
    _ = try? EQLParser.parseExpression(text)
    guard let statement = try? EQLParser.parse(text) else { return 0 }
    _ = RequiredText.stages(of: statement, eventCategoryField: "event.category")
    _ = RequiredText.fields(of: statement)
    var options = EQLOptions()
    options.size = 5
    options.tiebreakerField = "serial_event_id"
    for reader in Fixture.readers {
        guard let plan = try? Analyzer.analyze(statement, mapping: reader.mapping, options: options) else { continue }
        _ = try? EQLExecutor(readers: [reader], options: options).run(plan)
        options.tail = false
        options.maxSamplesPerKey = 2
        _ = try? EQLExecutor(readers: [reader], options: options).run(plan)
        break
    }
    return 0
}
