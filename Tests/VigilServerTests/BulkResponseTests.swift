import Testing
import VigilJSON
import VigilStore
@testable import VigilServer

@Suite struct BulkResponseTests {
    @Test func directBytesEqualTheTreeForm() throws {
        let body = Array("""
            {"index":{"_index":"a","_id":"1"}}
            {"x":1}
            {"create":{"_index":"a"}}
            {"x":"y"}
            {"delete":{"_index":"a","_id":"9"}}
            {"update":{"_index":"a","_id":"1"}}
            {"doc":{"x":2}}

            """.utf8)
        let actions = try API.parseBulk(body, defaultIndex: nil)
        #expect(actions.opNames == ["index", "create", "delete", "update"])
        let results = [
            WriteResult(index: "a", id: "1", version: 1, seqNo: 0, outcome: .created, status: 201),
            WriteResult(index: "a\u{1}é", id: "gen\"id\\\n", version: 1, seqNo: 1, outcome: .created, status: 201),
            WriteResult(index: "a", id: "9", version: 1, seqNo: 2, outcome: .notFound, status: 404),
            .failure(index: "a", id: "1", StoreError(.mapperParsing, "failed to parse field [x]", causedBy: .init(type: "illegal_argument_exception", reason: "For input string: \"y\""))),
        ]
        for forced in [false, true] {
            let direct = try JSONParser().parse(API.bulkResponseBytes(actions.opNames, results, took: 7, forcedRefresh: forced))
            let tree: JSONValue = [
                "errors": true, "took": 7,
                "items": .array(zip(actions.opNames, results).map { [$0: API.itemJSON($1, forcedRefresh: forced && $1.error == nil)] }),
            ]
            #expect(direct == tree)
        }
    }

    /// Plain `{"create":{}}` and `{"index":{}}` lines (read without a parse) give what the
    /// same lines spelled another way give through the parser.
    @Test func plainActionLinesMatchTheParsedForm() throws {
        let plain = try API.parseBulk(Array("{\"create\":{}}\n{\"a\":1}\n{\"index\":{}}\n{\"b\":2}\n".utf8), defaultIndex: "d")
        let spaced = try API.parseBulk(Array("{\"create\": {}}\n{\"a\":1}\n{ \"index\":{}}\n{\"b\":2}\n".utf8), defaultIndex: "d")
        #expect(plain.opNames == ["create", "index"])
        #expect(plain.opNames == spaced.opNames)
        #expect(plain.targets == spaced.targets)
        for (p, s) in zip(plain.operations, spaced.operations) {
            guard case .index(let pid, let psource, let pcreate, _, _) = p,
                case .index(let sid, let ssource, let screate, _, _) = s
            else {
                Issue.record("expected index operations")
                continue
            }
            #expect(pid == sid && psource == ssource && pcreate == screate)
        }
        do {
            _ = try API.parseBulk(Array("{\"create\":{}}\n".utf8), defaultIndex: "d")
            Issue.record("expected an error for a create with no document")
        } catch {
            #expect(error.reason.contains("needs a source document"), "\(error.reason)")
        }
    }

    @Test(arguments: [
        ("{\"index\":{}}\n{}\n", "index is missing"),
        ("{\"index\":{\"_index\":\"a\"}}\n{}", "terminated by a newline"),
        ("{\"frob\":{\"_index\":\"a\"}}\n{}\n", "expected one of [create, delete, index, update]"),
        ("{\"index\":{\"_index\":\"a\",\"bogus\":1}}\n{}\n", "unknown parameter [bogus]"),
        ("{\"index\":{\"_index\":\"a\"}}\n", "needs a source document"),
        ("{\"index\":{\"_index\":\"a\"\n{}\n", "Unexpected end of input"),
    ])
    func malformedBulkBodiesFailWhole(_ body: String, _ reason: String) {
        do {
            _ = try API.parseBulk(Array(body.utf8), defaultIndex: nil)
            Issue.record("expected an error for \(body)")
        } catch {
            #expect(error.reason.contains(reason), "\(error.reason)")
        }
    }
}

@Suite struct FilterPathTests {
    let doc: JSONValue = ["took": 1, "hits": ["total": ["value": 3], "hits": [["_id": "a", "_source": ["x": 1]], ["_id": "b", "_source": ["x": 2]]]]]

    @Test func includes() {
        #expect(FilterPath("hits.hits._id")!.apply(doc) == ["hits": ["hits": [["_id": "a"], ["_id": "b"]]]])
        #expect(FilterPath("took,hits.total")!.apply(doc) == ["took": 1, "hits": ["total": ["value": 3]]])
        #expect(FilterPath("**._id")!.apply(doc) == ["hits": ["hits": [["_id": "a"], ["_id": "b"]]]])
        #expect(FilterPath("hits.*.value")!.apply(doc) == ["hits": ["total": ["value": 3]]])
        #expect(FilterPath("nothing")!.apply(doc) == [:])
    }

    @Test func excludes() {
        #expect(FilterPath("-hits.hits")!.apply(doc) == ["took": 1, "hits": ["total": ["value": 3]]])
        #expect(FilterPath("-**._source")!.apply(doc) == ["took": 1, "hits": ["total": ["value": 3], "hits": [["_id": "a"], ["_id": "b"]]]])
    }
}
