import Foundation
public import VigilJSON
public import VigilStore

/// The part of Painless that runtime-field scripts are usually written in, interpreted per
/// document: `emit(…)` calls, `if`/`else`, local variables, `return`; `doc['f'].value`,
/// `.size()`, `.empty`, `doc['f'][i]`, `doc.containsKey('f')`; `params['p']`, `params.p` and
/// `params._source` (the document's source, as maps and lists); literals, arithmetic with
/// Java's long/double rules, comparisons, `&&`/`||`/`!`, `?:`; string methods (`length`,
/// `toLowerCase`, `toUpperCase`, `substring`, `contains`, `startsWith`, `endsWith`,
/// `indexOf`, `trim`, `equals`); date values' `toInstant().toEpochMilli()`, `getMillis()`,
/// `getYear()`…`getSecond()`, `dayOfWeekEnum.getValue()` and
/// `getDisplayName(TextStyle.FULL|SHORT, Locale.ROOT|ENGLISH)`. Anything else is a compile
/// error naming what is not supported, never a silent guess.
public struct PainlessScript: Sendable {
    public struct ScriptError: Error, Sendable, CustomStringConvertible {
        /// `compile error` or `runtime error`, as Elasticsearch's `script_exception` says.
        public var phase: String
        public var message: String
        public var description: String { "\(phase): \(message)" }
    }

    /// A value while a script runs.
    public enum Value: Sendable, Equatable {
        case null
        case bool(Bool)
        case long(Int64)
        case double(Double)
        case string(String)
        /// Epoch milliseconds, UTC.
        case date(Int64)
        case list([Value])
        case map([String: Value])
        /// `doc['path']`: the document's values of a field, sorted as doc values are.
        case docValues(String, [Value])
        /// A `java.time.DayOfWeek` (1 = Monday) and the `TextStyle`/`Locale` constants.
        case dayOfWeek(Int)
        case constant(String)
    }

    indirect enum Node: Sendable {
        case literal(Value)
        case name(String)
        case member(Node, String)
        case call(Node, String, [Node])
        case index(Node, Node)
        case unary(String, Node)
        case binary(String, Node, Node)
        case ternary(Node, Node, Node)
    }

    indirect enum Statement: Sendable {
        case emit(Node)
        case assign(String, Node)
        case ifElse(Node, [Statement], [Statement])
        case ret
    }

    let statements: [Statement]
    public let source: String

    public init(_ source: String) throws(ScriptError) {
        self.source = source
        var p = Parser(Array(source.utf8))
        statements = try p.script()
    }

    /// What a document offers a script.
    public struct Document {
        /// The field's values (`doc['path']`), nil when the field is not mapped.
        public var docValues: (String) throws(ScriptError) -> [FieldValue]?
        /// The document's `_source`, parsed when first asked for.
        public var source: () -> JSONValue
        public var params: [String: JSONValue]

        public init(docValues: @escaping (String) throws(ScriptError) -> [FieldValue]?, source: @escaping () -> JSONValue, params: [String: JSONValue]) {
            self.docValues = docValues
            self.source = source
            self.params = params
        }
    }

    /// Runs the script for one document; returns what it emitted, in order.
    public func run(_ d: Document) throws(ScriptError) -> [Value] {
        var out: [Value] = []
        var locals: [String: Value] = [:]
        _ = try execute(statements, d, &locals, &out)
        return out
    }

    /// Returns false when a `return` ended the script.
    private func execute(_ block: [Statement], _ d: Document, _ locals: inout [String: Value], _ out: inout [Value]) throws(ScriptError) -> Bool {
        for s in block {
            switch s {
            case .emit(let e):
                let v = try eval(e, d, locals)
                if v == .null { throw ScriptError(phase: "runtime error", message: "cannot emit a null value") }
                out.append(v)
            case .assign(let name, let e):
                locals[name] = try eval(e, d, locals)
            case .ifElse(let c, let yes, let no):
                guard case .bool(let b) = try eval(c, d, locals) else {
                    throw ScriptError(phase: "runtime error", message: "the condition of an if is not a boolean")
                }
                if try !execute(b ? yes : no, d, &locals, &out) { return false }
            case .ret:
                return false
            }
        }
        return true
    }

    static func value(_ f: FieldValue) -> Value {
        switch f {
        case .string(let s): .string(s)
        case .int(let n): .long(n)
        case .double(let x): .double(x)
        case .bool(let b): .bool(b)
        case .date(let ms): .date(ms)
        case .ip(let a): .string(a.description)
        }
    }

