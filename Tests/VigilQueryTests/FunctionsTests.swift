import Testing
import VigilQuery

/// One function call and Elasticsearch's result for it (see the EQL function reference).
struct FunctionCase: Sendable, CustomTestStringConvertible {
    var function: Expr.Function
    var args: [QueryValue]
    var insensitive = false
    var expected: QueryValue

    init(_ function: Expr.Function, _ args: [QueryValue], insensitive: Bool = false, _ expected: QueryValue) {
        self.function = function
        self.args = args
        self.insensitive = insensitive
        self.expected = expected
    }

    var testDescription: String {
        "\(function.rawValue)\(insensitive ? "~" : "")(\(args.map { "\($0)" }.joined(separator: ", "))) = \(expected)"
    }

    func run() -> QueryValue {
        Evaluator().evaluate(.call(function, args.map { .literal($0) }, insensitive: insensitive)) { _ in .null }
    }
}

private let s = QueryValue.string
private let i = QueryValue.int
private let d = QueryValue.double
private let b = QueryValue.bool
private let null = QueryValue.null
private let path = #"C:\Windows\System32\cmd.exe"#

@Suite struct FunctionsTests {
    static let between: [FunctionCase] = [
        FunctionCase(.between, [s(path), s(#"System32\"#), s(".exe")], s("cmd")),
        FunctionCase(.between, [s(path), s(#"system32\"#), s(".exe")], s("")),
        FunctionCase(.between, [s(path), s(#"system32\"#), s(".EXE")], insensitive: true, s("cmd")),
        FunctionCase(.between, [s(path), s(#"C:\"#), s(#"\"#), b(false)], s("Windows")),
        FunctionCase(.between, [s(path), s(#"C:\"#), s(#"\"#), b(true)], s(#"Windows\System32"#)),
        FunctionCase(.between, [s("AxBxC"), s("a"), s("x"), b(true)], insensitive: true, s("xB")),
        FunctionCase(.between, [s("a[b]c[d]"), s("["), s("]")], s("b")),
        // An empty source, left or right returns the source unchanged.
        FunctionCase(.between, [s(""), s("a"), s("b")], s("")),
        FunctionCase(.between, [s("abc"), s(""), s("c")], s("abc")),
        FunctionCase(.between, [s("abc"), s("a"), s("")], s("abc")),
        // Not found is the empty string.
        FunctionCase(.between, [s("abc"), s("x"), s("c")], s("")),
        FunctionCase(.between, [s("abc"), s("a"), s("x")], s("")),
        FunctionCase(.between, [null, s("a"), s("b")], null),
    ]

    static let cidrMatch: [FunctionCase] = [
        FunctionCase(.cidrMatch, [s("192.168.152.12"), s("192.168.0.0/16")], b(true)),
        FunctionCase(.cidrMatch, [s("192.168.152.12"), s("10.0.0.0/8")], b(false)),
        FunctionCase(.cidrMatch, [s("192.168.152.12"), s("10.0.0.0/8"), s("192.168.152.0/24")], b(true)),
        FunctionCase(.cidrMatch, [s("10.0.0.1"), s("10.0.0.1")], b(true)),
        FunctionCase(.cidrMatch, [s("10.0.0.2"), s("10.0.0.1")], b(false)),
        FunctionCase(.cidrMatch, [s("10.255.255.255"), s("10.0.0.0/8")], b(true)),
        FunctionCase(.cidrMatch, [s("11.0.0.0"), s("10.0.0.0/8")], b(false)),
        FunctionCase(.cidrMatch, [s("8.8.8.8"), s("0.0.0.0/0")], b(true)),
        FunctionCase(.cidrMatch, [s("2001:db8::1"), s("2001:db8::/32")], b(true)),
        FunctionCase(.cidrMatch, [s("2001:db9::1"), s("2001:db8::/32")], b(false)),
        FunctionCase(.cidrMatch, [s("fe80::1"), s("10.0.0.0/8"), s("fe80::/10")], b(true)),
        FunctionCase(.cidrMatch, [s("::ffff:10.1.2.3"), s("10.0.0.0/8")], b(true)),
        FunctionCase(.cidrMatch, [null, s("10.0.0.0/8")], null),
    ]

    static let concat: [FunctionCase] = [
        FunctionCase(.concat, [s("regsvr32.exe"), s(" "), d(42.5)], s("regsvr32.exe 42.5")),
        FunctionCase(.concat, [b(true)], s("true")),
        FunctionCase(.concat, [i(1), i(2), s("x")], s("12x")),
        FunctionCase(.concat, [s("a"), null], null),
        FunctionCase(.concat, [null], null),
        FunctionCase(.concat, [], s("")),
    ]

    static let affixes: [FunctionCase] = [
        FunctionCase(.endsWith, [s("regsvr32.exe"), s(".exe")], b(true)),
        FunctionCase(.endsWith, [s("regsvr32.exe"), s(".EXE")], b(false)),
        FunctionCase(.endsWith, [s("regsvr32.exe"), s(".EXE")], insensitive: true, b(true)),
        FunctionCase(.endsWith, [s("regsvr32.exe"), s("regsvr32")], b(false)),
        FunctionCase(.endsWith, [s(""), s("")], b(true)),
        FunctionCase(.endsWith, [null, s("a")], null),
        FunctionCase(.endsWith, [s("a"), null], null),
        FunctionCase(.startsWith, [s("regsvr32.exe"), s("regsvr32")], b(true)),
        FunctionCase(.startsWith, [s("regsvr32.exe"), s("REGSVR32")], b(false)),
        FunctionCase(.startsWith, [s("regsvr32.exe"), s("REGSVR32")], insensitive: true, b(true)),
        FunctionCase(.startsWith, [s("regsvr32.exe"), s("")], b(true)),
        FunctionCase(.startsWith, [s(""), null], null),
        FunctionCase(.startsWith, [null, s("a")], null),
    ]

    static let indexOf: [FunctionCase] = [
        FunctionCase(.indexOf, [s("subdomain.example.com"), s("d")], i(3)),
        FunctionCase(.indexOf, [s("subdomain.example.com"), s("D")], null),
        // The reference page says 4; Elasticsearch's code lower-cases both sides and finds index 3.
        FunctionCase(.indexOf, [s("subdomain.example.com"), s("D")], insensitive: true, i(3)),
        FunctionCase(.indexOf, [s("subdomain.example.com"), s("."), i(10)], i(17)),
        FunctionCase(.indexOf, [s("subdomain.example.com"), s("."), i(-6)], i(9)),
        FunctionCase(.indexOf, [s("subdomain.example.com"), s("."), i(100)], null),
        FunctionCase(.indexOf, [s("subdomain.example.com"), s("z")], null),
        FunctionCase(.indexOf, [s("a.b"), s("."), null], i(1)),
        FunctionCase(.indexOf, [s("abc"), s(""), i(2)], i(2)),
        FunctionCase(.indexOf, [s(""), s("")], i(0)),
        FunctionCase(.indexOf, [null, s("a")], null),
        FunctionCase(.indexOf, [s("a"), null], null),
    ]

    static let length: [FunctionCase] = [
        FunctionCase(.length, [s("explorer.exe")], i(12)),
        FunctionCase(.length, [s("")], i(0)),
        FunctionCase(.length, [s("é")], i(1)),
        // Java counts UTF-16 code units.
        FunctionCase(.length, [s("😀")], i(2)),
        FunctionCase(.length, [null], null),
    ]

    static let number: [FunctionCase] = [
        FunctionCase(.number, [s("1337")], i(1337)),
        FunctionCase(.number, [s("-1337")], i(-1337)),
        FunctionCase(.number, [s("+1337")], i(1337)),
        FunctionCase(.number, [s("42.5")], d(42.5)),
        FunctionCase(.number, [s("1e3")], d(1000)),
        // Long.valueOf rejects the spaces, Double.valueOf trims them.
        FunctionCase(.number, [s("  1337  ")], d(1337)),
        FunctionCase(.number, [s("0xdeadbeef")], i(3_735_928_559)),
        FunctionCase(.number, [s("0xff"), i(16)], i(255)),
        FunctionCase(.number, [s("deadbeef"), i(16)], i(3_735_928_559)),
        FunctionCase(.number, [s("0x1F"), null], i(31)),
        FunctionCase(.number, [s("1010"), i(2)], i(10)),
        FunctionCase(.number, [s("zz"), i(36)], i(1295)),
        FunctionCase(.number, [null], null),
        FunctionCase(.number, [null, i(16)], null),
    ]

    static let string: [FunctionCase] = [
        FunctionCase(.string, [i(42)], s("42")),
        FunctionCase(.string, [d(42.5)], s("42.5")),
        FunctionCase(.string, [d(1)], s("1.0")),
        FunctionCase(.string, [d(-0.25)], s("-0.25")),
        FunctionCase(.string, [b(true)], s("true")),
        FunctionCase(.string, [s("abc")], s("abc")),
        FunctionCase(.string, [null], null),
    ]

    static let stringContains: [FunctionCase] = [
        FunctionCase(.stringContains, [s("process.exe"), s("ss.e")], b(true)),
        FunctionCase(.stringContains, [s("process.exe"), s("SS.E")], b(false)),
        FunctionCase(.stringContains, [s("Regsvr32.exe"), s("REGSVR")], insensitive: true, b(true)),
        // An empty source or substring is false.
        FunctionCase(.stringContains, [s("abc"), s("")], b(false)),
        FunctionCase(.stringContains, [s(""), s("a")], b(false)),
        FunctionCase(.stringContains, [s(""), s("")], b(false)),
        FunctionCase(.stringContains, [null, s("a")], null),
    ]

    static let substring: [FunctionCase] = [
        FunctionCase(.substring, [s("start regsvr32.exe"), i(6)], s("regsvr32.exe")),
        FunctionCase(.substring, [s("start regsvr32.exe"), i(0), i(5)], s("start")),
        FunctionCase(.substring, [s("start regsvr32.exe"), i(-4)], s(".exe")),
        FunctionCase(.substring, [s("start regsvr32.exe"), i(-4), i(-1)], s(".ex")),
        FunctionCase(.substring, [s("start regsvr32.exe"), i(-100), i(3)], s("sta")),
        FunctionCase(.substring, [s("start regsvr32.exe"), i(100)], s("")),
        FunctionCase(.substring, [s("start regsvr32.exe"), i(5), i(2)], s("")),
        FunctionCase(.substring, [s("start regsvr32.exe"), i(6), null], s("regsvr32.exe")),
        FunctionCase(.substring, [s("abc"), null], s("abc")),
        FunctionCase(.substring, [s(""), i(0)], s("")),
        FunctionCase(.substring, [null, i(1)], null),
    ]

    static let arithmetic: [FunctionCase] = [
        FunctionCase(.add, [i(5), i(2)], i(7)),
        FunctionCase(.add, [d(0.5), i(2)], d(2.5)),
        FunctionCase(.add, [i(-5), i(-2)], i(-7)),
        FunctionCase(.subtract, [i(10), i(2)], i(8)),
        FunctionCase(.subtract, [i(-2), i(4)], i(-6)),
        FunctionCase(.subtract, [d(10.5), d(0.5)], d(10)),
        FunctionCase(.multiply, [i(2), i(2)], i(4)),
        FunctionCase(.multiply, [d(0.5), i(2)], d(1)),
        FunctionCase(.multiply, [i(-3), i(3)], i(-9)),
        FunctionCase(.divide, [i(4), i(2)], i(2)),
        // Integer division truncates toward zero.
        FunctionCase(.divide, [i(4), i(3)], i(1)),
        FunctionCase(.divide, [i(-4), i(3)], i(-1)),
        FunctionCase(.divide, [i(4), d(3)], d(4.0 / 3.0)),
        FunctionCase(.divide, [d(4), i(2)], d(2)),
        // The sign of a remainder follows the dividend.
        FunctionCase(.modulo, [i(10), i(6)], i(4)),
        FunctionCase(.modulo, [i(10), i(-6)], i(4)),
        FunctionCase(.modulo, [i(-10), i(-6)], i(-4)),
        FunctionCase(.modulo, [i(-10), i(3)], i(-1)),
        FunctionCase(.modulo, [i(10), d(0.5)], d(0)),
        FunctionCase(.modulo, [i(10), d(3.5)], d(3)),
    ]

    static let nulls: [FunctionCase] = [Expr.Function.add, .subtract, .multiply, .divide, .modulo].flatMap { f in
        [FunctionCase(f, [null, i(1)], null), FunctionCase(f, [i(1), null], null), FunctionCase(f, [null, null], null)]
    }

    @Test(arguments: between + cidrMatch + concat + affixes + indexOf + length)
    func stringFunctions(_ c: FunctionCase) {
        #expect(c.run() == c.expected)
    }

    @Test(arguments: number + string + stringContains + substring)
    func conversionsAndSlices(_ c: FunctionCase) {
        #expect(c.run() == c.expected)
    }

    @Test(arguments: arithmetic + nulls)
    func arithmeticFunctions(_ c: FunctionCase) {
        #expect(c.run() == c.expected)
    }

    @Test func functionsAgreeWithOperators() {
        let pairs: [(Expr.Function, Expr.Arithmetic)] = [(.add, .add), (.subtract, .subtract), (.multiply, .multiply), (.divide, .divide), (.modulo, .modulo)]
        let operands: [QueryValue] = [i(7), i(-3), d(2.5), null]
        for (f, op) in pairs {
            for x in operands {
                for y in operands {
                    let call = Evaluator().evaluate(.call(f, [.literal(x), .literal(y)], insensitive: false)) { _ in .null }
                    let infix = Evaluator().evaluate(.arithmetic(op, .literal(x), .literal(y))) { _ in .null }
                    #expect(call == infix, "\(f.rawValue)(\(x), \(y))")
                }
            }
        }
    }

    @Test func functionArgumentsAreEvaluated() {
        let e = Expr.call(.concat, [.field("a"), .literal(.string("-")), .call(.length, [.field("b")], insensitive: false)], insensitive: false)
        let r = Evaluator().evaluate(e) { field in field == "a" ? .string("x") : .string("four") }
        #expect(r == .string("x-4"))
    }
}
