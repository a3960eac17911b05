import Testing
import VigilEQL

/// An expression as an S-expression without positions, so trees compare by shape.
private func sexp(_ e: EQLExpr) -> String {
    func list(_ xs: [EQLExpr]) -> String { xs.map(sexp).joined(separator: " ") }
    switch e {
    case .literal(let l, _):
        switch l {
        case .null: return "null"
        case .bool(let b): return String(b)
        case .int(let i): return String(i)
        case .double(let d): return "\(d)d"
        case .string(let s): return "\"\(s)\""
        }
    case .field(let f, let optional, _): return (optional ? "?" : "") + "$" + f
    case .not(let x, _): return "(not \(sexp(x)))"
    case .and(let l, let r): return "(and \(sexp(l)) \(sexp(r)))"
    case .or(let l, let r): return "(or \(sexp(l)) \(sexp(r)))"
    case .compare(let op, let l, let r, _): return "(\(op.rawValue) \(sexp(l)) \(sexp(r)))"
    case .insensitiveMatch(let x, let items, _): return "(: \(sexp(x)) \(list(items)))"
    case .membership(let x, let items, let negated, let insensitive, _):
        return "(\(negated ? "notin" : "in")\(insensitive ? "~" : "") \(sexp(x)) \(list(items)))"
    case .like(let x, let items, let insensitive, _): return "(like\(insensitive ? "~" : "") \(sexp(x)) \(list(items)))"
    case .regex(let x, let items, let insensitive, _): return "(regex\(insensitive ? "~" : "") \(sexp(x)) \(list(items)))"
    case .arithmetic(let op, let l, let r, _): return "(\(op.rawValue) \(sexp(l)) \(sexp(r)))"
    case .negate(let x, _): return "(neg \(sexp(x)))"
    case .call(let name, let insensitive, let args, _): return "(\(name)\(insensitive ? "~" : "") \(list(args)))"
    }
}

/// The parse error of `query`, or nil when it parses.
private func parseError(_ query: String) -> EQLError? {
    do {
        _ = try EQLParser.parse(query)
        return nil
    } catch {
        return error
    }
}

@Suite struct EQLParserTests {
    static let expressions: [(String, String)] = [
        // Precedence: `not` binds tighter than `and`, which binds tighter than `or`.
        ("not a and b", "(and (not $a) $b)"),
        ("a or b and c", "(or $a (and $b $c))"),
        ("a and b or c", "(or (and $a $b) $c)"),
        ("not a == 1 or b", "(or (not (== $a 1)) $b)"),
        ("(a or b) and not (c)", "(and (or $a $b) (not $c))"),
        ("x == 1 + 2 * 3 - 4 % 5", "(== $x (- (+ 1 (* 2 3)) (% 4 5)))"),
        ("x >= 1 and y != \"a\"", "(and (>= $x 1) (!= $y \"a\"))"),
        // Membership and the string operators.
        ("x in (1, 2)", "(in $x 1 2)"),
        ("x in~ (\"A\", \"b\")", "(in~ $x \"A\" \"b\")"),
        ("x not in (\"a\", \"b\")", "(notin $x \"a\" \"b\")"),
        ("x not in~ (\"a\")", "(notin~ $x \"a\")"),
        ("not x in (1)", "(not (in $x 1))"),
        ("x : \"a*\"", "(: $x \"a*\")"),
        ("x : (\"a\", \"b*\")", "(: $x \"a\" \"b*\")"),
        ("x like \"a*\"", "(like $x \"a*\")"),
        ("x like~ (\"a*\", \"b?\")", "(like~ $x \"a*\" \"b?\")"),
        ("x regex \"a.*\"", "(regex $x \"a.*\")"),
        ("x regex~ (\"a\", \"b\")", "(regex~ $x \"a\" \"b\")"),
        // Functions, with `~` and nested.
        ("startsWith~(x, \"a\")", "(startsWith~ $x \"a\")"),
        ("length(concat(a, \"b\")) > 2", "(> (length (concat $a \"b\")) 2)"),
        ("concat()", "(concat )"),
        // Field names.
        ("process.parent.name == \"a\"", "(== $process.parent.name \"a\")"),
        ("`my field` == 1", "(== $my field 1)"),
        ("process.`exe name` == 1", "(== $process.exe name 1)"),
        ("`a``b` == 1", "(== $a`b 1)"),
        ("?x.y == null", "(== ?$x.y null)"),
        ("?`odd name` != true", "(!= ?$odd name true)"),
        ("@timestamp > 0", "(> $@timestamp 0)"),
        // Numbers.
        ("x == -5", "(== $x -5)"),
        ("x == -2.5", "(== $x -2.5d)"),
        ("x - 1", "(- $x 1)"),
        ("-x", "(neg $x)"),
        ("x == 1e3", "(== $x 1000.0d)"),
        ("x == .5", "(== $x 0.5d)"),
        ("x > 1.5e-3", "(> $x 0.0015d)"),
        ("x == 9223372036854775807", "(== $x 9223372036854775807)"),
        // Comments are skipped.
        ("a == 1 // trailing", "(== $a 1)"),
        ("/* lead */ a /* mid */ == /* multi\nline */ 1", "(== $a 1)"),
    ]

