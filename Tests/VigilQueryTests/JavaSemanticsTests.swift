import Testing
import VigilQuery

/// Where Elasticsearch's EQL follows Java rather than Swift: exact code units (no Unicode
/// equivalence), `Double.toString`, `Long.valueOf`/`Double.valueOf`, whole-value regexes.
@Suite struct JavaSemanticsTests {
    private func call(_ f: Expr.Function, _ args: [QueryValue]) -> QueryValue {
        Evaluator().evaluate(.call(f, args.map { .literal($0) }, insensitive: false)) { _ in .null }
    }

    @Test(arguments: [
        (1e20, "1.0E20"), (1e7, "1.0E7"), (0.0001, "1.0E-4"), (9_999_999.0, "9999999.0"), (0.001, "0.001"),
        (42.5, "42.5"), (1.0, "1.0"), (-2.25, "-2.25"), (123_456_789.125, "1.23456789125E8"), (0.0, "0.0"),
    ])
    func doublesPrintAsJava(_ value: Double, _ text: String) {
        #expect(call(.string, [.double(value)]) == .string(text))
    }

    @Test(arguments: [
        ("1337", QueryValue.int(1337)), ("+1337", .int(1337)), ("-5", .int(-5)), ("  1337  ", .double(1337)),
        ("42.5", .double(42.5)), ("1e3", .double(1000)), ("NaN", .double(.nan)), ("0x10", .int(16)),
        ("+-5", .null), ("nan", .null), ("-0xff", .null), ("0x1p3", .null), ("", .null), ("abc", .null),
    ])
    func numberParsesAsJava(_ text: String, _ expected: QueryValue) {
        let got = call(.number, [.string(text)])
        if case .double(let e) = expected, e.isNaN {
            guard case .double(let g) = got else {
                Issue.record("expected NaN, got \(got)")
                return
            }
            #expect(g.isNaN)
        } else {
            #expect(got == expected)
        }
    }

    @Test func numberWithExplicitBase() {
        #expect(call(.number, [.string("0x10"), .int(10)]) == .null)
        #expect(call(.number, [.string("deadbeef"), .int(16)]) == .int(3_735_928_559))
        #expect(call(.number, [.string("101"), .int(2)]) == .int(5))
    }

    @Test func stringsCompareByCodeUnits() {
        let composed = QueryValue.string("é"), decomposed = QueryValue.string("e\u{301}")
        #expect(Evaluator().evaluate(.compare(.eq, .literal(composed), .literal(decomposed))) { _ in .null } == .bool(false))
        #expect(call(.startsWith, [.string("e\u{301}x"), .string("e")]) == .bool(true))
        #expect(call(.endsWith, [.string("e\u{301}"), .string("\u{301}")]) == .bool(true))
        #expect(call(.stringContains, [.string("e\u{301}"), .string("e")]) == .bool(true))
        #expect(call(.length, [.string("e\u{301}😀")]) == .int(4))
    }

    @Test func regexMatchesTheWholeValue() {
        func regex(_ value: String, _ pattern: String) -> QueryValue {
            Evaluator().evaluate(.matches(.literal(.string(value)), [Pattern(.regex(pattern), insensitive: false)])) { _ in .null }
        }
        #expect(regex("abc", "abc") == .bool(true))
        #expect(regex("abc\n", "abc") == .bool(false))
        #expect(regex("xabc", "abc") == .bool(false))
        #expect(regex("abcabc", "(abc)+") == .bool(true))
    }

    @Test func floatingDivisionByZeroIsIEEE() {
        #expect(call(.divide, [.double(1), .int(0)]) == .double(.infinity))
        #expect(call(.divide, [.int(4), .int(3)]) == .int(1))
        #expect(call(.divide, [.int(-4), .int(3)]) == .int(-1))
    }
}
