import Testing
import VigilQuery

/// An expression over literals and its expected value.
struct EvalCase: Sendable, CustomTestStringConvertible {
    var name: String
    var expr: Expr
    var expected: QueryValue

    init(_ name: String, _ expr: Expr, _ expected: QueryValue) {
        self.name = name
        self.expr = expr
        self.expected = expected
    }

    var testDescription: String { name }
}

private func lit(_ v: QueryValue) -> Expr { .literal(v) }
private func str(_ s: String) -> Expr { .literal(.string(s)) }
private let T = Expr.literal(.bool(true))
private let F = Expr.literal(.bool(false))
private let N = Expr.literal(.null)

private func wildcard(_ value: String, _ pattern: String, insensitive: Bool = false) -> Expr {
    .matches(str(value), [Pattern(.wildcard(pattern), insensitive: insensitive)])
}

private func regex(_ value: String, _ pattern: String, insensitive: Bool = false) -> Expr {
    .matches(str(value), [Pattern(.regex(pattern), insensitive: insensitive)])
}

@Suite struct EvaluatorTests {
    static func eval(_ e: Expr) -> QueryValue { Evaluator().evaluate(e) { _ in .null } }

    static let logic: [EvalCase] = [
        EvalCase("null and false", .and([N, F]), .bool(false)),
        EvalCase("false and null", .and([F, N]), .bool(false)),
        EvalCase("null and true", .and([N, T]), .null),
        EvalCase("true and true", .and([T, T]), .bool(true)),
        EvalCase("and()", .and([]), .bool(true)),
        EvalCase("null or true", .or([N, T]), .bool(true)),
        EvalCase("true or null", .or([T, N]), .bool(true)),
        EvalCase("null or false", .or([N, F]), .null),
        EvalCase("false or false", .or([F, F]), .bool(false)),
        EvalCase("or()", .or([]), .bool(false)),
        EvalCase("not null", .not(N), .null),
        EvalCase("not true", .not(T), .bool(false)),
        EvalCase("not not false", .not(.not(F)), .bool(false)),
        EvalCase("not (null and false)", .not(.and([N, F])), .bool(true)),
        EvalCase("isNull(null)", .isNull(N), .bool(true)),
        EvalCase("isNull(1)", .isNull(lit(.int(1))), .bool(false)),
        EvalCase("isNull(null == 1)", .isNull(.compare(.eq, N, lit(.int(1)))), .bool(true)),
        EvalCase("isTrue(null)", .isTrue(N), .bool(false)),
        EvalCase("isTrue(true)", .isTrue(T), .bool(true)),
        EvalCase("not isTrue(null)", .not(.isTrue(N)), .bool(true)),
    ]

    static let comparisons: [EvalCase] = [
        EvalCase("1 == 1.0", .compare(.eq, lit(.int(1)), lit(.double(1))), .bool(true)),
        EvalCase("1 < 1.5", .compare(.lt, lit(.int(1)), lit(.double(1.5))), .bool(true)),
        EvalCase("2.5 > 2", .compare(.gt, lit(.double(2.5)), lit(.int(2))), .bool(true)),
        EvalCase("2 >= 2.0", .compare(.ge, lit(.int(2)), lit(.double(2))), .bool(true)),
        EvalCase("-1 <= -2", .compare(.le, lit(.int(-1)), lit(.int(-2))), .bool(false)),
        EvalCase("int64 max != max-1", .compare(.ne, lit(.int(Int64.max)), lit(.int(Int64.max - 1))), .bool(true)),
        EvalCase("null == 1", .compare(.eq, N, lit(.int(1))), .null),
        EvalCase("1 != null", .compare(.ne, lit(.int(1)), N), .null),
        EvalCase("null == null", .compare(.eq, N, N), .null),
        EvalCase("true == true", .compare(.eq, T, T), .bool(true)),
        EvalCase("false < true", .compare(.lt, F, T), .bool(true)),
        EvalCase("\"10\" == 10", .compare(.eq, str("10"), lit(.int(10))), .bool(true)),
        EvalCase("\"a\" == 1", .compare(.eq, str("a"), lit(.int(1))), .bool(false)),
        EvalCase("\"a\" != 1", .compare(.ne, str("a"), lit(.int(1))), .bool(true)),
        EvalCase("\"a\" < 1", .compare(.lt, str("a"), lit(.int(1))), .null),
        // Strings compare as UTF-8 bytes (Lucene term order), case-sensitively.
        EvalCase("\"a\" == \"A\"", .compare(.eq, str("a"), str("A")), .bool(false)),
        EvalCase("\"B\" < \"a\"", .compare(.lt, str("B"), str("a")), .bool(true)),
        EvalCase("\"Z\" < \"a\"", .compare(.lt, str("Z"), str("a")), .bool(true)),
        EvalCase("\"a\" < \"ab\"", .compare(.lt, str("a"), str("ab")), .bool(true)),
        EvalCase("\"z\" < \"é\"", .compare(.lt, str("z"), str("é")), .bool(true)),
        EvalCase("\"é\" > \"f\"", .compare(.gt, str("é"), str("f")), .bool(true)),
        EvalCase("\"10\" < \"9\"", .compare(.lt, str("10"), str("9")), .bool(true)),
        EvalCase("\"\\u{FFFD}\" < \"😀\"", .compare(.lt, str("\u{FFFD}"), str("😀")), .bool(true)),
    ]