    static func value(_ j: JSONValue) -> Value {
        switch j {
        case .null: .null
        case .bool(let b): .bool(b)
        case .int(let n): .long(n)
        case .double(let x): .double(x)
        case .string(let s): .string(s)
        case .array(let a): .list(a.map { value($0) })
        case .object(let o): .map(Dictionary(o.entries.map { ($0.key, value($0.value)) }, uniquingKeysWith: { a, _ in a }))
        case .uint(let n): n <= UInt64(Int64.max) ? .long(Int64(n)) : .double(Double(n))
        }
    }

    private static func runtime(_ message: String) -> ScriptError { ScriptError(phase: "runtime error", message: message) }

    private func eval(_ n: Node, _ d: Document, _ locals: [String: Value]) throws(ScriptError) -> Value {
        switch n {
        case .literal(let v):
            return v
        case .name(let name):
            if let v = locals[name] { return v }
            switch name {
            case "params": return .map(Dictionary(d.params.map { ($0.key, PainlessScript.value($0.value)) }, uniquingKeysWith: { a, _ in a }))
            case "TextStyle", "Locale", "doc": return .constant(name)
            default: throw PainlessScript.runtime("cannot resolve symbol [\(name)]")
            }
        case .index(let base, let key):
            if case .name("doc") = base, locals["doc"] == nil {
                guard case .string(let path) = try eval(key, d, locals) else { throw PainlessScript.runtime("doc[] takes a field name") }
                return try docValues(path, d)
            }
            if case .name("params") = base, locals["params"] == nil, case .literal(.string("_source")) = key {
                return PainlessScript.value(d.source())
            }
            return try PainlessScript.element(try eval(base, d, locals), try eval(key, d, locals))
        case .member(let base, let name):
            if case .name("params") = base, locals["params"] == nil, name == "_source" { return PainlessScript.value(d.source()) }
            return try PainlessScript.member(try eval(base, d, locals), name)
        case .call(let base, let name, let args):
            if case .name("doc") = base, locals["doc"] == nil, name == "containsKey", args.count == 1 {
                guard case .string(let path) = try eval(args[0], d, locals) else { throw PainlessScript.runtime("containsKey takes a field name") }
                return .bool(try d.docValues(path) != nil)
            }
            var values: [Value] = []
            for a in args { values.append(try eval(a, d, locals)) }
            return try PainlessScript.method(try eval(base, d, locals), name, values)
        case .unary(let op, let x):
            let v = try eval(x, d, locals)
            switch (op, v) {
            case ("!", .bool(let b)): return .bool(!b)
            case ("-", .long(let n)):
                guard n != Int64.min else { throw PainlessScript.runtime("long overflow") }
                return .long(-n)
            case ("-", .double(let x)): return .double(-x)
            default: throw PainlessScript.runtime("cannot apply [\(op)] to \(PainlessScript.typeName(v))")
            }
        case .ternary(let c, let a, let b):
            guard case .bool(let t) = try eval(c, d, locals) else { throw PainlessScript.runtime("the condition of ?: is not a boolean") }
            return try eval(t ? a : b, d, locals)
        case .binary(let op, let l, let r):
            if op == "&&" || op == "||" {
                guard case .bool(let a) = try eval(l, d, locals) else { throw PainlessScript.runtime("[\(op)] needs booleans") }
                if op == "&&" && !a { return .bool(false) }
                if op == "||" && a { return .bool(true) }
                guard case .bool(let b) = try eval(r, d, locals) else { throw PainlessScript.runtime("[\(op)] needs booleans") }
                return .bool(b)
            }
            return try PainlessScript.binary(op, try eval(l, d, locals), try eval(r, d, locals))
        }
    }

