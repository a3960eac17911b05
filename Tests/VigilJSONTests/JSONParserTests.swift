import Testing
import VigilJSON

@Suite struct JSONParserTests {
    let parser = JSONParser()

    @Test func scalars() throws {
        #expect(try parser.parse("null") == .null)
        #expect(try parser.parse(" true ") == .bool(true))
        #expect(try parser.parse("false") == .bool(false))
        #expect(try parser.parse("\"hi\"") == .string("hi"))
        #expect(try parser.parse("-0") == .int(0))
        #expect(try parser.parse("1.5e3") == .double(1500))
    }

    @Test(arguments: [
        ("9223372036854775807", JSONValue.int(Int64.max)),
        ("-9223372036854775808", JSONValue.int(Int64.min)),
        ("18446744073709551615", JSONValue.uint(UInt64.max)),
        ("131883571822010000", JSONValue.int(131_883_571_822_010_000)),
        ("18446744073709551616", JSONValue.double(18_446_744_073_709_551_616.0)),
    ])
    func exactIntegers(_ text: String, _ expected: JSONValue) throws {
        #expect(try parser.parse(text) == expected)
    }

    @Test func escapesAndSurrogates() throws {
        let v = try parser.parse(#""a\"b\\c\/d\n\t\u00e9\ud83d\ude00""#)
        #expect(v == .string("a\"b\\c/d\n\té😀"))
    }

    @Test func objectsKeepOrder() throws {
        let v = try parser.parse(#"{"b":1,"a":[1,2,{"c":null}],"d":{}}"#)
        #expect(v.objectValue?.keys == ["b", "a", "d"])
        #expect(v["a"]?.arrayValue?.count == 3)
    }

    @Test(arguments: [
        ("{\"a\":1,}", JSONError.Code.unexpectedCharacter),
        ("[1 2]", .unexpectedCharacter),
        ("{\"a\":1} x", .trailingData),
        ("\"abc", .unexpectedEnd),
        ("01", .invalidNumber),
        ("1.", .invalidNumber),
        ("\"\\x\"", .invalidEscape),
        ("\"\\ud800\"", .invalidEscape),
        ("tru", .unexpectedEnd),
        ("", .unexpectedEnd),
        ("{\"a\"}", .unexpectedCharacter),
    ])
    func malformed(_ text: String, _ code: JSONError.Code) {
        #expect(throws: JSONError.self) { try parser.parse(text) }
        do {
            _ = try parser.parse(text)
        } catch {
            #expect(error.code == code)
        }
    }

    @Test func invalidUTF8HasOffset() {
        let bytes: [UInt8] = Array("{\"a\":\"x".utf8) + [0xC3, 0x28] + Array("\"}".utf8)
        do {
            _ = try parser.parse(bytes)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidUTF8)
            #expect(error.offset == 7)
        }
        // Overlong encoding of '/' and a UTF-16 surrogate encoded in UTF-8 are rejected too.
        #expect(throws: JSONError.self) { try parser.parse([0x22, 0xC0, 0xAF, 0x22]) }
        #expect(throws: JSONError.self) { try parser.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        do {
            _ = try parser.parse(deep)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .tooDeep)
            #expect(error.offset == JSONParser.defaultMaxDepth)
        }
        let ok = String(repeating: "{\"a\":", count: 999) + "1" + String(repeating: "}", count: 999)
        #expect((try? parser.parse(ok)) != nil)
    }

    @Test func errorPositionsHaveLineAndColumn() {
        do {
            _ = try parser.parse("{\n  \"a\": tru3\n}")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 2)
            #expect(error.column == 8)
        }
    }
}

@Suite struct JSONWriterTests {
    @Test(arguments: [
        #"{"a":[1,-2,3.5,true,null],"b":"x\"y\\z\n\u0001","c":{}}"#,
        #"[]"#,
        #"{"big":9223372036854775807,"u":18446744073709551615}"#,
    ])
    func roundTrip(_ text: String) throws {
        let v = try JSONParser().parse(text)
        let out = JSONWriter().encodeString(v)
        #expect(try JSONParser().parse(out) == v)
    }

    @Test func compactAndPretty() throws {
        let v = try JSONParser().parse(#"{"a":[1],"b":{}}"#)
        #expect(JSONWriter().encodeString(v) == #"{"a":[1],"b":{}}"#)
        #expect(JSONWriter(pretty: true).encodeString(v) == "{\n  \"a\" : [\n    1\n  ],\n  \"b\" : { }\n}")
    }

    @Test func controlCharactersAreEscaped() {
        #expect(JSONWriter().encodeString(.string("\u{01}\t")) == #""\u0001\t""#)
    }
}

@Suite struct FieldPathTests {
    @Test func dottedKeysAndNestedObjectsAreTheSameField() throws {
        let nested = try JSONParser().parse(#"{"process":{"name":"a","parent":{"name":"b"}}}"#)
        let dotted = try JSONParser().parse(#"{"process.name":"a","process":{"parent.name":"b"}}"#)
        for doc in [nested, dotted] {
            #expect(FieldPath.value(at: "process.name", in: doc) == .string("a"))
            #expect(FieldPath.value(at: "process.parent.name", in: doc) == .string("b"))
            #expect(FieldPath.value(at: "process.pid", in: doc) == nil)
        }
    }

    @Test func arraysOfObjectsYieldEveryValue() throws {
        let doc = try JSONParser().parse(#"{"a":[{"b":1},{"b":2}]}"#)
        #expect(FieldPath.values(at: "a.b", in: doc) == [.int(1), .int(2)])
    }
}