    @Test(arguments: expressions)
    func expressionTree(_ source: String, _ expected: String) throws {
        #expect(sexp(try EQLParser.parseExpression(source)) == expected)
    }

    static let strings: [(String, String)] = [
        (#""a\nb""#, "a\nb"),
        (#""q\"q""#, "q\"q"),
        (#""tab\there\r\\""#, "tab\there\r\\"),
        (#""\u{1F600}""#, "😀"),
        (#""\u{41}\u{00e9}""#, "Aé"),
        (#""""C:\Windows\""""#, #"C:\Windows\"#),
        (#""""say "hi" now""""#, #"say "hi" now"#),
        (#"""""quoted"""""#, #""quoted""#),
        (#""""line1\nline2""""#, #"line1\nline2"#),
        (#""""#, ""),
    ]

    @Test(arguments: strings)
    func stringLiteral(_ source: String, _ expected: String) throws {
        guard case .literal(.string(let s), _) = try EQLParser.parseExpression(source) else {
            Issue.record("not a string literal: \(source)")
            return
        }
        #expect(s == expected)
    }

    @Test(arguments: [
        ("process where true", "process"),
        ("\"my category\" where true", "my category"),
        ("`weird cat` where true", "weird cat"),
    ])
    func eventCategory(_ query: String, _ category: String) throws {
        guard case .event(let f) = try EQLParser.parse(query).query else {
            Issue.record("not an event query")
            return
        }
        #expect(f.category == category)
        #expect(sexp(f.condition) == "true")
    }

    @Test func anyHasNoCategory() throws {
        guard case .event(let f) = try EQLParser.parse("any where x == 1").query else {
            Issue.record("not an event query")
            return
        }
        #expect(f.category == nil)
        #expect(sexp(f.condition) == "(== $x 1)")
    }

    @Test func sequenceWithKeysMaxspanAndUntil() throws {
        let q = """
            sequence by user.name with maxspan=5s
              [process where a == 1] by pid
              [file where b] by ppid
            until [process where c]
            """
        guard case .sequence(let s) = try EQLParser.parse(q).query else {
            Issue.record("not a sequence")
            return
        }
        #expect(s.keys.map(sexp) == ["$user.name"])
        #expect(s.maxspan == 5000)
        #expect(s.stages.map { $0.filter.category } == ["process", "file"])
        #expect(s.stages.map { $0.keys.map(sexp) } == [["$pid"], ["$ppid"]])
        #expect(s.stages.map(\.runs) == [1, 1])
        #expect(s.until?.filter.category == "process")
        #expect(s.until.map { sexp($0.filter.condition) } == "$c")
    }

    @Test(arguments: [("10ms", Int64(10)), ("5s", 5000), ("2m", 120_000), ("1h", 3_600_000), ("1d", 86_400_000)])
    func maxspanUnits(_ span: String, _ millis: Int64) throws {
        guard case .sequence(let s) = try EQLParser.parse("sequence with maxspan=\(span) [a where true] [b where true]").query else {
            Issue.record("not a sequence")
            return
        }
        #expect(s.maxspan == millis)
        #expect(s.keys.isEmpty)
    }

    @Test func sequenceWithoutMaxspanIsUnbounded() throws {
        guard case .sequence(let s) = try EQLParser.parse("sequence [a where true] [b where true]").query else {
            Issue.record("not a sequence")
            return
        }
        #expect(s.maxspan == nil && s.until == nil)
    }

    @Test func runsAndMissingStages() throws {
        let q = "sequence by h [a where true] with runs=3 ![b where x] [c where true] by k"
        guard case .sequence(let s) = try EQLParser.parse(q).query else {
            Issue.record("not a sequence")
            return
        }
        #expect(s.stages.map(\.runs) == [3, 1, 1])
        #expect(s.stages.map(\.missing) == [false, true, false])
        #expect(s.stages[2].keys.map(sexp) == ["$k"])
    }

    @Test func sample() throws {
        guard case .sample(let s) = try EQLParser.parse("sample by host, user [a where true] [b where x > 1]").query else {
            Issue.record("not a sample")
            return
        }
        #expect(s.keys.map(sexp) == ["$host", "$user"])
        #expect(s.stages.map { sexp($0.filter.condition) } == ["true", "(> $x 1)"])
    }

    @Test func pipes() throws {
        let st = try EQLParser.parse("any where true | head 5 | tail 2")
        #expect(st.pipes.map(\.kind) == [.head, .tail])
        #expect(st.pipes.map(\.count) == [5, 2])
        #expect(try EQLParser.parse("any where true").pipes.isEmpty)
    }

    // Errors whose position Elasticsearch reports at the offending token (ANTLR syntax errors).
    static let positionedErrors: [(query: String, line: Int, column: Int)] = [
        ("process where a = 1", 1, 17),
        ("process where a == 1 b", 1, 22),
        ("process where a == \"abc", 1, 20),
        ("process where\n  a == 1 and\n  b = 2", 3, 5),
        ("process where\n  /* x\n y */ \"é\" == a )", 3, 16),
        ("process where a ==", 1, 19),
    ]

    @Test(arguments: positionedErrors)
    func syntaxErrorPosition(_ query: String, _ line: Int, _ column: Int) throws {
        let e = try #require(parseError(query))
        #expect(e.code == .parsing)
        #expect(e.typeName == "parsing_exception")
        #expect(e.span?.line == line)
        #expect(e.span?.column == column)
        #expect(e.description.hasPrefix("line \(line):\(column): "))
    }

    static let messages: [(query: String, line: Int, message: String)] = [
        ("process where name == 'hello world'", 1,
         "Use double quotes [\"] to define string literals, not single quotes [']"),
        ("process where\n\n  name == 'x'", 3,
         "Use double quotes [\"] to define string literals, not single quotes [']"),
        ("sequence [process where true]", 1, "A sequence requires a minimum of 2 queries, found [1]"),
        ("sequence with maxspan=1s by x [a where true] [b where true]", 1,
         "Please specify sequence [by] before [with] not after"),
        ("sequence with maxspan=5x [a where true] [b where true]", 1,
         "Unrecognized time unit [x] in [5x], please specify one of [ms, s, m, h, d]"),
        ("sequence with maxspan=30 [a where true] [b where true]", 1,
         "No time unit specified, did you mean [s] as in [30s]?"),
    ]

    @Test(arguments: messages)
    func errorMessage(_ query: String, _ line: Int, _ message: String) throws {
        let e = try #require(parseError(query))
        #expect(e.code == .parsing)
        #expect(e.message == message)
        #expect(e.span?.line == line)
    }

    @Test(arguments: [
        "any where true | nosuchpipe 3",
        "any where true | head x",
        "process where x == \"\\q\"",
        "process where x == \"\\u{zz}\"",
        "process where /* never closed",
        "process where x[0] == 1",
        "process where startsWith(x, \"a\"",
        "where x == 1",
        "process x == 1",
        "sample by h",
        "sequence [a where true] with foo=2 [b where true]",
        "sequence [a where true] with runs=0 [b where true]",
        "sequence [a where true] [b where true] until ![c where true]",
        "join [a where true] [b where true]",
        "process where x ==== 1",
        "process where a < b < c",
    ])
    func rejected(_ query: String) {
        let e = parseError(query)
        #expect(e?.code == .parsing)
        #expect(e?.span != nil)
    }
}

@Suite struct EQLParserElasticsearchRulesTests {
    @Test(arguments: [
        ("sequence by a with maxspan=1s by b [any where true] [any where true]", "Please specify sequence [by] before [with] not after"),
        ("sequence with maxspan=1s by b [any where true] [any where true]", "Please specify sequence [by] before [with] not after"),
        ("any where true | foo 3", "Unrecognized pipe [foo]"),
        ("any where true | head", "expects exactly one argument but found [0]"),
        ("sequence with maxspan=0s [any where true] [any where true]", "A positive maxspan value is required"),
    ])
    func rejected(_ query: String, _ fragment: String) {
        do {
            _ = try EQLParser.parse(query)
            Issue.record("\(query) parsed")
        } catch {
            #expect(error.code == .parsing)
            #expect(error.message.contains(fragment), "\(error.message)")
        }
    }

    @Test func integersBeyond64BitsAreDoubles() throws {
        let e = try EQLParser.parseExpression("x == 99999999999999999999")
        guard case .compare(_, _, .literal(.double(let d), _), _) = e else {
            Issue.record("\(e)")
            return
        }
        #expect(d == 1e20)
    }
}
