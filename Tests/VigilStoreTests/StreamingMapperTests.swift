import Testing
import VigilJSON
@testable import VigilStore

/// The streaming mapper must produce exactly what the general mapper does, or decline.
@Suite struct StreamingMapperTests {
    static let documents = [
        #"{"@timestamp":"2026-11-22T10:00:00.123Z","event":{"category":["process"],"type":["start"]},"host":{"name":"web-01","ip":"10.0.0.5"},"process":{"pid":42,"args":["a","b\"c","\u00e9\ud83d\ude00"],"parent":{"pid":1}},"n":1.5,"ok":true}"#,
        #"{"@timestamp":131883571822010000,"event":{"category":"library"},"dll":{"name":"scrobj.dll"},"destination":{"port":"443"},"host":{"ip":"2001:db8::1"}}"#,
        #"{"@timestamp":"2026-11-22T10:00:01Z","process":{"args":[],"pid":7},"long_text":"this value is fine","nested":[{"x":"1"},{"x":"2"}],"n":-3,"ok":false}"#,
    ]

    func slowValues(_ mapper: inout DocumentMapper, _ text: String) throws -> [Int: [FieldValue]] {
        guard case .object(let o) = try JSONParser().parse(text) else { return [:] }
        var out: [Int: [FieldValue]] = [:]
        for (slot, v) in try mapper.map(o, id: "x").fields { out[slot, default: []].append(v) }
        return out
    }

    func fastValues(_ streaming: inout StreamingMapper, _ mapper: DocumentMapper, _ text: String) -> [Int: [FieldValue]]? {
        var tape = IngestTape()
        let bytes = Array(text.utf8)
        guard let doc = bytes.withUnsafeBufferPointer({ streaming.map($0, mapper: mapper, into: &tape) }) else { return nil }
        var out: [Int: [FieldValue]] = [:]
        for i in doc.values {
            let t = tape.values[i]
            let v: FieldValue
            switch t.kind {
            case .string: v = .string(String(decoding: tape.bytes[Int(t.a)..<Int(t.a + t.b)], as: UTF8.self))
            case .int64: v = .int(t.a)
            case .date: v = .date(t.a)
            case .bool: v = .bool(t.a != 0)
            case .double: v = .double(Double(bitPattern: UInt64(bitPattern: t.a)))
            case .ip: v = .ip(IPAddress(high: UInt64(bitPattern: t.a), low: UInt64(bitPattern: t.b)))
            case .none: continue
            }
            out[Int(t.slot), default: []].append(v)
        }
        return out
    }

    func learnedMapper() throws -> DocumentMapper {
        var mapper = DocumentMapper(mapping: try Mapping(json: JSONParser().parse(#"{"properties":{"host":{"properties":{"ip":{"type":"ip"}}},"long_text":{"type":"keyword","ignore_above":5}}}"#)))
        for d in StreamingMapperTests.documents { _ = try slowValues(&mapper, d) }
        return mapper
    }

    @Test(arguments: documents)
    func agreesWithTheGeneralMapper(_ text: String) throws {
        var mapper = try learnedMapper()
        var streaming = StreamingMapper()
        streaming.sync(with: mapper)
        let fast = try #require(fastValues(&streaming, mapper, text))
        let slow = try slowValues(&mapper, text)
        #expect(fast == slow)
    }

    @Test(arguments: [
        #"{"brand_new_field":1}"#,
        #"{"process.pid":1}"#,
        #"{"pro\u0063ess":{"pid":1}}"#,
        #"{"process":{"pid":"12"}}"#,
        #"{"process":{"pid":1}"#,
        #"{"process":{"pid":1}} x"#,
        #"{"host":{"ip":"not an ip"}}"#,
        #"{"ok":"true"}"#,
        #"[1]"#,
    ])
    func declinesWhatItDoesNotHandle(_ text: String) throws {
        let mapper = try learnedMapper()
        var streaming = StreamingMapper()
        streaming.sync(with: mapper)
        #expect(fastValues(&streaming, mapper, text) == nil)
    }

    @Test func invalidUTF8IsDeclined() throws {
        let mapper = try learnedMapper()
        var streaming = StreamingMapper()
        streaming.sync(with: mapper)
        var tape = IngestTape()
        let bytes: [UInt8] = Array(#"{"host":{"name":""#.utf8) + [0xC3, 0x28] + Array(#""}}"#.utf8)
        #expect(bytes.withUnsafeBufferPointer { streaming.map($0, mapper: mapper, into: &tape) } == nil)
        #expect(tape.count == 0 && tape.bytes.isEmpty)
    }
}
