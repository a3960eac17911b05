import Testing
import VigilJSON

@Suite struct JSONProjectorTests {
    func project(_ doc: String, _ paths: [String]) -> String? {
        var out: [UInt8] = Array("kept".utf8)
        let ok = Array(doc.utf8).withUnsafeBytes { JSONProjector(paths: paths).project($0, into: &out) }
        #expect(out.starts(with: "kept".utf8))
        return ok ? String(decoding: out.dropFirst(4), as: UTF8.self) : nil
    }

    struct Case: Sendable, CustomStringConvertible {
        var doc: String
        var paths: [String]
        var projected: String
        var description: String { "\(paths) of \(doc)" }
    }

    @Test(arguments: [
        Case(doc: #"{"a":{"b":1,"c":2},"d":3}"#, paths: ["a.b"], projected: #"{"a":{"b":1}}"#),
        // Dotted keys and nested objects are the same field; keys are copied as written.
        Case(doc: #"{"a.b":"x","a":{"c":2}}"#, paths: ["a.b"], projected: #"{"a.b":"x"}"#),
        Case(doc: #"{"a":{"b.c":[1,2]}}"#, paths: ["a.b.c", "z"], projected: #"{"a":{"b.c":[1,2]}}"#),
        // A path naming an object keeps all of it.
        Case(doc: #"{"a":{"b":1,"c":{"d":null}},"e":true}"#, paths: ["a"], projected: #"{"a":{"b":1,"c":{"d":null}}}"#),
        // An array on the way to a path is kept whole.
        Case(doc: #"{"a":[{"b":1},{"c":2}],"x":0}"#, paths: ["a.b"], projected: #"{"a":[{"b":1},{"c":2}]}"#),
        // Objects that hold nothing needed are left out; scalars where an object is expected too.
        Case(doc: #"{"x":{"y":1},"a":5,"b":{}}"#, paths: ["x.z", "a.q", "b.c"], projected: "{}"),
        // Skipped strings may hold quotes, brackets and backslashes.
        Case(doc: #"{"s":"x\"}]\\","t":["]",{"u":"{"}],"a":1}"#, paths: ["a"], projected: #"{"a":1}"#),
        // An escaped key is matched by the text it stands for.
        Case(doc: #"{"\u0061":{"b":"v"}}"#, paths: ["a.b"], projected: #"{"\u0061":{"b":"v"}}"#),
        Case(doc: " \n{ \"a\" :\t\"v\" , \"b\" : 2 }\r\n", paths: ["a"], projected: #"{"a":"v"}"#),
        Case(doc: #"{"a":-1.5e3,"b":"é"}"#, paths: ["a", "b"], projected: #"{"a":-1.5e3,"b":"é"}"#),
    ])
    func projects(_ c: Case) {
        #expect(project(c.doc, c.paths) == c.projected)
    }

    @Test(arguments: [#"{"a":1"#, "[1]", #"{"a" 1}"#, "{} x", #"{"a":"#, #"{"a":1,}"#, "", #"{"a":"unterminated}"#])
    func refusesMalformed(_ doc: String) {
        #expect(project(doc, ["a"]) == nil)
    }

    @Test func reportsThePathsFound() {
        let projector = JSONProjector(paths: ["a", "b.c", "d.e"])
        #expect(projector.allPaths == 0b111)
        var found: UInt64 = 0
        var out: [UInt8] = []
        let doc = Array(#"{"a":null,"b":{"c":1},"d":[{"e":2}]}"#.utf8)
        #expect(doc.withUnsafeBytes { projector.project($0, into: &out, found: &found) })
        // `a` is null: no value, as a mapping would see it.
        #expect(found == 0b110)
    }

    @Test func projectionParsesAndKeepsTheValues() throws {
        let doc = #"{"@timestamp":"2026-01-01T00:00:00Z","event":{"category":["process"],"kind":"event"},"process":{"name":"bash","pid":12,"parent":{"name":"sshd","pid":1}},"host":{"name":"h"}}"#
        let paths = ["@timestamp", "event.category", "process.parent.name", "process.pid"]
        let projected = try #require(project(doc, paths))
        let value = try JSONParser().parse(projected)
        let original = try JSONParser().parse(doc)
        for p in paths { #expect(FieldPath.values(at: p, in: value) == FieldPath.values(at: p, in: original)) }
        #expect(FieldPath.value(at: "host.name", in: value) == nil)
        #expect(FieldPath.value(at: "process.name", in: value) == nil)
    }
}
