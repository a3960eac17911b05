// Painless runtime-field scripts: compile, then run on one document (doc values, `_source`, params).
import FuzzSupport
import VigilJSON
import VigilStore
import VigilQuery

private let params: [String: JSONValue] = ["add": .int(5), "suffix": .string("!"), "list": .array([.int(1), .string("x")]), "big": .int(.max)]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPainless(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzString(data, size)
    guard let script = try? PainlessScript(text) else { return 0 }
    let doc = PainlessScript.Document(docValues: { Fixture.docValues[$0] }, source: { Fixture.firstSource }, params: params)
    _ = try? script.run(doc)
    return 0
}