    private func docValues(_ path: String, _ d: Document) throws(ScriptError) -> Value {
        guard let raw = try d.docValues(path) else {
            throw PainlessScript.runtime("No field found for [\(path)] in mapping")
        }
        // Doc values come sorted, and strings deduplicated, as Lucene keeps them.
        var values = raw.map { PainlessScript.value($0) }
        values.sort { a, b in
            switch (a, b) {
            case (.string(let x), .string(let y)): return Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8))
            case (.long(let x), .long(let y)), (.date(let x), .date(let y)): return x < y
            case (.double(let x), .double(let y)): return x < y
            case (.bool(let x), .bool(let y)): return !x && y
            default: return false
            }
        }
        if case .string? = values.first {
            var unique: [Value] = []
            for v in values where unique.last != v { unique.append(v) }
            values = unique
        }
        return .docValues(path, values)
    }

    static func typeName(_ v: Value) -> String {
        switch v {
        case .null: "null"
        case .bool: "boolean"
        case .long: "long"
        case .double: "double"
        case .string: "String"
        case .date: "ZonedDateTime"
        case .list: "List"
        case .map: "Map"
        case .docValues: "ScriptDocValues"
        case .dayOfWeek: "DayOfWeek"
        case .constant(let c): c
        }
    }

    private static func element(_ base: Value, _ key: Value) throws(ScriptError) -> Value {
        switch (base, key) {
        case (.map(let m), .string(let k)): return m[k] ?? .null
        case (.list(let a), .long(let i)), (.docValues(_, let a), .long(let i)):
            guard i >= 0, Int(i) < a.count else { throw runtime("Index \(i) out of bounds for length \(a.count)") }
            return a[Int(i)]
        case (.null, _): throw runtime("cannot access an element of null")
        default: throw runtime("cannot index \(typeName(base)) with \(typeName(key))")
        }
    }

    private static func member(_ base: Value, _ name: String) throws(ScriptError) -> Value {
        switch (base, name) {
        case (.docValues(let path, let values), "value"):
            guard let first = values.first else {
                throw runtime("A document doesn't have a value for a field! Use doc[<field>].size()==0 to check if a document is missing a field! (field [\(path)])")
            }
            return first
        case (.docValues(_, let values), "empty"): return .bool(values.isEmpty)
        case (.docValues(_, let values), "values"): return .list(values)
        case (.docValues(_, let values), "length"): return .long(Int64(values.count))
        case (.map(let m), _): return m[name] ?? .null
        case (.date(let ms), "millis"): return .long(ms)
        case (.date(let ms), "dayOfWeekEnum"): return .dayOfWeek(dayOfWeek(ms))
        case (.constant("TextStyle"), "FULL"), (.constant("TextStyle"), "SHORT"), (.constant("Locale"), "ROOT"), (.constant("Locale"), "ENGLISH"):
            return .constant(name)
        case (.null, _): throw runtime("cannot access [\(name)] of null")
        default: throw runtime("\(typeName(base)) has no field [\(name)]")
        }
    }

    /// 1 = Monday … 7 = Sunday, for epoch milliseconds in UTC.
    static func dayOfWeek(_ ms: Int64) -> Int { DateFormats.dayOfWeek(ms) }

    private static func utc(_ ms: Int64) -> DateComponents {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC")!
        return c.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    private static func method(_ base: Value, _ name: String, _ args: [Value]) throws(ScriptError) -> Value {
        func arg(_ i: Int) throws(ScriptError) -> Value {
            guard i < args.count else { throw runtime("[\(name)] needs \(i + 1) argument(s)") }
            return args[i]
        }
        func text(_ i: Int) throws(ScriptError) -> String {
            guard case .string(let s) = try arg(i) else { throw runtime("[\(name)] takes a String") }
            return s
        }
        func int(_ i: Int) throws(ScriptError) -> Int {
            guard case .long(let n) = try arg(i) else { throw runtime("[\(name)] takes an int") }
            return Int(n)
        }
        switch (base, name) {
        case (.docValues(_, let values), "size"): return .long(Int64(values.count))
        case (.docValues(_, let values), "isEmpty"): return .bool(values.isEmpty)
        case (.docValues(_, let values), "get"):
            let i = try int(0)
            guard i >= 0, i < values.count else { throw runtime("Index \(i) out of bounds for length \(values.count)") }
            return values[i]
        case (.docValues(let path, let values), "getValue"): return try member(.docValues(path, values), "value")
        case (.map(let m), "get"): return m[try text(0)] ?? .null
        case (.map(let m), "containsKey"): return .bool(m[try text(0)] != nil)
        case (.map(let m), "size"): return .long(Int64(m.count))
        case (.map(let m), "isEmpty"): return .bool(m.isEmpty)
        case (.list(let a), "size"): return .long(Int64(a.count))
        case (.list(let a), "isEmpty"): return .bool(a.isEmpty)
        case (.list(let a), "get"):
            let i = try int(0)
            guard i >= 0, i < a.count else { throw runtime("Index \(i) out of bounds for length \(a.count)") }
            return a[i]
        case (.list(let a), "contains"): return .bool(a.contains(try arg(0)))
        case (.string(let s), _):
            // Java strings index UTF-16 code units.
            let u = Array(s.utf16)
            func str(_ units: ArraySlice<UInt16>) -> Value { .string(String(decoding: units, as: UTF16.self)) }
            switch name {
            case "length": return .long(Int64(u.count))
            case "toLowerCase": return .string(s.lowercased())
            case "toUpperCase": return .string(s.uppercased())
            case "trim": return .string(s.trimmingCharacters(in: .whitespaces))
            case "isEmpty": return .bool(u.isEmpty)
            case "equals": return .bool(base == (try arg(0)))
            case "contains": return .bool(s.contains(try text(0)))
            case "startsWith": return .bool(u.starts(with: Array(try text(0).utf16)))
            case "endsWith": return .bool(u.reversed().starts(with: Array(try text(0).utf16).reversed()))
            case "indexOf":
                let n = Array(try text(0).utf16)
                if n.isEmpty { return .long(0) }
                if n.count <= u.count {
                    for i in 0...(u.count - n.count) where u[i..<(i + n.count)].elementsEqual(n) { return .long(Int64(i)) }
                }
                return .long(-1)
            case "substring":
                let from = try int(0)
                let to = args.count > 1 ? try int(1) : u.count
                guard from >= 0, to <= u.count, from <= to else { throw runtime("begin \(from), end \(to), length \(u.count)") }
                return str(u[from..<to])
            default: throw runtime("String has no method [\(name)]")
            }
        case (.date(let ms), _):
            let c = utc(ms)
            switch name {
            case "toInstant": return .date(ms)
            case "toEpochMilli", "getMillis": return .long(ms)
            case "getYear": return .long(Int64(c.year!))
            case "getMonthValue": return .long(Int64(c.month!))
            case "getDayOfMonth": return .long(Int64(c.day!))
            case "getHour": return .long(Int64(c.hour!))
            case "getMinute": return .long(Int64(c.minute!))
            case "getSecond": return .long(Int64(c.second!))
            case "getDayOfWeekEnum", "getDayOfWeek": return .dayOfWeek(dayOfWeek(ms))
            default: throw runtime("ZonedDateTime has no method [\(name)] in Vigil's Painless subset")
            }
        case (.dayOfWeek(let d), "getValue"): return .long(Int64(d))
        case (.dayOfWeek(let d), "getDisplayName"):
            let full = DateFormats.weekdayNames[d - 1]
            return .string(try arg(0) == .constant("SHORT") ? String(full.prefix(3)) : full)
        case (.null, _): throw runtime("cannot invoke [\(name)] on null")
        default: throw runtime("\(typeName(base)) has no method [\(name)]")
        }
    }

    private static func binary(_ op: String, _ a: Value, _ b: Value) throws(ScriptError) -> Value {
        switch op {
        case "==": return .bool(equal(a, b))
        case "!=": return .bool(!equal(a, b))
        case "+":
            if case .string(let x) = a { return .string(x + text(b)) }
            if case .string(let y) = b { return .string(text(a) + y) }
        default: break
        }
        switch (a, b) {
        case (.long(let x), .long(let y)):
            switch op {
            case "+", "-", "*":
                // Java's long arithmetic wraps around.
                return .long(op == "+" ? x &+ y : op == "-" ? x &- y : x &* y)
            case "/", "%":
                guard y != 0 else { throw runtime("/ by zero") }
                if x == Int64.min && y == -1 { return .long(op == "/" ? x : 0) }
                return .long(op == "/" ? x / y : x % y)
            case "<": return .bool(x < y)
            case "<=": return .bool(x <= y)
            case ">": return .bool(x > y)
            case ">=": return .bool(x >= y)
            default: break
            }
        default:
            guard let x = number(a), let y = number(b) else { break }
            switch op {
            case "+": return .double(x + y)
            case "-": return .double(x - y)
            case "*": return .double(x * y)
            case "/": return .double(x / y)
            case "%": return .double(x.truncatingRemainder(dividingBy: y))
            case "<": return .bool(x < y)
            case "<=": return .bool(x <= y)
            case ">": return .bool(x > y)
            case ">=": return .bool(x >= y)
            default: break
            }
        }
        if case .string(let x) = a, case .string(let y) = b, ["<", "<=", ">", ">="].contains(op) {
            throw runtime("cannot compare Strings with [\(op)]; use compareTo, which Vigil's Painless subset does not have (\(x), \(y))")
        }
        throw runtime("cannot apply [\(op)] to \(typeName(a)) and \(typeName(b))")
    }

    private static func number(_ v: Value) -> Double? {
        switch v {
        case .long(let n): Double(n)
        case .double(let x): x
        default: nil
        }
    }

    private static func equal(_ a: Value, _ b: Value) -> Bool {
        if let x = number(a), let y = number(b) { return x == y }
        return a == b
    }

    /// Java's `String.valueOf` for concatenation.
    private static func text(_ v: Value) -> String {
        switch v {
        case .null: "null"
        case .bool(let b): String(b)
        case .long(let n): String(n)
        case .double(let x): x == x.rounded() && abs(x) < 1e7 ? String(format: "%.1f", x) : String(x)
        case .string(let s): s
        case .date(let ms): DateFormats.formatISO(ms)
        case .list(let a): "[" + a.map { text($0) }.joined(separator: ", ") + "]"
        case .map(let m): "{" + m.keys.sorted().map { "\($0)=\(text(m[$0]!))" }.joined(separator: ", ") + "}"
        case .docValues(_, let a): "[" + a.map { text($0) }.joined(separator: ", ") + "]"
        case .dayOfWeek(let d): DateFormats.weekdayNames[d - 1].uppercased()
        case .constant(let c): c
        }
    }
}
