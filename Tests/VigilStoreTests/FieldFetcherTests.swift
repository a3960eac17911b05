import Testing
import VigilJSON
import VigilStore

@Suite struct FieldFetcherTests {
    let mapping = try! Mapping(json: JSONParser().parse(#"""
        {"properties": {
          "@timestamp": {"type": "date"},
          "seen": {"type": "date", "format": "epoch_millis||strict_date_optional_time"},
          "ts": {"type": "alias", "path": "@timestamp"},
          "pid": {"type": "long"},
          "ip": {"type": "ip"},
          "ok": {"type": "boolean"},
          "name": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 5}}},
          "process": {"properties": {"args": {"type": "keyword"}, "parent": {"properties": {"pid": {"type": "long"}}}}}
        }}
        """#))

    func fetch(_ requests: [FieldFetcher.Request], _ source: String) throws -> JSONObject {
        FieldFetcher(requests, mapping: mapping).fetch(try JSONParser().parse(source))
    }

    @Test func valuesAreTypedByTheMapping() throws {
        let source = #"""
            {"@timestamp": 1700000000123, "seen": "2026-01-02T03:04:05Z", "pid": "42", "ip": "::ffff:10.0.0.1", "ok": "true",
             "name": "a long name", "process": {"args": ["-c", 7], "parent": [{"pid": 1}, {"pid": 2.9}]}}
            """#
        let f = try fetch([.init(pattern: "*")], source)
        #expect(f["@timestamp"] == [.string("2023-11-14T22:13:20.123Z")])
        #expect(f["ts"] == [.string("2023-11-14T22:13:20.123Z")])
        #expect(f["seen"] == [.string("1767323045000")])
        #expect(f["pid"] == [.int(42)])
        #expect(f["ip"] == [.string("10.0.0.1")])
        #expect(f["ok"] == [.bool(true)])
        #expect(f["name"] == [.string("a long name")])
        // Over ignore_above: the keyword sub-field keeps nothing.
        #expect(f["name.keyword"] == nil)
        #expect(f["process.args"] == [.string("-c"), .string("7")])
        #expect(f["process.parent.pid"] == [.int(1), .int(2)])
        #expect(f["process"] == nil)
    }

    @Test func patternsAndFormats() throws {
        let f = try fetch([.init(pattern: "process.*"), .init(pattern: "@timestamp", format: "epoch_second"), .init(pattern: "nope")],
                          #"{"@timestamp": "2026-01-02T03:04:05.999Z", "pid": 1, "process": {"args": "x"}}"#)
        #expect(f.count == 2)
        #expect(f["@timestamp"] == [.string("1767323045")])
        #expect(f["process.args"] == [.string("x")])
    }

    @Test func requestsParse() throws {
        let r = FieldFetcher.Request.parse(try JSONParser().parse(#"["a.*", {"field": "b", "format": "epoch_millis"}]"#))
        #expect(r == [.init(pattern: "a.*"), .init(pattern: "b", format: "epoch_millis")])
        #expect(FieldFetcher.Request.parse(try JSONParser().parse(#"[1]"#)) == nil)
        #expect(FieldFetcher.Request.parse(try JSONParser().parse(#"{"field": "a"}"#)) == nil)
    }
}
