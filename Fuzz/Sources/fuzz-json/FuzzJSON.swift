// The JSON reader (every request body and every stored document goes through it), the writer
// on what it read, and the byte-level projector offline hunting runs on raw event files.
import VigilJSON

private let projector = JSONProjector(paths: ["process.name", "process.parent", "a", "a.b", "event.category", "x.y.z"])

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let parsed = try? JSONParser().parse(bytes)
    _ = try? JSONParser(maxDepth: 10_000).parse(bytes)
    if let parsed {
        // What the writer prints, the reader reads back as the same value, and prints the same.
        let once = JSONWriter().encode(parsed)
        guard let again = try? JSONParser(maxDepth: 10_000).parse(once) else {
            fatalError("JSONWriter output does not parse: \(String(decoding: once, as: UTF8.self))")
        }
        let twice = JSONWriter().encode(again)
        precondition(once == twice, "JSONWriter is not stable: \(String(decoding: once, as: UTF8.self)) vs \(String(decoding: twice, as: UTF8.self))")
        _ = JSONWriter(pretty: true).encode(parsed)
    }
    var out: [UInt8] = []
    var found: UInt64 = 0
    var spans: [JSONProjector.Span] = []
    let ok = projector.project(UnsafeRawBufferPointer(bytes), into: &out, found: &found, spans: &spans)
    // Known difference, filtered so it does not stop every run at the seed corpus: JSONParser skips a
    // leading UTF-8 byte order mark, JSONProjector refuses the document (Fuzz/README.md, "Findings").
    let bom = size >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF
    if case .object? = parsed, !bom {
        // A well-formed object always projects, to a well-formed object.
        precondition(ok, "JSONProjector refused a document JSONParser accepts")
        precondition((try? JSONParser(maxDepth: 10_000).parse(out)) != nil,
                     "JSONProjector output does not parse: \(String(decoding: out, as: UTF8.self))")
        for s in spans { precondition(s.range.lowerBound >= 0 && s.range.upperBound <= out.count, "span out of the output") }
    }
    return 0
}
