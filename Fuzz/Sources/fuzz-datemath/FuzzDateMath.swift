// Dates: date math, the default date parser (from a String and from bytes), time values, and the
// mapping's custom formats and `fields` output patterns. With a newline the input is
// `FORMAT\nVALUE`: the value parsed under the format, and instants printed with it.
@testable import VigilStore

private let now: Int64 = 1_795_424_707_089
private let instants: [Int64] = [0, -1, now, 253_402_300_799_999, -62_135_596_800_000, .max, .min, .max - 1, .min + 1]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDateMath(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let text = String(decoding: bytes, as: UTF8.self)
    let down = DateMath.evaluate(text, now: now, roundUp: false)
    let up = DateMath.evaluate(text, now: now, roundUp: true)
    if let down, let up { precondition(up >= down, "date math: rounding up gave \(up) < \(down) for \(text)") }
    _ = DateMath.evaluate(text, now: .max, roundUp: true)
    _ = DateMath.evaluate(text, now: .min, roundUp: false)
    _ = DateFormats.parse(text)
    _ = DateFormats.parseISO(bytes: bytes)
    _ = DateFormats.roundUpSpan(text)
    _ = try? TimeValue.parse(text, name: "fuzz")
    let lines = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
    if lines.count == 2 {
        let format = String(lines[0])
        let parsed = DateFormatSpec.parse(String(lines[1]), format: format)
        if let pattern = try? DatePattern(format) {
            for t in instants { _ = pattern.format(t) }
            if let parsed { _ = pattern.format(parsed) }
        }
    }
    return 0
}
