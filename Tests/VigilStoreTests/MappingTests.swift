import Testing
import VigilJSON
@testable import VigilStore

@Suite struct MappingTests {
    /// Maps one document; returns its values by path.
    func map(_ json: String, mapping: Mapping = Mapping()) throws -> ([String: [FieldValue]], Mapping) {
        var mapper = DocumentMapper(mapping: mapping)
        guard case .object(let o) = try parse(json) else { throw StoreError(.internal, "not an object") }
        let doc = try mapper.map(o, id: "1")
        var byPath: [String: [FieldValue]] = [:]
        for (slot, value) in doc.fields { byPath[mapper.slots.paths[slot], default: []].append(value) }
        return (byPath, mapper.mapping)
    }

    @Test func dynamicMappingInfersAsElasticsearch() throws {
        let (doc, m) = try map(#"{"s":"hello","n":5,"f":1.5,"b":true,"d":"2026-01-02T03:04:05Z","o":{"x":"y"},"nothing":null,"port":"443"}"#)
        #expect(m.field(at: "s")?.type == .text)
        #expect(m.field(at: "s.keyword")?.type == .keyword)
        #expect(m.field(at: "s.keyword")?.ignoreAbove == 256)
        #expect(m.field(at: "n")?.type == .long)
        #expect(m.field(at: "f")?.type == .float)
        #expect(m.field(at: "b")?.type == .boolean)
        #expect(m.field(at: "d")?.type == .date)
        #expect(m.field(at: "o")?.type == .object)
        #expect(m.field(at: "o.x")?.type == .text)
        #expect(m.field(at: "nothing") == nil)
        #expect(m.field(at: "port")?.type == .text)
        #expect(doc["d"] == [.date(DateFormats.epochMillis(year: 2026, month: 1, day: 2, hour: 3, minute: 4, second: 5))])
        #expect(doc["s.keyword"] == [.string("hello")])
    }

    @Test func dottedKeysMapLikeObjects() throws {
        let (doc, m) = try map(#"{"process.pid":12,"process":{"name":"x"}}"#)
        #expect(m.field(at: "process")?.type == .object)
        #expect(m.field(at: "process.pid")?.type == .long)
        #expect(doc["process.pid"] == [.int(12)])
        #expect(doc["process.name"] == [.string("x")])
    }

    @Test func explicitTypesConvertAndReject() throws {
        let mapping = try Mapping(json: parse(#"{"properties":{"n":{"type":"integer"},"ip":{"type":"ip"},"t":{"type":"date"},"k":{"type":"keyword","ignore_above":3}}}"#))
        let (doc, _) = try map(#"{"n":"42","ip":"10.1.2.3","t":131883571822010000,"k":["ab","abcd"]}"#, mapping: mapping)
        #expect(doc["n"] == [.int(42)])
        #expect(doc["ip"] == [.ip(IPAddress("10.1.2.3")!)])
        #expect(doc["t"] == [.date(131_883_571_822_010_000)])
        #expect(doc["k"] == [.string("ab")])
        #expect(throws: StoreError.self) { try map(#"{"n":"abc"}"#, mapping: mapping) }
        #expect(throws: StoreError.self) { try map(#"{"n":3000000000}"#, mapping: mapping) }
        #expect(throws: StoreError.self) { try map(#"{"ip":"not-an-ip"}"#, mapping: mapping) }
        #expect(throws: StoreError.self) { try map(#"{"t":"yesterday"}"#, mapping: mapping) }
    }

    @Test func objectAndConcreteValueConflict() throws {
        let (_, m) = try map(#"{"a":{"b":1}}"#)
        do {
            _ = try map(#"{"a":"flat"}"#, mapping: m)
            Issue.record("expected an error")
        } catch let error as StoreError {
            #expect(error.code == .mapperParsing)
            #expect(error.message.contains("tried to parse field [a] as object, but found a concrete value"))
        }
    }

    @Test func strictMappingRejectsNewFields() throws {
        let mapping = try Mapping(json: parse(#"{"dynamic":"strict","properties":{"a":{"type":"keyword"}}}"#))
        do {
            _ = try map(#"{"a":"x","b":"y"}"#, mapping: mapping)
            Issue.record("expected an error")
        } catch let error as StoreError {
            #expect(error.typeName == "strict_dynamic_mapping_exception")
        }
    }

    @Test func mergeRefusesTypeChanges() throws {
        var m = try Mapping(json: parse(#"{"properties":{"a":{"type":"long"}}}"#))
        #expect(throws: StoreError.self) { try m.merge(Mapping(json: parse(#"{"properties":{"a":{"type":"keyword"}}}"#))) }
        try m.merge(Mapping(json: parse(#"{"properties":{"b":{"type":"keyword"}}}"#)))
        #expect(m.field(at: "b")?.type == .keyword)
        #expect(m.field(at: "a")?.type == .long)
    }

    @Test func unknownTypesAndParametersAreErrors() {
        #expect(throws: StoreError.self) { try Mapping(json: parse(#"{"properties":{"a":{"type":"nope"}}}"#)) }
        #expect(throws: StoreError.self) { try Mapping(json: parse(#"{"properties":{"a":{"type":"keyword","bogus":1}}}"#)) }
        #expect(throws: StoreError.self) { try Mapping(json: parse(#"{"properties":{"a":{"type":"alias"}}}"#)) }
    }

    @Test(arguments: [
        ("2026-11-23", Int64(1_795_392_000_000)),
        ("2026-11-23T10:00:00.123Z", Int64(1_795_428_000_123)),
        ("2026-11-23T10:00:00+01:00", Int64(1_795_424_400_000)),
        ("1795392000000", Int64(1_795_392_000_000)),
        ("-1000", Int64(-1000)),
    ])
    func dates(_ text: String, _ millis: Int64) {
        #expect(DateFormats.parse(text) == millis)
    }

    @Test func badDates() {
        #expect(DateFormats.parse("2026-13-01") == nil)
        #expect(DateFormats.parse("2026-02-30") == nil)
        #expect(DateFormats.parse("hello") == nil)
        #expect(DateFormats.formatISO(1_795_428_000_123) == "2026-11-23T10:00:00.123Z")
    }

    @Test func ipAddresses() {
        #expect(IPAddress("192.168.0.1")?.description == "192.168.0.1")
        #expect(IPAddress("::1")?.description == "::1")
        #expect(IPAddress("2001:db8::ff00:42:8329")?.description == "2001:db8::ff00:42:8329")
        #expect(IPAddress("300.1.1.1") == nil)
        #expect(IPAddress("10.0.0.1")! < IPAddress("10.0.0.2")!)
    }
}
