// ES|QL: parse, then run over the tiny index (every command and function the executor has).
import FuzzSupport
import VigilStore
import VigilQuery

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzESQL(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzString(data, size)
    guard let query = try? ESQLParser.parse(text) else { return 0 }
    _ = try? ESQLExecutor(readers: [Fixture.reader], now: Fixture.now).run(query, limit: 100)
    return 0
}
