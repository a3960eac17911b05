import Testing
import VigilJSON
import VigilStore
@testable import VigilQuery

/// The Painless subset of runtime-field scripts, against what Java and Painless give.
@Suite struct PainlessScriptTests {
    private func run(_ source: String, doc: [String: [FieldValue]] = [:], source json: JSONValue = .null,
                     params: [String: JSONValue] = [:]) throws -> [PainlessScript.Value] {
        let script = try PainlessScript(source)
        return try script.run(PainlessScript.Document(docValues: { doc[$0] }, source: { json }, params: params))
    }

    @Test func emitsDocValuesSortedAndDeduplicated() throws {
        let doc: [String: [FieldValue]] = ["tags": [.string("b"), .string("a"), .string("b")], "n": [.int(7), .int(3)]]
        #expect(try run("emit(doc['tags'].value)", doc: doc) == [.string("a")])
        #expect(try run("emit(doc['tags'][1]); emit(doc['tags'].size())", doc: doc) == [.string("b"), .long(2)])
        #expect(try run("emit(doc['n'].value * 2 + 1)", doc: doc) == [.long(7)])
        #expect(try run("if (doc.containsKey('missing')) { emit(1) } else { emit(2) }", doc: doc) == [.long(2)])
    }

    @Test func javaArithmetic() throws {
        #expect(try run("emit(7 / 2); emit(-7 / 2); emit(-7 % 3); emit(7.0 / 2)") == [.long(3), .long(-3), .long(-1), .double(3.5)])
        #expect(try run("emit(9223372036854775807L + 1)") == [.long(Int64.min)])  // longs wrap in Java
        #expect(try run("emit('a' + 1 + 2); emit(1 + 2 + 'a')") == [.string("a12"), .string("3a")])
        #expect(throws: PainlessScript.ScriptError.self) { try run("emit(1 / 0)") }
    }

    @Test func sourceParamsLocalsAndStrings() throws {
        let source: JSONValue = ["user": ["name": "Alice", "roles": ["admin", "dev"]]]
        let out = try run("""
            def u = params._source['user'];
            String n = u.name;
            if (u.roles.contains('admin') && n.length() > 3) { emit(n.toLowerCase() + params.suffix); }
            emit(n.substring(1, 3)); emit(n.indexOf('ce')); emit(n.startsWith('Al') ? 'yes' : 'no');
            return;
            emit('never');
            """, source: source, params: ["suffix": "!"])
        #expect(out == [.string("alice!"), .string("li"), .long(3), .string("yes")])
    }

    /// The example of Elasticsearch's runtime-fields reference, on a known date.
    @Test func dayOfWeek() throws {
        let ms = try #require(DateFormats.parse("2026-11-23T12:00:00Z"))  // a Monday
        let doc: [String: [FieldValue]] = ["@timestamp": [.date(ms)]]
        #expect(try run("emit(doc['@timestamp'].value.dayOfWeekEnum.getDisplayName(TextStyle.FULL, Locale.ROOT))", doc: doc) == [.string("Monday")])
        #expect(try run("emit(doc['@timestamp'].value.getHour()); emit(doc['@timestamp'].value.toInstant().toEpochMilli())", doc: doc) == [.long(12), .long(ms)])
        #expect(PainlessScript.dayOfWeek(0) == 4)  // 1970-01-01, a Thursday
        #expect(PainlessScript.dayOfWeek(-1) == 3)
    }

    @Test(arguments: [
        "for (int i = 0; i < 3; i++) { emit(i) }",
        "emit(doc['x'].value",
        "emit('open)",
        "while (true) {}",
    ])
    func compileErrors(_ source: String) {
        do {
            _ = try PainlessScript(source)
            Issue.record("expected a compile error for \(source)")
        } catch {
            #expect(error.phase == "compile error")
        }
    }

    @Test func runtimeErrors() {
        for (source, fragment) in [
            ("emit(doc['x'].value)", "doesn't have a value"),
            ("emit(doc['nope'].value)", "No field found for [nope]"),
            ("emit(null)", "cannot emit a null"),
            ("emit('a'.frobnicate())", "no method [frobnicate]"),
        ] {
            do {
                _ = try run(source, doc: ["x": []])
                Issue.record("expected a runtime error for \(source)")
            } catch let e as PainlessScript.ScriptError {
                #expect(e.phase == "runtime error" && e.message.contains(fragment), "\(e)")
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}
