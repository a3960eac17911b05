import Testing
import VigilEQL
import VigilJSON
import VigilQuery
import VigilStore

@Suite struct AnalyzerTests {
    static let mapping: Mapping = {
        let json = #"""
            {"properties": {
              "@timestamp": {"type": "date"},
              "ts": {"type": "alias", "path": "@timestamp"},
              "event_type": {"type": "keyword"},
              "event": {"properties": {"category": {"type": "alias", "path": "event_type"}}},
              "pid": {"type": "long"},
              "process_name": {"type": "keyword"},
              "source_address": {"type": "ip"},
              "process": {"properties": {"name": {"type": "keyword"}}}
            }}
            """#
        return try! Mapping(json: try! JSONParser().parse(json))
    }()

    static func analyze(_ query: String, _ options: EQLOptions = EQLOptions()) throws(EQLError) -> EQLPlan {
        try Analyzer.analyze(try EQLParser.parse(query), mapping: mapping, options: options)
    }

    /// The condition of an event query, without the category test.
    static func condition(_ query: String) throws -> Expr {
        guard case .event(let e) = try analyze(query).kind else { throw EQLError(.internal, "not an event query") }
        if query.hasPrefix("any ") { return e }
        guard case .and(let parts) = e, parts.count == 2 else { throw EQLError(.internal, "no category test") }
        return parts[1]
    }

    static func failure(_ query: String) -> EQLError? {
        do {
            _ = try analyze(query)
            return nil
        } catch {
            return error
        }
    }

    @Test func unknownColumnIsAVerificationError() throws {
        let e = try #require(Self.failure("process where zzz == 1"))
        #expect(e.code == .verification)
        #expect(e.typeName == "verification_exception")
        #expect(e.message == "Found 1 problem\nline 1:15: Unknown column [zzz]")
    }

    @Test func unknownColumnOnALaterLine() throws {
        let e = try #require(Self.failure("process where\n  pid > 1 and\n    qqq : \"a\""))
        #expect(e.message == "Found 1 problem\nline 3:5: Unknown column [qqq]")
    }

    @Test func problemsAreReportedTogether() throws {
        let e = try #require(Self.failure("process where zzz == 1 and yyy == 2"))
        #expect(e.code == .verification)
        #expect(e.message == "Found 2 problems\nline 1:15: Unknown column [zzz]\nline 1:28: Unknown column [yyy]")
    }

    @Test func optionalMissingFieldIsNull() throws {
        #expect(try Self.condition("process where ?missing == null") == .isNull(.literal(.null)))
        #expect(try Self.condition("process where ?process.name == \"x\"") == .compare(.eq, .field("process.name"), .literal(.string("x"))))
    }

    @Test func optionalSequenceKey() throws {
        guard case .sequence(let stages, _, _) = try Self.analyze("sequence by ?nokey [a where true] [b where true]").kind else {
            Issue.record("not a sequence")
            return
        }
        #expect(stages.map(\.keys) == [[.literal(.null)], [.literal(.null)]])
        #expect(stages.map(\.optionalKeys) == [[true], [true]])
    }

    @Test func categoryGoesThroughTheAlias() throws {
        guard case .event(let e) = try Self.analyze("process where true").kind else {
            Issue.record("not an event query")
            return
        }
        #expect(e == .and([.compare(.eq, .field("event_type"), .literal(.string("process"))), .literal(.bool(true))]))
        #expect(try Self.condition("any where event.category == \"x\"") == .compare(.eq, .field("event_type"), .literal(.string("x"))))
    }

    @Test func timestampFieldAlias() throws {
        var options = EQLOptions()
        options.timestampField = "ts"
        #expect(try Self.analyze("any where true", options).timestampField == "@timestamp")
    }

    @Test(arguments: [
        ("any where process_name == null", Expr.isNull(.field("process_name"))),
        ("any where null == process_name", .isNull(.field("process_name"))),
        ("any where process_name != null", .not(.isNull(.field("process_name")))),
        ("any where pid > 5", .compare(.gt, .field("pid"), .literal(.int(5)))),
        ("any where @timestamp >= \"2026-01-01T00:00:00Z\"", .compare(.ge, .field("@timestamp"), .literal(.int(1_767_225_600_000)))),
        ("any where process_name in~ (\"A\", \"b\")", .inList(.field("process_name"), [.literal(.string("A")), .literal(.string("b"))], insensitive: true)),
        // Negations match events without the field, as Elasticsearch's must_not does.
        ("any where process_name not in (\"a\")", .not(.isTrue(.inList(.field("process_name"), [.literal(.string("a"))], insensitive: false)))),
        ("any where process_name != \"a\"", .not(.isTrue(.compare(.eq, .field("process_name"), .literal(.string("a")))))),
        ("any where not process_name : \"a\"", .not(.isTrue(.matches(.field("process_name"), [Pattern(.exact("a"), insensitive: true)])))),
        ("any where length(process_name) != 3", .compare(.ne, .call(.length, [.field("process_name")], insensitive: false), .literal(.int(3)))),
        ("any where process_name : (\"a*\", \"b\")", .matches(.field("process_name"), [Pattern(.wildcard("a*"), insensitive: true), Pattern(.exact("b"), insensitive: true)])),
        ("any where process_name like \"a?\"", .matches(.field("process_name"), [Pattern(.wildcard("a?"), insensitive: false)])),
        ("any where process_name regex~ \"a.*\"", .matches(.field("process_name"), [Pattern(.regex("a.*"), insensitive: true)])),
        ("any where STARTSWITH~(process_name, \"a\")", .call(.startsWith, [.field("process_name"), .literal(.string("a"))], insensitive: true)),
        ("any where -pid < 2 * 3", .compare(.lt, .negate(.field("pid")), .arithmetic(.multiply, .literal(.int(2)), .literal(.int(3))))),
    ])
    func lowering(_ query: String, _ expected: Expr) throws {
        #expect(try Self.condition(query) == expected)
    }

    @Test func insensitiveMatchOnALongField() throws {
        let e = try #require(Self.failure("process where pid : 12"))
        #expect(e.code == .verification)
        #expect(e.message.hasPrefix("Found 1 problem\nline 1:"))
        #expect(e.message.hasSuffix(": first argument of [:] must be [string], found value [pid] type [long]; consider using [==] instead"))
    }

    @Test(arguments: [
        ("process where between(process_name, \"s\") == \"x\"", "error building [between]: expects three or four arguments"),
        ("process where between(process_name, \"s\", \"e\", false, false) == \"x\"", "error building [between]: expects three or four arguments"),
        ("process where stringContains(process_name)", "error building [stringcontains]: expects exactly two arguments"),
        ("process where cidrMatch(source_address)", "error building [cidrmatch]: expects at least two arguments"),
        ("process where indexOf(process_name) == 1", "error building [indexof]: expects two or three arguments"),
        ("process where number() == 1", "error building [number]: expects one or two arguments"),
        ("process where add(1) == 1", "error building [add]: expects exactly two arguments"),
    ])
    func wrongArityIsAParsingError(_ query: String, _ message: String) throws {
        let e = try #require(Self.failure(query))
        #expect(e.code == .parsing)
        #expect(e.message == message)
        #expect(e.span?.line == 1)
    }

    @Test(arguments: ["length~(process_name) == 1", "concat~(process_name) == \"a\"", "number~(process_name) == 1"])
    func tildeOnACaseUnawareFunction(_ condition: String) throws {
        let e = try #require(Self.failure("process where " + condition))
        #expect(e.code == .parsing)
    }

    @Test(arguments: [
        "between~(process_name, \"a\", \"b\") == \"\"", "endsWith~(process_name, \"a\")", "indexOf~(process_name, \"a\") == 0",
        "startsWith~(process_name, \"a\")", "stringContains~(process_name, \"a\")",
    ])
    func tildeOnACaseAwareFunction(_ condition: String) throws {
        _ = try Self.analyze("process where " + condition)
    }

    @Test(arguments: [
        ("process where startsWith(pid, \"a\")", "first argument of [startsWith(pid, \"a\")] must be [string], found value [pid] type [long]"),
        ("process where stringContains(process_name, 1)",
         "second argument of [stringContains(process_name, 1)] must be [string], found value [1] type [integer]"),
        ("process where endsWith(process_name, pid)", "second argument of [endsWith(process_name, pid)] must be [string], found value [pid] type [long]"),
        ("process where add(\"a\", 1) == 1", "first argument of [add(\"a\", 1)] must be [numeric], found value [\"a\"] type [keyword]"),
    ])
    func argumentTypes(_ query: String, _ problem: String) throws {
        let e = try #require(Self.failure(query))
        #expect(e.code == .verification)
        #expect(e.message.hasPrefix("Found 1 problem\nline 1:"))
        #expect(e.message.hasSuffix(": " + problem))
    }

    @Test func unknownFunction() throws {
        let e = try #require(Self.failure("process where nosuch(pid)"))
        #expect(e.code == .verification)
        #expect(e.message.contains("Unknown function [nosuch]"))
    }

    @Test func sequenceStagesAndKeys() throws {
        let plan = try Self.analyze("sequence by pid [process where true] by process_name with runs=2 [file where true] by process.name")
        guard case .sequence(let stages, let until, let maxspan) = plan.kind else {
            Issue.record("not a sequence")
            return
        }
        #expect(stages.count == 3)
        #expect(stages.map(\.keys) == [
            [.field("pid"), .field("process_name")], [.field("pid"), .field("process_name")], [.field("pid"), .field("process.name")],
        ])
        #expect(stages.map(\.optionalKeys) == [[false, false], [false, false], [false, false]])
        #expect(until == nil && maxspan == nil)
        #expect(plan.keyCount == 2)
    }
}

/// EQL has no full-text search: text fields are used through their keyword sub-field.
@Suite struct TextFieldTests {
    static let mapping: Mapping = {
        let json = #"""
            {"properties": {
              "command_line": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}},
              "message": {"type": "text"}
            }}
            """#
        return try! Mapping(json: try! JSONParser().parse(json))
    }()

    @Test func textWithKeywordUsesTheKeyword() throws {
        let plan = try Analyzer.analyze(try EQLParser.parse(#"any where command_line == "a b""#), mapping: TextFieldTests.mapping, options: EQLOptions())
        guard case .event(let e) = plan.kind else { throw EQLError(.internal, "not an event query") }
        #expect(e == .compare(.eq, .field("command_line.keyword"), .literal(.string("a b"))))
    }

    @Test func textWithoutKeywordIsRejected() throws {
        do {
            _ = try Analyzer.analyze(try EQLParser.parse(#"any where message == "x""#), mapping: TextFieldTests.mapping, options: EQLOptions())
            Issue.record("accepted")
        } catch {
            #expect(error.code == .verification)
            #expect(error.message.contains("No keyword/multi-field defined exact matches for [message]"))
            #expect(error.message.contains("line 1:11"))
        }
    }
}