    static let patterns: [EvalCase] = [
        EvalCase("*.exe", wildcard("regsvr32.exe", "*.exe"), .bool(true)),
        EvalCase("*.EXE", wildcard("regsvr32.exe", "*.EXE"), .bool(false)),
        EvalCase("*.EXE~", wildcard("regsvr32.exe", "*.EXE", insensitive: true), .bool(true)),
        EvalCase("a? on ab", wildcard("ab", "a?"), .bool(true)),
        EvalCase("a? on a", wildcard("a", "a?"), .bool(false)),
        EvalCase("a? on abc", wildcard("abc", "a?"), .bool(false)),
        EvalCase("a? on aé", wildcard("aé", "a?"), .bool(true)),
        EvalCase("* on empty", wildcard("", "*"), .bool(true)),
        EvalCase("empty on a", wildcard("a", ""), .bool(false)),
        EvalCase("a*c*", wildcard("abcabc", "a*c*"), .bool(true)),
        EvalCase("*b*b*", wildcard("abcabc", "*b*b*"), .bool(true)),
        EvalCase("*b*b*b*", wildcard("abcabc", "*b*b*b*"), .bool(false)),
        EvalCase("full match", wildcard("xabcx", "abc"), .bool(false)),
        EvalCase("% and _ are literal", wildcard("a%", "a_"), .bool(false)),
        EvalCase("? needs one char", wildcard("exe", "?exe"), .bool(false)),
        EvalCase("any pattern", .matches(str("b.dll"), [Pattern(.wildcard("*.exe"), insensitive: false), Pattern(.wildcard("*.dll"), insensitive: false)]), .bool(true)),
        EvalCase("exact~", .matches(str("CMD.exe"), [Pattern(.exact("cmd.EXE"), insensitive: true)]), .bool(true)),
        EvalCase("exact", .matches(str("CMD.exe"), [Pattern(.exact("cmd.EXE"), insensitive: false)]), .bool(false)),
        EvalCase("null value", .matches(N, [Pattern(.wildcard("*"), insensitive: false)]), .null),
        EvalCase("regex full", regex("abc", "a.c"), .bool(true)),
        EvalCase("regex anchored", regex("xabcx", "abc"), .bool(false)),
        EvalCase("regex prefix only", regex("abc", "ab"), .bool(false)),
        EvalCase("regex case", regex("ABC", "abc"), .bool(false)),
        EvalCase("regex~", regex("ABC", "abc", insensitive: true), .bool(true)),
        EvalCase("regex alternation", regex("xb", "a|b"), .bool(false)),
        EvalCase("regex alternation whole", regex("ab", "a|ab"), .bool(true)),
        EvalCase("regex class", regex("cmd42.exe", "[a-z]+[0-9]+\\.exe"), .bool(true)),
        EvalCase("regex repeat", regex("aaa", "a{2}"), .bool(false)),
        EvalCase("regex dot matches newline", regex("a\nb", "a.b"), .bool(true)),
    ]

    static let membership: [EvalCase] = [
        EvalCase("A in~ (a, b)", .inList(str("A"), [str("a"), str("b")], insensitive: true), .bool(true)),
        EvalCase("A in (a, b)", .inList(str("A"), [str("a"), str("b")], insensitive: false), .bool(false)),
        EvalCase("a in (a)", .inList(str("a"), [str("a")], insensitive: false), .bool(true)),
        EvalCase("a* in~ (abc)", .inList(str("abc"), [str("a*")], insensitive: true), .bool(false)),
        EvalCase("null in (a)", .inList(N, [str("a")], insensitive: false), .null),
        EvalCase("1 in (2, 1.0)", .inList(lit(.int(1)), [lit(.int(2)), lit(.double(1))], insensitive: false), .bool(true)),
        EvalCase("3 in (1, 2)", .inList(lit(.int(3)), [lit(.int(1)), lit(.int(2))], insensitive: false), .bool(false)),
    ]

    @Test(arguments: logic)
    func threeValuedLogic(_ c: EvalCase) {
        #expect(Self.eval(c.expr) == c.expected)
    }

    @Test(arguments: comparisons)
    func compare(_ c: EvalCase) {
        #expect(Self.eval(c.expr) == c.expected)
    }

    @Test(arguments: patterns)
    func matches(_ c: EvalCase) {
        #expect(Self.eval(c.expr) == c.expected)
    }

    @Test(arguments: membership)
    func inList(_ c: EvalCase) {
        #expect(Self.eval(c.expr) == c.expected)
    }

    @Test func fieldsResolveThroughTheLookup() {
        let e = Expr.and([.compare(.eq, .field("a"), str("x")), .isNull(.field("b"))])
        #expect(Evaluator().test(e) { $0 == "a" ? .string("x") : .null })
        #expect(!Evaluator().test(e) { _ in .string("x") })
        #expect(e.fields == ["a", "b"])
    }

    @Test func negateAndArithmetic() {
        #expect(Self.eval(.negate(lit(.int(5)))) == .int(-5))
        #expect(Self.eval(.negate(lit(.double(2.5)))) == .double(-2.5))
        #expect(Self.eval(.negate(N)) == .null)
        #expect(Self.eval(.arithmetic(.add, lit(.int(1)), .arithmetic(.multiply, lit(.int(2)), lit(.int(3))))) == .int(7))
        #expect(Self.eval(.compare(.gt, .arithmetic(.subtract, N, lit(.int(1))), lit(.int(0)))) == .null)
    }

    @Test func testIsTrueOnlyForTrue() {
        #expect(Evaluator().test(T) { _ in .null })
        #expect(!Evaluator().test(N) { _ in .null })
        #expect(!Evaluator().test(lit(.int(1))) { _ in .null })
    }
}
